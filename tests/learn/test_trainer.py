"""End-to-end training smoke test on a few real clips: loss falls, checkpoints round-trip,
resume continues exactly, configs load from YAML."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from wavesmith.errors import AudioValueError
from wavesmith.learn.trainer import TrainConfig, train
from wavesmith.models.checkpoint import load_checkpoint

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def _cfg(manifest: Path, out: Path, cache: Path, **kw: object) -> TrainConfig:
    values: dict[str, object] = dict(
        data=str(manifest), noise_dir=None, out_dir=str(out), cache_dir=str(cache),
        model_config={"channels": [4, 8], "hidden": 16, "dropout": 0.0},
        features={"n_mels": 24}, epochs=6, batch_size=8, lr=0.01, patience=50,
        augment={"speed_prob": 0.0, "spec_prob": 0.0, "shift_prob": 0.0}, schedule="cosine",
        eval_snr_db=[], seed=3, threads=1)   # 1 thread: far faster on a shared CPU
    values.update(kw)
    return TrainConfig.from_dict(values)


def test_tiny_training_loss_falls_and_checkpoint_round_trips(tiny_manifest: Path,
                                                              tmp_path: Path) -> None:
    res = train(_cfg(tiny_manifest, tmp_path / "run", tmp_path / "cache"))
    losses = [h["train_loss"] for h in res.history]
    assert len(losses) == 6 and losses[-1] < 0.8 * losses[0]
    for name in ("best.pt", "last.pt", "log.jsonl", "metrics.json", "manifest.csv"):
        assert (res.out_dir / name).is_file()
    ck = load_checkpoint(res.best_checkpoint)
    assert ck.labels == ["0", "1"] and ck.feature_params["n_mels"] == 24
    assert ck.raw["versions"]["torch"] == torch.__version__
    assert ck.train_config["seed"] == 3 and "test_accuracy" in ck.metrics
    x = torch.randn(3, 24, 101)
    again = load_checkpoint(res.best_checkpoint)
    with torch.inference_mode():
        torch.testing.assert_close(ck.model(x), again.model(x))
    assert 0.0 <= res.metrics["test_accuracy"] <= 1.0 and res.metrics["n_test"] == 12


def test_resume_continues_as_if_never_stopped(tiny_manifest: Path, tmp_path: Path) -> None:
    straight = train(_cfg(tiny_manifest, tmp_path / "a", tmp_path / "cache", epochs=3))

    class Stop(Exception):
        pass

    def stop_after_two(done: int, total: int, row: dict[str, object]) -> None:
        if done == 2:
            raise Stop

    cfg = _cfg(tiny_manifest, tmp_path / "b", tmp_path / "cache", epochs=3)
    with pytest.raises(Stop):
        train(cfg, progress=stop_after_two)
    resumed = train(cfg, resume=tmp_path / "b" / "last.pt")
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in
                                                           straight.history]
    a = load_checkpoint(tmp_path / "a" / "last.pt").raw["state_dict"]
    b = load_checkpoint(tmp_path / "b" / "last.pt").raw["state_dict"]
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def test_shipped_config_loads_and_overrides(tmp_path: Path) -> None:
    cfg = TrainConfig.from_yaml(REPO / "configs" / "digits_cnn.yaml", epochs=2,
                                out_dir=str(tmp_path))
    assert cfg.epochs == 2 and cfg.model == "digit_cnn" and cfg.test_speakers == ("yweweler",)
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochz: 3\n")
    with pytest.raises(AudioValueError, match=r"unknown field.*epochz"):
        TrainConfig.from_yaml(bad)
    bad.write_text("schedule: step\n")
    with pytest.raises(AudioValueError, match="schedule='step'"):
        TrainConfig.from_yaml(bad)


def test_seeded_runs_are_identical(tiny_manifest: Path, tmp_path: Path) -> None:
    a = train(_cfg(tiny_manifest, tmp_path / "a", tmp_path / "c", epochs=2))
    b = train(_cfg(tiny_manifest, tmp_path / "b", tmp_path / "c", epochs=2))
    assert np.allclose([h["train_loss"] for h in a.history], [h["train_loss"] for h in
                                                               b.history], rtol=0, atol=1e-6)


@pytest.mark.slow
def test_loso_trains_one_model_per_speaker(tiny_manifest: Path, tmp_path: Path) -> None:
    from wavesmith.learn.trainer import train_loso

    summary = train_loso(_cfg(tiny_manifest, tmp_path / "loso", tmp_path / "cache", epochs=2))
    assert [f["test_speaker"] for f in summary["folds"]] == ["george", "jackson", "nicolas",
                                                              "theo"]
    accs = [f["accuracy"] for f in summary["folds"]]
    assert summary["mean_accuracy"] == pytest.approx(float(np.mean(accs)), abs=1e-4)
    assert (tmp_path / "loso" / "loso.json").is_file()
    assert (tmp_path / "loso" / "fold3" / "best.pt").is_file()


@pytest.mark.parametrize(("model", "model_config", "lr"), [
    ("digit_bilstm", {"proj": 16, "hidden": 16, "layers": 1, "dropout": 0.0}, 0.01),
    ("digit_transformer", {"d_model": 32, "heads": 4, "layers": 2, "dropout": 0.0}, 0.001),
])
def test_bilstm_and_transformer_train_from_the_config(model: str, model_config: dict, lr: float,
                                                      tiny_manifest: Path, tmp_path: Path) -> None:
    res = train(_cfg(tiny_manifest, tmp_path / "run", tmp_path / "cache", model=model,
                     model_config=model_config, epochs=8, lr=lr))
    losses = [h["train_loss"] for h in res.history]
    assert losses[-1] < 0.85 * losses[0]        # 24 real clips, 24 steps
    ck = load_checkpoint(res.best_checkpoint, expect_model=model)
    assert ck.model_name == model and ck.model.config.n_mels == 24


def test_ctc_strings_train_with_the_same_trainer(tiny_manifest: Path, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = _cfg(tiny_manifest, tmp_path / "ctc", tmp_path / "cache", model="digit_ctc",
               model_config={"channels": 16, "layers": 1, "kernel": 5, "hidden": 16,
                             "dropout": 0.0},
               strings={"min_digits": 2, "max_digits": 3, "train_strings": 16,
                        "eval_strings": 4},
               epochs=4, batch_size=4, lr=0.01, beam_size=2)
    res = train(cfg)
    losses = [h["train_loss"] for h in res.history]
    assert len(losses) == 4 and losses[-1] < 0.7 * losses[0]
    m = res.metrics
    assert m["n_test"] == 4 and 0.0 <= m["test_accuracy"] <= 1.0
    assert m["test_der"]["clean"] >= 0.0 and set(m["test_robustness"]) == {"clean"}
    ck = load_checkpoint(res.best_checkpoint, expect_model="digit_ctc")
    assert ck.train_config["strings"]["max_digits"] == 3
    with torch.inference_mode():
        assert tuple(ck.model(torch.zeros(1, 24, 37)).shape) == (1, 3, 19)  # 2 labels + blank
    events = EventAccumulator(str(res.out_dir)).Reload()
    assert [e.value for e in events.Scalars("train/loss")] == pytest.approx(losses, rel=1e-4)
    assert len(events.Scalars("val/acc")) == 4


def test_time_cap_stops_training(tiny_manifest: Path, tmp_path: Path) -> None:
    res = train(_cfg(tiny_manifest, tmp_path / "cap", tmp_path / "cache", epochs=5,
                     max_train_cpu_s=1e-6, tensorboard=False))
    assert len(res.history) == 1 and res.metrics["stopped"].startswith("time cap")
    assert not list((tmp_path / "cap").glob("events.out.tfevents.*"))


@pytest.mark.parametrize("config", sorted((REPO / "configs").glob("digits_*.yaml")),
                         ids=lambda p: p.stem)
def test_every_config_builds_its_model(config: Path) -> None:
    from wavesmith.learn.data import FeatureParams
    from wavesmith.models.checkpoint import build_model

    cfg = TrainConfig.from_yaml(config)
    params = FeatureParams(**cfg.features)
    model = build_model(cfg.model, {"n_mels": params.n_features, "n_frames": params.n_frames,
                                    "n_classes": 10, **cfg.model_config})
    assert model.name == cfg.model and cfg.name == config.stem
    assert sum(p.numel() for p in model.parameters()) < 1_500_000   # small, CPU-trainable


def test_val_holdout_validates_on_clips_of_training_speakers(tiny_manifest: Path) -> None:
    from wavesmith.learn.data import read_manifest
    from wavesmith.learn.trainer import _splits

    m = read_manifest(tiny_manifest)
    train_rows, val_rows = _splits(m, 0.0)
    assert (train_rows, val_rows) == (m.split("train"), m.split("val"))
    train_rows, val_rows = _splits(m, 0.2)
    assert not {r.path for r in train_rows} & {r.path for r in val_rows}
    assert {r.speaker for r in train_rows} == {r.speaker for r in val_rows} == {
        "jackson", "nicolas", "theo"}                     # the val speaker trains too
    assert len(train_rows) + len(val_rows) == 36
    assert len(val_rows) == 12                            # ceil(0.2 * 6) = 2 of 6 groups
    assert all(r.speaker != "george" for r in train_rows + val_rows)   # test speaker unseen
    assert _splits(m, 0.2) == (train_rows, val_rows)      # by file-name hash: stable
    with pytest.raises(AudioValueError, match=r"val_holdout=0\.7"):
        _splits(m, 0.7)


def test_whisper_frontend_head_trains_and_ctc_pool_is_reused(tiny_manifest: Path,
                                                              tmp_path: Path) -> None:
    feats = {"frontend": "whisper_tiny", "sample_rate": 8000, "clip_s": 1.0}
    res = train(_cfg(tiny_manifest, tmp_path / "wt", tmp_path / "cache", model="digit_pool",
                     model_config={"hidden": 16, "dropout": 0.0}, features=feats, epochs=4,
                     lr=0.003))
    losses = [h["train_loss"] for h in res.history]
    assert losses[-1] < 0.8 * losses[0]
    # frozen Whisper frames separate "zero" from "one" of an unseen speaker at once
    assert res.metrics["test_accuracy"] >= 0.9
    ck = load_checkpoint(res.best_checkpoint, expect_model="digit_pool")
    assert ck.model.config.n_mels == 384 and ck.feature_params["frontend"] == "whisper_tiny"

    cfg = _cfg(tiny_manifest, tmp_path / "ctc", tmp_path / "cache", model="digit_ctc",
               model_config={"channels": 16, "layers": 1, "kernel": 3, "first_kernel": 3,
                             "stride": 1, "hidden": 16, "dropout": 0.0},
               features={"frontend": "whisper_tiny", "sample_rate": 8000},
               strings={"min_digits": 2, "max_digits": 3, "train_strings": 8,
                        "eval_strings": 2, "train_pool": True},
               epochs=3, batch_size=4, lr=0.01, beam_size=2)
    res = train(cfg)
    assert len(res.history) == 3 and res.metrics["n_test"] == 2
