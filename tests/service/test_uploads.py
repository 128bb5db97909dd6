"""The request folder helper: kept for the response only when the request succeeded."""

from __future__ import annotations

import pytest

from wavesmith.errors import AudioFileError
from wavesmith.service.uploads import workdir


def test_workdir_keeps_only_successful_folders() -> None:
    with workdir() as plain:
        (plain.path / "x").write_text("x")
    assert not plain.path.exists()
    with workdir(keep=True) as kept:
        pass
    assert kept.path.is_dir()                  # file_response removes it after sending
    kept.remove()
    with pytest.raises(AudioFileError, match=r"^in\.wav: broken$"), \
            workdir(keep=True) as failed:
        raise AudioFileError(f"{failed.path}/in.wav: broken")   # paths made relative
    assert not failed.path.exists()            # a failed request leaves nothing behind
    with pytest.raises(RuntimeError), workdir() as handed:
        handed.hand_over()
        raise RuntimeError("queue full")
    assert handed.path.is_dir()                # the new owner removes it
    handed.remove()
