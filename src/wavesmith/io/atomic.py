"""Atomic file output: write to a temporary file in the target folder, then rename.

Every file wavesmith writes (audio, plots, subtitles, MIDI, reports) goes through here, so a
crash, a full disk or an exception never leaves a half-written file, and an existing file is
replaced in one step. The new file gets the mode a plain ``open()`` would give it (or keeps the
mode of the file it replaces).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wavesmith.errors import AudioFileError

__all__ = ["atomic_output", "commit_temp", "make_temp", "write_bytes_atomic", "write_text_atomic"]

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read the process umask once (os.umask can only read it by setting it)


def make_temp(path: str | os.PathLike[str]) -> Path:
    """Create an empty temporary file beside ``path`` (same folder, so rename is atomic)."""
    target = Path(path)
    if target.is_dir():
        raise AudioFileError(f"{target}: is a directory")
    folder = target.parent
    if not folder.is_dir():
        raise AudioFileError(f"{target}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise AudioFileError(f"{target}: cannot write ({exc.strerror})") from exc
    os.close(fd)
    return Path(tmp)


def commit_temp(tmp: Path, path: str | os.PathLike[str]) -> Path:
    """Flush ``tmp`` to disk, give it its final mode and rename it over ``path``."""
    target = Path(path)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    # mkstemp makes 0600 files; give the output the mode a plain open() would
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_UMASK
    os.chmod(tmp, mode)
    os.replace(tmp, target)
    return target


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; it becomes ``path`` only if the block succeeds.

    Examples
    --------
    >>> with atomic_output("report.png") as tmp:  # doctest: +SKIP
    ...     figure.savefig(tmp, format="png")
    """
    tmp = make_temp(path)
    try:
        yield tmp
        commit_temp(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, AudioFileError):
            raise
        raise AudioFileError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically."""
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return Path(path)
