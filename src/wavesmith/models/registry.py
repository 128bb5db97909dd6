"""Shipped weights: find, verify (SHA-256) and run them with onnxruntime.

Two kinds: isolated-digit classifiers (:func:`recognize_digit`; default ``digits_whisper``, a
small head on the frozen Whisper tiny.en encoder; ``digits_cnn``, our from-scratch log-mel CNN)
and CTC connected-digit recognizers (:func:`recognize_digit_string`; default
``digits_ctc_whisper``; ``digits_ctc`` from scratch).

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

__all__ = ["DEFAULT_DIGITS", "DEFAULT_STRINGS", "SHIPPED", "SHIPPED_CTC", "WEIGHTS_DIR",
           "DigitPrediction", "DigitRecognizer",
           "DigitSpan", "DigitStringPrediction", "DigitStringRecognizer", "load_model",
           "load_recognizer", "load_string_recognizer", "onnx_session", "read_onnx_metadata",
           "recognize_digit", "recognize_digit_string", "sha256_file", "shipped_info"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# classifiers under WEIGHTS_DIR (<name>.onnx/.json)
SHIPPED = ("digits_whisper", "digits_whisper_int8", "digits_cnn", "digits_cnn_int8")
SHIPPED_CTC = ("digits_ctc_whisper", "digits_ctc")   # CTC string recognizers, same layout
DEFAULT_DIGITS = "digits_whisper"                    # the best classifier (model card)
DEFAULT_STRINGS = "digits_ctc_whisper"               # the best string recognizer
DEFAULT_BEAM = 8                              # prefix beam width of the string recognizer
EDGE_PAD_S = 0.2       # s of digital silence added at each end of a clip (training strings
#                        had 0.05-0.3 s of silence at their edges)
SILENCE_DBFS = -60.0   # dBFS; a clip whose sample peak is below this holds no digits. The CTC
#                        model never heard silence alone (its features are normalised per
#                        clip, so digital silence becomes flat features it reads as "5555")
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


def shipped_info(name: str = DEFAULT_DIGITS) -> dict[str, Any]:
    """The JSON card of a shipped model (config, metrics, provenance, SHA-256)."""
    card = WEIGHTS_DIR / f"{name}.json"
    if name not in (*SHIPPED, *SHIPPED_CTC) or not card.is_file():
        raise ModelNotFoundError(f"no shipped model {name!r}; shipped: "
                                 f"{', '.join((*SHIPPED, *SHIPPED_CTC))}")
    return dict(json.loads(card.read_text()))


def _checked_onnx(onnx_path: str | os.PathLike[str], sha256: str | None
                  ) -> tuple[Path, dict[str, Any]]:
    """``(path, wavesmith metadata)`` of an exported model, after the existence and (when
    ``sha256`` is given) checksum checks both recognizers make."""
    path = Path(onnx_path)
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: model file not found")
    if sha256 is not None and sha256_file(path) != sha256:
        raise ModelError(f"{path}: SHA-256 does not match the model card; the file is "
                         "damaged or was replaced")
    return path, read_onnx_metadata(path)


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

        path, meta = _checked_onnx(onnx_path, sha256)
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


def load_recognizer(name_or_path: str | os.PathLike[str] = DEFAULT_DIGITS) -> DigitRecognizer:
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
                    model: str | os.PathLike[str] = DEFAULT_DIGITS) -> DigitPrediction:
    """Recognise a spoken digit (0-9) in a file or an ``Audio`` with a shipped classifier.

    Examples
    --------
    >>> from wavesmith.models import recognize_digit
    >>> recognize_digit("../shared/data/speech/digits/7_yweweler_3.wav")  # doctest: +SKIP
    DigitPrediction(label='7', confidence=0.98, path='...')
    """
    return load_recognizer(model).recognize(audio)


# -- connected digit strings (CTC) ------------------------------------------------------------
@dataclass(frozen=True)
class DigitSpan:
    """One recognised digit: ``label``, its CTC spike's time span in seconds from the start
    of the input, and ``confidence``: the mean posterior of the label over its spike frames."""

    label: str
    start_s: float
    end_s: float
    confidence: float


@dataclass(frozen=True)
class DigitStringPrediction:
    """A recognised digit string.

    ``text`` is the digits (``"4071"``; empty when none was heard); ``confidence`` (0-1) is
    the beam-search posterior of this string among the final beam's strings; ``digits`` holds
    each digit with the time of its CTC spike. A CTC spike marks where the network decided,
    usually inside the spoken digit (see the model card's ``spike_in_digit``), not its
    start and end.
    """

    text: str
    confidence: float
    digits: list[DigitSpan]
    path: str | None = None


class DigitStringRecognizer:
    """An ONNX CTC digit-string model (``wavesmith train export`` of a ``digit_ctc``).

    Parameters
    ----------
    onnx_path : path-like
        Exported model; its metadata holds the labels, feature parameters and the model's
        time stride.
    sha256 : str, optional
        Expected SHA-256 of the file; a mismatch raises :class:`ModelError`.
    threads : int, default 1
        onnxruntime intra-op threads.
    beam_size : int, default 8
        Prefix beam width (1 is close to greedy decoding).
    """

    def __init__(self, onnx_path: str | os.PathLike[str], *, sha256: str | None = None,
                 threads: int = 1, beam_size: int = DEFAULT_BEAM) -> None:
        from wavesmith.learn.data import FeatureParams

        path, meta = _checked_onnx(onnx_path, sha256)
        if meta.get("task") != "ctc":
            raise ModelError(f"{path}: is a {meta.get('model', 'classifier')!r} model, not a "
                             "CTC digit-string model")
        if beam_size < 1:
            raise ModelError(f"beam_size={beam_size} must be >= 1")
        self.path = path
        self.labels: list[str] = list(meta["labels"])
        self.params = FeatureParams(**meta["feature_params"])
        self.frame_s = self.params.frame_s * int(meta["stride"])
        self.session = onnx_session(path, threads)
        self.beam_size = beam_size

    @property
    def sample_rate(self) -> int:
        """Hz the model expects."""
        return self.params.sample_rate

    def _prepare(self, audio: Audio) -> np.ndarray:
        """Features ``(1, n_mels, n_frames)`` of a mono clip at :attr:`sample_rate`."""
        from wavesmith.errors import AudioValueError, SampleRateError
        from wavesmith.learn.data import log_mel_features

        if audio.sample_rate != self.sample_rate:
            raise SampleRateError(f"digit strings need {self.sample_rate} Hz, got "
                                  f"{audio.sample_rate} Hz; call audio.resample("
                                  f"{self.sample_rate}) first")
        if audio.channels != 1:
            raise AudioValueError(f"digit strings need mono audio, got {audio.channels} "
                                  "channels; call audio.to_mono() first")
        return log_mel_features(audio.samples[0], self.params)[np.newaxis]

    def _run(self, features: np.ndarray) -> np.ndarray:
        """Per-frame log-probabilities ``(out_frames, n_labels + 1)`` (blank = 0)."""
        from wavesmith.models.ctc_decode import log_softmax

        logits = self.session.run(["logits"], {"features": features.astype(np.float32)})[0]
        return log_softmax(logits[0].T, axis=1)

    def _decode(self, log_probs: np.ndarray, path: str | None = None, *,
                beam_size: int | None = None) -> DigitStringPrediction:
        """Beam search (``beam_size``, default :attr:`beam_size`), then the forced alignment
        of the best string for its digit times."""
        from wavesmith.models.ctc_decode import forced_align, frames_to_seconds, prefix_beam_search

        hyps = prefix_beam_search(log_probs, beam_size or self.beam_size)
        best = hyps[0]
        scores = np.array([h.log_prob for h in hyps])
        confidence = float(np.exp(best.log_prob - (scores.max() + np.log(
            np.exp(scores - scores.max()).sum()))))
        digits = []
        for sym, (a, b) in zip(best.symbols, forced_align(log_probs, best.symbols),
                               strict=True):
            start_s, end_s = frames_to_seconds((a, b), self.frame_s)
            post = float(np.exp(log_probs[a:b + 1, sym]).mean())
            digits.append(DigitSpan(self.labels[sym - 1], round(start_s, 3), round(end_s, 3),
                                    round(post, 4)))
        return DigitStringPrediction("".join(d.label for d in digits), round(confidence, 4),
                                     digits, path)

    def recognize(self, audio: Audio | str | os.PathLike[str]) -> DigitStringPrediction:
        """Recognise the digit string in a clip.

        ``Audio`` must be mono at :attr:`sample_rate` (else ``SampleRateError`` /
        ``AudioValueError``); a file path is decoded, downmixed and resampled to
        :attr:`sample_rate` Hz on load (``io.load(..., sample_rate=..., mono=True)``). The
        network is fully convolutional: any length works, and the features are normalised
        over the whole input.
        """
        name = None
        if not isinstance(audio, Audio):
            name = str(audio)
            audio = io.load(audio, sample_rate=self.sample_rate, mono=True)
        check_audio(audio)
        return self.predict(audio, name)

    def predict(self, audio: Audio, path: str | None = None, *,
                beam_size: int | None = None) -> DigitStringPrediction:
        """Features, network and beam search for a mono clip at :attr:`sample_rate`; a clip
        quieter than :data:`SILENCE_DBFS` (peak) gives the empty string without running the
        network. The clip gets :data:`EDGE_PAD_S` of silence on each side first, as every
        training string had (a digit at the very first sample was otherwise missed); digit
        times are on the clip's own timeline."""
        self._prepare(audio)                    # rate and channel checks first
        if audio.peak_dbfs < SILENCE_DBFS:
            return DigitStringPrediction("", 1.0, [], path)
        pad = np.zeros((1, round(EDGE_PAD_S * self.sample_rate)), np.float32)
        padded = Audio(np.concatenate([pad, audio.samples, pad], axis=1), self.sample_rate)
        raw = self._decode(self._run(self._prepare(padded)), path, beam_size=beam_size)
        def clip(t: float) -> float:
            return round(min(max(0.0, t - EDGE_PAD_S), audio.duration), 3)

        spans = [DigitSpan(d.label, clip(d.start_s), clip(d.end_s), d.confidence)
                 for d in raw.digits]
        return DigitStringPrediction(raw.text, raw.confidence, spans, path)


@lru_cache(maxsize=4)
def _shipped_ctc(name: str, beam_size: int) -> DigitStringRecognizer:
    card = shipped_info(name)
    return DigitStringRecognizer(WEIGHTS_DIR / card["file"], sha256=card["sha256"],
                                 beam_size=beam_size)


def load_string_recognizer(name_or_path: str | os.PathLike[str] = DEFAULT_STRINGS, *,
                           beam_size: int = DEFAULT_BEAM) -> DigitStringRecognizer:
    """Load a shipped CTC model by name (SHA-256 checked) or an exported ``.onnx`` file."""
    if str(name_or_path) in SHIPPED_CTC:
        return _shipped_ctc(str(name_or_path), beam_size)
    path = Path(name_or_path)
    if path.suffix != ".onnx":
        raise ModelNotFoundError(f"{name_or_path}: not a shipped digit-string model "
                                 f"({', '.join(SHIPPED_CTC)}) nor an .onnx file")
    return DigitStringRecognizer(path, beam_size=beam_size)


def recognize_digit_string(audio: Audio | str | os.PathLike[str], *,
                           model: str | os.PathLike[str] = DEFAULT_STRINGS,
                           beam_size: int = DEFAULT_BEAM) -> DigitStringPrediction:
    """Recognise a spoken string of English digits (a PIN, a phone number) with the shipped
    CTC model: returns the text, a confidence and each digit's time.

    Examples
    --------
    >>> from wavesmith.models import recognize_digit_string
    >>> r = recognize_digit_string("pin.wav")                # doctest: +SKIP
    >>> r.text, r.confidence, [(d.label, d.start_s) for d in r.digits]   # doctest: +SKIP
    ('4071', 0.99, [('4', 0.32), ('0', 0.9), ('7', 1.46), ('1', 2.02)])
    """
    return load_string_recognizer(model, beam_size=beam_size).recognize(audio)


def load_model(name_or_path: str | os.PathLike[str]
               ) -> DigitRecognizer | DigitStringRecognizer:
    """Load any shipped model by name, or an exported ``.onnx`` file of either kind (a CTC
    export is recognised by its metadata)."""
    name = str(name_or_path)
    if name in SHIPPED_CTC:
        return load_string_recognizer(name)
    if name in SHIPPED:
        return load_recognizer(name)
    path = Path(name_or_path)
    if path.suffix != ".onnx":
        raise ModelNotFoundError(f"{name_or_path}: not a shipped model name "
                                 f"({', '.join((*SHIPPED, *SHIPPED_CTC))}) nor an .onnx file")
    if not path.is_file():
        raise ModelNotFoundError(f"{path}: model file not found")
    if read_onnx_metadata(path).get("task") == "ctc":
        return DigitStringRecognizer(path)
    return DigitRecognizer(path)
