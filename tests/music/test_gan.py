"""The melody GAN: roll representation, shipped weights, seeded sampling, CLI and service."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch

from tests.conftest import run_cli
from wavesmith.errors import AudioValueError, ModelError, ModelNotFoundError
from wavesmith.music.baseline import sample_random
from wavesmith.music.dataset import nottingham_files
from wavesmith.music.gan import (
    PHRASE_STEPS,
    SHIPPED_GAN,
    decode_roll,
    load_gan,
    melody_roll,
    phrase_rolls,
    roll_input,
)
from wavesmith.music.metrics import metric_distance
from wavesmith.music.midi import NO_EVENT, NOTE_OFF, Melody, read_melody, split_pieces

# 2 bars: a held note across the bar line, a repeated pitch, a rest, a pickup at the end
TUNE = np.array([67, -2, -2, -2, 67, -2, 69, -2, 71, -1, -2, -2, 72, -2, -2, -2,
                 -2, -2, 74, 74, 72, -2, -1, -2, -2, -2, 60, -2, -2, -2, 62, -2], np.int16)


def test_roll_round_trip() -> None:
    mel = Melody(np.tile(TUNE, 2))
    cls, onset = melody_roll(mel)
    roll = roll_input(torch.from_numpy(cls)[None], torch.from_numpy(onset)[None])[0]
    assert roll.shape == (50, 64) and torch.all(roll[:49].sum(0) == 1)
    assert np.array_equal(decode_roll(roll), mel.tokens)


def test_phrase_rolls_windows_and_refusals() -> None:
    mel = Melody(np.tile(TUNE, 4))                                   # 8 bars
    cls, onset = phrase_rolls(mel)
    assert cls.shape == onset.shape == (5, PHRASE_STEPS)              # from bars 0..4
    high = mel.with_tokens(np.where(mel.tokens == 60, 100, mel.tokens))  # MIDI 100 > 95
    assert phrase_rolls(high)[0].shape == (0, PHRASE_STEPS)
    with pytest.raises(AudioValueError, match="outside"):
        melody_roll(high)
    jig = Melody(np.array([67, -2, -2, 69, -2, -2] * 8, np.int16), 12, time_signature=(6, 8))
    with pytest.raises(AudioValueError, match="6/8"):
        phrase_rolls(jig)


def test_card() -> None:
    card = json.loads(SHIPPED_GAN.with_suffix(".json").read_text())
    assert SHIPPED_GAN.stat().st_size < 20_000_000 and card["bytes"] == SHIPPED_GAN.stat().st_size
    text = json.dumps(card)
    assert "/work/" not in text and '"/' not in text and "~/" not in text
    dist = card["metrics"]["distances_16_bars_4_4"]
    assert dist["pieces"] >= 40 and {"gan", "markov-3", "uniform-random"} <= set(dist)
    assert dist["gan"]["mean"] < dist["uniform-random"]["mean"]
    assert card["metrics"]["seconds_per_16_bars"] > 0
    assert card["built_by"].startswith("python scripts/train_music.py gan")
    params = card["metrics"]["parameters"]
    assert params["generator"] < 2_000_000 and params["discriminator"] < 2_000_000


def test_sampling_is_seeded_and_valid() -> None:
    gan = load_gan()
    a, b, c = (gan.sample(bars=5, seed=s) for s in (3, 3, 4))
    assert a.steps == 80 and a.time_signature == (4, 4) and a.steps_per_bar == 16
    assert np.array_equal(a.tokens, b.tokens) and not np.array_equal(a.tokens, c.tokens)
    assert a.tokens.min() >= NO_EVENT and a.tokens.max() <= 127 and len(a.notes()) >= 5
    assert a.tokens[0] != NOTE_OFF
    from wavesmith.music.generate import sample

    assert np.array_equal(sample("gan", bars=5, seed=3).tokens, a.tokens)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bars": 0}, "bars=0 must be an integer 1..1024"),
    ({"bars": True}, "bars=True must be"),
    ({"bars": 2.5}, "bars=2.5 must be"),
    ({"steps_per_bar": 12}, "4/4 only"),
    ({"temperature": 0.0}, "temperature=0.0 must be in (0, 10]"),
    ({"temperature": 11.0}, "temperature=11.0"),
    ({"top_k": 5}, "top_k is not supported by the GAN"),
])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(AudioValueError) as info:
        load_gan().sample(**kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_missing_and_tampered_weights(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not found"):
        load_gan(tmp_path / "none.pt")
    pt = tmp_path / "gan.pt"
    shutil.copy(SHIPPED_GAN, pt)
    shutil.copy(SHIPPED_GAN.with_suffix(".json"), pt.with_suffix(".json"))
    pt.write_bytes(pt.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="SHA-256"):
        load_gan(pt)


@pytest.mark.integration
def test_closer_to_real_heldout_tunes_than_random(nottingham: Path) -> None:
    reference = []
    for p in split_pieces(nottingham_files(nottingham))["test"]:
        m = read_melody(p)
        if m.steps_per_bar == 16 and m.steps >= 16 * 16:
            reference.append(m.crop(16))
    reference = reference[:24]
    assert len(reference) >= 12
    gan = load_gan()
    vocab = np.unique(np.concatenate([m.tokens for m in reference])).tolist()
    gen = [gan.sample(bars=16, seed=i) for i in range(len(reference))]
    rnd = [sample_random(vocab, bars=16, seed=i) for i in range(len(reference))]
    d_gan, d_rnd = metric_distance(gen, reference), metric_distance(rnd, reference)
    assert d_gan["mean"] < 0.6 * d_rnd["mean"], (d_gan, d_rnd)
    assert d_gan["scale_consistency"] < d_rnd["scale_consistency"]


def test_cli_generate(tmp_path: Path) -> None:
    out = tmp_path / "x.mid"
    r = run_cli("music", "generate", "--model", "gan", "--bars", "4", "--seed", "2", "-o", out,
                "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["model"] == "gan" and rep["bars"] == 4 and rep["notes"] >= 4
    assert read_melody(out).steps <= 64


def test_service_generate(server: str) -> None:
    r = httpx.post(f"{server}/v1/music/generate", data={"model": "gan", "bars": "4", "seed": "2"},
                   timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == "audio/midi"
    assert r.content[:4] == b"MThd"
