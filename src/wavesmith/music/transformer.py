"""A small decoder-only Music Transformer over the 16th-note melody grid (nanoGPT-style).

Tokens are exactly the Markov baseline's (:mod:`wavesmith.music.baseline`): one per 16th
note, a pitch onset ``0..127``, ``NOTE_OFF`` or ``NO_EVENT`` (130 symbols), so held-out
perplexities of the two models are directly comparable. Input ``k`` is the token of step
``k - 1`` (``BOS`` for ``k = 0``) and predicts step ``k``; it is embedded as token + absolute
position in the window + the predicted step's position in the bar + the meter (steps per
bar), which gives the network the same metric context the Markov table conditions on.
Blocks are pre-LayerNorm causal self-attention + GELU MLP (Vaswani et al. 2017; Radford et
al. 2019); relative attention (Huang et al. 2018) is not used: learned absolute positions
over windows of :attr:`MusicTransformerConfig.block_size` steps plus the bar-position
embedding were enough here. Sampling uses a key/value cache; when the window is full the
cache is rebuilt from its last half.

The same network with ``tokens="remi"`` reads miditok REMI events instead
(:mod:`wavesmith.music.remi`, :class:`~wavesmith.music.remi.RemiTransformer`); the window
scoring (:func:`score_tokens`), the cached decoder (:class:`Decoder`) and the sampler
(:func:`pick`) are shared.

The shipped weights (``data/transformer_nottingham.pt`` and ``transformer_remi_nottingham.pt``
+ ``.json`` cards) are trained by ``wavesmith train run configs/music/transformer.yaml``
(``transformer_remi.yaml``) (:mod:`wavesmith.music.train_melody`) with
:func:`wavesmith.learn.trainer.fit`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from wavesmith.errors import AudioValueError, ModelError
from wavesmith.music.metrics import token_perplexity
from wavesmith.music.midi import DEFAULT_TEMPO_BPM, NO_EVENT, Melody
from wavesmith.music.weights import DATA_DIR, load_network, one_thread

__all__ = ["SHIPPED_REMI_TRANSFORMER", "SHIPPED_TRANSFORMER", "Decoder", "MelodyTransformer",
           "MusicTransformer", "MusicTransformerConfig", "check_generation", "encode_melody",
           "load_transformer", "nucleus", "pick", "score_tokens"]

N_GRID_TOKENS = 130            # -2 (NO_EVENT), -1 (NOTE_OFF), 0..127 (onsets)
BOS_ID = N_GRID_TOKENS         # input-only token before the first step
MAX_STEPS_PER_BAR = 64         # 16th notes; bar-position and meter embeddings cover 0..64
MAX_BARS = 1024                # longest generation, in bars
MAX_TEMPERATURE = 10.0
SHIPPED_TRANSFORMER = DATA_DIR / "transformer_nottingham.pt"
SHIPPED_REMI_TRANSFORMER = DATA_DIR / "transformer_remi_nottingham.pt"
MODEL_NAME = "music_transformer"
TOKENIZATIONS = ("grid", "remi")


@dataclass(frozen=True)
class MusicTransformerConfig:
    """Sizes of :class:`MusicTransformer`."""

    block_size: int = 256          # steps (16th notes) of context
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.1
    tokens: str = "grid"           # "grid" (130 melody-grid classes) or "remi" (miditok REMI)
    vocab_size: int = N_GRID_TOKENS  # output classes; the input table adds one BOS row

    def __post_init__(self) -> None:
        if self.tokens not in TOKENIZATIONS:
            raise TypeError(f"tokens={self.tokens!r} is not one of {TOKENIZATIONS}")
        if self.tokens == "grid" and self.vocab_size != N_GRID_TOKENS:
            raise TypeError(f"grid tokens have vocab_size {N_GRID_TOKENS}, not "
                            f"{self.vocab_size}")


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with an optional key/value cache (dropout only on
    the output projection)."""

    def __init__(self, cfg: MusicTransformerConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        b, t, c = x.shape
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
                   for z in self.qkv(x).split(c, dim=2))
        if cache is not None:  # one new step attends to everything before it
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        # no attention-weight dropout: it forces PyTorch's unfused CPU path (~1.5x slower)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None)
        return self.resid_drop(self.proj(y.transpose(1, 2).reshape(b, t, c))), (k, v)


class Block(nn.Module):
    """Pre-LayerNorm transformer block."""

    def __init__(self, cfg: MusicTransformerConfig) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.n_embd), nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(),
                                 nn.Linear(4 * cfg.n_embd, cfg.n_embd), nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        a, kv = self.attn(self.ln1(x), cache)
        x = x + a
        return x + self.mlp(self.ln2(x)), kv


class MusicTransformer(nn.Module):
    """Decoder-only transformer: inputs ``(batch, T)`` ids → logits ``(batch, T, vocab)``
    (130 grid classes, or the REMI vocabulary of :mod:`wavesmith.music.remi`)."""

    name = MODEL_NAME

    def __init__(self, config: MusicTransformerConfig) -> None:
        super().__init__()
        self.config = config
        d = config.n_embd
        self.tok = nn.Embedding(config.vocab_size + 1, d)   # + BOS
        self.pos = nn.Embedding(config.block_size, d)
        self.bar_pos = nn.Embedding(MAX_STEPS_PER_BAR, d)
        self.meter = nn.Embedding(MAX_STEPS_PER_BAR + 1, d)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.vocab_size, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear | nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, ids: torch.Tensor, bar_pos: torch.Tensor, meter: torch.Tensor, *,
                start: int = 0, cache: list[Any] | None = None
                ) -> tuple[torch.Tensor, list[Any]]:
        """Logits for the next step at every input.

        Parameters
        ----------
        ids : Tensor
            int64 ``(batch, T)``: grid token + 2 (or a REMI id), or the BOS id
            (``vocab_size``).
        bar_pos : Tensor
            int64 ``(batch, T)``: step within the bar (16th notes) of the *predicted* step
            (REMI: the bar position reached before the predicted token).
        meter : Tensor
            int64 ``(batch,)``: steps per bar.
        start : int
            Window position of ``ids[:, 0]`` (> 0 only with a cache).
        cache : list, optional
            Per-layer keys/values of the earlier inputs (then ``T`` must be 1).
        """
        t = ids.shape[1]
        if start + t > self.config.block_size:
            raise AudioValueError(f"{start + t} steps exceed the {self.config.block_size}-step "
                                  "context")
        pos = torch.arange(start, start + t, device=ids.device)
        x = (self.tok(ids) + self.pos(pos)[None] + self.bar_pos(bar_pos)
             + self.meter(meter.clamp(max=MAX_STEPS_PER_BAR))[:, None])
        x = self.drop(x)
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if cache is None else cache[i])
            new_cache.append(kv)
        return self.head(self.ln_f(x)), new_cache


def encode_melody(melody: Melody) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, targets, bar_pos)`` for a whole melody, each int64 ``(steps,)``.

    ``ids`` starts with :data:`BOS_ID`; ``targets[k]`` is the class (grid token + 2) of step
    ``k`` and ``bar_pos[k] = k % steps_per_bar``.
    """
    cls = melody.tokens.astype(np.int64) - NO_EVENT
    ids = np.concatenate([[BOS_ID], cls[:-1]]).astype(np.int64)
    return ids, cls, np.arange(melody.steps, dtype=np.int64) % melody.steps_per_bar


def check_generation(bars: int, temperature: float, top_k: int | None,
                     steps_per_bar: int, top_p: float | None = None) -> None:
    """Refuse sampling options out of range (one-line :class:`AudioValueError`)."""
    if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
        raise AudioValueError(f"bars={bars!r} must be an integer 1..{MAX_BARS}")
    if not (0 < temperature <= MAX_TEMPERATURE):
        raise AudioValueError(f"temperature={temperature} must be in (0, {MAX_TEMPERATURE}]")
    if top_k is not None and not 1 <= top_k <= N_GRID_TOKENS:
        raise AudioValueError(f"top_k={top_k} must be 1..{N_GRID_TOKENS}")
    if top_p is not None and not (0 < top_p <= 1):
        raise AudioValueError(f"top_p={top_p} must be in (0, 1]")
    if not 1 <= steps_per_bar <= MAX_STEPS_PER_BAR:
        raise AudioValueError(f"steps_per_bar={steps_per_bar} must be 1..{MAX_STEPS_PER_BAR}")


def nucleus(p: np.ndarray, top_p: float) -> np.ndarray:
    """Nucleus (top-p) filtering of the distribution ``p``: keep the most likely tokens until
    their mass reaches ``top_p`` (always at least one; ties broken by index) and renormalise.

    >>> nucleus(np.array([0.1, 0.6, 0.3]), 0.8).round(3).tolist()
    [0.0, 0.667, 0.333]
    """
    order = np.argsort(-p, kind="stable")
    mass = np.cumsum(p[order])
    keep = order[:int(np.searchsorted(mass, top_p)) + 1]
    out = np.zeros_like(p)
    out[keep] = p[keep]
    return out / out.sum()


def score_tokens(model: MusicTransformer, ids: np.ndarray, targets: np.ndarray,
                 bar_pos: np.ndarray, meter: int) -> float:
    """Total negative log-likelihood (nats) of ``targets`` given ``ids`` (one row per
    token, as :func:`encode_melody`). Sequences longer than the context are scored in windows
    overlapping by half; each token is scored once, with at least half a window of context."""
    ids_t, tgt, bpos = (torch.from_numpy(np.asarray(a, dtype=np.int64))
                        for a in (ids, targets, bar_pos))
    block, n = model.config.block_size, len(tgt)
    meter_t = torch.tensor([meter])
    total, done, s = 0.0, 0, 0
    with torch.no_grad():
        while done < n:
            e = min(s + block, n)
            logits, _ = model(ids_t[None, s:e], bpos[None, s:e], meter_t)
            logp = F.log_softmax(logits[0, done - s:].double(), -1)
            total -= float(logp.gather(1, tgt[done:e, None]).sum())
            done, s = e, e - block // 2 if e < n else e
    return total


class Decoder:
    """Feeds a :class:`MusicTransformer` its inputs incrementally through a key/value
    cache. :meth:`logits` gives the next-token logits after everything fed so far; when the
    window is full the cache is rebuilt from the last half of it.

    Parameters
    ----------
    model : MusicTransformer
        The network (in eval mode).
    meter : int
        Steps (16th notes) per bar.
    """

    def __init__(self, model: MusicTransformer, meter: int) -> None:
        self.model, self.block = model, model.config.block_size
        self.meter = torch.tensor([meter])
        self.ids: list[int] = []
        self.bpos: list[int] = []
        self.cache: list[Any] | None = None
        self.filled = self.pending = 0

    def feed(self, ids: list[int], bar_pos: list[int]) -> None:
        """Append inputs and the bar position (16ths) of the token each one predicts."""
        self.ids += ids
        self.bpos += bar_pos
        self.pending += len(ids)

    @torch.no_grad()
    def logits(self) -> np.ndarray:
        """float64 logits of the next token."""
        if self.cache is None or self.filled + self.pending > self.block:
            keep = min(len(self.ids), self.block if self.cache is None else self.block // 2)
            out, self.cache = self.model(torch.tensor([self.ids[-keep:]]),
                                         torch.tensor([self.bpos[-keep:]]), self.meter)
            self.filled = keep
        else:
            for k in range(len(self.ids) - self.pending, len(self.ids)):
                out, self.cache = self.model(torch.tensor([[self.ids[k]]]),
                                             torch.tensor([[self.bpos[k]]]), self.meter,
                                             start=self.filled, cache=self.cache)
                self.filled += 1
        self.pending = 0
        return out[0, -1].double().numpy()


def pick(logits: np.ndarray, temperature: float, top_k: int | None, top_p: float | None,
         rng: np.random.Generator, allowed: np.ndarray | None = None) -> int:
    """Draw one token id: ``logits / temperature``, then only the ``allowed`` ids (a boolean
    mask), then ``top_k``, then nucleus ``top_p``."""
    z = logits / temperature
    if allowed is not None:
        z = np.where(allowed, z, -np.inf)
    if top_k is not None and top_k < z.size:
        z[z < np.partition(z, -top_k)[-top_k]] = -np.inf
    p = np.exp(z - z.max())
    p /= p.sum()
    if top_p is not None and top_p < 1:
        p = nucleus(p, top_p)
    return int(rng.choice(z.size, p=p))


class MelodyTransformer:
    """A trained :class:`MusicTransformer` with scoring and sampling on melodies.

    Parameters
    ----------
    model : MusicTransformer
        The network (put in eval mode).
    card : dict
        The model card (metrics, config, data provenance).
    """

    tokens = "grid"

    def __init__(self, model: MusicTransformer, card: dict[str, Any] | None = None) -> None:
        self.model = model.eval()
        self.card = card or {}

    # -- scoring ------------------------------------------------------------------------------
    @one_thread
    @torch.no_grad()
    def nll(self, melody: Melody) -> tuple[float, int]:
        """Total negative log-likelihood (nats) of the melody's tokens, and the token count.

        Melodies longer than the context are scored in windows overlapping by half; each
        token is scored once, with at least half a window of context.
        """
        if melody.steps == 0:
            raise AudioValueError(f"{melody.name or 'melody'}: empty melody has no likelihood")
        if melody.steps_per_bar > MAX_STEPS_PER_BAR:
            raise AudioValueError(f"{melody.name or 'melody'}: {melody.steps_per_bar} steps "
                                  f"per bar is more than the model knows ({MAX_STEPS_PER_BAR})")
        return score_tokens(self.model, *encode_melody(melody), melody.steps_per_bar), melody.steps

    def perplexity(self, melodies: list[Melody]) -> tuple[float, float]:
        """``(nll_per_token, perplexity)`` in nats per 16th-note token, as the baseline's."""
        return token_perplexity(self, melodies)

    # -- sampling -----------------------------------------------------------------------------
    @one_thread
    @torch.no_grad()
    def _sample_steps(self, prefix: list[int], n_steps: int, steps_per_bar: int,
                      temperature: float, top_k: int | None, rng: np.random.Generator,
                      top_p: float | None = None) -> list[int]:
        ids = [BOS_ID] + [t - NO_EVENT for t in prefix]
        out = list(prefix)
        dec = Decoder(self.model, steps_per_bar)
        # input k predicts step k, so its bar position is k % steps_per_bar
        dec.feed(ids, [k % steps_per_bar for k in range(len(ids))])
        for _ in range(n_steps):
            cls = pick(dec.logits(), temperature, top_k, top_p, rng)
            out.append(cls + NO_EVENT)
            dec.feed([cls], [len(out) % steps_per_bar])
        return out

    def sample(self, *, bars: int = 16, seed: int | None = 0, temperature: float = 1.0,
               top_k: int | None = None, steps_per_bar: int = 16,
               tempo_bpm: float = DEFAULT_TEMPO_BPM, name: str = "transformer",
               top_p: float | None = None) -> Melody:
        """Sample ``bars`` bars.

        Parameters
        ----------
        bars : int
            Length in bars, 1..1024.
        seed : int or None
            Seed of the NumPy generator that draws each token; same seed, same melody.
        temperature : float
            Divides the logits: < 1 is more conservative, > 1 more random.
        top_k : int, optional
            Sample only among the ``top_k`` most likely tokens at each step.
        top_p : float, optional
            Nucleus sampling: only among the most likely tokens whose probabilities (after
            temperature and ``top_k``) add up to ``top_p``, in (0, 1].
        steps_per_bar : int
            16th notes per bar: 16 (4/4), 12 (6/8, 3/4), 8 (2/4), 18 (9/8).
        tempo_bpm : float
            Tempo written to MIDI, quarter notes per minute.
        """
        check_generation(bars, temperature, top_k, steps_per_bar, top_p)
        toks = self._sample_steps([], bars * steps_per_bar, steps_per_bar, temperature, top_k,
                                  np.random.default_rng(seed), top_p)
        ts = (steps_per_bar // 4, 4) if steps_per_bar % 4 == 0 else (steps_per_bar // 2, 8)
        return Melody(np.array(toks, dtype=np.int16), steps_per_bar, tempo_bpm, name, ts)

    def continue_melody(self, prime: Melody, *, bars: int = 8, seed: int | None = 0,
                        temperature: float = 1.0, top_k: int | None = None,
                        top_p: float | None = None) -> Melody:
        """``prime`` followed by ``bars`` sampled bars (the prime is first padded with
        ``NO_EVENT`` to its next bar line; the model sees its last ``block_size`` steps).
        Sampling options as :meth:`sample`."""
        check_generation(bars, temperature, top_k, prime.steps_per_bar, top_p)
        if prime.steps == 0 or not prime.notes():
            raise AudioValueError(f"{prime.name or 'prime'}: the melody to continue has no "
                                  "notes")
        spb = prime.steps_per_bar
        n = (-prime.steps) % spb + bars * spb
        toks = self._sample_steps(prime.tokens.tolist(), n, spb, temperature, top_k,
                                  np.random.default_rng(seed), top_p)
        return prime.with_tokens(np.array(toks, dtype=np.int16))


def build_transformer(config: dict[str, Any]) -> MusicTransformer:
    """A fresh network from a config dict (unknown fields refused)."""
    try:
        return MusicTransformer(MusicTransformerConfig(**config))
    except TypeError as exc:
        raise ModelError(f"bad transformer config ({exc})") from exc


@lru_cache(maxsize=4)
def _load(path: str) -> Any:
    model, card = load_network(path, MODEL_NAME, build_transformer)
    if model.config.tokens == "remi":
        from wavesmith.music.remi import RemiTransformer

        return RemiTransformer(model, card)
    return MelodyTransformer(model, card)


def load_transformer(path: str | os.PathLike[str] | None = None, *, tokens: str = "grid"
                     ) -> Any:
    """Load a shipped Nottingham transformer, or weights saved the same way at ``path``.

    Parameters
    ----------
    path : path, optional
        Weights file; by default the shipped model of ``tokens``.
    tokens : {"grid", "remi"}
        Which shipped model: the 16th-note grid (:class:`MelodyTransformer`) or REMI events
        (:class:`wavesmith.music.remi.RemiTransformer`). Ignored with ``path`` (the weights'
        config says which).

    Raises
    ------
    AudioValueError
        If ``tokens`` is unknown.
    ModelNotFoundError
        If the weights are missing.
    ModelError
        If the checksum, format or shapes do not match.
    """
    if tokens not in TOKENIZATIONS:
        raise AudioValueError(f"tokens={tokens!r} must be one of {', '.join(TOKENIZATIONS)}")
    if path is None:
        path = SHIPPED_TRANSFORMER if tokens == "grid" else SHIPPED_REMI_TRANSFORMER
    return _load(str(Path(path)))


def model_config_dict(model: MusicTransformer) -> dict[str, Any]:
    """The network's config as plain JSON values."""
    return asdict(model.config)
