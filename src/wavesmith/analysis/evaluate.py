"""Accuracy of pitch and key estimation on real music rendered from MIDI.

Run from a checkout with the shared data beside it (nothing is written unless ``--json``)::

    python -m wavesmith.analysis.evaluate pitch --n 20 --json pitch.json
    python -m wavesmith.analysis.evaluate key --n 100 --json key.json

Pitch protocol (:func:`evaluate_pitch`)
    ``n`` Nottingham tunes, evenly spaced through the sorted file list (all 14 collections).
    The melody is the file's melody track reduced to one line
    (:func:`wavesmith.music.midi.extract_melody`), cut to its first ``max_s`` seconds and
    rendered alone with FluidSynth (:func:`wavesmith.music.render.render_midi`) on one General
    MIDI program (default 0, the program the Nottingham files use). The reference F0 on each
    tracker's own frame times is the sounding note's equal-tempered frequency (A4 = 440 Hz);
    frames with no note are unvoiced. Metrics are mir_eval's (``mir_eval.melody``): raw pitch
    accuracy (share of reference-voiced frames whose F0 candidate is within 50 cents,
    whatever the tracker's voicing decision), raw chroma accuracy, voicing recall and false
    alarm, overall accuracy. ``raw_pitch_accuracy_voiced`` also counts frames the tracker
    calls unvoiced as misses. Totals pool all frames. Nearly all misses sit at note changes,
    where a tracker's window (46 ms pYIN, 64 ms CREPE) holds two notes;
    ``raw_pitch_accuracy_steady`` leaves out the reference frames within ``boundary_s``
    (25 ms) of a note onset or offset, to show that.

Key protocol (:func:`evaluate_key`)
    *Nottingham*: tunes whose MIDI carries exactly one key signature; the label is that key
    signature event (tonic and mode), which equals the ABC ``K:`` field of the source
    transcription for 1019 of 1021 tunes. Melody and chords are rendered together.
    *Bach chorales* (music21's bundled corpus, :func:`music21.corpus.chorales.Iterator`): the
    label is the key signature plus the final bass note: the major key of the signature when
    the bass ends on its tonic, the relative minor when it ends on that tonic, and also minor
    when it ends a fourth above the relative minor (minor written with one flat fewer, as in
    Bach's "Dorian" notation). Chorales ending elsewhere (modal, e.g. Phrygian endings: 39 of
    371) are left out; music21's symbolic key analysis agrees with these labels on 92 % of the
    rest. All four voices are rendered on General MIDI program 0.
    Every piece is rendered at 22 050 Hz and given to :func:`wavesmith.analysis.estimate_key`;
    the scores are accuracy (tonic and mode) and the MIREX weighted score
    (``mir_eval.key.weighted_score``: fifth 0.5, relative 0.3, parallel 0.2).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.analysis.key import DEFAULT_PROFILE, PITCH_CLASSES, PROFILES, estimate_key
from wavesmith.analysis.pitch import DEFAULT_FMAX_HZ, DEFAULT_FMIN_HZ, METHODS, estimate_pitch
from wavesmith.audio import Audio
from wavesmith.errors import AudioValueError, WavesmithError

__all__ = [
    "KeyItem",
    "chorale_items",
    "evaluate_key",
    "evaluate_pitch",
    "melody_notes",
    "nottingham_key_items",
    "pick_evenly",
    "pitch_scores",
    "reference_f0",
    "render_notes",
]

CENT_TOLERANCE = 50.0        # cents: mir_eval's raw pitch accuracy window
BOUNDARY_S = 0.025           # s around note changes left out of the "steady" accuracy
DEFAULT_MAX_S = 30.0         # s of each tune used for pitch accuracy
DEFAULT_PROGRAM = 0          # General MIDI program (0 = acoustic grand piano)
RENDER_HZ = 44_100           # Hz, melody renders for pitch accuracy
KEY_RENDER_HZ = 22_050       # Hz, renders for key accuracy (chroma needs no more)
A4_HZ, A4_MIDI = 440.0, 69   # equal-tempered tuning reference
Note = tuple[float, float, int]   # (start_s, end_s, MIDI pitch)


def _pm() -> Any:
    from wavesmith.music._deps import quiet_import

    return quiet_import("pretty_midi")


def pick_evenly(items: Sequence[Any], n: int) -> list[Any]:
    """``n`` items evenly spaced through ``items`` (all of them when ``n >= len``)."""
    if n < 1:
        raise AudioValueError(f"n={n} must be >= 1")
    if n >= len(items):
        return list(items)
    return [items[(i * len(items)) // n] for i in range(n)]


# -- pitch --------------------------------------------------------------------------------------
def melody_notes(path: str | os.PathLike[str], *, max_s: float = DEFAULT_MAX_S) -> list[Note]:
    """The melody line of a MIDI file (see :func:`~wavesmith.music.midi.extract_melody`),
    notes starting before ``max_s`` seconds, the last cut at ``max_s``."""
    from wavesmith.music.midi import extract_melody, load_midi

    p = Path(path)
    notes = extract_melody(load_midi(p), name=p.stem)
    return [(s, min(e, max_s), pitch) for s, e, pitch in notes if s < max_s]


def render_notes(notes: Sequence[Note], *, program: int = DEFAULT_PROGRAM,
                 sample_rate: int = RENDER_HZ) -> Audio:
    """Render monophonic ``notes`` with FluidSynth on General MIDI ``program`` (mono)."""
    from wavesmith.music.render import render_midi

    pretty_midi = _pm()
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=program)
    inst.notes = [pretty_midi.Note(velocity=90, pitch=p, start=s, end=e) for s, e, p in notes]
    pm.instruments.append(inst)
    return render_midi(pm, sample_rate=sample_rate)


def reference_f0(notes: Sequence[Note], times_s: np.ndarray) -> np.ndarray:
    """F0 (Hz) of the note sounding at each time, 0 where none does; shape of ``times_s``."""
    ref = np.zeros(len(times_s))
    for start, end, pitch in notes:
        ref[(times_s >= start) & (times_s < end)] = A4_HZ * 2.0 ** ((pitch - A4_MIDI) / 12)
    return ref


def pitch_scores(times_s: np.ndarray, f0_candidate_hz: np.ndarray, voiced: np.ndarray,
                 notes: Sequence[Note], *, boundary_s: float = BOUNDARY_S) -> dict[str, float]:
    """mir_eval melody metrics of one F0 track against ``notes`` (0…1 each).

    ``raw_pitch_accuracy`` is mir_eval's: the share of reference-voiced frames whose F0
    candidate (``f0_candidate_hz``, scored whatever the voicing decision) is within 50
    cents. ``raw_pitch_accuracy_voiced`` is stricter: a frame the tracker calls unvoiced
    counts as a miss. ``raw_pitch_accuracy_steady`` is mir_eval's without the frames within
    ``boundary_s`` of a note change. Also raw chroma accuracy, voicing recall / false alarm,
    overall accuracy, and the frame counts that pooled totals need.
    """
    import mir_eval

    m = mir_eval.melody
    times_s = np.asarray(times_s, dtype=np.float64)
    ref = reference_f0(notes, times_s)
    cand = np.nan_to_num(np.asarray(f0_candidate_hz, dtype=np.float64), nan=0.0)
    voiced = np.asarray(voiced, dtype=bool)
    rv, rc, ev, ec = m.to_cent_voicing(times_s, ref, times_s, cand,
                                       est_voicing=voiced.astype(np.float64))
    _, _, _, ec_voiced = m.to_cent_voicing(times_s, ref, times_s, np.where(voiced, cand, 0.0))
    changes = np.array(sorted({t for s, e, _ in notes for t in (s, e)}))   # s
    steady = np.ones(times_s.size, dtype=bool)
    if changes.size:
        nxt = np.clip(np.searchsorted(changes, times_s), 0, changes.size - 1)
        prev = np.clip(nxt - 1, 0, changes.size - 1)
        gap = np.minimum(np.abs(times_s - changes[nxt]), np.abs(times_s - changes[prev]))
        steady = gap >= boundary_s

    def rpa(sel: np.ndarray, cents: np.ndarray) -> float:
        return float(m.raw_pitch_accuracy(rv[sel], rc[sel], ev[sel], cents[sel],
                                          CENT_TOLERANCE))

    everywhere = np.ones(times_s.size, dtype=bool)
    out = {
        "raw_pitch_accuracy": rpa(everywhere, ec),
        "raw_pitch_accuracy_voiced": rpa(everywhere, ec_voiced),
        "raw_pitch_accuracy_steady": rpa(steady, ec),
        "raw_chroma_accuracy": float(m.raw_chroma_accuracy(rv, rc, ev, ec, CENT_TOLERANCE)),
        "voicing_recall": float(m.voicing_recall(rv, ev)),
        "voicing_false_alarm": float(m.voicing_false_alarm(rv, ev)),
        "overall_accuracy": float(m.overall_accuracy(rv, rc, ev, ec, CENT_TOLERANCE)),
        "reference_voiced_frames": int(np.count_nonzero(rv)),
        "steady_voiced_frames": int(np.count_nonzero(rv[steady])),
    }
    out["correct_frames"] = round(out["raw_pitch_accuracy"] * out["reference_voiced_frames"])
    out["voiced_correct_frames"] = round(out["raw_pitch_accuracy_voiced"]
                                         * out["reference_voiced_frames"])
    out["steady_correct_frames"] = round(out["raw_pitch_accuracy_steady"]
                                         * out["steady_voiced_frames"])
    return out


def evaluate_pitch(paths: Sequence[str | os.PathLike[str]], *,
                   methods: Sequence[str] = METHODS, program: int = DEFAULT_PROGRAM,
                   max_s: float = DEFAULT_MAX_S, fmin_hz: float = DEFAULT_FMIN_HZ,
                   fmax_hz: float = DEFAULT_FMAX_HZ, crepe_model: str = "tiny",
                   log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Raw pitch accuracy of each method on the melodies of ``paths`` (module docstring).

    Returns
    -------
    dict
        ``pieces`` (per tune and method), ``total`` (per method, frames pooled over all
        tunes), ``mean_raw_pitch_accuracy`` (per method, mean over tunes) and the settings.
    """
    rows: list[dict[str, Any]] = []
    pooled = {m: np.zeros(5, dtype=np.int64) for m in methods}   # see `keys` below
    keys = ("correct_frames", "voiced_correct_frames", "reference_voiced_frames",
            "steady_correct_frames", "steady_voiced_frames")
    for path in paths:
        notes = melody_notes(path, max_s=max_s)
        if not notes:
            continue
        audio = render_notes(notes, program=program)
        row: dict[str, Any] = {"piece": Path(path).stem, "seconds": audio.duration_s,
                               "notes": len(notes)}
        for method in methods:
            started = time.monotonic()
            r = estimate_pitch(audio, method, fmin_hz=fmin_hz, fmax_hz=fmax_hz,
                               model=crepe_model)
            scores = pitch_scores(r.times_s, r.f0_candidate_hz, r.voiced, notes)
            scores["seconds_taken"] = time.monotonic() - started
            row[r.method] = scores
            pooled[method] += [scores[k] for k in keys]
            if log is not None:
                log(f"{row['piece']:>14} {r.method:>10}: raw pitch accuracy "
                    f"{scores['raw_pitch_accuracy']:.4f} ({scores['seconds_taken']:.1f} s)")
        rows.append(row)
    names = {m: (f"crepe-{crepe_model}" if m == "crepe" else m) for m in methods}
    return {
        "protocol": "Nottingham melody lines rendered with FluidSynth; mir_eval raw pitch "
                    "accuracy (50 cents); 'voiced': frames called unvoiced count as misses; "
                    f"'steady': without frames within {BOUNDARY_S * 1000:g} ms of a note "
                    "change",
        "program": program, "max_s": max_s, "fmin_hz": fmin_hz, "fmax_hz": fmax_hz,
        "pieces": rows,
        "total": {names[m]: {
            "raw_pitch_accuracy": c / n if n else float("nan"),
            "raw_pitch_accuracy_voiced": cv / n if n else float("nan"),
            "raw_pitch_accuracy_steady": cs / ns if ns else float("nan"),
            "correct_frames": int(c), "reference_voiced_frames": int(n)}
            for m, (c, cv, n, cs, ns) in pooled.items()},
        "mean_raw_pitch_accuracy": {
            names[m]: float(np.mean([r[names[m]]["raw_pitch_accuracy"] for r in rows]))
            if rows else float("nan") for m in methods},
    }


# -- key ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyItem:
    """One piece with a known key, ready to render: ``midi`` is a ``pretty_midi.PrettyMIDI``."""

    corpus: str
    name: str
    tonic: int        # pitch class, C = 0
    mode: str         # "major" or "minor"
    midi: Any

    @property
    def label(self) -> str:
        """``"F# minor"``-style name (sharps)."""
        return f"{PITCH_CLASSES[self.tonic]} {self.mode}"


def nottingham_key_items(paths: Sequence[str | os.PathLike[str]]) -> list[KeyItem]:
    """Tunes among ``paths`` with exactly one key signature, labelled by it."""
    from wavesmith.music.midi import load_midi

    items = []
    for path in paths:
        p = Path(path)
        pm = load_midi(p)
        numbers = {int(k.key_number) for k in pm.key_signature_changes}
        if len(numbers) != 1:
            continue
        (number,) = numbers  # pretty_midi: 0-11 major tonics, 12-23 minor tonics (C = 0)
        items.append(KeyItem("nottingham", p.stem, number % 12,
                             "minor" if number >= 12 else "major", pm))
    return items


def chorale_label(score: Any) -> tuple[int, str] | None:
    """(tonic pitch class, mode) of a music21 chorale from its key signature and final bass
    note (module docstring), or ``None`` for modal endings and missing signatures."""
    from music21 import key

    sig = score.recurse().getElementsByClass(key.KeySignature).first()
    last = score.parts[-1].recurse().notes.last() if score.parts else None
    if sig is None or last is None:
        return None
    final = min(last.pitches, key=lambda p: p.ps).pitchClass
    major = (7 * sig.sharps) % 12                 # tonic of the signature's major key
    minor = (major + 9) % 12                      # its relative minor
    if final == major:
        return major, "major"
    if final in (minor, (minor + 5) % 12):        # minor, or minor one flat short ("Dorian")
        return final, "minor"
    return None


def chorale_items(n: int | None = None) -> tuple[list[KeyItem], int]:
    """The first labelled chorales of music21's corpus (``n`` of them, or all), and how many
    chorales were read; each rendered on program 0 (four voices)."""
    from music21 import bar, corpus, repeat
    from music21.midi import translate

    pretty_midi = _pm()
    items: list[KeyItem] = []
    names = list(corpus.chorales.Iterator(returnType="filename"))
    read = 0
    for name in names:
        if n is not None and len(items) >= n:
            break
        score = corpus.parse(name)
        read += 1
        label = chorale_label(score)
        if label is None:
            continue
        try:
            data = translate.streamToMidiFile(score).writestr()
        except repeat.ExpanderException:   # malformed repeat signs: play it through once
            for barline in list(score.recurse().getElementsByClass(bar.Repeat)):
                barline.activeSite.remove(barline)
            data = translate.streamToMidiFile(score).writestr()
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
        for inst in pm.instruments:
            inst.program, inst.is_drum = DEFAULT_PROGRAM, False
        items.append(KeyItem("chorales", name.replace("bach/", ""), label[0], label[1], pm))
    return items, read


def evaluate_key(items: Sequence[KeyItem], *,
                 estimator: Callable[[Audio], Any] = estimate_key,
                 log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Accuracy and MIREX weighted score of ``estimator`` on rendered ``items``."""
    import mir_eval

    from wavesmith.music.render import render_midi

    rows = []
    for item in items:
        audio = render_midi(item.midi, sample_rate=KEY_RENDER_HZ)
        est = estimator(audio)
        label = est.label if est.key else "X"   # mir_eval's "no key"
        score = float(mir_eval.key.weighted_score(item.label, label))
        rows.append({"corpus": item.corpus, "piece": item.name, "reference": item.label,
                     "estimate": label, "weighted_score": score,
                     "confidence": est.confidence})
        if log is not None:
            log(f"{item.corpus:>10} {item.name:>14}: {item.label:>9} -> {label:>9} "
                f"({score:.1f})")
    out: dict[str, Any] = {"pieces": rows}
    for corpus_name in [*sorted({r["corpus"] for r in rows}), "all"]:
        sel = [r for r in rows if corpus_name in ("all", r["corpus"])]
        scores = np.array([r["weighted_score"] for r in sel])
        out[corpus_name] = {
            "pieces": len(sel), "accuracy": float(np.mean(scores == 1.0)),
            "mirex_weighted_score": float(np.mean(scores)),
            "fifth": int(np.sum(scores == 0.5)), "relative": int(np.sum(scores == 0.3)),
            "parallel": int(np.sum(scores == 0.2)), "other": int(np.sum(scores == 0.0))}
    return out


# -- command line -------------------------------------------------------------------------------
def _write_json(data: dict[str, Any], path: str) -> None:
    from wavesmith.analysis.report import jsonable
    from wavesmith.io import write_text_atomic

    write_text_atomic(Path(path), json.dumps(jsonable(data), indent=1, allow_nan=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wavesmith.analysis.evaluate {pitch,key} ...`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m wavesmith.analysis.evaluate",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="task", required=True)
    p = sub.add_parser("pitch", help="raw pitch accuracy on rendered Nottingham melodies")
    p.add_argument("--n", type=int, default=20, help="number of tunes (default 20)")
    p.add_argument("--methods", default="pyin,crepe", help="comma-separated: pyin, crepe")
    p.add_argument("--crepe-model", default="tiny", choices=("tiny", "full"))
    p.add_argument("--program", type=int, default=DEFAULT_PROGRAM,
                   help="General MIDI program of the rendered melody (default 0, piano)")
    p.add_argument("--max-s", type=float, default=DEFAULT_MAX_S,
                   help="seconds of each tune (default 30)")
    k = sub.add_parser("key", help="key accuracy on rendered Nottingham tunes and chorales")
    k.add_argument("--n", type=int, default=100, help="pieces per corpus (default 100)")
    k.add_argument("--corpora", default="nottingham,chorales",
                   help="comma-separated: nottingham, chorales")
    k.add_argument("--profile", default=DEFAULT_PROFILE, choices=tuple(PROFILES),
                   help=f"key profile of the estimator (default {DEFAULT_PROFILE})")
    for q in (p, k):
        q.add_argument("--data", default=None, help="folder of the Nottingham *.mid files")
        q.add_argument("--json", default=None, help="also write the full results here")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    from wavesmith.music.dataset import nottingham_files

    try:
        if args.task == "pitch":
            methods = [m.strip() for m in args.methods.split(",") if m.strip()]
            paths = pick_evenly(nottingham_files(args.data), args.n)
            result = evaluate_pitch(paths, methods=methods, program=args.program,
                                    max_s=args.max_s, crepe_model=args.crepe_model, log=log)
            summary = {"tunes": len(result["pieces"]), "total": result["total"],
                       "mean_raw_pitch_accuracy": result["mean_raw_pitch_accuracy"]}
        else:
            corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
            items: list[KeyItem] = []
            notes: dict[str, Any] = {}
            if "nottingham" in corpora:
                files = nottingham_files(args.data)
                labelled = nottingham_key_items(files)
                notes["nottingham_single_key"] = len(labelled)
                items += pick_evenly(labelled, args.n)
            if "chorales" in corpora:
                with contextlib.redirect_stdout(sys.stderr):
                    chorales, read = chorale_items(args.n)
                notes["chorales_read"] = read
                items += chorales
            unknown = set(corpora) - {"nottingham", "chorales"}
            if unknown:
                raise AudioValueError(f"unknown corpus {sorted(unknown)}; choose from "
                                      "nottingham, chorales")
            result = evaluate_key(
                items, estimator=functools.partial(estimate_key, profile=args.profile),
                log=log)
            result["labelled"] = notes
            result["profile"] = args.profile
            summary = {c: result[c] for c in result if c not in ("pieces",)}
    except WavesmithError as exc:
        print(f"wavesmith: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _write_json(result, args.json)
    from wavesmith.analysis.report import jsonable

    print(json.dumps(jsonable(summary), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
