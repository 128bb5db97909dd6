"""DigitCTC: a Wav2Letter-style stack of 1-D convolutions over log-mel frames, trained with CTC.

Collobert, Puhrsch & Synnaeve, "Wav2Letter: an end-to-end ConvNet-based speech recognition
system", arXiv:1609.03193 (2016): the input is treated as ``n_mels`` channels over time;
a strided wide convolution, a stack of same-width convolutions, then 1x1 convolutions to one
score per symbol and output frame. Here each convolution is followed by BatchNorm, ReLU and
dropout, and the stack is small (≈0.7 M parameters) because the vocabulary is 10 digits.

The output is per-frame logits ``(batch, n_labels + 1, out_frames)``: symbol 0 is the CTC
blank and symbol ``k + 1`` is label ``k``. ``out_frames = ceil(n_frames / stride)``
(:meth:`DigitCTC.output_lengths`); with the default 10 ms hop and stride 2, one output frame
is 20 ms. Fully convolutional, so any input length works (and exports to ONNX with a dynamic
time axis).

Shapes: input ``(batch, n_mels, n_frames)`` float32 features of
:func:`wavesmith.learn.data.log_mel_features`; output ``(batch, n_labels + 1, out_frames)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["DigitCTC", "DigitCTCConfig"]


@dataclass(frozen=True)
class DigitCTCConfig:
    """Sizes of :class:`DigitCTC`."""

    n_mels: int = 40                       # mel bands of the input
    n_frames: int = 101                    # recorded for the trainer; any length works
    n_classes: int = 10                    # labels (digits); the output adds the blank
    channels: int = 128                    # width of the convolution stack
    first_kernel: int = 11                 # frames of the strided first convolution
    stride: int = 2                        # time stride of the first convolution
    kernel: int = 9                        # frames (at the strided rate) of the middle convs
    layers: int = 4                        # middle convolutions
    hidden: int = 256                      # width of the 1x1 layer before the output
    dropout: float = 0.15


def _conv(c_in: int, c_out: int, kernel: int, stride: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Conv1d(c_in, c_out, kernel, stride=stride, padding=kernel // 2,
                                   bias=False),
                         nn.BatchNorm1d(c_out), nn.ReLU(inplace=True), nn.Dropout(dropout))


class DigitCTC(nn.Module):
    """Strided conv → ``layers`` convs → 1x1 conv → 1x1 conv to ``n_classes + 1`` logits."""

    name = "digit_ctc"
    config_class = DigitCTCConfig
    task = "ctc"                            # trained with CTC on label sequences

    def __init__(self, config: DigitCTCConfig) -> None:
        super().__init__()
        if config.first_kernel % 2 == 0 or config.kernel % 2 == 0:
            raise ValueError("DigitCTC: kernels must be odd (symmetric padding)")
        self.config = config
        c, p = config.channels, config.dropout
        self.net = nn.Sequential(
            _conv(config.n_mels, c, config.first_kernel, config.stride, p),
            *[_conv(c, c, config.kernel, 1, p) for _ in range(config.layers)],
            _conv(c, config.hidden, 1, 1, p),
            nn.Conv1d(config.hidden, config.n_classes + 1, 1),
        )

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Output frames for inputs of ``lengths`` frames: ``ceil(lengths / stride)``."""
        return torch.div(lengths + self.config.stride - 1, self.config.stride,
                         rounding_mode="floor")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map features ``(batch, n_mels, n_frames)`` to logits ``(batch, n_classes + 1,
        out_frames)`` (blank = 0)."""
        return self.net(x)
