"""The Nottingham folk-tune corpus as melody grids, split by piece.

The corpus is the jukedeck cleaning of the Nottingham Music Database (GPL-3.0; see
``shared/data/music/midi/SOURCES.md``): 1021 tunes with a melody track and a chord track. The
melody is the top (highest-mean-pitch) track, quantized to 16th notes
(:func:`wavesmith.music.midi.read_melody`). Splits are by file name hash
(:func:`wavesmith.music.midi.split_pieces`): about 80 % train, 10 % valid, 10 % test.
"""

from __future__ import annotations

import os
from pathlib import Path

from wavesmith.errors import AudioFileError
from wavesmith.music.midi import Melody, read_melody, split_pieces

__all__ = ["DEFAULT_NOTTINGHAM", "load_split", "nottingham_files"]

# Where the shared data lives next to a wavesmith checkout (override with the argument or
# WAVESMITH_SHARED_DATA, as the tests do).
DEFAULT_NOTTINGHAM = Path(os.environ.get(
    "WAVESMITH_SHARED_DATA", Path(__file__).resolve().parents[4] / "shared" / "data"
)) / "music" / "midi" / "nottingham"


def nottingham_files(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The full-tune MIDI files (``*.mid`` directly under ``root``), sorted.

    Raises
    ------
    AudioFileError
        If the folder is missing or holds no ``.mid`` file.
    """
    d = Path(root) if root is not None else DEFAULT_NOTTINGHAM
    files = sorted(d.glob("*.mid")) if d.is_dir() else []
    if not files:
        raise AudioFileError(f"{d}: no Nottingham MIDI files found; pass --data DIR (the "
                             "folder holding the jukedeck nottingham *.mid files)")
    return files


def load_split(root: str | os.PathLike[str] | None = None, *, limit: int | None = None
               ) -> dict[str, list[Melody]]:
    """Read every tune's melody and split by piece into ``train`` / ``valid`` / ``test``.

    ``limit`` keeps the first ``limit`` files of each split (for quick runs). Reading all
    1021 files takes about 15 s on 2 cores.
    """
    out: dict[str, list[Melody]] = {}
    for name, paths in split_pieces(nottingham_files(root)).items():
        out[name] = [read_melody(p) for p in paths[:limit]]
    return out
