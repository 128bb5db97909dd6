"""``wavesmith train run configs/music/*.yaml``: config checks, the shipped configs against the
shipped cards, and tiny real runs of every config through the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, run_cli
from wavesmith.errors import AudioValueError
from wavesmith.music.midi import read_melody
from wavesmith.music.train import (
    KINDS,
    MusicTrainConfig,
    fit_config,
    is_music_config,
    train_music,
)
from wavesmith.music.train_gan import train_record
from wavesmith.music.weights import DATA_DIR

CONFIGS = REPO / "configs" / "music"
SHIPPED = {"transformer": "transformer_nottingham",
           "transformer_remi": "transformer_remi_nottingham", "vae": "vae_nottingham_2bar",
           "vae16": "vae_nottingham_16bar", "gan": "gan_nottingham",
           "harmony": "harmony_nottingham"}
TRAIN_FIELDS = ("batch_size", "lr", "weight_decay", "schedule", "grad_clip_norm", "patience",
                "seed", "threads")


def tiny_config(name: str, nottingham: Path, tmp_path: Path, **changes: object) -> Path:
    """``configs/music/<name>.yaml`` reading ``nottingham``, with no corpus cache, ``changes``
    applied, written to ``tmp_path``."""
    values = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    values.update({"data": str(nottingham), "cache_dir": None, **changes})
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def one_line_error(r: object, *needles: str) -> None:
    assert r.returncode == 2, r.stderr                      # type: ignore[attr-defined]
    lines = r.stderr.strip().splitlines()                    # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("wavesmith: error:"), lines
    for needle in needles:
        assert needle in lines[0]


# -- configs ------------------------------------------------------------------------------------
def test_every_kind_has_a_config() -> None:
    kinds = {MusicTrainConfig.from_yaml(p).kind for p in CONFIGS.glob("*.yaml")}
    assert kinds == set(KINDS)
    assert all(is_music_config(p) for p in CONFIGS.glob("*.yaml"))
    assert not is_music_config(REPO / "configs" / "digits_cnn.yaml")


@pytest.mark.parametrize("name", ["transformer", "transformer_remi", "vae", "vae16", "gan"])
def test_configs_match_the_shipped_cards(name: str) -> None:
    cfg = MusicTrainConfig.from_yaml(CONFIGS / f"{name}.yaml")
    card = json.loads((DATA_DIR / f"{SHIPPED[name]}.json").read_text())
    assert cfg.name == SHIPPED[name] and cfg.kind == card["model"]
    shipped_train = card["config"]["train"]
    if name == "gan":
        ours = train_record(cfg, card["model_config"])
    else:
        ours = fit_config(cfg, card["model_config"], shipped_train["epochs"])
    for f in TRAIN_FIELDS:
        assert getattr(ours, f) == shipped_train[f], f
    as_run = card["config"].get("music_train")       # the config as run, when recorded
    if as_run is not None:
        assert as_run["minutes"] == cfg.minutes and as_run["kind"] == cfg.kind
        for f in ("beta", "free_bits_nats", "transpose_semitones", "seed"):
            assert as_run[f] == getattr(cfg, f), f
    else:
        assert f"--minutes {cfg.minutes:g} " in card["built_by"] + " "
    if name == "gan":
        assert cfg.minutes * 60 == shipped_train["max_train_cpu_s"]
        gan = card["config"]["gan"]
        assert (cfg.lr_critic, cfg.ema_decay, cfg.eval_every) == (
            gan["lr_critic"], gan["ema_decay"], gan["eval_every"])
    else:
        assert card["config"]["transpose_semitones"] == cfg.transpose_semitones
    if name in ("vae", "vae16"):
        assert (cfg.beta, cfg.free_bits_nats, cfg.anneal_fraction) == (
            card["config"]["beta"], card["config"]["free_bits_nats"],
            card["config"]["anneal_fraction"])


def test_harmony_config_matches_the_shipped_table() -> None:
    cfg = MusicTrainConfig.from_yaml(CONFIGS / "harmony.yaml")
    table = json.loads((DATA_DIR / "harmony_nottingham.json").read_text())
    grid = [(t["emission_weight"], t["backoff_k"])
            for t in table["provenance"]["metrics"]["valid_tuning"]]
    assert grid == [(w, k) for w in cfg.emission_weights for k in cfg.backoff_ks]


def test_bad_configs_are_refused(tmp_path: Path) -> None:
    def load(values: dict[str, object]) -> MusicTrainConfig:
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump(values))
        return MusicTrainConfig.from_yaml(path)

    with pytest.raises(AudioValueError, match="unknown kind 'music_piano'"):
        load({"kind": "music_piano"})
    with pytest.raises(AudioValueError, match=r"unknown field.*bogus"):
        load({"kind": "music_vae", "bogus": 1})
    with pytest.raises(AudioValueError, match="beta do not apply to kind music_transformer"):
        load({"kind": "music_transformer", "beta": 0.5})
    with pytest.raises(AudioValueError, match="not shipped"):
        load({"kind": "music_gan", "limit": 3, "ship": True})
    with pytest.raises(AudioValueError, match="schedule='linear'"):
        load({"kind": "music_vae", "schedule": "linear"})
    with pytest.raises(AudioValueError, match="epochs=0"):
        load({"kind": "music_vae", "epochs": 0})
    with pytest.raises(AudioValueError, match="code_epochs needs init_from"):
        load({"kind": "music_vae16", "code_epochs": 3, "init_from": "x.pt"})
    with pytest.raises(AudioValueError, match=r"code_epochs=-1 and code_beta=1\.0 must be"):
        load({"kind": "music_vae16", "code_epochs": -1})
    with pytest.raises(AudioValueError, match="end_to_end: false leaves nothing to train"):
        load({"kind": "music_vae16", "end_to_end": False})
    with pytest.raises(AudioValueError, match="code_epochs do not apply to kind music_vae"):
        load({"kind": "music_vae", "code_epochs": 1})


def test_cli_bad_music_configs_give_one_line_errors(tmp_path: Path) -> None:
    bad_kind = tmp_path / "kind.yaml"
    bad_kind.write_text("kind: music_piano\n")
    one_line_error(run_cli("train", "run", bad_kind), "unknown kind 'music_piano'",
                   str(bad_kind))
    bad_field = tmp_path / "field.yaml"
    bad_field.write_text("kind: music_transformer\nlayers: 3\n")
    one_line_error(run_cli("train", "run", bad_field), "unknown field(s) layers")
    one_line_error(run_cli("train", "run", CONFIGS / "vae.yaml", "--loso"),
                   "--loso apply to digit configs")
    one_line_error(run_cli("train", "run", REPO / "configs" / "digits_cnn.yaml", "--ship"),
                   "--ship apply to music configs")


def test_a_model_config_that_does_not_fit(tmp_path: Path) -> None:
    # refused before any data is read (the folder here holds no tunes)
    path = tiny_config("transformer", tmp_path, tmp_path, model_config={"n_layers": 2})
    cfg = MusicTrainConfig.from_yaml(path, limit=2)
    with pytest.raises(AudioValueError, match=r"does not fit MusicTransformerConfig.*n_layer"):
        train_music(cfg)


# -- tiny real runs -----------------------------------------------------------------------------
def _train(config: Path, out: Path, *args: str) -> dict[str, object]:
    r = run_cli("train", "run", config, "--out", out, "--json", *args, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("name", ["transformer", "transformer_remi", "vae"])
def test_melody_networks_train_and_load(name: str, nottingham: Path, tmp_path: Path) -> None:
    from wavesmith.music.transformer import load_transformer
    from wavesmith.music.vae import load_vae

    out = tmp_path / "run"
    # fixed epochs (the CPU budget is large enough not to stop them) keep the run the same
    # on a busy machine
    result = _train(tiny_config(name, nottingham, tmp_path), out, "--limit", "8", "--epochs",
                    "3", "--minutes", "2")
    history = result["history"]
    assert len(history) == 3 == len((out / "log.jsonl").read_text().splitlines())
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    weights = out / f"{SHIPPED[name]}.pt"
    assert result["weights"] == str(weights) and result["shipped"] == []
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["built_by"].startswith("wavesmith train run ")
    assert card["config"]["music_train"]["limit"] == 8
    tune = read_melody(sorted(nottingham.glob("*.mid"))[0])
    if name.startswith("transformer"):
        model = load_transformer(weights)
        expected = "remi" if name == "transformer_remi" else "grid"
        assert model.tokens == card["model_config"]["tokens"] == expected
        nll, ppl = model.perplexity([tune])
        assert math.isfinite(nll) and ppl == pytest.approx(math.exp(nll), rel=1e-6)
        assert result["metrics"]["best_val_loss"] == min(h["val_loss"] for h in history)
    else:
        sample = load_vae(weights).sample(bars=2, seed=0)
        assert sample.steps == 32
        assert 0.0 <= result["metrics"]["test"]["accuracy_free"] <= 1.0


@pytest.mark.integration
@pytest.mark.slow
def test_gan_trains_and_loads(nottingham: Path, tmp_path: Path) -> None:
    from wavesmith.music.gan import load_gan

    out = tmp_path / "run"
    cfg = tiny_config("gan", nottingham, tmp_path, eval_every=5)
    result = _train(cfg, out, "--limit", "8", "--minutes", "0.05")
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert rows and rows == result["history"]
    best = min(r["valid_distance"] for r in rows)
    assert result["metrics"]["best_valid_distance"] == pytest.approx(best, abs=1e-4)
    sample = load_gan(out / "gan_nottingham.pt").sample(bars=4, seed=0)
    assert sample.steps == 64 and len(sample.notes()) > 0


@pytest.mark.integration
@pytest.mark.slow
def test_harmony_builds_and_loads(nottingham: Path, tmp_path: Path) -> None:
    from wavesmith.music.harmonize import load_harmony

    out = tmp_path / "run"
    cfg = tiny_config("harmony", nottingham, tmp_path)
    r = run_cli("train", "run", cfg, "--out", out, "--limit", "8")
    assert r.returncode == 0, r.stderr
    assert "test chord accuracy" in r.stdout
    model = load_harmony(out / "harmony_nottingham.json")
    tune = read_melody(sorted(nottingham.glob("*.mid"))[0])
    assert len(model.decode(tune)) == math.ceil(tune.steps / tune.steps_per_bar)
    tuning = model.provenance["metrics"]["valid_tuning"]
    assert len(tuning) == 18
    assert (model.emission_weight, model.backoff_k) in {
        (t["emission_weight"], t["backoff_k"]) for t in tuning
        if t["accuracy"] == max(u["accuracy"] for u in tuning)}
