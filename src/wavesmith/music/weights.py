"""Shipped music weights: a ``.pt`` state dict plus a JSON card, verified before use.

Each shipped network is ``data/<name>.pt`` (``torch.save`` of ``{"format", "model",
"model_config", "state_dict"}``, loaded with ``weights_only=True``, so no pickled code runs)
and ``data/<name>.json``, the card: the ``.pt`` file's SHA-256, the model config, the training
config, the measured metrics and the data provenance (relative paths only).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from wavesmith.errors import ModelError, ModelNotFoundError

__all__ = ["DATA_DIR", "WEIGHTS_FORMAT", "load_network", "load_weights", "one_thread",
           "read_card", "save_weights"]

DATA_DIR = Path(__file__).resolve().parent / "data"
WEIGHTS_FORMAT = 1
F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def one_thread(fn: F) -> F:
    """Run ``fn`` with one torch intra-op thread (restored after).

    The music networks are small and decode step by step; with several threads every tiny
    op pays a thread barrier, which on a busy 2-core machine made 2-bar sampling 8x slower
    (0.8 s vs 6-7 s, measured 2026-11-25 with 10 other processes running).
    """
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _torch_threads(1):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_weights(path: str | os.PathLike[str], model_name: str, model_config: dict[str, Any],
                 state_dict: dict[str, Any], card: dict[str, Any]) -> Path:
    """Write ``<path>`` (weights) and ``<path minus .pt>.json`` (card), each atomically.

    Returns the card's path. ``card`` gets ``model``, ``weights``, ``sha256``, ``bytes`` and
    ``model_config`` added.
    """
    import torch

    from wavesmith.io import atomic_output, write_text_atomic

    dst = Path(path)
    with atomic_output(dst) as tmp:
        torch.save({"format": WEIGHTS_FORMAT, "model": model_name,
                    "model_config": model_config,
                    "state_dict": {k: v.detach().cpu().contiguous()
                                   for k, v in state_dict.items()}}, tmp)
    full = {"model": model_name, "weights": dst.name, "sha256": _sha256(dst),
            "bytes": dst.stat().st_size, "model_config": model_config, **card}
    card_path = dst.with_suffix(".json")
    write_text_atomic(card_path, json.dumps(full, indent=2) + "\n")
    return card_path


def read_card(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON card next to the weights ``path`` (``.pt`` → ``.json``).

    Raises
    ------
    ModelNotFoundError
        If the card does not exist.
    ModelError
        If it is not valid JSON.
    """
    card = Path(path).with_suffix(".json")
    if not card.is_file():
        raise ModelNotFoundError(f"{card}: model card not found")
    try:
        return dict(json.loads(card.read_text()))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{card}: cannot read model card ({exc})") from exc


def load_weights(path: str | os.PathLike[str], model_name: str
                 ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Load ``(model_config, state_dict, card)`` after checking the card's SHA-256.

    Raises
    ------
    ModelNotFoundError
        If the weights file is missing.
    ModelError
        If the card's checksum does not match, the file is unreadable, or it holds another
        model than ``model_name``.
    """
    import torch

    p = Path(path)
    if not p.is_file():
        raise ModelNotFoundError(f"{p}: {model_name} weights not found")
    card = read_card(p)
    if card.get("sha256") != _sha256(p):
        raise ModelError(f"{p}: SHA-256 does not match its card {p.with_suffix('.json').name}")
    try:
        raw = torch.load(p, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, pickle.UnpicklingError,
            zipfile.BadZipFile) as exc:
        raise ModelError(f"{p}: not readable weights ({type(exc).__name__})") from exc
    if not isinstance(raw, dict) or raw.get("format") != WEIGHTS_FORMAT:
        raise ModelError(f"{p}: weights format {raw.get('format')!r} is not supported")
    if raw.get("model") != model_name:
        raise ModelError(f"{p}: holds a {raw.get('model')!r} model, expected {model_name!r}")
    return dict(raw["model_config"]), raw["state_dict"], card


def load_network(path: str | os.PathLike[str], model_name: str,
                 build: Callable[[dict[str, Any]], Any]) -> tuple[Any, dict[str, Any]]:
    """``(network with the weights loaded, card)``: :func:`load_weights`, then
    ``build(model_config)`` and ``load_state_dict``.

    Raises
    ------
    ModelNotFoundError, ModelError
        As :func:`load_weights`; also when the config or the tensors do not fit the network.
    """
    config, state, card = load_weights(path, model_name)
    try:
        model = build(config)
        model.load_state_dict(state)
    except (TypeError, RuntimeError) as exc:
        raise ModelError(f"{path}: weights do not fit the config "
                         f"({str(exc).splitlines()[0]})") from exc
    return model, card
