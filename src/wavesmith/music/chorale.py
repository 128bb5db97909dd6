"""Four-part chorale voicing: alto, tenor and bass under a given soprano and chord per beat.

The voicing is the lowest-cost path through candidate voicings, one per beat, found with
the Viterbi algorithm. A candidate is an ``(alto, tenor, bass)`` triple of *chord tones*,
each inside the voice's range seen in the training chorales, with adjacent-voice spacings
inside the range seen there. Every cost is a negative log
frequency counted on the training chorales of the music21 corpus (:mod:`.chorale_corpus`),
at quarter-note beats (add-one smoothed):

per beat
    * ``pitch``: each voice's MIDI pitch (its register);
    * ``spacing``: soprano-alto, alto-tenor and tenor-bass intervals in semitones. Negative
      intervals are voice crossings, so crossing costs what it costs in Bach;
    * ``bass``: which chord member (root, third, fifth, seventh) is in the bass, by quality;
    * ``doubling``: how many of the four voices take each chord member (e.g. root doubled,
      fifth omitted), by quality;

per beat-to-beat transition
    * ``interval``: each of alto, tenor, bass's melodic interval;
    * ``parallel``: the number of voice pairs (of six) moving in parallel perfect fifths or
      octaves (both voices move, same direction, same perfect interval before and after).

The total is a weighted sum; the weights were chosen on the ``valid`` chorales (``python
scripts/train_music.py chorale``). Chords are symbols of
:data:`wavesmith.music.harmonize.CHORDS` (``N`` beats take the nearest chord), one per bar or
one per beat; :func:`wavesmith.music.harmonize.harmonize` takes them per beat from the chorale
chord HMM (:mod:`wavesmith.music.chorale_chords`). The shipped tables are
``data/chorale_voicing.json`` with the split and the held-out metrics.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wavesmith.errors import AudioValueError, ModelError, ModelNotFoundError
from wavesmith.music.harmonize import (
    CHORDS,
    N_QUAL,
    QUALITIES,
    beat_steps_for,
    chord_of,
    sounding_pitches,
)
from wavesmith.music.midi import STEPS_PER_QUARTER, Melody
from wavesmith.music.weights import DATA_DIR

if TYPE_CHECKING:
    import pretty_midi

__all__ = ["SHIPPED_VOICING", "ChoraleVoicer", "Voicing", "beat_chords", "beat_steps_for",
           "chorale_midi", "closed_voicing", "crossing_rate", "evaluate_voicing",
           "load_voicer", "parallel_pairs", "voice_melody", "voicing_metrics"]

SHIPPED_VOICING = DATA_DIR / "chorale_voicing.json"
FORMAT = 1
REST = -1                       # pitch of a silent voice in a Voicing
MAX_INTERVAL = 12               # semitones; melodic leaps beyond are one bin per direction
SPACING_LO, SPACING_HI = -12, 36  # semitones between adjacent voices (clipped)
N_MEMBERS = 5                   # root, third, fifth, seventh, non-chord tone
DOUBLING_PRIOR = 0.5            # pseudo-count of every way to share 4 voices among members
TERMS = ("pitch", "spacing", "bass", "doubling", "interval", "parallel")
LOWER = ("alto", "tenor", "bass")


def _member_table() -> np.ndarray:
    """``[quality, pitch class above the root] -> member`` (0 root .. 3 seventh, 4 other)."""
    out = np.full((N_QUAL, 12), 4, dtype=np.int64)
    for q, tpl in enumerate(QUALITIES.values()):
        for m, iv in enumerate(tpl):
            out[q, iv] = m
    return out


MEMBER = _member_table()


def _root_quality(chord: int) -> tuple[int, int]:
    return divmod(chord - 1, N_QUAL)


def _chord_pcs(chord: int) -> list[int]:
    r, q = _root_quality(chord)
    return [(r + iv) % 12 for iv in list(QUALITIES.values())[q]]


def parallel_pairs(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """How many voice pairs move in parallel fifths or octaves (unisons included) from
    ``prev`` to ``cur``: MIDI pitches ``(..., 4)`` → int ``(...)``. A pair counts when both
    voices move in the same direction and their interval (mod 12) is 7 or 0 both times.

    Examples
    --------
    >>> import numpy as np
    >>> int(parallel_pairs(np.array([72, 67, 64, 48]), np.array([74, 69, 65, 50])))
    2
    """
    n = np.zeros(np.broadcast_shapes(prev.shape, cur.shape)[:-1], dtype=np.int64)
    for i in range(4):
        for j in range(i + 1, 4):
            a0, a1, b0, b1 = prev[..., i], cur[..., i], prev[..., j], cur[..., j]
            iv0, iv1 = (a0 - b0) % 12, (a1 - b1) % 12
            same = np.sign(a1 - a0) * np.sign(b1 - b0) > 0
            n += same & (iv0 == iv1) & ((iv0 == 0) | (iv0 == 7))
    return n


def crossing_rate(grid: np.ndarray) -> float:
    """Share of beats (``grid``: MIDI ``(beats, 4)`` S, A, T, B) where a lower voice is
    above the voice next above it."""
    return float((np.diff(grid, axis=1) > 0).any(1).mean()) if len(grid) else 0.0


def _hist(values: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.bincount(np.clip(values, lo, hi) - lo, minlength=hi - lo + 1).astype(np.float64)


def _neglog(counts: np.ndarray, prior: float = 1.0) -> np.ndarray:
    c = counts + prior
    return -np.log(c / c.sum(-1, keepdims=True))


@dataclass
class ChoraleVoicer:
    """Counts learned from chorale beat grids (see the module docstring) and term weights."""

    ranges: dict[str, list[int]] = field(default_factory=dict)          # voice -> [lo, hi]
    pitch: dict[str, np.ndarray] = field(default_factory=dict)          # voice -> (128,)
    interval: dict[str, np.ndarray] = field(default_factory=dict)       # voice -> (27,)
    spacing: dict[str, np.ndarray] = field(default_factory=dict)        # pair -> (49,)
    bass: np.ndarray = field(default_factory=lambda: np.zeros((N_QUAL, N_MEMBERS)))
    doubling: np.ndarray = field(default_factory=lambda: np.zeros((N_QUAL,) + (5,) * 5))
    parallel: np.ndarray = field(default_factory=lambda: np.zeros(4))   # 0, 1, 2, 3+ pairs
    weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TERMS, 1.0))
    provenance: dict[str, Any] = field(default_factory=dict)

    def fit(self, grids: Sequence[np.ndarray]) -> ChoraleVoicer:
        """Count from beat grids (MIDI ``(beats, 4)`` S, A, T, B; -1 rests). Beats where a
        voice rests are skipped. Returns ``self``."""
        self.__dict__.pop("_cache", None)
        full = [g[(g >= 0).all(1)] for g in grids]
        every = np.concatenate(full)
        names = ("soprano", *LOWER)
        for v, name in enumerate(names):
            self.ranges[name] = [int(every[:, v].min()), int(every[:, v].max())]
            self.pitch[name] = np.bincount(every[:, v], minlength=128).astype(np.float64)
        steps = np.concatenate([np.diff(g, axis=0) for g in full if len(g) > 1])
        for v, name in enumerate(LOWER, start=1):
            self.interval[name] = _hist(steps[:, v], -MAX_INTERVAL - 1, MAX_INTERVAL + 1)
        for v, pair in enumerate(("soprano-alto", "alto-tenor", "tenor-bass")):
            self.spacing[pair] = _hist(every[:, v] - every[:, v + 1], SPACING_LO, SPACING_HI)
        self.bass = np.zeros((N_QUAL, N_MEMBERS))
        self.doubling = np.zeros((N_QUAL,) + (5,) * 5)
        for row in every:
            r, q = _root_quality(chord_of(row.tolist(), int(row[3])))
            members = MEMBER[q, (row - r) % 12]
            self.bass[q, members[3]] += 1
            self.doubling[(q, *np.bincount(members, minlength=N_MEMBERS))] += 1
        pairs = np.concatenate([parallel_pairs(g[:-1], g[1:]) for g in full if len(g) > 1])
        self.parallel = np.bincount(np.minimum(pairs, 3), minlength=4).astype(np.float64)
        return self

    # -- costs --------------------------------------------------------------------------------
    @property
    def _tables(self) -> dict[str, Any]:
        if not hasattr(self, "_cache"):
            patterns = np.array([c for c in product(range(5), repeat=5) if sum(c) == 4])
            dbl = np.full((N_QUAL,) + (5,) * 5, np.inf)
            for q in range(N_QUAL):
                counts = self.doubling[(q, *patterns.T)] + DOUBLING_PRIOR
                dbl[(q, *patterns.T)] = -np.log(counts / counts.sum())
            self._cache = {
                "pitch": {v: _neglog(self.pitch[v]) for v in LOWER},
                "interval": {v: _neglog(self.interval[v]) for v in LOWER},
                "spacing": {k: _neglog(v) for k, v in self.spacing.items()},
                "bass": _neglog(self.bass), "doubling": dbl,
                "parallel": _neglog(self.parallel)}
        return self._cache

    def _candidates(self, soprano: int, chord: int) -> np.ndarray:
        """Chord-tone ``(alto, tenor, bass)`` triples inside the voice ranges whose spacings
        (including negative ones: crossings) all occur in the training chorales:
        ``(n, 3)``."""
        pcs = set(_chord_pcs(chord))
        axes = [[p for p in range(self.ranges[v][0], self.ranges[v][1] + 1) if p % 12 in pcs]
                for v in LOWER]
        cand = np.array(list(product(*axes)), dtype=np.int64).reshape(-1, 3)
        full = np.concatenate([np.full((len(cand), 1), soprano), cand], 1)
        keep = np.ones(len(cand), dtype=bool)
        for i, pair in enumerate(("soprano-alto", "alto-tenor", "tenor-bass")):
            seen = np.flatnonzero(self.spacing[pair]) + SPACING_LO
            gap = full[:, i] - full[:, i + 1]
            keep &= (gap >= seen.min()) & (gap <= seen.max())
        if not keep.any():       # a soprano outside every seen spacing: keep all
            return cand
        return cand[keep]

    def _node_cost(self, soprano: int, chord: int, cand: np.ndarray) -> np.ndarray:
        t, w = self._tables, self.weights
        full = np.concatenate([np.full((len(cand), 1), soprano), cand], 1)
        cost = w["pitch"] * sum(t["pitch"][v][cand[:, i]] for i, v in enumerate(LOWER))
        for i, pair in enumerate(("soprano-alto", "alto-tenor", "tenor-bass")):
            gap = np.clip(full[:, i] - full[:, i + 1], SPACING_LO, SPACING_HI) - SPACING_LO
            cost = cost + w["spacing"] * t["spacing"][pair][gap]
        r, q = _root_quality(chord)
        members = MEMBER[q, (full - r) % 12]
        cost = cost + w["bass"] * t["bass"][q, members[:, 3]]
        counts = np.stack([(members == m).sum(1) for m in range(N_MEMBERS)], 1)
        return cost + w["doubling"] * t["doubling"][(q, *counts.T)]

    def _edge_cost(self, s0: int, s1: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``(len(a), len(b))`` transition costs; parallels as in :func:`parallel_pairs`,
        computed per voice pair on candidate vectors (10x faster than broadcasting it)."""
        t, w = self._tables, self.weights
        cost = np.zeros((len(a), len(b)))
        moves: list[Any] = [np.sign(s1 - s0)]
        for i, v in enumerate(LOWER):
            step = b[None, :, i] - a[:, None, i]
            moves.append(np.sign(step))
            step = np.clip(step, -MAX_INTERVAL - 1, MAX_INTERVAL + 1) + MAX_INTERVAL + 1
            cost += w["interval"] * t["interval"][v][step]
        prev = np.concatenate([np.full((len(a), 1), s0), a], 1)
        cur = np.concatenate([np.full((len(b), 1), s1), b], 1)
        count = np.zeros((len(a), len(b)), dtype=np.int64)
        for i in range(4):
            if i == 0 and moves[0] == 0:
                continue
            for j in range(i + 1, 4):
                iv0, iv1 = (prev[:, i] - prev[:, j]) % 12, (cur[:, i] - cur[:, j]) % 12
                eq = (iv0[:, None] == iv1[None, :]) & ((iv0 == 0) | (iv0 == 7))[:, None]
                if eq.any():
                    count += eq & (moves[i] * moves[j] > 0)
        return cost + w["parallel"] * t["parallel"][np.minimum(count, 3)]

    def voice(self, soprano: Sequence[int], chords: Sequence[int]) -> np.ndarray:
        """Alto, tenor and bass for a soprano and a chord per beat (Viterbi).

        Parameters
        ----------
        soprano : sequence of int
            MIDI pitch per beat (no rests; see :func:`voice_melody`).
        chords : sequence of int
            Index into :data:`~wavesmith.music.harmonize.CHORDS` per beat, none ``N``.

        Returns
        -------
        np.ndarray
            int ``(beats, 3)``: MIDI pitches of alto, tenor, bass.
        """
        if len(soprano) != len(chords) or not len(soprano):
            raise AudioValueError(f"voice: {len(soprano)} soprano beats and {len(chords)} "
                                  "chords; need the same number, at least one")
        if not all(0 < c < len(CHORDS) for c in chords):
            raise AudioValueError(f"voice: chords must be indices 1..{len(CHORDS) - 1} "
                                  "(no N); see beat_chords")
        cands = [self._candidates(s, c) for s, c in zip(soprano, chords, strict=True)]
        score = self._node_cost(soprano[0], chords[0], cands[0])
        back = []
        for i in range(1, len(chords)):
            total = score[:, None] + self._edge_cost(soprano[i - 1], soprano[i], cands[i - 1],
                                                     cands[i])
            back.append(total.argmin(0))
            score = total.min(0) + self._node_cost(soprano[i], chords[i], cands[i])
        path = [int(score.argmin())]
        for bp in reversed(back):
            path.append(int(bp[path[-1]]))
        path.reverse()
        return np.stack([cands[i][k] for i, k in enumerate(path)])

    # -- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts, ranges, weights and provenance (doubling as sparse rows
        ``[quality, n_root, n_third, n_fifth, n_seventh, n_other, count]``)."""
        idx = np.argwhere(self.doubling > 0)
        return {"format": FORMAT, "model": "chorale_voicing", "chords": list(CHORDS),
                "ranges": self.ranges, "weights": self.weights,
                "pitch": {k: v.tolist() for k, v in self.pitch.items()},
                "interval": {k: v.tolist() for k, v in self.interval.items()},
                "spacing": {k: v.tolist() for k, v in self.spacing.items()},
                "bass": self.bass.tolist(), "parallel": self.parallel.tolist(),
                "doubling": [[*map(int, i), int(self.doubling[tuple(i)])] for i in idx],
                "provenance": self.provenance}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the tables as JSON, atomically."""
        from wavesmith.io import write_text_atomic

        return write_text_atomic(Path(path), json.dumps(self.to_dict()) + "\n")

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "tables") -> ChoraleVoicer:
        """Rebuild from :meth:`to_dict` output; refuses other formats."""
        if not isinstance(d, dict) or d.get("format") != FORMAT \
                or d.get("model") != "chorale_voicing" or d.get("chords") != list(CHORDS):
            raise ModelError(f"{source}: not a wavesmith chorale voicing table")
        dbl = np.zeros((N_QUAL,) + (5,) * 5)
        for *i, c in d["doubling"]:
            dbl[tuple(i)] = c
        out = cls(ranges={k: [int(a), int(b)] for k, (a, b) in d["ranges"].items()},
                  pitch={k: np.asarray(v, float) for k, v in d["pitch"].items()},
                  interval={k: np.asarray(v, float) for k, v in d["interval"].items()},
                  spacing={k: np.asarray(v, float) for k, v in d["spacing"].items()},
                  bass=np.asarray(d["bass"], float), doubling=dbl,
                  parallel=np.asarray(d["parallel"], float),
                  weights={k: float(d["weights"][k]) for k in TERMS},
                  provenance=dict(d.get("provenance", {})))
        shapes = {"pitch": (128,), "interval": (2 * MAX_INTERVAL + 3,),
                  "spacing": (SPACING_HI - SPACING_LO + 1,)}
        for name, shape in shapes.items():
            if any(v.shape != shape for v in getattr(out, name).values()):
                raise ModelError(f"{source}: {name} tables must have shape {shape}")
        if set(out.ranges) != {"soprano", *LOWER} or out.bass.shape != (N_QUAL, N_MEMBERS):
            raise ModelError(f"{source}: ranges or bass table missing or misshapen")
        return out


@lru_cache(maxsize=4)
def _load(path: str) -> ChoraleVoicer:
    p = Path(path)
    if not p.is_file():
        raise ModelNotFoundError(f"{p}: chorale voicing table not found; build it with "
                                 "`python scripts/train_music.py chorale`")
    try:
        doc = json.loads(p.read_text())
        return ChoraleVoicer.from_dict(doc, source=str(p))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{p}: cannot read chorale voicing table ({msg})") from exc


def load_voicer(path: str | os.PathLike[str] | None = None) -> ChoraleVoicer:
    """Load the shipped chorale voicing tables (or a table saved at ``path``).

    Raises
    ------
    ModelNotFoundError
        If the file is missing.
    ModelError
        If it is not a voicing table of this format.
    """
    return _load(str(Path(path) if path is not None else SHIPPED_VOICING))


# -- baseline and metrics -----------------------------------------------------------------------
def closed_voicing(soprano: Sequence[int], chords: Sequence[int], *,
                   bass_range: tuple[int, int] = (36, 62)) -> np.ndarray:
    """Baseline: root position, close position. Alto and tenor are the next chord tones
    below the soprano; the bass is the root (inside ``bass_range``, MIDI) nearest the
    previous bass and below the tenor when the range allows. Returns int ``(beats, 3)``.

    Examples
    --------
    >>> from wavesmith.music.harmonize import CHORDS
    >>> closed_voicing([72, 74], [CHORDS.index("C"), CHORDS.index("G7")]).tolist()
    [[67, 64, 48], [71, 67, 43]]
    """
    out = np.zeros((len(soprano), 3), dtype=np.int64)
    prev = (bass_range[0] + bass_range[1]) // 2
    for i, (s, c) in enumerate(zip(soprano, chords, strict=True)):
        pcs = set(_chord_pcs(c))
        a = next(p for p in range(s - 1, s - 13, -1) if p % 12 in pcs)
        t = next(p for p in range(a - 1, a - 13, -1) if p % 12 in pcs)
        roots = [p for p in range(bass_range[0], bass_range[1] + 1)
                 if p % 12 == _root_quality(c)[0]]
        below = [p for p in roots if p <= t] or roots
        b = min(below, key=lambda p: (abs(p - prev), p))
        out[i], prev = (a, t, b), b
    return out


def voicing_metrics(pred: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Agreement of predicted and real lower voices, and voice-leading rates.

    ``pred``, ``ref``: MIDI ``(beats, 4)`` S, A, T, B with the same soprano. Returns the
    share of beats where each of alto, tenor, bass has the real pitch (``*_exact``) and
    pitch class (``*_pc``), parallel fifths/octaves per 100 beats, the voice-crossing rate
    and the share of beats with soprano-alto or alto-tenor wider than an octave, all for
    ``pred``, plus ``beats``.
    """
    out: dict[str, float] = {"beats": len(pred)}
    for v, name in enumerate(LOWER, start=1):
        out[f"{name}_exact"] = float((pred[:, v] == ref[:, v]).mean())
        out[f"{name}_pc"] = float((pred[:, v] % 12 == ref[:, v] % 12).mean())
    out["parallels_per_100_beats"] = 100.0 * float(parallel_pairs(pred[:-1], pred[1:]).sum()
                                                   ) / len(pred)
    out["crossing_rate"] = crossing_rate(pred)
    out["wide_spacing_rate"] = float((-np.diff(pred[:, :3], axis=1) > 12).any(1).mean())
    return out


# -- melodies -----------------------------------------------------------------------------------
def beat_chords(chords: Sequence[str], melody: Melody, *, per: str = "bar") -> list[int]:
    """Chord indices per beat (:func:`~wavesmith.music.harmonize.beat_steps_for`) from one
    symbol per bar (``per="bar"``) or per beat (``per="beat"``); ``N`` entries take the
    next chord (else the previous one).

    Raises
    ------
    AudioValueError
        If every entry is ``N``, a symbol is unknown, ``per`` is neither ``"bar"`` nor
        ``"beat"``, or ``per="beat"`` and the count differs from the melody's beats.
    """
    if per not in ("bar", "beat"):
        raise AudioValueError(f"beat_chords: per={per!r} must be 'bar' or 'beat'")
    bad = [c for c in chords if c not in CHORDS]
    if bad:
        raise AudioValueError(f"unknown chord symbol {bad[0]!r}")
    idx = [CHORDS.index(c) for c in chords]
    if not any(idx):
        raise AudioValueError(f"{melody.name or 'melody'}: no chords to voice (all {per}s N)")
    for i in range(len(idx) - 2, -1, -1):
        idx[i] = idx[i] or idx[i + 1]
    for i in range(1, len(idx)):
        idx[i] = idx[i] or idx[i - 1]
    bs = beat_steps_for(melody)
    n_beats = math.ceil(melody.steps / bs)
    if per == "beat":
        if len(idx) != n_beats:
            raise AudioValueError(f"{melody.name or 'melody'}: {len(idx)} chords for "
                                  f"{n_beats} beats; need one per beat")
        return idx
    return [idx[min(b * bs // melody.steps_per_bar, len(idx) - 1)] for b in range(n_beats)]


@dataclass(frozen=True)
class Voicing:
    """Four voices per beat: ``beat_steps`` 16th steps apart, MIDI pitches (-1: silent;
    the soprano where the melody rests, the others before it starts), and the chord
    symbol of each beat."""

    beat_steps: int
    soprano: list[int]
    alto: list[int]
    tenor: list[int]
    bass: list[int]
    chords: list[str]


def voice_melody(melody: Melody, chords_per_bar: Sequence[str],
                 voicer: ChoraleVoicer | None = None, *, per: str = "bar") -> Voicing:
    """Voice ``melody`` as the soprano over one chord per bar, or per beat with
    ``per="beat"`` (shipped tables unless ``voicer``). Beats where the melody rests voice
    the last sounding pitch; the lower voices are silent (-1) before the melody's first
    note.

    Raises
    ------
    AudioValueError
        If the melody has no notes, every chord is ``N``, or the chords do not fit ``per``
        (see :func:`beat_chords`).
    """
    voicer = voicer or load_voicer()
    bs = beat_steps_for(melody)
    sounding = sounding_pitches(melody)[::bs]
    if not (sounding >= 0).any():
        raise AudioValueError(f"{melody.name or 'melody'}: no notes to harmonize")
    chords = beat_chords(chords_per_bar, melody, per=per)
    carried = sounding.copy()
    carried[:np.argmax(carried >= 0)] = carried[np.argmax(carried >= 0)]
    for i in range(1, len(carried)):
        if carried[i] < 0:
            carried[i] = carried[i - 1]
    lower = voicer.voice(carried.tolist(), chords)
    lower[:np.argmax(sounding >= 0)] = REST         # silent until the melody starts
    return Voicing(bs, sounding.tolist(), *(lower[:, v].tolist() for v in range(3)),
                   [CHORDS[c] for c in chords])


def chorale_midi(melody: Melody, voicing: Voicing, *, program: int = 0, velocity: int = 80
                 ) -> pretty_midi.PrettyMIDI:
    """A four-track MIDI file: the melody as the soprano track (unchanged), then alto,
    tenor and bass, one note per beat (a pitch repeated over the same chord is held), and
    each chord symbol as a text event where the chord starts (from the first voiced beat)."""
    from wavesmith.music._deps import quiet_import
    from wavesmith.music.midi import melody_to_midi

    pretty_midi = quiet_import("pretty_midi")
    pm = melody_to_midi(melody, program=program, velocity=velocity)
    pm.instruments[0].name = "soprano"
    beat_s = 60.0 / melody.tempo_bpm / STEPS_PER_QUARTER * voicing.beat_steps
    end_s = melody.steps * 60.0 / melody.tempo_bpm / STEPS_PER_QUARTER
    prev = None
    for i, sym in enumerate(voicing.chords):
        if voicing.bass[i] >= 0 and sym != prev:
            pm.text_events.append(pretty_midi.Text(sym, i * beat_s))
            prev = sym
    for name in LOWER:
        inst = pretty_midi.Instrument(program=program, name=name)
        pitches = getattr(voicing, name)
        for i, p in enumerate(pitches):
            if p < 0:
                continue
            if i and p == pitches[i - 1] and voicing.chords[i] == voicing.chords[i - 1]:
                inst.notes[-1].end = min((i + 1) * beat_s, end_s)
                continue
            inst.notes.append(pretty_midi.Note(velocity=velocity, pitch=int(p),
                                               start=i * beat_s,
                                               end=min((i + 1) * beat_s, end_s)))
        pm.instruments.append(inst)
    return pm


# -- evaluation on real chorales -------------------------------------------------------------
def _hmm_chords(chorale: Any, beats: np.ndarray, harmony: Any) -> list[int]:
    """Chord per beat (indices ``beats`` into the chorale's quarter-note grid) from the
    chord HMM ``harmony`` run on the soprano line (one chord per bar or per beat)."""
    from wavesmith.music.chorale_chords import quarter_beat_chords

    return quarter_beat_chords(chorale, beats, harmony)


def evaluate_voicing(voicer: ChoraleVoicer, chorales: Sequence[Any], *,
                     chords: str = "real", harmony: Any = None) -> dict[str, Any]:
    """Voice real chorales' sopranos and compare with Bach's alto, tenor and bass.

    Beats are quarter notes where all four voices sound. ``chords="real"`` takes each
    beat's chord from the real four voices (:func:`~wavesmith.music.harmonize.chord_of`);
    ``"hmm"`` takes the chords of the chord HMM ``harmony`` run on the soprano (default: the
    shipped Nottingham one, one chord per bar); ``"beat"`` is ``"hmm"`` with the shipped
    chorale chord HMM (one chord per beat) as the default. Returns :func:`voicing_metrics`
    pooled over beats for the voicer (``model``) and :func:`closed_voicing` (``baseline``),
    the real chorales' own voice-leading rates (``real``), and for ``"hmm"`` / ``"beat"`` the
    share of beats whose HMM chord (and root) equals the real one.
    """
    from wavesmith.music.chorale_corpus import beat_grid

    if chords not in ("real", "hmm", "beat"):
        raise AudioValueError(f"evaluate_voicing: chords={chords!r} must be 'real', 'hmm' "
                              "or 'beat'")
    if chords == "hmm" and harmony is None:
        from wavesmith.music.harmonize import load_harmony

        harmony = load_harmony()
    if chords == "beat" and harmony is None:
        from wavesmith.music.chorale_chords import load_chorale_chords

        harmony = load_chorale_chords()
    rows: dict[str, list[dict[str, float]]] = {"model": [], "baseline": [], "real": []}
    hit = root_hit = 0
    bass_range = (voicer.ranges["bass"][0], voicer.ranges["bass"][1])
    for ch in chorales:
        grid = beat_grid(ch)
        keep = np.flatnonzero((grid >= 0).all(1))
        if len(keep) < 2:
            continue
        ref = grid[keep]
        real = [chord_of(r.tolist(), int(r[3])) for r in ref]
        used = real if chords == "real" else _hmm_chords(ch, keep, harmony)
        hit += sum(a == b for a, b in zip(used, real, strict=True))
        root_hit += sum((a - 1) // N_QUAL == (b - 1) // N_QUAL
                        for a, b in zip(used, real, strict=True))
        sop = ref[:, 0].tolist()
        for name, low in (("model", voicer.voice(sop, used)),
                          ("baseline", closed_voicing(sop, used, bass_range=bass_range)),
                          ("real", ref[:, 1:])):
            rows[name].append(voicing_metrics(np.concatenate([ref[:, :1], low], 1), ref))
    beats = sum(r["beats"] for r in rows["model"])
    out: dict[str, Any] = {"chords": chords, "chorales": len(rows["model"]), "beats": beats}
    for name, rs in rows.items():
        keys = [k for k in rs[0] if k != "beats"
                and not (name == "real" and k.endswith(("_exact", "_pc")))]
        out[name] = {k: round(sum(r[k] * r["beats"] for r in rs) / beats, 4) for k in keys}
    if chords != "real":
        out["chord_accuracy"] = round(hit / beats, 4)
        out["root_accuracy"] = round(root_hit / beats, 4)
    return out
