"""Small real-data manifests for the training tests (a few FSDD clips, seconds to train)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wavesmith.learn.data import Manifest, ManifestRow, write_manifest

SPLIT_OF = {"jackson": "train", "nicolas": "train", "theo": "val", "george": "test"}


def tiny_rows(digits_dir: Path, *, labels: tuple[str, ...] = ("0", "1"),
              per_speaker: int = 6) -> list[ManifestRow]:
    """``per_speaker`` clips of each label from each of 4 speakers, speaker-independent."""
    return [ManifestRow(digits_dir / f"{lab}_{spk}_{i}.wav", lab, spk, split)
            for spk, split in SPLIT_OF.items() for lab in labels for i in range(per_speaker)]


@pytest.fixture
def digits_dir(shared_data: Path) -> Path:
    return shared_data / "speech" / "digits"


@pytest.fixture
def tiny_manifest(digits_dir: Path, tmp_path: Path) -> Path:
    """A manifest CSV of 48 real clips (digits 0 and 1; 2 train speakers, 1 val, 1 test)."""
    rows = tiny_rows(digits_dir)
    path = tmp_path / "tiny.csv"
    write_manifest(Manifest(tuple(rows), ("0", "1")), path)
    return path
