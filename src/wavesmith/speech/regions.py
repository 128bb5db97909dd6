"""Speech regions of a 16 kHz mono stream, in bounded memory: the VAD stage shared by
long-file transcription (:mod:`wavesmith.speech.longform`) and streaming
(:mod:`wavesmith.speech.stream`).

:class:`SpeechRegions` feeds the samples to :class:`wavesmith.edit.vad.SpeechDetector`
(Silero VAD; speech padded by ``pad_s`` on each side, neighbours sharing their gap) and keeps
only the audio that a region still to come may need. Speech that runs on for
``max_region_s`` is cut at its quietest :data:`CUT_FRAME_S` frame in the last
:data:`CUT_SEARCH_S` seconds, so memory stays below about ``max_region_s`` of audio
(``max_region_s × 16000 × 4`` bytes) whatever the input's length, even for music or babble
that the VAD takes for endless speech. The VAD sees :data:`EDGE_PAD_S` of silence before
the stream and after its end, so speech cut at the very start or end is still found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wavesmith.audio import Audio
from wavesmith.errors import AudioValueError
from wavesmith.speech.asr import ENGINE_SAMPLE_RATE_HZ

__all__ = ["CUT_FRAME_S", "CUT_SEARCH_S", "RATE_HZ", "Region", "SpeechRegions"]

RATE_HZ = ENGINE_SAMPLE_RATE_HZ  # Hz of the samples pushed in
CUT_SEARCH_S = 5.0               # seconds before max_region_s searched for a cut point
CUT_FRAME_S = 0.1                # seconds per energy frame when choosing the cut point
EDGE_PAD_S = 0.25                # seconds of digital silence the VAD sees before the first
                                 # and after the last sample: Silero misses speech that starts
                                 # right at the first frame (29 of 100 FSDD digits at 0 s,
                                 # 5 of 100 with 0.25 s)


@dataclass(frozen=True, slots=True)
class Region:
    """Speech (with its padding) at ``start`` frames from the stream start, 16 kHz mono."""

    start: int                 # frames at RATE_HZ
    samples: np.ndarray        # float32, shape (frames,)

    @property
    def start_s(self) -> float:
        """Start in seconds."""
        return self.start / RATE_HZ

    @property
    def end_s(self) -> float:
        """End in seconds."""
        return (self.start + len(self.samples)) / RATE_HZ

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / RATE_HZ


class SpeechRegions:
    """Push 16 kHz mono samples, get back the speech regions they complete.

    Parameters are those of :func:`wavesmith.edit.vad.detect_speech` (seconds), plus
    ``max_region_s``, the longest region returned (>= 2 × :data:`CUT_SEARCH_S`).
    """

    def __init__(self, *, threshold: float = 0.5, min_speech_s: float = 0.25,
                 min_silence_s: float = 0.5, pad_s: float = 0.2,
                 max_region_s: float = 30.0) -> None:
        from wavesmith.edit.vad import SpeechDetector  # lazy: onnxruntime + Silero model

        if max_region_s < 2 * CUT_SEARCH_S:
            raise AudioValueError(f"max_region_s={max_region_s} s must be >= "
                                  f"{2 * CUT_SEARCH_S:g} s")
        self._detector = SpeechDetector(method="silero", threshold=threshold,
                                        min_speech_s=min_speech_s,
                                        min_silence_s=min_silence_s, pad_s=pad_s)
        self.pad_s, self.min_speech_s = pad_s, min_speech_s
        self.max_region = round(max_region_s * RATE_HZ)
        self._buf = np.zeros(0, np.float32)  # samples from stream frame _buf_start on
        self._buf_start = 0
        self._done = 0                        # frame before which every region is returned
        self._lead = round(EDGE_PAD_S * RATE_HZ)  # frames of silence fed to the VAD first
        self._detector.process(Audio(np.zeros((1, self._lead), np.float32), RATE_HZ))

    @property
    def end(self) -> int:
        """Frames pushed so far."""
        return self._buf_start + len(self._buf)

    @property
    def buffered(self) -> int:
        """Frames of audio held now (the memory bound: about ``max_region_s`` of audio)."""
        return len(self._buf)

    def push(self, x: np.ndarray, *, final: bool = False) -> list[Region]:
        """Add samples (float32, 16 kHz mono); ``final=True`` ends the stream."""
        if len(x):
            self._buf = np.concatenate([self._buf, x]) if len(self._buf) else x
            segments = self._detector.process(Audio(x[np.newaxis, :], RATE_HZ))
        else:
            segments = []
        if final:
            tail = Audio(np.zeros((1, self._lead), np.float32), RATE_HZ)
            segments += self._detector.process(tail) + self._detector.finish()
        regions = []
        for seg in segments:
            start = max(self._frame(seg.start), self._done)
            stop = min(self._frame(seg.end), self.end)
            if stop > start:
                regions.append(self._take(start, stop))
        if not final:
            start = self.open_start()
            if start is not None and self.end - start >= self.max_region:
                regions.append(self._take(start, start + self._quiet_point(start)))
        self._trim()
        return regions

    def open_start(self) -> int | None:
        """Start frame of speech that has begun but not yet been returned, if any."""
        start = max(self._frame(self._detector.decided_s), self._done)
        if self.end - start <= round((self.pad_s + self.min_speech_s) * RATE_HZ):
            return None  # only the detector's look-back padding is undecided
        return start

    def audio(self, start: int, stop: int | None = None) -> np.ndarray:
        """Buffered samples from frame ``start`` (>= the open start) to ``stop`` (a view)."""
        stop = self.end if stop is None else stop
        return self._buf[start - self._buf_start: stop - self._buf_start]

    def _frame(self, detector_s: float) -> int:
        """Stream frame of a time on the detector's timeline (which starts with the lead)."""
        return max(round(detector_s * RATE_HZ) - self._lead, 0)

    def _take(self, start: int, stop: int) -> Region:
        self._done = max(self._done, stop)
        return Region(start, self.audio(start, stop).copy())

    def _quiet_point(self, start: int) -> int:
        """Frames from ``start`` to the middle of the quietest frame before ``max_region``."""
        hop = round(CUT_FRAME_S * RATE_HZ)
        lo = self.max_region - round(CUT_SEARCH_S * RATE_HZ)
        x = self.audio(start + lo, start + self.max_region)
        n = len(x) // hop
        energy = np.square(x[: n * hop].reshape(n, hop), dtype=np.float64).mean(axis=1)
        return lo + int(np.argmin(energy)) * hop + hop // 2

    def _trim(self) -> None:
        keep = max(min(self._frame(self._detector.decided_s), self.end), self._done)
        drop = keep - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:].copy()
            self._buf_start = keep
