"""Four-part chorale voicing: the Viterbi voicer, its tables, the baseline, real chorales."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wavesmith.errors import AudioValueError, ModelError, ModelNotFoundError
from wavesmith.music.chorale import (
    SHIPPED_VOICING,
    ChoraleVoicer,
    beat_chords,
    chorale_midi,
    closed_voicing,
    crossing_rate,
    evaluate_voicing,
    load_voicer,
    parallel_pairs,
    voice_melody,
)
from wavesmith.music.chorale_corpus import REST, Chorale, beat_grid, split_chorales
from wavesmith.music.harmonize import CHORDS, harmonize, harmonize_file
from wavesmith.music.midi import Melody, load_midi, melody_to_midi, read_melody, save_midi

C, F, G, G7 = (CHORDS.index(s) for s in ("C", "F", "G", "G7"))
# a C-major hymn line, one quarter note per beat (16 beats = 4 bars of 4/4)
HYMN = [72, 71, 72, 74, 76, 74, 72, 71, 69, 71, 72, 74, 72, 71, 72, 72]


def hymn_melody() -> Melody:
    toks = np.full(len(HYMN) * 4, -2, np.int16)
    toks[::4] = HYMN
    return Melody(toks, 16, 90.0, "hymn")


def test_parallels_and_crossings_on_hand_made_chords() -> None:
    prev = np.array([72, 67, 64, 48])
    up = np.array([74, 69, 65, 50])           # S-B octave and A-B fifth both move up a tone
    assert parallel_pairs(prev, up) == 2
    contrary = np.array([74, 65, 64, 36])     # octave to octave, but contrary: not parallel
    assert parallel_pairs(prev, contrary) == 0
    grid = np.array([[72, 67, 64, 48], [72, 74, 64, 48], [72, 67, 55, 60]])
    assert crossing_rate(grid) == pytest.approx(2 / 3)


def test_fit_learns_a_voicing_and_reproduces_it() -> None:
    # train on one I-IV-V7-I progression voiced one way, in several keys
    base = np.array([[72, 67, 64, 48], [72, 69, 65, 53], [71, 65, 62, 55], [72, 67, 64, 48]])
    grids = [base + k for k in range(-3, 4)]
    voicer = ChoraleVoicer().fit(grids)
    assert voicer.ranges["bass"] == [45, 58] and voicer.parallel.sum() == 3 * len(grids)
    out = voicer.voice([74, 74, 73, 74], [CHORDS.index(s) for s in ("D", "G", "A7", "D")])
    np.testing.assert_array_equal(out, base[:, 1:] + 2)


def test_voicer_respects_ranges_chords_and_order() -> None:
    voicer = load_voicer()
    mel = hymn_melody()
    v = voice_melody(mel, ["C", "G", "F", "C"], voicer)
    grid = np.array([v.soprano, v.alto, v.tenor, v.bass]).T
    assert v.soprano == HYMN and len(v.alto) == 16 and v.beat_steps == 4
    for i, name in enumerate(("alto", "tenor", "bass"), start=1):
        lo, hi = voicer.ranges[name]
        assert grid[:, i].min() >= lo and grid[:, i].max() <= hi
    pcs = {"C": {0, 4, 7}, "G": {7, 11, 2}, "F": {5, 9, 0}}
    for beat, chord in enumerate(v.chords):
        assert {int(p) % 12 for p in grid[beat, 1:]} <= pcs[chord]
    assert crossing_rate(grid) == 0.0 and (np.diff(grid, axis=1) <= 0).all()
    assert parallel_pairs(grid[:-1], grid[1:]).sum() == 0


def test_baseline_is_close_root_position() -> None:
    out = closed_voicing([72, 74], [C, G7])
    np.testing.assert_array_equal(out, [[67, 64, 48], [71, 67, 43]])   # G2: nearest C3


def test_beat_chords_fill_n_and_refuse_unknown() -> None:
    mel = hymn_melody()
    assert beat_chords(["N", "G", "N", "C"], mel) == [G] * 8 + [C] * 8     # next chord
    with pytest.raises(AudioValueError, match="unknown chord symbol 'H7'"):
        beat_chords(["C", "H7", "C", "C"], mel)
    with pytest.raises(AudioValueError, match="all bars N"):
        beat_chords(["N"] * 4, mel)
    waltz = Melody(np.tile(np.array([67, -2, -2, -2, -2, -2], np.int16), 4), 12,
                   time_signature=(6, 8))
    assert beat_chords(["F", "C"], waltz) == [F, F, C, C]       # dotted-quarter beats


def test_four_tracks_keep_the_melody(tmp_path: Path) -> None:
    src, dst = tmp_path / "hymn.mid", tmp_path / "satb.mid"
    save_midi(melody_to_midi(hymn_melody()), src)
    res = harmonize_file(src, dst, voicing="chorale")
    pm = load_midi(dst)
    assert [i.name for i in pm.instruments] == ["soprano", "alto", "tenor", "bass"]
    assert read_melody(dst).notes() == read_melody(src).notes()
    assert res.voicing == "chorale" and res.voices is not None and len(res.voices.bass) == 16
    assert res.chords_per == "beat" and res.chords == res.voices.chords and res.bars == 4
    assert pm.text_events[0].text == res.chords[0] and len(pm.text_events) > 4
    bass = [n.pitch for n in pm.instruments[3].notes]
    assert 0 < len(bass) <= 16 and set(bass) <= set(res.voices.bass)
    chords = harmonize_file(src, tmp_path / "chords.mid")
    assert chords.voicing == "chords" and len(load_midi(tmp_path / "chords.mid").instruments) == 2
    with pytest.raises(AudioValueError, match="unknown voicing 'jazz'"):
        harmonize(hymn_melody(), voicing="jazz")
    midi = chorale_midi(hymn_melody(), voice_melody(hymn_melody(), ["C"] * 4))
    assert midi.instruments[1].notes[0].start == 0.0


def test_lower_voices_wait_for_the_melody() -> None:
    toks = np.full(72, -2, np.int16)
    toks[8::4] = HYMN                            # two silent beats, then the hymn
    mel = Melody(toks, 16, 90.0, "late")
    v = voice_melody(mel, ["N", "C", "G", "F", "C"])
    assert v.soprano[:2] == v.alto[:2] == v.bass[:2] == [-1, -1] and min(v.bass[2:]) > 0
    midi = chorale_midi(mel, v)
    first = 2 * 60.0 / 90.0                      # two quarter notes at 90 bpm, seconds
    assert all(i.notes[0].start == pytest.approx(first) for i in midi.instruments)


def test_bad_tables(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not found"):
        load_voicer(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ModelError, match="cannot read chorale voicing table") as err:
        load_voicer(bad)
    assert "\n" not in str(err.value)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"format": 9}))
    with pytest.raises(ModelError, match="not a wavesmith chorale voicing table"):
        load_voicer(wrong)
    doc = json.loads(SHIPPED_VOICING.read_text())
    doc["interval"]["alto"] = doc["interval"]["alto"][:5]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match=r"interval tables must have shape \(27,\)"):
        load_voicer(short)


def test_shipped_table_says_how_it_was_made() -> None:
    doc = json.loads(SHIPPED_VOICING.read_text())
    prov = doc["provenance"]
    assert "music21" in prov["data"]["description"] and "BSD" in prov["data"]["description"]
    assert not set(prov["data"]["test_chorales"]) & set(prov["data"]["valid_chorales"])
    test = prov["metrics"]["test"]["real_chords"]
    assert test["chorales"] == len(prov["data"]["test_chorales"]) and "/work/" not in \
        json.dumps(doc)


def _fake(name: str, soprano: list[int]) -> Chorale:
    notes = tuple((float(i), i + 1.0, p) for i, p in enumerate(soprano))
    low = tuple((a, b, p - 12) for a, b, p in notes)
    return Chorale(name, "", (4, 4), 0.0, (notes, low, low, low))


def test_split_keeps_a_melody_in_one_split() -> None:
    tune = [60, 62, 64, 65, 67, 65, 64, 62, 60, 62, 64, 62, 60, 59]
    same = [_fake(f"bach/a{i}", [p + i for p in tune]) for i in range(5)]   # one melody
    others = [_fake(f"bach/b{i}", [60 + (i * k) % 7 for k in range(14)]) for i in range(40)]
    split = split_chorales(same + others, seed=3)
    holding = [k for k, v in split.items() if any(c.name.startswith("bach/a") for c in v)]
    assert len(holding) == 1 and len(split[holding[0]]) >= 5
    assert sum(len(v) for v in split.values()) == 45
    assert split == split_chorales(list(reversed(same + others)), seed=3)
    grid = beat_grid(_fake("bach/x", [60, 62]))
    assert grid.shape == (2, 4) and grid[1, 0] == 62 and REST == -1


@pytest.fixture(scope="module")
def heldout_chorales() -> list[Chorale]:
    """Six real held-out chorales (test split of the shipped table), parsed with music21."""
    pytest.importorskip("music21")
    from wavesmith.music.chorale_corpus import load_chorales

    names = json.loads(SHIPPED_VOICING.read_text())["provenance"]["data"]["test_chorales"][:6]
    out = load_chorales(names=names)
    assert [c.name for c in out] == names
    return out


@pytest.mark.integration
@pytest.mark.slow
def test_voicer_beats_the_baseline_on_heldout_chorales(heldout_chorales: list) -> None:
    res = evaluate_voicing(load_voicer(), heldout_chorales)
    model, base, real = res["model"], res["baseline"], res["real"]
    print(json.dumps(res))
    for voice in ("alto", "tenor", "bass"):
        assert model[f"{voice}_exact"] > base[f"{voice}_exact"]
    assert np.mean([model[f"{v}_pc"] for v in ("alto", "tenor", "bass")]) > 0.5
    assert model["parallels_per_100_beats"] < base["parallels_per_100_beats"] / 4
    assert model["crossing_rate"] <= real["crossing_rate"] + 0.02
    assert res["beats"] > 200
