"""Level: gain, polarity inversion, and normalisation to a peak or a loudness target.

Gain and inversion are a multiply, written in NumPy (no dependency earns its place for that);
they are streamable. Normalisation measures the whole signal first, so it is not streamable.
Loudness and true peak are measured by :mod:`wavesmith.analysis.loudness` (ITU-R BS.1770-4,
checked against the EBU Tech 3341/3342 cases), so ``wavesmith analyze`` reads back exactly the
target that normalisation aimed at. Peaks over the true-peak ceiling are lowered by a
small look-ahead limiter written here (reason in :func:`_limit_true_peak`).
"""

from __future__ import annotations

import math

import numpy as np

from wavesmith.audio import Audio
from wavesmith.edit.effect import Effect, check_number, register
from wavesmith.errors import AudioValueError

__all__ = [
    "Gain",
    "Invert",
    "LoudnessNormalize",
    "PeakNormalize",
    "gain",
    "invert",
    "loudness_normalize",
    "peak_normalize",
]

MAX_GAIN_DB = 96.0                  # dB; larger gains are a unit mistake
MIN_TARGET_LUFS = -70.0             # LUFS; BS.1770's absolute gate
DEFAULT_TRUE_PEAK_DBTP = -1.0       # dBTP; EBU R128 streaming ceiling
TRUE_PEAK_OVERSAMPLING = 4          # x; BS.1770-4 Annex 2 (4x at 48 kHz)
MIN_LOUDNESS_S = 0.4                # seconds; one BS.1770 gating block
LOUDNESS_ROUNDS = 6                 # gain/limit rounds to reach the target under the ceiling
LOUDNESS_TOLERANCE_LU = 0.05        # LU; close enough to the target to stop
LIMITER_HOLD_S = 0.020              # seconds a gain reduction is held either side of a peak
LIMITER_RAMP_S = 0.005              # seconds over which the limiter's gain ramps
LIMITER_PASSES = 3                  # limiter passes (gain modulation can re-raise a peak)
TRUE_PEAK_TOLERANCE = 10 ** (0.01 / 20)  # x; 0.01 dB of slack on the ceiling


def _db_to_gain(db: float) -> np.float32:
    return np.float32(10.0 ** (db / 20.0))


@register
class Gain(Effect):
    """Multiply the signal by ``gain_db`` (dB; positive boosts, negative attenuates).

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.edit import Gain
    >>> y = Gain(gain_db=-6.0)(Audio(np.full((1, 4), 0.5, np.float32), 8_000))
    >>> round(float(y.samples[0, 0]), 4)
    0.2506
    """

    name = "gain"
    params = ("gain_db",)

    def __init__(self, *, gain_db: float) -> None:
        self.gain_db = check_number(self.name, "gain_db", gain_db, unit="dB",
                                    ge=-MAX_GAIN_DB, le=MAX_GAIN_DB)
        super().__init__()

    def _process(self, audio: Audio) -> Audio:
        return Audio(audio.samples * _db_to_gain(self.gain_db), audio.sample_rate)


@register
class Invert(Effect):
    """Flip the polarity (multiply by -1)."""

    name = "invert"
    params = ()

    def _process(self, audio: Audio) -> Audio:
        return Audio(-audio.samples, audio.sample_rate)


@register
class PeakNormalize(Effect):
    """Scale so that the sample peak over all channels is ``target_dbfs`` (dBFS, <= 0).

    Not streamable: the peak of the whole signal is needed first.
    """

    name = "peak_normalize"
    params = ("target_dbfs",)
    streamable = False
    whole_signal_reason = "the peak of the whole signal is measured first"

    def __init__(self, *, target_dbfs: float = -1.0) -> None:
        self.target_dbfs = check_number(self.name, "target_dbfs", target_dbfs, unit="dBFS",
                                        ge=-MAX_GAIN_DB, le=0)
        super().__init__()

    def _process(self, audio: Audio) -> Audio:
        peak = audio.peak_dbfs
        if not math.isfinite(peak):
            raise AudioValueError(f"{self.name}: audio is silent (peak -inf dBFS); "
                                  "nothing to normalise")
        return Audio(audio.samples * _db_to_gain(self.target_dbfs - peak), audio.sample_rate)


def _true_peak_per_frame(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per-frame true peak (linear) over all channels: max of the 4x oversampled values."""
    import soxr

    up = soxr.resample(x.T, sample_rate, sample_rate * TRUE_PEAK_OVERSAMPLING, quality="HQ")
    up = np.abs(up.reshape(up.shape[0], -1)).max(axis=1)
    frames = x.shape[1]
    need = frames * TRUE_PEAK_OVERSAMPLING
    up = np.pad(up[:need], (0, max(0, need - up.shape[0])))
    return np.maximum(up.reshape(frames, TRUE_PEAK_OVERSAMPLING).max(axis=1),
                      np.abs(x).max(axis=0))


def _limit_true_peak(x: np.ndarray, sample_rate: int, ceiling_dbtp: float) -> np.ndarray:
    """Look-ahead limiter holding the true peak of ``x`` (channels, frames) under a ceiling.

    Own code, not pedalboard's Limiter: JUCE's limiter adds make-up gain and hard-clips at
    0 dBFS, so it cannot hold a true-peak ceiling (a -1 dB threshold gave +0.6 dBTP on
    cmu_arctic_us_aew_a0001 at -16 LUFS). The gain curve is the required gain, minimum-held
    for LIMITER_HOLD_S either side, then averaged over LIMITER_RAMP_S either side; a mean of
    values that are each <= the requirement is <= the requirement, so no frame overshoots,
    and gain changes are smooth ramps rather than clipping.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    hold = max(1, round(LIMITER_HOLD_S * sample_rate))
    ramp = max(1, min(hold, round(LIMITER_RAMP_S * sample_rate)))
    y = x
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    for _ in range(LIMITER_PASSES):
        peak = _true_peak_per_frame(y, sample_rate)
        if peak.max() <= ceiling * TRUE_PEAK_TOLERANCE:
            break
        need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
        held = minimum_filter1d(need, size=2 * hold + 1, mode="nearest")
        g = uniform_filter1d(held, size=2 * ramp + 1, mode="nearest")
        y = (y * np.minimum(g, held.max())).astype(np.float32)
    return y


@register
class LoudnessNormalize(Effect):
    """Scale to an integrated loudness of ``target_lufs`` (LUFS) under a true-peak ceiling.

    The gain is ``target_lufs - measured`` (BS.1770-4 integrated loudness). Where
    that would put the true peak above ``true_peak_dbtp`` (dBTP), a look-ahead limiter lowers
    those peaks (smooth 5 ms gain ramps, no clipping) and the gain is re-adjusted (secant
    steps, at most ``LOUDNESS_ROUNDS``) until the loudness is within 0.05 LU of the target,
    with the true peak under the ceiling. High-crest-factor signals are limited, never
    clipped.

    Not streamable: the loudness of the whole signal is measured first.
    """

    name = "loudness_normalize"
    params = ("target_lufs", "true_peak_dbtp")
    streamable = False
    whole_signal_reason = "the loudness of the whole signal is measured first"

    def __init__(self, *, target_lufs: float = -16.0,
                 true_peak_dbtp: float = DEFAULT_TRUE_PEAK_DBTP) -> None:
        self.target_lufs = check_number(self.name, "target_lufs", target_lufs, unit="LUFS",
                                        ge=MIN_TARGET_LUFS, le=0)
        self.true_peak_dbtp = check_number(self.name, "true_peak_dbtp", true_peak_dbtp,
                                           unit="dBTP", ge=-MAX_GAIN_DB, le=0)
        super().__init__()

    def _process(self, audio: Audio) -> Audio:
        if audio.duration_s < MIN_LOUDNESS_S:
            raise AudioValueError(
                f"{self.name}: audio is {audio.duration_s:.3f} s; integrated loudness needs "
                f"at least {MIN_LOUDNESS_S} s"
            )
        # local import: measuring needs scipy, which `import wavesmith.edit` should not load
        from wavesmith.analysis.loudness import integrated_loudness, true_peak

        measured = integrated_loudness(audio)
        if not math.isfinite(measured):
            raise AudioValueError(f"{self.name}: audio is silent (loudness -inf LUFS); "
                                  "nothing to normalise")
        gain_db = self.target_lufs - measured
        rate = audio.sample_rate
        previous: tuple[float, float] | None = None   # (gain dB, loudness LUFS) of last round
        for _ in range(LOUDNESS_ROUNDS):
            y = audio.samples * _db_to_gain(gain_db)
            if true_peak(Audio(y, rate)) > self.true_peak_dbtp:
                y = _limit_true_peak(y, rate, self.true_peak_dbtp)
            loudness = integrated_loudness(Audio(y, rate))
            error = self.target_lufs - loudness
            if abs(error) <= LOUDNESS_TOLERANCE_LU:
                break
            # secant step: limiting makes loudness grow slower than the gain (slope < 1)
            slope = 1.0
            if previous is not None and gain_db != previous[0]:
                slope = min(1.0, max(0.05, (loudness - previous[1]) / (gain_db - previous[0])))
            previous = (gain_db, loudness)
            gain_db += error / slope
        return Audio(y, audio.sample_rate)


def gain(audio: Audio, *, gain_db: float) -> Audio:
    """Apply :class:`Gain` (``gain_db`` in dB)."""
    return Gain(gain_db=gain_db)(audio)


def invert(audio: Audio) -> Audio:
    """Apply :class:`Invert` (polarity flip)."""
    return Invert()(audio)


def peak_normalize(audio: Audio, *, target_dbfs: float = -1.0) -> Audio:
    """Apply :class:`PeakNormalize` (``target_dbfs`` in dBFS)."""
    return PeakNormalize(target_dbfs=target_dbfs)(audio)


def loudness_normalize(audio: Audio, *, target_lufs: float = -16.0,
                       true_peak_dbtp: float = DEFAULT_TRUE_PEAK_DBTP) -> Audio:
    """Apply :class:`LoudnessNormalize` (LUFS target, dBTP ceiling)."""
    return LoudnessNormalize(target_lufs=target_lufs, true_peak_dbtp=true_peak_dbtp)(audio)
