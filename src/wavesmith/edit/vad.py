"""Voice activity detection: where the speech is, as :class:`SpeechSegment` (start/end, seconds).

Three methods share one front end and one segmenter:

* ``"silero"`` (default): the Silero VAD network shipped inside the ``silero-vad`` wheel
  (MIT). We run its *sequence* ONNX export (``silero_vad_16k_sequence.onnx``) directly with
  onnxruntime: one call scores a whole block of 32 ms frames, the LSTM state is carried
  between calls, and the probabilities equal the stock frame-by-frame model's bit for bit.
  onnxruntime rather than the TorchScript model because importing it costs ~0.3 s against
  ~5 s for torch on this 2-core machine (the ``silero_vad`` package itself imports torch,
  so we only locate its data folder and never import it), and the sequence call is ~4x
  faster than the per-frame loop.
* ``"webrtc"``: the WebRTC GMM detector (``webrtcvad-wheels``), 30 ms frames, binary.
* ``"energy"``: our baseline. Speech-band (100-4000 Hz) level of each 32 ms frame relative to
  a noise floor, the minimum of the smoothed level over the surrounding 5 s ("minimum
  statistics", Martin 2001). Its score is ``(level - floor) / 20 dB`` clipped to 0-1, so
  ``threshold=0.5`` means 10 dB above the floor.

Every method sees the signal mixed to mono (channel mean) and resampled to 16 kHz by a
streaming soxr resampler; that conversion is part of the detector and does not change the
timeline (segment times are seconds of the input). Frame scores go through the same
hysteresis segmenter as Silero's ``get_speech_timestamps``: speech starts at a frame scoring
``>= threshold``, ends after ``min_silence_s`` below ``threshold - 0.15``; segments shorter
than ``min_speech_s`` are dropped; each side is padded by ``pad_s`` (neighbours closer than
``2 * pad_s`` share the gap equally, so segments never overlap). With ``max_speech_s`` (for
ASR chunking; Silero's ``max_speech_duration_s``), speech running longer is split at the
last pause of more than 0.098 s inside it, or cut hard where it reaches the limit when it
has no such pause, so that no segment, padding included, is longer than ``max_speech_s``.

:class:`SpeechDetector` is the streaming object behind :func:`detect_speech` and
:func:`detect_speech_file`: feed it blocks of any length, it returns the segments finished so
far and carries its state (resampler, network state, noise floor, open segment) across
blocks, so a file of any length is processed in bounded memory and the result equals the
whole-signal result.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.audio import RESAMPLE_QUALITY, Audio, check_audio
from wavesmith.edit.effect import check_choice, check_number
from wavesmith.errors import AudioValueError, MissingToolError, SampleRateError

__all__ = [
    "VAD_METHODS",
    "VAD_RATE_HZ",
    "SpeechDetector",
    "SpeechSegment",
    "VadReport",
    "detect_speech",
    "detect_speech_file",
    "iter_speech_file",
    "speech_mask",
    "vad_file",
]

VAD_RATE_HZ = 16_000            # Hz; every method runs on 16 kHz mono
VAD_METHODS = ("silero", "webrtc", "energy")
NEG_THRESHOLD_OFFSET = 0.15     # score units; speech ends below threshold - this (as Silero)
MAX_SPEECH_MIN_SILENCE_S = 0.098    # seconds; a pause longer than this may end a segment at
                                    # max_speech_s (Silero's min_silence_samples_at_max_speech)
MAX_HOP_S = 0.032               # seconds; the longest frame of any method (Silero, energy)
DEFAULT_VAD_BLOCK_S = 30.0      # seconds per block when streaming a file or a long signal

SILERO_FRAME = 512              # frames at 16 kHz per decision (32 ms)
SILERO_CONTEXT = 64             # frames of the previous window the network sees (4 ms)
SILERO_STATE = (1, 1, 128)      # LSTM h and c shapes of the sequence export
SILERO_MODEL = "silero_vad_16k_sequence.onnx"
SILERO_MAX_FRAMES = 512         # frames per ONNX call (16.4 s; bounds transient memory)

WEBRTC_FRAME = 480              # frames at 16 kHz per decision (30 ms; 10/20/30 allowed)

ENERGY_FRAME = 512              # frames at 16 kHz per decision (32 ms)
ENERGY_BAND_HZ = (100.0, 4_000.0)   # Hz; speech band whose level is measured
ENERGY_SMOOTH = 3               # frames (~96 ms) of power averaging before the floor minimum
ENERGY_FLOOR_WINDOW = 157       # frames (~5 s) over which the floor is the minimum level
ENERGY_SPAN_DB = 20.0           # dB above the floor that maps to score 1
ENERGY_MIN_FLOOR_DBFS = -70.0   # dBFS; the floor never goes lower (digital silence)

Progress = Callable[[float, float], None]  # (seconds done, seconds total)


@dataclass(frozen=True)
class SpeechSegment:
    """One stretch of speech on the input's timeline.

    Attributes
    ----------
    start : float
        Start time in seconds.
    end : float
        End time in seconds (> ``start``).
    """

    start: float  # seconds
    end: float    # seconds

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


# -- the three frame scorers ------------------------------------------------------------------
class _SileroScorer:
    """Silero VAD probabilities for 32 ms frames; LSTM state and context carried over."""

    frame = SILERO_FRAME

    def __init__(self) -> None:
        self._session = _silero_session()
        self._h = np.zeros(SILERO_STATE, np.float32)
        self._c = np.zeros(SILERO_STATE, np.float32)
        self._context = np.zeros(SILERO_CONTEXT, np.float32)

    def score(self, frames: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(frames), SILERO_MAX_FRAMES):
            block = frames[i:i + SILERO_MAX_FRAMES]
            context = np.empty((len(block), SILERO_CONTEXT), np.float32)
            context[0] = self._context
            context[1:] = block[:-1, -SILERO_CONTEXT:]
            self._context = block[-1, -SILERO_CONTEXT:].copy()
            probs, self._h, self._c = self._session.run(
                ["speech_probs", "hn", "cn"],
                {"input": np.concatenate([context, block], axis=1), "h": self._h,
                 "c": self._c})
            out.append(np.asarray(probs, np.float32).reshape(-1))
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def finish(self) -> np.ndarray:
        return np.zeros(0, np.float32)


@functools.lru_cache(maxsize=1)
def _silero_session() -> Any:
    """The ONNX Runtime session of the Silero sequence model (loaded once per process)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise MissingToolError("vad: method 'silero' needs onnxruntime; pip install "
                               "onnxruntime (or use method='energy')") from exc
    spec = importlib.util.find_spec("silero_vad")  # locates the wheel without importing torch
    folders = list(spec.submodule_search_locations or []) if spec else []
    model = next((Path(f) / "data" / SILERO_MODEL for f in folders
                  if (Path(f) / "data" / SILERO_MODEL).is_file()), None)
    if model is None:
        raise MissingToolError(f"vad: method 'silero' needs the silero-vad package (>= 6.2, "
                               f"which ships {SILERO_MODEL}); pip install silero-vad")
    options = ort.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1   # one 32 ms frame is tiny; threads only add overhead
    return ort.InferenceSession(str(model), sess_options=options,
                                providers=["CPUExecutionProvider"])


class _WebrtcScorer:
    """WebRTC VAD decisions (0 or 1) for 30 ms frames; aggressiveness from the threshold."""

    frame = WEBRTC_FRAME

    def __init__(self, threshold: float) -> None:
        try:
            import webrtcvad
        except ImportError as exc:
            raise MissingToolError("vad: method 'webrtc' needs webrtcvad; pip install "
                                   "webrtcvad-wheels") from exc
        self._vad = webrtcvad.Vad(webrtc_mode(threshold))

    def score(self, frames: np.ndarray) -> np.ndarray:
        pcm = (np.clip(frames, -1.0, 32767 / 32768) * 32768.0).astype("<i2")
        return np.array([self._vad.is_speech(f.tobytes(), VAD_RATE_HZ) for f in pcm],
                        np.float32)

    def finish(self) -> np.ndarray:
        return np.zeros(0, np.float32)


def webrtc_mode(threshold: float) -> int:
    """WebRTC aggressiveness (0-3) used for a score ``threshold``: ``int(4 * threshold)``."""
    return min(3, int(4 * threshold))


class _EnergyScorer:
    """Speech-band level above a minimum-statistics noise floor, as a 0-1 score.

    The floor at a frame looks ``ENERGY_FLOOR_WINDOW // 2`` frames ahead, so scores come out
    that many frames (~2.5 s) late; :meth:`finish` returns the rest.
    """

    frame = ENERGY_FRAME
    _half = ENERGY_FLOOR_WINDOW // 2 + ENERGY_SMOOTH // 2   # frames of context each side

    def __init__(self) -> None:
        n = ENERGY_FRAME
        self._window = np.hanning(n).astype(np.float32)
        freqs = np.fft.rfftfreq(n, 1.0 / VAD_RATE_HZ)
        self._band = (freqs >= ENERGY_BAND_HZ[0]) & (freqs <= ENERGY_BAND_HZ[1])
        # Parseval with the window: mean square of the band-limited frame
        self._scale = 2.0 / (n * float(np.sum(self._window**2)))
        self._levels = np.zeros(0, np.float64)   # dBFS of frames kept for context
        self._first = 0        # stream index of self._levels[0]
        self._done = 0         # frames scored so far

    def _level_db(self, frames: np.ndarray) -> np.ndarray:
        spec = np.fft.rfft(frames * self._window, axis=1)
        power = self._scale * np.sum(np.abs(spec[:, self._band]) ** 2, axis=1)
        return 10.0 * np.log10(power + 1e-12)

    def score(self, frames: np.ndarray) -> np.ndarray:
        self._levels = np.concatenate([self._levels, self._level_db(frames)])
        return self._emit(final=False)

    def finish(self) -> np.ndarray:
        return self._emit(final=True)

    def _emit(self, *, final: bool) -> np.ndarray:
        total = self._first + len(self._levels)
        stop = total if final else max(self._done, total - self._half)
        if stop <= self._done:
            return np.zeros(0, np.float32)
        scores = _energy_scores(self._levels, self._done - self._first,
                                stop - self._first, at_start=self._first == 0,
                                at_end=final)
        self._done = stop
        keep_from = max(0, self._done - self._half - self._first)   # context for what's next
        self._levels = self._levels[keep_from:]
        self._first += keep_from
        return scores


def _energy_scores(levels: np.ndarray, lo: int, hi: int, *, at_start: bool,
                   at_end: bool) -> np.ndarray:
    """Scores of ``levels[lo:hi]``; the array holds the context either side (edges repeated
    only at the true start or end of the stream, where the window is truncated)."""
    from numpy.lib.stride_tricks import sliding_window_view

    s, w = ENERGY_SMOOTH // 2, ENERGY_FLOOR_WINDOW // 2
    pad_l = s + w if at_start else 0
    pad_r = s + w if at_end else 0
    x = np.pad(levels, (pad_l, pad_r), mode="edge")
    power = 10.0 ** (x / 10.0)
    smooth = 10.0 * np.log10(sliding_window_view(power, 2 * s + 1).mean(axis=1))
    # smooth[j] is centred on x[j + s]; the floor of frame i needs smooth over i +- w
    floor = sliding_window_view(smooth, 2 * w + 1).min(axis=1)
    # floor[k] is centred on x[k + s + w] = levels[k + s + w - pad_l]
    k0 = lo + pad_l - s - w
    floor = np.maximum(floor[k0:k0 + hi - lo], ENERGY_MIN_FLOOR_DBFS)
    return np.clip((levels[lo:hi] - floor) / ENERGY_SPAN_DB, 0.0, 1.0).astype(np.float32)


# -- from scores to segments ------------------------------------------------------------------
class _Segmenter:
    """Hysteresis on frame scores → padded, non-overlapping segments (Silero's rules).

    ``max_speech_s`` follows Silero's ``max_speech_duration_s``: once the open segment is
    longer than ``max_speech_s - hop_s - 2 * pad_s`` (so that with its padding it stays
    within ``max_speech_s``) it ends at its last pause of more than
    ``MAX_SPEECH_MIN_SILENCE_S`` (the next segment starting where speech came back, if it
    did), or else right there. Two differences from Silero, both keeping speech Silero
    loses: after a hard cut, speech that goes on starts the next segment at the cut (Silero
    skips that frame), and a hard cut inside a pause ends the segment where the pause began.
    """

    def __init__(self, hop_s: float, threshold: float, min_speech_s: float,
                 min_silence_s: float, pad_s: float, max_speech_s: float | None = None) -> None:
        self.hop_s, self.threshold = hop_s, threshold
        self.neg_threshold = max(threshold - NEG_THRESHOLD_OFFSET, 0.01)
        self.min_speech_s, self.min_silence_s, self.pad_s = min_speech_s, min_silence_s, pad_s
        # seconds a segment may run before it is split (None: no limit)
        self._max_span = (None if max_speech_s is None
                          else max_speech_s - hop_s - 2 * pad_s)
        self._index = 0                        # frames consumed
        self._start: float | None = None       # start (s) of the open segment
        self._temp_end: float | None = None    # where the open segment's silence began (s)
        self._prev_end: float | None = None    # start (s) of its last pause > 0.098 s
        self._next_start: float | None = None  # where speech came back after a pause (s)
        self._pending: tuple[float, float, float] | None = None  # padded start, start, end
        self._emitted_end = 0.0

    def push(self, scores: np.ndarray) -> list[SpeechSegment]:
        out: list[SpeechSegment] = []
        for p in scores.tolist():
            t0 = self._index * self.hop_s
            self._index += 1
            if p >= self.threshold:
                if self._temp_end is not None:
                    self._temp_end = None
                    if self._prev_end is not None and (self._next_start is None
                                                       or self._next_start < self._prev_end):
                        self._next_start = t0
                if self._start is None:
                    self._start = t0
            if (self._max_span is not None and self._start is not None
                    and t0 - self._start > self._max_span + 1e-9):
                self._split(t0, p, out)
            if p < self.neg_threshold and self._start is not None:
                if self._temp_end is None:
                    self._temp_end = t0
                if t0 - self._temp_end > MAX_SPEECH_MIN_SILENCE_S:
                    self._prev_end = self._temp_end
                if t0 - self._temp_end >= self.min_silence_s - 1e-9:
                    self._close(self._temp_end, out)
            self._release(out)
        return out

    def _split(self, t0: float, p: float, out: list[SpeechSegment]) -> None:
        """End the open segment, now too long, at frame time ``t0`` (score ``p``)."""
        next_start: float | None = None
        temp_end: float | None = None
        if self._prev_end is not None:   # at the last long-enough pause
            end = self._prev_end
            if self._next_start is not None and self._next_start > end:   # speech came back
                next_start, temp_end = self._next_start, self._temp_end
        elif self._temp_end is not None:   # inside a shorter pause: where it began
            end = self._temp_end
        else:                              # hard cut
            end = t0
            if p >= self.neg_threshold:    # speech goes on from the cut
                next_start = t0
        self._close(end, out)
        self._start, self._temp_end = next_start, temp_end

    def finish(self, duration_s: float) -> list[SpeechSegment]:
        out: list[SpeechSegment] = []
        if self._start is not None:
            end = self._temp_end if self._temp_end is not None else duration_s
            self._close(min(end, duration_s), out)
        if self._pending is not None:
            padded_start, _, end = self._pending
            self._emit(padded_start, min(end + self.pad_s, duration_s), out)
            self._pending = None
        return out

    @property
    def decided_s(self) -> float:
        """Seconds before which no segment is still to come (all before it is final)."""
        if self._pending is not None:
            return self._pending[0]
        if self._start is not None:
            return max(self._start - self.pad_s, self._emitted_end)
        return max(self._index * self.hop_s - self.pad_s, self._emitted_end)

    def _close(self, end: float, out: list[SpeechSegment]) -> None:
        start, self._start, self._temp_end = self._start, None, None
        self._prev_end = self._next_start = None
        assert start is not None
        if end - start < self.min_speech_s or end <= start:
            return
        padded_start = max(start - self.pad_s, self._emitted_end)
        if self._pending is not None:
            p_padded, _, p_end = self._pending
            gap = start - p_end
            if gap < 2 * self.pad_s:
                self._emit(p_padded, p_end + gap / 2, out)
                padded_start = start - gap / 2
            else:
                self._emit(p_padded, p_end + self.pad_s, out)
        self._pending = (max(padded_start, self._emitted_end), start, end)

    def _release(self, out: list[SpeechSegment]) -> None:
        """Emit the pending segment once its end padding is known: no later segment can
        share it, or the open segment that shares it is sure to be kept."""
        if self._pending is None:
            return
        padded_start, _, end = self._pending
        horizon = end + 2 * self.pad_s
        if self._start is None:
            if self._index * self.hop_s < horizon:
                return
            self._emit(padded_start, end + self.pad_s, out)
        elif self._start >= horizon:
            self._emit(padded_start, end + self.pad_s, out)
        elif self._open_is_kept():   # e.g. the next piece of a split: they share the gap
            self._emit(padded_start, end + (self._start - end) / 2, out)
        else:
            return
        self._pending = None

    def _open_is_kept(self) -> bool:
        """Whether the open segment will be long enough to be kept however it ends."""
        assert self._start is not None
        # it cannot end before its pause(s) or before the frames already seen (one frame of
        # margin for the last, zero-padded frame against the duration)
        earliest = (self._index - 2) * self.hop_s
        for t in (self._temp_end, self._prev_end):
            if t is not None:
                earliest = min(earliest, t)
        return earliest > self._start and earliest - self._start >= self.min_speech_s

    def _emit(self, start: float, end: float, out: list[SpeechSegment]) -> None:
        out.append(SpeechSegment(round(start, 6), round(end, 6)))
        self._emitted_end = end


def check_vad_params(owner: str, method: object, threshold: object, min_speech_s: object,
                     min_silence_s: object, pad_s: object) -> tuple[str, float, float, float,
                                                                    float]:
    """Checked ``(method, threshold, min_speech_s, min_silence_s, pad_s)``; errors name
    ``owner`` (``"vad"``, ``"strip_silence"``) and the parameter."""
    return (check_choice(owner, "method", method, VAD_METHODS),
            check_number(owner, "threshold", threshold, gt=0, lt=1),
            check_number(owner, "min_speech_s", min_speech_s, unit="s", ge=0),
            check_number(owner, "min_silence_s", min_silence_s, unit="s", ge=0),
            check_number(owner, "pad_s", pad_s, unit="s", ge=0))


def check_max_speech(owner: str, max_speech_s: object, min_speech_s: float,
                     pad_s: float) -> float | None:
    """Checked ``max_speech_s`` (seconds, or ``None`` for no limit).

    It must leave room for the padding and one frame above ``min_speech_s``, so that the
    pieces of a hard cut are never dropped as too short.
    """
    if max_speech_s is None:
        return None
    x = check_number(owner, "max_speech_s", max_speech_s, unit="s", gt=0)
    lowest = min_speech_s + 2 * pad_s + MAX_HOP_S
    if x < lowest - 1e-9:
        raise AudioValueError(f"{owner}: max_speech_s={x:g} must be >= {lowest:g} s "
                              f"(min_speech_s + 2 * pad_s + one {MAX_HOP_S * 1000:g} ms frame)")
    return x


# -- the streaming detector ---------------------------------------------------------------------
class SpeechDetector:
    """Streaming voice activity detector: feed blocks, collect finished segments.

    Parameters are those of :func:`detect_speech`. Feed consecutive blocks of one stream
    (any rate and channel count, the same for every block) to :meth:`process`, then call
    :meth:`finish` once; each returns the segments completed so far, in order. State
    (resampler, network state, noise floor, the open segment) is carried across blocks, so
    the segments do not depend on the block size. Memory: the current block plus ~5 s of
    frame levels; a segment is returned at most ``max(min_silence_s, 2 * pad_s)`` seconds
    after it ends (``energy``: ~2.5 s more), or, when ``max_speech_s`` splits speech at an
    earlier pause, when the split is decided (at most ``max_speech_s`` after it starts).

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.edit.vad import SpeechDetector
    >>> det = SpeechDetector(method="energy")
    >>> silence = Audio(np.zeros((1, 16_000), np.float32), 16_000)
    >>> det.process(silence) + det.finish()
    []
    """

    def __init__(self, *, method: str = "silero", threshold: float = 0.5,
                 min_speech_s: float = 0.25, min_silence_s: float = 0.1,
                 pad_s: float = 0.03, max_speech_s: float | None = None) -> None:
        (self.method, self.threshold, self.min_speech_s, self.min_silence_s,
         self.pad_s) = check_vad_params("vad", method, threshold, min_speech_s, min_silence_s,
                                        pad_s)
        self.max_speech_s = check_max_speech("vad", max_speech_s, self.min_speech_s,
                                             self.pad_s)
        self.keep_scores = False   # set True to keep every frame score (see :attr:`scores`)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next :meth:`process` starts a new one."""
        if self.method == "silero":
            self._scorer: Any = _SileroScorer()
        elif self.method == "webrtc":
            self._scorer = _WebrtcScorer(self.threshold)
        else:
            self._scorer = _EnergyScorer()
        self._segmenter = _Segmenter(self._scorer.frame / VAD_RATE_HZ, self.threshold,
                                     self.min_speech_s, self.min_silence_s, self.pad_s,
                                     self.max_speech_s)
        self._rate: int | None = None
        self._channels = 0
        self._frames_in = 0
        self._resampler: Any = None
        self._buffer = np.zeros(0, np.float32)   # 16 kHz samples not yet a whole frame
        self._scores: list[np.ndarray] = []      # kept only when keep_scores is set
        self._finished = False

    def process(self, block: Audio) -> list[SpeechSegment]:
        """Take the next block of the stream; return the segments it completed."""
        check_audio(block, name="vad: audio", min_frames=0)
        if self._finished:   # a new stream after finish(): start from scratch
            self.reset()
        if self._rate is None:
            self._rate, self._channels = block.sample_rate, block.channels
            if block.sample_rate != VAD_RATE_HZ:
                import soxr  # streaming resampler: output aligned with the input timeline

                self._resampler = soxr.ResampleStream(block.sample_rate, VAD_RATE_HZ, 1,
                                                      dtype="float32",
                                                      quality=RESAMPLE_QUALITY)
        elif block.sample_rate != self._rate:
            raise SampleRateError(f"vad: block is {block.sample_rate} Hz but the stream is "
                                  f"{self._rate} Hz; call reset() before a new stream")
        elif block.channels != self._channels:
            raise AudioValueError(f"vad: block has {block.channels} channel(s) but the stream "
                                  f"has {self._channels}; call reset() before a new stream")
        self._frames_in += block.frames
        mono = block.samples.mean(axis=0, dtype=np.float32) if block.channels > 1 \
            else block.samples[0]
        if self._resampler is not None:
            mono = self._resampler.resample_chunk(mono, last=False)
        return self._consume(np.asarray(mono, np.float32), final=False)

    def finish(self) -> list[SpeechSegment]:
        """End the stream: score what is left and return the last segments.

        A later :meth:`process` starts a new stream.
        """
        if self._rate is None or self._finished:
            return []
        tail = np.zeros(0, np.float32)
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(np.zeros(0, np.float32), last=True)
        out = self._consume(np.asarray(tail, np.float32), final=True)
        self._finished = True
        return out

    @property
    def duration_s(self) -> float:
        """Seconds of input seen in the current stream."""
        return self._frames_in / self._rate if self._rate else 0.0

    def _consume(self, x: np.ndarray, *, final: bool) -> list[SpeechSegment]:
        frame = self._scorer.frame
        x = np.concatenate([self._buffer, x]) if self._buffer.size else x
        n = len(x) // frame
        if final and len(x) > n * frame:   # the last partial frame, zero-padded (as Silero)
            x = np.concatenate([x, np.zeros((n + 1) * frame - len(x), np.float32)])
            n += 1
        self._buffer = x[n * frame:].copy()
        scores = [self._scorer.score(x[:n * frame].reshape(n, frame))] if n else []
        if final:
            scores.append(self._scorer.finish())
        out: list[SpeechSegment] = []
        for s in scores:
            if self.keep_scores:
                self._scores.append(s)
            out += self._segmenter.push(s)
        if final:
            out += self._segmenter.finish(self.duration_s)
        return out

    @property
    def scores(self) -> np.ndarray:
        """Frame scores (0-1) of the stream so far, when ``keep_scores`` was set first."""
        return np.concatenate(self._scores) if self._scores else np.zeros(0, np.float32)

    @property
    def decided_s(self) -> float:
        """Seconds of input before which every segment has been returned already.

        Nothing returned later starts before this time, so a caller holding the input (to
        cut it, or to transcribe it) can drop everything before it.
        """
        return self._segmenter.decided_s

    @property
    def hop_s(self) -> float:
        """Seconds per frame score of this method (0.032 or 0.030)."""
        return self._scorer.frame / VAD_RATE_HZ

    def __repr__(self) -> str:
        return (f"SpeechDetector(method={self.method!r}, threshold={self.threshold!r}, "
                f"min_speech_s={self.min_speech_s!r}, min_silence_s={self.min_silence_s!r}, "
                f"pad_s={self.pad_s!r}, max_speech_s={self.max_speech_s!r})")


def detect_speech(audio: Audio, *, method: str = "silero", threshold: float = 0.5,
                  min_speech_s: float = 0.25, min_silence_s: float = 0.1,
                  pad_s: float = 0.03, max_speech_s: float | None = None) -> list[SpeechSegment]:
    """Find the speech in ``audio``.

    The signal is mixed to mono and resampled to 16 kHz internally (segment times stay on the
    input's timeline); see the module docstring for the methods.

    Parameters
    ----------
    audio : Audio
        Any rate and channel count.
    method : {"silero", "webrtc", "energy"}, default "silero"
        Silero VAD network (ONNX), the WebRTC detector, or the energy baseline.
    threshold : float, default 0.5
        Frame score (0-1, exclusive) at which speech starts; it ends below
        ``threshold - 0.15``. For ``webrtc`` it picks the aggressiveness ``int(4 *
        threshold)`` (0.5 → 2); for ``energy`` the score is the level above the noise floor
        in units of 20 dB (0.5 → 10 dB).
    min_speech_s : float, default 0.25
        Segments shorter than this (seconds, before padding) are dropped.
    min_silence_s : float, default 0.1
        Silence (seconds) needed to end a segment; shorter pauses are bridged.
    pad_s : float, default 0.03
        Seconds added at each side of a segment (clipped to the audio and shared equally
        between neighbours closer than ``2 * pad_s``).
    max_speech_s : float or None, default None
        Longest segment in seconds, padding included (``None``: no limit), e.g. 30 for
        Whisper-sized ASR chunks. As Silero's ``max_speech_duration_s``: longer speech is
        split at its last pause of more than 0.098 s (shorter than ``min_silence_s``, or it
        would have ended there), or cut hard at the limit when there is none; the pieces of
        a hard cut touch. At least ``min_speech_s + 2 * pad_s + 0.032``.

    Returns
    -------
    list of SpeechSegment
        In time order, non-overlapping, within ``[0, audio.duration_s]``.

    Raises
    ------
    AudioValueError
        A parameter out of range or an unknown method.
    MissingToolError
        The package a method needs (onnxruntime + silero-vad, webrtcvad) is not installed.

    Examples
    --------
    >>> from wavesmith import io                                    # doctest: +SKIP
    >>> detect_speech(io.load("jfk.flac"))[0]                       # doctest: +SKIP
    SpeechSegment(start=0.29, end=2.27)
    """
    check_audio(audio, name="vad: audio", min_frames=0)
    detector = SpeechDetector(method=method, threshold=threshold, min_speech_s=min_speech_s,
                              min_silence_s=min_silence_s, pad_s=pad_s,
                              max_speech_s=max_speech_s)
    step = max(1, round(DEFAULT_VAD_BLOCK_S * audio.sample_rate))
    out: list[SpeechSegment] = []
    for i in range(0, audio.frames, step):   # blocks bound the transient 16 kHz copies
        out += detector.process(Audio(audio.samples[:, i:i + step], audio.sample_rate))
    if audio.frames == 0:
        detector.process(audio)
    return out + detector.finish()


def iter_speech_file(path: str | os.PathLike[str], *, method: str = "silero",
                     threshold: float = 0.5, min_speech_s: float = 0.25,
                     min_silence_s: float = 0.1, pad_s: float = 0.03,
                     max_speech_s: float | None = None,
                     block_s: float = DEFAULT_VAD_BLOCK_S,
                     progress: Progress | None = None) -> Iterator[SpeechSegment]:
    """Yield the speech segments of a file as they are found, reading it block by block.

    Nothing is decoded until the first segment is asked for; the file is closed when the
    generator finishes or is closed. Memory stays at one block of ``block_s`` seconds
    whatever the file's length. Parameters as in :func:`detect_speech`.
    """
    from wavesmith import io

    detector = SpeechDetector(method=method, threshold=threshold, min_speech_s=min_speech_s,
                              min_silence_s=min_silence_s, pad_s=pad_s,
                              max_speech_s=max_speech_s)
    for block in io.stream(path, block_s, progress=progress):
        yield from detector.process(block)
    yield from detector.finish()


def detect_speech_file(path: str | os.PathLike[str], *, method: str = "silero",
                       threshold: float = 0.5, min_speech_s: float = 0.25,
                       min_silence_s: float = 0.1, pad_s: float = 0.03,
                       max_speech_s: float | None = None,
                       block_s: float = DEFAULT_VAD_BLOCK_S,
                       progress: Progress | None = None) -> list[SpeechSegment]:
    """:func:`detect_speech` on a file of any length, streamed (see :func:`iter_speech_file`).

    ``progress(seconds_done, seconds_total)`` is called after each block. The result equals
    ``detect_speech(io.load(path), ...)`` up to the resampler's float rounding.
    """
    return list(iter_speech_file(path, method=method, threshold=threshold,
                                 min_speech_s=min_speech_s, min_silence_s=min_silence_s,
                                 pad_s=pad_s, max_speech_s=max_speech_s, block_s=block_s,
                                 progress=progress))


@dataclass(frozen=True)
class VadReport:
    """The speech found in a file (what ``wavesmith edit vad`` prints)."""

    path: str
    method: str
    duration_s: float          # seconds of audio in the file
    speech_s: float            # seconds inside the segments
    segments: list[SpeechSegment]


def vad_file(path: str | os.PathLike[str], *, method: str = "silero", threshold: float = 0.5,
             min_speech_s: float = 0.25, min_silence_s: float = 0.1, pad_s: float = 0.03,
             max_speech_s: float | None = None, block_s: float = DEFAULT_VAD_BLOCK_S,
             progress: Progress | None = None) -> VadReport:
    """Stream a file through the detector and report its segments and durations (seconds).

    Parameters as in :func:`detect_speech` and :func:`iter_speech_file`.
    """
    from wavesmith import io

    detector = SpeechDetector(method=method, threshold=threshold, min_speech_s=min_speech_s,
                              min_silence_s=min_silence_s, pad_s=pad_s,
                              max_speech_s=max_speech_s)
    segments: list[SpeechSegment] = []
    for block in io.stream(path, block_s, progress=progress):
        segments += detector.process(block)
    duration_s = detector.duration_s
    segments += detector.finish()
    return VadReport(path=str(path), method=detector.method, duration_s=duration_s,
                     speech_s=round(sum(s.duration for s in segments), 6), segments=segments)


def speech_mask(segments: list[SpeechSegment], duration_s: float,
                hop_s: float = 0.01) -> np.ndarray:
    """Boolean speech/non-speech per ``hop_s``-second frame (frame centre inside a segment).

    Used to compare detectors frame by frame; ``ceil(duration_s / hop_s)`` frames.
    """
    n = int(np.ceil(duration_s / hop_s - 1e-9))
    centres = (np.arange(n) + 0.5) * hop_s
    mask = np.zeros(n, bool)
    for seg in segments:
        mask |= (centres >= seg.start) & (centres < seg.end)
    return mask
