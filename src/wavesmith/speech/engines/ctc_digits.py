"""The digits engine: wavesmith's own CTC connected-digit recognizer.

A small Wav2Letter-style network (:mod:`wavesmith.models.ctc`) trained on strings of real
spoken digits, run by onnxruntime with a prefix beam search
(:class:`wavesmith.models.registry.DigitStringRecognizer`). The default,
``digits_ctc_whisper``, reads the frames of the frozen Whisper tiny.en encoder; ``digits_ctc``
reads log-mel features and was trained from scratch. Either knows the ten English digits and
nothing else, so it suits spoken PINs, phone numbers and codes, offline.

Unlike the other engines it works at **8 kHz**, the rate of its training data: ``_prepare``
downmixes by the mean of the channels and resamples straight to the model's rate (soxr HQ),
overriding the shared 16 kHz preparation. Each chunk gives at most one :class:`Segment`
whose text is the digit words (``"four zero seven one"``) and whose words carry the time of
each digit's CTC spike (where the network decided, usually inside the spoken digit).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from wavesmith.audio import Audio
from wavesmith.errors import AudioValueError
from wavesmith.speech.asr import Segment, TranscribeOptions, Transcriber, Word

__all__ = ["DIGIT_WORDS", "CtcDigitsTranscriber"]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


class CtcDigitsTranscriber(Transcriber):
    """The shipped CTC digit-string model as a :class:`Transcriber`; build it with :meth:`load`."""

    name = "digits"
    model_name = "digits_ctc_whisper"

    def __init__(self, recognizer: Any, model_name: str = "digits_ctc_whisper") -> None:
        self._recognizer = recognizer
        self.model_name = model_name

    @classmethod
    def load(cls, *, model: str | None = None,
             model_dir: str | os.PathLike[str] | None = None) -> CtcDigitsTranscriber:
        """Load the shipped ``digits_ctc_whisper`` (SHA-256 checked) or, with ``model``, another
        shipped CTC name or an exported ``.onnx`` file.

        Raises
        ------
        AudioValueError
            If ``model_dir`` is given (a whisper option).
        ModelNotFoundError
            If ``model`` is neither a shipped name nor an existing ``.onnx`` file.
        ModelError
            If the weights fail their check or are not a CTC digit-string model.
        """
        if model_dir is not None:
            raise AudioValueError("engine 'digits' takes --model (a shipped name or an .onnx "
                                  "export); --model-dir is for whisper")
        from wavesmith.models.registry import DEFAULT_STRINGS, load_string_recognizer

        name = model or DEFAULT_STRINGS
        return cls(load_string_recognizer(name), str(name))

    @property
    def sample_rate(self) -> int:
        """Hz the model works at (8000 for the shipped model)."""
        return int(self._recognizer.sample_rate)

    def _prepare(self, audio: Audio) -> np.ndarray:
        """Return mono float32 samples at :attr:`sample_rate`, shape ``(frames,)``."""
        mono = audio.to_mono()  # channel policy: the mean of the channels
        if mono.sample_rate != self.sample_rate:
            mono = mono.resample(self.sample_rate)  # explicit: soxr HQ
        return np.ascontiguousarray(mono.samples[0], dtype=np.float32)

    def _run(self, samples: np.ndarray, options: TranscribeOptions) -> Any:
        """Per-frame log-probabilities of the chunk, decoded with ``options.beam_size``."""
        if options.language != "en":
            raise AudioValueError(f"engine 'digits' knows only English digits; "
                                  f"language={options.language!r} is not available")
        if options.grammar is not None or options.keyphrases:
            raise AudioValueError("engine 'digits' has a fixed vocabulary (zero..nine); "
                                  "grammar and keyphrases are sphinx options")
        return self._recognizer.predict(Audio(samples[np.newaxis], self.sample_rate),
                                        beam_size=options.beam_size)

    def _decode(self, raw: Any, *, offset_s: float, duration_s: float) -> list[Segment]:
        """One segment of digit words; times shifted by ``offset_s`` and clipped to the chunk."""
        words = []
        for d in raw.digits:
            start_s = min(max(0.0, d.start_s), duration_s)
            end_s = min(max(start_s, d.end_s), duration_s)
            words.append(Word(start_s=round(offset_s + start_s, 3),
                              end_s=round(offset_s + end_s, 3),
                              text=DIGIT_WORDS[int(d.label)], confidence=d.confidence))
        if not words:
            return []
        return [Segment(id=0, start_s=words[0].start_s, end_s=words[-1].end_s,
                        text=" ".join(w.text for w in words),
                        confidence=round(float(raw.confidence), 4), words=words)]
