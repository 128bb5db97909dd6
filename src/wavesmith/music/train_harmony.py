"""Build the chord HMM (:class:`wavesmith.music.harmonize.HarmonyModel`) from the Nottingham
accompaniment tracks; entry point :func:`wavesmith.music.train.train_music` with
``kind: music_harmony``.

The HMM is counted, not trained by gradient: transition and emission tables from the train
split, then the emission weight and back-off strength chosen by chord accuracy on the valid
split over the grid ``emission_weights`` x ``backoff_ks``; the test split is scored once, with
two references (no transitions; always the tonic triad).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.music.midi import Melody
from wavesmith.music.train import (
    DATA_NOTE,
    SHIP_DIR,
    SPLIT_NOTE,
    MusicTrainConfig,
    MusicTrainResult,
    describe,
    load_chord_pairs,
    too_small,
)

__all__ = ["chord_scores", "tonic_triad", "train_harmony"]


def chord_scores(model: Any, pairs: list[tuple[Melody, np.ndarray]], **kw: Any
                 ) -> dict[str, float]:
    """Per-bar accuracy of chord symbols and of roots (``N`` counts as its own root).

    ``model`` is a :class:`~wavesmith.music.harmonize.HarmonyModel` (``kw`` go to its
    ``decode``) or a function from a melody to chord names.
    """
    from wavesmith.music.harmonize import CHORDS

    hit = root_hit = n = 0
    for mel, ref in pairs:
        pred = model(mel, **kw) if callable(model) else model.decode(mel, **kw)
        for p, r in zip(pred, ref.tolist(), strict=True):
            ps, rs = CHORDS.index(p), r
            hit += ps == rs
            root_hit += (ps - 1) // 4 == (rs - 1) // 4 if ps and rs else ps == rs
            n += 1
    return {"accuracy": round(hit / n, 4), "root_accuracy": round(root_hit / n, 4), "bars": n}


def tonic_triad(melody: Melody) -> list[str]:
    """The baseline harmonization: the estimated key's tonic triad on every bar."""
    from wavesmith.music.harmonize import CHORDS, estimate_key

    tonic, mode = estimate_key(melody)
    return [CHORDS[1 + tonic * 4 + (0 if mode == "major" else 1)]] * \
        math.ceil(melody.steps / melody.steps_per_bar)


def train_harmony(cfg: MusicTrainConfig, *, built_by: str,
                  log: Callable[[str], None]) -> MusicTrainResult:
    """Count, tune and score the chord HMM; save it as ``<out_dir>/<name>.json``."""
    from wavesmith import __version__
    from wavesmith.music.harmonize import CHORDS, HarmonyModel

    t0, c0 = time.monotonic(), time.process_time()
    data = load_chord_pairs(cfg, log=log)
    if not all(data.values()):
        raise too_small(cfg, ", ".join(f"{len(v)} {k}" for k, v in data.items())
                        + " tunes with chords")
    model = HarmonyModel().fit(data["train"])
    tuning = []
    for w in cfg.emission_weights:
        for k in cfg.backoff_ks:
            model.emission_weight, model.backoff_k = w, k
            tuning.append((chord_scores(model, data["valid"])["accuracy"], w, k))
    _, model.emission_weight, model.backoff_k = max(tuning)
    log(f"harmony: emission_weight {model.emission_weight}, backoff_k {model.backoff_k} "
        "(best on the valid split)")

    train_counts = np.bincount(np.concatenate([c for _, c in data["train"]]),
                               minlength=len(CHORDS))
    metrics = {
        "test": {"hmm": chord_scores(model, data["test"]),
                 "hmm_no_transitions": chord_scores(model, data["test"],
                                                    use_transitions=False),
                 "tonic_triad": chord_scores(tonic_triad, data["test"])},
        "valid_tuning": [{"accuracy": a, "emission_weight": w, "backoff_k": k}
                         for a, w, k in tuning],
        "test_pieces": len(data["test"]), "seconds": round(time.monotonic() - t0, 1)}
    model.provenance = {
        "data": {"description": DATA_NOTE + "; chords = accompaniment track, nearest of 48 "
                 "templates per 16th step, most frequent per bar", "split": SPLIT_NOTE,
                 "pieces": {k: len(v) for k, v in data.items()},
                 "train_label_counts": {CHORDS[i]: int(c) for i, c in enumerate(train_counts)
                                        if c}},
        "metrics": metrics, "built_by": built_by, "music_train": describe(cfg),
        "versions": {"wavesmith": __version__}}
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{cfg.name}.json"
    model.save(path)
    shipped = []
    if cfg.ship:
        model.save(SHIP_DIR / f"{cfg.name}.json")
        shipped.append(str(SHIP_DIR / f"{cfg.name}.json"))
    return MusicTrainResult(kind=cfg.kind, out_dir=cfg.out_dir, weights=str(path),
                            card=str(path), shipped=shipped, metrics=metrics, history=[],
                            train_cpu_seconds=round(time.process_time() - c0, 1))
