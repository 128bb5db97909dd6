"""CTC decoding in NumPy: greedy, prefix beam search, forced alignment (no torch needed).

Inputs are per-frame log-probabilities ``(n_frames, n_symbols)`` with the blank at index
:data:`BLANK`. Symbols are integers; the caller maps them to text.

* :func:`greedy_decode`: best symbol per frame, repeats merged, blanks dropped.
* :func:`prefix_beam_search`: Hannun et al., "First-pass large vocabulary continuous speech
  recognition using bidirectional recurrent DNNs", arXiv:1412.2545 (2014), without a language
  model. It sums the probability of every alignment of a prefix (greedy keeps only one), so
  it finds the most probable *string*, not the most probable frame path.
* :func:`forced_align`: the Viterbi CTC alignment of a known symbol sequence, which gives
  each symbol's frames (its "spike"): the per-digit times of the recognizer.

Own ~100 lines instead of a library: torchaudio's ``ctc_decoder`` (flashlight) does not load
beside torch 2.13 here, and pyctcdecode is built for word LMs (kenlm) and would add a
dependency to inference; for an 11-symbol alphabet with no LM a short exact search is enough
and keeps inference torch-free (onnxruntime + NumPy).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

__all__ = ["BLANK", "Hypothesis", "forced_align", "frames_to_seconds", "greedy_decode",
           "log_softmax", "prefix_beam_search"]

BLANK = 0                 # index of the CTC blank symbol
NEG_INF = -math.inf


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable log-softmax along ``axis`` (float64 out)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def greedy_decode(log_probs: np.ndarray) -> list[int]:
    """Best-path decoding: argmax per frame, merge repeats, drop blanks."""
    best = np.asarray(log_probs).argmax(axis=1)
    out, prev = [], BLANK
    for s in best.tolist():
        if s != prev and s != BLANK:
            out.append(s)
        prev = s
    return out


@dataclass(frozen=True)
class Hypothesis:
    """A decoded symbol sequence and its log-probability (summed over its alignments)."""

    symbols: tuple[int, ...]
    log_prob: float


def _logadd(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def prefix_beam_search(log_probs: np.ndarray, beam_size: int = 8,
                       prune_log_prob: float = -12.0) -> list[Hypothesis]:
    """CTC prefix beam search without a language model.

    Each prefix keeps two scores: the log-probability of its alignments ending in a blank
    (``pb``) and ending in its last symbol (``pnb``). Per frame, each prefix is extended by
    blank, by a repeat of its last symbol (which only continues it, unless a blank came
    between) and by every other symbol; the ``beam_size`` best prefixes survive.

    Parameters
    ----------
    log_probs : ndarray, shape (n_frames, n_symbols)
        Per-frame log-probabilities; blank at :data:`BLANK`.
    beam_size : int, default 8
        Prefixes kept after each frame (1 is close to greedy decoding).
    prune_log_prob : float, default -12.0
        Symbols below this log-probability in a frame are not tried (speed; ~6e-6).

    Returns
    -------
    list of Hypothesis
        Up to ``beam_size`` hypotheses, most probable first.
    """
    lp = np.asarray(log_probs, dtype=np.float64)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}
    for t in range(lp.shape[0]):
        frame = lp[t]
        cand = [s for s in np.flatnonzero(frame >= prune_log_prob).tolist() if s != BLANK]
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [NEG_INF, NEG_INF])
        for prefix, (pb, pnb) in beams.items():
            total = _logadd(pb, pnb)
            e = nxt[prefix]                               # stay: emit blank
            e[0] = _logadd(e[0], total + frame[BLANK])
            if prefix:                                    # stay: repeat the last symbol
                e[1] = _logadd(e[1], pnb + frame[prefix[-1]])
            for s in cand:
                ext = nxt[(*prefix, s)]
                if prefix and s == prefix[-1]:            # a new s needs a blank in between
                    ext[1] = _logadd(ext[1], pb + frame[s])
                else:
                    ext[1] = _logadd(ext[1], total + frame[s])
        scored = [(k, v, _logadd(*v)) for k, v in nxt.items()]
        ranked = sorted((x for x in scored if x[2] > NEG_INF), key=lambda x: x[2],
                        reverse=True)   # impossible prefixes (e.g. "22" in 2 frames) dropped
        beams = {k: (v[0], v[1]) for k, v, _ in ranked[:beam_size]}
    hyps = [Hypothesis(k, _logadd(*v)) for k, v in beams.items()]
    return sorted(hyps, key=lambda h: h.log_prob, reverse=True)


def forced_align(log_probs: np.ndarray, symbols: list[int] | tuple[int, ...]
                 ) -> list[tuple[int, int]]:
    """Frames of each symbol on the most probable CTC path that spells ``symbols``.

    Viterbi over the blank-interleaved sequence ``(blank, s1, blank, s2, …, blank)``.

    Returns
    -------
    list of (first_frame, last_frame)
        One inclusive frame range per symbol, in order (empty list for no symbols).

    Raises
    ------
    ValueError
        If there are too few frames to spell ``symbols`` (impossible path).
    """
    lp = np.asarray(log_probs, dtype=np.float64)
    n_frames = lp.shape[0]
    if not symbols:
        return []
    ext = [BLANK]
    for s in symbols:
        ext += [s, BLANK]
    n = len(ext)
    score = np.full((n_frames, n), NEG_INF)
    back = np.zeros((n_frames, n), dtype=np.int64)
    score[0, 0] = lp[0, ext[0]]
    score[0, 1] = lp[0, ext[1]]
    for t in range(1, n_frames):
        for j in range(n):
            best, arg = score[t - 1, j], j
            if j >= 1 and score[t - 1, j - 1] > best:
                best, arg = score[t - 1, j - 1], j - 1
            if (j >= 2 and ext[j] != BLANK and ext[j] != ext[j - 2]
                    and score[t - 1, j - 2] > best):
                best, arg = score[t - 1, j - 2], j - 2
            score[t, j] = best + lp[t, ext[j]]
            back[t, j] = arg
    j = n - 1 if score[-1, n - 1] >= score[-1, n - 2] else n - 2
    if score[-1, j] == NEG_INF:
        raise ValueError(f"forced_align: {n_frames} frames cannot spell {len(symbols)} symbols")
    path = [j]
    for t in range(n_frames - 1, 0, -1):
        j = int(back[t, j])
        path.append(j)
    path.reverse()
    spans: list[list[int]] = [[-1, -1] for _ in symbols]
    for t, j in enumerate(path):
        if j % 2 == 1:
            k = j // 2
            if spans[k][0] < 0:
                spans[k][0] = t
            spans[k][1] = t
    return [(a, b) for a, b in spans]


def frames_to_seconds(span: tuple[int, int], frame_s: float) -> tuple[float, float]:
    """Time span (seconds) of output frames ``first..last``: output frame ``k`` is centred
    at ``k * frame_s`` (centred STFT, symmetric padding), so the span is widened by half a
    frame on each side and clipped at 0."""
    first, last = span
    return max(0.0, (first - 0.5) * frame_s), (last + 0.5) * frame_s
