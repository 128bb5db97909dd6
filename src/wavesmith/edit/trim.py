"""Cutting by time and by content.

:class:`Trim` keeps a time range, :class:`Cut` removes one, :class:`TrimSilence` removes edge
silence by level, and :class:`StripSilence` keeps only the speech found by voice activity
detection (:mod:`wavesmith.edit.vad`).
"""

from __future__ import annotations

import numpy as np

from wavesmith.audio import Audio
from wavesmith.edit.effect import Effect, check_number, register
from wavesmith.edit.vad import (
    SpeechDetector,
    SpeechSegment,
    check_max_speech,
    check_vad_params,
)
from wavesmith.errors import AudioValueError

__all__ = ["Cut", "StripSilence", "Trim", "TrimSilence", "cut", "strip_silence", "trim",
           "trim_silence"]

STRIP_FADE_S = 0.005   # seconds; default fade at each cut of strip_silence (no clicks)


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
class Cut(Effect):
    """Remove the audio between ``start_s`` and ``end_s`` seconds and join the rest.

    ``end_s=None`` removes everything after ``start_s``. Times are rounded to the nearest
    frame; the join is a plain splice (no crossfade). Streamable, like :class:`Trim`: a
    ``start_s`` or ``end_s`` past the end of the stream is reported by :meth:`flush`.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.edit import Cut
    >>> Cut(start_s=1.0, end_s=2.5)(Audio(np.zeros((1, 48_000 * 4), np.float32), 48_000))
    Audio(channels=1, frames=120000, sample_rate=48000, duration=2.500 s)
    """

    name = "cut"
    params = ("start_s", "end_s")

    def __init__(self, *, start_s: float = 0.0, end_s: float | None = None) -> None:
        self.start_s = check_number(self.name, "start_s", start_s, unit="s", ge=0)
        self.end_s = None if end_s is None else check_number(
            self.name, "end_s", end_s, unit="s", gt=self.start_s)
        self._done = 0   # frames of input seen since the stream started
        super().__init__()

    def _reset(self) -> None:
        self._done = 0

    def process(self, audio: Audio, *, reset: bool = True) -> Audio:
        out = super().process(audio, reset=reset)
        if reset:
            _check_range(self.name, self.start_s, self.end_s, self._done, audio.sample_rate)
        return out

    def _process(self, audio: Audio) -> Audio:
        rate = audio.sample_rate
        first = round(self.start_s * rate) - self._done
        last = audio.frames if self.end_s is None else round(self.end_s * rate) - self._done
        first, last = min(max(first, 0), audio.frames), min(max(last, 0), audio.frames)
        self._done += audio.frames
        if (first == 0 and last == 0) or first == audio.frames:
            return audio
        return Audio(np.concatenate([audio.samples[:, :first], audio.samples[:, last:]],
                                    axis=1), rate)

    def flush(self) -> None:
        """Check the stream reached ``start_s`` and ``end_s``; nothing is held back."""
        if self._rate is not None:
            _check_range(self.name, self.start_s, self.end_s, self._done, self._rate)
        return None


def _check_range(name: str, start_s: float, end_s: float | None, frames: int,
                 rate: int) -> None:
    duration = frames / rate
    if round(start_s * rate) >= frames:
        raise AudioValueError(f"{name}: start_s={start_s:g} s is at or past the end of the "
                              f"audio (duration {duration:.3f} s)")
    if end_s is not None and round(end_s * rate) > frames:
        raise AudioValueError(f"{name}: end_s={end_s:g} s is past the end of the audio "
                              f"(duration {duration:.3f} s)")


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


@register
class StripSilence(Effect):
    """Keep only the speech: cut out everything voice activity detection calls non-speech.

    Segments come from :class:`~wavesmith.edit.vad.SpeechDetector` (see
    :func:`~wavesmith.edit.detect_speech` for the parameters); they keep their ``pad_s``
    padding and are joined in order. Each join is faded out and in over ``fade_s`` seconds so
    it does not click (not at the very start or end of the audio, nor where two segments
    touch). Silence-only input gives an empty output.

    Streamable: the input is held only until the detector has decided about it, so memory is
    about the longest speech segment plus ~1 s (``energy``: ~3.5 s), whatever the length of
    the file; the streamed output equals the whole-signal output.

    Parameters
    ----------
    method : {"silero", "webrtc", "energy"}, default "silero"
    threshold : float, default 0.5
        Frame speech score (0-1) at which speech starts.
    min_speech_s, min_silence_s, pad_s : float
        Seconds; as in :func:`~wavesmith.edit.detect_speech` (defaults 0.25, 0.1, 0.03).
    max_speech_s : float or None, default None
        Longest segment in seconds (``None``: no limit); longer speech is split at its last
        pause of more than 0.098 s, as in :func:`~wavesmith.edit.detect_speech`. Pieces of a
        hard cut touch, so they are kept as one; a split at a pause cuts the pause out.
    fade_s : float, default 0.005
        Seconds of fade at each join.
    """

    name = "strip_silence"
    params = ("method", "threshold", "min_speech_s", "min_silence_s", "pad_s", "max_speech_s",
              "fade_s")

    def __init__(self, *, method: str = "silero", threshold: float = 0.5,
                 min_speech_s: float = 0.25, min_silence_s: float = 0.1, pad_s: float = 0.03,
                 max_speech_s: float | None = None, fade_s: float = STRIP_FADE_S) -> None:
        (self.method, self.threshold, self.min_speech_s, self.min_silence_s,
         self.pad_s) = check_vad_params(self.name, method, threshold, min_speech_s,
                                        min_silence_s, pad_s)
        self.max_speech_s = check_max_speech(self.name, max_speech_s, self.min_speech_s,
                                             self.pad_s)
        self.fade_s = check_number(self.name, "fade_s", fade_s, unit="s", ge=0)
        self._reset()
        super().__init__()

    def _reset(self) -> None:
        self._detector: SpeechDetector | None = None
        self._held = np.zeros((1, 0), np.float32)  # input from frame self._held_first on
        self._held_first = 0
        self._frames_in = 0
        self._piece: list[int] | None = None       # [first, last) frames of the next output
        self._segments: list[SpeechSegment] = []   # everything found in this stream

    @property
    def segments(self) -> list[SpeechSegment]:
        """The speech segments kept in the current (or last) stream."""
        return list(self._segments)

    def _start(self, sample_rate: int, channels: int) -> None:
        self._detector = SpeechDetector(method=self.method, threshold=self.threshold,
                                        min_speech_s=self.min_speech_s,
                                        min_silence_s=self.min_silence_s, pad_s=self.pad_s,
                                        max_speech_s=self.max_speech_s)
        self._held = np.zeros((channels, 0), np.float32)

    def process(self, audio: Audio, *, reset: bool = True) -> Audio:
        out = super().process(audio, reset=reset)
        if not reset:
            return out
        rest = self.flush()
        return out if rest is None else Audio(np.concatenate([out.samples, rest.samples], 1),
                                              out.sample_rate)

    def _process(self, audio: Audio) -> Audio:
        assert self._detector is not None
        self._held = np.concatenate([self._held, audio.samples], axis=1)
        self._frames_in += audio.frames
        found = self._detector.process(audio)
        return self._take(found, audio.sample_rate, final=False)

    def flush(self) -> Audio | None:
        """End the stream: return the speech still held back."""
        if self._detector is None or self._rate is None:
            return None
        out = self._take(self._detector.finish(), self._rate, final=True)
        self._detector = None
        return out

    def _take(self, found: list[SpeechSegment], rate: int, *, final: bool) -> Audio:
        """Output the pieces that are complete; drop held input nothing can use any more."""
        self._segments += found
        parts = []
        for seg in found:
            first = min(round(seg.start * rate), self._frames_in)
            last = min(round(seg.end * rate), self._frames_in)
            if self._piece is not None and first <= self._piece[1]:
                self._piece[1] = max(self._piece[1], last)   # touching: one piece
                continue
            if self._piece is not None:
                parts.append(self._cut(*self._piece, rate, final=False))
            self._piece = [first, last]
        assert self._detector is not None
        decided = min(round(self._detector.decided_s * rate), self._frames_in)
        if self._piece is not None and (final or decided > self._piece[1]):
            parts.append(self._cut(*self._piece, rate, final=final))
            self._piece = None
        keep_from = decided if self._piece is None else min(decided, self._piece[0])
        drop = max(0, keep_from - self._held_first)
        self._held = self._held[:, drop:]
        self._held_first += drop
        x = np.concatenate(parts, axis=1) if parts else self._held[:, :0]
        return Audio(np.ascontiguousarray(x, dtype=np.float32), rate)

    def _cut(self, first: int, last: int, rate: int, *, final: bool) -> np.ndarray:
        x = self._held[:, first - self._held_first:last - self._held_first].copy()
        n = min(round(self.fade_s * rate), x.shape[1] // 2)
        if n > 0:
            ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)
            if first > 0:
                x[:, :n] *= ramp
            if not (final and last >= self._frames_in):
                x[:, -n:] *= ramp[::-1]
        return x


def trim(audio: Audio, *, start_s: float = 0.0, end_s: float | None = None) -> Audio:
    """Apply :class:`Trim` (seconds)."""
    return Trim(start_s=start_s, end_s=end_s)(audio)


def trim_silence(audio: Audio, *, threshold_db: float = -60.0,
                 min_silence_s: float = 0.25) -> Audio:
    """Apply :class:`TrimSilence` (dBFS, seconds)."""
    return TrimSilence(threshold_db=threshold_db, min_silence_s=min_silence_s)(audio)


def cut(audio: Audio, *, start_s: float = 0.0, end_s: float | None = None) -> Audio:
    """Apply :class:`Cut`: remove ``start_s`` to ``end_s`` (seconds)."""
    return Cut(start_s=start_s, end_s=end_s)(audio)


def strip_silence(audio: Audio, *, method: str = "silero", threshold: float = 0.5,
                  min_speech_s: float = 0.25, min_silence_s: float = 0.1, pad_s: float = 0.03,
                  max_speech_s: float | None = None, fade_s: float = STRIP_FADE_S) -> Audio:
    """Apply :class:`StripSilence` (keep the speech found by VAD; seconds)."""
    return StripSilence(method=method, threshold=threshold, min_speech_s=min_speech_s,
                        min_silence_s=min_silence_s, pad_s=pad_s, max_speech_s=max_speech_s,
                        fade_s=fade_s)(audio)
