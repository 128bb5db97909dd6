"""Networks (one file each) and the registry of shipped weights.

``digit_cnn`` (:mod:`wavesmith.models.cnn`), ``digit_crnn`` (:mod:`~wavesmith.models.crnn`),
``digit_bilstm`` (:mod:`~wavesmith.models.rnn`) and ``digit_transformer``
(:mod:`~wavesmith.models.transformer`) classify log-mel features of one word; ``digit_ctc``
(:mod:`~wavesmith.models.ctc`) reads connected digit strings with CTC
(:mod:`~wavesmith.models.ctc_decode`: greedy and prefix beam search).
:func:`~wavesmith.models.registry.recognize_digit` and
:func:`~wavesmith.models.registry.recognize_digit_string` run the shipped ONNX models with
onnxruntime (torch is not needed for inference).
"""

from wavesmith.models.registry import (
    DigitPrediction,
    DigitSpan,
    DigitStringPrediction,
    load_recognizer,
    load_string_recognizer,
    recognize_digit,
    recognize_digit_string,
)

__all__ = ["DigitPrediction", "DigitSpan", "DigitStringPrediction", "load_recognizer",
           "load_string_recognizer", "recognize_digit", "recognize_digit_string"]
