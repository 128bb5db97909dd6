"""The bar GAN's training loop (:mod:`wavesmith.music.gan`); entry point
:func:`wavesmith.music.train.train_music` with ``kind: music_gan``.

The loop is written out here rather than run through :func:`wavesmith.learn.trainer.fit`:
a GAN needs two optimisers stepped in alternation on two losses, and model selection by
sample quality (the critic's loss says nothing about it). Bending the single-loss trainer to
that would add GAN-only branches to code every other model uses; this loop reuses its
seeding (``seed_everything``), its config record (``TrainConfig``, for the card) and its
CPU-time budget convention. Read top to bottom: data → networks → loop (hinge loss, EMA,
validation every ``eval_every`` steps) → test metrics → weights + card.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from wavesmith.errors import ModelError
from wavesmith.learn.trainer import seed_everything
from wavesmith.music.evaluate import crops_16
from wavesmith.music.midi import Melody
from wavesmith.music.train import (
    MusicTrainConfig,
    MusicTrainResult,
    build_config,
    data_card,
    describe,
    fit_config,
    load_melodies,
    result_of,
    safe_transpose,
    save_run,
    too_small,
)

__all__ = ["crops_16", "gan_phrases", "tonic_normalised", "train_gan", "train_record"]

ADAM_BETAS = (0.0, 0.9)   # both networks (as in the SN-GAN / BigGAN recipes)


def tonic_normalised(m: Melody) -> Melody:
    """``m`` moved (-6..+5 semitones) to C major or A minor (estimated key)."""
    from wavesmith.music.harmonize import estimate_key

    tonic, mode = estimate_key(m)
    shift = ((0 if mode == "major" else 9) - tonic + 6) % 12 - 6
    return safe_transpose(m, shift)


def gan_phrases(melodies: list[Melody], hop_bars: int) -> tuple[np.ndarray, np.ndarray]:
    """Tonic-normalised 4-bar phrases of the 4/4, 2/2 and 2/4 tunes as ``(classes, onsets)``
    (see :func:`wavesmith.music.gan.phrase_rolls`), one from every ``hop_bars`` bars."""
    from wavesmith.music.gan import PHRASE_STEPS, STEPS_PER_BAR, phrase_rolls

    parts = [phrase_rolls(tonic_normalised(m), hop_steps=hop_bars * STEPS_PER_BAR)
             for m in melodies if STEPS_PER_BAR % m.steps_per_bar == 0 and m.notes()]
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return np.zeros((0, PHRASE_STEPS), np.int64), np.zeros((0, PHRASE_STEPS), bool)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def train_record(cfg: MusicTrainConfig, model_config: dict[str, Any]) -> Any:
    """The :class:`~wavesmith.learn.trainer.TrainConfig` recorded in the card (the loop
    uses no weight decay, gradient clipping or early stopping; cosine decay over the budget)."""
    return replace(fit_config(cfg, model_config, 1), weight_decay=0.0, schedule="cosine",
                   label_smoothing=0.0, grad_clip_norm=0.0, patience=0,
                   max_train_cpu_s=cfg.minutes * 60.0, tensorboard=False)


def train_gan(cfg: MusicTrainConfig, *, built_by: str,
              log: Callable[[str], None]) -> MusicTrainResult:
    """Train the bar GAN (hinge loss, spectral norm, two-timescale Adam, weight EMA).

    The generator's EMA weights with the lowest mean metric distance of 16-bar samples to
    the valid split's 16-bar 4/4 crops are kept; the learning rates decay on a cosine over
    the CPU-time budget (not over a step count fixed in advance).
    """
    from wavesmith.music.evaluate import baseline_distances
    from wavesmith.music.gan import (
        BarDiscriminator,
        BarGenerator,
        MelodyGAN,
        MelodyGANConfig,
        roll_input,
    )
    from wavesmith.music.metrics import metric_distance

    mcfg = build_config(MelodyGANConfig, cfg.model_config, cfg.name)
    budget = cfg.minutes * 60.0
    tcfg = train_record(cfg, asdict(mcfg))
    seed_everything(cfg.seed)
    data = load_melodies(cfg)
    cls, ons = (torch.from_numpy(a) for a in gan_phrases(data["train"], 1))
    valid_ref, test_ref = crops_16(data["valid"]), crops_16(data["test"])
    if not (len(cls) and valid_ref and test_ref):
        raise too_small(cfg, f"{len(cls)} train phrases, {len(valid_ref)} valid / "
                        f"{len(test_ref)} test 16-bar 4/4 crops")
    log(f"gan: {len(cls)} train phrases, {len(valid_ref)} valid / {len(test_ref)} test "
        "16-bar crops")
    pick = torch.Generator().manual_seed(cfg.seed)

    def batch() -> torch.Tensor:
        idx = torch.randint(len(cls), (cfg.batch_size,), generator=pick)
        return roll_input(cls[idx], ons[idx])

    def latents(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(n, mcfg.z_phrase), torch.randn(n, mcfg.z_temporal)

    def step(gen: Any, critic: Any, opt_g: Any, opt_d: Any) -> dict[str, float]:
        """One hinge-loss critic step, then one generator step on the same fakes."""
        real, fake = batch(), gen.roll(*latents(cfg.batch_size))
        scores = critic(torch.cat([real, fake.detach()]))
        d_real, d_fake = scores[:len(real)], scores[len(real):]
        d_loss = F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = -critic(fake).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(),
                "real_minus_fake": (d_real.mean() - d_fake.mean()).item()}

    def valid_distance(gen: Any) -> float:
        gan = MelodyGAN(gen)
        return metric_distance([gan.sample(bars=16, seed=i) for i in range(len(valid_ref))],
                               valid_ref)["mean"]

    gen, critic = BarGenerator(mcfg), BarDiscriminator(mcfg)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=ADAM_BETAS)
    opt_d = torch.optim.Adam(critic.parameters(), lr=cfg.lr_critic, betas=ADAM_BETAS)
    log(f"gan: G {sum(p.numel() for p in gen.parameters())} / D "
        f"{sum(p.numel() for p in critic.parameters())} parameters")
    ema = copy.deepcopy(gen).eval()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    history: list[dict[str, Any]] = []
    best, best_state, best_step, sums = math.inf, None, 0, {}
    wall0, c0 = time.monotonic(), time.process_time()
    it, spent = 0, 0.0
    with (out / "log.jsonl").open("w") as log_file:
        while spent < budget:
            scale = 0.5 * (1.0 + math.cos(math.pi * spent / budget))
            for opt, lr in ((opt_g, cfg.lr), (opt_d, cfg.lr_critic)):
                opt.param_groups[0]["lr"] = lr * scale
            for k, v in step(gen, critic, opt_g, opt_d).items():
                sums[k] = sums.get(k, 0.0) + v
            it += 1
            decay = min(cfg.ema_decay, (1 + it) / (10 + it))
            with torch.no_grad():
                for pe, p in zip(ema.parameters(), gen.parameters(), strict=True):
                    pe.lerp_(p, 1.0 - decay)
            spent = time.process_time() - c0
            if it % cfg.eval_every and spent < budget:
                continue
            dist = valid_distance(ema)
            n = it - (history[-1]["step"] if history else 0)
            row = {"step": it, **{k: round(v / n, 4) for k, v in sums.items()},
                   "valid_distance": round(dist, 4), "lr_generator": cfg.lr * scale,
                   "cpu_seconds": round(time.process_time() - c0, 1)}
            sums = {}
            history.append(row)
            log_file.write(json.dumps(row) + "\n")
            log_file.flush()
            log(json.dumps(row))
            if dist < best:
                best, best_step = dist, it
                best_state = {k: v.detach().clone() for k, v in ema.state_dict().items()}
            spent = time.process_time() - c0
    train_s, train_cpu_s = time.monotonic() - wall0, time.process_time() - c0
    if best_state is None:
        raise ModelError(f"{out}: the validation distance was never finite; nothing to keep")
    ema.load_state_dict(best_state)
    log("evaluating on the test split")
    gan = MelodyGAN(ema)
    t1 = time.monotonic()
    gen_test = [gan.sample(bars=16, seed=i) for i in range(len(test_ref))]
    sample_s = (time.monotonic() - t1) / len(test_ref)
    distances = {"gan": metric_distance(gen_test, test_ref),
                 **baseline_distances(test_ref, valid_ref)}
    metrics = {
        "distances_16_bars_4_4": {**distances, "pieces": len(test_ref),
                                  "seeds": f"0..{len(test_ref) - 1}", "temperature": 1.0},
        "seconds_per_16_bars": round(sample_s, 4),
        "best_valid_distance": round(best, 4), "best_generator_step": best_step,
        "generator_steps_run": history[-1]["step"], "train_wall_seconds": round(train_s, 1),
        "train_cpu_seconds": round(train_cpu_s, 1), "train_phrases": len(cls),
        "parameters": {"generator": sum(p.numel() for p in gen.parameters()),
                       "discriminator": sum(p.numel() for p in critic.parameters())}}
    card = {"config": {"model": asdict(mcfg), "train": asdict(tcfg),
                       "gan": {"loss": "hinge, spectral norm on every critic layer",
                               "critic_steps": 1, "lr_generator": cfg.lr,
                               "lr_critic": cfg.lr_critic, "ema_decay": cfg.ema_decay,
                               "adam_betas": list(ADAM_BETAS), "gradient_clipping": None,
                               "eval_every": cfg.eval_every,
                               "selection": "lowest mean metric distance of 16-bar samples "
                                            "to the valid split's 16-bar 4/4 crops"},
                       "phrases": "4 bars (64 steps) from every bar line of 4/4, 2/2 and "
                                  "2/4 tunes, key-normalised to C major / A minor, pitches "
                                  "MIDI 48..95, >= 1 onset",
                       "music_train": describe(cfg)},
            "data": {**data_card(data), "train_phrases": len(cls)},
            "metrics": metrics, "history": history, "built_by": built_by}
    card_path, shipped = save_run(cfg, "music_gan", asdict(mcfg), best_state, card)
    return result_of(cfg, card_path, shipped, card, train_cpu_s)
