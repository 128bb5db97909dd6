"""Speech recognition: :func:`transcribe` with the ``whisper`` or ``sphinx`` engine.

>>> from wavesmith.speech import transcribe, render
>>> segments, info = transcribe("jfk.flac")               # doctest: +SKIP
>>> print(render("srt", segments, info))                   # doctest: +SKIP

Engines need 16 kHz mono: other rates are resampled and channels averaged inside the engine
(see :mod:`wavesmith.speech.asr`). Formats are in :mod:`wavesmith.speech.formats`, WER/CER in
:mod:`wavesmith.speech.evaluate`.
"""

from wavesmith.speech.asr import (
    DEFAULT_ENGINE,
    ENGINE_SAMPLE_RATE_HZ,
    ENGINES,
    Segment,
    TranscribeOptions,
    Transcriber,
    TranscriptInfo,
    Word,
    get_transcriber,
    transcribe,
)
from wavesmith.speech.evaluate import EvalReport, evaluate_manifest, normalize_text
from wavesmith.speech.formats import FORMATS, parse_srt, render

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_SAMPLE_RATE_HZ",
    "FORMATS",
    "EvalReport",
    "Segment",
    "TranscribeOptions",
    "Transcriber",
    "TranscriptInfo",
    "Word",
    "evaluate_manifest",
    "get_transcriber",
    "normalize_text",
    "parse_srt",
    "render",
    "transcribe",
]
