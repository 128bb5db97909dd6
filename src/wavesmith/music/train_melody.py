"""Training steps of the two melody networks that run through the shared trainer loop.

:func:`train_transformer` (Music Transformer on windows of whole tunes) and
:func:`train_vae` (2-bar MusicVAE) each build datasets, pick the number of epochs from a
timing probe (:func:`wavesmith.music.train.epochs_for`), run
:func:`wavesmith.learn.trainer.fit`, evaluate the best weights on the held-out test split
and save them with a card (:func:`wavesmith.music.train.save_run`). Entry point:
:func:`wavesmith.music.train.train_music`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from wavesmith.learn.trainer import fit, seed_everything
from wavesmith.music.midi import Melody
from wavesmith.music.train import (
    MusicTrainConfig,
    MusicTrainResult,
    build_config,
    data_card,
    describe,
    epochs_for,
    fit_config,
    load_melodies,
    result_of,
    safe_transpose,
    save_run,
    too_small,
)

__all__ = ["SegmentDataset", "WindowDataset", "make_vae_loss", "train_transformer",
           "train_vae", "transformer_loss", "vae_segments"]

IGNORE_INDEX = -100      # target of padding steps (ignored by the cross-entropy)
BUDGET_OVERRUN = 1.1     # fit stops after the epoch that crosses 1.1 x the budget
VAL_BATCH = {"music_transformer": 32, "music_vae": 256}   # validation batch sizes


def _epoch_line(log: Callable[[str], None]) -> Callable[[int, int, dict[str, Any]], None]:
    def note(done: int, total: int, row: dict[str, Any]) -> None:
        log(f"epoch {done}/{total}: train_loss {row['train_loss']:.4f} "
            f"val_loss {row['val_loss']:.4f} ({row['seconds']:.1f} s)")
    return note


# -- transformer --------------------------------------------------------------------------------
class WindowDataset(torch.utils.data.Dataset):
    """Windows of ``block`` tokens of whole tunes, on the 16th-note grid or as REMI events.

    Window ``k`` of a tune starts at ``k * block`` minus, with ``augment``, a random jitter
    of up to half a block (window 0 always starts at the tune's BOS), and the tune is
    transposed by a random -``transpose``..+``transpose`` semitones; padding targets are
    :data:`IGNORE_INDEX`.
    """

    def __init__(self, melodies: list[Melody], block: int, seed: int, augment: bool,
                 transpose: int = 3, tokens: str = "grid") -> None:
        from wavesmith.music.remi import encode_for_model
        from wavesmith.music.transformer import encode_melody

        self.mels, self.block, self.augment, self.transpose = (melodies, block, augment,
                                                               transpose)
        self.encode = encode_melody if tokens == "grid" else encode_for_model
        self.enc: dict[tuple[int, int], tuple[np.ndarray, ...]] = {
            (i, 0): self.encode(m) for i, m in enumerate(melodies)}
        self.items = [(i, k) for i in range(len(melodies))
                      for k in range(math.ceil(len(self.enc[i, 0][1]) / block))]
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.items)

    def _encoded(self, i: int, shift: int) -> tuple[np.ndarray, ...]:
        if (i, shift) not in self.enc:   # transposition does not change the token count
            self.enc[i, shift] = self.encode(safe_transpose(self.mels[i], shift))
        return self.enc[i, shift]

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, ...]:
        i, k = self.items[idx]
        shift = (int(self.rng.integers(-self.transpose, self.transpose + 1))
                 if self.augment else 0)
        enc = self._encoded(i, shift)
        start = k * self.block
        if self.augment and k:
            start -= int(self.rng.integers(0, self.block // 2))
        ids, tgt, bpos = (torch.full((self.block,), fill, dtype=torch.int64)
                          for fill in (0, IGNORE_INDEX, 0))
        n = min(self.block, len(enc[1]) - start)
        ids[:n] = torch.from_numpy(enc[0][start:start + n])
        tgt[:n] = torch.from_numpy(enc[1][start:start + n])
        bpos[:n] = torch.from_numpy(enc[2][start:start + n])
        return ids, tgt, bpos, torch.tensor(self.mels[i].steps_per_bar)


def transformer_loss(model: torch.nn.Module, batch: tuple[torch.Tensor, ...]
                     ) -> tuple[torch.Tensor, int]:
    """Mean next-token cross-entropy (nats) of a batch and its count of scored steps."""
    ids, tgt, bpos, meter = batch
    logits, _ = model(ids, bpos, meter)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                           ignore_index=IGNORE_INDEX), int((tgt != IGNORE_INDEX).sum())


def train_transformer(cfg: MusicTrainConfig, *, built_by: str,
                      log: Callable[[str], None]) -> MusicTrainResult:
    """Train the Music Transformer (see :mod:`wavesmith.music.train`)."""
    from wavesmith.music.evaluate import evaluate_generator
    from wavesmith.music.transformer import (
        MelodyTransformer,
        MusicTransformer,
        MusicTransformerConfig,
    )

    values = dict(cfg.model_config)
    if values.get("tokens") == "remi":   # the output layer fits the REMI vocabulary
        from wavesmith.music.remi import tokenizer

        values.setdefault("vocab_size", len(tokenizer().vocab))
    mcfg = build_config(MusicTransformerConfig, values, cfg.name)
    seed_everything(cfg.seed)
    data = load_melodies(cfg)
    train_ds = WindowDataset(data["train"], mcfg.block_size, cfg.seed, augment=True,
                             transpose=cfg.transpose_semitones, tokens=mcfg.tokens)
    val_ds = WindowDataset(data["valid"], mcfg.block_size, cfg.seed, augment=False,
                           tokens=mcfg.tokens)
    order = torch.Generator().manual_seed(cfg.seed)
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True,
                                           generator=order, drop_last=True)
    val_dl = torch.utils.data.DataLoader(val_ds, batch_size=VAL_BATCH[cfg.kind])
    if len(train_dl) == 0 or len(val_ds) == 0:
        raise too_small(cfg, f"{len(train_ds)} train / {len(val_ds)} valid windows")
    budget = cfg.minutes * 60.0
    model = MusicTransformer(mcfg)
    epochs, step_s = epochs_for(budget, model, train_dl, transformer_loss)
    epochs = cfg.epochs or epochs
    tcfg = fit_config(cfg, asdict(mcfg), epochs)
    log(f"transformer: {sum(p.numel() for p in model.parameters())} parameters, "
        f"{len(train_ds)} windows, {step_s:.2f} s/step -> {epochs} epochs")
    model = MusicTransformer(mcfg)  # fresh weights after the probe
    t0, c0 = time.monotonic(), time.process_time()
    best, history = fit(model, train_dl, val_dl, transformer_loss, tcfg,
                        max_seconds=BUDGET_OVERRUN * budget, clock=time.process_time,
                        progress=_epoch_line(log))
    train_s, train_cpu_s = time.monotonic() - t0, time.process_time() - c0
    model.load_state_dict(best)
    log("evaluating on the test split")
    if mcfg.tokens == "remi":
        from wavesmith.music.remi import RemiTransformer

        scorer: Any = RemiTransformer(model)
    else:
        scorer = MelodyTransformer(model)
    metrics = evaluate_generator(scorer, data, name="transformer", seed=0, bars=16,
                                 temperature=1.0, top_k=None)
    metrics.update({"train_wall_seconds": round(train_s, 1),
                    "train_cpu_seconds": round(train_cpu_s, 1), "epochs_run": len(history),
                    "best_val_loss": min(h["val_loss"] for h in history),
                    "parameters": sum(p.numel() for p in model.parameters())})
    card = {"config": {"model": asdict(mcfg), "train": asdict(tcfg),
                       "transpose_semitones": cfg.transpose_semitones,
                       "music_train": describe(cfg)},
            "data": {**data_card(data), "train_tokens": sum(len(train_ds.enc[i, 0][1])
                                                            for i in range(len(data["train"])))},
            "metrics": metrics, "history": history, "built_by": built_by}
    card_path, shipped = save_run(cfg, "music_transformer", asdict(mcfg), best, card)
    return result_of(cfg, card_path, shipped, card, train_cpu_s)


# -- VAE ------------------------------------------------------------------------------------------
class SegmentDataset(torch.utils.data.Dataset):
    """2-bar segments (classes), each transposed by a random -``transpose``..+``transpose``
    semitones when ``augment`` (pitches kept inside MIDI 0..127)."""

    def __init__(self, segments: np.ndarray, seed: int, augment: bool,
                 transpose: int = 3) -> None:
        self.segs = torch.from_numpy(segments)
        self.rng = np.random.default_rng(seed)
        self.augment, self.transpose = augment, transpose

    def __len__(self) -> int:
        return len(self.segs)

    def __getitem__(self, idx: int) -> torch.Tensor:
        x = self.segs[idx].clone()
        if self.augment:
            on = x >= 2
            shift = int(self.rng.integers(-self.transpose, self.transpose + 1))
            if on.any() and 2 <= int(x[on].min()) + shift <= int(x[on].max()) + shift <= 129:
                x[on] += shift
        return x


def vae_segments(melodies: list[Melody], hop_bars: int) -> np.ndarray:
    """2-bar segments ``(n, 32)`` of the tunes whose bar divides 32 steps, one every
    ``hop_bars`` bars."""
    from wavesmith.music.vae import SEGMENT_STEPS, melody_segments

    parts = [melody_segments(m, hop_bars=hop_bars) for m in melodies
             if SEGMENT_STEPS % m.steps_per_bar == 0]
    if not parts:
        return np.zeros((0, SEGMENT_STEPS), np.int64)
    return np.concatenate(parts)


def make_vae_loss(total_steps: int, *, beta: float = 0.2, free_bits_nats: float = 32.0,
                  anneal_fraction: float = 0.3) -> Any:
    """``loss(model, batch)``: per-step cross-entropy + beta * max(KL - free bits, 0) / 32.

    Beta rises linearly from 0 to ``beta`` over the first ``anneal_fraction`` of the
    ``total_steps`` training steps; the validation pass always uses ``beta``, so
    validation losses are comparable across epochs.
    """
    step = [0]

    def loss(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        logits, kl = model(x)
        if model.training:
            b = beta * min(1.0, step[0] / max(1.0, anneal_fraction * total_steps))
            step[0] += 1
        else:
            b = beta
        rec = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1),
                              reduction="sum") / len(x)
        value = (rec + b * torch.relu(kl - free_bits_nats).mean()) / x.shape[1]
        return value, len(x)

    return loss


def train_vae(cfg: MusicTrainConfig, *, built_by: str,
              log: Callable[[str], None]) -> MusicTrainResult:
    """Train the 2-bar melody VAE (see :mod:`wavesmith.music.train`)."""
    from wavesmith.music.metrics import metric_distance
    from wavesmith.music.vae import MelodyVAE, MusicVAE, MusicVAEConfig

    mcfg = build_config(MusicVAEConfig, cfg.model_config, cfg.name)
    seed_everything(cfg.seed)
    data = load_melodies(cfg)
    train_segs, val_segs = vae_segments(data["train"], 1), vae_segments(data["valid"], 2)
    test_segs = vae_segments(data["test"], 2)
    if min(len(train_segs), len(val_segs), len(test_segs)) == 0:
        raise too_small(cfg, f"{len(train_segs)} train / {len(val_segs)} valid / "
                         f"{len(test_segs)} test 2-bar segments")
    order = torch.Generator().manual_seed(cfg.seed)
    train_dl = torch.utils.data.DataLoader(
        SegmentDataset(train_segs, cfg.seed, True, cfg.transpose_semitones),
        batch_size=cfg.batch_size, shuffle=True, generator=order, drop_last=True)
    val_dl = torch.utils.data.DataLoader(SegmentDataset(val_segs, cfg.seed, False),
                                         batch_size=VAL_BATCH[cfg.kind])
    if len(train_dl) == 0:
        raise too_small(cfg, f"{len(train_segs)} train segments < batch_size "
                         f"{cfg.batch_size}")
    kl = {"beta": cfg.beta, "free_bits_nats": cfg.free_bits_nats,
          "anneal_fraction": cfg.anneal_fraction}
    budget = cfg.minutes * 60.0
    model = MusicVAE(mcfg)
    epochs, step_s = epochs_for(budget, model, train_dl, make_vae_loss(1, **kl))
    epochs = cfg.epochs or epochs
    tcfg = fit_config(cfg, asdict(mcfg), epochs)
    log(f"vae: {sum(p.numel() for p in model.parameters())} parameters, {len(train_segs)} "
        f"segments, {step_s:.2f} s/step -> {epochs} epochs")
    model = MusicVAE(mcfg)
    t0, c0 = time.monotonic(), time.process_time()
    best, history = fit(model, train_dl, val_dl, make_vae_loss(epochs * len(train_dl), **kl),
                        tcfg, max_seconds=BUDGET_OVERRUN * budget, clock=time.process_time,
                        progress=_epoch_line(log))
    train_s, train_cpu_s = time.monotonic() - t0, time.process_time() - c0
    model.load_state_dict(best)
    log("evaluating on the test split")
    vae = MelodyVAE(model)
    metrics: dict[str, Any] = {"test": vae.accuracy(test_segs), "valid": vae.accuracy(val_segs)}
    reference = [m.crop(16) for m in data["test"]
                 if m.steps_per_bar == 16 and m.steps >= 16 * 16]
    if reference:   # smoke runs (limit) may hold no 16-bar 4/4 test tune
        t1 = time.monotonic()
        gen = [vae.sample(bars=16, seed=i) for i in range(len(reference))]
        metrics["seconds_per_16_bars"] = round((time.monotonic() - t1) / len(reference), 3)
        metrics["distances_16_bars_4_4"] = {"vae": metric_distance(gen, reference),
                                            "pieces": len(reference)}
    metrics.update({
        "train_wall_seconds": round(train_s, 1), "train_cpu_seconds": round(train_cpu_s, 1),
        "epochs_run": len(history), "best_val_loss": min(h["val_loss"] for h in history),
        "parameters": sum(p.numel() for p in model.parameters())})
    card = {"config": {"model": asdict(mcfg), "train": asdict(tcfg), **kl,
                       "transpose_semitones": cfg.transpose_semitones,
                       "segments": "32 steps from each bar line (train), every 2 bars "
                                   "(valid/test); 4/4, 2/4, 2/2 tunes; >= 1 onset",
                       "music_train": describe(cfg)},
            "data": {**data_card(data),
                     "segments": {"train": len(train_segs), "valid": len(val_segs),
                                  "test": len(test_segs)}},
            "metrics": metrics, "history": history, "built_by": built_by}
    card_path, shipped = save_run(cfg, "music_vae", asdict(mcfg), best, card)
    return result_of(cfg, card_path, shipped, card, train_cpu_s)

