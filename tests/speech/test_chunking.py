"""Long inputs: quiet-point chunking, streamed files and cross-chunk timestamps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, concatenate, io
from wavesmith.speech import TranscribeOptions, normalize_text, transcribe
from wavesmith.speech.asr import iter_chunks


def blocks_of(audio: Audio, frames: int) -> list[Audio]:
    return [Audio(audio.samples[:, i:i + frames], audio.sample_rate)
            for i in range(0, audio.frames, frames)]


def test_chunks_join_to_the_input_and_cut_in_silence(rng: np.random.Generator) -> None:
    rate = 8_000
    tone = (0.5 * rng.standard_normal((2, rate * 9))).astype(np.float32)
    tone[:, rate * 7: rate * 7 + rate // 2] = 0.0  # a quiet 0.5 s stretch from 7.0 s
    audio = Audio(tone, rate)
    chunks = list(iter_chunks(blocks_of(audio, 1234), chunk_s=8.0))
    assert chunks[0][0] == 0.0
    first_len_s = chunks[0][1].duration_s
    assert 7.0 <= first_len_s <= 7.5  # cut inside the quiet stretch, not at 8.0 s
    assert chunks[1][0] == pytest.approx(first_len_s)
    joined = concatenate([c for _, c in chunks])
    np.testing.assert_array_equal(joined.samples, audio.samples)


@pytest.mark.integration
@pytest.mark.slow
def test_streamed_file_across_chunks(shared_data: Path, tmp_path: Path) -> None:
    jfk = io.load(shared_data / "speech/sentences/jfk.flac")
    gap = Audio(np.zeros((jfk.channels, jfk.sample_rate), np.float32), jfk.sample_rate)
    long = concatenate([jfk, gap, jfk, gap, jfk])  # 35 s, 44.1 kHz stereo
    path = tmp_path / "long.flac"
    io.save(long, path)
    segments, info = transcribe(path, options=TranscribeOptions(chunk_s=12.0))
    assert info.duration_s == pytest.approx(35.0, abs=0.01)
    segs = list(segments)
    words = [w for s in segs for w in s.words]
    starts = [w.start_s for w in words]
    assert starts == sorted(starts) and words[-1].end_s <= 35.0
    text = normalize_text(" ".join(s.text for s in segs))
    assert text.count("ask not what your country can do for you") == 3
    # each repetition's "fellow" starts about 1.4 s after its copy of the speech begins
    fellow = [w.start_s for w in words if normalize_text(w.text) == "fellow"]
    assert len(fellow) == 3
    for got, copy_start_s in zip(fellow, (0.0, 12.0, 24.0), strict=True):
        assert got == pytest.approx(copy_start_s + 1.42, abs=0.5)
