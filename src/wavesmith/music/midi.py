"""MIDI in and out, melody extraction, the 16th-note grid, event tokens and data splits.

pretty_midi parses and writes MIDI (it resolves tempo maps and time signatures, and it bundles
a General MIDI soundfont used by :mod:`wavesmith.music.render`).

Representations
---------------
*Melody grid* (:class:`Melody`): one integer per 16th note, MusicVAE-style. A value
``0..127`` starts a note of that MIDI pitch, :data:`NOTE_OFF` (-1) ends the sounding note,
:data:`NO_EVENT` (-2) keeps whatever was going on (a held note, or silence).
*Event tokens*: REMI (``Bar``, ``TimeSig``, ``Position``, ``Pitch``, ``Duration``) through
miditok, in :mod:`wavesmith.music.remi`.

Melody extraction
-----------------
Polyphonic input is reduced to one line, documented and deterministic: the melody track is
the non-drum instrument with the highest mean pitch (the tune, not the accompaniment, in the
Nottingham files), and within it the *top line* (skyline) is kept: when notes overlap, the
higher one wins and a lower note sounding under it is cut or dropped.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from wavesmith.errors import AudioFileError, AudioValueError
from wavesmith.music._deps import quiet_import

if TYPE_CHECKING:
    import pretty_midi

__all__ = [
    "DEFAULT_TEMPO_BPM",
    "NOTE_OFF",
    "NO_EVENT",
    "STEPS_PER_QUARTER",
    "Melody",
    "MelodyNote",
    "extract_melody",
    "load_midi",
    "melody_from_midi",
    "melody_to_midi",
    "parse_meter",
    "quantize",
    "read_melody",
    "save_midi",
    "split_pieces",
    "steps_per_bar_for",
    "transpose",
]

NOTE_OFF = -1                  # grid token: the sounding note ends at this step
NO_EVENT = -2                  # grid token: nothing changes at this step
STEPS_PER_QUARTER = 4          # grid steps per quarter note (16th-note grid)
DEFAULT_TEMPO_BPM = 120.0      # quarter notes per minute when a file gives no tempo
MIN_PITCH, MAX_PITCH = 0, 127  # MIDI note numbers
MAX_MIDI_BYTES = 16_000_000    # bytes; larger "MIDI" files are refused before parsing


@dataclass(frozen=True, slots=True)
class MelodyNote:
    """One note of a melody on the grid: ``[start_step, end_step)`` in 16th notes."""

    pitch: int
    start_step: int
    end_step: int


@dataclass(frozen=True, eq=False)
class Melody:
    """A monophonic melody on a 16th-note grid.

    Parameters
    ----------
    tokens : np.ndarray
        int16, shape ``(steps,)``: ``0..127`` note onset, :data:`NOTE_OFF`, :data:`NO_EVENT`.
    steps_per_bar : int
        Grid steps (16th notes) per bar: 16 for 4/4, 12 for 6/8 or 3/4.
    tempo_bpm : float
        Quarter notes per minute, used when the melody is written back to MIDI.
    name : str
        Piece name (the file stem for parsed files).
    """

    tokens: np.ndarray
    steps_per_bar: int = 16
    tempo_bpm: float = DEFAULT_TEMPO_BPM
    name: str = ""
    time_signature: tuple[int, int] = field(default=(4, 4))

    def __post_init__(self) -> None:
        t = np.asarray(self.tokens, dtype=np.int16).copy()
        if t.ndim != 1:
            raise AudioValueError(f"melody tokens must be 1-D, got shape {t.shape}")
        if t.size and (t.min() < NO_EVENT or t.max() > MAX_PITCH):
            raise AudioValueError("melody tokens must be -2, -1 or a MIDI pitch 0..127")
        if self.steps_per_bar < 1:
            raise AudioValueError(f"steps_per_bar={self.steps_per_bar} must be >= 1")
        t.flags.writeable = False
        object.__setattr__(self, "tokens", t)

    @property
    def steps(self) -> int:
        """Length in grid steps (16th notes)."""
        return int(self.tokens.size)

    @property
    def bars(self) -> float:
        """Length in bars (fractional when the last bar is incomplete)."""
        return self.steps / self.steps_per_bar

    def notes(self) -> list[MelodyNote]:
        """The notes, in time order; a note ends at NOTE_OFF, the next onset or the end."""
        out: list[MelodyNote] = []
        pitch, start = -1, 0
        for i, tok in enumerate(self.tokens.tolist()):
            if tok == NO_EVENT:
                continue
            if pitch >= 0:
                out.append(MelodyNote(pitch, start, i))
                pitch = -1
            if tok >= 0:
                pitch, start = tok, i
        if pitch >= 0:
            out.append(MelodyNote(pitch, start, self.steps))
        return out

    def with_tokens(self, tokens: np.ndarray) -> Melody:
        """A melody with the same meter, tempo and name but other tokens."""
        return Melody(tokens, self.steps_per_bar, self.tempo_bpm, self.name, self.time_signature)

    def crop(self, bars: int, start_bar: int = 0) -> Melody:
        """The ``bars`` bars from ``start_bar`` (a note cut at the end is shortened)."""
        a = start_bar * self.steps_per_bar
        return self.with_tokens(self.tokens[a:a + bars * self.steps_per_bar])


def steps_per_bar_for(numerator: int, denominator: int) -> int:
    """Grid steps (16th notes) in one bar of ``numerator/denominator`` time."""
    if numerator < 1 or denominator not in (1, 2, 4, 8, 16):
        raise AudioValueError(f"time signature {numerator}/{denominator} is not supported")
    return numerator * 16 // denominator


def parse_meter(text: str) -> tuple[int, int]:
    """``"6/8"`` → ``(6, 8)``, checked as :func:`steps_per_bar_for` checks it.

    Raises
    ------
    AudioValueError
        If ``text`` is not ``<numerator>/<denominator>`` or the meter is not supported.
    """
    num, _, den = text.strip().partition("/")
    if not (num.isdigit() and den.isdigit()):
        raise AudioValueError(f"meter {text!r} must look like 4/4 or 6/8")
    steps_per_bar_for(int(num), int(den))
    return int(num), int(den)


# -- reading -------------------------------------------------------------------------------
def load_midi(path: str | os.PathLike[str]) -> pretty_midi.PrettyMIDI:
    """Parse a Standard MIDI File.

    Raises
    ------
    AudioFileError
        If the file is missing, empty, too large, truncated or not MIDI (one line).
    """
    pretty_midi = quiet_import("pretty_midi")

    p = Path(path)
    if not p.is_file():
        raise AudioFileError(f"{p}: no such MIDI file")
    size = p.stat().st_size
    if size == 0:
        raise AudioFileError(f"{p}: empty file (0 bytes), not a MIDI file")
    if size > MAX_MIDI_BYTES:
        raise AudioFileError(f"{p}: {size} bytes is too large for a MIDI file "
                             f"(limit {MAX_MIDI_BYTES})")
    try:
        with warnings.catch_warnings():
            # Nottingham-style files put meta events on track 2; pretty_midi reads them fine.
            warnings.simplefilter("ignore", RuntimeWarning)
            return pretty_midi.PrettyMIDI(str(p))
    except EOFError as exc:
        raise AudioFileError(f"{p}: truncated or corrupt MIDI file (unexpected end)") from exc
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise AudioFileError(f"{p}: not a valid MIDI file ({exc})") from exc


def extract_melody(pm: pretty_midi.PrettyMIDI, *, name: str = "midi"
                   ) -> list[tuple[float, float, int]]:
    """Reduce a MIDI file to one melodic line, as ``(start_s, end_s, pitch)`` tuples.

    The melody track is the non-drum instrument with the highest mean pitch; overlapping
    notes in it are reduced to the top line (see the module docstring).

    Raises
    ------
    AudioValueError
        If the file has no notes, or only drum notes.
    """
    tracks = [ins for ins in pm.instruments if ins.notes]
    if not tracks:
        raise AudioValueError(f"{name}: the MIDI file has no notes")
    pitched = [ins for ins in tracks if not ins.is_drum]
    if not pitched:
        raise AudioValueError(f"{name}: the MIDI file has only drum notes; a melody needs "
                              "a pitched instrument")
    melody = max(pitched, key=lambda ins: (np.mean([n.pitch for n in ins.notes]),
                                           -pitched.index(ins)))
    notes = sorted(((n.start, n.end, n.pitch) for n in melody.notes if n.end > n.start),
                   key=lambda n: (n[0], -n[2]))
    line: list[list[float]] = []
    for start, end, pitch in notes:
        if line and start < line[-1][1] - 1e-9:        # overlaps the current top note
            if pitch <= line[-1][2]:
                continue                                # lower (or equal) note: dropped
            line[-1][1] = start                         # higher note cuts the lower one
            if line[-1][1] - line[-1][0] <= 1e-9:
                line.pop()
        line.append([start, end, pitch])
    return [(float(s), float(e), int(p)) for s, e, p in line]


def _time_signature(pm: pretty_midi.PrettyMIDI) -> tuple[int, int]:
    changes = pm.time_signature_changes
    if not changes:
        return (4, 4)
    return (int(changes[0].numerator), int(changes[0].denominator))


def quantize(notes: Sequence[tuple[float, float, int]], pm: pretty_midi.PrettyMIDI, *,
             name: str = "midi") -> Melody:
    """Put ``(start_s, end_s, pitch)`` notes on the 16th-note grid of ``pm``'s tempo map.

    Onsets and offsets snap to the nearest 16th note (in ticks, so tempo changes are
    honoured); a note shorter than half a 16th keeps one step; when two onsets land on the
    same step the later (or higher) note wins. The meter is the file's first time signature.
    """
    step_ticks = pm.resolution / STEPS_PER_QUARTER
    num, den = _time_signature(pm)
    tempi = pm.get_tempo_changes()[1]
    tempo = float(tempi[0]) if len(tempi) else DEFAULT_TEMPO_BPM
    if not notes:
        raise AudioValueError(f"{name}: no melody notes to quantize")
    spans = []
    for start, end, pitch in notes:
        a = round(pm.time_to_tick(start) / step_ticks)
        b = max(a + 1, round(pm.time_to_tick(end) / step_ticks))
        spans.append((a, b, pitch))
    steps = max(b for _, b, _ in spans)
    tokens = np.full(steps, NO_EVENT, dtype=np.int16)
    for i, (a, b, pitch) in enumerate(spans):
        tokens[a] = pitch
        nxt = spans[i + 1][0] if i + 1 < len(spans) else steps
        if b < nxt:  # a rest follows (else the next onset ends this note)
            tokens[b] = NOTE_OFF
    return Melody(tokens, steps_per_bar_for(num, den), tempo, name, (num, den))


def melody_from_midi(pm: pretty_midi.PrettyMIDI, *, name: str = "midi") -> Melody:
    """Extract (top line) and quantize the melody of a parsed MIDI file."""
    return quantize(extract_melody(pm, name=name), pm, name=name)


def read_melody(path: str | os.PathLike[str]) -> Melody:
    """Read a MIDI file's melody onto the 16th-note grid (see :func:`extract_melody`).

    Raises
    ------
    AudioFileError
        Missing, empty or corrupt file.
    AudioValueError
        No notes, or only drums.
    """
    p = Path(path)
    return melody_from_midi(load_midi(p), name=p.stem)


# -- transforms and tokens --------------------------------------------------------------------
def transpose(melody: Melody, semitones: int) -> Melody:
    """Shift every pitch by ``semitones``.

    Raises
    ------
    AudioValueError
        If a pitch would leave the MIDI range 0..127.
    """
    t = melody.tokens.astype(np.int32)
    on = t >= 0
    if on.any():
        lo, hi = int(t[on].min()) + semitones, int(t[on].max()) + semitones
        if lo < MIN_PITCH or hi > MAX_PITCH:
            raise AudioValueError(f"transpose by {semitones} semitones puts pitches at "
                                  f"{lo}..{hi}, outside MIDI 0..127")
    t[on] += semitones
    return melody.with_tokens(t.astype(np.int16))


# -- writing -----------------------------------------------------------------------------------
def melody_to_midi(melody: Melody, *, program: int = 0, velocity: int = 90
                   ) -> pretty_midi.PrettyMIDI:
    """Build a one-track MIDI file (General MIDI ``program``) from a melody."""
    pretty_midi = quiet_import("pretty_midi")

    if melody.tempo_bpm <= 0:
        raise AudioValueError(f"tempo_bpm={melody.tempo_bpm} must be > 0")
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(melody.tempo_bpm))
    num, den = melody.time_signature
    pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, 0.0))
    inst = pretty_midi.Instrument(program=program, name=melody.name or "melody")
    step_s = 60.0 / melody.tempo_bpm / STEPS_PER_QUARTER
    for nt in melody.notes():
        inst.notes.append(pretty_midi.Note(velocity=velocity, pitch=nt.pitch,
                                           start=nt.start_step * step_s,
                                           end=nt.end_step * step_s))
    pm.instruments.append(inst)
    return pm


def save_midi(pm: pretty_midi.PrettyMIDI, path: str | os.PathLike[str]) -> Path:
    """Write ``pm`` to ``path`` atomically (a temporary file in the same folder, renamed).

    Raises
    ------
    AudioFileError
        If the folder does not exist or cannot be written; nothing is left behind.
    """
    from wavesmith.io import atomic_output

    dst = Path(path)
    with atomic_output(dst) as tmp:
        pm.write(str(tmp))
    return dst


# -- splits ---------------------------------------------------------------------------------------
def split_pieces(paths: Iterable[str | os.PathLike[str]], *, test_fraction: float = 0.1,
                 valid_fraction: float = 0.1) -> dict[str, list[Path]]:
    """Split files into ``train`` / ``valid`` / ``test`` by piece, deterministically.

    Each file is one piece; its split is fixed by the SHA-1 of its file name (not its folder
    or the listing order), so a piece never moves between splits when files are added.
    """
    if not (0 <= test_fraction < 1 and 0 <= valid_fraction < 1
            and test_fraction + valid_fraction < 1):
        raise AudioValueError("split fractions must be in [0, 1) and sum to < 1")
    out: dict[str, list[Path]] = {"train": [], "valid": [], "test": []}
    for p in sorted(Path(x) for x in paths):
        u = int(hashlib.sha1(p.name.encode()).hexdigest()[:8], 16) / 0x1_0000_0000
        key = "test" if u < test_fraction else ("valid" if u < test_fraction + valid_fraction
                                               else "train")
        out[key].append(p)
    return out
