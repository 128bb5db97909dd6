"""Train and evaluate the 16-bar hierarchical melody VAE (:mod:`wavesmith.music.vae16`).

``wavesmith train run configs/music/vae16.yaml`` (kind ``music_vae16``): 256-step windows of
the 4/4, 2/4 and 2/2 Nottingham tunes, split by piece, one from every ``hop_bars`` bars of
the train tunes and every :data:`EVAL_HOP_BARS` bars of the valid and test tunes, each
training window transposed by a random -3..+3 semitones; the loss of the 2-bar model
(cross-entropy + ``beta * max(KL - free_bits, 0)``, ``beta`` annealed from 0) through the
shared loop (:func:`wavesmith.learn.trainer.fit`). Entry point:
:func:`wavesmith.music.train.train_music`.

With ``init_from`` (a 2-bar VAE's weights, :func:`init_from_2bar`) the token embedding,
the encoder's BiLSTM and the bar decoder start from the 2-bar model's; the conductor and the
layers into and out of ``z`` start fresh.

With ``code_epochs`` (model ``encoder="segments"``, ``unit_bars=2``: the shipped model) a
code stage comes first. Each window's eight 2-bar segments are read by the 2-bar encoder
(copied, kept as it is) into their posteriors ``N(mu, var)``, once per transposition
(:func:`code_table`), and ``z``'s layers and the conductor learn to carry those codes
through ``z`` (:func:`make_code_loss`: Gaussian NLL of the conducted codes under the 2-bar
posteriors, plus the KL term with ``code_beta``). The unit decoder is the 2-bar decoder, so
conducted codes near the 2-bar codes decode as the 2-bar model decodes. This stage is fast
(a step touches no LSTM) and does not overfit the way the token-level stage does on 4 664
overlapping windows. ``end_to_end`` then trains everything on tokens for the CPU budget
left (off for the shipped model).
After training, the sampling distribution of ``z`` is fitted to the posteriors of the
train windows
(:meth:`~wavesmith.music.vae16.HierarchicalVAE.fit_sampling_prior`).

:func:`evaluate_vae16` measures on the held-out test tunes, in one run:

1. Reconstruction: per-step token accuracy of greedy decoding from the latent mean, for the
   16-bar model and for the shipped 2-bar model applied to the same windows cut into eight
   32-step segments (one 64-d latent per 2 bars, 512 latent dimensions per window).
2. Samples: metric distances (:func:`wavesmith.music.metrics.metric_distance`) of one
   16-bar sample per real 16-bar 4/4 test crop (seed ``i``; ``z`` from the fitted Gaussian,
   and from N(0, I)), next to the shipped Markov table, the 2-bar VAE, uniform-random tokens
   and the real valid crops.
3. Interpolation: pairs of held-out 4/4 tunes (first 16 bars), :data:`INTERP_STEPS` latent
   interpolation points each, against data-space interpolation (each step's token taken from
   B with probability ``alpha``, else from A): token distance to the start along the path,
   largest jump between neighbours, Markov NLL per token, and metric distance of the
   midpoints to the real test crops.
4. A spot check: per-window numbers of the first :data:`SPOT_CHECK_WINDOWS` test windows,
   which the tests recompute from the shipped weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wavesmith.errors import AudioValueError
from wavesmith.learn.trainer import fit, seed_everything
from wavesmith.music.evaluate import crops_16
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
    save_run,
    too_small,
)
from wavesmith.music.train_melody import BUDGET_OVERRUN, SegmentDataset, make_vae_loss
from wavesmith.music.vae import SEGMENT_STEPS, kl_nats
from wavesmith.music.vae16 import (
    BAR_STEPS,
    WINDOW_STEPS,
    HierarchicalVAE,
    MelodyVAE16,
    MusicVAE16Config,
    melody_windows,
)

__all__ = ["choose_latent_temperature", "code_table", "evaluate_vae16", "init_from_2bar",
           "interpolation_study", "make_code_loss", "spot_check", "train_vae16", "windows_of"]

EVAL_HOP_BARS = 4          # bars between the starts of valid / test windows
VAL_BATCH = 128            # windows per validation batch
INTERP_STEPS = 7           # points per interpolation path, ends included (alpha 0, 1/6 .. 1)
SPOT_CHECK_WINDOWS = 8     # first test windows whose numbers the card keeps one by one
LATENT_TEMPERATURES = (1.0, 0.8, 0.6, 0.4)   # spreads of z tried on the valid split
# (16-bar module, 2-bar module) pairs copied by init_from_2bar
_SHARED = (("embed", "embed"), ("encoder", "encoder"), ("decoder", "decoder"),
           ("head", "head"), ("bar_init", "to_state"))
_SHARED_SEGMENTS = (("segment_latent", "to_latent"),)   # encoder="segments" also


def windows_of(melodies: list[Melody], hop_bars: int
               ) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """``(windows, index)``: the 256-step windows ``(n, 256)`` of the tunes whose bar divides
    16 steps, one every ``hop_bars`` bars, and each window's ``(tune name, start step)``."""
    parts, index = [], []
    for m in melodies:
        if BAR_STEPS % m.steps_per_bar:
            continue
        hop = hop_bars * m.steps_per_bar
        for a in range(0, m.steps - WINDOW_STEPS + 1, hop):
            w = melody_windows(m.with_tokens(m.tokens[a:a + WINDOW_STEPS]))
            if len(w):
                parts.append(w)
                index.append((m.name, a))
    if not parts:
        return np.zeros((0, WINDOW_STEPS), np.int64), []
    return np.concatenate(parts), index


def make_code_loss(total_steps: int, *, beta: float, free_bits_nats: float,
                   anneal_fraction: float) -> Any:
    """``loss(model, (mu, var))`` of the code stage (``encoder="segments"``): the window's
    segment codes are drawn from the 2-bar posteriors ``N(mu, var)`` (each
    ``(batch, n_units, bar_embed)``), encoded to ``z`` (reparameterised), conducted back to
    unit codes and scored by their Gaussian NLL under those posteriors, plus
    ``beta * max(KL - free bits, 0)``; per 16th-note step (nats / 256), beta annealed from 0
    over ``anneal_fraction`` of ``total_steps`` (validation: final beta, codes = mu).

    The posterior variance is the right yardstick: the 2-bar decoder ignores dimensions whose
    posterior is wide and reacts to those it pins down (std ~0.1), so an error there is what
    changes the decoded tokens.
    """
    step = [0]

    def loss(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]
             ) -> tuple[torch.Tensor, int]:
        mu2, var2 = batch
        if model.training:
            b = beta * min(1.0, step[0] / max(1.0, anneal_fraction * total_steps))
            step[0] += 1
            mu, log_var = model.latent_of_codes(mu2 + torch.randn_like(mu2) * var2.sqrt())
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        else:
            b = beta
            mu, log_var = model.latent_of_codes(mu2)
            z = mu
        kl = kl_nats(mu, log_var)
        rec = (0.5 * (model.conduct(z) - mu2).pow(2) / var2).sum((1, 2))
        return (rec + b * torch.relu(kl - free_bits_nats)).mean() / WINDOW_STEPS, len(mu2)

    return loss


@torch.no_grad()
def code_table(model: HierarchicalVAE, windows: np.ndarray, shifts: range | tuple[int, ...]
               = (0,), *, batch: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mu, var)`` of the segment codes ``(n, n_units, bar_embed)`` of ``windows``, each
    transposed by every semitone shift in ``shifts`` that keeps its pitches in MIDI 0..127
    (the code stage's data and augmentation, computed once)."""
    mus, variances = [], []
    for shift in shifts:
        x = windows.copy()
        on = x >= 2
        keep = np.array([not o.any() or 2 <= int(w[o].min()) + shift <= int(w[o].max())
                         + shift <= 129 for w, o in zip(x, on, strict=True)], bool)
        x[on] += shift
        x = torch.from_numpy(x[keep])
        for a in range(0, len(x), batch):
            mu, log_var = model.segment_codes(x[a:a + batch])
            mus.append(mu)
            variances.append(log_var.exp())
    return torch.cat(mus), torch.cat(variances)


def init_from_2bar(model: HierarchicalVAE, path: str) -> dict[str, Any]:
    """Copy a 2-bar VAE's token embedding, encoder BiLSTM, decoder LSTM, output layer and
    code → decoder-state layer into ``model``'s embedding, encoder, bar decoder, head and
    ``bar_init``: the bar decoder starts out reading a 64-d code per bar as the 2-bar
    decoder reads one per 2 bars. Returns the provenance for the card.

    Raises
    ------
    AudioValueError
        If the 2-bar layers do not fit ``model``'s sizes.
    ModelNotFoundError, ModelError
        If the weights are missing or corrupt.
    """
    from wavesmith.music.vae import load_vae

    two = load_vae(path)
    pairs = _SHARED + (_SHARED_SEGMENTS if model.config.encoder == "segments" else ())
    try:
        for ours, theirs in pairs:
            getattr(model, ours).load_state_dict(getattr(two.model, theirs).state_dict())
    except RuntimeError as exc:
        sizes = two.model.config
        raise AudioValueError(
            f"init_from {path}: the 2-bar VAE's layers do not fit model_config; use embed "
            f"{sizes.embed}, enc_hidden {sizes.enc_hidden}, bar_embed {sizes.latent}, "
            f"dec_hidden {sizes.dec_hidden}, dec_layers {sizes.dec_layers}, or drop "
            "init_from") from exc
    return {"weights": Path(path).name, "sha256": two.card.get("sha256"),
            "copied": [f"{theirs} -> {ours}" for ours, theirs in pairs]}


def spot_check(vae: MelodyVAE16, windows: np.ndarray, index: list[tuple[str, int]],
               n: int = SPOT_CHECK_WINDOWS) -> list[dict[str, Any]]:
    """Per-window accuracy, NLL and KL of the first ``n`` windows, with tune and start."""
    rows = []
    for w, (name, start) in zip(windows[:n], index[:n], strict=True):
        acc = vae.accuracy(w[None])
        rows.append({"tune": name, "start_step": start,
                     **{k: round(acc[k], 6) for k in ("accuracy_free",
                                                     "accuracy_teacher_forced",
                                                     "nll_per_step", "kl_nats")}})
    return rows


def interpolation_study(vae: MelodyVAE16, tunes: list[Melody], reference: list[Melody], *,
                        markov: Any, steps: int = INTERP_STEPS, seed: int = 0
                        ) -> dict[str, Any]:
    """Latent vs data-space interpolation between ``tunes[0]`` and ``tunes[1]``,
    ``tunes[2]`` and ``tunes[3]``, ... (4/4, first 16 bars); see the module docstring.

    Per ``alpha`` (lists of ``steps`` values, means over pairs): ``hamming_to_start`` (share
    of the 256 steps whose token differs from the path's first melody) and
    ``markov_nll_per_token``; per path: ``max_jump`` (largest share of tokens changed between
    neighbouring points, divided by the share changed from end to end) and ``monotone``
    (the distance to the start never falls); ``midpoint_distance``: metric distance of the
    melodies at alpha 0.5 to ``reference``.
    """
    from wavesmith.music.metrics import metric_distance

    rng = np.random.default_rng(seed)
    alphas = [i / (steps - 1) for i in range(steps)]
    paths: dict[str, list[np.ndarray]] = {"latent": [], "data": []}
    like = []
    for a, b in zip(tunes[0::2], tunes[1::2], strict=False):
        paths["latent"].append(np.stack([p.tokens for p in vae.interpolate(a, b, steps)]))
        ta, tb = a.tokens[:WINDOW_STEPS], b.tokens[:WINDOW_STEPS]
        paths["data"].append(np.stack([np.where(rng.random(WINDOW_STEPS) < t, tb, ta)
                                       for t in alphas]))
        like.append(a)
    out: dict[str, Any] = {"pairs": len(like), "steps": steps,
                           "alpha": [round(t, 4) for t in alphas]}
    for kind, ps in paths.items():
        toks = np.stack(ps)                                   # (pairs, steps, 256)
        to_start = (toks != toks[:, :1]).mean(-1)             # (pairs, steps)
        span = np.maximum(to_start[:, -1], 1.0 / WINDOW_STEPS)
        jumps = (toks[:, 1:] != toks[:, :-1]).mean(-1).max(-1) / span
        mels = [[a.with_tokens(t) for a, t in zip(like, toks[:, i], strict=True)]
                for i in range(steps)]
        out[kind] = {
            "hamming_to_start": [round(float(v), 4) for v in to_start.mean(0)],
            "max_jump": round(float(jumps.mean()), 4),
            "monotone": round(float((np.diff(to_start, axis=1) >= 0).all(1).mean()), 4),
            "markov_nll_per_token": [round(markov.perplexity(m)[0], 4) for m in mels],
            "midpoint_distance": metric_distance(mels[steps // 2], reference)}
    out["endpoint_distance"] = metric_distance(
        [a.with_tokens(t) for a, t in zip(like, np.stack(paths["latent"])[:, 0], strict=True)],
        reference)
    return out


def choose_latent_temperature(vae: MelodyVAE16, reference: list[Melody],
                              candidates: tuple[float, ...] = LATENT_TEMPERATURES
                              ) -> dict[str, float]:
    """Set ``vae``'s ``z_temperature`` to the candidate whose 16-bar samples (seed ``i``
    for the ``i``-th crop) are closest to the real ``reference`` crops (the valid split's)
    by mean metric distance; returns each candidate's distance."""
    from wavesmith.music.metrics import metric_distance

    sweep = {}
    for t in candidates:
        gen = [vae.sample(bars=16, seed=i, latent_temperature=t) for i in range(len(reference))]
        sweep[f"{t:g}"] = round(metric_distance(gen, reference)["mean"], 4)
    best = min(candidates, key=lambda t: sweep[f"{t:g}"])
    vae.model.z_temperature.fill_(best)
    return sweep


def evaluate_vae16(vae: MelodyVAE16, data: dict[str, list[Melody]], *,
                   log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Score the 16-bar VAE on ``data["test"]`` against the shipped 2-bar VAE and Markov
    table (protocol in the module docstring)."""
    from wavesmith.music.baseline import load_model
    from wavesmith.music.evaluate import baseline_distances
    from wavesmith.music.metrics import metric_distance
    from wavesmith.music.vae import SHIPPED_VAE, load_vae

    say = log if log is not None else (lambda line: None)
    test_w, test_index = windows_of(data["test"], EVAL_HOP_BARS)
    val_w, _ = windows_of(data["valid"], EVAL_HOP_BARS)
    two = load_vae()
    say(f"reconstruction of {len(test_w)} test / {len(val_w)} valid windows")
    metrics: dict[str, Any] = {
        "test": vae.accuracy(test_w), "valid": vae.accuracy(val_w),
        "test_2bar_model": {**two.accuracy(test_w.reshape(-1, SEGMENT_STEPS)),
                            "weights": SHIPPED_VAE.name,
                            "latent_dims_per_window": WINDOW_STEPS // SEGMENT_STEPS
                            * two.model.config.latent},
        "spot_check": spot_check(vae, test_w, test_index)}
    reference, valid_ref = crops_16(data["test"]), crops_16(data["valid"])
    if not reference:       # smoke runs (limit) may hold no 16-bar 4/4 test tune
        return metrics
    say(f"samples and interpolation against {len(reference)} real 16-bar crops")
    n = len(reference)
    t0 = time.monotonic()
    gen = [vae.sample(bars=16, seed=i) for i in range(n)]
    metrics["seconds_per_16_bars"] = round((time.monotonic() - t0) / n, 3)
    markov = load_model()
    distances = {
        "vae16": metric_distance(gen, reference),
        "vae16-latent-t1": metric_distance([vae.sample(bars=16, seed=i, latent_temperature=1.0)
                                            for i in range(n)], reference),
        "vae16-t0.5": metric_distance([vae.sample(bars=16, seed=i, temperature=0.5)
                                       for i in range(n)], reference),
        "vae16-standard-prior": metric_distance(
            [vae.sample(bars=16, seed=i, standard_prior=True) for i in range(n)], reference),
        "vae-2bar": metric_distance([two.sample(bars=16, seed=i) for i in range(n)],
                                    reference),
        **baseline_distances(reference, valid_ref)}
    metrics["distances_16_bars_4_4"] = {
        **distances, "pieces": n, "seeds": f"0..{n - 1}", "temperature": 1.0,
        "latent_temperature": float(vae.model.z_temperature)}
    tunes = [m for m in reference if len(melody_windows(m))]
    if len(tunes) >= 2:
        metrics["interpolation"] = interpolation_study(vae, tunes, reference, markov=markov)
    return metrics


def train_vae16(cfg: MusicTrainConfig, *, built_by: str,
                log: Callable[[str], None]) -> MusicTrainResult:
    """Train the 16-bar hierarchical melody VAE (see :mod:`wavesmith.music.train`)."""
    mcfg = build_config(MusicVAE16Config, cfg.model_config, cfg.name)
    if cfg.init_from:   # refuse weights that do not fit before any data is read
        init_from_2bar(HierarchicalVAE(mcfg), cfg.init_from)
    seed_everything(cfg.seed)
    data = load_melodies(cfg)
    train_w, _ = windows_of(data["train"], cfg.hop_bars)
    val_w, _ = windows_of(data["valid"], EVAL_HOP_BARS)
    test_w, _ = windows_of(data["test"], EVAL_HOP_BARS)
    if min(len(train_w), len(val_w), len(test_w)) == 0:
        raise too_small(cfg, f"{len(train_w)} train / {len(val_w)} valid / {len(test_w)} "
                        "test 16-bar windows")
    order = torch.Generator().manual_seed(cfg.seed)
    train_dl = torch.utils.data.DataLoader(
        SegmentDataset(train_w, cfg.seed, True, cfg.transpose_semitones),
        batch_size=cfg.batch_size, shuffle=True, generator=order, drop_last=True)
    val_dl = torch.utils.data.DataLoader(SegmentDataset(val_w, cfg.seed, False),
                                         batch_size=VAL_BATCH)
    if len(train_dl) == 0:
        raise too_small(cfg, f"{len(train_w)} train windows < batch_size {cfg.batch_size}")
    kl = {"beta": cfg.beta, "free_bits_nats": cfg.free_bits_nats,
          "anneal_fraction": cfg.anneal_fraction}
    budget = cfg.minutes * 60.0

    def progress(stage: str) -> Callable[[int, int, dict[str, Any]], None]:
        return lambda done, total, row: log(
            f"{stage} epoch {done}/{total}: train_loss {row['train_loss']:.4f} "
            f"val_loss {row['val_loss']:.4f} ({row['seconds']:.1f} s)")

    model = HierarchicalVAE(mcfg)
    init = init_from_2bar(model, cfg.init_from) if cfg.init_from else None
    log(f"vae16: {sum(p.numel() for p in model.parameters())} parameters, {len(train_w)} "
        "windows")
    t0, c0 = time.monotonic(), time.process_time()
    history: list[dict[str, Any]] = []
    code_history: list[dict[str, Any]] = []
    if cfg.code_epochs:
        log(f"code stage: segment codes of {len(train_w)} windows x "
            f"{2 * cfg.transpose_semitones + 1} transpositions")
        train_codes = code_table(model, train_w, range(-cfg.transpose_semitones,
                                                       cfg.transpose_semitones + 1))
        code_dl = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(*train_codes), batch_size=cfg.batch_size,
            shuffle=True, generator=order, drop_last=True)
        code_val = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(*code_table(model, val_w)), batch_size=VAL_BATCH)
        ccfg = replace(fit_config(cfg, asdict(mcfg), cfg.code_epochs),
                       out_dir=str(Path(cfg.out_dir) / "codes"))
        best, code_history = fit(
            model, code_dl, code_val,
            make_code_loss(cfg.code_epochs * len(code_dl), **{**kl, "beta": cfg.code_beta}),
            ccfg, max_seconds=BUDGET_OVERRUN * budget, clock=time.process_time,
            progress=progress("code"))
        model.load_state_dict(best)
    left = budget - (time.process_time() - c0)
    if cfg.end_to_end and left > 0:
        epochs, step_s = epochs_for(left, model, train_dl, make_vae_loss(1, **kl))
        epochs = cfg.epochs or epochs
        log(f"end-to-end stage: {step_s:.2f} s/step -> {epochs} epochs")
        model.load_state_dict(best if cfg.code_epochs else HierarchicalVAE(mcfg).state_dict())
        if init is not None and not cfg.code_epochs:   # fresh weights after the probe
            init_from_2bar(model, cfg.init_from)
        best, history = fit(model, train_dl, val_dl,
                            make_vae_loss(epochs * len(train_dl), **kl),
                            fit_config(cfg, asdict(mcfg), epochs),
                            max_seconds=BUDGET_OVERRUN * left, clock=time.process_time,
                            progress=progress("end-to-end"))
    train_s, train_cpu_s = time.monotonic() - t0, time.process_time() - c0
    model.load_state_dict(best)
    model.eval()
    prior_w, _ = windows_of(data["train"], EVAL_HOP_BARS)
    model.fit_sampling_prior(torch.from_numpy(prior_w))
    valid_crops = crops_16(data["valid"])
    sweep = choose_latent_temperature(MelodyVAE16(model), valid_crops) if valid_crops else {}
    log(f"latent temperature {float(model.z_temperature):g} (valid distances {sweep})")
    best = {k: v.detach().clone() for k, v in model.state_dict().items()}
    log("evaluating on the test split")
    metrics = evaluate_vae16(MelodyVAE16(model), data, log=log)
    metrics["latent_temperature_valid"] = sweep
    metrics.update({
        "train_wall_seconds": round(train_s, 1), "train_cpu_seconds": round(train_cpu_s, 1),
        "epochs_run": len(history) or len(code_history), "code_epochs_run": len(code_history),
        "best_val_loss": min(h["val_loss"] for h in history or code_history),
        "best_code_val_loss": min((h["val_loss"] for h in code_history), default=None),
        "parameters": sum(p.numel() for p in model.parameters())})
    card = {"config": {"model": asdict(mcfg), **kl, "train": asdict(fit_config(
                           cfg, asdict(mcfg), len(history) or len(code_history))),
                       "transpose_semitones": cfg.transpose_semitones, "init_from": init,
                       "code_epochs": cfg.code_epochs, "code_beta": cfg.code_beta,
                       "end_to_end": cfg.end_to_end,
                       "sampling_prior": f"full-covariance Gaussian fitted to the posteriors "
                                         f"of the {len(prior_w)} train windows every "
                                         f"{EVAL_HOP_BARS} bars",
                       "windows": f"256 steps (16 bars of 4/4) from a bar line every "
                                  f"{cfg.hop_bars} bars (train), every {EVAL_HOP_BARS} bars "
                                  "(valid/test); 4/4, 2/4, 2/2 tunes; >= 1 onset",
                       "music_train": describe(cfg)},
            "data": {**data_card(data),
                     "windows": {"train": len(train_w), "valid": len(val_w),
                                 "test": len(test_w)}},
            "metrics": metrics, "history": history, "code_history": code_history,
            "built_by": built_by}
    card_path, shipped = save_run(cfg, "music_vae16", asdict(mcfg), best, card)
    return result_of(cfg, card_path, shipped, card, train_cpu_s)
