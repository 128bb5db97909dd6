"""Folk tune or chorale melody? A logistic-regression style classifier on 2-bar segments.

It measures the ``chorale`` / ``folk`` attribute vectors of :mod:`wavesmith.music.transfer`:
a transferred melody should be classified as the target style more often than the VAE's
plain reconstruction of it. Segments are the VAE's 32-step (2-bar 4/4) windows, and the
features are transposition-invariant (:data:`FEATURES`): rhythm (onsets per step, where
they fall in the beat, note lengths, rests) and contour (interval sizes, range, pitch
classes used). The model is L2-regularised logistic regression on standardised features
with balanced class weights, fitted by Newton's method: small enough to ship as JSON inside
``data/vae_attributes.json`` (``python scripts/train_music.py attributes --ship``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wavesmith.errors import ModelError
from wavesmith.music.midi import Melody

__all__ = ["FEATURES", "StyleClassifier", "evaluate_style_transfer", "load_style_classifier",
           "segment_features", "style_segments"]

FEATURES = ("onsets_per_step", "onbeat_share", "offbeat_eighth_share", "sixteenth_share",
            "mean_duration_steps", "longest_duration_steps", "rest_share",
            "mean_abs_interval", "repeat_share", "step_share", "leap_share",
            "range_semitones", "distinct_pitch_classes")
L2 = 1.0                        # penalty on the (standardised) coefficients
NEWTON_STEPS = 30
SEGMENT = 32                    # 16th steps per segment (the VAE's)


def _one(seg: np.ndarray) -> list[float]:
    on = np.flatnonzero(seg >= 2)
    pitches = seg[on] - 2
    stops = np.flatnonzero(seg != 0)                      # an onset or a NOTE_OFF
    ends = [int(stops[stops > i][0]) if (stops > i).any() else SEGMENT for i in on]
    dur = np.array(ends) - on
    iv = np.abs(np.diff(pitches))
    n_iv = max(1, len(iv))
    return [len(on) / SEGMENT, float((on % 4 == 0).mean()), float((on % 4 == 2).mean()),
            float((on % 2 == 1).mean()), float(dur.mean()), float(dur.max()),
            1.0 - float(dur.sum()) / SEGMENT,
            float(iv.mean()) if len(iv) else 0.0, float((iv == 0).sum()) / n_iv,
            float(((iv >= 1) & (iv <= 2)).sum()) / n_iv, float((iv >= 5).sum()) / n_iv,
            float(pitches.max() - pitches.min()), float(len(set((pitches % 12).tolist())))]


def segment_features(segments: np.ndarray) -> np.ndarray:
    """Features of 2-bar segments (classes ``(n, 32)``, each with an onset): float
    ``(n, len(FEATURES))``; durations in 16th steps, intervals in semitones."""
    return np.array([_one(s) for s in segments], dtype=np.float64).reshape(-1, len(FEATURES))


def style_segments(melodies: Sequence[Melody], *, bars: int | None = None) -> np.ndarray:
    """The 2-bar segments with at least one onset (every 2 bars from the start) of the
    melodies whose meter the VAE takes (others skipped), optionally only the first
    ``bars`` bars of each: classes ``(n, 32)``."""
    from wavesmith.music.vae import melody_segments

    parts = [melody_segments(m if bars is None else m.crop(bars),
                             hop_bars=SEGMENT // m.steps_per_bar)
             for m in melodies if SEGMENT % m.steps_per_bar == 0]
    parts = [p for p in parts if len(p)]
    return np.concatenate(parts) if parts else np.zeros((0, SEGMENT), dtype=np.int64)


@dataclass
class StyleClassifier:
    """``P(chorale | segment)`` by logistic regression on standardised :data:`FEATURES`."""

    mean: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))
    scale: np.ndarray = field(default_factory=lambda: np.ones(len(FEATURES)))
    coef: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))
    intercept: float = 0.0

    def fit(self, folk: np.ndarray, chorale: np.ndarray) -> StyleClassifier:
        """Fit on segments (classes ``(n, 32)``) of each style; classes weighted so each
        style counts as much in the loss. Returns ``self``."""
        x = np.concatenate([segment_features(folk), segment_features(chorale)])
        y = np.r_[np.zeros(len(folk)), np.ones(len(chorale))]
        w = np.where(y == 1, len(y) / (2 * len(chorale)), len(y) / (2 * len(folk)))
        self.mean, self.scale = x.mean(0), np.where(x.std(0) > 0, x.std(0), 1.0)
        z = np.c_[(x - self.mean) / self.scale, np.ones(len(x))]
        beta = np.zeros(z.shape[1])
        reg = np.r_[np.full(len(FEATURES), L2), 0.0]
        for _ in range(NEWTON_STEPS):
            p = 1.0 / (1.0 + np.exp(-z @ beta))
            grad = z.T @ (w * (p - y)) + reg * beta
            hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(reg + 1e-9)
            beta -= np.linalg.solve(hess, grad)
        self.coef, self.intercept = beta[:-1], float(beta[-1])
        return self

    def prob_chorale(self, segments: np.ndarray) -> np.ndarray:
        """``P(chorale)`` per segment (classes ``(n, 32)``): float ``(n,)``."""
        if not len(segments):
            return np.zeros(0)
        z = (segment_features(segments) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.coef + self.intercept)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {"model": "style_logreg", "features": list(FEATURES), "l2": L2,
                "mean": self.mean.round(6).tolist(), "scale": self.scale.round(6).tolist(),
                "coef": self.coef.round(6).tolist(), "intercept": round(self.intercept, 6)}

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "classifier") -> StyleClassifier:
        """Rebuild from :meth:`to_dict` output.

        Raises
        ------
        ModelError
            If it is not a style classifier over :data:`FEATURES`.
        """
        if not isinstance(d, dict) or d.get("model") != "style_logreg" \
                or d.get("features") != list(FEATURES):
            raise ModelError(f"{source}: not a wavesmith style classifier over {FEATURES}")
        return cls(*(np.asarray(d[k], dtype=np.float64) for k in ("mean", "scale", "coef")),
                   float(d["intercept"]))


def load_style_classifier(path: str | None = None) -> StyleClassifier:
    """The folk/chorale classifier shipped in the attribute vectors' file (or ``path``).

    Raises
    ------
    ModelNotFoundError, ModelError
        As :func:`wavesmith.music.transfer.load_attributes`, or if the file holds no
        classifier.
    """
    from wavesmith.music.transfer import load_attributes

    card = load_attributes(path).card
    if "style_classifier" not in card:
        raise ModelError(f"{path or 'shipped attribute vectors'}: no style classifier "
                         "(rebuild: python scripts/train_music.py attributes --ship)")
    return StyleClassifier.from_dict(card["style_classifier"], source=str(path or "shipped"))


def evaluate_style_transfer(vae: Any, vectors: Any, classifier: StyleClassifier,
                            folk: Sequence[Melody], chorales: Sequence[Melody], *,
                            bars: int = 8, amounts: tuple[float, ...] = (0.0, 1.0, 1.5, 2.0)
                            ) -> dict[str, Any]:
    """How the classifier sees real held-out melodies and the transferred ones.

    ``folk`` and ``chorales`` are held-out tunes; the first ``bars`` bars of those in a
    meter the VAE takes are used. Returns the classifier's accuracy on their real 2-bar
    segments (per style and balanced), then for each ``amount`` the share of segments
    classified as the *target* style after moving folk tunes towards ``chorale`` and
    chorales towards ``folk`` (amount 0 is the VAE's plain reconstruction: the baseline),
    next to the share for the untouched originals.
    """
    from wavesmith.music.transfer import transfer

    def usable(ms: Sequence[Melody]) -> list[Melody]:
        return [m.crop(bars) for m in ms if SEGMENT % m.steps_per_bar == 0 and m.bars >= bars
                and (m.crop(bars).tokens >= 0).any()]

    tunes = {"folk": usable(folk), "chorale": usable(chorales)}
    real = {k: classifier.prob_chorale(style_segments(v)) for k, v in tunes.items()}
    acc_folk, acc_chorale = float((real["folk"] < 0.5).mean()), float(
        (real["chorale"] >= 0.5).mean())
    out: dict[str, Any] = {
        "bars": bars, "tunes": {k: len(v) for k, v in tunes.items()},
        "segments": {k: len(v) for k, v in real.items()},
        "real_accuracy": {"folk": round(acc_folk, 4), "chorale": round(acc_chorale, 4),
                          "balanced": round((acc_folk + acc_chorale) / 2, 4)}}
    for source, target in (("folk", "chorale"), ("chorale", "folk")):
        share = {"original": round(float(((real[source] >= 0.5) == (target == "chorale"))
                                         .mean()), 4)}
        for amount in amounts:
            moved = [transfer(vae, m, target, amount, vectors=vectors) for m in tunes[source]]
            p = classifier.prob_chorale(style_segments(moved))
            share[f"amount_{amount:g}"] = round(float(((p >= 0.5) == (target == "chorale"))
                                                      .mean()), 4) if len(p) else 0.0
        out[f"{source}_to_{target}_share_{target}"] = share
    return out
