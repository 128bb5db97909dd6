"""Block-by-block spectral statistics and pitch for long files: :class:`SpectralMeter` and
:class:`PitchTracker`, the streaming counterparts of :func:`spectral_summary` and
:func:`estimate_pitch` (loudness streams with :class:`~wavesmith.analysis.LoudnessMeter`).

Both are fed consecutive mono :class:`~wavesmith.Audio` blocks of any size (e.g. from
:func:`wavesmith.io.stream`) and keep only a bounded window of samples, so audio memory does
not grow with the file's length.

:class:`SpectralMeter` carries the STFT frame overlap between blocks and reproduces the
whole-signal framing exactly: the ``n_fft // 2`` zeros of librosa's centred padding (the
signal's first/last sample for the zero-crossing rate, as librosa pads it) are added at the
start and at the end, so frame ``i`` is centred on frame ``i * hop_frames`` of the file. Each
frame's features are computed from the same samples with the same librosa calls as
:func:`spectral_summary`, and only float64 running sums are kept. Two features of the summary
are not per frame: MFCCs floor the log-mel power 80 dB under its maximum over the *whole*
signal, and spectral contrast floors its peak and valley levels 80 dB under their maxima
(librosa's ``power_to_db(..., top_db=80)``). The meter keeps those sums split into "value
above the floor" and "count at the floor" parts, so the floor can be applied once the maximum
is known; that is exact unless a level counted as above the floor at the time ends up below
the final floor (the maximum rose later). :attr:`SpectralMeter.exact` says whether that
happened; a second pass with ``maxima=first.maxima`` is then exact by construction
(:func:`wavesmith.analysis.analyze_file` does this).

:class:`PitchTracker` resamples the blocks with a streaming soxr resampler (equal to the
one-shot resampling of :func:`estimate_pitch`) and runs the tracker on overlapping segments of
``segment_s`` seconds plus ``context_s`` seconds on each side; of each run it keeps only the
segment's own frames, so every frame is produced exactly once and frame ``i`` is at
``i * hop_s`` seconds of the file. CREPE's frames are independent, so its result equals the
whole-signal one within float rounding. pYIN decodes voicing and pitch with a Viterbi pass over
the whole signal; with context on both sides the segment's best path almost always equals the
global one. Measured against whole-signal pYIN: voicing and F0 (within 10 cents) agree on
100 % of frames on 133 s of a song with vocals (the defaults: 20 s segments, 2 s context), on
46 s of string orchestra (10 s segments, 2 s context) and on 11 s of speech (2 s segments, 1 s
context; ``tests/analysis/test_streaming.py``); the F0 guesses on unvoiced frames, which depend
on the decoded path, agree on 98.2 %, 99.0 % and 96.4 % of frames.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from wavesmith.analysis.pitch import (
    CREPE_MAX_HZ,
    CREPE_MIN_HZ,
    CREPE_MODELS,
    CREPE_RATE_HZ,
    DEFAULT_FMAX_HZ,
    DEFAULT_FMIN_HZ,
    DEFAULT_HOP_S,
    METHODS,
    PYIN_FRAME_FRAMES,
    PYIN_RATE_HZ,
    PitchResult,
    _prepare,
    crepe,
    pyin,
)
from wavesmith.analysis.spectral import (
    CONTRAST_FMIN_HZ,
    DEFAULT_HOP_FRAMES,
    DEFAULT_N_FFT,
    DEFAULT_N_MELS,
    SUMMARY_N_MFCC,
    TOP_DB,
    _librosa,
    _summary_bands,
    spectral_summary,
)
from wavesmith.audio import RESAMPLE_QUALITY, Audio, check_sample_rate
from wavesmith.errors import AudioValueError, SampleRateError

__all__ = ["PitchTracker", "SpectralMaxima", "SpectralMeter"]

EMIT_FRAMES = 256            # analysis frames gathered before their features are computed
MAX_CHUNK_FRAMES = 512       # analysis frames per feature computation (~4 MB of STFT)
DELTA_WIDTH = 9              # frames; spectral_summary's MFCC delta window (Savitzky-Golay)
CONTRAST_QUANTILE = 0.02     # fraction of a band's bins averaged for peak / valley (librosa)
AMIN_POWER = 1e-10           # power floor before log10 (librosa's power_to_db amin)
PITCH_SEGMENT_S = 20.0       # s of pitch frames kept from each tracker run
PITCH_CONTEXT_S = 2.0        # s of extra frames run on each side of a segment (pYIN's Viterbi)
CREPE_WINDOW_FRAMES = 1_024  # frames at 16 kHz; torchcrepe.WINDOW_SIZE (64 ms)


@dataclass(frozen=True, slots=True)
class SpectralMaxima:
    """Signal-wide maxima that set :func:`spectral_summary`'s floors (floor = max − 80 dB)."""

    mel_db: float              # dB re. 1.0, largest mel-band power (MFCC log-mel floor)
    contrast_peak_db: float    # dB, largest spectral-contrast peak level
    contrast_valley_db: float  # dB, largest spectral-contrast valley level


class _Moments:
    """float64 sums of ``u`` and ``u uᵀ`` per feature, for values ``x = coef · u``.

    ``u`` has shape ``(n_features, n_terms, n_frames)``; the coefficients (1 and the dB
    floors) are known only at the end. Sums are taken around the first block's mean, which
    keeps the variance free of cancellation.
    """

    def __init__(self, n_features: int, n_terms: int, *, scalar: bool = False) -> None:
        self.scalar = scalar            # a 1-D feature: floats, not lists (as _stats)
        self.ref: np.ndarray | None = None
        self.s1 = np.zeros((n_features, n_terms))
        self.s2 = np.zeros((n_features, n_terms, n_terms))

    def add(self, u: np.ndarray, weight: float = 1.0) -> None:
        if self.ref is None:
            self.ref = u.mean(axis=-1)
        d = u - self.ref[..., np.newaxis]
        self.s1 += weight * d.sum(axis=-1)
        self.s2 += weight * np.einsum("fit,fjt->fij", d, d)

    def stats(self, n_frames: int, coef: np.ndarray) -> dict[str, Any]:
        assert self.ref is not None
        mean_d = self.s1 @ coef / n_frames
        var = np.einsum("i,fij,j->f", coef, self.s2, coef) / n_frames - mean_d**2
        mean, std = self.ref @ coef + mean_d, np.sqrt(np.maximum(var, 0.0))
        if self.scalar:
            return {"mean": float(mean[0]), "std": float(std[0])}
        return {"mean": [float(v) for v in mean], "std": [float(v) for v in std]}


class SpectralMeter:
    """Streaming :func:`~wavesmith.analysis.spectral_summary`: feed mono blocks, read the
    same statistics.

    State carried between blocks: fewer than ``EMIT_FRAMES * hop_frames + n_fft`` samples
    (the frames not yet analysed and the STFT overlap), the last 8 frames' MFCCs (for the
    delta), the signal-wide maxima, and float64 sums of a few hundred values. Peak memory ≈
    the caller's block plus ~30 MB for one 512-frame feature chunk, whatever the file's
    length. Any block sizes give the result of :func:`spectral_summary` on the joined
    signal, within float32 rounding (relative 1e-5), when :attr:`exact` is true (see the
    module docstring); signals under ``max(n_fft, 8 * hop_frames)`` frames are kept and
    summarised whole.

    Parameters
    ----------
    sample_rate : int
        Hz of every block.
    n_fft, hop_frames, n_mfcc : int, default 2048, 512, 13
        As in :func:`spectral_summary`.
    maxima : SpectralMaxima, optional
        The signal-wide maxima from an earlier pass over the same signal
        (:attr:`maxima`); with them every floor is final from the first block and
        :attr:`exact` is true.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.analysis import SpectralMeter, spectral_summary
    >>> x = np.random.default_rng(0).standard_normal((1, 22_050)).astype(np.float32)
    >>> meter = SpectralMeter(22_050)
    >>> for start in range(0, x.shape[1], 1_000):  # any block size
    ...     meter.process(Audio(x[:, start:start + 1_000], 22_050))
    >>> whole = spectral_summary(Audio(x, 22_050))["spectral_centroid_hz"]["mean"]
    >>> abs(meter.result()["spectral_centroid_hz"]["mean"] - whole) < 1e-6 * whole
    True
    """

    def __init__(self, sample_rate: int, *, n_fft: int = DEFAULT_N_FFT,
                 hop_frames: int = DEFAULT_HOP_FRAMES, n_mfcc: int = SUMMARY_N_MFCC,
                 maxima: SpectralMaxima | None = None) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        for name, value, low in (("n_fft", n_fft, 2), ("hop_frames", hop_frames, 1),
                                 ("n_mfcc", n_mfcc, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or value < low:
                raise AudioValueError(f"SpectralMeter: {name}={value!r} must be an int >= {low}")
        if n_mfcc > DEFAULT_N_MELS:
            raise AudioValueError(f"SpectralMeter: n_mfcc={n_mfcc} must be <= {DEFAULT_N_MELS} "
                                  "(the mel bands)")
        if maxima is not None and not isinstance(maxima, SpectralMaxima):
            raise AudioValueError(f"SpectralMeter: maxima must be SpectralMaxima, got "
                                  f"{type(maxima).__name__}")
        self.n_fft, self.hop_frames, self.n_mfcc = int(n_fft), int(hop_frames), int(n_mfcc)
        self.initial_maxima = maxima
        import scipy.fft
        import scipy.signal

        self._dct = scipy.fft.dct(np.eye(DEFAULT_N_MELS), type=2, norm="ortho",
                                  axis=0)[:self.n_mfcc]             # (n_mfcc, n_mels)
        self._delta_w = scipy.signal.savgol_coeffs(DELTA_WIDTH, 1, deriv=1, use="dot")
        self._bands = self._contrast_bands()
        self.reset()

    def __repr__(self) -> str:
        return (f"SpectralMeter(sample_rate={self.sample_rate}, n_fft={self.n_fft}, "
                f"hop_frames={self.hop_frames}, n_mfcc={self.n_mfcc}, "
                f"frames={self._frames_in})")

    def reset(self) -> None:
        """Forget everything measured so far (the ``maxima`` given at creation are kept)."""
        half = self.n_fft // 2
        self._pending: list[np.ndarray] = [np.zeros(half, np.float32)]  # start padding
        self._pending_frames = half
        self._pad_left = half          # leading padding samples still in the buffer
        self._first = self._last = np.float32(0.0)
        self._frames_in = 0            # input frames seen
        self._n_frames = 0             # analysis frames accumulated
        self._head: list[np.ndarray] | None = []   # the whole input while it is short
        n_chroma, n_bands = 12, len(self._bands)
        self._acc = {name: _Moments(1, 1, scalar=True) for name in (
            "spectral_centroid_hz", "spectral_bandwidth_hz", "spectral_rolloff_hz",
            "spectral_flatness", "zero_crossing_rate", "rms_dbfs")}
        self._acc.update({
            "spectral_contrast_db": _Moments(n_bands, 3), "mfcc": _Moments(self.n_mfcc, 2),
            "mfcc_delta": _Moments(self.n_mfcc, 2), "chroma": _Moments(n_chroma, 1)})
        self._hist = np.zeros((self.n_mfcc, 2, 0))       # last DELTA_WIDTH - 1 MFCC frames
        self._last_delta: np.ndarray | None = None
        m = self.initial_maxima
        self._max = np.array([-np.inf] * 3 if m is None else
                             [np.float32(m.mel_db), m.contrast_peak_db, m.contrast_valley_db])
        self._min_kept = np.full(3, np.inf)   # smallest level counted above its floor
        self._finished: SpectralMeter | None = None

    # -- feeding ---------------------------------------------------------------------------
    def process(self, audio: Audio) -> None:
        """Measure the next block of the signal (mono, the meter's rate, any frame count).

        Raises
        ------
        SampleRateError
            If the block's rate differs from the meter's.
        AudioValueError
            If the block is not mono, or holds non-finite samples.
        """
        if not isinstance(audio, Audio):
            raise AudioValueError(f"SpectralMeter: expected Audio, got {type(audio).__name__}")
        if audio.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"SpectralMeter: block is {audio.sample_rate} Hz but the meter measures "
                f"{self.sample_rate} Hz; create the meter with the stream's rate")
        if audio.channels != 1:
            raise AudioValueError(f"SpectralMeter: needs mono blocks, got {audio.channels} "
                                  "channels; call block.to_mono() first")
        if audio.frames == 0:
            return
        x = audio.samples[0]
        if not np.all(np.isfinite(x)):
            raise AudioValueError("SpectralMeter: block holds NaN or inf samples")
        self._finished = None
        if self._frames_in == 0:
            self._first = x[0]
        self._last = x[-1]
        self._frames_in += x.size
        if self._head is not None:
            self._head.append(x.copy())
            if self._frames_in >= self._short_limit():
                self._head = None
        self._pending.append(x)
        self._pending_frames += x.size
        if self._ready_frames() >= EMIT_FRAMES:
            buf = np.concatenate(self._pending)
            while (n := self._count_frames(buf.size)) >= EMIT_FRAMES:
                buf = self._analyse(buf, min(n, MAX_CHUNK_FRAMES))
            self._pending, self._pending_frames = [buf], buf.size

    def _short_limit(self) -> int:
        """Inputs shorter than this many frames are summarised whole (fewer than 9 frames,
        or shorter than one FFT)."""
        return max(self.n_fft, (DELTA_WIDTH - 1) * self.hop_frames)

    def _count_frames(self, samples: int) -> int:
        return 0 if samples < self.n_fft else 1 + (samples - self.n_fft) // self.hop_frames

    def _ready_frames(self) -> int:
        return self._count_frames(self._pending_frames)

    def _analyse(self, buf: np.ndarray, n: int, *, final: bool = False) -> np.ndarray:
        """Accumulate the first ``n`` frames of the padded stream ``buf``; return the rest."""
        hop, n_fft = self.hop_frames, self.n_fft
        span = buf[:(n - 1) * hop + n_fft]
        edge = span                           # zero-crossing rate pads with edge samples
        if self._pad_left or final:
            edge = span.copy()
            edge[:self._pad_left] = self._first
            if final:
                edge[buf.size - n_fft // 2:] = self._last
        self._accumulate(span, edge, n)
        self._pad_left = max(0, self._pad_left - n * hop)
        return buf[n * hop:].copy()

    def _contrast_bands(self) -> list[tuple[np.ndarray, int]]:
        """Rows of each contrast band and the bins averaged per side, as librosa builds
        them in ``feature.spectral_contrast``."""
        freq = _librosa().fft_frequencies(sr=self.sample_rate, n_fft=self.n_fft)
        n_bands = _summary_bands(self.sample_rate)
        octa = np.zeros(n_bands + 2)
        octa[1:] = CONTRAST_FMIN_HZ * (2.0 ** np.arange(0, n_bands + 1))
        bands = []
        for k, (f_low, f_high) in enumerate(itertools.pairwise(octa)):
            current = np.logical_and(freq >= f_low, freq <= f_high)
            idx = np.flatnonzero(current)
            if k > 0:
                current[idx[0] - 1] = True
            if k == n_bands:
                current[idx[-1] + 1:] = True
            rows = np.flatnonzero(current)
            if k < n_bands:
                rows = rows[:-1]
            q = max(int(np.rint(CONTRAST_QUANTILE * np.sum(current))), 1)
            bands.append((rows, q))
        return bands

    def _floored(self, level: np.ndarray, which: int) -> tuple[np.ndarray, np.ndarray]:
        """Split dB ``level`` into (value where above the running floor, 1 where below).

        A level below the running floor is below the final one too, so it becomes exactly
        the final floor; one above it is kept, which is exact when it stays above the final
        floor (checked at the end through ``_min_kept``).
        """
        self._max[which] = max(self._max[which], float(level.max()))
        floor = (np.float32(self._max[which]) - np.float32(TOP_DB) if which == 0
                 else self._max[which] - TOP_DB)
        low = level < floor
        if not low.all():
            self._min_kept[which] = min(self._min_kept[which], float(level[~low].min()))
        return np.where(low, 0.0, level.astype(np.float64)), low.astype(np.float64)

    def _accumulate(self, span: np.ndarray, edge: np.ndarray, n: int) -> None:
        lb, sr, n_fft, hop = _librosa(), self.sample_rate, self.n_fft, self.hop_frames
        spec = lb.stft(span, n_fft=n_fft, hop_length=hop, window="hann", center=False)
        mag = np.abs(spec)                  # as librosa's _spectrogram(power=1)
        power = mag**2                      # ... and power=2
        assert spec.shape[-1] == n
        feature = lb.feature
        with np.errstate(divide="ignore"):
            rms_db = 20.0 * np.log10(feature.rms(y=span, frame_length=n_fft, hop_length=hop,
                                                 center=False)[0])
        plain = {
            "spectral_centroid_hz": feature.spectral_centroid(S=mag, sr=sr, n_fft=n_fft)[0],
            "spectral_bandwidth_hz": feature.spectral_bandwidth(S=mag, sr=sr, n_fft=n_fft)[0],
            "spectral_rolloff_hz": feature.spectral_rolloff(S=mag, sr=sr, n_fft=n_fft)[0],
            "spectral_flatness": feature.spectral_flatness(S=mag, n_fft=n_fft)[0],
            "zero_crossing_rate": feature.zero_crossing_rate(
                edge, frame_length=n_fft, hop_length=hop, center=False)[0],
            "rms_dbfs": np.maximum(rms_db, -200.0),
            "chroma": feature.chroma_stft(S=power, sr=sr, n_fft=n_fft, tuning=0.0),
        }
        for name, values in plain.items():
            v = np.asarray(values, dtype=np.float64)
            self._acc[name].add(v.reshape(-1, 1, n))
        # MFCC: DCT of the log-mel power floored 80 dB under the signal's maximum
        mel = feature.melspectrogram(S=power, sr=sr, n_fft=n_fft, n_mels=DEFAULT_N_MELS)
        kept, low = self._floored(lb.power_to_db(mel, top_db=None), 0)
        u = np.stack([self._dct @ kept, self._dct @ low], axis=1)    # (n_mfcc, 2, n)
        self._acc["mfcc"].add(u)
        self._add_delta(u)
        # spectral contrast: peak and valley levels, each floored under its own maximum
        peak = np.empty((len(self._bands), n))
        valley = np.empty_like(peak)
        for k, (rows, q) in enumerate(self._bands):
            ordered = np.sort(mag[rows], axis=0)
            valley[k] = np.mean(ordered[:q], axis=0)
            peak[k] = np.mean(ordered[-q:], axis=0)
        p_kept, p_low = self._floored(lb.power_to_db(peak, amin=AMIN_POWER, top_db=None), 1)
        v_kept, v_low = self._floored(lb.power_to_db(valley, amin=AMIN_POWER, top_db=None), 2)
        self._acc["spectral_contrast_db"].add(np.stack([p_kept - v_kept, p_low, -v_low],
                                                       axis=1))
        self._n_frames += n

    def _add_delta(self, u: np.ndarray) -> None:
        """Accumulate the MFCC deltas centred where 4 frames either side are known.

        librosa's delta (``savgol_filter(mode="interp")``, first order) equals the first
        interior value on the first 4 frames and the last interior value on the last 4, so
        those two count 5 times each.
        """
        joined = np.concatenate([self._hist, u], axis=-1)
        first = self._n_frames - self._hist.shape[-1]       # frame index of joined[..., 0]
        reach = DELTA_WIDTH // 2
        m = joined.shape[-1] - 2 * reach
        if m > 0:
            delta = sum(w * joined[..., j:j + m] for j, w in enumerate(self._delta_w))
            assert isinstance(delta, np.ndarray)
            self._acc["mfcc_delta"].add(delta)
            if first == 0:
                self._acc["mfcc_delta"].add(delta[..., :1], weight=reach)
            self._last_delta = delta[..., -1:]
        self._hist = joined[..., -(DELTA_WIDTH - 1):]

    # -- results ---------------------------------------------------------------------------
    def _finish(self) -> SpectralMeter:
        """A copy of this meter with the end of the signal (the end padding) analysed."""
        if self._finished is None:
            done = copy.deepcopy(self)
            if self._frames_in >= self._short_limit():
                half = self.n_fft // 2
                buf = np.concatenate([*done._pending, np.zeros(half, np.float32)])
                n = done._count_frames(buf.size)
                while n > 0:   # every chunk may reach the end padding when hop < n_fft / 2
                    step = min(n, MAX_CHUNK_FRAMES)
                    buf = done._analyse(buf, step, final=True)
                    n -= step
                assert done._n_frames == 1 + (2 * half + self._frames_in - self.n_fft) \
                    // self.hop_frames
                assert done._last_delta is not None
                done._acc["mfcc_delta"].add(done._last_delta, weight=DELTA_WIDTH // 2)
            self._finished = done
        return self._finished

    @property
    def maxima(self) -> SpectralMaxima:
        """The signal-wide maxima measured so far (pass them to a second meter)."""
        mel, peak, valley = self._finish()._max
        return SpectralMaxima(mel_db=float(mel), contrast_peak_db=float(peak),
                              contrast_valley_db=float(valley))

    def _floors(self) -> np.ndarray:
        mel, peak, valley = self._max
        return np.array([float(np.float32(mel) - np.float32(TOP_DB)), peak - TOP_DB,
                         valley - TOP_DB])

    @property
    def exact(self) -> bool:
        """Whether :meth:`result` equals :func:`spectral_summary` on the joined blocks, i.e.
        no level was counted above a floor that the final maximum puts it under."""
        done = self._finish()
        return done._head is not None or bool(np.all(done._min_kept >= done._floors()))

    def result(self) -> dict[str, Any]:
        """Return :func:`spectral_summary`'s dict for the signal fed so far.

        Can be called at any time; the meter keeps measuring afterwards. Check
        :attr:`exact` (or pass ``maxima`` from a first pass) when equality with the
        whole-signal summary matters.

        Raises
        ------
        AudioValueError
            If fewer than ``n_fft`` frames were fed (as :func:`spectral_summary`).
        """
        done = self._finish()
        if done._head is not None:    # short: summarise it whole, exactly
            x = np.concatenate(done._head) if done._head else np.zeros(0, np.float32)
            if x.size == 0:
                raise AudioValueError("SpectralMeter: no audio was fed")
            return spectral_summary(Audio(x[np.newaxis], self.sample_rate), n_fft=self.n_fft,
                                    hop_frames=self.hop_frames, n_mfcc=self.n_mfcc)
        n = done._n_frames
        mel_floor, peak_floor, valley_floor = done._floors()
        one = np.ones(1)
        acc = done._acc
        return {
            "n_fft": self.n_fft, "hop_frames": self.hop_frames, "n_frames": n,
            "frame_rate_hz": self.sample_rate / self.hop_frames,
            "spectral_centroid_hz": acc["spectral_centroid_hz"].stats(n, one),
            "spectral_bandwidth_hz": acc["spectral_bandwidth_hz"].stats(n, one),
            "spectral_rolloff_hz": acc["spectral_rolloff_hz"].stats(n, one),
            "spectral_flatness": acc["spectral_flatness"].stats(n, one),
            "spectral_contrast_db": acc["spectral_contrast_db"].stats(
                n, np.array([1.0, peak_floor, valley_floor])),
            "zero_crossing_rate": acc["zero_crossing_rate"].stats(n, one),
            "rms_dbfs": acc["rms_dbfs"].stats(n, one),
            "mfcc": acc["mfcc"].stats(n, np.array([1.0, mel_floor])),
            "mfcc_delta": acc["mfcc_delta"].stats(n, np.array([1.0, mel_floor])),
            "chroma": acc["chroma"].stats(n, one),
        }


class PitchTracker:
    """Streaming :func:`~wavesmith.analysis.estimate_pitch`: feed mono blocks, get one
    :class:`~wavesmith.analysis.PitchResult` on the file's timeline.

    Blocks at any rate are resampled to the method's rate (22 050 Hz for pYIN, 16 000 Hz for
    CREPE) by a streaming soxr resampler, whose output equals the one-shot resampling that
    :func:`estimate_pitch` does. The tracker then runs on segments of ``segment_s`` seconds
    of frames with ``context_s`` seconds of extra frames on each side (plus half a window),
    and keeps only each segment's own frames: every frame is produced once, frame ``i`` is
    centred at ``i * hop_s`` seconds of the signal, and the first and last frames see the
    same zero padding as a whole-signal run. Memory: the result arrays (about 4 KB per
    second of audio at a 10 ms hop) plus one segment with its context (≈ (segment_s + 2 ×
    context_s) × rate × 4 bytes ≈ 2 MB for pYIN's defaults), whatever the file's length.

    CREPE's frames are independent of each other, so the result equals the whole-signal one
    within float rounding; ``context_s`` only matters for pYIN, whose Viterbi decoding links
    neighbouring frames (see the module docstring for the measured agreement).

    Parameters
    ----------
    sample_rate : int
        Hz of every block.
    method : {"pyin", "crepe"}, default "pyin"
        Tracker, as in :func:`estimate_pitch`.
    fmin_hz, fmax_hz, hop_s, model
        As in :func:`estimate_pitch`.
    segment_s : float, default 20.0
        Seconds of frames kept from each tracker run.
    context_s : float, default 2.0
        Seconds of extra frames run on each side of a segment and dropped (pYIN only; CREPE
        uses half a window, which is all its frames see).

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.analysis import PitchTracker
    >>> t = np.arange(44_100) / 44_100
    >>> x = (0.5 * np.sin(2 * np.pi * 220.0 * t))[None].astype(np.float32)
    >>> tracker = PitchTracker(44_100, "pyin", fmin_hz=110.0, fmax_hz=880.0, segment_s=0.3)
    >>> for start in range(0, x.shape[1], 10_000):
    ...     tracker.process(Audio(x[:, start:start + 10_000], 44_100))
    >>> r = tracker.result()
    >>> r.times_s.size, round(float(np.median(r.voiced_f0_hz)))
    (101, 220)
    """

    def __init__(self, sample_rate: int, method: str = "pyin", *,
                 fmin_hz: float = DEFAULT_FMIN_HZ, fmax_hz: float = DEFAULT_FMAX_HZ,
                 hop_s: float = DEFAULT_HOP_S, model: str = "tiny",
                 segment_s: float = PITCH_SEGMENT_S, context_s: float = PITCH_CONTEXT_S
                 ) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        name = method.strip().lower() if isinstance(method, str) else method
        if name not in METHODS:
            raise AudioValueError(f"pitch: unknown method {method!r}; choose from "
                                  f"{', '.join(METHODS)}")
        if name == "crepe":
            if model not in CREPE_MODELS:
                raise AudioValueError(f"crepe: unknown model {model!r}; choose from "
                                      f"{', '.join(CREPE_MODELS)}")
            if fmin_hz < CREPE_MIN_HZ or fmax_hz > CREPE_MAX_HZ:
                raise AudioValueError(f"crepe: fmin_hz={fmin_hz}, fmax_hz={fmax_hz} must lie "
                                      f"within CREPE's {CREPE_MIN_HZ}…{CREPE_MAX_HZ:g} Hz")
        if not (math.isfinite(segment_s) and segment_s > 0):
            raise AudioValueError(f"PitchTracker: segment_s={segment_s} must be > 0 s")
        if not (math.isfinite(context_s) and context_s >= 0):
            raise AudioValueError(f"PitchTracker: context_s={context_s} must be >= 0 s")
        self.method, self.model = name, model
        self.fmin_hz, self.fmax_hz, self.hop_s = float(fmin_hz), float(fmax_hz), hop_s
        self.rate = PYIN_RATE_HZ if name == "pyin" else CREPE_RATE_HZ
        # the same range and hop checks (and messages) as the whole-signal call
        _, self._hop = _prepare(Audio(np.zeros((1, 1), np.float32), self.rate), name,
                                self.rate, fmin_hz, fmax_hz, hop_s)
        window = PYIN_FRAME_FRAMES if name == "pyin" else CREPE_WINDOW_FRAMES
        self._half = window // 2
        context = round(context_s / (self._hop / self.rate)) if name == "pyin" else 0
        self._margin = context + -(-self._half // self._hop)   # frames run and dropped per side
        self._segment = max(1, round(segment_s / (self._hop / self.rate)))
        self.segment_s, self.context_s = segment_s, context_s
        self.reset()

    def __repr__(self) -> str:
        return (f"PitchTracker(sample_rate={self.sample_rate}, method={self.method!r}, "
                f"fmin_hz={self.fmin_hz}, fmax_hz={self.fmax_hz}, hop_s={self.hop_s}, "
                f"segment_s={self.segment_s}, context_s={self.context_s})")

    def reset(self) -> None:
        """Forget everything tracked so far."""
        self._resampler: Any = None
        if self.sample_rate != self.rate:
            import soxr  # the one-shot soxr.resample of Audio.resample, as a stream

            self._resampler = soxr.ResampleStream(self.sample_rate, self.rate, 1,
                                                  dtype="float32", quality=RESAMPLE_QUALITY)
        self._pending: list[np.ndarray] = []
        self._buf = np.zeros(0, np.float32)
        self._buf_start = 0           # sample index (method rate) of self._buf[0]
        self._end = 0                 # samples received (method rate)
        self._next = 0                # first frame not yet produced
        self._parts: list[PitchResult] = []
        self._result: PitchResult | None = None

    def process(self, audio: Audio) -> None:
        """Track the next block of the signal (mono, the tracker's input rate, any length).

        Raises
        ------
        SampleRateError
            If the block's rate differs from the tracker's.
        AudioValueError
            If the block is not mono, or :meth:`result` was already called.
        """
        if not isinstance(audio, Audio):
            raise AudioValueError(f"PitchTracker: expected Audio, got {type(audio).__name__}")
        if audio.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"PitchTracker: block is {audio.sample_rate} Hz but the tracker reads "
                f"{self.sample_rate} Hz; create it with the stream's rate")
        if audio.channels != 1:
            raise AudioValueError(f"PitchTracker: needs mono blocks, got {audio.channels} "
                                  "channels; call block.to_mono() first")
        if self._result is not None:
            raise AudioValueError("PitchTracker: result() was called; reset() to track "
                                  "another signal")
        x = audio.samples[0]
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x, last=False).reshape(-1)
        self._take(x)
        while self._end >= self._stop(self._next + self._segment):
            self._run(self._next + self._segment, self._stop(self._next + self._segment))

    def _take(self, x: np.ndarray) -> None:
        if x.size:
            self._pending.append(np.array(x, dtype=np.float32))
            self._end += x.size

    def _stop(self, end_frame: int) -> int:
        """Last sample (exclusive) a run producing frames up to ``end_frame`` reads."""
        return (end_frame + self._margin) * self._hop + self._half

    def _run(self, end_frame: int, stop: int) -> None:
        """Run the tracker on samples up to ``stop`` and keep frames ``[_next, end_frame)``."""
        if self._pending:
            self._buf = np.concatenate([self._buf, *self._pending])
            self._pending = []
        start_frame = max(0, self._next - self._margin)
        start = start_frame * self._hop
        segment = Audio(self._buf[start - self._buf_start:stop - self._buf_start][np.newaxis],
                        self.rate)
        if self.method == "pyin":
            r = pyin(segment, fmin_hz=self.fmin_hz, fmax_hz=self.fmax_hz, hop_s=self.hop_s)
        else:
            r = crepe(segment, fmin_hz=self.fmin_hz, fmax_hz=self.fmax_hz, hop_s=self.hop_s,
                      model=self.model)
        keep = slice(self._next - start_frame, end_frame - start_frame)
        assert r.times_s.size >= keep.stop
        self._parts.append(PitchResult(
            times_s=r.times_s[keep], f0_hz=r.f0_hz[keep], f0_candidate_hz=r.f0_candidate_hz[keep],
            voiced_prob=r.voiced_prob[keep], voiced=r.voiced[keep], method=r.method,
            sample_rate=r.sample_rate, hop_s=r.hop_s, fmin_hz=r.fmin_hz, fmax_hz=r.fmax_hz))
        self._next = end_frame
        drop = max(0, self._next - self._margin) * self._hop - self._buf_start
        self._buf = self._buf[drop:].copy()
        self._buf_start += drop

    def result(self) -> PitchResult:
        """End the signal and return its F0 track (the same frames as a whole-signal call).

        After this, :meth:`process` raises until :meth:`reset`; calling :meth:`result` again
        returns the same value.

        Raises
        ------
        AudioValueError
            If no audio was fed.
        """
        if self._result is not None:
            return self._result
        if self._resampler is not None:
            self._take(self._resampler.resample_chunk(np.zeros(0, np.float32),
                                                      last=True).reshape(-1))
        if self._end == 0:
            raise AudioValueError("PitchTracker: no audio was fed")
        total = 1 + self._end // self._hop       # centred frames of the whole signal
        while self._next < total:
            end_frame = min(total, self._next + self._segment)
            self._run(end_frame, min(self._end, self._stop(end_frame)))
        parts = self._parts
        f0 = np.concatenate([p.f0_hz for p in parts])
        first = parts[0]
        self._result = PitchResult(
            times_s=np.arange(f0.size) * self._hop / self.rate, f0_hz=f0,
            f0_candidate_hz=np.concatenate([p.f0_candidate_hz for p in parts]),
            voiced_prob=np.concatenate([p.voiced_prob for p in parts]),
            voiced=np.concatenate([p.voiced for p in parts]), method=first.method,
            sample_rate=first.sample_rate, hop_s=first.hop_s, fmin_hz=first.fmin_hz,
            fmax_hz=first.fmax_hz)
        self._parts = []
        return self._result
