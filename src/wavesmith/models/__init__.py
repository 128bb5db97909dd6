"""Networks (one file each) and the registry of shipped weights.

``digit_cnn`` (:mod:`wavesmith.models.cnn`) and ``digit_crnn`` (:mod:`wavesmith.models.crnn`)
classify log-mel features; :func:`wavesmith.models.registry.recognize_digit` runs the shipped
ONNX digit classifier with onnxruntime (torch is not needed for inference).
"""

from wavesmith.models.registry import DigitPrediction, load_recognizer, recognize_digit

__all__ = ["DigitPrediction", "load_recognizer", "recognize_digit"]
