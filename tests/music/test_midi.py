"""MIDI parsing, melody grids, event tokens, transposition and splits."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from wavesmith.errors import AudioFileError, AudioValueError
from wavesmith.music.midi import (
    NO_EVENT,
    NOTE_OFF,
    Melody,
    melody_from_midi,
    melody_to_midi,
    read_melody,
    save_midi,
    split_pieces,
    transpose,
)


def _write(pm: pretty_midi.PrettyMIDI, path: Path) -> Path:
    pm.write(str(path))
    return path


@pytest.mark.integration
def test_read_real_tune(nottingham: Path) -> None:
    m = read_melody(nottingham / "ashover1.mid")
    assert m.steps_per_bar == 12 and m.time_signature == (3, 4)   # 3/4 tune
    notes = m.notes()
    assert (notes[0].pitch, notes[0].start_step, notes[0].end_step) == (76, 8, 12)
    assert len(notes) == 68                                      # the melody track's notes
    assert all(a.end_step <= b.start_step for a, b in itertools.pairwise(notes))


@pytest.mark.integration
def test_midi_write_read_round_trip(nottingham: Path, tmp_path: Path) -> None:
    m = read_melody(nottingham / "reelsa-c1.mid")
    out = save_midi(melody_to_midi(m), tmp_path / "x.mid")
    again = read_melody(out)
    assert again.notes() == m.notes() and again.steps_per_bar == m.steps_per_bar


def test_top_line_of_polyphony(tmp_path: Path) -> None:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    ins = pretty_midi.Instrument(0)
    for p in (60, 64, 67):                                      # C major chord, 1 beat
        ins.notes.append(pretty_midi.Note(velocity=80, pitch=p, start=0.0, end=0.5))
    ins.notes.append(pretty_midi.Note(velocity=80, pitch=62, start=0.5, end=1.0))
    bass = pretty_midi.Instrument(32)
    bass.notes.append(pretty_midi.Note(velocity=80, pitch=36, start=0.0, end=1.0))
    pm.instruments += [bass, ins]
    m = melody_from_midi(pm)
    assert [(n.pitch, n.start_step, n.end_step) for n in m.notes()] == [(67, 0, 4), (62, 4, 8)]


def test_quantize_rest_tokens() -> None:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)              # 16th = 0.125 s
    ins = pretty_midi.Instrument(0)
    ins.notes += [pretty_midi.Note(velocity=80, pitch=60, start=0.0, end=0.25),
                  pretty_midi.Note(velocity=80, pitch=62, start=0.5, end=0.62)]
    pm.instruments.append(ins)
    m = melody_from_midi(pm)
    assert m.tokens.tolist() == [60, NO_EVENT, NOTE_OFF, NO_EVENT, 62]


def test_transpose_and_range() -> None:
    m = Melody(np.array([60, NO_EVENT, 64, NOTE_OFF], np.int16))
    assert transpose(m, 5).tokens.tolist() == [65, NO_EVENT, 69, NOTE_OFF]
    with pytest.raises(AudioValueError, match=r"outside MIDI 0\.\.127"):
        transpose(m, 70)


@pytest.mark.integration
def test_split_is_by_piece_and_deterministic(nottingham: Path) -> None:
    files = sorted(nottingham.glob("*.mid"))
    a = split_pieces(files)
    b = split_pieces(list(reversed(files)))
    assert a == b
    names = [{p.name for p in a[k]} for k in ("train", "valid", "test")]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert sum(map(len, names)) == len(files)
    assert 0.05 < len(a["test"]) / len(files) < 0.15


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty file"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00", "truncated or corrupt"),
    (b"RIFF....WAVEfmt " + bytes(64), "not a valid MIDI file"),
])
def test_bad_midi_files(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "bad.mid"
    p.write_bytes(content)
    with pytest.raises(AudioFileError, match=message):
        read_melody(p)


def test_no_notes_and_drums_only(tmp_path: Path) -> None:
    empty = _write(pretty_midi.PrettyMIDI(), tmp_path / "empty.mid")
    with pytest.raises(AudioValueError, match="has no notes"):
        read_melody(empty)
    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes.append(pretty_midi.Note(velocity=100, pitch=36, start=0, end=0.1))
    pm.instruments.append(drums)
    with pytest.raises(AudioValueError, match="only drum notes"):
        read_melody(_write(pm, tmp_path / "drums.mid"))


def test_save_midi_to_missing_folder(tmp_path: Path) -> None:
    m = Melody(np.array([60, NO_EVENT], np.int16))
    with pytest.raises(AudioFileError, match="does not exist"):
        save_midi(melody_to_midi(m), tmp_path / "nope" / "x.mid")
    assert not (tmp_path / "nope").exists()
