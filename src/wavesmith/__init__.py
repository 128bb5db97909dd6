"""wavesmith: one toolkit for AI audio processing.

The :class:`Audio` value type (float32 ``(channels, frames)`` + ``sample_rate`` in Hz) flows
through every API. Capabilities live in subpackages: ``io``, ``analysis``, ``edit``, ``speech``,
``music``, ``learn``, ``models``, ``apps``, ``batch``; ``cli`` and ``service`` are thin layers.
"""

from importlib.metadata import PackageNotFoundError, version

from wavesmith.audio import Audio, concatenate
from wavesmith.errors import (
    AudioFileError,
    AudioValueError,
    InvalidAudioError,
    MissingToolError,
    ModelError,
    ModelNotFoundError,
    OverwriteError,
    SampleRateError,
    UnsupportedFormatError,
    WavesmithError,
)

try:
    __version__ = version("wavesmith")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Audio",
    "AudioFileError",
    "AudioValueError",
    "InvalidAudioError",
    "MissingToolError",
    "ModelError",
    "ModelNotFoundError",
    "OverwriteError",
    "SampleRateError",
    "UnsupportedFormatError",
    "WavesmithError",
    "__version__",
    "concatenate",
]
