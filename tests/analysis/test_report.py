"""analysis.report / analyze / plot_report: JSON-able, units in keys, bad inputs defined."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, AudioValueError, io
from wavesmith.analysis import analyze, analyze_file, parse_features, plot_report, report

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


# -- analyze_file: whole-file and streamed paths ----------------------------------------------
def shape(value: object) -> object:
    """The JSON structure: keys, list lengths and value kinds (None for nulls)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return None if value is None else type(value).__name__


def long_take(tmp_path: Path, seconds: float = 12.0) -> Path:
    """A stereo take whose level rises late (so the streamed spectral pass runs twice)."""
    t = np.arange(round(seconds * 44_100)) / 44_100
    rng = np.random.default_rng(7)
    x = 0.2 * np.sin(2 * np.pi * 220.0 * t * (1 + 0.02 * t)) + 0.01 * rng.standard_normal(t.size)
    x *= np.where(t < seconds / 2, 0.05, 1.0)
    path = tmp_path / "take.flac"
    io.save(Audio(np.stack([x, 0.5 * x]).astype(np.float32), 44_100), path)
    return path


def test_analyze_file_streams_long_files_with_the_same_report(tmp_path: Path) -> None:
    path = long_take(tmp_path)
    whole = analyze_file(path, "loudness,spectral,key")
    calls: list[tuple[float, float]] = []
    streamed = analyze_file(path, "loudness,spectral,key", stream_min_s=0.0, block_seconds=0.7,
                            progress=lambda d, t: calls.append((d, t)))
    assert not whole.streamed and streamed.streamed
    a, b = whole.to_dict(curves=True), streamed.to_dict(curves=True)
    assert (a["streamed"], b["streamed"]) == (False, True)
    del a["streamed"], b["streamed"]
    assert shape(a) == shape(b)                      # same JSON shape either way
    assert b["loudness"]["integrated_lufs"] == pytest.approx(a["loudness"]["integrated_lufs"],
                                                             abs=1e-6)
    np.testing.assert_allclose(b["loudness"]["short_term_lufs"], a["loudness"]["short_term_lufs"],
                               atol=1e-6)
    for name, value in a["spectral"].items():
        if isinstance(value, dict):
            for stat in ("mean", "std"):
                ref = np.atleast_1d(value[stat])
                np.testing.assert_allclose(b["spectral"][name][stat], value[stat], rtol=1e-4,
                                           atol=1e-4 * np.max(np.abs(ref)))
        else:
            assert b["spectral"][name] == value
    assert b["key"]["label"] == a["key"]["label"]   # 22.05 kHz downmix: same key here
    assert calls[-1] == pytest.approx((12.0, 12.0))
    assert all(y[0] >= x[0] for x, y in itertools.pairwise(calls))


def test_analyze_file_streamed_sections_that_cannot_be_computed(tmp_path: Path) -> None:
    path = tmp_path / "click.wav"
    io.save(sine(0.01), path)
    r = analyze_file(path, "all", stream_min_s=0.0).to_dict()
    assert r["streamed"] is True
    assert "shorter than n_fft=2048" in r["spectral"]["skipped"]
    assert "at least 1 s" in r["rhythm"]["skipped"]
    assert r["pitch"]["frames"] == 2 and r["pitch"]["method"] == "pyin"
    with pytest.raises(AudioValueError, match=r"stream_min_s=-1\.0 must be >= 0 s"):
        analyze_file(path, "loudness", stream_min_s=-1.0)
