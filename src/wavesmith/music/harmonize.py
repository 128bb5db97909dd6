"""Harmonization: one chord per bar (or per beat) for a melody, by an HMM decoded with Viterbi.

Chord symbols are a root (12 pitch classes) and a quality (major, minor, dominant seventh,
diminished), or ``N`` (no chord): 49 labels. Training data are the Nottingham tunes'
accompaniment tracks: at every 16th-note step the sounding pitch classes are matched to the
nearest chord template (:func:`chord_of`), and a bar's label is its most frequent chord.

The model is key-relative. The melody's key (tonic and mode) is estimated with the
Krumhansl-Kessler profiles; a hidden state is a chord relative to that tonic, and each mode
has its own tables:

* transitions ``P(chord_t | chord_t-1)`` and the start ``P(chord_0)``, add-one smoothed;
* emissions ``P(pitch class of each sounding 16th | chord)``, backed off (add-``k``) to a
  distribution shared by all chords of a quality, relative to their root.

A bar's emission log-likelihood is scaled by :attr:`HarmonyModel.emission_weight` (chosen
on the valid split) because successive 16th steps are far from independent. The shipped
table ``data/harmony_nottingham.json`` is built by ``wavesmith train run
configs/music/harmony.yaml --ship``.

The same model also runs per *beat* (``unit="beat"``: a quarter note, or a dotted quarter
in 6/8, see :func:`beat_steps_for`), optionally with a final-chord term ``P(last chord)``
(``final=True``); :mod:`wavesmith.music.chorale_chords` trains such a model on the Bach
chorales. With ``voicing="chorale"`` :func:`harmonize` takes its chords from that model,
one per beat, and voices them in four parts under the melody
(:mod:`wavesmith.music.chorale`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wavesmith.errors import AudioValueError, ModelError, ModelNotFoundError
from wavesmith.music.midi import NO_EVENT, NOTE_OFF, STEPS_PER_QUARTER, Melody
from wavesmith.music.weights import DATA_DIR

if TYPE_CHECKING:
    import pretty_midi

    from wavesmith.music.chorale import ChoraleVoicer, Voicing

__all__ = ["CHORDS", "SHIPPED_HARMONY", "UNITS", "VOICINGS", "Harmonization", "HarmonyModel",
           "bar_histograms", "beat_histograms", "beat_steps_for", "chord_labels", "chord_of",
           "estimate_key", "harmonize", "harmonize_file", "harmony_midi", "load_harmony",
           "sounding_pitches"]

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
QUALITIES = {"": (0, 4, 7), "m": (0, 3, 7), "7": (0, 4, 7, 10), "dim": (0, 3, 6)}
CHORDS = ("N", *(f"{NOTE_NAMES[r]}{q}" for r in range(12) for q in QUALITIES))
N_STATES = len(CHORDS)          # 49
N_QUAL = len(QUALITIES)
# Krumhansl & Kessler (1982) key profiles, tonic first.
KK_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KK_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
CHORD_OCTAVE_MIDI = 48          # MIDI note of C3: chord roots are voiced from here up
SHIPPED_HARMONY = DATA_DIR / "harmony_nottingham.json"
VOICINGS = ("chords", "chorale")  # block chords per bar, or four-part chorale voicing
UNITS = ("bar", "beat")         # what one HMM step (one chord) spans
FORMAT = 1


def chord_of(pitch_classes: Sequence[int], bass: int | None = None) -> int:
    """Index into :data:`CHORDS` of the template nearest a set of pitch classes.

    Score: shared notes minus extra notes minus half the missing template notes, a small
    bonus when the root is the bass; ties prefer major, minor, seventh, diminished.
    """
    pcs = {p % 12 for p in pitch_classes}
    if not pcs:
        return 0
    best, best_score = 0, -math.inf
    for r in range(12):
        for qi, tpl in enumerate(QUALITIES.values()):
            t = {(r + i) % 12 for i in tpl}
            score = (len(pcs & t) - len(pcs - t) - 0.5 * len(t - pcs)
                     + (0.25 if bass is not None and bass % 12 == r else 0.0) - 0.01 * qi)
            if score > best_score:
                best, best_score = 1 + r * N_QUAL + qi, score
    return best


def _transpose_chord(idx: int, semitones: int) -> int:
    if idx == 0:
        return 0
    r, q = divmod(idx - 1, N_QUAL)
    return 1 + ((r + semitones) % 12) * N_QUAL + q


def sounding_pitches(melody: Melody) -> np.ndarray:
    """The pitch sounding at each step (int, ``(steps,)``), -1 in rests."""
    out = np.full(melody.steps, -1, dtype=np.int64)
    cur = -1
    for i, tok in enumerate(melody.tokens.tolist()):
        if tok == NOTE_OFF:
            cur = -1
        elif tok != NO_EVENT:
            cur = tok
        out[i] = cur
    return out


def bar_histograms(melody: Melody) -> np.ndarray:
    """Per bar, how many 16th steps each pitch class sounds: float ``(bars, 12)``."""
    spb = melody.steps_per_bar
    n_bars = math.ceil(melody.steps / spb)
    hist = np.zeros((n_bars, 12))
    for i, p in enumerate(sounding_pitches(melody).tolist()):
        if p >= 0:
            hist[i // spb, p % 12] += 1
    return hist


def beat_steps_for(melody: Melody) -> int:
    """16th steps per harmonic beat: a dotted quarter (6) in 6/8, 9/8, 12/8, else a quarter."""
    num, den = melody.time_signature
    return 6 if den == 8 and num % 3 == 0 else STEPS_PER_QUARTER


def beat_histograms(melody: Melody) -> np.ndarray:
    """Per beat (:func:`beat_steps_for`), how many 16th steps each pitch class sounds:
    float ``(beats, 12)``, ``beats = ceil(steps / beat_steps)``."""
    bs = beat_steps_for(melody)
    hist = np.zeros((math.ceil(melody.steps / bs), 12))
    for i, p in enumerate(sounding_pitches(melody).tolist()):
        if p >= 0:
            hist[i // bs, p % 12] += 1
    return hist


def estimate_key(melody: Melody) -> tuple[int, str]:
    """``(tonic pitch class, "major" | "minor")`` with the highest correlation between the
    melody's duration-weighted pitch-class histogram and the Krumhansl-Kessler profiles."""
    hist = bar_histograms(melody).sum(0)
    if hist.sum() == 0:
        raise AudioValueError(f"{melody.name or 'melody'}: no notes, no key")
    best = (-2.0, 0, "major")
    for mode, prof in (("major", KK_MAJOR), ("minor", KK_MINOR)):
        for t in range(12):
            c = float(np.corrcoef(hist, np.roll(prof, t))[0, 1]) if hist.std() > 0 else 0.0
            if c > best[0]:
                best = (c, t, mode)
    return best[1], best[2]


def chord_labels(pm: pretty_midi.PrettyMIDI, melody: Melody, *,
                 name: str = "midi") -> np.ndarray:
    """Per-bar chord indices (``(bars,)``, bars of ``melody``) of ``pm``'s accompaniment:
    every pitched track but the melody's (the highest-mean-pitch one).

    Raises
    ------
    AudioValueError
        If the file has no accompaniment track.
    """
    tracks = [ins for ins in pm.instruments if ins.notes and not ins.is_drum]
    tracks.sort(key=lambda ins: -float(np.mean([n.pitch for n in ins.notes])))
    if len(tracks) < 2:
        raise AudioValueError(f"{name}: no accompaniment track to read chords from")
    step_ticks = pm.resolution / STEPS_PER_QUARTER
    n_bars = math.ceil(melody.steps / melody.steps_per_bar)
    steps = n_bars * melody.steps_per_bar
    pcs: list[set[int]] = [set() for _ in range(steps)]
    bass = np.full(steps, 128)
    for ins in tracks[1:]:
        for n in ins.notes:
            a = round(pm.time_to_tick(n.start) / step_ticks)
            b = max(a + 1, round(pm.time_to_tick(n.end) / step_ticks))
            for i in range(max(a, 0), min(b, steps)):
                pcs[i].add(n.pitch % 12)
                bass[i] = min(bass[i], n.pitch)
    per_step = [chord_of(p, int(b)) for p, b in zip(pcs, bass, strict=True)]
    out = np.zeros(n_bars, dtype=np.int64)
    for bar in range(n_bars):
        seg = per_step[bar * melody.steps_per_bar:(bar + 1) * melody.steps_per_bar]
        played = [c for c in seg if c]
        if played:
            counts = np.bincount(played, minlength=N_STATES)
            out[bar] = next(c for c in played if counts[c] == counts.max())
    return out


@dataclass
class HarmonyModel:
    """Key-relative chord HMM (see the module docstring); counts per mode.

    ``unit`` is what one chord spans (``"bar"``: :func:`bar_histograms`, ``"beat"``:
    :func:`beat_histograms`); with ``final`` the last chord also scores ``log P(last
    chord)`` (counts in ``end``, add-one smoothed).
    """

    start: dict[str, np.ndarray] = field(default_factory=dict)        # (49,)
    trans: dict[str, np.ndarray] = field(default_factory=dict)        # (49, 49)
    emit: dict[str, np.ndarray] = field(default_factory=dict)         # (49, 12) tonic-rel.
    emission_weight: float = 0.25
    backoff_k: float = 20.0
    provenance: dict[str, Any] = field(default_factory=dict)
    unit: str = "bar"
    final: bool = False
    end: dict[str, np.ndarray] = field(default_factory=dict)          # (49,), with final

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise AudioValueError(f"HarmonyModel: unit {self.unit!r} must be one of {UNITS}")

    def histograms(self, melody: Melody) -> np.ndarray:
        """The melody's pitch-class histogram per chord step (bar or beat): ``(n, 12)``."""
        return bar_histograms(melody) if self.unit == "bar" else beat_histograms(melody)

    def fit(self, pairs: Sequence[tuple[Melody, np.ndarray]]) -> HarmonyModel:
        """Count from ``(melody, chord index per bar or beat)`` pairs. Returns ``self``.

        A negative index marks an unlabelled step: it is left out, and the steps on either
        side of it count as neighbours.
        """
        for mode in ("major", "minor"):
            self.start[mode] = np.zeros(N_STATES)
            self.trans[mode] = np.zeros((N_STATES, N_STATES))
            self.emit[mode] = np.zeros((N_STATES, 12))
            if self.final:
                self.end[mode] = np.zeros(N_STATES)
        for mel, chords in pairs:
            tonic, mode = estimate_key(mel)
            hist = np.roll(self.histograms(mel), -tonic, axis=1)[:len(chords)]
            labelled = np.flatnonzero(np.asarray(chords)[:len(hist)] >= 0)
            if not len(labelled):
                continue
            rel = np.array([_transpose_chord(int(chords[i]), -tonic) for i in labelled])
            self.start[mode][rel[0]] += 1
            np.add.at(self.trans[mode], (rel[:-1], rel[1:]), 1)
            np.add.at(self.emit[mode], rel, hist[labelled])
            if self.final:
                self.end[mode][rel[-1]] += 1
        return self

    def _log_tables(self, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        start = np.log((self.start[mode] + 1) / (self.start[mode].sum() + N_STATES))
        t = self.trans[mode] + 1
        trans = np.log(t / t.sum(1, keepdims=True))
        emit = self.emit[mode]
        # shared per-quality distribution relative to the chord root (and one for N)
        shared = np.zeros((N_QUAL + 1, 12))
        shared[0] = emit[0]
        for idx in range(1, N_STATES):
            r, q = divmod(idx - 1, N_QUAL)
            shared[1 + q] += np.roll(emit[idx], -r)
        shared = (shared + 1) / (shared + 1).sum(1, keepdims=True)
        prior = np.zeros((N_STATES, 12))
        prior[0] = shared[0]
        for idx in range(1, N_STATES):
            r, q = divmod(idx - 1, N_QUAL)
            prior[idx] = np.roll(shared[1 + q], r)
        probs = (emit + self.backoff_k * prior) / (emit.sum(1, keepdims=True) + self.backoff_k)
        return start, trans, np.log(probs)

    def decode(self, melody: Melody, *, use_transitions: bool = True) -> list[str]:
        """The most likely chord per bar (or per beat, see ``unit``) by Viterbi, as symbols
        of :data:`CHORDS`.

        ``use_transitions=False`` picks each step's best chord alone, from its emission and
        the chord's overall frequency (naive Bayes; an ablation).

        Raises
        ------
        AudioValueError
            If the melody has no notes.
        """
        tonic, mode = estimate_key(melody)
        hist = np.roll(self.histograms(melody), -tonic, axis=1)
        start, trans, emit = self._log_tables(mode)
        obs = self.emission_weight * hist @ emit.T                    # (steps, states)
        if not use_transitions:
            freq = self.trans[mode].sum(0) + self.start[mode] + 1
            rel = (obs + np.log(freq / freq.sum())).argmax(1)
        else:
            score = start + obs[0]
            back = np.zeros((len(obs), N_STATES), dtype=np.int64)
            for t in range(1, len(obs)):
                cand = score[:, None] + trans
                back[t] = cand.argmax(0)
                score = cand.max(0) + obs[t]
            if self.final:
                end = self.end[mode]
                score = score + np.log((end + 1) / (end.sum() + N_STATES))
            rel = np.zeros(len(obs), dtype=np.int64)
            rel[-1] = int(score.argmax())
            for t in range(len(obs) - 1, 0, -1):
                rel[t - 1] = back[t, rel[t]]
        return [CHORDS[_transpose_chord(int(c), tonic)] for c in rel]

    # -- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts, settings and provenance."""
        extra: dict[str, Any] = {}
        if self.unit != "bar":
            extra["unit"] = self.unit
        if self.final:
            extra.update(final=True, end={m: v.tolist() for m, v in self.end.items()})
        return {"format": FORMAT, "model": "chord_hmm", "chords": list(CHORDS),
                "emission_weight": self.emission_weight, "backoff_k": self.backoff_k,
                "provenance": self.provenance,
                **{k: {m: getattr(self, k)[m].tolist() for m in getattr(self, k)}
                   for k in ("start", "trans", "emit")}, **extra}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as JSON, atomically."""
        from wavesmith.io import write_text_atomic

        return write_text_atomic(Path(path), json.dumps(self.to_dict()) + "\n")

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "model") -> HarmonyModel:
        """Rebuild from :meth:`to_dict` output (tables without ``unit`` are per bar);
        refuses other formats."""
        if not isinstance(d, dict) or d.get("format") != FORMAT \
                or d.get("model") != "chord_hmm" or d.get("chords") != list(CHORDS) \
                or d.get("unit", "bar") not in UNITS:
            raise ModelError(f"{source}: not a wavesmith chord HMM table")
        final = bool(d.get("final", False))
        keys = ("start", "trans", "emit", "end") if final else ("start", "trans", "emit")
        arrays = {k: {m: np.asarray(v, dtype=np.float64) for m, v in d[k].items()}
                  for k in keys}
        shapes = {"start": (N_STATES,), "trans": (N_STATES, N_STATES), "emit": (N_STATES, 12),
                  "end": (N_STATES,)}
        for k, tables in arrays.items():
            if set(tables) != {"major", "minor"} \
                    or any(v.shape != shapes[k] for v in tables.values()):
                raise ModelError(f"{source}: {k} tables must have shape {shapes[k]} for "
                                 "major and minor")
        return cls(**arrays, emission_weight=float(d["emission_weight"]),
                   backoff_k=float(d["backoff_k"]), provenance=dict(d.get("provenance", {})),
                   unit=d.get("unit", "bar"), final=final)


@lru_cache(maxsize=4)
def _load(path: str) -> HarmonyModel:
    p = Path(path)
    if not p.is_file():
        raise ModelNotFoundError(f"{p}: chord HMM table not found; build it with "
                                 "`wavesmith train run configs/music/harmony.yaml`")
    try:
        return HarmonyModel.from_dict(json.loads(p.read_text()), source=str(p))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{p}: cannot read chord HMM table ({exc})") from exc


def load_harmony(path: str | os.PathLike[str] | None = None) -> HarmonyModel:
    """Load the shipped Nottingham chord HMM (or a table saved at ``path``)."""
    return _load(str(Path(path) if path is not None else SHIPPED_HARMONY))


def harmony_midi(melody: Melody, chords: Sequence[str], *, program: int = 0,
                 chord_program: int = 0, velocity: int = 90,
                 chord_velocity: int = 60) -> pretty_midi.PrettyMIDI:
    """A two-track MIDI file: the melody, then one block chord per bar (root position,
    root from C3 up; ``N`` bars stay silent)."""
    from wavesmith.music._deps import quiet_import
    from wavesmith.music.midi import melody_to_midi

    pretty_midi = quiet_import("pretty_midi")
    pm = melody_to_midi(melody, program=program, velocity=velocity)
    inst = pretty_midi.Instrument(program=chord_program, name="chords")
    bar_s = 60.0 / melody.tempo_bpm / STEPS_PER_QUARTER * melody.steps_per_bar
    for bar, sym in enumerate(chords):
        idx = CHORDS.index(sym)
        if idx == 0:
            continue
        r, q = divmod(idx - 1, N_QUAL)
        for iv in list(QUALITIES.values())[q]:
            inst.notes.append(pretty_midi.Note(velocity=chord_velocity,
                                               pitch=CHORD_OCTAVE_MIDI + r + iv,
                                               start=bar * bar_s, end=(bar + 1) * bar_s))
    pm.instruments.append(inst)
    return pm


@dataclass(frozen=True)
class Harmonization:
    """Chords chosen for a melody: one symbol of :data:`CHORDS` per bar, or per beat
    (``chords_per == "beat"``, the default of the ``chorale`` voicing); with the ``chorale``
    voicing also the alto, tenor and bass per beat (``voices``)."""

    key: str
    chords: list[str]
    midi: str | None = None
    audio: str | None = None
    bars: int = 0
    voicing: str = "chords"
    voices: Voicing | None = None
    chords_per: str = "bar"


def _check_voicing(voicing: str) -> None:
    if voicing not in VOICINGS:
        raise AudioValueError(f"harmonize: unknown voicing {voicing!r}; choose "
                              f"{' or '.join(VOICINGS)}")


def harmonize(melody: Melody, model: HarmonyModel | None = None, *,
              voicing: str = "chords", voicer: ChoraleVoicer | None = None) -> Harmonization:
    """Chords for ``melody``: one per bar (``voicing="chords"``, shipped Nottingham HMM) or
    one per beat voiced in four parts (``voicing="chorale"``, shipped chorale chord HMM).

    Parameters
    ----------
    melody : Melody
        The tune; any meter.
    model : HarmonyModel, optional
        Chord HMM. Default: the shipped Nottingham one (per bar) for ``"chords"``, the
        shipped chorale one (per beat, :func:`wavesmith.music.chorale_chords.load_chorale_chords`)
        for ``"chorale"``. A per-bar model with ``"chorale"`` gives the older pipeline
        (each bar's chord held on all its beats).
    voicing : {"chords", "chorale"}, default "chords"
        ``"chorale"`` also voices alto, tenor and bass under the melody, one chord tone
        each per beat (:func:`wavesmith.music.chorale.voice_melody`, tables learned from
        the Bach chorales).
    voicer : ChoraleVoicer, optional
        Voicing tables for ``"chorale"``; default the shipped ones.

    Returns
    -------
    Harmonization
        ``chords`` holds one symbol per step of the model's ``unit`` (``chords_per``).

    Raises
    ------
    AudioValueError
        If the melody has no notes, ``voicing`` is unknown, or a per-beat model is asked
        for block chords.
    """
    _check_voicing(voicing)
    if model is None and voicing == "chorale":
        from wavesmith.music.chorale_chords import load_chorale_chords

        model = load_chorale_chords()
    model = model or load_harmony()
    if model.unit == "beat" and voicing != "chorale":
        raise AudioValueError("harmonize: a per-beat chord model needs voicing='chorale'")
    tonic, mode = estimate_key(melody)
    chords = model.decode(melody)
    voices = None
    if voicing == "chorale":
        from wavesmith.music.chorale import voice_melody

        voices = voice_melody(melody, chords, voicer, per=model.unit)
    return Harmonization(f"{NOTE_NAMES[tonic]} {mode}", chords,
                         bars=math.ceil(melody.steps / melody.steps_per_bar),
                         voicing=voicing, voices=voices, chords_per=model.unit)


def harmonize_file(source: str | os.PathLike[str], output: str | os.PathLike[str], *,
                   audio: str | os.PathLike[str] | None = None,
                   voicing: str = "chords") -> Harmonization:
    """Read ``source``'s melody (top line of the highest track), choose a chord per bar and
    write melody + chords as a two-track MIDI file (and optionally rendered audio); with
    ``voicing="chorale"`` a chord per beat and a four-track file instead: soprano (the
    melody), alto, tenor, bass, with each chord symbol as a MIDI text event where it
    starts (see :func:`harmonize`).

    Raises
    ------
    AudioFileError
        Missing or corrupt MIDI.
    AudioValueError
        Output equal to the input, no notes, only drums, an unwritable folder or an
        unknown ``voicing``.
    ModelError
        If the chord or voicing tables cannot be loaded.
    """
    from wavesmith.music.midi import read_melody, save_midi

    _check_voicing(voicing)
    src, dst = Path(source), Path(output)
    if dst.resolve() == src.resolve():
        raise AudioValueError(f"{dst}: output would overwrite the input")
    for p in (dst, None if audio is None else Path(audio)):
        if p is not None and not p.parent.is_dir():
            raise AudioValueError(f"{p}: folder {p.parent} does not exist")
    melody = read_melody(src)
    result = harmonize(melody, voicing=voicing)
    if result.voices is not None:
        from wavesmith.music.chorale import chorale_midi

        pm = chorale_midi(melody, result.voices)
    else:
        pm = harmony_midi(melody, result.chords)
    rendered = None
    if audio is not None:  # render first: a missing synth leaves nothing written
        from wavesmith.music.render import render_midi

        rendered = render_midi(pm)
    save_midi(pm, dst)
    if rendered is not None and audio is not None:
        from wavesmith import io

        io.save(rendered, audio)
    return Harmonization(result.key, result.chords, str(dst),
                         None if audio is None else str(audio), result.bars, voicing,
                         result.voices, result.chords_per)
