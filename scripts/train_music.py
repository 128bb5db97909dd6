"""Train, evaluate and ship the music models on the real Nottingham tunes (CPU, 1 thread).

    python scripts/train_music.py transformer --minutes 25 --ship
    python scripts/train_music.py vae --minutes 20 --ship
    python scripts/train_music.py gan --minutes 12 --ship
    python scripts/train_music.py harmony --ship
    python scripts/train_music.py attributes --ship   # after the VAE: style-transfer vectors

Run from the repository root. Data: ``../shared/data/music/midi/nottingham`` split by piece
(:func:`wavesmith.music.midi.split_pieces`). Training uses the project's trainer loop
(:func:`wavesmith.learn.trainer.fit`; the GAN has its own loop, see its section) on one
thread; ``--minutes`` is a budget of *CPU* time of this process (``time.process_time``), so
a run does the same work on a quiet machine (where it takes about as long in wall time) as
on a busy shared one (where it takes longer).
The number of epochs is chosen from a timing probe so the one-cycle schedule completes
inside the budget. Run products go to ``runs/music/<model>``;
with ``--ship`` the weights and their JSON card (config, metrics, data provenance; relative
paths only) are written to ``src/wavesmith/music/data/``.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from wavesmith.learn.trainer import TrainConfig, fit, seed_everything
from wavesmith.music.dataset import load_split
from wavesmith.music.midi import Melody, transpose

DATA_NOTE = ("Nottingham Music Database, jukedeck cleaned MIDI (github:jukedeck/"
             "nottingham-dataset @0992bb6, GPL-3.0), full tunes; melody = top track, top line, "
             "16th-note grid")
SPLIT_NOTE = "by piece, sha1(file name): test < 0.1 <= valid < 0.2 <= train"
RUNS = Path("runs/music")
SHIP_DIR = Path("src/wavesmith/music/data")
TRANSPOSE_SEMITONES = 3  # augmentation: each training window is shifted by -3..+3 semitones


LIMIT: int | None = None  # pieces per split (--limit, for a quick smoke run)


def load_data() -> dict[str, list[Melody]]:
    """The split melodies, cached in ``runs/music/melodies.pkl`` (parsing takes ~30 s)."""
    cache = RUNS / "melodies.pkl"
    if cache.is_file():
        data = pickle.loads(cache.read_bytes())
    else:
        data = load_split()
        RUNS.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(data))
    return {k: v[:LIMIT] for k, v in data.items()}


def safe_transpose(m: Melody, shift: int) -> Melody:
    try:
        return transpose(m, shift)
    except ValueError:
        return m


def epochs_for(budget_s: float, model: torch.nn.Module, loader: Any, loss: Any
               ) -> tuple[int, float]:
    """Epochs that fit ``budget_s`` of CPU time, from the mean CPU time of a few training
    steps of ``loss(model, batch)`` at learning rate 0 (the first step warms up and is not
    timed); the caller builds fresh weights afterwards."""

    def probe(n: int) -> int:
        opt = torch.optim.AdamW(model.parameters(), lr=0.0)
        for _, batch in zip(range(n), loader, strict=False):
            value, _ = loss(model, batch)
            opt.zero_grad()
            value.backward()
            opt.step()
        return n

    probe(1)
    t0 = time.process_time()
    n = probe(6)
    step_s = (time.process_time() - t0) / n
    return max(1, int(budget_s / (step_s * len(loader) * 1.15))), step_s


# -- transformer --------------------------------------------------------------------------------
class WindowDataset(torch.utils.data.Dataset):
    """Windows of ``block`` steps: window ``k`` of a tune starts at ``k * block`` minus a
    random jitter of up to half a block (window 0 always starts at the tune's BOS), and is
    transposed by a random shift; padding targets are -100 (ignored)."""

    def __init__(self, melodies: list[Melody], block: int, seed: int, augment: bool) -> None:
        from wavesmith.music.transformer import encode_melody

        self.mels, self.block, self.augment = melodies, block, augment
        self.enc = [encode_melody(m) for m in melodies]
        self.items = [(i, k) for i, m in enumerate(melodies)
                      for k in range(math.ceil(m.steps / block))]
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, ...]:
        from wavesmith.music.transformer import encode_melody

        i, k = self.items[idx]
        mel, enc = self.mels[i], self.enc[i]
        if self.augment:
            shift = int(self.rng.integers(-TRANSPOSE_SEMITONES, TRANSPOSE_SEMITONES + 1))
            if shift:
                enc = encode_melody(safe_transpose(mel, shift))
        start = k * self.block
        if self.augment and k:
            start -= int(self.rng.integers(0, self.block // 2))
        ids, tgt, bpos = (torch.full((self.block,), fill, dtype=torch.int64)
                          for fill in (0, -100, 0))
        n = min(self.block, mel.steps - start)
        ids[:n] = torch.from_numpy(enc[0][start:start + n])
        tgt[:n] = torch.from_numpy(enc[1][start:start + n])
        bpos[:n] = torch.from_numpy(enc[2][start:start + n])
        return ids, tgt, bpos, torch.tensor(mel.steps_per_bar)


def transformer_loss(model: torch.nn.Module, batch: tuple[torch.Tensor, ...]
                     ) -> tuple[torch.Tensor, int]:
    ids, tgt, bpos, meter = batch
    logits, _ = model(ids, bpos, meter)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                           ignore_index=-100), int((tgt != -100).sum())


def train_transformer(args: argparse.Namespace) -> dict[str, Any]:
    from wavesmith.music.evaluate import evaluate_generator
    from wavesmith.music.transformer import (
        MelodyTransformer,
        MusicTransformer,
        MusicTransformerConfig,
    )

    mcfg = MusicTransformerConfig(block_size=256, n_layer=4, n_head=4, n_embd=128, dropout=0.1)
    cfg = TrainConfig(name="transformer_nottingham", model="music_transformer",
                      model_config=asdict(mcfg), data="../shared/data/music/midi/nottingham",
                      noise_dir=None, epochs=1, batch_size=16, lr=2e-3, weight_decay=0.05,
                      schedule="onecycle", grad_clip_norm=1.0, patience=4, seed=0, threads=1,
                      out_dir=str(RUNS / ("transformer" + ("-smoke" if LIMIT else ""))))
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    data = load_data()
    train_ds = WindowDataset(data["train"], mcfg.block_size, cfg.seed, augment=True)
    val_ds = WindowDataset(data["valid"], mcfg.block_size, cfg.seed, augment=False)
    order = torch.Generator().manual_seed(cfg.seed)
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True,
                                           generator=order, drop_last=True)
    val_dl = torch.utils.data.DataLoader(val_ds, batch_size=32)
    model = MusicTransformer(mcfg)

    budget = args.minutes * 60.0
    epochs, step_s = epochs_for(budget, model, train_dl, transformer_loss)
    cfg = TrainConfig(**{**asdict(cfg), "epochs": epochs})
    print(f"transformer: {sum(p.numel() for p in model.parameters())} parameters, "
          f"{len(train_ds)} windows, {step_s:.2f} s/step -> {epochs} epochs", flush=True)
    model = MusicTransformer(mcfg)  # fresh weights after the probe
    t0, c0 = time.monotonic(), time.process_time()
    best, history = fit(model, train_dl, val_dl, transformer_loss, cfg,
                        max_seconds=1.1 * budget, clock=time.process_time,
                        progress=lambda d, n, r: print(f"epoch {d}/{n} {r}", flush=True))
    train_s, train_cpu_s = time.monotonic() - t0, time.process_time() - c0
    model.load_state_dict(best)
    mt = MelodyTransformer(model)
    metrics = evaluate_generator(mt, data, name="transformer", seed=0, bars=16,
                                 temperature=1.0, top_k=None)
    metrics.update({"train_wall_seconds": round(train_s, 1),
                    "train_cpu_seconds": round(train_cpu_s, 1), "epochs_run": len(history),
                    "best_val_loss": min(h["val_loss"] for h in history),
                    "parameters": sum(p.numel() for p in model.parameters())})
    card = {"config": {"model": asdict(mcfg), "train": asdict(cfg),
                       "transpose_semitones": TRANSPOSE_SEMITONES},
            "data": {"description": DATA_NOTE, "split": SPLIT_NOTE,
                     "pieces": {k: len(v) for k, v in data.items()},
                     "train_tokens": sum(m.steps for m in data["train"])},
            "metrics": metrics, "history": history,
            "built_by": "python scripts/train_music.py transformer --minutes "
                        f"{args.minutes:g} --ship"}
    return finish(args, "transformer_nottingham", "music_transformer", asdict(mcfg), best, card)


# -- VAE ------------------------------------------------------------------------------------------
VAE_FREE_BITS = 32.0     # nats of KL per segment that are not penalised (MusicVAE free bits)
VAE_BETA = 0.2           # final KL weight
VAE_ANNEAL = 0.3         # fraction of training steps over which beta rises linearly from 0


class SegmentDataset(torch.utils.data.Dataset):
    """2-bar segments (classes), each transposed by a random -3..+3 semitones when
    ``augment`` (pitches kept inside MIDI 0..127)."""

    def __init__(self, segments: np.ndarray, seed: int, augment: bool) -> None:
        self.segs = torch.from_numpy(segments)
        self.rng = np.random.default_rng(seed)
        self.augment = augment

    def __len__(self) -> int:
        return len(self.segs)

    def __getitem__(self, idx: int) -> torch.Tensor:
        x = self.segs[idx].clone()
        if self.augment:
            on = x >= 2
            shift = int(self.rng.integers(-TRANSPOSE_SEMITONES, TRANSPOSE_SEMITONES + 1))
            if on.any() and 2 <= int(x[on].min()) + shift <= int(x[on].max()) + shift <= 129:
                x[on] += shift
        return x


def vae_segments(melodies: list[Melody], hop_bars: int) -> np.ndarray:
    from wavesmith.music.vae import SEGMENT_STEPS, melody_segments

    parts = [melody_segments(m, hop_bars=hop_bars) for m in melodies
             if SEGMENT_STEPS % m.steps_per_bar == 0]
    return np.concatenate(parts)


def make_vae_loss(total_steps: int) -> Any:
    """``loss(model, batch)``: per-step cross-entropy + beta * max(KL - free bits, 0) / 32;
    beta rises from 0 to VAE_BETA over the first VAE_ANNEAL of training (the validation
    pass always uses VAE_BETA, so validation losses are comparable across epochs)."""
    step = [0]

    def loss(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        logits, kl = model(x)
        if model.training:
            beta = VAE_BETA * min(1.0, step[0] / max(1.0, VAE_ANNEAL * total_steps))
            step[0] += 1
        else:
            beta = VAE_BETA
        rec = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1),
                              reduction="sum") / len(x)
        value = (rec + beta * torch.relu(kl - VAE_FREE_BITS).mean()) / x.shape[1]
        return value, len(x)

    return loss


def train_vae(args: argparse.Namespace) -> dict[str, Any]:
    from wavesmith.music.metrics import metric_distance
    from wavesmith.music.vae import MelodyVAE, MusicVAE, MusicVAEConfig

    mcfg = MusicVAEConfig(dropout=0.0)
    cfg = TrainConfig(name="vae_nottingham_2bar", model="music_vae", model_config=asdict(mcfg),
                      data="../shared/data/music/midi/nottingham", noise_dir=None, epochs=1,
                      batch_size=64, lr=2e-3, weight_decay=0.01, schedule="onecycle",
                      grad_clip_norm=1.0, patience=100, seed=0, threads=1,
                      out_dir=str(RUNS / ("vae" + ("-smoke" if LIMIT else ""))))
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    data = load_data()
    train_segs, val_segs = vae_segments(data["train"], 1), vae_segments(data["valid"], 2)
    test_segs = vae_segments(data["test"], 2)
    order = torch.Generator().manual_seed(cfg.seed)
    train_dl = torch.utils.data.DataLoader(SegmentDataset(train_segs, cfg.seed, True),
                                           batch_size=cfg.batch_size, shuffle=True,
                                           generator=order, drop_last=True)
    val_dl = torch.utils.data.DataLoader(SegmentDataset(val_segs, cfg.seed, False),
                                         batch_size=256)
    model = MusicVAE(mcfg)

    budget = args.minutes * 60.0
    epochs, step_s = epochs_for(budget, model, train_dl, make_vae_loss(1))
    cfg = TrainConfig(**{**asdict(cfg), "epochs": epochs})
    print(f"vae: {sum(p.numel() for p in model.parameters())} parameters, {len(train_segs)} "
          f"segments, {step_s:.2f} s/step -> {epochs} epochs", flush=True)
    model = MusicVAE(mcfg)
    t0, c0 = time.monotonic(), time.process_time()
    best, history = fit(model, train_dl, val_dl, make_vae_loss(epochs * len(train_dl)), cfg,
                        max_seconds=1.1 * budget, clock=time.process_time,
                        progress=lambda d, n, r: print(f"epoch {d}/{n} {r}", flush=True))
    train_s, train_cpu_s = time.monotonic() - t0, time.process_time() - c0
    model.load_state_dict(best)
    vae = MelodyVAE(model)
    metrics: dict[str, Any] = {"test": vae.accuracy(test_segs), "valid": vae.accuracy(val_segs)}
    reference = [m.crop(16) for m in data["test"]
                 if m.steps_per_bar == 16 and m.steps >= 16 * 16]
    t1 = time.monotonic()
    gen = [vae.sample(bars=16, seed=i) for i in range(len(reference))]
    metrics.update({
        "seconds_per_16_bars": round((time.monotonic() - t1) / len(reference), 3),
        "distances_16_bars_4_4": {"vae": metric_distance(gen, reference),
                                  "pieces": len(reference)},
        "train_wall_seconds": round(train_s, 1),
                    "train_cpu_seconds": round(train_cpu_s, 1), "epochs_run": len(history),
        "best_val_loss": min(h["val_loss"] for h in history),
        "parameters": sum(p.numel() for p in model.parameters())})
    card = {"config": {"model": asdict(mcfg), "train": asdict(cfg),
                       "free_bits_nats": VAE_FREE_BITS, "beta": VAE_BETA,
                       "anneal_fraction": VAE_ANNEAL, "transpose_semitones": TRANSPOSE_SEMITONES,
                       "segments": "32 steps from each bar line (train), every 2 bars "
                                   "(valid/test); 4/4, 2/4, 2/2 tunes; >= 1 onset"},
            "data": {"description": DATA_NOTE, "split": SPLIT_NOTE,
                     "segments": {"train": len(train_segs), "valid": len(val_segs),
                                  "test": len(test_segs)}},
            "metrics": metrics, "history": history,
            "built_by": f"python scripts/train_music.py vae --minutes {args.minutes:g} --ship"}
    return finish(args, "vae_nottingham_2bar", "music_vae", asdict(mcfg), best, card)


# -- GAN ------------------------------------------------------------------------------------------
# The GAN loop is written out here rather than run through ``fit``: a GAN needs two
# optimisers stepped in alternation on two losses, and model selection by sample quality
# (the critic's loss says nothing about it). Bending the single-loss trainer to that would
# add GAN-only branches to code every other model uses; the loop below reuses its seeding
# (``seed_everything``), its config record (``TrainConfig``, for the card) and its CPU-time
# budget convention.
GAN_LR_G = 1e-4          # Adam peak learning rate of the generator (cosine decay to 0)
GAN_LR_D = 4e-4          # ... of the critic (two-timescale update rule)
GAN_EMA = 0.999          # decay of the generator weight average (the shipped generator)
GAN_EVAL_EVERY = 250     # generator steps between validation metric checks


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


def crops_16(melodies: list[Melody]) -> list[Melody]:
    """The first 16 bars of every 4/4 tune at least that long (the distance references)."""
    return [m.crop(16) for m in melodies if m.steps_per_bar == 16 and m.steps >= 16 * 16]


def train_gan(args: argparse.Namespace) -> dict[str, Any]:
    import copy

    from wavesmith.music.baseline import load_model, sample_melody, sample_random
    from wavesmith.music.gan import (
        BarDiscriminator,
        BarGenerator,
        MelodyGAN,
        MelodyGANConfig,
        roll_input,
    )
    from wavesmith.music.metrics import metric_distance

    mcfg = MelodyGANConfig()
    cfg = TrainConfig(name="gan_nottingham", model="music_gan", model_config=asdict(mcfg),
                      data="../shared/data/music/midi/nottingham", noise_dir=None, epochs=1,
                      batch_size=32, lr=GAN_LR_G, weight_decay=0.0, schedule="cosine",
                      label_smoothing=0.0, grad_clip_norm=0.0, patience=0, seed=0,
                      threads=1, max_train_cpu_s=args.minutes * 60.0, tensorboard=False,
                      out_dir=str(RUNS / ("gan" + ("-smoke" if LIMIT else ""))))
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    data = load_data()
    cls, ons = (torch.from_numpy(a) for a in gan_phrases(data["train"], 1))
    valid_ref, test_ref = crops_16(data["valid"]), crops_16(data["test"])
    print(f"gan: {len(cls)} train phrases, {len(valid_ref)} valid / {len(test_ref)} test "
          "16-bar crops", flush=True)
    pick = torch.Generator().manual_seed(cfg.seed)

    def batch() -> torch.Tensor:
        idx = torch.randint(len(cls), (cfg.batch_size,), generator=pick)
        return roll_input(cls[idx], ons[idx])

    def latents(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(n, mcfg.z_phrase), torch.randn(n, mcfg.z_temporal)

    def make() -> tuple[Any, ...]:
        gen, critic = BarGenerator(mcfg), BarDiscriminator(mcfg)
        opt_g = torch.optim.Adam(gen.parameters(), lr=GAN_LR_G, betas=(0.0, 0.9))
        opt_d = torch.optim.Adam(critic.parameters(), lr=GAN_LR_D, betas=(0.0, 0.9))
        return gen, critic, opt_g, opt_d

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

    budget = args.minutes * 60.0
    gen, critic, opt_g, opt_d = make()
    print(f"gan: G {sum(p.numel() for p in gen.parameters())} / D "
          f"{sum(p.numel() for p in critic.parameters())} parameters", flush=True)
    ema = copy.deepcopy(gen).eval()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    history: list[dict[str, Any]] = []
    best, best_state, best_step, sums = math.inf, None, 0, {}
    wall0, c0 = time.monotonic(), time.process_time()
    it, spent = 0, 0.0
    with (out / "log.jsonl").open("w") as log:
        while spent < budget:
            # cosine decay over the CPU-time budget (not over a step count fixed in advance)
            scale = 0.5 * (1.0 + math.cos(math.pi * spent / budget))
            for opt, lr in ((opt_g, GAN_LR_G), (opt_d, GAN_LR_D)):
                opt.param_groups[0]["lr"] = lr * scale
            for k, v in step(gen, critic, opt_g, opt_d).items():
                sums[k] = sums.get(k, 0.0) + v
            it += 1
            decay = min(GAN_EMA, (1 + it) / (10 + it))
            with torch.no_grad():
                for pe, p in zip(ema.parameters(), gen.parameters(), strict=True):
                    pe.lerp_(p, 1.0 - decay)
            spent = time.process_time() - c0
            if it % GAN_EVAL_EVERY and spent < budget:
                continue
            dist = valid_distance(ema)
            n = it - (history[-1]["step"] if history else 0)
            row = {"step": it, **{k: round(v / n, 4) for k, v in sums.items()},
                   "valid_distance": round(dist, 4), "lr_generator": GAN_LR_G * scale,
                   "cpu_seconds": round(time.process_time() - c0, 1)}
            sums = {}
            history.append(row)
            log.write(json.dumps(row) + "\n")
            log.flush()
            print(json.dumps(row), flush=True)
            if dist < best:
                best, best_step = dist, it
                best_state = {k: v.detach().clone() for k, v in ema.state_dict().items()}
            spent = time.process_time() - c0
    train_s, train_cpu_s = time.monotonic() - wall0, time.process_time() - c0
    if best_state is None:
        raise RuntimeError("the validation distance was never finite; nothing to keep")
    ema.load_state_dict(best_state)
    gan = MelodyGAN(ema)
    t1 = time.monotonic()
    gen_test = [gan.sample(bars=16, seed=i) for i in range(len(test_ref))]
    sample_s = (time.monotonic() - t1) / len(test_ref)
    markov = load_model()
    base = [sample_melody(markov, bars=16, seed=i, steps_per_bar=16)
            for i in range(len(test_ref))]
    rnd = [sample_random(sorted(markov.unigram), bars=16, seed=i, steps_per_bar=16)
           for i in range(len(test_ref))]
    metrics = {
        "distances_16_bars_4_4": {
            "gan": metric_distance(gen_test, test_ref),
            f"markov-{markov.order}": metric_distance(base, test_ref),
            "uniform-random": metric_distance(rnd, test_ref),
            "real-valid": metric_distance(valid_ref, test_ref),
            "pieces": len(test_ref), "seeds": f"0..{len(test_ref) - 1}",
            "temperature": 1.0},
        "seconds_per_16_bars": round(sample_s, 4),
        "best_valid_distance": round(best, 4), "best_generator_step": best_step,
        "generator_steps_run": history[-1]["step"], "train_wall_seconds": round(train_s, 1),
        "train_cpu_seconds": round(train_cpu_s, 1), "train_phrases": len(cls),
        "parameters": {"generator": sum(p.numel() for p in gen.parameters()),
                       "discriminator": sum(p.numel() for p in critic.parameters())}}
    card = {"config": {"model": asdict(mcfg), "train": asdict(cfg),
                       "gan": {"loss": "hinge, spectral norm on every critic layer",
                               "critic_steps": 1, "lr_generator": GAN_LR_G,
                               "lr_critic": GAN_LR_D, "ema_decay": GAN_EMA,
                               "adam_betas": [0.0, 0.9], "gradient_clipping": None,
                               "eval_every": GAN_EVAL_EVERY,
                               "selection": "lowest mean metric distance of 16-bar samples "
                                            "to the valid split's 16-bar 4/4 crops"},
                       "phrases": "4 bars (64 steps) from every bar line of 4/4, 2/2 and "
                                  "2/4 tunes, key-normalised to C major / A minor, pitches "
                                  "MIDI 48..95, >= 1 onset"},
            "data": {"description": DATA_NOTE, "split": SPLIT_NOTE,
                     "pieces": {k: len(v) for k, v in data.items()},
                     "train_phrases": len(cls)},
            "metrics": metrics, "history": history,
            "built_by": f"python scripts/train_music.py gan --minutes {args.minutes:g} --ship"}
    return finish(args, "gan_nottingham", "music_gan", asdict(mcfg), best_state, card)


# -- harmony ------------------------------------------------------------------------------------
def load_chord_pairs() -> dict[str, list[tuple[Melody, np.ndarray]]]:
    """``(melody, per-bar chord indices)`` per split, from the accompaniment tracks; cached
    in ``runs/music/chords.pkl``."""
    from wavesmith.music.dataset import nottingham_files
    from wavesmith.music.harmonize import chord_labels
    from wavesmith.music.midi import load_midi, melody_from_midi, split_pieces

    cache = RUNS / "chords.pkl"
    if cache.is_file():
        data = pickle.loads(cache.read_bytes())
    else:
        data = {}
        for split, paths in split_pieces(nottingham_files()).items():
            pairs = []
            for p in paths:
                pm = load_midi(p)
                mel = melody_from_midi(pm, name=p.stem)
                try:
                    pairs.append((mel, chord_labels(pm, mel, name=p.stem)))
                except ValueError:
                    print(f"skipped {p.name}: no accompaniment", flush=True)
            data[split] = pairs
        RUNS.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(data))
    return {k: v[:LIMIT] for k, v in data.items()}


def chord_scores(model: Any, pairs: list[tuple[Melody, np.ndarray]], **kw: Any
                 ) -> dict[str, float]:
    """Per-bar accuracy of chord symbols and of roots (``N`` counts as its own root)."""
    from wavesmith.music.harmonize import CHORDS

    hit = root_hit = n = 0
    for mel, ref in pairs:
        pred = model(mel, **kw) if callable(model) else model.decode(mel, **kw)
        for p, r in zip(pred, ref.tolist(), strict=True):
            ps, rs = CHORDS.index(p), r
            hit += ps == rs
            root_hit += (ps - 1) // 4 == (rs - 1) // 4 if ps and rs else ps == rs
            n += 1
    return {"accuracy": round(hit / n, 4), "root_accuracy": round(root_hit / n, 4), "bars": n}


def train_harmony(args: argparse.Namespace) -> dict[str, Any]:
    from wavesmith import __version__
    from wavesmith.music.harmonize import CHORDS, HarmonyModel, estimate_key

    t0 = time.monotonic()
    data = load_chord_pairs()
    model = HarmonyModel().fit(data["train"])
    grid = [(w, k) for w in (0.05, 0.1, 0.2, 0.3, 0.5, 1.0) for k in (5.0, 20.0, 80.0)]
    tuning = []
    for w, k in grid:
        model.emission_weight, model.backoff_k = w, k
        tuning.append((chord_scores(model, data["valid"])["accuracy"], w, k))
    _, model.emission_weight, model.backoff_k = max(tuning)

    def tonic_triad(mel: Melody) -> list[str]:
        tonic, mode = estimate_key(mel)
        return [CHORDS[1 + tonic * 4 + (0 if mode == "major" else 1)]] * \
            math.ceil(mel.steps / mel.steps_per_bar)

    train_counts = np.bincount(np.concatenate([c for _, c in data["train"]]),
                               minlength=len(CHORDS))
    metrics = {
        "test": {"hmm": chord_scores(model, data["test"]),
                 "hmm_no_transitions": chord_scores(model, data["test"],
                                                    use_transitions=False),
                 "tonic_triad": chord_scores(tonic_triad, data["test"])},
        "valid_tuning": [{"accuracy": a, "emission_weight": w, "backoff_k": k}
                         for a, w, k in tuning],
        "test_pieces": len(data["test"]), "seconds": round(time.monotonic() - t0, 1)}
    model.provenance = {
        "data": {"description": DATA_NOTE + "; chords = accompaniment track, nearest of 48 "
                 "templates per 16th step, most frequent per bar", "split": SPLIT_NOTE,
                 "pieces": {k: len(v) for k, v in data.items()},
                 "train_label_counts": {CHORDS[i]: int(c) for i, c in enumerate(train_counts)
                                        if c}},
        "metrics": metrics, "built_by": "python scripts/train_music.py harmony --ship",
        "versions": {"wavesmith": __version__}}
    out = RUNS / ("harmony" + ("-smoke" if LIMIT else ""))
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "harmony_nottingham.json")
    if args.ship:
        model.save(SHIP_DIR / "harmony_nottingham.json")
    print(json.dumps(metrics, indent=2), flush=True)
    return model.provenance


# -- attribute vectors (style transfer) ------------------------------------------------------
def build_attributes(args: argparse.Namespace) -> dict[str, Any]:
    """Attribute vectors of the VAE (``runs/music/vae`` weights, or the shipped ones with
    ``--ship``) from the training split, and their effect on held-out test tunes."""
    from wavesmith.music.transfer import (
        AttributeVectors,
        attribute_vectors,
        evaluate_transfer,
    )
    from wavesmith.music.vae import SHIPPED_VAE, load_vae
    from wavesmith.music.weights import read_card

    torch.set_num_threads(1)
    weights = SHIPPED_VAE if args.ship else RUNS / "vae" / "vae_nottingham_2bar.pt"
    vae, sha = load_vae(weights), read_card(weights)["sha256"]
    data = load_data()
    t0 = time.monotonic()
    vectors, stats = attribute_vectors(vae, data["train"])
    vecs = AttributeVectors(vectors, sha, {})
    metrics = evaluate_transfer(vae, data["test"], vecs)
    doc = {"format": 1, "vae_sha256": sha, "vae_weights": weights.name,
           "vectors": {k: [round(float(x), 6) for x in v] for k, v in vectors.items()},
           "provenance": {"data": DATA_NOTE, "split": SPLIT_NOTE + "; vectors from train",
                          **stats},
           "metrics": {"test": metrics, "seconds": round(time.monotonic() - t0, 1)},
           "built_by": "python scripts/train_music.py attributes"
                       + (" --ship" if args.ship else "")}
    from wavesmith.io import write_text_atomic

    out = RUNS / "vae" / "vae_attributes.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, json.dumps(doc, indent=1) + "\n")
    if args.ship:
        write_text_atomic(SHIP_DIR / "vae_attributes.json", json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc["metrics"], indent=2), flush=True)
    return doc


def finish(args: argparse.Namespace, name: str, model_name: str, model_config: dict[str, Any],
           state: dict[str, torch.Tensor], card: dict[str, Any]) -> dict[str, Any]:
    from wavesmith import __version__
    from wavesmith.music.weights import save_weights

    card["versions"] = {"wavesmith": __version__, "torch": str(torch.__version__)}
    out = RUNS / (name.split("_")[0] + ("-smoke" if LIMIT else ""))
    out.mkdir(parents=True, exist_ok=True)
    save_weights(out / f"{name}.pt", model_name, model_config, state, card)
    if args.ship:
        save_weights(SHIP_DIR / f"{name}.pt", model_name, model_config, state, card)
    print(json.dumps(card["metrics"], indent=2), flush=True)
    return card


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=["transformer", "vae", "gan", "harmony", "attributes"])
    ap.add_argument("--minutes", type=float, default=25.0,
                    help="training budget: CPU minutes of this (1-thread) process")
    ap.add_argument("--ship", action="store_true", help="write weights + card to the package")
    ap.add_argument("--limit", type=int, help="pieces per split (smoke runs; never ship)")
    args = ap.parse_args()
    global LIMIT
    LIMIT = args.limit
    if args.limit is not None and args.ship:
        ap.error("--limit runs are not shipped")
    {"transformer": train_transformer, "vae": train_vae, "gan": train_gan,
     "harmony": train_harmony, "attributes": build_attributes}[args.model](args)


if __name__ == "__main__":
    main()
