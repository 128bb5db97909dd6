"""DigitCNN: the project's seed example (conv → pool → linear on log-mel), made correct.

The seed's network took 3-channel images, sized its linear layer from a hard-coded 29 and
pooled with the kernel size. Here the input is a log-mel spectrogram ``(batch, n_mels,
n_frames)``; each block is Conv3x3 → BatchNorm → ReLU → MaxPool 2x2, and the linear head's
size is computed from the config, so any ``n_mels``/``n_frames`` works.

Shapes: input ``(batch, n_mels, n_frames)`` float32 features from
:func:`wavesmith.learn.data.features_from_audio`; output ``(batch, n_classes)`` logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["DigitCNN", "DigitCNNConfig"]


@dataclass(frozen=True)
class DigitCNNConfig:
    """Sizes of :class:`DigitCNN`."""

    n_mels: int = 40                       # mel bands of the input
    n_frames: int = 101                    # feature frames of the input (1 s at a 10 ms hop)
    n_classes: int = 10
    channels: tuple[int, ...] = (16, 32, 64)   # conv channels per block (each halves H and W)
    hidden: int = 64                       # units of the hidden linear layer
    dropout: float = 0.3


class DigitCNN(nn.Module):
    """Conv blocks, then flatten → dropout → linear → ReLU → linear."""

    name = "digit_cnn"
    config_class = DigitCNNConfig

    def __init__(self, config: DigitCNNConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        c_in, h, w = 1, config.n_mels, config.n_frames
        for c_out in config.channels:
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in, h, w = c_out, h // 2, w // 2
        if h < 1 or w < 1:
            raise ValueError(f"DigitCNN: {len(config.channels)} pooling blocks are too many for "
                             f"{config.n_mels}x{config.n_frames} inputs")
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(config.dropout), nn.Linear(c_in * h * w, config.hidden),
            nn.ReLU(inplace=True), nn.Dropout(config.dropout), nn.Linear(config.hidden,
                                                                          config.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map features ``(batch, n_mels, n_frames)`` to logits ``(batch, n_classes)``."""
        return self.head(self.features(x.unsqueeze(1)))
