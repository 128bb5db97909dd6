"""The CLI names the file and the problem on one line and exits 2 for every bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import file_digest, run_cli
from tests.make_bad_inputs import CASES


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("command", ["info", "convert"])
def test_cli_bad_input(bad_corpus: Path, tmp_path: Path, name: str, command: str) -> None:
    path = bad_corpus / name
    phrase = CASES[name][1]
    before = file_digest(path)
    args = ["info", path] if command == "info" else ["convert", path, tmp_path / "o.wav"]
    result = run_cli(*args, unprivileged=name == "unreadable.wav")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]], result.stderr  # exactly one line, no traceback
    assert lines[0].startswith(f"wavesmith: error: {path}: ")
    assert phrase in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert file_digest(path) == before
    assert not (tmp_path / "o.wav").exists()


def test_cli_info_goes_on_past_bad_files(bad_corpus: Path, shared_data: Path) -> None:
    good = shared_data / "speech" / "sentences" / "jfk.flac"
    result = run_cli("--json", "info", bad_corpus / "empty.wav", good)
    assert result.returncode == 2
    assert '"format": "FLAC"' in result.stdout
    assert "empty file" in result.stderr
