"""StreamingTranscriber on real speech fed in blocks of random size, and its sources."""

from __future__ import annotations

import io as pyio
from pathlib import Path

import numpy as np
import pytest

from tests.speech._long_input import build
from tests.speech.test_longform import TOLERANCE_S, wer
from wavesmith import Audio
from wavesmith.errors import AudioValueError, SampleRateError
from wavesmith.speech.stream import StreamingTranscriber, StreamOptions, pcm16_blocks

SENTENCES = ["librispeech_1089-134686-0001.flac", "cmu_arctic_us_aew_a0003.wav",
             "librispeech_1089-134691-0000.flac"]
INPUT_RATE = 44_100   # Hz: the stream is resampled to 16 kHz inside


@pytest.mark.integration
def test_stream_partials_finals_and_timestamps(shared_data: Path,
                                               rng: np.random.Generator) -> None:
    audio16, placed = build(shared_data, SENTENCES)
    stereo = audio16.resample(INPUT_RATE).samples
    audio = Audio(np.concatenate([stereo, 0.5 * stereo]), INPUT_RATE)  # stereo, mean downmix
    opts = StreamOptions(min_silence_s=0.5, partial_interval_s=1.0)
    st = StreamingTranscriber(INPUT_RATE, stream_options=opts)
    results = []
    i = 0
    while i < audio.frames:  # blocks of 1 frame to 0.5 s
        n = int(rng.integers(1, INPUT_RATE // 2))
        results += st.feed(Audio(audio.samples[:, i:i + n], INPUT_RATE))
        i += n
    results += st.finish()
    assert st.position_s == pytest.approx(audio.duration_s)

    finals = [r for r in results if r.final]
    partials = [r for r in results if not r.final]
    assert [r.utterance for r in finals] == list(range(len(finals)))
    assert partials, "the first utterance longer than ~1.5 s gets a partial"
    for p in partials:  # each partial comes before the final of its utterance
        final = next(r for r in results[results.index(p):] if r.final)
        assert final.utterance == p.utterance and p.words == []
    text = " ".join(r.text for r in finals)
    assert wer(" ".join(p.text for p in placed), text) <= 0.2
    for r in finals:
        assert r.emitted_s >= r.end_s  # causal: a final is known only after its audio
        # endpoint: min_silence_s after the speech (+ pad, VAD frame and block slack)
        assert r.emitted_s - r.end_s <= opts.min_silence_s + 2 * opts.pad_s + 0.6
        for w in r.words:
            assert any(p.start_s - TOLERANCE_S <= w.start_s and w.end_s <= p.end_s + TOLERANCE_S
                       for p in placed), w
    for p in placed:  # every sentence is recognised at its place
        inside = [w.text for r in finals for w in r.words
                  if p.start_s - TOLERANCE_S <= w.start_s and w.end_s <= p.end_s + TOLERANCE_S]
        assert wer(p.text, " ".join(inside)) <= 0.4, (p.text, inside)


def test_silence_and_babble_give_nothing(rng: np.random.Generator) -> None:
    st = StreamingTranscriber(16_000)
    silence = Audio(np.zeros((1, 3 * 16_000), np.float32), 16_000)
    hiss = Audio((rng.standard_normal((1, 2 * 16_000)) * 1e-3).astype(np.float32), 16_000)
    assert st.feed(silence) + st.feed(hiss) + st.finish() == []


def test_wrong_rate_and_pcm_sources() -> None:
    st = StreamingTranscriber(16_000)
    with pytest.raises(SampleRateError, match="expects 16000 Hz blocks, got 8000 Hz"):
        st.feed(Audio(np.zeros((1, 800), np.float32), 8_000))
    pcm = (np.arange(-1000, 1000, dtype="<i2") * 16).tobytes()
    blocks = list(pcm16_blocks(pyio.BytesIO(pcm), 16_000, block_s=0.01))
    assert [b.frames for b in blocks] == [160] * 12 + [80]
    joined = np.concatenate([b.samples[0] for b in blocks])
    np.testing.assert_allclose(joined * 32768, np.arange(-1000, 1000) * 16, atol=1e-3)
    with pytest.raises(AudioValueError, match="stdin: input ends in the middle of a 16-bit"):
        list(pcm16_blocks(pyio.BytesIO(pcm + b"\x01"), 16_000))
    assert st.feed_pcm16(pcm[:3]) == [] and st.position_s == pytest.approx(1 / 16_000)
    with pytest.raises(AudioValueError, match="max_utterance_s=5"):
        StreamOptions(max_utterance_s=5)


def test_paced_yields_in_real_time() -> None:
    import time

    from wavesmith.speech.stream import paced

    blocks = [Audio(np.zeros((1, 1_600), np.float32), 16_000)] * 3   # 3 x 0.1 s
    start = time.monotonic()
    arrivals = [time.monotonic() - start for _ in paced(blocks)]
    assert arrivals[0] >= 0.1 - 0.01 and arrivals[-1] >= 0.3 - 0.01
    assert arrivals == sorted(arrivals)
