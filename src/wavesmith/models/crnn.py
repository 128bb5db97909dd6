"""DigitCRNN: convolution over the log-mel image, then a GRU over time.

Conv blocks (Conv3x3 → BatchNorm → ReLU → MaxPool) halve the mel axis each time and the time
axis only in the first block; the remaining bands and channels form one vector per frame,
a (bi)GRU reads the frames, and the mean of its outputs over time feeds a linear classifier.

Shapes: input ``(batch, n_mels, n_frames)`` float32 features; output ``(batch, n_classes)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["DigitCRNN", "DigitCRNNConfig"]


@dataclass(frozen=True)
class DigitCRNNConfig:
    """Sizes of :class:`DigitCRNN`."""

    n_mels: int = 40                       # mel bands of the input
    n_frames: int = 101                    # feature frames (only recorded; any length works)
    n_classes: int = 10
    channels: tuple[int, ...] = (16, 32)   # conv channels per block
    gru_hidden: int = 64                   # GRU units per direction
    gru_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.3


class DigitCRNN(nn.Module):
    """CNN front end + GRU + mean over time + linear."""

    name = "digit_crnn"
    config_class = DigitCRNNConfig

    def __init__(self, config: DigitCRNNConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        c_in, h = 1, config.n_mels
        for i, c_out in enumerate(config.channels):
            pool = (2, 2) if i == 0 else (2, 1)   # (mel, time): time halved once, to 20 ms
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True), nn.MaxPool2d(pool)]
            c_in, h = c_out, h // 2
        self.conv = nn.Sequential(*layers)
        self.gru = nn.GRU(c_in * h, config.gru_hidden, num_layers=config.gru_layers,
                          batch_first=True, bidirectional=config.bidirectional)
        out = config.gru_hidden * (2 if config.bidirectional else 1)
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(out, config.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map features ``(batch, n_mels, n_frames)`` to logits ``(batch, n_classes)``."""
        z = self.conv(x.unsqueeze(1))                  # (batch, channels, bands, frames)
        b, c, h, t = z.shape
        z = z.permute(0, 3, 1, 2).reshape(b, t, c * h)  # one vector per frame
        y, _ = self.gru(z)
        return self.head(y.mean(dim=1))
