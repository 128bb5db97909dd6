"""``wavesmith analyze`` as a user runs it (subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
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
        "rhythm, key, pitch, voice (comma-separated) or 'all'"]
    bad_pitch = run_cli("analyze", TRUMPET, "--pitch", "yin")
    assert bad_pitch.returncode == 2
    assert bad_pitch.stderr.strip().splitlines() == [
        "wavesmith: error: pitch: unknown method 'yin'; choose from pyin, crepe"]
    missing = run_cli("analyze", tmp_path / "nope.wav")
    assert missing.returncode == 2 and "nope.wav: no such file" in missing.stderr


def test_analyze_pitch_and_voice_json_and_plot(tmp_path: Path) -> None:
    y, rate = sf.read(TRUMPET, frames=2 * 44_100)       # first 2 s, stereo 44.1 kHz
    clip, png = tmp_path / "trumpet2s.wav", tmp_path / "t.png"
    sf.write(clip, y, rate)
    r = run_cli("analyze", clip, "-f", "loudness", "--pitch", "crepe", "--voice", "--json",
                "--curves", "--plot", png, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["features"] == ["loudness", "pitch", "voice"] and data["mono_downmix"]
    p, v = data["pitch"], data["voice"]
    assert p["method"] == "crepe-tiny" and len(p["f0_hz"]) == p["frames"]
    assert 165.0 < p["f0_median_hz"] < 1050.0        # a B-flat trumpet's range, E3 to C6
    assert v["f0_median_hz"] == pytest.approx(p["f0_median_hz"], rel=0.05)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_analyze_streams_long_files_with_the_same_json(tmp_path: Path) -> None:
    y, rate = sf.read(TRUMPET, dtype="float32")
    clip = tmp_path / "trumpet.flac"
    sf.write(clip, y, rate)
    runs = [run_cli("analyze", clip, "-f", "loudness,spectral", "--json", *extra)
            for extra in ([], ["--stream-min-s", "0"])]
    for r in runs:
        assert r.returncode == 0, r.stderr
    whole, streamed = (json.loads(r.stdout) for r in runs)
    assert whole.pop("streamed") is False and streamed.pop("streamed") is True
    assert whole.keys() == streamed.keys() and whole["features"] == streamed["features"]
    assert streamed["loudness"]["integrated_lufs"] == pytest.approx(
        whole["loudness"]["integrated_lufs"], abs=1e-6)
    for name, value in whole["spectral"].items():
        if isinstance(value, dict):
            scale = np.max(np.abs(value["mean"]))
            np.testing.assert_allclose(streamed["spectral"][name]["mean"], value["mean"],
                                       rtol=1e-4, atol=1e-4 * scale)
        else:
            assert streamed["spectral"][name] == value
    table = run_cli("analyze", clip, "--stream-min-s", "0")
    assert table.returncode == 0, table.stderr
    assert "streamed" in table.stdout and "yes (read block by block)" in table.stdout
    assert "spectral_centroid_hz mean ± std" in table.stdout
