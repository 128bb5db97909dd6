"""Containers libsndfile cannot read go through ffmpeg; without ffmpeg the error names it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, io
from wavesmith.errors import MissingToolError, UnsupportedFormatError

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None,
                                  reason="ffmpeg not installed (make install adds it)")


def speechlike(rate: int = 44_100) -> Audio:
    t = np.arange(rate * 2) / rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return Audio(np.stack([x, 0.5 * x]).astype(np.float32), rate)


@needs_ffmpeg
@pytest.mark.parametrize("ext", [".m4a", ".aac"])
def test_ffmpeg_roundtrip(tmp_path: Path, ext: str) -> None:
    a = speechlike()
    path = io.save(a, tmp_path / f"x{ext}")
    meta = io.info(path)
    assert meta.backend == "ffmpeg" and meta.codec == "AAC"
    assert (meta.sample_rate, meta.channels) == (44_100, 2)
    assert abs(meta.duration_s - 2.0) < 0.1
    b = io.load(path)
    assert abs(b.duration - 2.0) < 0.1
    assert b.rms_dbfs == pytest.approx(a.rms_dbfs, abs=1.0)
    blocks = list(io.stream(path, block_seconds=0.5, sample_rate=16_000, mono=True))
    assert all(blk.sample_rate == 16_000 and blk.channels == 1 for blk in blocks)
    assert abs(sum(blk.frames for blk in blocks) / 16_000 - b.duration) < 0.01
    part = io.load(path, offset=1.0, duration=0.5)
    assert abs(part.duration - 0.5) < 0.01


@needs_ffmpeg
def test_ffmpeg_rejects_garbage_m4a(tmp_path: Path) -> None:
    path = tmp_path / "bad.m4a"
    path.write_bytes(b"\0\0\0\x18ftypM4A " + bytes(range(256)) * 8)
    with pytest.raises(UnsupportedFormatError, match=r"bad\.m4a: not a recognised audio file"):
        io.info(path)


def test_missing_ffmpeg_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # WAVESMITH_FFMPEG points wavesmith at its ffmpeg binary; naming one that does not exist
    # is how a machine without ffmpeg looks to the code.
    monkeypatch.setenv("WAVESMITH_FFMPEG", str(tmp_path / "no-ffmpeg-here"))
    m4a = tmp_path / "x.m4a"
    m4a.write_bytes(b"\0\0\0\x18ftypM4A " + bytes(64))
    with pytest.raises(MissingToolError, match=r"x\.m4a: reading \.m4a files needs ffmpeg"):
        io.info(m4a)
    with pytest.raises(MissingToolError, match=r"writing \.m4a files needs ffmpeg"):
        io.save(speechlike(), tmp_path / "out.m4a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.m4a"]
    assert ".m4a" not in io.writable_extensions()
