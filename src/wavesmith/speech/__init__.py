"""Speech recognition: :func:`transcribe` with the ``whisper`` or ``sphinx`` engine.

>>> from wavesmith.speech import transcribe, render
>>> segments, info = transcribe("jfk.flac")               # doctest: +SKIP
>>> print(render("srt", segments, info))                   # doctest: +SKIP

Engines need 16 kHz mono: other rates are resampled and channels averaged inside the engine
(see :mod:`wavesmith.speech.asr`). Long inputs are VAD-chunked in bounded memory
(:mod:`wavesmith.speech.longform`); live audio goes through :class:`StreamingTranscriber`
(:mod:`wavesmith.speech.stream`). Formats are in :mod:`wavesmith.speech.formats`, WER/CER in
:mod:`wavesmith.speech.evaluate`, the repetition guard in :mod:`wavesmith.speech.guard`.
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
    register_engine,
    transcribe,
)
from wavesmith.speech.evaluate import EvalReport, evaluate_manifest, normalize_text
from wavesmith.speech.formats import FORMATS, parse_srt, render
from wavesmith.speech.guard import GuardOptions
from wavesmith.speech.stream import StreamingTranscriber, StreamOptions, StreamResult

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_SAMPLE_RATE_HZ",
    "FORMATS",
    "EvalReport",
    "GuardOptions",
    "Segment",
    "StreamOptions",
    "StreamResult",
    "StreamingTranscriber",
    "TranscribeOptions",
    "Transcriber",
    "TranscriptInfo",
    "Word",
    "evaluate_manifest",
    "get_transcriber",
    "normalize_text",
    "parse_srt",
    "register_engine",
    "render",
    "transcribe",
]
