"""``music eval --model vae|vae16|gan|harmony|transfer|all``: the shipped models re-measured
on held-out music must agree with their cards, and every row must say which baseline it beat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from wavesmith.errors import AudioValueError
from wavesmith.music.eval_models import _row, evaluate_shipped
from wavesmith.music.weights import DATA_DIR


def _card(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text())


def test_unknown_model_and_bad_limit() -> None:
    with pytest.raises(AudioValueError, match="eval knows markov, transformer, vae"):
        evaluate_shipped("musicvae")
    with pytest.raises(AudioValueError, match="limit=0"):
        evaluate_shipped("gan", limit=0)


def test_rows_say_which_side_is_better() -> None:
    assert _row("m", "x", 0.9, "b", 0.5, "higher")["beats_baseline"] is True
    assert _row("m", "x", 0.9, "b", 0.5, "lower")["beats_baseline"] is False
    assert _row("m", "x", 0.4, "b", 0.5, "lower")["beats_baseline"] is True
    assert _row("m", "x", 0.4, "b", 0.5, "reference")["beats_baseline"] is None


@pytest.mark.integration
@pytest.mark.slow
def test_vae_gan_and_harmony_reproduce_their_cards(nottingham: Path) -> None:
    report = evaluate_shipped("vae", nottingham)
    vae = report["models"]["vae"]
    card = _card("vae_nottingham_2bar.json")["metrics"]
    assert vae["reconstruction"]["segments"] == card["test"]["segments"] == 1006
    assert vae["reconstruction"]["accuracy_free"] == pytest.approx(
        card["test"]["accuracy_free"], abs=1e-4)
    assert vae["samples"]["distances"]["vae"]["mean"] == pytest.approx(
        card["distances_16_bars_4_4"]["vae"]["mean"], abs=0.02)
    # "no event" is the commonest token, yet the VAE reconstructs far more than that share
    assert 0.5 < vae["reconstruction"]["always_no_event"] < vae["reconstruction"][
        "accuracy_free"] - 0.2

    gan = evaluate_shipped("gan", nottingham)
    d = gan["models"]["gan"]["samples"]["distances"]
    assert d["gan"]["mean"] == pytest.approx(
        _card("gan_nottingham.json")["metrics"]["distances_16_bars_4_4"]["gan"]["mean"],
        abs=0.02)
    rows = {r["baseline"]: r for r in gan["summary"]}
    assert rows["markov-3"]["beats_baseline"] and rows["uniform-random"]["beats_baseline"]
    assert rows["real tunes (floor)"]["beats_baseline"] is None
    assert d["real-valid"]["mean"] < d["gan"]["mean"] < d["markov-3"]["mean"]

    harmony = evaluate_shipped("harmony", nottingham)["models"]["harmony"]
    assert harmony["test"] == _card("harmony_nottingham.json")["provenance"]["metrics"]["test"]


@pytest.mark.integration
def test_cli_eval_quick_run_prints_the_baseline_table(nottingham: Path) -> None:
    r = run_cli("music", "eval", "--model", "gan", "--data", nottingham, "--limit", "40",
                "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["limit"] == 40 and doc["pieces"] == {"train": 40, "valid": 40, "test": 40}
    assert {row["baseline"] for row in doc["summary"]} == {
        "markov-3", "uniform-random", "real tunes (floor)"}
    r = run_cli("music", "eval", "--model", "gan", "--data", nottingham, "--limit", "40")
    assert r.returncode == 0, r.stderr
    assert "shipped models vs baselines" in r.stdout and "markov-3" in r.stdout
    r = run_cli("music", "eval", "--model", "nope")
    assert r.returncode == 2 and "eval knows markov" in r.stderr
    assert r.stderr.strip().count("\n") == 0


@pytest.mark.integration
@pytest.mark.slow
def test_chorale_reproduces_its_card() -> None:
    pytest.importorskip("music21")
    report = evaluate_shipped("chorale")
    chorale = report["models"]["chorale"]
    card = _card("chorale_chords.json")["provenance"]["metrics"]["test"]
    assert chorale["chords"] == card["chords"]
    assert chorale["voicing"]["model"] == card["voicing_beat_chords"]["model"]
    assert report["pieces"] is None                 # no Nottingham tune was read
    assert all(r["beats_baseline"] for r in report["summary"])
