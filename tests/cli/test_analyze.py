"""``wavesmith analyze`` as a user runs it (subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.conftest import REPO, run_cli

TRUMPET = REPO / "examples" / "trumpet.ogg"


def test_analyze_json_loudness_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "t.png"
    r = run_cli("analyze", TRUMPET, "--features", "loudness", "--json", "--plot", png)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["features"] == ["loudness"]
    assert -30.0 < data["loudness"]["integrated_lufs"] < -5.0
    assert data["loudness"]["true_peak_dbtp"] >= data["loudness"]["sample_peak_dbfs"]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_analyze_table_spectral_and_silence(tmp_path: Path) -> None:
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros((16_000, 1), np.float32), 16_000)
    r = run_cli("analyze", silent, "--features", "loudness,spectral")
    assert r.returncode == 0, r.stderr
    assert "integrated_lufs" in r.stdout and "—" in r.stdout      # -inf shown as a dash
    assert "spectral_centroid_hz mean ± std" in r.stdout


def test_analyze_errors_are_one_line(tmp_path: Path) -> None:
    r = run_cli("analyze", TRUMPET, "--features", "tempo")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "wavesmith: error: features: unknown 'tempo'; choose from loudness, spectral, "
        "rhythm, key (comma-separated) or 'all'"]
    missing = run_cli("analyze", tmp_path / "nope.wav")
    assert missing.returncode == 2 and "nope.wav: no such file" in missing.stderr
