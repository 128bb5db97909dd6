"""DigitBiLSTM: a bidirectional LSTM over log-mel frames, pooled over time, then linear.

Each frame's ``n_mels`` bands go through a linear projection and LayerNorm, then a stack of
bidirectional LSTM layers reads the frames; the outputs are pooled over time (mean and max,
concatenated: the mean hears the whole word, the max its most telling frame) and a linear
layer gives the class logits. No convolutions: the recurrent baseline beside
:mod:`~wavesmith.models.crnn`.

Shapes: input ``(batch, n_mels, n_frames)`` float32 features; output ``(batch, n_classes)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["DigitBiLSTM", "DigitBiLSTMConfig"]


@dataclass(frozen=True)
class DigitBiLSTMConfig:
    """Sizes of :class:`DigitBiLSTM`."""

    n_mels: int = 40                       # mel bands of the input
    n_frames: int = 101                    # feature frames (only recorded; any length works)
    n_classes: int = 10
    proj: int = 64                         # per-frame projection of the bands
    hidden: int = 64                       # LSTM units per direction
    layers: int = 2
    dropout: float = 0.2


class DigitBiLSTM(nn.Module):
    """Linear + LayerNorm per frame → BiLSTM → mean ‖ max over time → dropout → linear."""

    name = "digit_bilstm"
    config_class = DigitBiLSTMConfig

    def __init__(self, config: DigitBiLSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.proj = nn.Sequential(nn.Linear(config.n_mels, config.proj), nn.LayerNorm(config.proj))
        self.lstm = nn.LSTM(config.proj, config.hidden, num_layers=config.layers,
                            batch_first=True, bidirectional=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.head = nn.Sequential(nn.Dropout(config.dropout),
                                  nn.Linear(4 * config.hidden, config.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map features ``(batch, n_mels, n_frames)`` to logits ``(batch, n_classes)``."""
        h, _ = self.lstm(self.proj(x.transpose(1, 2)))    # (batch, frames, 2 * hidden)
        pooled = torch.cat([h.mean(dim=1), h.amax(dim=1)], dim=1)
        return self.head(pooled)
