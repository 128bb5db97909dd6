"""Harmonization: chord templates, key estimate, the shipped chord HMM on held-out tunes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wavesmith.errors import AudioValueError, ModelError
from wavesmith.music.dataset import nottingham_files
from wavesmith.music.harmonize import (
    CHORDS,
    HarmonyModel,
    chord_labels,
    chord_of,
    estimate_key,
    harmonize,
    harmonize_file,
    load_harmony,
)
from wavesmith.music.midi import Melody, load_midi, melody_from_midi, split_pieces


@pytest.mark.parametrize(("pitches", "bass", "symbol"), [
    ((60, 64, 67), 48, "C"), ((57, 60, 64), 45, "Am"), ((55, 59, 62, 65), 43, "G7"),
    ((59, 62, 65), 47, "Bdim"), ((62, 66), 50, "D"), ((), None, "N"),
])
def test_chord_templates(pitches: tuple, bass: int | None, symbol: str) -> None:
    assert CHORDS[chord_of(pitches, bass)] == symbol


def test_key_of_a_scale() -> None:
    d_major = [62, 64, 66, 67, 69, 71, 73, 74, 69, 66, 62]
    toks = np.full(len(d_major) * 4, -2, np.int16)
    toks[::4] = d_major
    assert estimate_key(Melody(toks)) == (2, "major")


@pytest.fixture(scope="module")
def test_pairs(nottingham: Path) -> list[tuple[Melody, np.ndarray]]:
    """Six real held-out tunes with their chords read from the accompaniment track."""
    out = []
    for p in split_pieces(nottingham_files(nottingham))["test"][:6]:
        pm = load_midi(p)
        mel = melody_from_midi(pm, name=p.stem)
        out.append((mel, chord_labels(pm, mel)))
    return out


@pytest.mark.integration
def test_hmm_beats_tonic_triad_on_heldout_tunes(test_pairs: list) -> None:
    model = load_harmony()
    hit = base = n = 0
    for mel, ref in test_pairs:
        pred = [CHORDS.index(c) for c in harmonize(mel, model).chords]
        tonic, mode = estimate_key(mel)
        triad = 1 + tonic * 4 + (0 if mode == "major" else 1)
        hit += int((np.array(pred) == ref).sum())
        base += int((ref == triad).sum())
        n += len(ref)
    assert len(pred) == len(ref) and hit / n > 0.5 and hit > base


def test_write_two_tracks(nottingham: Path, tmp_path: Path) -> None:
    out = tmp_path / "h.mid"
    res = harmonize_file(nottingham / "jigs10.mid", out)
    pm = load_midi(out)
    assert len(pm.instruments) == 2 and res.bars == len(res.chords) > 8
    chord_notes = pm.instruments[1].notes
    assert len(chord_notes) >= 3 * sum(c != "N" for c in res.chords)
    with pytest.raises(AudioValueError, match="overwrite"):
        harmonize_file(out, out)


def test_bad_table(tmp_path: Path) -> None:
    (tmp_path / "h.json").write_text('{"format": 7}')
    with pytest.raises(ModelError, match="not a wavesmith chord HMM"):
        load_harmony(tmp_path / "h.json")
    counts = HarmonyModel().fit([(Melody(np.array([60, -2, 64, -2] * 8, np.int16)),
                                  np.array([1, 1]))])
    assert counts.trans["major"][0].sum() == 0 and counts.trans["major"].sum() == 1
