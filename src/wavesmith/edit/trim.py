"""Cutting: keep a time range (:class:`Trim`) or remove edge silence (:class:`TrimSilence`)."""

from __future__ import annotations

import numpy as np

from wavesmith.audio import Audio
from wavesmith.edit.effect import Effect, check_number, register
from wavesmith.errors import AudioValueError

__all__ = ["Trim", "TrimSilence", "trim", "trim_silence"]


@register
class Trim(Effect):
    """Keep the audio between ``start_s`` and ``end_s`` seconds (end exclusive).

    ``end_s=None`` keeps everything after ``start_s``. Times are rounded to the nearest frame.
    Streamable: frames are counted from the start of the stream, and an ``end_s`` past the end
    of the stream is reported by :meth:`flush` (so :func:`~wavesmith.edit.apply_file` writes
    nothing).

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.edit import Trim
    >>> Trim(start_s=1.0, end_s=2.5)(Audio(np.zeros((1, 48_000 * 4), np.float32), 48_000))
    Audio(channels=1, frames=72000, sample_rate=48000, duration=1.500 s)
    """

    name = "trim"
    params = ("start_s", "end_s")

    def __init__(self, *, start_s: float = 0.0, end_s: float | None = None) -> None:
        self.start_s = check_number(self.name, "start_s", start_s, unit="s", ge=0)
        self.end_s = None if end_s is None else check_number(
            self.name, "end_s", end_s, unit="s", gt=self.start_s)
        self._done = 0   # frames of input seen since the stream started
        super().__init__()

    def _reset(self) -> None:
        self._done = 0

    def _bounds(self, rate: int) -> tuple[int, int | None]:
        first = round(self.start_s * rate)
        return first, None if self.end_s is None else round(self.end_s * rate)

    def process(self, audio: Audio, *, reset: bool = True) -> Audio:
        out = super().process(audio, reset=reset)
        if reset:
            self._check_reached(audio.sample_rate)
        return out

    def _process(self, audio: Audio) -> Audio:
        first, last = self._bounds(audio.sample_rate)
        lo = max(first - self._done, 0)
        hi = audio.frames if last is None else min(max(last - self._done, 0), audio.frames)
        self._done += audio.frames
        return Audio(audio.samples[:, lo:max(lo, hi)], audio.sample_rate)

    def _check_reached(self, rate: int) -> None:
        first, last = self._bounds(rate)
        duration = self._done / rate
        if first >= self._done:
            raise AudioValueError(f"{self.name}: start_s={self.start_s:g} s is at or past the "
                                  f"end of the audio (duration {duration:.3f} s)")
        if last is not None and last > self._done:
            raise AudioValueError(f"{self.name}: end_s={self.end_s:g} s is past the end of "
                                  f"the audio (duration {duration:.3f} s)")

    def flush(self) -> None:
        """Check the stream reached ``start_s`` and ``end_s``; nothing is held back."""
        if self._rate is not None:
            self._check_reached(self._rate)
        return None


@register
class TrimSilence(Effect):
    """Remove leading and trailing silence.

    A frame is silent when its peak level across all channels is below ``threshold_db``
    (dBFS, <= 0). Edge silences shorter than ``min_silence_s`` seconds are kept; interior
    silence is always kept. An all-silent input gives an empty output. Not streamable: the
    last sound's position is known only at the end.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.edit import trim_silence
    >>> x = np.zeros((1, 96_000), dtype=np.float32)
    >>> x[0, 24_000:72_000] = 0.5
    >>> trim_silence(Audio(x, 48_000)).duration_s
    1.0
    """

    name = "trim_silence"
    params = ("threshold_db", "min_silence_s")
    streamable = False
    whole_signal_reason = "the end of the last sound is known only at the end"

    def __init__(self, *, threshold_db: float = -60.0, min_silence_s: float = 0.25) -> None:
        self.threshold_db = check_number(self.name, "threshold_db", threshold_db, unit="dBFS",
                                         le=0)
        self.min_silence_s = check_number(self.name, "min_silence_s", min_silence_s, unit="s",
                                          ge=0)
        super().__init__()

    def _process(self, audio: Audio) -> Audio:
        level = np.float32(10.0 ** (self.threshold_db / 20.0))
        loud = np.flatnonzero(np.max(np.abs(audio.samples), axis=0) >= level)
        if loud.size == 0:
            return Audio(audio.samples[:, :0], audio.sample_rate)
        min_frames = round(self.min_silence_s * audio.sample_rate)
        first, last = int(loud[0]), int(loud[-1]) + 1
        first = first if first >= min_frames else 0
        last = last if audio.frames - last >= min_frames else audio.frames
        return Audio(audio.samples[:, first:last], audio.sample_rate)


def trim(audio: Audio, *, start_s: float = 0.0, end_s: float | None = None) -> Audio:
    """Apply :class:`Trim` (seconds)."""
    return Trim(start_s=start_s, end_s=end_s)(audio)


def trim_silence(audio: Audio, *, threshold_db: float = -60.0,
                 min_silence_s: float = 0.25) -> Audio:
    """Apply :class:`TrimSilence` (dBFS, seconds)."""
    return TrimSilence(threshold_db=threshold_db, min_silence_s=min_silence_s)(audio)
