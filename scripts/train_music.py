"""Train, evaluate and ship the music models on real tunes (CPU, 1 thread).

The networks and the chord HMM train from their configs with ``wavesmith train run
configs/music/<name>.yaml`` (:mod:`wavesmith.music.train`). This script keeps the older
command lines as a thin wrapper over the same configs, and holds the steps that have no
config yet: the VAE's attribute vectors, the chorale voicing tables and the chorale chord
HMM.

    python scripts/train_music.py transformer --minutes 25 --ship  # configs/music/transformer.yaml
    python scripts/train_music.py vae --minutes 30 --ship          # configs/music/vae.yaml
    python scripts/train_music.py gan --minutes 12 --ship          # configs/music/gan.yaml
    python scripts/train_music.py harmony --ship                   # configs/music/harmony.yaml
    python scripts/train_music.py chorale --ship      # four-part voicing, Bach chorales
    python scripts/train_music.py chorale-chords --ship  # chord per beat, Bach chorales
    python scripts/train_music.py attributes --ship   # after the VAE: style-transfer vectors

Run from the repository root. ``--minutes`` (default: the config's) is a budget of *CPU*
time of this process (``time.process_time``), so a run does the same work on a quiet
machine as on a busy shared one, where it takes longer. Run products go to
``runs/music/<model>`` (``<model>-smoke`` with ``--limit``); with ``--ship`` the weights and
their JSON card (config, metrics, data provenance; relative paths only) are written to
``src/wavesmith/music/data/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wavesmith.music.midi import Melody
from wavesmith.music.train import (
    DATA_NOTE,
    SPLIT_NOTE,
    MusicTrainConfig,
    load_melodies,
    train_music,
)

RUNS = Path("runs/music")
SHIP_DIR = Path("src/wavesmith/music/data")
CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "music"

LIMIT: int | None = None  # pieces per split (--limit, for a quick smoke run)


def load_data() -> dict[str, list[Melody]]:
    """The split Nottingham melodies, the first ``LIMIT`` of each, read as the configs read
    them (cached in ``runs/music``; parsing takes ~30 s)."""
    return load_melodies(MusicTrainConfig.from_yaml(CONFIGS / "transformer.yaml", limit=LIMIT))


# -- the models with a config: transformer, VAE, GAN, chord HMM ------------------------------------
def run_config(model: str, args: argparse.Namespace) -> dict[str, Any]:
    """Train ``configs/music/<model>.yaml`` with this command line's overrides."""
    budget = {"minutes": args.minutes} if model != "harmony" else {}
    cfg = MusicTrainConfig.from_yaml(
        CONFIGS / f"{model}.yaml", **budget, limit=LIMIT, ship=args.ship or None,
        out_dir=str(RUNS / f"{model}-smoke") if LIMIT else None)
    result = train_music(cfg, command=" ".join(["python", "scripts/train_music.py",
                                                *sys.argv[1:]]),
                         log=lambda line: print(line, flush=True))
    print(json.dumps(result.metrics, indent=2), flush=True)
    return result.metrics


def train_transformer(args: argparse.Namespace) -> dict[str, Any]:
    return run_config("transformer", args)


def train_vae(args: argparse.Namespace) -> dict[str, Any]:
    return run_config("vae", args)


def train_gan(args: argparse.Namespace) -> dict[str, Any]:
    return run_config("gan", args)


def train_harmony(args: argparse.Namespace) -> dict[str, Any]:
    return run_config("harmony", args)


# -- attribute vectors (style transfer) ------------------------------------------------------
def build_attributes(args: argparse.Namespace) -> dict[str, Any]:
    """Attribute vectors of the VAE (``runs/music/vae`` weights, or the shipped ones with
    ``--ship``) from the training split, and their effect on held-out test tunes; the
    folk/chorale classifier is fitted on training segments and measures ``chorale`` /
    ``folk`` on the held-out Nottingham tunes and chorales."""
    import music21

    from wavesmith.music.chorale_corpus import soprano_melody
    from wavesmith.music.style import StyleClassifier, evaluate_style_transfer, style_segments
    from wavesmith.music.transfer import (
        AttributeVectors,
        attribute_vectors,
        evaluate_transfer,
    )
    from wavesmith.music.vae import SHIPPED_VAE, load_vae
    from wavesmith.music.weights import read_card

    torch.set_num_threads(1)
    weights = SHIPPED_VAE if args.ship else RUNS / "vae" / "vae_nottingham_2bar.pt"
    vae, sha = load_vae(weights), read_card(weights)["sha256"]
    data = load_data()
    chorales = {k: [soprano_melody(c) for c in v] for k, v in load_chorale_split().items()}
    t0 = time.monotonic()
    vectors, maps, stats = attribute_vectors(vae, data["train"], chorales=chorales["train"])
    vecs = AttributeVectors(vectors, sha, {}, maps)
    metrics = evaluate_transfer(vae, data["test"], vecs)
    folk_train, chorale_train = style_segments(data["train"]), style_segments(chorales["train"])
    clf = StyleClassifier().fit(folk_train, chorale_train)
    metrics["style"] = evaluate_style_transfer(vae, vecs, clf, data["test"], chorales["test"])
    metrics["style"]["train_segments"] = {"folk": len(folk_train),
                                          "chorale": len(chorale_train)}
    doc = {"format": 2, "vae_sha256": sha, "vae_weights": weights.name,
           "vectors": {k: [round(float(x), 6) for x in v] for k, v in vectors.items()},
           "maps": {k: {"from_mean": [round(float(x), 6) for x in src],
                        "to_mean": [round(float(x), 6) for x in dst],
                        "matrix": [[round(float(x), 6) for x in row] for row in matrix]}
                    for k, (src, dst, matrix) in maps.items()},
           "provenance": {"data": DATA_NOTE, "split": SPLIT_NOTE + "; vectors from train",
                          "chorale_data": CHORALE_NOTE.format(version=music21.__version__)
                          + "; soprano lines, 16th-note grid, 2-bar meters only",
                          "chorale_split": CHORALE_SPLIT_NOTE + "; vector and classifier "
                                           "from train, evaluation on test",
                          **stats},
           "style_classifier": clf.to_dict(),
           "metrics": {"test": metrics, "seconds": round(time.monotonic() - t0, 1)},
           "metric_notes": "style: real_accuracy = classifier on real held-out 2-bar "
                           "segments (first 8 bars of each tune); *_share_<target> = share "
                           "of segments classified as the target style, for the originals "
                           "and after transfer by each amount (0 = plain VAE reconstruction)",
           "built_by": "python scripts/train_music.py attributes"
                       + (" --ship" if args.ship else "")}
    from wavesmith.io import write_text_atomic

    out = RUNS / "vae" / "vae_attributes.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, json.dumps(doc, indent=1) + "\n")
    if args.ship:
        write_text_atomic(SHIP_DIR / "vae_attributes.json", json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc["metrics"], indent=2), flush=True)
    return doc


# -- chorale voicing -----------------------------------------------------------------------------
CHORALE_NOTE = ("Bach chorales of the music21 corpus (music21 {version}, corpus.chorales."
                "Iterator, Riemenschneider numbering; music21 and its corpus: BSD-3-Clause); "
                "plain SATB scores only; voices sampled at every quarter-note beat")
CHORALE_SPLIT_NOTE = ("by hymn melody (same first 12 soprano intervals = one group), groups "
                      "shuffled with numpy default_rng(0): 80 % train, 10 % valid, 10 % test")
CHORALE_WEIGHT_STEPS = (0.5, 2.0)   # multiplicative tries per term in the coordinate search


def load_chorale_split() -> dict[str, list[Any]]:
    """The chorales split by melody (parsed once, cached in ~/.cache/wavesmith)."""
    from wavesmith.music.chorale_corpus import load_chorales, split_chorales

    return {k: v[:LIMIT] for k, v in split_chorales(load_chorales(), seed=0).items()}


def voicing_score(metrics: dict[str, Any]) -> float:
    """Mean agreement with Bach over alto, tenor, bass (exact pitch and pitch class)."""
    m = metrics["model"]
    return float(np.mean([m[f"{v}_{k}"] for v in ("alto", "tenor", "bass")
                          for k in ("exact", "pc")]))


def train_chorale(args: argparse.Namespace) -> dict[str, Any]:
    """Count the voicing tables on the training chorales, choose the term weights on the
    valid chorales (coordinate search, real chords), evaluate on the test chorales."""
    import music21

    from wavesmith import __version__
    from wavesmith.music.chorale import TERMS, ChoraleVoicer, evaluate_voicing
    from wavesmith.music.chorale_corpus import beat_grid

    t0 = time.monotonic()
    data = load_chorale_split()
    voicer = ChoraleVoicer().fit([beat_grid(c) for c in data["train"]])
    best = voicing_score(evaluate_voicing(voicer, data["valid"]))
    tuning = [{"weights": dict(voicer.weights), "valid_score": round(best, 4)}]
    for _ in range(2):
        for term in TERMS:
            start = keep = voicer.weights[term]
            for factor in CHORALE_WEIGHT_STEPS:
                voicer.weights[term] = start * factor
                score = voicing_score(evaluate_voicing(voicer, data["valid"]))
                tuning.append({"weights": dict(voicer.weights), "valid_score": round(score, 4)})
                print(json.dumps(tuning[-1]), flush=True)
                if score > best + 1e-4:
                    best, keep = score, voicer.weights[term]
            voicer.weights[term] = keep
    metrics = {"test": {"real_chords": evaluate_voicing(voicer, data["test"]),
                        "hmm_chords": evaluate_voicing(voicer, data["test"], chords="hmm")},
               "valid_score": round(best, 4),
               "seconds": round(time.monotonic() - t0, 1)}
    voicer.provenance = {
        "data": {"description": CHORALE_NOTE.format(version=music21.__version__),
                 "split": CHORALE_SPLIT_NOTE,
                 "pieces": {k: len(v) for k, v in data.items()},
                 "test_chorales": [c.name for c in data["test"]],
                 "valid_chorales": [c.name for c in data["valid"]]},
        "metrics": metrics, "tuning": tuning,
        "metric_notes": "beats = quarter notes where all four voices sound; *_exact / *_pc: "
                        "share of beats with Bach's pitch / pitch class; baseline = root "
                        "position, close position under the soprano; real = Bach's own "
                        "rates; hmm_chords = one chord per bar from the shipped Nottingham "
                        "chord HMM on the soprano (chord_accuracy vs the real beat chords)",
        "built_by": "python scripts/train_music.py chorale" + (" --ship" if args.ship else ""),
        "versions": {"wavesmith": __version__, "music21": music21.__version__}}
    out = RUNS / ("chorale" + ("-smoke" if LIMIT else ""))
    out.mkdir(parents=True, exist_ok=True)
    voicer.save(out / "chorale_voicing.json")
    if args.ship:
        voicer.save(SHIP_DIR / "chorale_voicing.json")
    print(json.dumps(metrics, indent=2), flush=True)
    return voicer.provenance


CHORALE_CHORD_WEIGHTS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)   # emission weights tried
CHORALE_CHORD_BACKOFFS = (20.0, 100.0, 400.0, 1600.0)           # back-off pseudo-counts tried


def train_chorale_chords(args: argparse.Namespace) -> dict[str, Any]:
    """Count the per-beat chord HMM on the training chorales, choose its emission weight
    and back-off on the valid chorales (grid, best chord accuracy per beat), and evaluate
    on the test chorales: chord accuracy against the baselines, and the shipped voicing
    with these chords. The card holds no timings, so a rebuild writes the same file."""
    import music21

    from wavesmith import __version__
    from wavesmith.music.chorale import evaluate_voicing, load_voicer
    from wavesmith.music.chorale_chords import evaluate_chords, fit_chorale_chords
    from wavesmith.music.harmonize import load_harmony

    t0 = time.monotonic()
    data = load_chorale_split()
    folk = load_harmony()
    model = fit_chorale_chords(data["train"])
    tuning, best = [], (-1.0, 0.0, 0.0)
    for weight in CHORALE_CHORD_WEIGHTS:
        for k in CHORALE_CHORD_BACKOFFS:
            model.emission_weight, model.backoff_k = weight, k
            acc = evaluate_chords(data["valid"], model, folk=folk)["model"]["chord_accuracy"]
            tuning.append({"emission_weight": weight, "backoff_k": k, "valid_accuracy": acc})
            print(json.dumps(tuning[-1]), flush=True)
            if acc > best[0]:
                best = (acc, weight, k)
    model.emission_weight, model.backoff_k = best[1], best[2]
    voicer = load_voicer(SHIP_DIR / "chorale_voicing.json")
    metrics = {"test": {"chords": evaluate_chords(data["test"], model, folk=folk),
                        "voicing_beat_chords": evaluate_voicing(voicer, data["test"],
                                                                chords="beat", harmony=model),
                        "voicing_folk_hmm_chords": evaluate_voicing(voicer, data["test"],
                                                                    chords="hmm", harmony=folk),
                        "voicing_real_chords": evaluate_voicing(voicer, data["test"])},
               "valid_accuracy": best[0]}
    model.provenance = {
        "data": {"description": CHORALE_NOTE.format(version=music21.__version__),
                 "split": CHORALE_SPLIT_NOTE,
                 "pieces": {k: len(v) for k, v in data.items()},
                 "test_chorales": [c.name for c in data["test"]],
                 "valid_chorales": [c.name for c in data["valid"]]},
        "labels": "per soprano beat (quarter note; dotted quarter in 6/8, 9/8, 12/8): chord_of "
                  "the four voices' pitch classes at the beat onset, bass = lowest note; "
                  "beats without four sounding voices are skipped",
        "metrics": metrics, "tuning": tuning,
        "metric_notes": "test beats = quarter notes where all four voices sound; "
                        "chord_accuracy / root_accuracy: share of beats with Bach's chord / "
                        "root (chord_of the four voices); model = this per-beat HMM (Viterbi); "
                        "no_transitions = its best chord per beat alone; folk_hmm = the shipped "
                        "Nottingham HMM, one chord per bar; tonic_triad = the estimated key's "
                        "tonic triad; voicing_* = the shipped chorale voicer (evaluate_voicing) "
                        "with this model's / the folk HMM's / Bach's chords",
        "voicer": "chorale_voicing.json",
        "built_by": "python scripts/train_music.py chorale-chords"
                    + (" --ship" if args.ship else ""),
        "versions": {"wavesmith": __version__, "music21": music21.__version__}}
    out = RUNS / ("chorale" + ("-smoke" if LIMIT else ""))
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "chorale_chords.json")
    if args.ship:
        model.save(SHIP_DIR / "chorale_chords.json")
    print(json.dumps(metrics, indent=2), flush=True)
    print(f"{time.monotonic() - t0:.1f} s, {time.process_time():.1f} CPU-s", flush=True)
    return model.provenance


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=["transformer", "vae", "gan", "harmony", "attributes",
                                      "chorale", "chorale-chords"])
    ap.add_argument("--minutes", type=float, default=None,
                    help="training budget: CPU minutes of this (1-thread) process "
                         "(default: the config's)")
    ap.add_argument("--ship", action="store_true", help="write weights + card to the package")
    ap.add_argument("--limit", type=int, help="pieces per split (smoke runs; never ship)")
    args = ap.parse_args()
    global LIMIT
    LIMIT = args.limit
    if args.limit is not None and args.ship:
        ap.error("--limit runs are not shipped")
    {"transformer": train_transformer, "vae": train_vae, "gan": train_gan,
     "harmony": train_harmony, "attributes": build_attributes,
     "chorale": train_chorale, "chorale-chords": train_chorale_chords}[args.model](args)


if __name__ == "__main__":
    main()
