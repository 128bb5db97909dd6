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
        eval_snr_db=[], seed=3)
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
