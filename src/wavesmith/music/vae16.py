"""A hierarchical 16-bar MusicVAE (Roberts et al. 2018, §3.2: the "conductor" decoder).

A window is :data:`WINDOW_STEPS` = 256 grid tokens (16 bars of 4/4 on the 16th-note grid,
32 bars of 2/4), the same 130 token classes as the 2-bar model (:mod:`wavesmith.music.vae`).

* Encoder, ``encoder="tokens"``: token embedding → bidirectional LSTM over all 256 steps →
  the two final hidden states → ``mu``, ``log_var`` of a diagonal Gaussian latent ``z``.
  ``encoder="segments"`` (the shipped model): the 2-bar VAE's BiLSTM encoder reads each of
  the eight 2-bar segments into a 2-bar code, and one linear layer maps the eight codes to
  ``mu``, ``log_var`` (:meth:`HierarchicalVAE.segment_codes`, ``latent_of_codes``).
* Conductor, ``conductor="lstm"``: an LSTM whose initial state comes from ``z`` (and which
  reads ``z`` at each of its steps) emits one embedding per *unit* of ``unit_bars`` bars: 16
  units of one bar (:data:`BAR_STEPS` = 16 steps), or with ``unit_bars=2`` 8 units of two
  bars. ``conductor="mlp"`` (shipped): a linear map plus a two-layer MLP residual emits all
  units at once.
* Unit decoder: one LSTM shared by all units. Its state is reset from the unit's embedding at
  every unit boundary, so whatever carries over from unit to unit has to go through ``z``
  and the conductor. At each step it reads the previous token (teacher forcing in training)
  and the unit embedding. With ``unit_bars=1`` a unit's first step reads the last token of
  the previous unit; with ``unit_bars=2`` it reads the start token and the embedding is not
  squashed by tanh, so a unit decodes exactly as the 2-bar VAE decodes a 2-bar code, and the
  conductor can be taught to emit the 2-bar VAE's codes of the window's eight segments
  (the code stage, ``code_epochs`` in :mod:`wavesmith.music.train_vae16`).

Token-level training minimises the per-window cross-entropy plus
``beta * max(KL - free_bits, 0)`` with ``beta`` annealed from 0, as the 2-bar model
(:func:`wavesmith.music.train_melody.make_vae_loss`); the shipped model is trained in code
space only (``wavesmith train run configs/music/vae16.yaml``, see
:mod:`wavesmith.music.train_vae16`). Samples draw ``z`` from a full-covariance Gaussian
fitted to the training windows' posteriors (:meth:`HierarchicalVAE.fit_sampling_prior`), or
from N(0, I) on request. Only meters whose bar divides 16 steps (4/4, 2/4, 2/2) are
accepted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from wavesmith.errors import AudioValueError
from wavesmith.music.midi import Melody
from wavesmith.music.vae import N_CLASSES, MelodyVAE, kl_nats, spans
from wavesmith.music.weights import DATA_DIR, load_network, one_thread

__all__ = ["BAR_STEPS", "N_BARS", "SHIPPED_VAE16", "WINDOW_STEPS", "HierarchicalVAE",
           "MelodyVAE16", "MusicVAE16Config", "load_vae16", "melody_windows"]

BAR_STEPS = 16                 # 16th notes per bar of 4/4 (a conductor unit is 1 or 2 bars)
N_BARS = 16                    # bars per window
WINDOW_STEPS = BAR_STEPS * N_BARS   # 256 16th notes: 16 bars of 4/4
MAX_BARS = 1024                # sample(): bars at most
SHIPPED_VAE16 = DATA_DIR / "vae_nottingham_16bar.pt"
MODEL_NAME = "music_vae16"


@dataclass(frozen=True)
class MusicVAE16Config:
    """Sizes of :class:`HierarchicalVAE` (the defaults are the shipped model's)."""

    embed: int = 64            # token embedding width
    enc_hidden: int = 256      # encoder LSTM units per direction
    latent: int = 256          # dimensions of z
    conductor_hidden: int = 256
    bar_embed: int = 64        # conductor output per unit
    dec_hidden: int = 256      # unit decoder LSTM units
    dec_layers: int = 2
    dropout: float = 0.0
    unit_bars: int = 1         # bars of 4/4 per conductor step: 1 or 2 (2-bar VAE codes)
    encoder: str = "tokens"    # "tokens": one BiLSTM over 256 steps; "segments": see below
    conductor: str = "lstm"    # "lstm": MusicVAE's conductor; "mlp": linear + MLP residual
    conductor_dropout: float = 0.0   # dropout inside the "mlp" conductor
    mlp_hidden: int = 512      # width of the "mlp" conductor's two hidden layers

    def __post_init__(self) -> None:
        if self.unit_bars not in (1, 2):
            raise ValueError(f"unit_bars={self.unit_bars!r} must be 1 or 2")
        if self.encoder not in ("tokens", "segments"):
            raise ValueError(f"encoder={self.encoder!r} must be 'tokens' or 'segments'")
        if self.conductor not in ("lstm", "mlp"):
            raise ValueError(f"conductor={self.conductor!r} must be 'lstm' or 'mlp'")
        if self.encoder == "segments" and self.unit_bars != 2:
            raise ValueError("encoder='segments' reads 2-bar segments: it needs unit_bars=2")


class HierarchicalVAE(nn.Module):
    """Encoder ``(batch, 256)`` classes → ``(mu, log_var)``; conductor + bar decoder
    ``z`` → logits ``(batch, 256, 130)``."""

    name = MODEL_NAME

    def __init__(self, config: MusicVAE16Config) -> None:
        super().__init__()
        self.config = c = config
        self.unit_steps = BAR_STEPS * c.unit_bars      # 16th notes per unit
        self.n_units = WINDOW_STEPS // self.unit_steps
        self.restart = c.unit_bars == 2                # units start from the start token
        self.embed = nn.Embedding(N_CLASSES + 1, c.embed)  # + a start token for the decoder
        self.encoder = nn.LSTM(c.embed, c.enc_hidden, batch_first=True, bidirectional=True)
        codes = self.n_units * c.bar_embed                 # all unit codes of a window
        if c.encoder == "segments":   # the 2-bar encoder's head, then 8 codes -> z
            self.segment_latent = nn.Linear(2 * c.enc_hidden, 2 * c.bar_embed)
            self.to_latent = nn.Linear(codes, 2 * c.latent)
        else:
            self.to_latent = nn.Linear(2 * c.enc_hidden, 2 * c.latent)
        if c.conductor == "mlp":
            self.conductor_linear = nn.Linear(c.latent, codes)
            self.conductor_mlp = nn.Sequential(
                nn.Linear(c.latent, c.mlp_hidden), nn.GELU(), nn.Dropout(c.conductor_dropout),
                nn.Linear(c.mlp_hidden, c.mlp_hidden), nn.GELU(),
                nn.Dropout(c.conductor_dropout), nn.Linear(c.mlp_hidden, codes))
        else:
            self.conductor_init = nn.Linear(c.latent, 2 * c.conductor_hidden)
            self.conductor = nn.LSTM(c.latent, c.conductor_hidden, batch_first=True)
            self.to_bar = nn.Linear(c.conductor_hidden, c.bar_embed)
        self.bar_init = nn.Linear(c.bar_embed, 2 * c.dec_layers * c.dec_hidden)
        self.decoder = nn.LSTM(c.embed + c.bar_embed, c.dec_hidden, c.dec_layers,
                               batch_first=True, dropout=c.dropout if c.dec_layers > 1 else 0)
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.dec_hidden, N_CLASSES)
        # the sampling distribution of z, z_mean + z_scale @ N(0, I): N(0, I) until
        # fit_sampling_prior() fits a Gaussian to the training windows' posteriors (saved
        # with the weights; z_scale is the lower Cholesky factor of its covariance)
        self.register_buffer("z_mean", torch.zeros(c.latent))
        self.register_buffer("z_scale", torch.eye(c.latent))
        # the share of that spread samples use (the truncation trick; chosen on the valid
        # split by wavesmith.music.train_vae16.choose_latent_temperature)
        self.register_buffer("z_temperature", torch.tensor(1.0))

    def segment_codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``encoder="segments"``: the 2-bar encoder's ``mu``, ``log_var`` of each 2-bar
        segment of ``x`` ``(batch, 256)``, each ``(batch, n_units, bar_embed)``."""
        _, (h, _) = self.encoder(self.embed(x.reshape(-1, self.unit_steps)))
        mu, log_var = self.segment_latent(torch.cat([h[0], h[1]], -1)).chunk(2, -1)
        shape = (x.shape[0], self.n_units, -1)
        return mu.reshape(shape), log_var.clamp(-10.0, 10.0).reshape(shape)

    def latent_of_codes(self, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``encoder="segments"``: ``mu``, ``log_var`` ``(batch, latent)`` of ``z`` from the
        window's segment codes ``(batch, n_units, bar_embed)``."""
        mu, log_var = self.to_latent(codes.reshape(len(codes), -1)).chunk(2, -1)
        return mu, log_var.clamp(-10.0, 10.0)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` int64 ``(batch, 256)`` classes → ``mu``, ``log_var`` ``(batch, latent)``."""
        if self.config.encoder == "segments":
            return self.latent_of_codes(self.segment_codes(x)[0])
        _, (h, _) = self.encoder(self.embed(x))
        mu, log_var = self.to_latent(torch.cat([h[0], h[1]], -1)).chunk(2, -1)
        return mu, log_var.clamp(-10.0, 10.0)

    def conduct(self, z: torch.Tensor) -> torch.Tensor:
        """Unit embeddings ``(batch, n_units, bar_embed)`` of ``z`` ``(batch, latent)``."""
        if self.config.conductor == "mlp":
            units = (self.conductor_linear(z) + self.conductor_mlp(z)).reshape(
                len(z), self.n_units, -1)
            return units if self.restart else torch.tanh(units)
        h0, c0 = torch.tanh(self.conductor_init(z)).chunk(2, -1)
        out, _ = self.conductor(z[:, None].expand(-1, self.n_units, -1).contiguous(),
                                (h0[None].contiguous(), c0[None].contiguous()))
        units = self.to_bar(out)
        return units if self.restart else torch.tanh(units)

    def _bar_state(self, bar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        s = torch.tanh(self.bar_init(bar)).view(-1, 2, c.dec_layers, c.dec_hidden)
        return s[:, 0].transpose(0, 1).contiguous(), s[:, 1].transpose(0, 1).contiguous()

    def decode_teacher(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits ``(batch, 256, 130)``: step ``k`` reads token ``k - 1`` (or
        the start token, see the module docstring); all units run as one batch of
        ``batch * n_units`` sequences."""
        n, u = x.shape[0], self.unit_steps
        bars = self.conduct(z).reshape(n * self.n_units, -1)
        if self.restart:
            x_units = x.reshape(n * self.n_units, u)
            start = torch.full((len(x_units), 1), N_CLASSES, dtype=x.dtype)
            prev = torch.cat([start, x_units[:, :-1]], 1)
        else:
            start = torch.full((n, 1), N_CLASSES, dtype=x.dtype)
            prev = torch.cat([start, x[:, :-1]], 1).reshape(n * self.n_units, u)
        inp = torch.cat([self.drop(self.embed(prev)),
                         bars[:, None].expand(-1, u, -1)], -1)
        out, _ = self.decoder(inp, self._bar_state(bars))
        return self.head(self.drop(out)).reshape(n, WINDOW_STEPS, N_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pass: ``(logits, kl)`` with ``kl`` in nats per window ``(batch,)``."""
        mu, log_var = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var) if self.training else mu
        kl = kl_nats(mu, log_var)
        return self.decode_teacher(z, x), kl

    @torch.no_grad()
    def fit_sampling_prior(self, windows: torch.Tensor, *, batch: int = 256) -> None:
        """Set ``z_mean``, ``z_scale`` to the moments of the aggregate posterior of
        ``windows`` (classes ``(n, 256)``): the mean of ``mu`` and the Cholesky factor of
        ``cov(mu) + diag(mean(sigma**2))``.

        With free bits the KL below the threshold costs nothing, so the posteriors drift off
        N(0, I) (shifted means, other spreads, correlated dimensions) and decoding
        ``z ~ N(0, I)`` leaves the region the decoder was trained on; sampling from a
        Gaussian fitted to the posteriors afterwards ("ex-post density estimation", Ghosh
        et al. 2020) does not. The full covariance matters: with a linear path from ``z``
        to the unit codes, a diagonal one mixes codes from unrelated windows.
        """
        mus, variances = [], []
        for a in range(0, len(windows), batch):
            mu, log_var = self.encode(windows[a:a + batch])
            mus.append(mu.double())
            variances.append(log_var.double().exp())
        mu, var = torch.cat(mus), torch.cat(variances)
        centred = mu - mu.mean(0)
        cov = centred.T @ centred / len(mu) + torch.diag(var.mean(0))
        self.z_mean.copy_(mu.mean(0))
        self.z_scale.copy_(torch.linalg.cholesky(cov))

    @torch.no_grad()
    def decode(self, z: torch.Tensor, *, temperature: float = 0.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Free-running decode of ``z`` ``(batch, latent)`` → classes ``(batch, 256)``;
        greedy (argmax) when ``temperature`` is 0, else sampled with ``generator``."""
        bars = self.conduct(z)
        tok = torch.full((z.shape[0], 1), N_CLASSES, dtype=torch.int64)
        out = []
        for b in range(self.n_units):
            state = self._bar_state(bars[:, b])
            if self.restart:
                tok = torch.full((z.shape[0], 1), N_CLASSES, dtype=torch.int64)
            for _ in range(self.unit_steps):
                h, state = self.decoder(torch.cat([self.embed(tok), bars[:, b, None]], -1),
                                        state)
                logits = self.head(h[:, -1])
                if temperature <= 0:
                    tok = logits.argmax(-1, keepdim=True)
                else:
                    tok = torch.multinomial(F.softmax(logits.double() / temperature, -1), 1,
                                            generator=generator)
                out.append(tok)
        return torch.cat(out, 1)


def _check_meter(melody: Melody) -> None:
    if BAR_STEPS % melody.steps_per_bar:
        num, den = melody.time_signature
        raise AudioValueError(f"{melody.name or 'melody'}: the 16-bar VAE models 4/4, 2/4 "
                              f"and 2/2; a {num}/{den} bar of {melody.steps_per_bar} steps "
                              "does not fit")


def melody_windows(melody: Melody, *, hop_bars: int = 4, min_notes: int = 1) -> np.ndarray:
    """The melody's 256-step windows starting on bar lines every ``hop_bars`` bars, as
    classes (grid token + 2), int64 ``(windows, 256)``; windows with fewer than
    ``min_notes`` onsets are skipped.

    Raises
    ------
    AudioValueError
        If the meter's bar does not divide 16 steps (e.g. 6/8, 3/4).
    """
    _check_meter(melody)
    return spans(melody, WINDOW_STEPS, hop_bars=hop_bars, min_notes=min_notes)


class MelodyVAE16(MelodyVAE):
    """A trained :class:`HierarchicalVAE` with melody-level reconstruction, sampling and
    interpolation of 16-bar windows (latent means, greedy decoding: deterministic); the
    2-bar :class:`~wavesmith.music.vae.MelodyVAE` with a 256-step span."""

    span_steps = WINDOW_STEPS
    unit = "windows"
    suffix = "vae16"

    def _first_span(self, melody: Melody) -> torch.Tensor:
        _check_meter(melody)
        if melody.steps < WINDOW_STEPS:
            raise AudioValueError(f"{melody.name or 'melody'}: {melody.steps} steps is "
                                  f"shorter than one {WINDOW_STEPS}-step (16-bar 4/4) window")
        wins = melody_windows(melody.with_tokens(melody.tokens[:WINDOW_STEPS]))
        if not len(wins):
            raise AudioValueError(f"{melody.name or 'melody'}: the first 16 bars have no "
                                  "notes")
        return torch.from_numpy(wins[:1])

    @one_thread
    @torch.no_grad()
    def sample(self, *, bars: int = 16, seed: int | None = 0, temperature: float = 1.0,
               top_k: int | None = None, steps_per_bar: int = 16,
               tempo_bpm: float = 120.0, name: str = "vae16",
               standard_prior: bool = False,
               latent_temperature: float | None = None) -> Melody:
        """``bars`` bars (a multiple of 16) of 4/4: one latent code per 16 bars, each
        decoded with tokens sampled at ``temperature``; same seed, same melody.

        Codes come from the Gaussian fitted to the training posteriors
        (:meth:`HierarchicalVAE.fit_sampling_prior`), its spread scaled by
        ``latent_temperature`` (default: the model's ``z_temperature``, chosen on held-out
        tunes; 1 is the fitted spread), or from N(0, I) with ``standard_prior``.
        ``top_k`` is not supported (None)."""
        if steps_per_bar != BAR_STEPS:
            raise AudioValueError("the 16-bar VAE generates 4/4 only (steps_per_bar=16)")
        if isinstance(bars, bool) or not isinstance(bars, int) or not \
                N_BARS <= bars <= MAX_BARS or bars % N_BARS:
            raise AudioValueError(f"bars={bars!r} must be a multiple of 16 in 16..{MAX_BARS} "
                                  "for the 16-bar VAE")
        if not 0 < temperature <= 10:
            raise AudioValueError(f"temperature={temperature} must be in (0, 10]")
        if top_k is not None:
            raise AudioValueError("top_k is not supported by the VAE; leave it unset")
        spread = float(self.model.z_temperature if latent_temperature is None
                       else latent_temperature)
        if not 0 < spread <= 10:
            raise AudioValueError(f"latent_temperature={latent_temperature} must be in "
                                  "(0, 10]")
        g = torch.Generator().manual_seed(0 if seed is None else seed)
        z = torch.randn(bars // N_BARS, self.model.config.latent, generator=g)
        if not standard_prior:
            z = self.model.z_mean + spread * z @ self.model.z_scale.T
        out = self.model.decode(z, temperature=temperature, generator=g)
        return self._melody(out, None, name, tempo_bpm)

    def accuracy(self, spans: np.ndarray, *, batch: int = 128) -> dict[str, float]:
        """Reconstruction of 16-bar windows (classes ``(n, 256)``); see
        :meth:`MelodyVAE.accuracy` (``exact_windows``, ``windows``)."""
        return super().accuracy(spans, batch=batch)


@lru_cache(maxsize=4)
def _load(path: str) -> MelodyVAE16:
    return MelodyVAE16(*load_network(path, MODEL_NAME,
                                     lambda c: HierarchicalVAE(MusicVAE16Config(**c))))


def load_vae16(path: str | os.PathLike[str] | None = None) -> MelodyVAE16:
    """Load the shipped 16-bar Nottingham VAE (or weights saved the same way at ``path``).

    Raises
    ------
    ModelNotFoundError
        If the weights are missing.
    ModelError
        If the checksum, format or shapes do not match.
    """
    return _load(str(Path(path) if path is not None else SHIPPED_VAE16))
