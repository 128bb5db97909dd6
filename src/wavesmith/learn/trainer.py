"""Train a classifier or a CTC string recognizer on log-mel features; read top to bottom.

config → seed → data → model → optimiser → loop (early stopping) → test → checkpoint.

Two tasks share this one loop, chosen by the model's ``task`` attribute:

* ``classify`` (``digit_cnn``, ``digit_crnn``, ``digit_bilstm``, ``digit_transformer``): one
  label per clip, cross-entropy, accuracy.
* ``ctc`` (``digit_ctc``): a label *sequence* per utterance (connected digit strings composed
  from the manifest's clips by :mod:`wavesmith.learn.strings`), ``torch.nn.CTCLoss``;
  "accuracy" is string accuracy (greedy decoding) and the test adds the digit error rate,
  clean and with held-out noise, with prefix beam search.

Outputs in ``out_dir``: ``last.pt`` (every epoch, for ``resume``), ``best.pt`` (lowest
validation loss), ``log.jsonl`` (one line per epoch), TensorBoard event files
(``events.out.tfevents.*``, the same rows; ``tensorboard --logdir runs``), ``metrics.json``
(final numbers) and ``manifest.csv`` (the exact split used). Only ``torch.utils.data`` with
``num_workers=0`` is used: on 2 cores worker processes cost more than they save, and it keeps
runs deterministic. NumPy's BLAS is limited to ``threads`` too: with its default pool the
log-mel matrix product of a 3-s utterance took 40 ms instead of 0.2 ms on the shared 2-core
machine (oversubscription), 2026-11-25.
"""

from __future__ import annotations

import hashlib
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
from torch import nn

from wavesmith.errors import AudioValueError, ModelError
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
from wavesmith.learn.strings import (
    StringComposer,
    StringConfig,
    StringDataset,
    collate_strings,
    fixed_strings,
)
from wavesmith.models.checkpoint import build_model, load_checkpoint, model_task, save_checkpoint
from wavesmith.yamlconfig import read_config_yaml

__all__ = ["TrainConfig", "TrainResult", "fit", "seed_everything", "train", "train_loso",
           "with_overrides"]

VAL_SEED_OFFSET = 1000     # seed offsets of the fixed validation and test utterances (CTC)
TEST_SEED_OFFSET = 2000


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
    strings: dict[str, Any] = field(default_factory=dict)       # StringConfig fields (CTC)
    beam_size: int = 8                       # CTC: prefix beam width of the final test
    max_train_cpu_s: float | None = None     # s of training CPU time (process time); stop
                                             # after the epoch that reaches it
    tensorboard: bool = True                 # write TensorBoard event files beside log.jsonl
    val_holdout: float = 0.0                 # > 0: validate on this fraction of every
                                             # (speaker, label) group of the non-test clips;
                                             # the val speakers then train (see _splits)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], **overrides: Any) -> TrainConfig:
        """Load a config from YAML; ``overrides`` (not None) replace fields by name."""
        path = Path(path)
        values = read_config_yaml(path)
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


def _splits(manifest: Manifest, holdout: float) -> tuple[list[Any], list[Any]]:
    """Training and validation rows.

    By default the manifest's own speaker-independent ``train`` and ``val`` splits. With
    ``holdout`` > 0 (for data sets with few speakers, e.g. FSDD's 5): the val speakers join
    the training speakers, and from each (speaker, label) group of those clips the
    ``ceil(holdout * n)`` with the smallest SHA-256 of their file name are held out for
    validation. The **test speakers stay unseen** either way; only model selection then
    happens on speakers the model trains on.
    """
    if holdout <= 0:
        return manifest.split("train"), manifest.split("val")
    if not 0 < holdout < 0.5:
        raise AudioValueError(f"val_holdout={holdout} must be within 0-0.5")
    groups: dict[tuple[str, str], list[Any]] = {}
    for r in manifest.rows:
        if r.split != "test":
            groups.setdefault((r.speaker, r.label), []).append(r)
    train_rows, val_rows = [], []
    for rows in groups.values():
        rows = sorted(rows, key=lambda r: hashlib.sha256(r.path.name.encode()).hexdigest())
        k = min(math.ceil(holdout * len(rows)), len(rows) - 1)
        val_rows += rows[:k]
        train_rows += rows[k:]
    key = [r.path for r in manifest.rows].index    # keep the manifest's order
    return sorted(train_rows, key=lambda r: key(r.path)), sorted(val_rows,
                                                                 key=lambda r: key(r.path))


def _greedy_exact(logits: torch.Tensor, out_lengths: torch.Tensor, targets: torch.Tensor,
                  target_lengths: torch.Tensor) -> int:
    """How many utterances of a batch greedy CTC decoding gets exactly right."""
    from wavesmith.models.ctc_decode import greedy_decode

    best = logits.detach().permute(0, 2, 1)                 # (N, T', C)
    refs = torch.split(targets, target_lengths.tolist())
    return sum(greedy_decode(best[k, :int(out_lengths[k])].numpy()) == refs[k].tolist()
               for k in range(len(refs)))


def _batch_loss(model: nn.Module, batch: Any, loss_fn: nn.Module, ctc: bool
                ) -> tuple[torch.Tensor, int, int]:
    """Loss of one batch, its size and how many items the model gets right."""
    if ctc:
        x, lengths, targets, target_lengths = batch
        logits = model(x)                                   # (N, C, T')
        out_lengths = model.output_lengths(lengths)         # type: ignore[operator]
        log_probs = logits.log_softmax(1).permute(2, 0, 1)  # (T', N, C) for CTCLoss
        loss = loss_fn(log_probs, targets, out_lengths, target_lengths)
        return loss, len(x), _greedy_exact(logits, out_lengths, targets, target_lengths)
    x, y = batch
    logits = model(x)
    return loss_fn(logits, y), len(y), int((logits.argmax(1) == y).sum())


def _run_epoch(model: nn.Module, loader: Any, loss_fn: nn.Module,
               opt: torch.optim.Optimizer | None, sched: Any, clip: float,
               ctc: bool = False) -> tuple[float, float]:
    """One pass; trains when ``opt`` is given. Returns (mean loss, accuracy)."""
    model.train(opt is not None)
    total, correct, n = 0.0, 0, 0
    with torch.set_grad_enabled(opt is not None):
        for batch in loader:
            loss, size, right = _batch_loss(model, batch, loss_fn, ctc)
            if opt is not None:
                opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
                sched.step()
            total += float(loss.detach()) * size
            correct += right
            n += size
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
    from threadpoolctl import threadpool_limits  # NumPy's BLAS pool (see module docstring)

    with threadpool_limits(cfg.threads):
        return _train(cfg, resume, progress)


def _train(cfg: TrainConfig, resume: str | os.PathLike[str] | None,
           progress: Callable[[int, int, dict[str, Any]], None] | None) -> TrainResult:
    # -- config and seed
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    params = FeatureParams(**cfg.features)
    aug = AugmentConfig(**cfg.augment)
    ctc = model_task(cfg.model) == "ctc"

    # -- data
    manifest = _manifest(cfg)
    write_manifest(manifest, out / "manifest.csv")
    train_rows, val_rows = _splits(manifest, cfg.val_holdout)
    labels = list(manifest.labels)
    cache = FeatureCache(params, cfg.cache_dir)
    bank = (NoiseBank(cfg.noise_dir, params.sample_rate,
                      heldout_fraction=aug.noise_heldout_fraction) if cfg.noise_dir else None)
    strings = StringConfig(**cfg.strings)
    collate: Any = None
    if ctc:   # utterances composed from the clips of each split (speakers stay apart)
        train_ds: Any = StringDataset(StringComposer(train_rows, labels, params,
                                                     strings), augment=aug, noise=bank,
                                      seed=cfg.seed + 1)
        val_comp = StringComposer(val_rows, labels, params, strings)
        val_ds: Any = StringDataset(val_comp, strings=fixed_strings(
            val_comp, strings.eval_strings, cfg.seed + VAL_SEED_OFFSET))
        rngs = {"wave_rng": train_ds.rng, "spec_rng": train_ds.spec.rng}
        collate = collate_strings
    else:
        wave_aug = WaveAugmenter(aug, bank, cfg.seed + 1)
        spec_aug = SpecAugmenter(aug, cfg.seed + 2)
        train_ds = FeatureDataset(train_rows, labels, cache, augment=wave_aug,
                                  spec_augment=spec_aug)
        val_ds = FeatureDataset(val_rows, labels, cache)
        rngs = {"wave_rng": wave_aug.rng, "spec_rng": spec_aug.rng}
    order = torch.Generator().manual_seed(cfg.seed)
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True,
                                           generator=order, collate_fn=collate,
                                           drop_last=len(train_ds) > cfg.batch_size)
    val_dl = torch.utils.data.DataLoader(val_ds, batch_size=64 if ctc else 256,
                                         collate_fn=collate)

    # -- model, optimiser, schedule
    model_cfg = {"n_mels": params.n_features, "n_frames": params.n_frames,
                 "n_classes": len(labels), **cfg.model_config}
    model = build_model(cfg.model, model_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * len(train_dl)
    sched: Any = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
                  if cfg.schedule == "onecycle" else
                  torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps))
    loss_fn: nn.Module = (nn.CTCLoss(blank=0, zero_infinity=True) if ctc else
                          nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing))
    start, best, stale, history = 0, math.inf, 0, []
    if resume is not None:
        ck = load_checkpoint(resume, expect_model=cfg.model).raw
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        order.set_state(ck["data_order"])
        for key, gen in rngs.items():
            gen.bit_generator.state = ck[key]
        torch.set_rng_state(ck["torch_rng"])   # dropout masks continue as if never stopped
        start, best, stale, history = (ck["epoch"] + 1, ck["best_val_loss"], ck["stale_epochs"],
                                       list(ck["history"]))
    meta = {"labels": labels, "feature_params": asdict(params), "train_config": asdict(cfg)}

    # -- loop
    log = (out / "log.jsonl").open("a" if resume else "w")
    board = _board(out, start) if cfg.tensorboard else None
    stopped = None
    try:
        for epoch in range(start, cfg.epochs):
            t0, c0 = time.monotonic(), time.process_time()
            tr_loss, tr_acc = _run_epoch(model, train_dl, loss_fn, opt, sched, cfg.grad_clip_norm,
                                         ctc)
            va_loss, va_acc = _run_epoch(model, val_dl, loss_fn, None, None, 0.0, ctc)
            row = {"epoch": epoch, "train_loss": round(tr_loss, 5), "train_acc": round(tr_acc, 4),
                   "val_loss": round(va_loss, 5), "val_acc": round(va_acc, 4),
                   "lr": opt.param_groups[0]["lr"], "seconds": round(time.monotonic() - t0, 2),
                   "cpu_seconds": round(time.process_time() - c0, 2)}
            history.append(row)
            log.write(json.dumps(row) + "\n")
            log.flush()
            if board is not None:
                for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds",
                            "cpu_seconds"):
                    board.add_scalar(key.replace("_", "/", 1), row[key], epoch)
                board.flush()
            improved = va_loss < best
            best, stale = (va_loss, 0) if improved else (best, stale + 1)
            state = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                     "data_order": order.get_state(), "torch_rng": torch.get_rng_state(),
                     **{k: g.bit_generator.state for k, g in rngs.items()}, "epoch": epoch,
                     "best_val_loss": best, "stale_epochs": stale, "history": history}
            if improved:
                save_checkpoint(out / "best.pt", model, metrics=row, **meta, **state)
            save_checkpoint(out / "last.pt", model, metrics=row, **meta, **state)
            if progress is not None:
                progress(epoch + 1, cfg.epochs, row)
            if stale >= cfg.patience:
                stopped = f"early stopping: {stale} epochs without a lower val_loss"
                break
            if cfg.max_train_cpu_s is not None and sum(
                    h.get("cpu_seconds", h["seconds"]) for h in history) >= cfg.max_train_cpu_s:
                stopped = f"time cap: {cfg.max_train_cpu_s:g} s of training CPU time reached"
                break
    finally:
        log.close()
        if board is not None:
            board.close()
    if not (out / "best.pt").is_file():
        raise ModelError(f"{out}: no epoch was run (resumed after the last epoch?)")

    # -- test the best model on the held-out speakers, clean and with held-out noise
    from wavesmith.learn.evaluate import TorchClassifier, TorchCTC, evaluate, evaluate_strings

    best_ck = load_checkpoint(out / "best.pt")
    metrics: dict[str, Any] = {"best_epoch": best_ck.metrics["epoch"],
                               "val_loss": best_ck.metrics["val_loss"],
                               "val_acc": best_ck.metrics["val_acc"],
                               "epochs_run": len(history), "stopped": stopped,
                               "train_seconds": round(sum(h["seconds"] for h in history), 1),
                               "train_cpu_seconds": round(sum(h.get("cpu_seconds", 0.0)
                                                              for h in history), 1),
                               "test_speakers": manifest.speakers("test"),
                               "val_speakers": sorted({r.speaker for r in val_rows}),
                               "train_speakers": sorted({r.speaker for r in train_rows}),
                               "n_train_clips": len(train_rows), "n_val_clips": len(val_rows)}
    test_rows = manifest.split("test")
    if test_rows and ctc:
        test_comp = StringComposer(test_rows, labels, params, strings)
        tests = fixed_strings(test_comp, strings.eval_strings, cfg.seed + TEST_SEED_OFFSET)
        frame_s = params.frame_s * best_ck.model.config.stride
        srep = evaluate_strings(TorchCTC(best_ck.model), tests, labels, params, frame_s=frame_s,
                                noise=bank, snr_db=cfg.eval_snr_db if bank else (),
                                beam_size=cfg.beam_size, seed=cfg.seed)
        metrics.update({"test_accuracy": srep.string_accuracy["clean"],
                        "test_robustness": srep.string_accuracy, "test_der": srep.der,
                        "test_greedy_string_accuracy": srep.greedy_string_accuracy,
                        "test_greedy_der": srep.greedy_der,
                        "test_spike_in_digit": srep.spike_in_digit,
                        "test_per_speaker": srep.per_speaker, "n_test": srep.n,
                        "n_test_digits": srep.n_digits, "test_examples": srep.examples})
    elif test_rows:
        report = evaluate(TorchClassifier(best_ck.model), test_rows, labels, params, cache,
                          noise=bank, snr_db=cfg.eval_snr_db, seed=cfg.seed)
        metrics.update({"test_accuracy": report.accuracy, "test_robustness": report.robustness,
                        "test_per_speaker": report.per_speaker, "n_test": report.n})
    raw = best_ck.raw
    save_checkpoint(out / "best.pt", best_ck.model, metrics=metrics, **meta,
                    **{k: raw[k] for k in ("optimizer", "scheduler", "epoch", "best_val_loss")})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return TrainResult(out, out / "best.pt", metrics, history)


def _board(out: Path, start: int) -> Any:
    """A TensorBoard writer in ``out``; events after ``start`` from an earlier run are dropped."""
    from torch.utils.tensorboard import SummaryWriter  # the `tensorboard` package's format

    return SummaryWriter(log_dir=str(out), purge_step=start if start else None)


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


def fit(model: nn.Module, train_loader: Any, val_loader: Any,
        loss: Callable[[nn.Module, Any], tuple[torch.Tensor, int]], cfg: TrainConfig, *,
        max_seconds: float | None = None, clock: Callable[[], float] = time.monotonic,
        progress: Callable[[int, int, dict[str, Any]], None] | None = None
        ) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    """The loop of :func:`train` for models that are not log-mel classifiers (e.g. music).

    Same optimiser (AdamW), schedule, gradient clipping, early stopping (``cfg.patience``)
    and ``log.jsonl`` in ``cfg.out_dir``; ``loss(model, batch)`` returns the batch's mean
    loss and its item count (e.g. scored tokens), so epoch losses are per item. Training
    stops after the epoch that crosses ``max_seconds`` (s) of ``clock`` (wall time by
    default; ``time.process_time`` budgets CPU time on a shared machine). No checkpoint is
    written: the caller saves the returned best ``state_dict`` (lowest validation loss).
    """
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * len(train_loader)
    sched: Any = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
                  if cfg.schedule == "onecycle" else
                  torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps))

    def run(loader: Any, train_mode: bool) -> float:
        model.train(train_mode)
        total, n = 0.0, 0
        with torch.set_grad_enabled(train_mode):
            for batch in loader:
                value, items = loss(model, batch)
                if train_mode:
                    opt.zero_grad(set_to_none=True)
                    value.backward()
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip_norm)
                    opt.step()
                    sched.step()
                total, n = total + float(value.detach()) * items, n + items
        return total / max(n, 1)

    best, stale, best_state, history = math.inf, 0, None, []
    started = clock()
    with (out / "log.jsonl").open("w") as log:
        for epoch in range(cfg.epochs):
            t0 = time.monotonic()
            row = {"epoch": epoch, "train_loss": round(run(train_loader, True), 5),
                   "val_loss": round(run(val_loader, False), 5),
                   "lr": opt.param_groups[0]["lr"], "seconds": round(time.monotonic() - t0, 2)}
            history.append(row)
            log.write(json.dumps(row) + "\n")
            log.flush()
            if row["val_loss"] < best:
                best, stale = row["val_loss"], 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                stale += 1
            if progress is not None:
                progress(epoch + 1, cfg.epochs, row)
            if stale >= cfg.patience or (max_seconds is not None
                                         and clock() - started >= max_seconds):
                break
    if best_state is None:
        raise ModelError(f"{out}: the validation loss was never finite; nothing to keep")
    return best_state, history
