"""Fixtures for the music tests: the real Nottingham folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def nottingham(shared_data: Path) -> Path:
    """The Nottingham full-tune MIDI folder (skipped where the shared data is absent)."""
    d = shared_data / "music" / "midi" / "nottingham"
    if not d.is_dir():
        pytest.skip(f"Nottingham MIDI not found at {d}")
    return d
