"""Spectral-gating noise reduction (noisereduce).

noisereduce is used because it is the maintained Python implementation of spectral gating
(Sainburg et al. 2020), with both a stationary mode (one noise profile for the whole signal)
and a non-stationary one (a noise floor tracked over time). Neural denoisers are a later slice
of the editing issue.
"""

from __future__ import annotations

import numpy as np

from wavesmith.audio import Audio
from wavesmith.edit.effect import Effect, check_number, register
from wavesmith.errors import AudioValueError

__all__ = ["Denoise", "denoise"]

MIN_DENOISE_S = 0.1   # seconds; shorter inputs give noisereduce too few STFT frames


@register
class Denoise(Effect):
    """Reduce background noise by spectral gating.

    Parameters
    ----------
    stationary : bool, default False
        ``True`` estimates one noise spectrum from the whole signal (steady hum, fan, hiss);
        ``False`` tracks the noise floor over time (``time_constant_s``), for changing noise.
    prop_decrease : float, default 1.0
        Fraction (0-1) by which noise is reduced; 1.0 removes all that the gate finds.
    time_constant_s : float, default 2.0
        Seconds over which the non-stationary noise floor is estimated.

    Not streamable: the noise statistics come from the whole signal.
    """

    name = "denoise"
    params = ("stationary", "prop_decrease", "time_constant_s")
    streamable = False
    whole_signal_reason = "the noise statistics come from the whole signal"

    def __init__(self, *, stationary: bool = False, prop_decrease: float = 1.0,
                 time_constant_s: float = 2.0) -> None:
        if not isinstance(stationary, bool):
            raise AudioValueError(f"{self.name}: stationary={stationary!r} must be true or false")
        self.stationary = stationary
        self.prop_decrease = check_number(self.name, "prop_decrease", prop_decrease, ge=0, le=1)
        self.time_constant_s = check_number(self.name, "time_constant_s", time_constant_s,
                                            unit="s", gt=0)
        super().__init__()

    def _process(self, audio: Audio) -> Audio:
        import noisereduce  # local import: heavy (pulls in scipy.signal, joblib)

        if audio.duration_s < MIN_DENOISE_S:
            raise AudioValueError(f"{self.name}: audio is {audio.duration_s:.3f} s; "
                                  f"at least {MIN_DENOISE_S} s is needed")
        y = noisereduce.reduce_noise(y=audio.samples, sr=audio.sample_rate,
                                     stationary=self.stationary,
                                     prop_decrease=self.prop_decrease,
                                     time_constant_s=self.time_constant_s)
        y = np.asarray(y, dtype=np.float32).reshape(audio.channels, -1)
        return Audio(np.ascontiguousarray(y), audio.sample_rate)


def denoise(audio: Audio, *, stationary: bool = False, prop_decrease: float = 1.0,
            time_constant_s: float = 2.0) -> Audio:
    """Apply :class:`Denoise` (spectral gating)."""
    return Denoise(stationary=stationary, prop_decrease=prop_decrease,
                   time_constant_s=time_constant_s)(audio)
