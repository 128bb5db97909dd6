"""Unit tests of the Audio value type on synthetic signals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavesmith import Audio, concatenate
from wavesmith.audio import MAX_CHANNELS, check_audio
from wavesmith.errors import AudioValueError, InvalidAudioError, SampleRateError


def sine(freq_hz: float = 440.0, seconds: float = 1.0, rate: int = 48_000,
         amp: float = 0.5, channels: int = 1) -> Audio:
    t = np.arange(int(seconds * rate)) / rate
    x = (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)
    return Audio(np.tile(x, (channels, 1)), rate)


def test_shape_duration_and_properties() -> None:
    a = Audio(np.zeros((2, 24_000), np.float32), 48_000)
    assert (a.channels, a.frames, a.sample_rate) == (2, 24_000, 48_000)
    assert a.duration == pytest.approx(0.5) and a.duration_s == a.duration
    assert a.samples.dtype == np.float32
    assert "channels=2" in repr(a)


def test_float64_input_becomes_float32_and_is_immutable() -> None:
    x = np.zeros((1, 10))
    a = Audio(x, 8_000)
    assert a.samples.dtype == np.float32
    with pytest.raises(ValueError):
        a.samples[0, 0] = 1.0
    with pytest.raises(AttributeError):
        a.sample_rate = 16_000  # type: ignore[misc]


def test_caller_array_is_not_frozen_or_shared() -> None:
    x = np.zeros((1, 10), np.float32)
    a = Audio(x, 8_000)
    x[0, 0] = 1.0  # the caller keeps a writable array ...
    assert a.samples[0, 0] == 0.0  # ... and the Audio does not change with it


@pytest.mark.parametrize("rate", [0, 1, 999, 768_001, 1_000_000, -8_000])
def test_rate_out_of_range(rate: int) -> None:
    with pytest.raises(InvalidAudioError, match=f"{rate} Hz"):
        Audio(np.zeros((1, 4), np.float32), rate)


@pytest.mark.parametrize("rate", [1_000, 768_000])
def test_rate_limits_are_inclusive(rate: int) -> None:
    assert Audio(np.zeros((1, 4), np.float32), rate).sample_rate == rate


def test_non_integer_rate_rejected() -> None:
    with pytest.raises(InvalidAudioError, match="integer"):
        Audio(np.zeros((1, 4), np.float32), 44_100.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("channels", [0, MAX_CHANNELS + 1, 256])
def test_channel_count_limits(channels: int) -> None:
    with pytest.raises(InvalidAudioError, match=f"{channels} channels"):
        Audio(np.zeros((channels, 4), np.float32), 16_000)


def test_non_finite_samples_rejected_with_time() -> None:
    x = np.zeros((1, 16_000), np.float32)
    x[0, 8_000] = np.nan
    with pytest.raises(InvalidAudioError, match=r"1 non-finite .* first at 0\.500 s"):
        Audio(x, 16_000)


@pytest.mark.parametrize("bad", [np.zeros(4, np.float32), np.zeros((1, 2, 3), np.float32),
                                 np.zeros((1, 4), np.int16)])
def test_wrong_shape_or_dtype(bad: np.ndarray) -> None:
    with pytest.raises(InvalidAudioError, match="from_array"):
        Audio(bad, 16_000)


def test_from_array_layouts_and_pcm() -> None:
    mono = Audio.from_array(np.ones(5, np.float32), 8_000)
    assert mono.samples.shape == (1, 5)
    fc = Audio.from_array(np.zeros((5, 2), np.float32), 8_000, layout="frames_first")
    assert (fc.channels, fc.frames) == (2, 5)
    pcm = Audio.from_array(np.array([-32768, 0, 16384], np.int16), 8_000)
    np.testing.assert_allclose(pcm.samples[0], [-1.0, 0.0, 0.5])
    u8 = Audio.from_array(np.array([0, 128, 255], np.uint8), 8_000)
    np.testing.assert_allclose(u8.samples[0], [-1.0, 0.0, 127 / 128])
    with pytest.raises(AudioValueError, match="layout"):
        Audio.from_array(np.zeros((2, 5), np.float32), 8_000, layout="sideways")


def test_levels_of_known_signals() -> None:
    a = sine(amp=0.5)
    assert a.peak_dbfs == pytest.approx(20 * math.log10(0.5), abs=1e-3)
    assert a.rms_dbfs == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=1e-3)
    silent = Audio(np.zeros((1, 100), np.float32), 8_000)
    assert silent.peak_dbfs == -math.inf and silent.rms_dbfs == -math.inf


def test_to_mono_is_the_mean() -> None:
    x = np.array([[1.0, 0.5], [0.0, -0.5]], np.float32)
    np.testing.assert_allclose(Audio(x, 8_000).to_mono().samples, [[0.5, 0.0]])
    m = sine()
    assert m.to_mono() is m


def test_select_channels() -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = Audio(x, 8_000)
    np.testing.assert_array_equal(a.select_channels(2).samples, x[[2]])
    np.testing.assert_array_equal(a.select_channels([2, 0]).samples, x[[2, 0]])
    with pytest.raises(AudioValueError, match="channel 3 does not exist"):
        a.select_channels(3)
    with pytest.raises(AudioValueError, match="no channel"):
        a.select_channels([])


def test_slice_by_seconds() -> None:
    a = sine(seconds=2.0, rate=8_000)
    part = a.slice(0.5, 1.25)
    assert part.frames == 6_000
    np.testing.assert_array_equal(part.samples, a.samples[:, 4_000:10_000])
    assert a.slice(1.5).frames == 4_000
    assert a.slice(1.0, 10.0).frames == 8_000  # end past the end is clamped
    with pytest.raises(AudioValueError, match="past the end"):
        a.slice(3.0)
    with pytest.raises(AudioValueError, match="before start_s"):
        a.slice(1.0, 0.5)
    with pytest.raises(AudioValueError, match=">= 0"):
        a.slice(-1.0)


def test_resample_keeps_frequency_and_level() -> None:
    a = sine(freq_hz=1_000.0, seconds=1.0, rate=44_100, amp=0.5)
    b = a.resample(16_000)
    assert b.sample_rate == 16_000 and b.frames == 16_000
    spectrum = np.abs(np.fft.rfft(b.samples[0] * np.hanning(b.frames)))
    peak_hz = np.argmax(spectrum) * 16_000 / b.frames
    assert peak_hz == pytest.approx(1_000.0, abs=1.0)
    assert b.slice(0.1, 0.9).rms_dbfs == pytest.approx(a.rms_dbfs, abs=0.05)
    assert a.resample(44_100) is a


def test_resample_stereo_keeps_channels_apart() -> None:
    x = np.stack([sine(440.0).samples[0], np.zeros(48_000, np.float32)])
    b = Audio(x, 48_000).resample(22_050)
    assert b.channels == 2
    assert b.select_channels(1).peak_dbfs == -math.inf
    assert b.select_channels(0).peak_dbfs > -7.0


@settings(max_examples=40, deadline=None)
@given(frames=st.integers(1, 5_000), src=st.sampled_from([8_000, 16_000, 22_050, 44_100]),
       dst=st.sampled_from([8_000, 16_000, 44_100, 48_000]))
def test_resample_keeps_duration_within_one_frame(frames: int, src: int, dst: int) -> None:
    a = Audio(np.zeros((1, frames), np.float32), src)
    b = a.resample(dst)
    assert abs(b.frames - frames * dst / src) <= 1.0


def test_concatenate() -> None:
    a, b = sine(seconds=0.5), sine(seconds=0.25)
    c = concatenate([a, b])
    assert c.frames == a.frames + b.frames
    np.testing.assert_array_equal(c.samples[:, a.frames:], b.samples)
    with pytest.raises(SampleRateError, match=r"resample\(48000\)"):
        concatenate([a, sine(rate=16_000)])
    with pytest.raises(AudioValueError, match="channels"):
        concatenate([a, sine(channels=2)])
    with pytest.raises(AudioValueError, match="no audio"):
        concatenate([])


@settings(max_examples=30, deadline=None)
@given(frames=st.integers(1, 3_000), cut=st.floats(0.0, 1.0))
def test_slicing_then_concatenating_is_identity(frames: int, cut: float) -> None:
    x = np.random.default_rng(frames).standard_normal((2, frames)).astype(np.float32) * 0.1
    a = Audio(x, 8_000)
    t = cut * a.duration
    joined = concatenate([a.slice(0.0, t), a.slice(t)])
    np.testing.assert_array_equal(joined.samples, a.samples)


def test_check_audio() -> None:
    with pytest.raises(AudioValueError, match=r"must be a wavesmith\.Audio"):
        check_audio(np.zeros((1, 4)))
    with pytest.raises(AudioValueError, match="0 frames"):
        check_audio(Audio(np.zeros((1, 0), np.float32), 8_000))
