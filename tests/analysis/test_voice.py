"""Praat voice report on real voice recordings: sensible values, agreement with Praat's own
"Voice report" text, with pYIN, and with the physics of added noise; bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, AudioValueError, io
from wavesmith.analysis import pyin, voice_report
from wavesmith.analysis.voice import VoiceReport

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def vowel() -> Audio:
    """2 s of the steady part of Praat's sustained /a/ test sound (channel 1, 50 kHz)."""
    from tests.conftest import SHARED_DATA

    path = SHARED_DATA / "voice" / "praat_test_aaaa02.wav"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return io.load(path).select_channels(0).slice(3.5, 5.5)


@pytest.fixture(scope="module")
def vowel_report(vowel: Audio) -> VoiceReport:
    return voice_report(vowel)


def test_sustained_vowel_values_are_physiological(vowel_report: VoiceReport) -> None:
    r = vowel_report
    assert r.voiced_fraction > 0.95                     # a steady phonation
    assert 150.0 < r.f0_median_hz < 250.0 and r.f0_sd_hz < 5.0
    assert r.f0_min_hz <= r.f0_median_hz <= r.f0_max_hz
    assert 0.0 < r.jitter_rap_pct < r.jitter_local_pct < 1.04   # below Praat's pathology
    assert 0.0 < r.shimmer_apq3_pct < r.shimmer_local_pct < 3.81  # thresholds (MDVP)
    assert 15.0 < r.hnr_db < 30.0 and 10.0 < r.cpps_db < 25.0
    assert 600.0 < r.f1_hz < 1100.0 and 1000.0 < r.f2_hz < 1800.0   # /a/: high F1, low F2
    assert r.f2_hz < r.f3_hz < 4000.0


def test_matches_praats_voice_report_text(vowel: Audio, vowel_report: VoiceReport) -> None:
    """Our query-command values equal what Praat's "Voice report" prints (3 decimals)."""
    import parselmouth
    from parselmouth.praat import call

    snd = parselmouth.Sound(vowel.samples[0].astype(np.float64), vowel.sample_rate)
    pitch = call(snd, "To Pitch (cc)", 0.0, 75, 15, "no", 0.03, 0.45, 0.01, 0.35, 0.14, 600)
    pulses = call([snd, pitch], "To PointProcess (cc)")
    text = call([snd, pitch, pulses], "Voice report", 0, 0, 75, 600, 1.3, 1.6, 0.03, 0.45)

    def printed(label: str) -> float:
        return float(re.search(rf"{re.escape(label)}: ([-0-9.]+)", text).group(1))

    r = vowel_report
    for label, ours in [("Mean pitch", r.f0_mean_hz), ("Median pitch", r.f0_median_hz),
                        ("Standard deviation", r.f0_sd_hz), ("Minimum pitch", r.f0_min_hz),
                        ("Maximum pitch", r.f0_max_hz),
                        ("Jitter (local)", r.jitter_local_pct),
                        ("Jitter (rap)", r.jitter_rap_pct), ("Jitter (ppq5)", r.jitter_ppq5_pct),
                        ("Shimmer (local)", r.shimmer_local_pct),
                        ("Shimmer (apq3)", r.shimmer_apq3_pct),
                        ("Shimmer (apq11)", r.shimmer_apq11_pct),
                        ("Mean harmonics-to-noise ratio", r.hnr_db)]:
        assert ours == pytest.approx(printed(label), abs=0.0006), label   # printed to 0.001


def test_f0_agrees_with_pyin(vowel: Audio, vowel_report: VoiceReport) -> None:
    p = pyin(vowel, fmin_hz=75.0, fmax_hz=600.0)
    assert p.summary()["voiced_fraction"] > 0.95
    median = float(np.median(p.voiced_f0_hz))
    assert vowel_report.f0_median_hz == pytest.approx(median, rel=0.01)
    assert vowel_report.f0_mean_hz == pytest.approx(median, rel=0.02)


def test_added_noise_worsens_every_measure(vowel: Audio, vowel_report: VoiceReport,
                                           rng: np.random.Generator) -> None:
    x = vowel.samples[0]
    noise = rng.standard_normal(x.size).astype(np.float32)
    noise *= np.sqrt(np.mean(x ** 2) / np.mean(noise ** 2)) * 10 ** (-10 / 20)  # 10 dB SNR
    noisy = voice_report(Audio((x + noise)[None], vowel.sample_rate))
    clean = vowel_report
    assert noisy.f0_median_hz == pytest.approx(clean.f0_median_hz, rel=0.005)  # same voice
    assert noisy.jitter_local_pct > clean.jitter_local_pct * 1.1
    assert noisy.shimmer_local_pct > clean.shimmer_local_pct * 1.3
    assert noisy.hnr_db < clean.hnr_db - 6.0     # HNR of the voice itself is ~20 dB
    assert noisy.cpps_db < clean.cpps_db - 2.0


def test_read_speech_against_reference_values(shared_data: Path) -> None:
    folder = shared_data / "voice"
    ref = json.loads((folder / "reference_values.json").read_text())
    ref = ref["the_north_wind_and_the_sun.wav"][0]
    r = voice_report(io.load(folder / "the_north_wind_and_the_sun.wav"))
    # The references use Praat's ac pitch (ours: cc, Praat's voice-analysis method) and a
    # 0.1-20 ms period range (ours: the voice report's 1.3-16.7 ms), so a few % apart.
    assert r.f0_mean_hz == pytest.approx(ref["f0_mean_hz"], rel=0.03)
    assert r.jitter_local_pct == pytest.approx(100 * ref["jitter_local"], rel=0.2)
    assert r.shimmer_local_pct == pytest.approx(100 * ref["shimmer_local"], rel=0.1)
    assert 0.5 < r.voiced_fraction < 0.9                    # running speech has pauses
    assert 250.0 < r.f1_hz < 900.0 and 900.0 < r.f2_hz < 2500.0 < r.f3_hz < 3500.0
    assert 10.0 < r.hnr_db < 25.0 and 5.0 < r.cpps_db < r.hnr_db
    d = r.to_dict()
    assert d["voiced_fraction"] == pytest.approx(r.voiced_fraction)
    json.dumps(d, allow_nan=False)


def test_silence_and_bad_input() -> None:
    silent = voice_report(Audio(np.zeros((1, 16_000), np.float32), 16_000))
    assert silent.voiced_frames == 0 and silent.frames > 0
    d = silent.to_dict()
    assert d["f0_mean_hz"] is None and d["jitter_local_pct"] is None and d["cpps_db"] is None
    with pytest.raises(AudioValueError, match=r"audio is 0\.010 s; Praat's pitch analysis"):
        voice_report(Audio(np.zeros((1, 160), np.float32), 16_000))
    with pytest.raises(AudioValueError, match="needs mono audio, got 2 channels"):
        voice_report(Audio(np.zeros((2, 16_000), np.float32), 16_000))
    with pytest.raises(AudioValueError, match="Nyquist frequency of this 8000 Hz audio"):
        voice_report(Audio(np.zeros((1, 8_000), np.float32), 8_000))
    assert voice_report(Audio(np.zeros((1, 8_000), np.float32), 8_000),
                        max_formant_hz=4_000.0).voiced_frames == 0
