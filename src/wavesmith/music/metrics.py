"""Objective musical metrics of melodies (MusPy / MuseGAN kind) and a set-to-set distance.

Per-piece metrics (Dong et al. 2018, MuseGAN; Dong et al. 2020, MusPy):

* ``pitch_class_entropy`` (bits): Shannon entropy of the pitch-class histogram of note
  onsets; 0 for one pitch class, log2(12) ~ 3.58 for all twelve equally.
* ``scale_consistency`` (fraction 0..1): the largest share of notes inside one major or
  (natural) minor scale, over the 24 scales.
* ``pitch_range`` (semitones): highest minus lowest pitch.
* ``note_density`` (notes per bar).
* ``empty_bar_rate`` (fraction 0..1): bars in which no note sounds.
* ``polyphony`` (notes): mean number of pitches sounding at steps where any sounds (1.0 for
  a monophonic melody; kept so polyphonic models are measured the same way).
* ``groove_consistency`` (fraction 0..1): 1 minus the mean Hamming distance between the
  onset patterns of adjacent bars, divided by steps per bar.

The distance between two *sets* of pieces is, per metric, the 1-D Wasserstein (earth mover's)
distance between the two empirical distributions divided by the reference set's standard
deviation (so metrics with different units can be averaged); ``mean`` averages them, leaving
out ``polyphony`` (constant 1 for the monophonic melodies of this slice, so it carries no
information there; it is still reported).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from wavesmith.errors import AudioValueError
from wavesmith.music.midi import Melody

__all__ = ["METRICS", "PieceMetrics", "metric_distance", "piece_metrics", "set_metrics",
           "token_perplexity"]

MAJOR = (0, 2, 4, 5, 7, 9, 11)   # semitones above the tonic
MINOR = (0, 2, 3, 5, 7, 8, 10)   # natural minor
METRICS = ("pitch_class_entropy", "scale_consistency", "pitch_range", "note_density",
           "empty_bar_rate", "polyphony", "groove_consistency")
_MIN_STD = 1e-6  # floor of the reference spread used to normalise a distance


@dataclass(frozen=True)
class PieceMetrics:
    """The metrics of one piece (units in :mod:`wavesmith.music.metrics`); NaN when a
    metric is undefined (e.g. no notes)."""

    pitch_class_entropy: float
    scale_consistency: float
    pitch_range: float
    note_density: float
    empty_bar_rate: float
    polyphony: float
    groove_consistency: float


def piece_metrics(melody: Melody) -> PieceMetrics:
    """Compute :class:`PieceMetrics` for one melody (any length >= 1 step)."""
    if melody.steps == 0:
        raise AudioValueError(f"{melody.name or 'melody'}: empty melody has no metrics")
    spb = melody.steps_per_bar
    n_bars = math.ceil(melody.steps / spb)
    notes = melody.notes()
    sounding = np.zeros(n_bars * spb, dtype=np.int32)
    onsets = np.zeros(n_bars * spb, dtype=bool)
    for nt in notes:
        sounding[nt.start_step:nt.end_step] += 1
        onsets[nt.start_step] = True
    bars_active = sounding.reshape(n_bars, spb).any(axis=1)
    empty = 1.0 - float(bars_active.mean())
    nan = float("nan")
    if not notes:
        return PieceMetrics(nan, nan, nan, 0.0, empty, nan, nan)
    pitches = np.array([nt.pitch for nt in notes])
    hist = np.bincount(pitches % 12, minlength=12).astype(np.float64)
    prob = hist[hist > 0] / hist.sum()
    entropy = float(-(prob * np.log2(prob)).sum())
    best = 0.0
    for root in range(12):
        for scale in (MAJOR, MINOR):
            best = max(best, float(hist[[(root + s) % 12 for s in scale]].sum() / hist.sum()))
    active = sounding[sounding > 0]
    grid = onsets.reshape(n_bars, spb)
    groove = (1.0 - float(np.mean(np.sum(grid[1:] != grid[:-1], axis=1))) / spb
              if n_bars > 1 else nan)
    return PieceMetrics(entropy, best, float(pitches.max() - pitches.min()),
                        len(notes) / melody.bars, empty, float(active.mean()), groove)


def set_metrics(melodies: Sequence[Melody]) -> dict[str, np.ndarray]:
    """Per-metric arrays (shape ``(pieces,)``) for a set of melodies."""
    rows = [asdict(piece_metrics(m)) for m in melodies]
    if not rows:
        raise AudioValueError("set_metrics: no melodies given")
    return {k: np.array([r[k] for r in rows], dtype=np.float64) for k in METRICS}


def metric_distance(generated: Sequence[Melody], reference: Sequence[Melody]
                    ) -> dict[str, float]:
    """Normalised Wasserstein distance of each metric's distribution, plus ``mean``.

    0 means the generated set's metric distributions equal the reference's; 1 means they are
    one reference standard deviation apart (for a shift). Undefined (NaN) values are left
    out; a metric undefined for a whole set is NaN and left out of ``mean``, as is
    ``polyphony``. A reference without spread is normalised by ``max(std, 1e-6)``.
    """
    from scipy.stats import wasserstein_distance  # exact 1-D EMD of empirical distributions

    gen, ref = set_metrics(generated), set_metrics(reference)
    out: dict[str, float] = {}
    for k in METRICS:
        g, r = gen[k][np.isfinite(gen[k])], ref[k][np.isfinite(ref[k])]
        if g.size == 0 or r.size == 0:
            out[k] = float("nan")
            continue
        w = float(wasserstein_distance(g, r))
        out[k] = 0.0 if w == 0.0 else w / max(float(r.std()), _MIN_STD)
    finite = [v for k, v in out.items() if math.isfinite(v) and k != "polyphony"]
    out["mean"] = float(np.mean(finite)) if finite else float("nan")
    return out


def token_perplexity(model: Any, melodies: Iterable[Melody]) -> tuple[float, float]:
    """``(nll_per_token, perplexity)`` of ``melodies`` under ``model`` (anything with
    ``nll(melody) -> (nats, tokens)``), pooled over all tokens: nats per token and ``exp`` of
    it (the effective number of equally likely choices per token)."""
    total, n = 0.0, 0
    for m in melodies:
        t, c = model.nll(m)
        total, n = total + t, n + c
    if n == 0:
        raise AudioValueError("perplexity: no tokens to score")
    return total / n, math.exp(total / n)
