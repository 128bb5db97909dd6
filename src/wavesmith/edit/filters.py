"""Equalisation: high-pass, low-pass, peaking and shelving filters (pedalboard / JUCE biquads).

All are streamable: block-by-block output equals whole-signal output exactly. ``q`` is the
filter's quality factor (dimensionless; 0.707 is a Butterworth response). pedalboard's
high- and low-pass filters are first order (6 dB/octave); chain two for 12 dB/octave.
pedalboard is imported where a plugin is made, so `import wavesmith.edit` stays light.
"""

from __future__ import annotations

from typing import Any

from wavesmith.audio import Audio
from wavesmith.edit._pedalboard import PedalboardEffect
from wavesmith.edit.effect import check_below_nyquist, check_number, register

__all__ = [
    "HighPass",
    "HighShelf",
    "LowPass",
    "LowShelf",
    "PeakEQ",
    "high_shelf",
    "highpass",
    "low_shelf",
    "lowpass",
    "peak_eq",
]

DEFAULT_Q = 0.7071       # dimensionless; Butterworth (maximally flat) response
MAX_GAIN_DB = 48.0       # dB; boosts or cuts beyond this are a unit mistake
MAX_Q = 100.0            # dimensionless; narrower than this rings for seconds


class _CutoffFilter(PedalboardEffect):
    """A filter with a cutoff in Hz, checked against Nyquist when the stream starts."""

    def __init__(self, *, cutoff_hz: float) -> None:
        self.cutoff_hz = check_number(self.name, "cutoff_hz", cutoff_hz, unit="Hz", gt=0)
        super().__init__()

    def _check_rate(self, sample_rate: int) -> None:
        check_below_nyquist(self.name, "cutoff_hz", self.cutoff_hz, sample_rate)


@register
class HighPass(_CutoffFilter):
    """Attenuate below ``cutoff_hz`` (Hz): a first-order (6 dB/octave) high-pass filter.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.edit import HighPass
    >>> hp = HighPass(cutoff_hz=80.0)
    >>> hp
    HighPass(cutoff_hz=80.0)
    >>> y = hp(Audio(np.ones((1, 48_000), np.float32), 48_000))   # DC is removed
    >>> bool(abs(y.samples[0, -1]) < 1e-3)
    True
    """

    name = "highpass"
    params = ("cutoff_hz",)

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.HighpassFilter(cutoff_frequency_hz=self.cutoff_hz)


@register
class LowPass(_CutoffFilter):
    """Attenuate above ``cutoff_hz`` (Hz): a first-order (6 dB/octave) low-pass filter."""

    name = "lowpass"
    params = ("cutoff_hz",)

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.LowpassFilter(cutoff_frequency_hz=self.cutoff_hz)


class _GainFilter(_CutoffFilter):
    """A filter with a cutoff (Hz), a gain (dB) and a quality factor."""

    def __init__(self, *, cutoff_hz: float, gain_db: float, q: float = DEFAULT_Q) -> None:
        self.gain_db = check_number(self.name, "gain_db", gain_db, unit="dB",
                                    ge=-MAX_GAIN_DB, le=MAX_GAIN_DB)
        self.q = check_number(self.name, "q", q, gt=0, le=MAX_Q)
        super().__init__(cutoff_hz=cutoff_hz)


@register
class PeakEQ(_GainFilter):
    """Boost or cut by ``gain_db`` (dB) around ``cutoff_hz`` (Hz), bandwidth set by ``q``."""

    name = "peak_eq"
    params = ("cutoff_hz", "gain_db", "q")

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.PeakFilter(cutoff_frequency_hz=self.cutoff_hz, gain_db=self.gain_db,
                                     q=self.q)


@register
class LowShelf(_GainFilter):
    """Boost or cut everything below ``cutoff_hz`` (Hz) by ``gain_db`` (dB)."""

    name = "low_shelf"
    params = ("cutoff_hz", "gain_db", "q")

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.LowShelfFilter(cutoff_frequency_hz=self.cutoff_hz,
                                         gain_db=self.gain_db, q=self.q)


@register
class HighShelf(_GainFilter):
    """Boost or cut everything above ``cutoff_hz`` (Hz) by ``gain_db`` (dB)."""

    name = "high_shelf"
    params = ("cutoff_hz", "gain_db", "q")

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.HighShelfFilter(cutoff_frequency_hz=self.cutoff_hz,
                                          gain_db=self.gain_db, q=self.q)


def highpass(audio: Audio, *, cutoff_hz: float) -> Audio:
    """Apply :class:`HighPass` (``cutoff_hz`` in Hz) to the whole signal."""
    return HighPass(cutoff_hz=cutoff_hz)(audio)


def lowpass(audio: Audio, *, cutoff_hz: float) -> Audio:
    """Apply :class:`LowPass` (``cutoff_hz`` in Hz) to the whole signal."""
    return LowPass(cutoff_hz=cutoff_hz)(audio)


def peak_eq(audio: Audio, *, cutoff_hz: float, gain_db: float, q: float = DEFAULT_Q) -> Audio:
    """Apply :class:`PeakEQ` (Hz, dB, Q) to the whole signal."""
    return PeakEQ(cutoff_hz=cutoff_hz, gain_db=gain_db, q=q)(audio)


def low_shelf(audio: Audio, *, cutoff_hz: float, gain_db: float, q: float = DEFAULT_Q) -> Audio:
    """Apply :class:`LowShelf` (Hz, dB, Q) to the whole signal."""
    return LowShelf(cutoff_hz=cutoff_hz, gain_db=gain_db, q=q)(audio)


def high_shelf(audio: Audio, *, cutoff_hz: float, gain_db: float, q: float = DEFAULT_Q) -> Audio:
    """Apply :class:`HighShelf` (Hz, dB, Q) to the whole signal."""
    return HighShelf(cutoff_hz=cutoff_hz, gain_db=gain_db, q=q)(audio)
