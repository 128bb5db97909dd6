"""Audio input and output: the only place codecs live.

>>> from wavesmith import io
>>> io.info("speech.flac")                    # doctest: +SKIP
>>> audio = io.load("speech.flac", sample_rate=16_000, mono=True)   # doctest: +SKIP
>>> for block in io.stream("long.flac", block_seconds=5.0):          # doctest: +SKIP
...     ...
>>> io.save(audio, "out.wav", subtype="PCM_24")                      # doctest: +SKIP
"""

from wavesmith.io.atomic import atomic_output, write_bytes_atomic, write_text_atomic
from wavesmith.io.reader import (
    DEFAULT_BLOCK_SECONDS,
    DEFAULT_MAX_LOAD_BYTES,
    AudioInfo,
    AudioReader,
    info,
    load,
    open_audio,
    stream,
)
from wavesmith.io.writer import (
    AudioWriter,
    ClipPolicy,
    ConvertReport,
    check_output_path,
    convert,
    kept_subtype,
    save,
    writable_extensions,
)

open = open_audio

__all__ = [
    "DEFAULT_BLOCK_SECONDS",
    "DEFAULT_MAX_LOAD_BYTES",
    "AudioInfo",
    "AudioReader",
    "AudioWriter",
    "ClipPolicy",
    "ConvertReport",
    "atomic_output",
    "check_output_path",
    "convert",
    "info",
    "kept_subtype",
    "load",
    "open",
    "open_audio",
    "save",
    "stream",
    "writable_extensions",
    "write_bytes_atomic",
    "write_text_atomic",
]
