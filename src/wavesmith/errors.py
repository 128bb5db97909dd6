"""The wavesmith exception tree.

Every error wavesmith raises on purpose derives from :class:`WavesmithError`, and each one
also inherits from the matching builtin, so ``except ValueError`` / ``except OSError`` keep
working. Messages are one line: the file or argument, then the problem with values and units,
then the fix when there is an obvious one::

    AudioFileError: take3.wav: truncated: header declares 10.0 h of audio, file holds 0.50 s

The CLI prints ``wavesmith: error: <message>`` and exits with :data:`EXIT_INPUT`; the service
answers with the status in :func:`http_status`.
"""

from __future__ import annotations

__all__ = [
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
    "http_status",
]


class WavesmithError(Exception):
    """Root of all wavesmith errors."""


class AudioFileError(WavesmithError, OSError):
    """A file cannot be opened, decoded or written (missing, unreadable, corrupt, truncated)."""


class UnsupportedFormatError(AudioFileError):
    """The file's format or codec is not one wavesmith can read or write."""


class MissingToolError(UnsupportedFormatError):
    """An external program needed for this format (e.g. ffmpeg) is not installed."""


class OverwriteError(AudioFileError, FileExistsError):
    """An output path would overwrite an input, and overwriting was not allowed."""


class AudioValueError(WavesmithError, ValueError):
    """Bad samples or bad parameters."""


class InvalidAudioError(AudioValueError):
    """Samples or stream parameters are out of the supported range (NaN, rate, channels...)."""


class SampleRateError(AudioValueError):
    """Input rate differs from the rate required."""


class ModelError(WavesmithError):
    """Weights missing, corrupt or incompatible."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """A named model is not installed or not in the local cache."""


def http_status(exc: WavesmithError) -> int:
    """Map an error to the HTTP status the service answers with.

    Bad input (unreadable, corrupt or out-of-range audio, bad parameters) is 422, an
    unsupported format is 415, and a missing model or tool is 503 (the server lacks it).
    """
    if isinstance(exc, (MissingToolError, ModelError)):
        return 503
    if isinstance(exc, UnsupportedFormatError):
        return 415
    return 422
