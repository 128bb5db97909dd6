"""analysis.streaming: SpectralMeter and PitchTracker equal the whole-signal results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavesmith import Audio, AudioValueError, SampleRateError, io
from wavesmith.analysis import (
    PitchTracker,
    SpectralMaxima,
    SpectralMeter,
    estimate_pitch,
    spectral_summary,
)

SUMMARY_RTOL = 1e-4   # float32 features, float64 sums: measured <= 3e-6 of each feature's scale
MUSIC = "music/audio/Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).hq.ogg"
SPEECH = "speech/sentences/jfk.flac"


def assert_summary_close(got: dict[str, Any], want: dict[str, Any],
                         rtol: float = SUMMARY_RTOL) -> None:
    """Same keys and counts; each statistic within ``rtol`` of the feature's largest value."""
    assert got.keys() == want.keys()
    for key, value in want.items():
        if not isinstance(value, dict):
            assert got[key] == value, key
            continue
        for stat in ("mean", "std"):
            ref = np.atleast_1d(np.asarray(value[stat], dtype=np.float64))
            out = np.atleast_1d(np.asarray(got[key][stat], dtype=np.float64))
            np.testing.assert_allclose(out, ref, rtol=rtol, atol=rtol * np.max(np.abs(ref)),
                                       err_msg=f"{key} {stat}")


def feed(meter: SpectralMeter | PitchTracker, audio: Audio, block: int) -> None:
    for start in range(0, audio.frames, block):
        meter.process(Audio(audio.samples[:, start:start + block], audio.sample_rate))


def two_pass(audio: Audio, block: int) -> tuple[SpectralMeter, SpectralMeter]:
    first = SpectralMeter(audio.sample_rate)
    feed(first, audio, block)
    second = SpectralMeter(audio.sample_rate, maxima=first.maxima)
    feed(second, audio, block)
    return first, second


def signal(rng: np.random.Generator, seconds: float, rate: int) -> Audio:
    """A gliding tone in noise: quiet first third (so the dB maxima rise late), a digital
    silence, and a loud burst near the end."""
    t = np.arange(round(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 300.0 * t * (1 + 0.05 * t)) + 0.02 * rng.standard_normal(t.size)
    x *= np.where(t < seconds / 3, 0.01, 1.0) * np.where(t > 0.8 * seconds, 3.0, 1.0)
    x[round(0.5 * seconds * rate):round(0.55 * seconds * rate)] = 0.0
    return Audio(x[np.newaxis].astype(np.float32), rate)


# -- SpectralMeter ----------------------------------------------------------------------------
@pytest.mark.parametrize("block", [101, 511, 4_096, 100_000])
def test_spectral_meter_equals_summary_for_any_block_size(rng: np.random.Generator,
                                                          block: int) -> None:
    audio = signal(rng, 20.0, 16_000)
    whole = spectral_summary(audio)
    first, second = two_pass(audio, block)
    # the maximum arrives after the first chunk, so one pass cannot know the floors...
    assert not first.exact
    # ...and the second pass, given the maxima, is exact whatever the block size
    assert second.exact and second.maxima == first.maxima
    assert second.result()["n_frames"] == whole["n_frames"] == 1 + audio.frames // 512
    assert_summary_close(second.result(), whole)


def test_spectral_meter_one_pass_is_exact_when_the_maximum_comes_first(
        rng: np.random.Generator) -> None:
    audio = signal(rng, 12.0, 16_000)
    loud_first = Audio(audio.samples[:, ::-1].copy(), audio.sample_rate)   # burst at the start
    meter = SpectralMeter(audio.sample_rate)
    feed(meter, loud_first, 3_000)
    assert meter.exact
    assert_summary_close(meter.result(), spectral_summary(loud_first))


@settings(max_examples=8, deadline=None)
@given(seconds=st.floats(0.3, 5.0), block=st.integers(1_000, 50_000),
       seed=st.integers(0, 2**32 - 1), rate=st.sampled_from([8_000, 22_050, 44_100]))
def test_spectral_meter_property(seconds: float, block: int, seed: int, rate: int) -> None:
    audio = signal(np.random.default_rng(seed), seconds, rate)
    _, second = two_pass(audio, block)
    assert_summary_close(second.result(), spectral_summary(audio))


def test_spectral_meter_short_signals_and_result_any_time(rng: np.random.Generator) -> None:
    short = Audio(rng.standard_normal((1, 3_000)).astype(np.float32), 16_000)  # 6 frames
    meter = SpectralMeter(16_000)
    feed(meter, short, 700)
    assert meter.exact
    assert meter.result() == spectral_summary(short)         # summarised whole: identical
    feed(meter, Audio(short.samples[:, :1_000], 16_000), 1_000)   # and it keeps measuring
    assert meter.result()["n_frames"] == 1 + 4_000 // 512
    tiny = SpectralMeter(16_000)
    tiny.process(Audio(short.samples[:, :1_000], 16_000))
    with pytest.raises(AudioValueError, match="shorter than n_fft=2048"):
        tiny.result()
    with pytest.raises(AudioValueError, match="no audio was fed"):
        SpectralMeter(16_000).result()


def test_spectral_meter_rejects_bad_blocks() -> None:
    meter = SpectralMeter(16_000)
    with pytest.raises(SampleRateError, match="block is 44100 Hz but the meter measures 16000"):
        meter.process(Audio(np.zeros((1, 100), np.float32), 44_100))
    with pytest.raises(AudioValueError, match="needs mono blocks, got 2 channels; call "
                                              r"block.to_mono\(\)"):
        meter.process(Audio(np.zeros((2, 100), np.float32), 16_000))
    with pytest.raises(AudioValueError, match="hop_frames=0 must be an int >= 1"):
        SpectralMeter(16_000, hop_frames=0)
    with pytest.raises(AudioValueError, match="maxima must be SpectralMaxima"):
        SpectralMeter(16_000, maxima=(1.0, 2.0, 3.0))  # type: ignore[arg-type]
    assert SpectralMaxima(1.0, 2.0, 3.0).contrast_valley_db == 3.0


@pytest.mark.integration
@pytest.mark.parametrize("name, block_s", [(MUSIC, 0.01), (MUSIC, 1.3), (SPEECH, 0.0317)])
def test_spectral_meter_equals_summary_on_real_audio(shared_data: Path, name: str,
                                                     block_s: float) -> None:
    path, span = shared_data / name, {"offset": 5.0, "duration": 10.0}
    whole = spectral_summary(io.load(path, **span).to_mono())
    first = SpectralMeter(io.info(path).sample_rate)
    for block in io.stream(path, block_s, mono=True, **span):   # 0.01 s: 441 frames, not
        first.process(block)                                     # a multiple of the hop
    second = SpectralMeter(first.sample_rate, maxima=first.maxima)
    for block in io.stream(path, block_s, mono=True, **span):
        second.process(block)
    assert second.exact
    assert_summary_close(second.result(), whole)
    if first.exact:
        assert_summary_close(first.result(), whole)


# -- PitchTracker -----------------------------------------------------------------------------
def melody(rate: int, seconds: float = 3.0) -> Audio:
    """Notes with vibrato and gaps, so voicing changes across segment boundaries."""
    t = np.arange(round(seconds * rate)) / rate
    f0 = 220.0 * 2 ** (np.floor(t / 0.4) % 5 / 12) * (1 + 0.005 * np.sin(2 * np.pi * 5 * t))
    x = 0.4 * np.sin(2 * np.pi * np.cumsum(f0) / rate) * (t % 0.4 < 0.3)
    return Audio(x[np.newaxis].astype(np.float32), rate)


def arrays(r: Any) -> tuple[np.ndarray, ...]:
    return r.times_s, r.f0_hz, r.f0_candidate_hz, r.voiced_prob, r.voiced


def agreement(a: Any, b: Any) -> tuple[float, float]:
    """(fraction of frames with equal voicing, fraction of frames voiced in both whose F0
    agrees within 10 cents)."""
    both = a.voiced & b.voiced
    cents = 1200 * np.abs(np.log2(a.f0_hz[both] / b.f0_hz[both]))
    return float(np.mean(a.voiced == b.voiced)), float(np.mean(cents <= 10.0))


def test_pitch_tracker_pyin_equals_whole_signal() -> None:
    audio = melody(44_100, seconds=2.0)
    band = {"fmin_hz": 110.0, "fmax_hz": 880.0}    # a narrow range keeps pYIN fast
    whole = estimate_pitch(audio, "pyin", **band)
    runs = []
    for block in (999, 48_000):
        tracker = PitchTracker(44_100, "pyin", segment_s=0.7, context_s=0.4, **band)
        feed(tracker, audio, block)
        runs.append(tracker.result())
    streamed = runs[0]
    for a, b in zip(arrays(runs[0]), arrays(runs[1]), strict=True):
        np.testing.assert_array_equal(a, b)    # segments are cut by frame: block size is moot
    np.testing.assert_array_equal(streamed.times_s, whole.times_s)   # same frames, same times
    np.testing.assert_allclose(streamed.voiced_prob, whole.voiced_prob, atol=1e-6)  # soxr
    voicing, f0 = agreement(streamed, whole)
    assert voicing >= 0.98 and f0 >= 0.99
    assert (streamed.method, streamed.sample_rate, streamed.hop_s) == (
        whole.method, whole.sample_rate, whole.hop_s)
    assert tracker.result() is runs[1]
    with pytest.raises(AudioValueError, match="result\\(\\) was called"):
        tracker.process(Audio(audio.samples[:, :10], 44_100))


def test_pitch_tracker_crepe_equals_whole_signal() -> None:
    audio = melody(16_000, seconds=2.0)
    whole = estimate_pitch(audio, "crepe")
    tracker = PitchTracker(16_000, "crepe", segment_s=0.37)
    feed(tracker, audio, 5_000)
    streamed = tracker.result()
    np.testing.assert_array_equal(streamed.voiced, whole.voiced)   # frames are independent
    np.testing.assert_allclose(streamed.f0_candidate_hz, whole.f0_candidate_hz, rtol=1e-4)
    np.testing.assert_allclose(streamed.voiced_prob, whole.voiced_prob, atol=1e-4)


def test_pitch_tracker_rejects_bad_input() -> None:
    with pytest.raises(AudioValueError, match="unknown method 'yin'"):
        PitchTracker(16_000, "yin")
    with pytest.raises(AudioValueError, match=r"fmax_hz=12000\.0 must be below the Nyquist"):
        PitchTracker(16_000, "pyin", fmax_hz=12_000.0)
    with pytest.raises(AudioValueError, match="segment_s=0 must be > 0 s"):
        PitchTracker(16_000, segment_s=0)
    tracker = PitchTracker(16_000)
    with pytest.raises(SampleRateError, match="block is 8000 Hz"):
        tracker.process(Audio(np.zeros((1, 10), np.float32), 8_000))
    with pytest.raises(AudioValueError, match="no audio was fed"):
        tracker.result()


@pytest.mark.integration
@pytest.mark.slow
def test_pitch_tracker_pyin_on_real_speech(shared_data: Path) -> None:
    path = shared_data / SPEECH
    whole = estimate_pitch(io.load(path).to_mono(), "pyin")
    tracker = PitchTracker(io.info(path).sample_rate, "pyin", segment_s=2.0, context_s=1.0)
    for block in io.stream(path, 0.5, mono=True):   # 5 segment boundaries in 11 s
        tracker.process(block)
    streamed = tracker.result()
    assert streamed.times_s.size == whole.times_s.size
    voicing, f0 = agreement(streamed, whole)
    assert voicing >= 0.98 and f0 >= 0.99      # measured: 1.000 and 1.000
