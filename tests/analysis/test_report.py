"""analysis.report / analyze / plot_report: JSON-able, units in keys, bad inputs defined."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, AudioValueError, io
from wavesmith.analysis import analyze, parse_features, plot_report, report

FS = 48_000


def sine(seconds: float, channels: int = 2) -> Audio:
    t = np.arange(round(seconds * FS)) / FS
    x = (10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    return Audio(np.stack([x] * channels), FS)


def test_report_is_json_with_units() -> None:
    r = report(sine(3.0), "loudness,spectral", curves=True)
    text = json.dumps(r, allow_nan=False)   # would raise on NaN/inf
    assert json.loads(text) == r
    assert r["loudness"]["integrated_lufs"] == pytest.approx(-23.0, abs=0.1)
    assert r["mono_downmix"] is True and r["sample_rate_hz"] == FS
    assert r["spectral"]["spectral_centroid_hz"]["mean"] == pytest.approx(1000.0, abs=25.0)
    assert len(r["loudness"]["momentary_lufs"]) == len(r["loudness"]["momentary_times_s"])


def test_silence_gives_null_loudness() -> None:
    r = report(Audio(np.zeros((1, FS), np.float32), FS), "loudness,spectral,key")
    json.dumps(r, allow_nan=False)
    assert r["loudness"]["integrated_lufs"] is None
    assert r["loudness"]["true_peak_dbtp"] is None
    assert r["key"]["key"] is None and r["key"]["confidence"] is None


def test_ten_ms_clip_skips_sections_with_reason() -> None:
    r = report(sine(0.01), "all")
    assert r["loudness"]["integrated_lufs"] is None            # < 400 ms: undefined
    assert r["loudness"]["sample_peak_dbfs"] == pytest.approx(-23.0, abs=0.1)
    assert "shorter than n_fft=2048" in r["spectral"]["skipped"]
    assert "at least 1 s" in r["rhythm"]["skipped"]
    assert r["pitch"]["frames"] == 2 and r["pitch"]["method"] == "pyin"   # defined, centred
    assert "audio is 0.010 s; Praat's pitch analysis needs" in r["voice"]["skipped"]


def test_six_channels_and_dc() -> None:
    r = report(sine(1.0, channels=6), "loudness,spectral")
    assert r["channels"] == 6 and r["loudness"]["integrated_lufs"] is not None
    dc = report(Audio(np.full((1, FS), 0.25, np.float32), FS), "loudness,spectral")
    assert dc["loudness"]["sample_peak_dbfs"] == pytest.approx(-12.04, abs=0.01)
    # all energy at 0 Hz except the zero-padded edge frames (centred framing): < 100 Hz
    assert dc["spectral"]["spectral_centroid_hz"]["mean"] < 100.0


def test_unknown_feature_is_a_one_line_error() -> None:
    with pytest.raises(AudioValueError, match="unknown 'tempo'; choose from loudness"):
        parse_features("loudness,tempo")
    assert parse_features("all") == ("loudness", "spectral", "rhythm", "key", "pitch",
                                     "voice")
    assert parse_features(None, pitch="crepe", voice=True) == ("loudness", "spectral",
                                                               "pitch", "voice")
    assert parse_features("key", pitch="pyin") == ("key", "pitch")
    with pytest.raises(AudioValueError, match="unknown method 'yin'; choose from pyin, crepe"):
        parse_features("loudness", pitch="yin")
    with pytest.raises(AudioValueError, match="unknown model 'big'"):
        analyze(sine(1.0), "loudness", pitch="crepe", pitch_model="big")


def test_progress_reaches_the_duration() -> None:
    calls: list[tuple[float, float]] = []
    analyze(sine(2.0), "loudness,spectral", progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == pytest.approx((2.0, 2.0))
    assert all(b[0] >= a[0] for a, b in itertools.pairwise(calls))


def test_plot_writes_png_atomically(tmp_path: Path) -> None:
    out = plot_report(sine(4.0), tmp_path / "r.png",
                      result=analyze(sine(4.0), "loudness"))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.png"]   # no temporary left behind
    with pytest.raises(AudioValueError, match="shorter than n_fft"):
        plot_report(sine(0.01), tmp_path / "short.png")
    assert not (tmp_path / "short.png").exists()


@pytest.mark.integration
def test_pitch_and_voice_sections_on_real_speech(shared_data: Path, tmp_path: Path) -> None:
    speech = io.load(shared_data / "voice" / "the_north_wind_and_the_sun.wav")
    result = analyze(speech, "loudness", pitch="pyin", voice=True)
    r = result.to_dict(curves=True)
    json.dumps(r, allow_nan=False)
    assert r["features"] == ["loudness", "pitch", "voice"]
    p, v = r["pitch"], r["voice"]
    assert len(p["times_s"]) == len(p["f0_hz"]) == len(p["voiced_prob"]) == p["frames"]
    assert sum(f is not None for f in p["f0_hz"]) == p["voiced_frames"] > 50
    # two trackers, one voice: pYIN and Praat agree on the median F0 of this speaker
    assert p["f0_median_hz"] == pytest.approx(v["f0_median_hz"], rel=0.05)
    assert 0.0 < v["jitter_local_pct"] < 5.0 and v["hnr_db"] > 5.0
    assert "times_s" not in result.to_dict()["pitch"]            # contour only with curves
    png = plot_report(speech, tmp_path / "speech.png", result=result)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
