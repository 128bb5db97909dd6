"""Fades in and out with a linear, equal-power or logarithmic gain curve."""

from __future__ import annotations

import numpy as np

from wavesmith.audio import Audio
from wavesmith.edit.effect import Effect, check_choice, check_number, register
from wavesmith.errors import AudioValueError

__all__ = ["FADE_SHAPES", "Fade", "fade"]

FADE_SHAPES = ("linear", "equal-power", "log")
LOG_FADE_FLOOR_DB = -60.0   # dB; a "log" fade rises linearly in dB from here to 0 dB


def fade_curve(frames: int, shape: str) -> np.ndarray:
    """Rising gain curve of ``frames`` values from 0 towards 1 (float32).

    ``t = i / frames`` for frame ``i``: linear is ``t``; equal-power is ``sin(pi t / 2)``
    (constant power when crossfaded with its mirror); log is linear in dB from
    ``LOG_FADE_FLOOR_DB`` to 0 dB, with the first frame at 0.
    """
    t = np.arange(frames, dtype=np.float64) / max(frames, 1)
    if shape == "linear":
        g = t
    elif shape == "equal-power":
        g = np.sin(0.5 * np.pi * t)
    else:
        g = 10.0 ** (LOG_FADE_FLOOR_DB * (1.0 - t) / 20.0)
        g[:1] = 0.0
    return g.astype(np.float32)


@register
class Fade(Effect):
    """Fade in over ``fade_in_s`` and out over ``fade_out_s`` seconds.

    ``shape`` is ``"linear"``, ``"equal-power"`` or ``"log"`` (see :func:`fade_curve`). A
    fade-in alone is streamable (frames are counted from the start of the stream); a fade-out
    needs to know where the signal ends, so a ``Fade`` with ``fade_out_s > 0`` is not. A
    fade-in longer than the audio fades it only partly; a fade-out longer is an error.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.edit import Fade
    >>> y = Fade(fade_in_s=0.002)(Audio(np.ones((1, 6), np.float32), 2_000))
    >>> y.samples.tolist()
    [[0.0, 0.25, 0.5, 0.75, 1.0, 1.0]]
    """

    name = "fade"
    params = ("fade_in_s", "fade_out_s", "shape")
    whole_signal_reason = "a fade-out needs to know where the signal ends"

    def __init__(self, *, fade_in_s: float = 0.0, fade_out_s: float = 0.0,
                 shape: str = "linear") -> None:
        self.fade_in_s = check_number(self.name, "fade_in_s", fade_in_s, unit="s", ge=0)
        self.fade_out_s = check_number(self.name, "fade_out_s", fade_out_s, unit="s", ge=0)
        self.shape = check_choice(self.name, "shape", shape, FADE_SHAPES)
        self._done = 0  # frames processed since the stream started
        super().__init__()

    @property  # type: ignore[override]
    def streamable(self) -> bool:  # type: ignore[override]
        """Only a fade-in can stream."""
        return self.fade_out_s == 0

    def _reset(self) -> None:
        self._done = 0

    def _process(self, audio: Audio) -> Audio:
        rate = audio.sample_rate
        n_in, n_out = round(self.fade_in_s * rate), round(self.fade_out_s * rate)
        if self.fade_out_s and n_out > audio.frames:
            raise AudioValueError(f"{self.name}: fade_out_s={self.fade_out_s:g} s is longer "
                                  f"than the audio ({audio.duration_s:.3f} s)")
        x = audio.samples.copy()
        start = self._done
        if start < n_in:
            stop = min(n_in, start + audio.frames)
            x[:, : stop - start] *= fade_curve(n_in, self.shape)[start:stop]
        if n_out:
            x[:, audio.frames - n_out:] *= fade_curve(n_out, self.shape)[::-1]
        self._done += audio.frames
        return Audio(x, rate)


def fade(audio: Audio, *, fade_in_s: float = 0.0, fade_out_s: float = 0.0,
         shape: str = "linear") -> Audio:
    """Apply :class:`Fade` (seconds; shape linear, equal-power or log)."""
    return Fade(fade_in_s=fade_in_s, fade_out_s=fade_out_s, shape=shape)(audio)
