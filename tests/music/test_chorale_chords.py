"""The per-beat chorale chord HMM: labels, fitting, decoding, the shipped table, held-out."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from wavesmith.errors import AudioValueError, ModelError, ModelNotFoundError
from wavesmith.music.chorale import (
    SHIPPED_VOICING,
    beat_chords,
    chorale_midi,
    evaluate_voicing,
    load_voicer,
    voice_melody,
)
from wavesmith.music.chorale_chords import (
    SHIPPED_CHORALE_CHORDS,
    UNLABELLED,
    beat_labels,
    evaluate_chords,
    fit_chorale_chords,
    load_chorale_chords,
)
from wavesmith.music.chorale_corpus import Chorale
from wavesmith.music.harmonize import (
    CHORDS,
    QUALITIES,
    SHIPPED_HARMONY,
    HarmonyModel,
    harmonize,
    load_harmony,
)
from wavesmith.music.midi import Melody

DIATONIC_C = {"C", "Dm", "Em", "F", "G", "G7", "Am", "Bdim"}


def quarters(pitches: list[int], *, steps_per_bar: int = 16, ts: tuple[int, int] = (4, 4),
             beat_steps: int = 4) -> Melody:
    """A melody of one note per beat."""
    toks = np.full(len(pitches) * beat_steps, -2, np.int16)
    toks[::beat_steps] = pitches
    return Melody(toks, steps_per_bar, 90.0, "tune", ts)


def satb(rows: list[tuple[int, int, int, int]], *, pickup_q: float = 0.0,
         name: str = "bach/fake") -> Chorale:
    """A chorale of quarter notes from (S, A, T, B) rows."""
    voices = tuple(tuple((float(i), i + 1.0, r[v]) for i, r in enumerate(rows))
                   for v in range(4))
    return Chorale(name, "", (4, 4), pickup_q, voices)


# I - IV - V7 - I in C, one chord per beat
CADENCE = [(72, 67, 64, 48), (72, 69, 65, 53), (71, 65, 62, 55), (72, 67, 64, 48)]
# a C-major phrase whose soprano makes the key clear: I IV V7 I I IV V I
PHRASE = [(76, 72, 67, 48), (77, 72, 69, 53), (74, 71, 65, 55), (72, 67, 64, 48),
          (67, 64, 60, 48), (69, 65, 60, 53), (71, 67, 62, 55), (72, 67, 64, 48)]


def test_c_major_scale_gets_diatonic_chords_and_transposes() -> None:
    model = load_chorale_chords()
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    chords = model.decode(quarters(scale))
    assert len(chords) == 8 and set(chords) <= DIATONIC_C and chords[-1] == "C"
    assert {c.rstrip("7") for c in chords} & {"F", "G"}     # not the tonic throughout
    up = model.decode(quarters([p + 2 for p in scale]))     # D major: every chord +2
    step = {CHORDS.index(a) - CHORDS.index(b) for a, b in zip(up, chords, strict=True)}
    assert step == {8}                                       # 2 roots x 4 qualities


@pytest.mark.parametrize(("ts", "steps_per_bar", "beat_steps", "n_notes"), [
    ((4, 4), 16, 4, 13), ((3, 4), 12, 4, 9), ((6, 8), 12, 6, 10)])
def test_one_chord_per_beat(ts: tuple[int, int], steps_per_bar: int, beat_steps: int,
                            n_notes: int) -> None:
    mel = quarters([67, 69, 71, 72, 74, 72, 71, 69, 67, 66, 67, 71, 67][:n_notes],
                   steps_per_bar=steps_per_bar, ts=ts, beat_steps=beat_steps)
    chords = load_chorale_chords().decode(mel)
    assert len(chords) == math.ceil(mel.steps / beat_steps) == n_notes
    assert all(c in CHORDS for c in chords)
    assert len(load_harmony().decode(mel)) == math.ceil(mel.steps / steps_per_bar)


def test_labels_follow_the_four_voices_and_skip_the_pickup() -> None:
    mel, labels = beat_labels(satb(CADENCE))
    assert mel.steps == 16 and [CHORDS[i] for i in labels] == ["C", "F", "G7", "C"]
    _, late = beat_labels(satb(CADENCE, pickup_q=3.0))        # melody padded by 3 beats
    assert late[:3].tolist() == [UNLABELLED] * 3 and [CHORDS[i] for i in late[3:]] == \
        ["C", "F", "G7", "C"]


def test_fit_learns_a_progression_and_its_last_chord() -> None:
    corpus = [satb([tuple(p + k for p in row) for row in PHRASE * 2], name=f"bach/c{k}")
              for k in range(-2, 3)]
    model = fit_chorale_chords(corpus)
    assert model.unit == "beat" and model.final
    assert model.trans["major"].sum() == 15 * len(corpus)
    assert model.end["major"][CHORDS.index("C")] == len(corpus)     # tonic-relative
    soprano = quarters([r[0] + 3 for r in PHRASE * 2])              # Eb major
    assert model.decode(soprano) == ["Eb", "Ab", "Bb7", "Eb", "Eb", "Ab", "Bb", "Eb"] * 2
    again = fit_chorale_chords(list(reversed(corpus)))
    assert json.dumps(again.to_dict()) == json.dumps(model.to_dict())


def test_bad_input_and_tables(tmp_path: Path) -> None:
    model = load_chorale_chords()
    with pytest.raises(AudioValueError, match="no notes"):
        model.decode(Melody(np.full(16, -2, np.int16)))
    with pytest.raises(AudioValueError, match="per-beat chord model needs voicing='chorale'"):
        harmonize(quarters([60, 62, 64, 60]), model)
    with pytest.raises(AudioValueError, match="unit 'bars'"):
        HarmonyModel(unit="bars")
    with pytest.raises(ModelNotFoundError, match="chorale-chords"):
        load_chorale_chords(tmp_path / "missing.json")
    with pytest.raises(ModelError, match="per-bar chord HMM"):
        load_chorale_chords(SHIPPED_HARMONY)
    doc = json.loads(SHIPPED_CHORALE_CHORDS.read_text())
    doc["trans"]["minor"] = doc["trans"]["minor"][:3]
    (tmp_path / "short.json").write_text(json.dumps(doc))
    with pytest.raises(ModelError, match=r"trans tables must have shape \(49, 49\)"):
        load_chorale_chords(tmp_path / "short.json")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(ModelError, match="cannot read chorale chord table"):
        load_chorale_chords(tmp_path / "bad.json")
    mel = quarters([60, 62, 64, 60])
    with pytest.raises(AudioValueError, match="3 chords for 4 beats"):
        beat_chords(["C", "G", "C"], mel, per="beat")
    with pytest.raises(AudioValueError, match="per='beats'"):
        beat_chords(["C"] * 4, mel, per="beats")
    with pytest.raises(AudioValueError, match="'real', 'hmm' or 'beat'"):
        evaluate_voicing(load_voicer(), [], chords="bars")


def test_tables_round_trip_and_per_bar_format_is_unchanged() -> None:
    model = load_chorale_chords()
    back = HarmonyModel.from_dict(model.to_dict())
    assert back.unit == "beat" and back.final and back.emission_weight == model.emission_weight
    np.testing.assert_array_equal(back.end["minor"], model.end["minor"])
    shipped = json.loads(SHIPPED_HARMONY.read_text())
    folk = load_harmony()
    assert folk.unit == "bar" and not folk.final and not folk.end
    assert set(folk.to_dict()) == set(shipped) and "unit" not in shipped


def test_chorale_voicing_uses_beat_chords_and_writes_them() -> None:
    hymn = [72, 71, 72, 74, 76, 74, 72, 71, 69, 71, 72, 74, 72, 71, 72, 72]
    mel = quarters(hymn)
    res = harmonize(mel, voicing="chorale")
    assert res.chords_per == "beat" and len(res.chords) == 16 and res.bars == 4
    assert res.voices is not None and res.voices.chords == res.chords
    assert len(set(res.chords)) > 2 and res.chords[-1] == "C"
    for i, sym in enumerate(res.chords):                         # lower voices: chord tones
        root, quality = divmod(CHORDS.index(sym) - 1, len(QUALITIES))
        tones = {(root + iv) % 12 for iv in list(QUALITIES.values())[quality]}
        assert {p % 12 for p in (res.voices.alto[i], res.voices.tenor[i],
                                 res.voices.bass[i])} <= tones
    old = harmonize(mel, load_harmony(), voicing="chorale")      # the per-bar pipeline
    assert old.chords_per == "bar" and len(old.chords) == 4 and len(old.voices.chords) == 16
    midi = chorale_midi(mel, res.voices)
    changes = [c for i, c in enumerate(res.chords) if i == 0 or c != res.chords[i - 1]]
    assert [t.text for t in midi.text_events] == changes
    v = voice_melody(mel, res.chords, per="beat")
    assert v.chords == res.chords


def test_shipped_card_says_how_it_was_made() -> None:
    prov = json.loads(SHIPPED_CHORALE_CHORDS.read_text())["provenance"]
    voicing = json.loads(SHIPPED_VOICING.read_text())["provenance"]["data"]
    assert prov["data"]["test_chorales"] == voicing["test_chorales"]     # the same split
    assert prov["data"]["valid_chorales"] == voicing["valid_chorales"]
    assert prov["built_by"] == "python scripts/train_music.py chorale-chords --ship"
    test = prov["metrics"]["test"]["chords"]
    assert test["chorales"] == len(prov["data"]["test_chorales"])
    assert test["model"]["chord_accuracy"] > test["folk_hmm"]["chord_accuracy"] + 0.1
    assert "/work/" not in json.dumps(prov)


@pytest.fixture(scope="module")
def test_chorales() -> list[Chorale]:
    """The 30 held-out test chorales of the shipped card, parsed with music21."""
    pytest.importorskip("music21")
    from wavesmith.music.chorale_corpus import load_chorales

    names = json.loads(SHIPPED_CHORALE_CHORDS.read_text())["provenance"]["data"][
        "test_chorales"]
    out = load_chorales(names=names)
    assert [c.name for c in out] == names
    return out


@pytest.mark.integration
@pytest.mark.slow
def test_shipped_table_reproduces_its_heldout_accuracy(test_chorales: list) -> None:
    card = json.loads(SHIPPED_CHORALE_CHORDS.read_text())["provenance"]["metrics"]["test"]
    res = evaluate_chords(test_chorales)
    print(json.dumps(res))
    assert res == card["chords"]
    assert res["beats"] > 1000
    model = res["model"]["chord_accuracy"]
    assert model > res["no_transitions"]["chord_accuracy"]
    assert model > 1.5 * res["folk_hmm"]["chord_accuracy"]
    assert model > 1.5 * res["tonic_triad"]["chord_accuracy"]
    voiced = evaluate_voicing(load_voicer(), test_chorales, chords="beat")
    assert voiced == card["voicing_beat_chords"]
    folk = card["voicing_folk_hmm_chords"]["model"]
    for voice in ("alto", "tenor", "bass"):
        assert voiced["model"][f"{voice}_exact"] > folk[f"{voice}_exact"]
