"""Every bad-input case raises a typed, one-line error naming the file; inputs stay intact."""

from __future__ import annotations

from pathlib import Path

import pytest

import wavesmith.errors as errors
from tests.conftest import file_digest, without_file_capabilities
from tests.make_bad_inputs import CASES, MISNAMED
from wavesmith import io


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("call", ["info", "load", "stream", "convert"])
def test_bad_input_raises_typed_one_line_error(bad_corpus: Path, tmp_path: Path, name: str,
                                               call: str) -> None:
    path = bad_corpus / name
    expected_cls, phrase = CASES[name]
    before = file_digest(path)
    with without_file_capabilities(), pytest.raises(getattr(errors, expected_cls)) as caught:
        if call == "info":
            io.info(path)
        elif call == "load":
            io.load(path)
        elif call == "stream":
            list(io.stream(path, block_seconds=0.25))
        else:
            io.convert(path, tmp_path / "out.flac")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: "), message
    assert phrase in message
    assert file_digest(path) == before
    assert not (tmp_path / "out.flac").exists()
    assert not list(tmp_path.glob(".*.part"))


def test_all_corpus_errors_are_wavesmith_errors(bad_corpus: Path) -> None:
    for name in CASES:
        with without_file_capabilities(), pytest.raises(errors.WavesmithError):
            io.info(bad_corpus / name)


def test_misnamed_mp3_is_read_by_content(bad_corpus: Path) -> None:
    path = bad_corpus / MISNAMED
    meta = io.info(path)
    assert (meta.format, meta.sample_rate, meta.channels) == ("MP3", 16_000, 1)
    audio = io.load(path)
    assert audio.sample_rate == 16_000
    assert abs(audio.duration - 1.0) < 0.05  # MP3 frames of 576 samples at 16 kHz
    assert audio.rms_dbfs > -20.0  # the 0.3-amplitude tone is there, not silence


def test_zero_frame_writer_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "x.wav"
    with pytest.raises(errors.AudioValueError, match="nothing was written"), \
            io.AudioWriter(target, 16_000, 1):
        pass
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_huge_load_is_refused_with_advice(tmp_path: Path) -> None:
    import numpy as np

    from wavesmith import Audio

    path = io.save(Audio(np.zeros((2, 48_000), np.float32), 48_000), tmp_path / "a.wav")
    with pytest.raises(errors.AudioFileError, match=r"use io\.stream\(\)"):
        io.load(path, max_bytes=1000)
