"""Atomic output: all or nothing, the mode a plain open() gives, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wavesmith.errors import AudioFileError
from wavesmith.io import atomic_output, write_bytes_atomic, write_text_atomic


def test_text_written_and_replaced_without_leftovers(tmp_path: Path) -> None:
    dst = write_text_atomic(tmp_path / "a.srt", "1\nhello\n")
    assert dst.read_text(encoding="utf-8") == "1\nhello\n"
    write_text_atomic(dst, "replaced\n")
    assert dst.read_text(encoding="utf-8") == "replaced\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.srt"]
    umask = os.umask(0)
    os.umask(umask)
    assert dst.stat().st_mode & 0o777 == 0o666 & ~umask


def test_replacing_keeps_the_old_mode(tmp_path: Path) -> None:
    dst = write_bytes_atomic(tmp_path / "a.bin", b"1")
    dst.chmod(0o640)
    write_bytes_atomic(dst, b"2")
    assert dst.read_bytes() == b"2" and dst.stat().st_mode & 0o777 == 0o640


def test_failure_leaves_the_old_file(tmp_path: Path) -> None:
    dst = write_text_atomic(tmp_path / "keep.txt", "old\n")
    with pytest.raises(RuntimeError, match="boom"), atomic_output(dst) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert dst.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize(("name", "match"), [("nope/a.txt", "folder .* does not exist"),
                                             (".", "is a directory")])
def test_bad_targets(tmp_path: Path, name: str, match: str) -> None:
    with pytest.raises(AudioFileError, match=match):
        write_text_atomic(tmp_path / name, "x")
