"""What each effect does, on synthetic signals whose right answer is known."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from wavesmith import Audio
from wavesmith.analysis import integrated_loudness, true_peak
from wavesmith.edit import (
    Chain,
    Denoise,
    Gain,
    fade,
    gain,
    highpass,
    invert,
    loudness_normalize,
    lowpass,
    mix,
    peak_normalize,
    pitch_shift,
    resample,
    reverb,
    time_stretch,
    to_mono,
    trim,
    trim_silence,
)
from wavesmith.errors import AudioValueError, SampleRateError

RATE = 48_000  # Hz


def tone(freq_hz: float, seconds: float = 1.0, amp: float = 0.5, channels: int = 1,
         rate: int = RATE) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    x = amp * np.sin(2 * np.pi * freq_hz * t)
    return Audio(np.tile(x, (channels, 1)).astype(np.float32), rate)


def rms_db(a: Audio) -> float:
    return a.rms_dbfs


def test_gain_round_trip_and_invert(rng: np.random.Generator) -> None:
    x = Audio((0.1 * rng.standard_normal((2, 1_000))).astype(np.float32), RATE)
    y = gain(gain(x, gain_db=7.5), gain_db=-7.5)
    np.testing.assert_allclose(y.samples, x.samples, rtol=1e-6, atol=1e-9)  # two float32 muls
    np.testing.assert_array_equal(invert(invert(x)).samples, x.samples)
    assert rms_db(gain(x, gain_db=-6.0)) == pytest.approx(rms_db(x) - 6.0, abs=1e-4)


def test_filters_attenuate_the_right_side() -> None:
    low, high = tone(50.0), tone(5_000.0)
    # first-order filters at 500 Hz: a decade away is ~20 dB down; measure past the transient
    assert rms_db(highpass(low, cutoff_hz=500.0).slice(0.5)) < rms_db(low) - 18
    assert rms_db(highpass(high, cutoff_hz=500.0).slice(0.5)) == pytest.approx(rms_db(high),
                                                                               abs=0.1)
    assert rms_db(lowpass(high, cutoff_hz=500.0).slice(0.5)) < rms_db(high) - 18


def test_peak_normalize_and_silence() -> None:
    y = peak_normalize(tone(440.0, amp=0.1), target_dbfs=-3.0)
    assert y.peak_dbfs == pytest.approx(-3.0, abs=1e-3)
    with pytest.raises(AudioValueError, match="peak_normalize: audio is silent"):
        peak_normalize(Audio(np.zeros((1, 100), np.float32), RATE))


def test_loudness_normalize_holds_the_true_peak_ceiling(rng: np.random.Generator) -> None:
    # sparse clicks over quiet noise: reaching -16 LUFS needs peaks far over the ceiling
    x = 0.01 * rng.standard_normal((1, 3 * RATE))
    x[0, ::4_800] = 0.9
    y = loudness_normalize(Audio(x.astype(np.float32), RATE), target_lufs=-16.0,
                           true_peak_dbtp=-1.0)
    assert integrated_loudness(y) == pytest.approx(-16.0, abs=0.2)
    assert true_peak(y) <= -1.0 + 0.01


def test_loudness_normalize_bad_inputs() -> None:
    with pytest.raises(AudioValueError, match=r"integrated loudness needs at least 0\.4 s"):
        loudness_normalize(tone(440.0, seconds=0.2))
    with pytest.raises(AudioValueError, match="audio is silent"):
        loudness_normalize(Audio(np.zeros((1, RATE), np.float32), RATE))


def test_true_peak_exceeds_sample_peak_between_samples() -> None:
    # a sine at fs/4 sampled at 45 degrees: samples reach 0.707 of the true amplitude
    t = np.arange(4_800)
    x = Audio((0.5 * np.sin(np.pi / 2 * t + np.pi / 4))[None].astype(np.float32), RATE)
    assert x.peak_dbfs == pytest.approx(20 * np.log10(0.5 * np.sqrt(0.5)), abs=0.01)
    # EBU Tech 3341 allows +0.2/-0.4 dB for true-peak meters; the abrupt start of this
    # signal rings a little in the band-limited reconstruction
    assert true_peak(x) == pytest.approx(20 * np.log10(0.5), abs=0.2)


@pytest.mark.parametrize(("shape", "mid"), [("linear", 0.5), ("equal-power", np.sqrt(0.5)),
                                             ("log", 10 ** (-30 / 20))])
def test_fade_shapes(shape: str, mid: float) -> None:
    x = Audio(np.ones((2, 2_000), np.float32), 1_000)
    y = fade(x, fade_in_s=1.0, fade_out_s=0.5, shape=shape)
    assert y.samples[0, 0] == 0.0 and y.samples[0, -1] == 0.0
    assert y.samples[1, 500] == pytest.approx(mid, rel=1e-5)
    assert y.samples[0, 1_200] == 1.0
    with pytest.raises(AudioValueError, match=r"fade: fade_out_s=3 s is longer than the audio"):
        fade(x, fade_out_s=3.0)


def test_trim_and_trim_silence() -> None:
    x = Audio(np.arange(10 * 1_000, dtype=np.float32)[None] / 1e4, 1_000)
    y = trim(x, start_s=1.0, end_s=4.5)
    assert y.frames == 3_500 and y.samples[0, 0] == pytest.approx(0.1)
    with pytest.raises(AudioValueError, match="trim: end_s=12 s is past the end of the audio "
                       r"\(duration 10\.000 s\)"):
        trim(x, start_s=1.0, end_s=12.0)
    quiet = np.zeros((2, 4_000), np.float32)
    quiet[1, 1_000:3_000] = 0.5
    assert trim_silence(Audio(quiet, 1_000)).frames == 2_000
    short = np.zeros((1, 4_000), np.float32)
    short[0, 100:3_000] = 0.5  # 0.1 s of leading silence is shorter than min_silence_s
    assert trim_silence(Audio(short, 1_000), min_silence_s=0.25).frames == 3_000


def test_mix_offsets_gains_and_errors() -> None:
    a = Audio(np.full((2, 4), 0.25, np.float32), 8_000)
    y = mix([a, a], gains_db=[0.0, -6.0206], offsets_s=[0.0, 2 / 8_000])
    assert y.frames == 6
    np.testing.assert_allclose(y.samples[0], [0.25, 0.25, 0.375, 0.375, 0.125, 0.125],
                               atol=1e-6)  # float32 gain of -6.0206 dB ~ 0.5
    with pytest.raises(AudioValueError, match=r"^mix: no inputs given; pass at least one Audio$"):
        mix([])
    with pytest.raises(SampleRateError, match=r"mix: input 1 is 16000 Hz but input 0 is 8000 Hz;"
                       r" resample explicitly first: \.resample\(8000\)"):
        mix([a, resample(a, rate_hz=16_000)])
    with pytest.raises(AudioValueError, match=r"mix: input 1 has 1 channel.*\.to_mono\(\)"):
        mix([a, to_mono(a)])
    with pytest.raises(AudioValueError, match=r"mix: gains_db has 1 value.*2 inputs"):
        mix([a, a], gains_db=[0.0])
    with pytest.raises(AudioValueError, match=r"mix: offsets_s\[1\]=-1 must be >= 0 s"):
        mix([a, a], offsets_s=[0.0, -1.0])


def test_resample_and_to_mono() -> None:
    y = resample(tone(440.0, channels=2), rate_hz=16_000)
    assert (y.sample_rate, y.frames, y.channels) == (16_000, 16_000, 2)
    m = to_mono(Audio(np.array([[0.2, 0.4], [0.4, 0.0]], np.float32), RATE))
    np.testing.assert_allclose(m.samples, [[0.3, 0.2]], atol=1e-7)


def test_stretch_and_pitch_lengths() -> None:
    x = tone(440.0, seconds=1.0, channels=2)
    assert time_stretch(x, rate=1.25).frames == pytest.approx(RATE / 1.25, rel=0.01)
    assert time_stretch(x, rate=0.8).frames == pytest.approx(RATE / 0.8, rel=0.01)
    y = pitch_shift(x, semitones=12.0)
    assert y.frames == x.frames and y.channels == 2
    spectrum = np.abs(np.fft.rfft(y.samples[0, RATE // 4: 3 * RATE // 4]))
    assert np.argmax(spectrum) * 2 == pytest.approx(880.0, abs=4)  # 2 Hz bins over 0.5 s


def test_reverb_adds_energy_after_an_impulse() -> None:
    x = np.zeros((1, RATE), np.float32)
    x[0, 0] = 1.0
    y = reverb(Audio(x, RATE), room_size=0.8, wet_level=0.5)
    assert rms_db(y.slice(0.1, 0.5)) > -80.0


@pytest.mark.parametrize("stationary", [True, False])
def test_denoise_removes_noise_between_bursts(rng: np.random.Generator,
                                              stationary: bool) -> None:
    rate = 16_000
    clean = tone(300.0, seconds=3.0, amp=0.3, rate=rate).samples.copy()
    bursts = (np.arange(clean.shape[1]) % rate) < rate // 5  # 0.2 s on, 0.8 s off
    clean[:, ~bursts] = 0.0
    noisy = clean + (0.02 * rng.standard_normal(clean.shape)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # noisereduce's own runtime warnings
        # full-strength gate (noisereduce's defaults): the mechanism, not our tuned defaults
        out = Denoise(stationary=stationary, prop_decrease=1.0,
                      thresh_n_mult=2.0)(Audio(noisy, rate)).samples
    gaps = ~bursts & (np.arange(clean.shape[1]) % rate > rate // 4)  # away from the edges
    noise_before = 10 * np.log10(np.mean(noisy[:, gaps] ** 2))
    noise_after = 10 * np.log10(np.mean(out[:, gaps] ** 2))
    assert noise_after < noise_before - 10.0  # the gate closes on noise alone
    tone_before = 10 * np.log10(np.mean(clean[:, bursts] ** 2))
    tone_after = 10 * np.log10(np.mean(out[:, bursts] ** 2))
    # the tone survives (gating smears 0.2 s bursts at their edges: a few dB, far from muting);
    # speech quality is measured on real recordings in test_quality.py
    assert tone_after > tone_before - 10.0 and tone_after - noise_after > 25.0


def test_functional_shortcut_matches_object() -> None:
    x = tone(440.0, channels=2)
    np.testing.assert_array_equal(Chain([Gain(gain_db=-3.0)])(x).samples,
                                  gain(x, gain_db=-3.0).samples)


def test_select_channels_swaps_keeps_duplicates_and_streams(rng: np.random.Generator) -> None:
    from wavesmith.edit import Chain, SelectChannels, select_channels

    a = Audio(rng.uniform(-0.5, 0.5, (2, 1000)).astype(np.float32), 8_000)
    swapped = select_channels(a, channels=[1, 0])
    np.testing.assert_array_equal(swapped.samples, a.samples[::-1])
    assert select_channels(a, channels=[0, 0, 1]).channels == 3
    chain = Chain.from_dict(Chain([SelectChannels(channels=[1])]).to_dict())
    blocks = [chain.process(a.slice(t, t + 0.01), reset=not t) for t in np.arange(0, 0.125, 0.01)]
    np.testing.assert_array_equal(np.concatenate([b.samples for b in blocks], axis=1),
                                  a.samples[1:])
    for bad in ([], [-1], "0", [True], [0.5]):
        with pytest.raises(AudioValueError, match="select_channels: channels="):
            SelectChannels(channels=bad)
    with pytest.raises(AudioValueError, match="channel 2 does not exist"):
        select_channels(a, channels=[2])
