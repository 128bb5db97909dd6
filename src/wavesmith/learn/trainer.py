"""Train a classifier on log-mel features; read top to bottom.

config → seed → data → model → optimiser → loop (early stopping) → test → checkpoint.

Outputs in ``out_dir``: ``last.pt`` (every epoch, for ``resume``), ``best.pt`` (lowest
validation loss), ``log.jsonl`` (one line per epoch), ``metrics.json`` (final numbers) and
``manifest.csv`` (the exact split used). Only ``torch.utils.data`` with ``num_workers=0`` is
used: on 2 cores worker processes cost more than they save, and it keeps runs deterministic.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import nn

from wavesmith.errors import AudioFileError, AudioValueError, ModelError
from wavesmith.learn.augment import AugmentConfig, NoiseBank, SpecAugmenter, WaveAugmenter
from wavesmith.learn.data import (
    FeatureCache,
    FeatureDataset,
    FeatureParams,
    Manifest,
    loso_folds,
    prepare_manifest,
    read_manifest,
    write_manifest,
)
from wavesmith.models.checkpoint import build_model, load_checkpoint, save_checkpoint

__all__ = ["TrainConfig", "TrainResult", "seed_everything", "train", "train_loso", "with_overrides"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; loadable from YAML (:meth:`from_yaml`).

    Relative paths are relative to the working directory (the repository root for the
    shipped configs).
    """

    name: str = "digits_cnn"
    model: str = "digit_cnn"                 # a key of wavesmith.models.checkpoint.MODELS
    model_config: dict[str, Any] = field(default_factory=dict)   # n_mels/n_frames/n_classes auto
    data: str = "../shared/data/speech/digits"   # a manifest CSV or a folder (FSDD layout)
    test_speakers: tuple[str, ...] = ()      # for a folder; default: last speaker (sorted)
    val_speakers: tuple[str, ...] = ()       # for a folder; default: the one before it
    fold: int | None = None                  # leave-one-speaker-out fold (overrides splits)
    noise_dir: str | None = "../shared/data/noise"
    features: dict[str, Any] = field(default_factory=dict)      # FeatureParams fields
    augment: dict[str, Any] = field(default_factory=dict)       # AugmentConfig fields
    epochs: int = 25
    batch_size: int = 64
    lr: float = 3e-3                         # peak learning rate
    weight_decay: float = 1e-2
    schedule: str = "onecycle"               # "onecycle" or "cosine"
    label_smoothing: float = 0.05
    grad_clip_norm: float = 5.0
    patience: int = 6                        # epochs without a better val loss before stopping
    seed: int = 0
    threads: int = 2                         # torch intra-op threads
    cache_dir: str | None = None             # feature cache; default ~/.cache/wavesmith/features
    out_dir: str = "runs/digits_cnn"
    eval_snr_db: tuple[float, ...] = (10.0,)  # SNRs (dB) of the held-out-noise test at the end

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], **overrides: Any) -> TrainConfig:
        """Load a config from YAML; ``overrides`` (not None) replace fields by name."""
        path = Path(path)
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except OSError as exc:
            raise AudioFileError(f"{path}: cannot read config ({exc.strerror})") from exc
        except yaml.YAMLError as exc:
            raise AudioValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
        if not isinstance(values, dict):
            raise AudioValueError(f"{path}: a config must be a mapping of field: value")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values, source=str(path))

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, source: str = "config") -> TrainConfig:
        """Build a config from plain values (lists become tuples), checking field names."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise AudioValueError(f"{source}: unknown field(s) {', '.join(unknown)}; "
                                  f"known: {', '.join(sorted(names))}")
        cfg = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
        if cfg.schedule not in ("onecycle", "cosine"):
            raise AudioValueError(f"{source}: schedule={cfg.schedule!r} must be "
                                  "'onecycle' or 'cosine'")
        if cfg.epochs < 1 or cfg.batch_size < 1:
            raise AudioValueError(f"{source}: epochs and batch_size must be >= 1")
        return cfg


@dataclass
class TrainResult:
    """Where the run wrote its files and what it measured."""

    out_dir: Path
    best_checkpoint: Path
    metrics: dict[str, Any]
    history: list[dict[str, Any]]


def seed_everything(seed: int) -> None:
    """Seed ``random``, NumPy and torch; torch uses deterministic algorithms where it can."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def _manifest(cfg: TrainConfig) -> Manifest:
    data = Path(cfg.data)
    if data.suffix.lower() == ".csv":
        manifest = read_manifest(data)
    else:
        out = Path(cfg.out_dir) / "manifest.csv"
        manifest = prepare_manifest(data, out, test_speakers=cfg.test_speakers or None,
                                    val_speakers=cfg.val_speakers or None)
    if cfg.fold is not None:
        folds = loso_folds(manifest)
        if not 0 <= cfg.fold < len(folds):
            raise AudioValueError(f"fold={cfg.fold} is out of range 0-{len(folds) - 1}")
        manifest = folds[cfg.fold]
    return manifest


def _run_epoch(model: nn.Module, loader: Any, loss_fn: nn.Module,
               opt: torch.optim.Optimizer | None, sched: Any, clip: float) -> tuple[float, float]:
    """One pass; trains when ``opt`` is given. Returns (mean loss, accuracy)."""
    model.train(opt is not None)
    total, correct, n = 0.0, 0, 0
    with torch.set_grad_enabled(opt is not None):
        for x, y in loader:
            logits = model(x)
            loss = loss_fn(logits, y)
            if opt is not None:
                opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
                sched.step()
            total += float(loss.detach()) * len(y)
            correct += int((logits.argmax(1) == y).sum())
            n += len(y)
    return total / n, correct / n


def train(cfg: TrainConfig, *, resume: str | os.PathLike[str] | None = None,
          progress: Callable[[int, int, dict[str, Any]], None] | None = None) -> TrainResult:
    """Train ``cfg.model`` on ``cfg.data``; see the module docstring for the outputs.

    Parameters
    ----------
    cfg : TrainConfig
        The run's settings.
    resume : path-like, optional
        A ``last.pt`` of an earlier run with the same config: training continues after its
        epoch with its optimiser, schedule, augmentation RNG and early-stopping state.
    progress : callable, optional
        Called after every epoch with ``(epoch_done, epochs, log_row)``.

    Returns
    -------
    TrainResult
    """
    # -- config and seed
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    params = FeatureParams(**cfg.features)
    aug = AugmentConfig(**cfg.augment)

    # -- data
    manifest = _manifest(cfg)
    write_manifest(manifest, out / "manifest.csv")
    labels = list(manifest.labels)
    cache = FeatureCache(params, cfg.cache_dir)
    bank = (NoiseBank(cfg.noise_dir, params.sample_rate,
                      heldout_fraction=aug.noise_heldout_fraction) if cfg.noise_dir else None)
    wave_aug = WaveAugmenter(aug, bank, cfg.seed + 1)
    spec_aug = SpecAugmenter(aug, cfg.seed + 2)
    train_ds = FeatureDataset(manifest.split("train"), labels, cache, augment=wave_aug,
                              spec_augment=spec_aug)
    val_ds = FeatureDataset(manifest.split("val"), labels, cache)
    order = torch.Generator().manual_seed(cfg.seed)
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True,
                                           generator=order, drop_last=len(train_ds) >
                                           cfg.batch_size)
    val_dl = torch.utils.data.DataLoader(val_ds, batch_size=256)

    # -- model, optimiser, schedule
    model_cfg = {"n_mels": params.n_mels, "n_frames": params.n_frames,
                 "n_classes": len(labels), **cfg.model_config}
    model = build_model(cfg.model, model_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * len(train_dl)
    sched: Any = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
                  if cfg.schedule == "onecycle" else
                  torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    start, best, stale, history = 0, math.inf, 0, []
    if resume is not None:
        ck = load_checkpoint(resume, expect_model=cfg.model).raw
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        order.set_state(ck["data_order"])
        wave_aug.rng.bit_generator.state = ck["wave_rng"]
        spec_aug.rng.bit_generator.state = ck["spec_rng"]
        torch.set_rng_state(ck["torch_rng"])   # dropout masks continue as if never stopped
        start, best, stale, history = (ck["epoch"] + 1, ck["best_val_loss"], ck["stale_epochs"],
                                       list(ck["history"]))
    meta = {"labels": labels, "feature_params": asdict(params), "train_config": asdict(cfg)}

    # -- loop
    log = (out / "log.jsonl").open("a" if resume else "w")
    try:
        for epoch in range(start, cfg.epochs):
            t0 = time.monotonic()
            tr_loss, tr_acc = _run_epoch(model, train_dl, loss_fn, opt, sched, cfg.grad_clip_norm)
            va_loss, va_acc = _run_epoch(model, val_dl, loss_fn, None, None, 0.0)
            row = {"epoch": epoch, "train_loss": round(tr_loss, 5), "train_acc": round(tr_acc, 4),
                   "val_loss": round(va_loss, 5), "val_acc": round(va_acc, 4),
                   "lr": opt.param_groups[0]["lr"], "seconds": round(time.monotonic() - t0, 2)}
            history.append(row)
            log.write(json.dumps(row) + "\n")
            log.flush()
            improved = va_loss < best
            best, stale = (va_loss, 0) if improved else (best, stale + 1)
            state = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                     "data_order": order.get_state(), "wave_rng": wave_aug.rng.bit_generator.state,
                     "spec_rng": spec_aug.rng.bit_generator.state,
                     "torch_rng": torch.get_rng_state(), "epoch": epoch,
                     "best_val_loss": best, "stale_epochs": stale, "history": history}
            if improved:
                save_checkpoint(out / "best.pt", model, metrics=row, **meta, **state)
            save_checkpoint(out / "last.pt", model, metrics=row, **meta, **state)
            if progress is not None:
                progress(epoch + 1, cfg.epochs, row)
            if stale >= cfg.patience:
                break
    finally:
        log.close()
    if not (out / "best.pt").is_file():
        raise ModelError(f"{out}: no epoch was run (resumed after the last epoch?)")

    # -- test the best model on the held-out speakers, clean and with held-out noise
    from wavesmith.learn.evaluate import TorchClassifier, evaluate

    best_ck = load_checkpoint(out / "best.pt")
    metrics: dict[str, Any] = {"best_epoch": best_ck.metrics["epoch"],
                               "val_loss": best_ck.metrics["val_loss"],
                               "val_acc": best_ck.metrics["val_acc"],
                               "epochs_run": len(history),
                               "train_seconds": round(sum(h["seconds"] for h in history), 1),
                               "test_speakers": manifest.speakers("test"),
                               "val_speakers": manifest.speakers("val"),
                               "train_speakers": manifest.speakers("train")}
    test_rows = manifest.split("test")
    if test_rows:
        report = evaluate(TorchClassifier(best_ck.model), test_rows, labels, params, cache,
                          noise=bank, snr_db=cfg.eval_snr_db, seed=cfg.seed)
        metrics.update({"test_accuracy": report.accuracy, "test_robustness": report.robustness,
                        "test_per_speaker": report.per_speaker, "n_test": report.n})
    raw = best_ck.raw
    save_checkpoint(out / "best.pt", best_ck.model, metrics=metrics, **meta,
                    **{k: raw[k] for k in ("optimizer", "scheduler", "epoch", "best_val_loss")})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return TrainResult(out, out / "best.pt", metrics, history)


def train_loso(cfg: TrainConfig, *,
               progress: Callable[[int, int, dict[str, Any]], None] | None = None
               ) -> dict[str, Any]:
    """Train one model per leave-one-speaker-out fold (``out_dir/fold<k>``) and summarise.

    Returns a dict with each fold's test speaker, clean accuracy and accuracy at each
    ``eval_snr_db``, plus their means over folds (the project's headline figure); it is also
    written to ``out_dir/loso.json``.
    """
    manifest = read_manifest(cfg.data) if Path(cfg.data).suffix.lower() == ".csv" else None
    n = len(manifest.speakers()) if manifest else len(
        prepare_manifest(cfg.data, Path(cfg.out_dir) / "all.csv").speakers())
    folds = []
    for k in range(n):
        res = train(replace(cfg, fold=k, out_dir=str(Path(cfg.out_dir) / f"fold{k}")),
                    progress=progress)
        m = res.metrics
        folds.append({"fold": k, "test_speaker": m["test_speakers"][0],
                      "val_speaker": m["val_speakers"][0], "accuracy": m["test_accuracy"],
                      "robustness": m["test_robustness"], "train_seconds": m["train_seconds"]})
    keys = folds[0]["robustness"].keys()
    summary = {"folds": folds,
               "mean_accuracy": round(float(np.mean([f["accuracy"] for f in folds])), 4),
               "mean_robustness": {k: round(float(np.mean([f["robustness"][k] for f in folds])),
                                            4) for k in keys}}
    (Path(cfg.out_dir) / "loso.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def with_overrides(cfg: TrainConfig, **overrides: Any) -> TrainConfig:
    """Return ``cfg`` with the given (not None) fields replaced."""
    return replace(cfg, **{k: v for k, v in overrides.items() if v is not None})
