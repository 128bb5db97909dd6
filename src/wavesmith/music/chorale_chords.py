"""A chord per beat for a chorale melody: the key-relative chord HMM trained on Bach chorales.

The model is :class:`~wavesmith.music.harmonize.HarmonyModel` with ``unit="beat"`` (a quarter
note, or a dotted quarter in 6/8) and ``final=True``: per mode (major or minor, from the
Krumhansl-Kessler key estimate on the soprano), start, beat-to-beat transition and last-chord
counts over the 49 chord labels relative to the tonic, and the tonic-relative pitch classes the
soprano sounds during each beat (16th steps) as the emission, backed off to one table per
chord quality. The emission weight and the back-off were chosen on the ``valid`` chorales.

Training labels: at every beat onset where all four voices sound, the chord of their pitch
classes (:func:`~wavesmith.music.harmonize.chord_of`, bass = the lowest note). The chorales
change harmony almost every beat, which the per-bar Nottingham HMM cannot follow; on the held
out test chorales this model gets Bach's chord on about twice as many beats (see the card of
``data/chorale_chords.json``, built by ``python scripts/train_music.py chorale-chords --ship``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.errors import ModelError, ModelNotFoundError
from wavesmith.music.chorale_corpus import Chorale, beat_grid, soprano_melody
from wavesmith.music.harmonize import (
    CHORDS,
    N_QUAL,
    HarmonyModel,
    beat_steps_for,
    chord_of,
    estimate_key,
)
from wavesmith.music.midi import STEPS_PER_QUARTER, Melody
from wavesmith.music.weights import DATA_DIR

__all__ = ["SHIPPED_CHORALE_CHORDS", "beat_labels", "evaluate_chords", "fit_chorale_chords",
           "load_chorale_chords", "quarter_beat_chords"]

SHIPPED_CHORALE_CHORDS = DATA_DIR / "chorale_chords.json"
UNLABELLED = -1                 # label of a melody beat without four sounding voices


def beat_labels(chorale: Chorale) -> tuple[Melody, np.ndarray]:
    """The soprano melody (:func:`~wavesmith.music.chorale_corpus.soprano_melody`) and a
    chord index per melody beat: int ``(beats,)``, :data:`UNLABELLED` where the beat does not
    start on a quarter note of the score or not all four voices sound there."""
    mel = soprano_melody(chorale)
    bs = beat_steps_for(mel)
    pad = round(chorale.pickup_q * STEPS_PER_QUARTER) % mel.steps_per_bar
    grid = beat_grid(chorale)
    labels = np.full(-(-mel.steps // bs), UNLABELLED, dtype=np.int64)
    for j in range(len(labels)):
        q, off = divmod(j * bs - pad, STEPS_PER_QUARTER)
        if j * bs >= pad and not off and q < len(grid) and (grid[q] >= 0).all():
            labels[j] = chord_of(grid[q].tolist(), int(grid[q].min()))
    return mel, labels


def fit_chorale_chords(chorales: Sequence[Chorale], *, emission_weight: float = 0.25,
                       backoff_k: float = 400.0) -> HarmonyModel:
    """Count a per-beat chord HMM (``unit="beat"``, ``final=True``) on ``chorales``."""
    model = HarmonyModel(emission_weight=emission_weight, backoff_k=backoff_k, unit="beat",
                         final=True)
    return model.fit([beat_labels(c) for c in chorales])


def quarter_beat_chords(chorale: Chorale, beats: np.ndarray, harmony: HarmonyModel, *,
                        use_transitions: bool = True) -> list[int]:
    """Chord index per quarter-note beat ``beats`` (indices into the chorale's
    :func:`~wavesmith.music.chorale_corpus.beat_grid`) from ``harmony`` run on the soprano:
    each beat takes the chord of the bar or melody beat (the model's ``unit``) it falls in;
    ``N`` steps take the next chord (else the previous one)."""
    mel = soprano_melody(chorale)
    pad = round(chorale.pickup_q * STEPS_PER_QUARTER) % mel.steps_per_bar   # as the melody
    per_unit = [CHORDS.index(c) for c in harmony.decode(mel, use_transitions=use_transitions)]
    for i in range(len(per_unit) - 2, -1, -1):
        per_unit[i] = per_unit[i] or per_unit[i + 1]
    for i in range(1, len(per_unit)):
        per_unit[i] = per_unit[i] or per_unit[i - 1]
    span = mel.steps_per_bar if harmony.unit == "bar" else beat_steps_for(mel)
    units = (pad + STEPS_PER_QUARTER * np.asarray(beats)) // span
    return [per_unit[min(int(u), len(per_unit) - 1)] for u in units]


def evaluate_chords(chorales: Sequence[Chorale], model: HarmonyModel | None = None, *,
                    folk: HarmonyModel | None = None) -> dict[str, Any]:
    """Share of beats whose chord (``chord_accuracy``) and root (``root_accuracy``) equal
    Bach's, on quarter-note beats where all four voices sound (the beats of
    :func:`~wavesmith.music.chorale.evaluate_voicing`; Bach's chord is
    :func:`~wavesmith.music.harmonize.chord_of` of the four voices, bass voice as bass).

    Rows: ``model`` (the per-beat chorale HMM, default the shipped one), ``no_transitions``
    (the same model choosing each beat alone: the most likely chord given the beat's
    soprano pitch classes), ``folk_hmm`` (the per-bar Nottingham HMM, default the shipped
    one, each bar's chord on all its beats) and ``tonic_triad`` (the estimated key's tonic
    triad on every beat); plus ``chorales`` and ``beats``.
    """
    model = model or load_chorale_chords()
    if folk is None:
        from wavesmith.music.harmonize import load_harmony

        folk = load_harmony()
    rows = ("model", "no_transitions", "folk_hmm", "tonic_triad")
    hit = dict.fromkeys(rows, 0)
    root = dict.fromkeys(rows, 0)
    n = used = 0
    for ch in chorales:
        grid = beat_grid(ch)
        keep = np.flatnonzero((grid >= 0).all(1))
        if len(keep) < 2:           # as evaluate_voicing
            continue
        used += 1
        real = np.array([chord_of(r.tolist(), int(r[3])) for r in grid[keep]])
        tonic, mode = estimate_key(soprano_melody(ch))
        preds = {"model": quarter_beat_chords(ch, keep, model),
                 "no_transitions": quarter_beat_chords(ch, keep, model, use_transitions=False),
                 "folk_hmm": quarter_beat_chords(ch, keep, folk),
                 "tonic_triad": [1 + tonic * N_QUAL + (mode == "minor")] * len(keep)}
        for name, pred in preds.items():
            p = np.asarray(pred)
            hit[name] += int((p == real).sum())
            root[name] += int(((p - 1) // N_QUAL == (real - 1) // N_QUAL).sum())
        n += len(keep)
    out: dict[str, Any] = {"chorales": used, "beats": n}
    for name in rows:
        out[name] = {"chord_accuracy": round(hit[name] / max(n, 1), 4),
                     "root_accuracy": round(root[name] / max(n, 1), 4)}
    return out


@lru_cache(maxsize=4)
def _load(path: str) -> HarmonyModel:
    p = Path(path)
    if not p.is_file():
        raise ModelNotFoundError(f"{p}: chorale chord table not found; build it with "
                                 "`python scripts/train_music.py chorale-chords`")
    try:
        model = HarmonyModel.from_dict(json.loads(p.read_text()), source=str(p))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{p}: cannot read chorale chord table ({msg})") from exc
    if model.unit != "beat":
        raise ModelError(f"{p}: a per-bar chord HMM, not a per-beat chorale chord table")
    return model


def load_chorale_chords(path: str | os.PathLike[str] | None = None) -> HarmonyModel:
    """Load the shipped per-beat chorale chord HMM (or a table saved at ``path``).

    Raises
    ------
    ModelNotFoundError
        If the file is missing.
    ModelError
        If it is not a per-beat chord HMM table of this format.
    """
    return _load(str(Path(path) if path is not None else SHIPPED_CHORALE_CHORDS))
