"""pYIN and CREPE trackers: known tones at several rates, voicing, bad input, the torchaudio
placeholder. Accuracy on real music is in test_evaluate.py."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from wavesmith import Audio, AudioValueError
from wavesmith.analysis import crepe, estimate_pitch, pyin
from wavesmith.analysis.pitch import _torchcrepe
from wavesmith.errors import MissingToolError


def tone(freq_hz: float, seconds: float, rate: int, amp: float = 0.5) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    return Audio((amp * np.sin(2 * np.pi * freq_hz * t))[None].astype(np.float32), rate)


def cents(a: float, b: float) -> float:
    return 1200.0 * abs(np.log2(a / b))


@pytest.mark.parametrize("rate", [8_000])       # resampled up to 22.05 kHz inside
def test_pyin_tone_at_any_rate(rate: int) -> None:
    r = pyin(tone(330.0, 1.0, rate), fmin_hz=100.0, fmax_hz=1000.0)
    assert r.sample_rate == 22_050 and r.method == "pyin"
    assert r.voiced[5:-5].all()
    assert cents(float(np.median(r.voiced_f0_hz)), 330.0) < 10.0   # pYIN bins: 10 cents
    np.testing.assert_allclose(np.diff(r.times_s), r.hop_s)          # centred, even frames
    assert r.hop_s == 220 / 22_050                                  # 0.01 s in whole frames
    assert np.isnan(r.f0_hz[~r.voiced]).all()
    assert np.isfinite(r.f0_candidate_hz).all()                     # a guess in every frame
    np.testing.assert_array_equal(r.f0_candidate_hz[r.voiced], r.f0_hz[r.voiced])


@pytest.mark.parametrize("rate", [48_000])      # resampled down to 16 kHz inside
def test_crepe_tone_at_any_rate(rate: int) -> None:
    r = crepe(tone(440.0, 1.0, rate))
    assert (r.sample_rate, r.method, r.hop_s) == (16_000, "crepe-tiny", 0.01)
    assert r.times_s.size == 1 + 16_000 // 160
    assert r.voiced[5:-5].all() and (r.voiced_prob[5:-5] > 0.5).all()
    assert cents(float(np.median(r.voiced_f0_hz)), 440.0) < 20.0    # CREPE bins: 20 cents


def test_silence_and_dc_have_no_voiced_frames() -> None:
    silence = Audio(np.zeros((1, 16_000), np.float32), 16_000)
    dc = Audio(np.full((1, 16_000), 0.25, np.float32), 16_000)
    for method in ("pyin", "crepe"):
        for audio in (silence, dc):
            s = estimate_pitch(audio, method).summary()
            assert s["voiced_frames"] == 0 and s["frames"] == 101
            assert np.isnan(s["f0_median_hz"])


def test_clipped_tone_keeps_its_pitch() -> None:
    clipped = tone(220.0, 1.0, 16_000, amp=3.0)
    clipped = Audio(np.clip(clipped.samples, -1.0, 1.0), 16_000)   # square-ish, full scale
    for method in ("pyin", "crepe"):
        f0 = float(np.median(estimate_pitch(clipped, method).voiced_f0_hz))
        assert cents(f0, 220.0) < 25.0, method


def test_bad_input_is_a_one_line_error() -> None:
    stereo = Audio(np.zeros((2, 8_000), np.float32), 8_000)
    with pytest.raises(AudioValueError, match="needs mono audio, got 2 channels"):
        pyin(stereo)
    mono = tone(220.0, 0.5, 16_000)
    with pytest.raises(AudioValueError, match="need 0 < fmin_hz < fmax_hz"):
        pyin(mono, fmin_hz=500.0, fmax_hz=100.0)
    with pytest.raises(AudioValueError, match="within CREPE's"):
        crepe(mono, fmax_hz=4000.0)
    with pytest.raises(AudioValueError, match="unknown model 'huge'"):
        crepe(mono, model="huge")
    with pytest.raises(AudioValueError, match="unknown method 'yin'; choose from pyin, crepe"):
        estimate_pitch(mono, "yin")
    with pytest.raises(AudioValueError, match="shorter than one frame"):
        pyin(mono, hop_s=1e-6)


@pytest.mark.skipif(importlib.util.find_spec("torchaudio") is not None,
                    reason="a real torchaudio is installed; no placeholder is used")
def test_torchcrepe_imports_without_leaving_a_torchaudio_placeholder() -> None:
    tc = _torchcrepe()
    assert "torchaudio" not in sys.modules        # the placeholder lived for the import only
    with pytest.raises(MissingToolError, match="torchaudio is not available"):
        tc.load.audio("anything.wav")             # the one torchaudio path, never used by us
