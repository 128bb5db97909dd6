"""Self-describing checkpoints: save and load any wavesmith network by name.

A checkpoint is a ``torch.save`` dict::

    {"format": 1, "model": "digit_cnn", "state_dict": ..., "model_config": {...},
     "labels": [...], "feature_params": {...}, "train_config": {...}, "metrics": {...},
     "optimizer": ..., "scheduler": ..., "epoch": 7, "best_val_loss": 0.12,
     "versions": {"wavesmith": ..., "torch": ..., "numpy": ...}}

Loading uses ``torch.load(weights_only=True)`` (no pickled code runs), rebuilds the model
from ``model_config`` and refuses an unknown ``format`` or ``model`` with a
:class:`~wavesmith.errors.ModelError` naming the file.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from wavesmith.errors import ModelError
from wavesmith.models.cnn import DigitCNN, DigitCNNConfig
from wavesmith.models.crnn import DigitCRNN, DigitCRNNConfig
from wavesmith.models.ctc import DigitCTC, DigitCTCConfig
from wavesmith.models.pool import DigitPool, DigitPoolConfig
from wavesmith.models.rnn import DigitBiLSTM, DigitBiLSTMConfig
from wavesmith.models.transformer import DigitTransformer, DigitTransformerConfig

__all__ = ["CHECKPOINT_FORMAT", "MODELS", "Checkpoint", "build_model", "load_checkpoint",
           "model_task", "save_checkpoint", "versions"]

CHECKPOINT_FORMAT = 1
MODELS: dict[str, tuple[type[nn.Module], type]] = {
    "digit_cnn": (DigitCNN, DigitCNNConfig),
    "digit_crnn": (DigitCRNN, DigitCRNNConfig),
    "digit_bilstm": (DigitBiLSTM, DigitBiLSTMConfig),
    "digit_transformer": (DigitTransformer, DigitTransformerConfig),
    "digit_ctc": (DigitCTC, DigitCTCConfig),
    "digit_pool": (DigitPool, DigitPoolConfig),
}


def versions() -> dict[str, str]:
    """Versions of the libraries a checkpoint depends on."""
    from wavesmith import __version__

    return {"wavesmith": __version__, "torch": str(torch.__version__),
            "numpy": str(np.__version__)}


def _config(cls: type, values: dict[str, Any]) -> Any:
    """Build a config dataclass, turning YAML/JSON lists back into tuples."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ModelError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def model_task(name: str) -> str:
    """``"classify"`` (one label per clip) or ``"ctc"`` (a label sequence) for a model name."""
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return str(getattr(MODELS[name][0], "task", "classify"))


def build_model(name: str, config: dict[str, Any]) -> nn.Module:
    """Instantiate the network ``name`` (a key of :data:`MODELS`) from a config dict."""
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    cls, cfg_cls = MODELS[name]
    return cls(_config(cfg_cls, config))


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (eval mode) and everything needed to use it."""

    path: Path
    model: nn.Module
    model_name: str
    labels: list[str]
    feature_params: dict[str, Any]
    train_config: dict[str, Any]
    metrics: dict[str, Any]
    raw: dict[str, Any]


def save_checkpoint(path: str | os.PathLike[str], model: nn.Module, *, labels: list[str],
                    feature_params: dict[str, Any], train_config: dict[str, Any],
                    metrics: dict[str, Any], **extra: Any) -> Path:
    """Write a self-describing checkpoint atomically (a ``.part`` file, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT, "model": model.name,  # type: ignore[attr-defined]
        "state_dict": model.state_dict(),
        "model_config": asdict(model.config),  # type: ignore[attr-defined]
        "labels": list(labels), "feature_params": feature_params,
        "train_config": train_config, "metrics": metrics, "versions": versions(), **extra,
    }
    tmp = path.with_name(path.name + ".part")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: str | os.PathLike[str], *, expect_model: str | None = None
                    ) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : path-like
        The ``.pt`` file.
    expect_model : str, optional
        Refuse checkpoints of any other model.

    Raises
    ------
    ModelError
        If the file is missing, corrupt, of an unknown format or model, of another model than
        ``expect_model``, or its weights do not fit its config.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: checkpoint not found")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, AttributeError, KeyError,
            pickle.UnpicklingError, zipfile.BadZipFile) as exc:  # torch's ways to fail
        raise ModelError(f"{path}: not a readable checkpoint ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else 'corrupt'})") from exc
    if not isinstance(raw, dict) or "format" not in raw:
        raise ModelError(f"{path}: not a wavesmith checkpoint (no 'format' field)")
    if raw["format"] != CHECKPOINT_FORMAT:
        raise ModelError(f"{path}: checkpoint format {raw['format']!r} is not supported "
                         f"(this wavesmith reads format {CHECKPOINT_FORMAT})")
    name = raw.get("model")
    if name not in MODELS:
        raise ModelError(f"{path}: unknown model {name!r}; known: {', '.join(MODELS)}")
    if expect_model is not None and name != expect_model:
        raise ModelError(f"{path}: is a {name!r} checkpoint, expected {expect_model!r}")
    try:
        model = build_model(name, raw["model_config"])
        model.load_state_dict(raw["state_dict"])
    except (KeyError, RuntimeError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: weights do not fit the {name!r} config "
                         f"({str(exc).splitlines()[0]})") from exc
    model.eval()
    return Checkpoint(path, model, name, list(raw["labels"]), dict(raw["feature_params"]),
                      dict(raw.get("train_config", {})), dict(raw.get("metrics", {})), raw)
