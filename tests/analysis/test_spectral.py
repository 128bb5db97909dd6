"""Spectral features: equal to librosa with the same parameters; mono and length checks."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest

from wavesmith import Audio, AudioValueError, io
from wavesmith.analysis import (
    chroma,
    delta,
    frame_times,
    istft,
    log_mel,
    mel_spectrogram,
    mfcc,
    rms,
    spectral_bandwidth,
    spectral_centroid,
    spectral_contrast,
    spectral_flatness,
    spectral_rolloff,
    spectral_summary,
    stft,
    zero_crossing_rate,
)

MUSIC = "music/audio/sorohanro_-_solo-trumpet-06.hq.ogg"
SPEECH = "speech/sentences/cmu_arctic_us_aew_a0001.wav"   # 16 kHz mono


@pytest.fixture(scope="module", params=[MUSIC, SPEECH])
def real(request: pytest.FixtureRequest, shared_data: Path) -> Audio:
    return io.load(shared_data / request.param).to_mono()


@pytest.mark.integration
def test_features_equal_librosa(real: Audio) -> None:
    y, sr = real.samples[0], real.sample_rate
    kw = {"n_fft": 1024, "hop_length": 256}
    ours = {"n_fft": 1024, "hop_frames": 256}
    # same code path, same float32 input: equal to float32 rounding
    np.testing.assert_allclose(stft(real, **ours)[0], librosa.stft(y, **kw), atol=1e-5)
    np.testing.assert_allclose(mfcc(real, n_mfcc=13, **ours),
                               librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, **kw), atol=1e-3)
    np.testing.assert_allclose(mel_spectrogram(real, **ours)[0],
                               librosa.feature.melspectrogram(y=y, sr=sr, **kw), rtol=1e-5,
                               atol=1e-8)
    np.testing.assert_allclose(chroma(real, **ours),
                               librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0, **kw),
                               atol=1e-6)
    for fn, ref in [(spectral_centroid, librosa.feature.spectral_centroid),
                    (spectral_bandwidth, librosa.feature.spectral_bandwidth),
                    (spectral_rolloff, librosa.feature.spectral_rolloff)]:
        np.testing.assert_allclose(fn(real, **ours), ref(y=y, sr=sr, **kw)[0], rtol=1e-6)
    np.testing.assert_allclose(spectral_flatness(real, **ours),
                               librosa.feature.spectral_flatness(y=y, **kw)[0], rtol=1e-5)
    np.testing.assert_allclose(spectral_contrast(real, n_bands=4, **ours),
                               librosa.feature.spectral_contrast(y=y, sr=sr, n_bands=4, **kw),
                               rtol=1e-6)
    if sr >= 16_000:   # librosa's defaults: 6 bands, the top one may end past Nyquist
        np.testing.assert_allclose(spectral_contrast(real, **ours),
                                   librosa.feature.spectral_contrast(y=y, sr=sr, **kw),
                                   rtol=1e-6)
    np.testing.assert_allclose(
        zero_crossing_rate(real, frame_frames=1024, hop_frames=256),
        librosa.feature.zero_crossing_rate(y, frame_length=1024, hop_length=256)[0])
    np.testing.assert_allclose(rms(real, frame_frames=1024, hop_frames=256),
                               librosa.feature.rms(y=y, frame_length=1024, hop_length=256)[0],
                               rtol=1e-6)


@pytest.mark.integration
def test_summary_units_and_shapes(real: Audio) -> None:
    s = spectral_summary(real)
    assert s["n_frames"] == 1 + real.frames // 512
    assert 100.0 < s["spectral_centroid_hz"]["mean"] < real.sample_rate / 2
    assert len(s["mfcc"]["mean"]) == 13 and len(s["chroma"]["mean"]) == 12
    assert len(s["mfcc_delta"]["std"]) == 13
    assert -80.0 < s["rms_dbfs"]["mean"] < 0.0


def test_stft_istft_round_trip(rng: np.random.Generator) -> None:
    x = (0.1 * rng.standard_normal((2, 8_000))).astype(np.float32)
    spec = stft(Audio(x, 16_000), n_fft=512, hop_frames=128)
    assert spec.shape == (2, 257, 1 + 8_000 // 128)
    back = istft(spec, 16_000, hop_frames=128, frames=8_000)
    np.testing.assert_allclose(back.samples, x, atol=1e-5)  # hann/4 overlap: exact COLA


def test_centroid_of_a_tone_is_its_frequency() -> None:
    t = np.arange(22_050) / 22_050
    audio = Audio((0.5 * np.sin(2 * np.pi * 1000.0 * t))[None].astype(np.float32), 22_050)
    # Hann leakage is symmetric around the peak bin: centroid within one bin (10.8 Hz)
    assert np.median(spectral_centroid(audio)) == pytest.approx(1000.0, abs=10.8)
    assert frame_times(3, 22_050, 512)[1] == pytest.approx(512 / 22_050)
    assert log_mel(audio).max() == pytest.approx(0.0)


def test_multichannel_needs_mono_and_says_how() -> None:
    stereo = Audio(np.zeros((2, 4096), np.float32), 16_000)
    with pytest.raises(AudioValueError, match=r"2 channels; call audio.to_mono\(\)"):
        mfcc(stereo)
    assert mel_spectrogram(stereo).shape[0] == 2   # channel-first features accept stereo


def test_too_short_is_a_one_line_error() -> None:
    clip = Audio(np.zeros((1, 160), np.float32), 16_000)   # 10 ms
    with pytest.raises(AudioValueError, match=r"160 frames .* shorter than n_fft=2048"):
        mfcc(clip)
    with pytest.raises(AudioValueError, match="fewer than width=9"):
        delta(np.zeros((13, 5)))
    with pytest.raises(AudioValueError, match="past Nyquist"):
        spectral_contrast(Audio(np.zeros((1, 8_000), np.float32), 8_000))
