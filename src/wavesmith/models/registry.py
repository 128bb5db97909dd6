"""Shipped weights: find, verify (SHA-256) and run them with onnxruntime.

Each shipped model is ``weights/<name>.onnx`` plus ``weights/<name>.json`` holding the
file's SHA-256, the labels, the feature parameters, the training config, the measured
metrics and the data provenance. Inference needs numpy, librosa (features) and onnxruntime;
torch is not imported.

The recognizer follows the three stages of the style guide: ``_prepare`` (audio → features),
``_run`` (features → logits) and ``_decode`` (logits → :class:`DigitPrediction`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith import io
from wavesmith.audio import Audio, check_audio
from wavesmith.errors import ModelError, ModelNotFoundError

__all__ = ["SHIPPED", "WEIGHTS_DIR", "DigitPrediction", "DigitRecognizer", "load_recognizer",
           "onnx_session", "read_onnx_metadata", "recognize_digit", "sha256_file", "shipped_info"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SHIPPED = ("digits_cnn", "digits_cnn_int8")   # names under WEIGHTS_DIR (<name>.onnx/.json)
METADATA_KEY = "wavesmith"                  # ONNX metadata_props key holding our JSON


def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def onnx_session(path: str | os.PathLike[str], threads: int = 1) -> Any:
    """Open an onnxruntime CPU session with ``threads`` intra-op threads.

    Raises
    ------
    ModelError
        If the file is missing or not a valid ONNX model.
    """
    import onnxruntime as ort  # the library's inference runtime (CPU, int8 kernels)
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    errors = (RuntimeError, ValueError, OSError, ort_state.Fail, ort_state.InvalidProtobuf,
              ort_state.InvalidArgument, ort_state.InvalidGraph, ort_state.NoSuchFile,
              ort_state.NotImplemented, ort_state.RuntimeException)
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except errors as exc:
        raise ModelError(f"{path}: not a loadable ONNX model ({str(exc).splitlines()[0]})"
                         ) from exc


def read_onnx_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the ``wavesmith`` JSON (labels, feature_params, model, …) stored in an ONNX
    file's metadata by :func:`wavesmith.learn.export.export_checkpoint`."""
    sess = onnx_session(path)
    raw = sess.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if raw is None:
        raise ModelError(f"{path}: ONNX file has no wavesmith metadata (labels, features); "
                         "export it with `wavesmith train export`")
    return dict(json.loads(raw))


def shipped_info(name: str = "digits_cnn") -> dict[str, Any]:
    """The JSON card of a shipped model (config, metrics, provenance, SHA-256)."""
    card = WEIGHTS_DIR / f"{name}.json"
    if name not in SHIPPED or not card.is_file():
        raise ModelNotFoundError(f"no shipped model {name!r}; shipped: {', '.join(SHIPPED)}")
    return dict(json.loads(card.read_text()))


@dataclass(frozen=True)
class DigitPrediction:
    """The recognised ``label`` and its softmax ``confidence`` (0-1) for one clip."""

    label: str
    confidence: float
    path: str | None = None


class DigitRecognizer:
    """An ONNX isolated-word classifier with the feature front end it was trained with.

    Parameters
    ----------
    onnx_path : path-like
        Exported model with wavesmith metadata.
    sha256 : str, optional
        Expected SHA-256 of the file; a mismatch raises :class:`ModelError`.
    threads : int, default 1
        onnxruntime intra-op threads.
    """

    def __init__(self, onnx_path: str | os.PathLike[str], *, sha256: str | None = None,
                 threads: int = 1) -> None:
        from wavesmith.learn.data import FeatureParams
        from wavesmith.learn.evaluate import OnnxClassifier

        path = Path(onnx_path)
        if not path.is_file():
            raise ModelNotFoundError(f"{path}: model file not found")
        if sha256 is not None and sha256_file(path) != sha256:
            raise ModelError(f"{path}: SHA-256 does not match the model card; the file is "
                             "damaged or was replaced")
        meta = read_onnx_metadata(path)
        self.path = path
        self.labels: list[str] = list(meta["labels"])
        self.params = FeatureParams(**meta["feature_params"])
        self.classifier = OnnxClassifier(path, threads=threads)

    @property
    def sample_rate(self) -> int:
        """Hz the model expects."""
        return self.params.sample_rate

    def _prepare(self, audio: Audio) -> np.ndarray:
        from wavesmith.learn.data import features_from_audio

        return features_from_audio(audio, self.params)[np.newaxis]

    def _run(self, features: np.ndarray) -> np.ndarray:
        return self.classifier.predict_proba(features)

    def _decode(self, probs: np.ndarray, path: str | None = None) -> DigitPrediction:
        k = int(probs[0].argmax())
        return DigitPrediction(self.labels[k], round(float(probs[0, k]), 4), path)

    def recognize(self, audio: Audio | str | os.PathLike[str]) -> DigitPrediction:
        """Recognise one word.

        ``Audio`` must be mono at :attr:`sample_rate` (else ``SampleRateError`` /
        ``AudioValueError``); a file path is decoded, downmixed and resampled to
        :attr:`sample_rate` Hz on load (``io.load(..., sample_rate=..., mono=True)``).
        Only the ``clip_s`` seconds around the energy centroid are used.
        """
        name = None
        if not isinstance(audio, Audio):
            name = str(audio)
            audio = io.load(audio, sample_rate=self.sample_rate, mono=True)
        check_audio(audio)
        return self._decode(self._run(self._prepare(audio)), name)


@lru_cache(maxsize=4)
def _shipped(name: str) -> DigitRecognizer:
    card = shipped_info(name)
    return DigitRecognizer(WEIGHTS_DIR / card["file"], sha256=card["sha256"])


def load_recognizer(name_or_path: str | os.PathLike[str] = "digits_cnn") -> DigitRecognizer:
    """Load a shipped model by name (verified against its card's SHA-256) or an ``.onnx``
    file exported by ``wavesmith train export``."""
    if str(name_or_path) in SHIPPED:
        return _shipped(str(name_or_path))
    path = Path(name_or_path)
    if path.suffix != ".onnx":
        raise ModelNotFoundError(f"{name_or_path}: not a shipped model name ({', '.join(SHIPPED)})"
                                 " nor an .onnx file")
    return DigitRecognizer(path)


def recognize_digit(audio: Audio | str | os.PathLike[str], *,
                    model: str | os.PathLike[str] = "digits_cnn") -> DigitPrediction:
    """Recognise a spoken digit (0-9) in a file or an ``Audio`` with the shipped CNN.

    Examples
    --------
    >>> from wavesmith.models import recognize_digit
    >>> recognize_digit("../shared/data/speech/digits/7_yweweler_3.wav")  # doctest: +SKIP
    DigitPrediction(label='7', confidence=0.98, path='...')
    """
    return load_recognizer(model).recognize(audio)
