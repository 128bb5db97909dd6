"""Block-by-block processing equals whole-signal processing for every streamable effect."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavesmith import Audio, concatenate
from wavesmith.edit import (
    Chain,
    Chorus,
    Compressor,
    Delay,
    Effect,
    Fade,
    Gain,
    HighPass,
    HighShelf,
    Invert,
    Limiter,
    LowPass,
    LowShelf,
    NoiseGate,
    PeakEQ,
    Resample,
    Reverb,
    ToMono,
    Trim,
)
from wavesmith.errors import AudioValueError

RATE = 48_000  # Hz

STREAMABLE: list[Effect] = [
    Gain(gain_db=-7.5), Invert(), ToMono(), HighPass(cutoff_hz=120.0), LowPass(cutoff_hz=3_000.0),
    PeakEQ(cutoff_hz=1_000.0, gain_db=6.0, q=2.0), LowShelf(cutoff_hz=200.0, gain_db=-4.0),
    HighShelf(cutoff_hz=6_000.0, gain_db=3.0), Compressor(threshold_db=-30.0, ratio=4.0),
    Limiter(threshold_db=-12.0), NoiseGate(threshold_db=-25.0), Reverb(room_size=0.7),
    Delay(delay_s=0.013, feedback=0.4, mix=0.5), Chorus(), Fade(fade_in_s=0.1),
    Trim(start_s=0.05, end_s=0.1), Resample(rate_hz=16_000),
]


def _signal(seed: int, channels: int = 2, frames: int = 24_000) -> Audio:
    rng = np.random.default_rng(seed)
    x = 0.2 * rng.standard_normal((channels, frames))
    x *= np.linspace(0.05, 1.5, frames)  # level sweep: dynamics effects change gain over time
    return Audio(x.astype(np.float32), RATE)


def _streamed(effect: Effect, audio: Audio, sizes: list[int]) -> Audio:
    effect.reset()
    parts, start, i = [], 0, 0
    while start < audio.frames:
        n = sizes[i % len(sizes)]
        parts.append(effect.process(Audio(audio.samples[:, start:start + n], RATE), reset=False))
        start, i = start + n, i + 1
    tail = effect.flush()
    if tail is not None:
        parts.append(tail)
    return concatenate(parts)


@pytest.mark.parametrize("effect", STREAMABLE, ids=lambda e: e.name)
@pytest.mark.parametrize("sizes", [[4_096], [1_000, 1, 333, 7_777], [1, 2, 3]],
                         ids=["4096", "mixed", "tiny"])
def test_blockwise_equals_whole(effect: Effect, sizes: list[int]) -> None:
    audio = _signal(seed=7, frames=6_000 if sizes == [1, 2, 3] else 24_000)
    whole = effect(audio)
    parts = _streamed(effect, audio, sizes)
    assert (parts.channels, parts.frames, parts.sample_rate) == (
        whole.channels, whole.frames, whole.sample_rate)
    # pedalboard plugins and NumPy effects are bit-identical block by block; soxr's stream
    # equals its one-shot output within float32 rounding of the filter's ~1e3 taps
    atol = 1e-6 if isinstance(effect, Resample) else 0.0
    np.testing.assert_allclose(parts.samples, whole.samples, rtol=0, atol=atol)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), frames=st.integers(1, 6_000),
       block=st.integers(1, 3_000), channels=st.integers(1, 3))
def test_chain_blockwise_equals_whole(seed: int, frames: int, block: int, channels: int) -> None:
    chain = Chain([HighPass(cutoff_hz=80.0), Compressor(threshold_db=-24.0, ratio=3.0),
                   Delay(delay_s=0.01, feedback=0.3), Gain(gain_db=-1.0),
                   Resample(rate_hz=44_100)])
    audio = _signal(seed, channels=channels, frames=frames)
    whole = chain(audio)
    parts = _streamed(chain, audio, [block])
    # soxr's stream may end one frame short of its one-shot call for odd block patterns
    assert whole.frames == round(frames * 44_100 / RATE)
    assert abs(parts.frames - whole.frames) <= 1
    n = min(parts.frames, whole.frames)
    np.testing.assert_allclose(parts.samples[:, :n], whole.samples[:, :n], rtol=0,
                               atol=1e-6)  # soxr's filter in float32


def test_trim_past_the_end_is_reported_at_flush() -> None:
    trim = Trim(start_s=0.0, end_s=1.0)
    trim.reset()
    trim.process(_signal(1, frames=RATE // 2), reset=False)
    with pytest.raises(AudioValueError, match=r"^trim: end_s=1 s is past the end of the audio "
                       r"\(duration 0\.500 s\)$"):
        trim.flush()
    with pytest.raises(AudioValueError, match="start_s=2 s is at or past the end"):
        Trim(start_s=2.0)(_signal(1, frames=RATE))
