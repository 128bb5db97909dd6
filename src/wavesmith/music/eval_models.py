"""``wavesmith music eval --model vae|vae16|gan|harmony|transfer|all``: the shipped music
models re-scored on held-out real music, each next to its baselines measured in the same run.

Every protocol is the one the model's training run used for its card (the numbers must
agree with the card, which the tests check), so a user can re-measure a shipped checkpoint
without retraining it:

``vae``
    2-bar VAE: per-step reconstruction accuracy of the test tunes' 2-bar segments (greedy
    from the latent mean; baseline: always predicting "no event", the commonest token) and
    metric distances of 16-bar samples (seed ``i``) next to the Markov table, uniform-random
    tokens and the real valid crops (:mod:`wavesmith.music.metrics`).
``vae16``
    16-bar hierarchical VAE: :func:`wavesmith.music.train_vae16.evaluate_vae16`
    (reconstruction vs the 2-bar VAE on the same windows, samples, interpolation).
``gan``
    Metric distances of one 16-bar sample per real 16-bar 4/4 test crop.
``harmony``
    Chord accuracy per bar on the test tunes' accompaniment tracks: the HMM, the HMM
    without transitions and the tonic triad (:func:`wavesmith.music.train_harmony.chord_scores`).
``chorale``
    On the held-out Bach chorales (split by hymn melody): the per-beat chorale chord HMM's
    accuracy against the folk HMM and the tonic triad
    (:func:`wavesmith.music.chorale_chords.evaluate_chords`), and the four-part voicing of
    the sopranos with those chords against close root-position voicing
    (:func:`wavesmith.music.chorale.evaluate_voicing`).
``transfer``
    Attribute vectors on held-out tunes (:func:`wavesmith.music.transfer.evaluate_transfer`)
    and folk ↔ chorale judged by the shipped style classifier on held-out Nottingham tunes and
    held-out chorales (:func:`wavesmith.music.style.evaluate_style_transfer`).

Each result carries ``summary`` rows (model, measure, value, baseline, baseline value,
which direction is better): the README's "models vs baselines" table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from wavesmith.errors import AudioValueError
from wavesmith.music.midi import Melody
from wavesmith.music.weights import one_thread

__all__ = ["EVAL_MODELS", "evaluate_shipped"]

EVAL_MODELS = ("vae", "vae16", "gan", "harmony", "chorale", "transfer")
Log = Callable[[str], None]


def _row(model: str, measure: str, value: float, baseline: str, base_value: float,
         better: str) -> dict[str, Any]:
    """One summary row; ``beats_baseline`` says whether ``value`` is on the ``better``
    (``"higher"`` or ``"lower"``) side of ``base_value``; None for a reference
    (``better="reference"``, e.g. real tunes: a floor to approach, not to beat)."""
    beats = None if better == "reference" else \
        bool(value > base_value if better == "higher" else value < base_value)
    return {"model": model, "measure": measure, "value": round(float(value), 4),
            "baseline": baseline, "baseline_value": round(float(base_value), 4),
            "better": better, "beats_baseline": beats}


def _sample_distances(name: str, sampler: Callable[[int], Melody],
                      data: dict[str, list[Melody]]) -> dict[str, Any]:
    """Metric distances to the 16-bar 4/4 test crops of one sample per crop (seed ``i``),
    with the Markov table, uniform-random tokens and the valid crops beside it."""
    from wavesmith.music.evaluate import baseline_distances, crops_16
    from wavesmith.music.metrics import metric_distance

    reference, valid = crops_16(data["test"]), crops_16(data["valid"])
    if not reference:
        raise AudioValueError("no held-out test tune is 16 bars of 4/4 long (is --limit too "
                              "small?)")
    n = len(reference)
    t0 = time.monotonic()
    gen = [sampler(i) for i in range(n)]
    per_16 = (time.monotonic() - t0) / n
    out = {name: metric_distance(gen, reference), **baseline_distances(reference, valid)}
    return {"distances": out, "pieces": n, "seeds": f"0..{n - 1}",
            "seconds_per_16_bars": round(per_16, 3)}


def _distance_rows(model: str, dist: dict[str, Any]) -> list[dict[str, Any]]:
    d = dist["distances"]
    markov = next(k for k in d if k.startswith("markov-"))
    rows = [_row(model, "metric distance, 16 bars (mean)", d[model]["mean"], markov,
                 d[markov]["mean"], "lower"),
            _row(model, "metric distance, 16 bars (mean)", d[model]["mean"], "uniform-random",
                 d["uniform-random"]["mean"], "lower")]
    if "real-valid" in d:
        rows.append(_row(model, "metric distance, 16 bars (mean)", d[model]["mean"],
                         "real tunes (floor)", d["real-valid"]["mean"], "reference"))
    return rows


def _eval_vae(data: dict[str, list[Melody]], log: Log) -> dict[str, Any]:
    from wavesmith.music.train_melody import vae_segments
    from wavesmith.music.vae import load_vae

    vae = load_vae()
    segs = vae_segments(data["test"], 2)
    if len(segs) == 0:
        raise AudioValueError("no held-out 2-bar segment of 4/4, 2/4 or 2/2")
    log(f"vae: reconstructing {len(segs)} held-out 2-bar segments")
    rec = vae.accuracy(segs)
    hold = float((segs == 0).mean())       # class 0 = NO_EVENT, the commonest token
    log("vae: 16-bar samples")
    dist = _sample_distances("vae", lambda i: vae.sample(bars=16, seed=i), data)
    rows = [_row("vae", "2-bar reconstruction (share of steps)", rec["accuracy_free"],
                 "always 'no event'", hold, "higher"), *_distance_rows("vae", dist)]
    return {"reconstruction": {**rec, "segments": len(segs),
                               "always_no_event": round(hold, 4)},
            "samples": dist, "summary": rows}


def _eval_vae16(data: dict[str, list[Melody]], log: Log) -> dict[str, Any]:
    from wavesmith.music.train_vae16 import EVAL_HOP_BARS, evaluate_vae16, windows_of
    from wavesmith.music.vae16 import load_vae16

    metrics = evaluate_vae16(load_vae16(), data, log=log)
    windows, _ = windows_of(data["test"], EVAL_HOP_BARS)
    hold = float((windows == 0).mean())
    metrics["test"]["always_no_event"] = round(hold, 4)
    rows = [_row("vae16", "16-bar reconstruction (share of steps)",
                 metrics["test"]["accuracy_free"], "always 'no event'", hold, "higher"),
            _row("vae16", "16-bar reconstruction (share of steps)",
                 metrics["test"]["accuracy_free"], "2-bar VAE, 8 codes per window",
                 metrics["test_2bar_model"]["accuracy_free"], "higher")]
    if "distances_16_bars_4_4" in metrics:
        d = metrics["distances_16_bars_4_4"]
        rows += _distance_rows("vae16", {"distances": d})
        rows.append(_row("vae16", "metric distance, 16 bars (mean)", d["vae16"]["mean"],
                         "2-bar VAE samples", d["vae-2bar"]["mean"], "lower"))
    metrics["summary"] = rows
    return metrics


def _eval_gan(data: dict[str, list[Melody]], log: Log) -> dict[str, Any]:
    from wavesmith.music.gan import load_gan

    gan = load_gan()
    log("gan: 16-bar samples")
    dist = _sample_distances("gan", lambda i: gan.sample(bars=16, seed=i), data)
    return {"samples": dist, "summary": _distance_rows("gan", dist)}


def _eval_harmony(root: str | os.PathLike[str] | None, limit: int | None,
                  log: Log) -> dict[str, Any]:
    from wavesmith.music.harmonize import load_harmony
    from wavesmith.music.train import MusicTrainConfig, load_chord_pairs
    from wavesmith.music.train_harmony import chord_scores, tonic_triad

    cfg = MusicTrainConfig.from_dict({"kind": "music_harmony", "cache_dir": None,
                                      "limit": limit,
                                      **({"data": str(root)} if root is not None else {})},
                                     source="music eval")
    log("harmony: reading melody + chord tracks")
    test = load_chord_pairs(cfg)["test"]
    if not test:
        raise AudioValueError("no held-out tune with an accompaniment track")
    model = load_harmony()
    scores = {"hmm": chord_scores(model, test),
              "hmm_no_transitions": chord_scores(model, test, use_transitions=False),
              "tonic_triad": chord_scores(tonic_triad, test)}
    rows = [_row("harmony", "chord accuracy per bar", scores["hmm"]["accuracy"], b,
                 scores[k]["accuracy"], "higher")
            for k, b in (("hmm_no_transitions", "HMM without transitions"),
                         ("tonic_triad", "tonic triad every bar"))]
    return {"test": scores, "test_pieces": len(test), "summary": rows}


def _test_chorales() -> list[Any]:
    from wavesmith.music.chorale_corpus import load_chorales, split_chorales

    return split_chorales(load_chorales(), seed=0)["test"]


def _eval_chorale(log: Log) -> dict[str, Any]:
    from wavesmith.music.chorale import evaluate_voicing, load_voicer
    from wavesmith.music.chorale_chords import evaluate_chords

    log("chorale: chords and voicing of the held-out chorales (the first run parses the "
        "music21 chorales: ~2 min)")
    test = _test_chorales()
    chords = evaluate_chords(test)
    voicing = evaluate_voicing(load_voicer(), test, chords="beat")
    rows = [_row("chorale chords", "Bach's chord per beat", chords["model"]["chord_accuracy"],
                 b, chords[k]["chord_accuracy"], "higher")
            for k, b in (("folk_hmm", "folk HMM, 1 per bar"),
                         ("tonic_triad", "tonic triad every beat"))]
    rows += [_row("chorale voicing", f"{v} = Bach's pitch", voicing["model"][f"{v}_exact"],
                  "close root position", voicing["baseline"][f"{v}_exact"], "higher")
             for v in ("alto", "tenor", "bass")]
    rows.append(_row("chorale voicing", "parallel 5ths/8ves per 100 beats",
                     voicing["model"]["parallels_per_100_beats"], "close root position",
                     voicing["baseline"]["parallels_per_100_beats"], "lower"))
    return {"chords": chords, "voicing": voicing, "summary": rows}


def _eval_transfer(data: dict[str, list[Melody]], log: Log) -> dict[str, Any]:
    from wavesmith.music.chorale_corpus import soprano_melody
    from wavesmith.music.style import evaluate_style_transfer, load_style_classifier
    from wavesmith.music.transfer import evaluate_transfer, load_attributes
    from wavesmith.music.vae import load_vae

    vae, vectors = load_vae(), load_attributes()
    log("transfer: minor/major and dense/sparse on held-out tunes")
    attrs = evaluate_transfer(vae, data["test"], vectors)
    log("transfer: folk <-> chorale on held-out tunes and chorales")
    chorales = [soprano_melody(c) for c in _test_chorales()]
    style = evaluate_style_transfer(vae, vectors, load_style_classifier(), data["test"],
                                    chorales)
    mode = attrs["mode_target_accuracy"]
    dens = attrs["onsets_per_bar"]
    rows = [_row("transfer minor/major", "heard in the target mode (amount 1)",
                 mode["amount_1"], "VAE reconstruction (amount 0)", mode["amount_0"],
                 "higher"),
            _row("transfer dense", "onsets per bar (amount 1)", dens["dense_1"],
                 "original", dens["original"], "higher"),
            _row("transfer sparse", "onsets per bar (amount 1)", dens["sparse_1"],
                 "original", dens["original"], "lower")]
    for src, dst in (("folk", "chorale"), ("chorale", "folk")):
        share = style[f"{src}_to_{dst}_share_{dst}"]
        rows.append(_row(f"transfer {src}->{dst}", f"classified {dst} (amount 1)",
                         share["amount_1"], "VAE reconstruction (amount 0)",
                         share["amount_0"], "higher"))
    return {"attributes": attrs, "style": style, "summary": rows}


def evaluate_shipped(model: str, root: str | os.PathLike[str] | None = None, *,
                     limit: int | None = None, log: Log | None = None) -> dict[str, Any]:
    """Re-measure one shipped music model (or ``"all"`` of :data:`EVAL_MODELS`) on the
    held-out Nottingham tunes (``chorale``: held-out Bach chorales; ``transfer``: both).

    Parameters
    ----------
    model : str
        One of :data:`EVAL_MODELS`, or ``"all"``.
    root : path-like, optional
        Folder of the Nottingham ``*.mid`` files (default: the shared data).
    limit : int, optional
        Pieces per split (quick runs; the numbers then differ from the cards).
    log : callable, optional
        Receives one progress line per stage.

    Returns
    -------
    dict
        ``{"models": {name: metrics}, "summary": [rows], "seconds": s}``; see the module
        docstring for each model's metrics and the rows.

    Raises
    ------
    AudioValueError
        Unknown ``model``, or too little held-out data for a protocol.
    """
    names = EVAL_MODELS if model == "all" else (model,)
    if any(n not in EVAL_MODELS for n in names):
        raise AudioValueError(f"model {model!r}: eval knows markov, transformer, "
                              f"{', '.join(EVAL_MODELS)} and all")
    if limit is not None and limit < 1:
        raise AudioValueError(f"limit={limit} must be >= 1")
    from wavesmith.music.dataset import load_split

    say = log if log is not None else (lambda line: None)
    started = time.monotonic()
    data: dict[str, list[Melody]] | None = None
    if any(n not in ("harmony", "chorale") for n in names):
        say("reading the Nottingham tunes")
        data = load_split(root, limit=limit)
    out: dict[str, Any] = {}
    for name in names:
        t0 = time.monotonic()
        if name == "harmony":
            out[name] = _eval_harmony(root, limit, say)
        elif name == "chorale":
            out[name] = _eval_chorale(say)
        else:
            assert data is not None
            out[name] = one_thread(_EVALS[name])(data, say)
        out[name]["seconds"] = round(time.monotonic() - t0, 1)
    summary = [r for name in names for r in out[name].pop("summary")]
    pieces = {k: len(v) for k, v in data.items()} if data is not None else None
    return {"models": out, "summary": summary, "pieces": pieces, "limit": limit,
            "seconds": round(time.monotonic() - started, 1)}


_EVALS: dict[str, Callable[[dict[str, list[Melody]], Log], dict[str, Any]]] = {
    "vae": _eval_vae, "vae16": _eval_vae16, "gan": _eval_gan, "transfer": _eval_transfer}
