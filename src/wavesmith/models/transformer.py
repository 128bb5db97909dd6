"""DigitTransformer: a small Transformer encoder classifier on log-mel frames (nanoGPT-style).

A strided 1-D convolution turns every two 10 ms frames into one token of width ``d_model``;
a learned position embedding is added; ``layers`` pre-LayerNorm blocks (multi-head
self-attention, then a GELU MLP, each on a residual path, as in nanoGPT's ``Block``) mix the
tokens; the final LayerNorm'd tokens are averaged and a linear layer gives the logits. The
attention is written out (no ``nn.MultiheadAttention``) so the model reads in one sitting
and exports to ONNX with plain MatMul/Softmax.

Vaswani et al., "Attention is all you need", NeurIPS 2017; Karpathy, nanoGPT (2022).

Shapes: input ``(batch, n_mels, n_frames)`` float32 features with ``n_frames <=
config.n_frames``; output ``(batch, n_classes)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["DigitTransformer", "DigitTransformerConfig"]


@dataclass(frozen=True)
class DigitTransformerConfig:
    """Sizes of :class:`DigitTransformer`."""

    n_mels: int = 40                       # mel bands of the input
    n_frames: int = 101                    # longest input in frames (sizes the positions)
    n_classes: int = 10
    d_model: int = 64                      # token width
    heads: int = 4                         # attention heads (d_model must divide evenly)
    layers: int = 3
    mlp_ratio: int = 4                     # MLP hidden width = mlp_ratio * d_model
    dropout: float = 0.1


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention over all tokens (no causal mask)."""

    def __init__(self, config: DigitTransformerConfig) -> None:
        super().__init__()
        if config.d_model % config.heads:
            raise ValueError(f"DigitTransformer: d_model={config.d_model} is not a multiple "
                             f"of heads={config.heads}")
        self.heads = config.heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out = nn.Linear(config.d_model, config.d_model)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        # (batch, heads, tokens, head_dim)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)
        y = self.drop(att.softmax(dim=-1)) @ v
        return self.out(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-LayerNorm Transformer block: ``x + attn(ln(x))``, then ``x + mlp(ln(x))``."""

    def __init__(self, config: DigitTransformerConfig) -> None:
        super().__init__()
        d = config.d_model
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = SelfAttention(config)
        self.mlp = nn.Sequential(nn.Linear(d, config.mlp_ratio * d), nn.GELU(),
                                 nn.Linear(config.mlp_ratio * d, d), nn.Dropout(config.dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class DigitTransformer(nn.Module):
    """Strided conv tokens + positions → blocks → LayerNorm → mean over tokens → linear."""

    name = "digit_transformer"
    config_class = DigitTransformerConfig

    def __init__(self, config: DigitTransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.tokens = nn.Conv1d(config.n_mels, config.d_model, 3, stride=2, padding=1)
        self.max_tokens = (config.n_frames + 1) // 2
        self.pos = nn.Parameter(torch.zeros(1, self.max_tokens, config.d_model))
        nn.init.normal_(self.pos, std=0.02)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.Sequential(*[Block(config) for _ in range(config.layers)])
        self.ln = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map features ``(batch, n_mels, n_frames)`` to logits ``(batch, n_classes)``."""
        z = self.tokens(x).transpose(1, 2)               # (batch, tokens, d_model)
        z = self.drop(z + self.pos[:, :z.shape[1]])
        z = self.ln(self.blocks(z))
        return self.head(z.mean(dim=1))
