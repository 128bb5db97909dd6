"""The Bach chorales of the music21 corpus as four-voice note lists, beat grids and splits.

music21 (BSD-3-Clause, the ``train`` extra) bundles the 371 four-part chorales in the
Riemenschneider numbering (``music21.corpus.chorales.Iterator``). Parsing all of them takes
about 2 minutes on one core, so :func:`load_chorales` keeps the result in a JSON cache
(``~/.cache/wavesmith/chorales-music21-<version>.json.gz``, or under ``$WAVESMITH_CACHE``).
Only the voicing *training* and evaluation need music21; the shipped voicing tables do not.

A chorale is kept when it has exactly one part each named soprano, alto, tenor and bass
(instrumental parts are ignored). Ties are merged; a chord inside a part keeps its top note.
Times are in quarter notes from the first note (a pickup starts at 0).

The split (:func:`split_chorales`) is by *melody*: Bach harmonized some hymn tunes several
times, so chorales whose soprano lines open with the same 12 intervals form one group, and
whole groups are assigned to ``train`` / ``valid`` / ``test`` by a seeded shuffle. No
chorale, and no melody, is in two splits.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.errors import AudioValueError, MissingToolError
from wavesmith.music.midi import NO_EVENT, NOTE_OFF, STEPS_PER_QUARTER, Melody, steps_per_bar_for

__all__ = ["VOICES", "Chorale", "beat_grid", "chorale_names", "load_chorales",
           "soprano_melody", "split_chorales"]

VOICES = ("soprano", "alto", "tenor", "bass")
CACHE_DIR = Path(os.environ.get("WAVESMITH_CACHE", Path.home() / ".cache" / "wavesmith"))
CACHE_FORMAT = 1
GROUP_INTERVALS = 12            # opening soprano intervals that identify a hymn melody
SPLIT_FRACTIONS = (0.8, 0.1)    # train, valid; the rest is test
REST = -1                       # beat-grid value of a silent voice


@dataclass(frozen=True)
class Chorale:
    """One chorale: per voice (S, A, T, B) its notes as ``(start_q, end_q, midi)``.

    ``start_q``/``end_q`` are in quarter notes from the first note; ``pickup_q`` is how many
    quarter notes the first (incomplete) bar is short of a full bar (0 without a pickup).
    """

    name: str                           # corpus path, e.g. "bach/bwv269"
    title: str
    time_signature: tuple[int, int]
    pickup_q: float
    voices: tuple[tuple[tuple[float, float, int], ...], ...]

    @property
    def length_q(self) -> float:
        """End of the last note, in quarter notes."""
        return max(n[1] for v in self.voices for n in v)


def chorale_names() -> list[str]:
    """The corpus paths of the 371 chorales (Riemenschneider order).

    Raises
    ------
    MissingToolError
        If music21 is not installed (``pip install 'wavesmith[train]'``).
    """
    try:
        from music21 import corpus
    except ImportError as exc:
        raise MissingToolError("the Bach chorales need music21 (pip install "
                               "'wavesmith[train]')") from exc
    return [str(n) for n in corpus.chorales.Iterator(returnType="filename")]


def _voice_notes(part: Any) -> tuple[tuple[float, float, int], ...]:
    notes: list[tuple[float, float, int]] = []
    for n in part.stripTies().flatten().notes:
        if n.quarterLength <= 0:                      # grace notes
            continue
        pitch = max(p.midi for p in n.pitches)
        start = float(n.offset)
        notes.append((start, start + float(n.quarterLength), int(pitch)))
    notes.sort()
    return tuple(notes)


def _parse(name: str) -> Chorale | None:
    from music21 import corpus

    score = corpus.parse(name)
    parts: dict[str, Any] = {}
    for p in score.parts:
        label = f"{p.id} {p.partName}".lower()
        for v in VOICES:
            if v in label:
                if v in parts:
                    return None
                parts[v] = p
    if set(parts) != set(VOICES):
        return None
    ts = score.recurse().getElementsByClass("TimeSignature")
    num, den = (ts[0].numerator, ts[0].denominator) if ts else (4, 4)
    first = parts["soprano"].getElementsByClass("Measure")
    pickup = float(first[0].paddingLeft) if len(first) else 0.0
    voices = tuple(_voice_notes(parts[v]) for v in VOICES)
    if not all(voices):
        return None
    title = str(score.metadata.title or "") if score.metadata else ""
    return Chorale(name, title, (int(num), int(den)), pickup, voices)


def load_chorales(cache: str | os.PathLike[str] | None = None, *,
                  names: Sequence[str] | None = None) -> list[Chorale]:
    """Parse the chorales (all, or the corpus paths ``names``), through the JSON cache.

    The full parse writes the cache; a call with ``names`` reads it when present and
    otherwise parses only those chorales. Chorales that are not plain SATB are left out;
    the others come in the order of ``names`` (corpus order without it).

    Raises
    ------
    MissingToolError
        If music21 is not installed and there is no cache.
    """
    try:
        import music21
    except ImportError as exc:
        raise MissingToolError("the Bach chorales need music21 (pip install "
                               "'wavesmith[train]')") from exc
    path = Path(cache) if cache is not None else \
        CACHE_DIR / f"chorales-music21-{music21.__version__}.json.gz"
    records: list[Chorale] | None = None
    if path.is_file():
        doc = json.loads(gzip.decompress(path.read_bytes()))
        if doc.get("format") == CACHE_FORMAT:
            records = [Chorale(r["name"], r["title"], tuple(r["time_signature"]),
                               r["pickup_q"], tuple(tuple(tuple(n) for n in v)
                                                    for v in r["voices"]))
                       for r in doc["chorales"]]
    if records is None:
        if names is not None:
            return [c for c in map(_parse, names) if c is not None]
        records = [c for c in map(_parse, chorale_names()) if c is not None]
        path.parent.mkdir(parents=True, exist_ok=True)
        from wavesmith.io import write_bytes_atomic

        doc = {"format": CACHE_FORMAT, "music21": music21.__version__,
               "chorales": [{"name": c.name, "title": c.title,
                             "time_signature": list(c.time_signature),
                             "pickup_q": c.pickup_q,
                             "voices": [[list(n) for n in v] for v in c.voices]}
                            for c in records]}
        write_bytes_atomic(path, gzip.compress(json.dumps(doc).encode(), mtime=0))
    if names is not None:
        by_name = {c.name: c for c in records}
        records = [by_name[n] for n in names if n in by_name]
    return records


def beat_grid(chorale: Chorale, *, beat_q: float = 1.0) -> np.ndarray:
    """The MIDI pitch each voice sounds at every beat onset: int ``(beats, 4)`` (S, A, T,
    B), :data:`REST` where a voice is silent. Beats are ``beat_q`` quarter notes apart from
    the first note (so passing notes between beats are not seen)."""
    n_beats = int(np.ceil(chorale.length_q / beat_q - 1e-9))
    out = np.full((n_beats, 4), REST, dtype=np.int64)
    for v, notes in enumerate(chorale.voices):
        for start, end, pitch in notes:
            a = int(np.ceil(start / beat_q - 1e-9))
            b = int(np.ceil(end / beat_q - 1e-9))
            out[a:b, v] = pitch
    return out


def soprano_melody(chorale: Chorale) -> Melody:
    """The soprano line on the 16th-note grid (bar lines where the score has them: a pickup
    is preceded by silent steps), at 80 quarter notes per minute.

    Raises
    ------
    AudioValueError
        If the meter is one :func:`~wavesmith.music.midi.steps_per_bar_for` refuses.
    """
    num, den = chorale.time_signature
    spb = steps_per_bar_for(num, den)
    pad = round(chorale.pickup_q * STEPS_PER_QUARTER) % spb
    notes = [(pad + round(a * STEPS_PER_QUARTER), pad + round(b * STEPS_PER_QUARTER), p)
             for a, b, p in chorale.voices[0]]
    steps = max(b for _, b, _ in notes)
    tokens = np.full(steps, NO_EVENT, dtype=np.int16)
    for i, (a, b, p) in enumerate(notes):
        tokens[a] = p
        nxt = notes[i + 1][0] if i + 1 < len(notes) else steps
        if b < nxt:
            tokens[b] = NOTE_OFF
    if not len(notes):
        raise AudioValueError(f"{chorale.name}: the soprano has no notes")
    return Melody(tokens, spb, 80.0, chorale.name.replace("/", "-"), (num, den))


def _group_key(chorale: Chorale) -> tuple[int, ...]:
    pitches = [p for _, _, p in chorale.voices[0]]
    return tuple(np.diff(pitches[:GROUP_INTERVALS + 1]).tolist())


def split_chorales(chorales: Sequence[Chorale], *, seed: int = 0
                   ) -> dict[str, list[Chorale]]:
    """Split by melody group (see the module docstring): about 80 % of the groups to
    ``train``, 10 % to ``valid``, the rest to ``test``; the same ``seed`` and chorales
    give the same split."""
    groups: dict[tuple[int, ...], list[Chorale]] = {}
    for c in sorted(chorales, key=lambda c: c.name):
        groups.setdefault(_group_key(c), []).append(c)
    keys = sorted(groups)
    order = np.random.default_rng(seed).permutation(len(keys))
    n_train = round(SPLIT_FRACTIONS[0] * len(keys))
    n_valid = round(SPLIT_FRACTIONS[1] * len(keys))
    out: dict[str, list[Chorale]] = {"train": [], "valid": [], "test": []}
    for rank, k in enumerate(order):
        split = "train" if rank < n_train else ("valid" if rank < n_train + n_valid
                                                 else "test")
        out[split] += groups[keys[k]]
    for v in out.values():
        v.sort(key=lambda c: c.name)
    return out
