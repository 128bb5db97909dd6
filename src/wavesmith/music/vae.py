"""A MusicVAE-style melody VAE (Roberts et al. 2018) on 2-bar segments of the 16th-note grid.

A segment is :data:`SEGMENT_STEPS` = 32 grid tokens (two bars of 4/4, four of 2/4), the same
tokens as the rest of :mod:`wavesmith.music` (pitch onset, ``NOTE_OFF``, ``NO_EVENT``; 130
classes). Encoder: token embedding → bidirectional LSTM → the two final hidden states →
``mu``, ``log_var`` of a diagonal Gaussian latent ``z``. Decoder: ``z`` sets the initial
states of an LSTM that reads the previous token (teacher forcing while training) with ``z``
concatenated at every step, and predicts the next token. Training minimises the per-segment
cross-entropy plus ``beta * max(KL - free_bits, 0)`` with ``beta`` annealed from 0
(MusicVAE's free bits and KL annealing), see :mod:`wavesmith.music.train_melody`
(``wavesmith train run configs/music/vae.yaml``).

Uses: :meth:`MelodyVAE.reconstruct`, :meth:`MelodyVAE.sample`, and
:meth:`MelodyVAE.interpolate` (spherical interpolation between the latent means of two
melodies). Only meters whose bar divides 32 steps (4/4, 2/4, 2/2) are accepted; a melody in
another meter is refused with a one-line error.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from wavesmith.errors import AudioValueError
from wavesmith.music.midi import NO_EVENT, Melody
from wavesmith.music.weights import DATA_DIR, load_network, one_thread

__all__ = ["SEGMENT_STEPS", "SHIPPED_VAE", "MelodyVAE", "MusicVAE", "MusicVAEConfig", "kl_nats",
           "load_vae", "melody_segments", "slerp"]

SEGMENT_STEPS = 32             # 16th notes per segment: 2 bars of 4/4
N_CLASSES = 130                # grid token + 2: NO_EVENT, NOTE_OFF, pitches 0..127
MAX_STEPS = 64                 # interpolate() steps (output segments) at most
SHIPPED_VAE = DATA_DIR / "vae_nottingham_2bar.pt"
MODEL_NAME = "music_vae"


@dataclass(frozen=True)
class MusicVAEConfig:
    """Sizes of :class:`MusicVAE`."""

    embed: int = 64            # token embedding width
    enc_hidden: int = 256      # per direction
    dec_hidden: int = 256
    dec_layers: int = 2
    latent: int = 64           # dimensions of z
    dropout: float = 0.1


class MusicVAE(nn.Module):
    """Encoder ``(batch, 32)`` classes → ``(mu, log_var)``; decoder ``z`` → logits."""

    name = MODEL_NAME

    def __init__(self, config: MusicVAEConfig) -> None:
        super().__init__()
        self.config = c = config
        self.embed = nn.Embedding(N_CLASSES + 1, c.embed)  # + a start token for the decoder
        self.encoder = nn.LSTM(c.embed, c.enc_hidden, batch_first=True, bidirectional=True)
        self.to_latent = nn.Linear(2 * c.enc_hidden, 2 * c.latent)
        self.to_state = nn.Linear(c.latent, 2 * c.dec_layers * c.dec_hidden)
        self.decoder = nn.LSTM(c.embed + c.latent, c.dec_hidden, c.dec_layers,
                               batch_first=True, dropout=c.dropout if c.dec_layers > 1 else 0)
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.dec_hidden, N_CLASSES)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` int64 ``(batch, 32)`` classes → ``mu``, ``log_var`` ``(batch, latent)``."""
        _, (h, _) = self.encoder(self.embed(x))
        mu, log_var = self.to_latent(torch.cat([h[0], h[1]], -1)).chunk(2, -1)
        return mu, log_var.clamp(-10.0, 10.0)

    def _init_state(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        s = torch.tanh(self.to_state(z)).view(-1, 2, c.dec_layers, c.dec_hidden)
        return s[:, 0].transpose(0, 1).contiguous(), s[:, 1].transpose(0, 1).contiguous()

    def decode_teacher(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits ``(batch, 32, 130)``: step ``k`` reads token ``k - 1``."""
        start = torch.full((x.shape[0], 1), N_CLASSES, dtype=x.dtype)
        inp = self.embed(torch.cat([start, x[:, :-1]], 1))
        inp = torch.cat([self.drop(inp), z[:, None].expand(-1, x.shape[1], -1)], -1)
        out, _ = self.decoder(inp, self._init_state(z))
        return self.head(self.drop(out))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pass: ``(logits, kl)`` with ``kl`` in nats per segment ``(batch,)``."""
        mu, log_var = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var) if self.training else mu
        kl = kl_nats(mu, log_var)
        return self.decode_teacher(z, x), kl

    @torch.no_grad()
    def decode(self, z: torch.Tensor, *, temperature: float = 0.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Free-running decode of ``z`` ``(batch, latent)`` → classes ``(batch, 32)``;
        greedy (argmax) when ``temperature`` is 0, else sampled with ``generator``."""
        state = self._init_state(z)
        tok = torch.full((z.shape[0], 1), N_CLASSES, dtype=torch.int64)
        out = []
        for _ in range(SEGMENT_STEPS):
            h, state = self.decoder(torch.cat([self.embed(tok), z[:, None]], -1), state)
            logits = self.head(h[:, -1])
            if temperature <= 0:
                tok = logits.argmax(-1, keepdim=True)
            else:
                tok = torch.multinomial(F.softmax(logits.double() / temperature, -1), 1,
                                        generator=generator)
            out.append(tok)
        return torch.cat(out, 1)


def kl_nats(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL divergence (nats) of ``N(mu, exp(log_var))`` from N(0, I), summed over the last
    dimension: ``(batch,)`` for ``(batch, latent)``."""
    return 0.5 * (mu.pow(2) + log_var.exp() - 1.0 - log_var).sum(-1)


def melody_segments(melody: Melody, *, hop_bars: int = 2, min_notes: int = 1) -> np.ndarray:
    """The melody's 32-step segments starting on bar lines every ``hop_bars`` bars, as
    classes (grid token + 2), int64 ``(segments, 32)``; segments with fewer than
    ``min_notes`` onsets are skipped.

    Raises
    ------
    AudioValueError
        If the meter's bar does not divide 32 steps (e.g. 6/8, 3/4).
    """
    spb = melody.steps_per_bar
    if SEGMENT_STEPS % spb:
        raise AudioValueError(f"{melody.name or 'melody'}: the VAE models 2-bar segments of "
                              f"4/4 (32 sixteenths); a {melody.time_signature[0]}/"
                              f"{melody.time_signature[1]} bar of {spb} steps does not fit")
    return spans(melody, SEGMENT_STEPS, hop_bars=hop_bars, min_notes=min_notes)


def spans(melody: Melody, span_steps: int, *, hop_bars: int, min_notes: int) -> np.ndarray:
    """Classes (grid token + 2) of the melody's ``span_steps``-step spans starting on bar
    lines every ``hop_bars`` bars, int64 ``(n, span_steps)``, leaving out spans with fewer
    than ``min_notes`` onsets (no meter check: see :func:`melody_segments`)."""
    cls = melody.tokens.astype(np.int64) - NO_EVENT
    out = [cls[a:a + span_steps] for a in range(0, melody.steps - span_steps + 1,
                                                hop_bars * melody.steps_per_bar)]
    out = [s for s in out if int((s >= 2).sum()) >= min_notes]
    return np.stack(out) if out else np.zeros((0, span_steps), dtype=np.int64)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical linear interpolation between vectors ``a`` and ``b`` at ``t`` in [0, 1]
    (linear when they are (anti)parallel)."""
    cos = float(torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12))
    omega = math.acos(max(-1.0, min(1.0, cos)))
    if omega < 1e-6 or math.pi - omega < 1e-6:
        return (1 - t) * a + t * b
    return (math.sin((1 - t) * omega) * a + math.sin(t * omega) * b) / math.sin(omega)


class MelodyVAE:
    """A trained :class:`MusicVAE` with melody-level reconstruction, sampling and
    interpolation (latent means, greedy decoding: deterministic).

    The 16-bar VAE (:class:`wavesmith.music.vae16.MelodyVAE16`) subclasses it: one latent
    code spans :attr:`span_steps` grid steps, called :attr:`unit` in :meth:`accuracy`.
    """

    span_steps = SEGMENT_STEPS      # 16th-note steps one latent code spans
    unit = "segments"               # what a span is called in accuracy()'s keys
    suffix = "vae"                  # appended to a reconstructed melody's name

    def __init__(self, model: nn.Module, card: dict[str, Any] | None = None) -> None:
        self.model = model.eval()
        self.card = card or {}

    def _first_span(self, melody: Melody) -> torch.Tensor:
        """The classes ``(1, span_steps)`` of the melody's first span."""
        if melody.steps < SEGMENT_STEPS:
            raise AudioValueError(f"{melody.name or 'melody'}: {melody.steps} steps is "
                                  f"shorter than one {SEGMENT_STEPS}-step (2-bar) segment")
        segs = melody_segments(melody.crop(SEGMENT_STEPS // melody.steps_per_bar))
        if not len(segs):
            raise AudioValueError(f"{melody.name or 'melody'}: the first 2 bars have no notes")
        return torch.from_numpy(segs[:1])

    @staticmethod
    def _melody(classes: torch.Tensor, like: Melody | None, name: str,
                tempo_bpm: float = 120.0) -> Melody:
        toks = (classes.reshape(-1).numpy() + NO_EVENT).astype(np.int16)
        if like is None:
            return Melody(toks, 16, tempo_bpm, name, (4, 4))
        return Melody(toks, like.steps_per_bar, like.tempo_bpm, name, like.time_signature)

    @one_thread
    @torch.no_grad()
    def encode(self, melody: Melody) -> torch.Tensor:
        """Latent mean ``(latent,)`` of the melody's first span (2 bars; 16-bar VAE: 16)."""
        return self.model.encode(self._first_span(melody))[0][0]

    @one_thread
    @torch.no_grad()
    def reconstruct(self, melody: Melody) -> Melody:
        """The first span encoded (mean) and decoded greedily."""
        z = self.encode(melody)
        return self._melody(self.model.decode(z[None]), melody,
                            f"{melody.name}-{self.suffix}")

    @one_thread
    @torch.no_grad()
    def sample(self, *, bars: int = 16, seed: int | None = 0, temperature: float = 1.0,
               top_k: int | None = None, steps_per_bar: int = 16,
               tempo_bpm: float = 120.0, name: str = "vae") -> Melody:
        """``bars`` bars (a multiple of 2) of independently sampled 2-bar segments, each
        from ``z ~ N(0, I)``; same seed, same melody. ``top_k`` is not supported (None)."""
        if steps_per_bar != 16:
            raise AudioValueError("the VAE generates 4/4 only (steps_per_bar=16)")
        if isinstance(bars, bool) or not isinstance(bars, int) or not 2 <= bars <= 1024 \
                or bars % 2:
            raise AudioValueError(f"bars={bars!r} must be an even integer 2..1024 for the VAE "
                                  "(it generates 2-bar segments)")
        if not 0 < temperature <= 10:
            raise AudioValueError(f"temperature={temperature} must be in (0, 10]")
        if top_k is not None:
            raise AudioValueError("top_k is not supported by the VAE; leave it unset")
        g = torch.Generator().manual_seed(0 if seed is None else seed)
        z = torch.randn(bars // 2, self.model.config.latent, generator=g)
        out = self.model.decode(z, temperature=temperature, generator=g)
        return self._melody(out, None, name, tempo_bpm)

    @one_thread
    @torch.no_grad()
    def interpolate(self, melody_a: Melody, melody_b: Melody, steps: int = 5) -> list[Melody]:
        """``steps`` melodies (one span each) on the great circle from ``melody_a``'s
        latent mean to ``melody_b``'s (both ends included; each decoded greedily)."""
        if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= MAX_STEPS:
            raise AudioValueError(f"steps={steps!r} must be an integer 2..{MAX_STEPS}")
        za, zb = self.encode(melody_a), self.encode(melody_b)
        z = torch.stack([slerp(za, zb, i / (steps - 1)) for i in range(steps)])
        out = self.model.decode(z)
        return [self._melody(out[i], melody_a, f"interp{i}") for i in range(steps)]

    @one_thread
    @torch.no_grad()
    def accuracy(self, spans: np.ndarray, *, batch: int = 256) -> dict[str, float]:
        """Reconstruction of ``spans`` (classes ``(n, span_steps)``) from their latent means:
        per-step accuracy greedy free-running and teacher-forced, the share of spans
        reconstructed exactly (``exact_<unit>``), the mean KL (nats per span) and the
        teacher-forced NLL (nats per step)."""
        if len(spans) == 0:
            raise AudioValueError(f"accuracy: no {self.unit}")
        free = tf = exact = kl = nll = 0.0
        for a in range(0, len(spans), batch):
            x = torch.from_numpy(spans[a:a + batch])
            mu, log_var = self.model.encode(x)
            kl += float(kl_nats(mu, log_var).sum())
            logits = self.model.decode_teacher(mu, x)
            nll += float(F.cross_entropy(logits.reshape(-1, N_CLASSES), x.reshape(-1),
                                         reduction="sum"))
            tf += float((logits.argmax(-1) == x).sum())
            rec = self.model.decode(mu)
            free += float((rec == x).sum())
            exact += float((rec == x).all(1).sum())
        n, steps = len(spans), len(spans) * self.span_steps
        return {"accuracy_free": free / steps, "accuracy_teacher_forced": tf / steps,
                f"exact_{self.unit}": exact / n, "kl_nats": kl / n, "nll_per_step": nll / steps,
                self.unit: n}


@lru_cache(maxsize=4)
def _load(path: str) -> MelodyVAE:
    return MelodyVAE(*load_network(path, MODEL_NAME, lambda c: MusicVAE(MusicVAEConfig(**c))))

def load_vae(path: str | os.PathLike[str] | None = None) -> MelodyVAE:
    """Load the shipped 2-bar Nottingham VAE (or weights saved the same way at ``path``).

    Raises
    ------
    ModelNotFoundError
        If the weights are missing.
    ModelError
        If the checksum, format or shapes do not match.
    """
    return _load(str(Path(path) if path is not None else SHIPPED_VAE))
