"""The :class:`Audio` value type that flows through every wavesmith API.

An ``Audio`` is float32 samples shaped ``(channels, frames)`` plus an explicit integer
``sample_rate`` in Hz. It is immutable: operations return new values. Nothing in wavesmith
resamples or downmixes silently; :meth:`Audio.resample` and :meth:`Audio.to_mono` are the
explicit calls.

Limits checked on construction (:class:`~wavesmith.errors.InvalidAudioError` otherwise):

* samples are finite (no NaN, no ±inf);
* ``MIN_SAMPLE_RATE_HZ <= sample_rate <= MAX_SAMPLE_RATE_HZ`` (1 kHz to 768 kHz);
* ``1 <= channels <= MAX_CHANNELS`` (64);
* a 2-D array; ``frames`` may be 0 (an empty slice), but readers reject empty files.

Samples beyond full scale (|x| > 1) are kept; writers decide what to do with them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from wavesmith.errors import AudioValueError, InvalidAudioError, SampleRateError

__all__ = [
    "MAX_CHANNELS",
    "MAX_SAMPLE_RATE_HZ",
    "MIN_SAMPLE_RATE_HZ",
    "Audio",
    "check_audio",
    "check_same_layout",
    "check_sample_rate",
    "concatenate",
]

MIN_SAMPLE_RATE_HZ = 1_000     # Hz; below this nothing in the field is audio
MAX_SAMPLE_RATE_HZ = 768_000   # Hz; the highest rate professional converters use
MAX_CHANNELS = 64              # channels; ambisonics order 7 fits, 256-channel junk does not
RESAMPLE_QUALITY = "HQ"        # soxr quality recipe: 20-bit precision, passband to 91 % of Nyquist

_INT_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0}


def check_sample_rate(sample_rate: object, *, name: str = "sample_rate") -> int:
    """Return ``sample_rate`` as an int after checking it is within the supported range (Hz)."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        if isinstance(sample_rate, (float, np.floating)) and float(sample_rate).is_integer():
            sample_rate = int(sample_rate)
        else:
            raise InvalidAudioError(f"{name}={sample_rate!r} must be an integer number of Hz")
    rate = int(sample_rate)
    if not MIN_SAMPLE_RATE_HZ <= rate <= MAX_SAMPLE_RATE_HZ:
        raise InvalidAudioError(
            f"{name}={rate} Hz is outside the supported range "
            f"{MIN_SAMPLE_RATE_HZ}-{MAX_SAMPLE_RATE_HZ} Hz"
        )
    return rate


def _check_channels(channels: int) -> None:
    if not 1 <= channels <= MAX_CHANNELS:
        raise InvalidAudioError(
            f"{channels} channels is outside the supported range 1-{MAX_CHANNELS}"
        )


def _first_non_finite(samples: np.ndarray) -> int | None:
    """Frame index of the first NaN/inf sample, or None when all are finite."""
    bad = ~np.isfinite(samples)
    if not bad.any():
        return None
    return int(np.argmax(bad.any(axis=0)))


@dataclass(frozen=True, slots=True, eq=False)
class Audio:
    """Float32 samples shaped ``(channels, frames)`` at an explicit ``sample_rate`` (Hz).

    Parameters
    ----------
    samples : np.ndarray
        Floating-point array of shape ``(channels, frames)``, nominal range [-1, 1]. It is
        converted to float32 (copied if needed) and made read-only.
    sample_rate : int
        Samples per second per channel, in Hz, from 1 000 to 768 000.

    Raises
    ------
    InvalidAudioError
        If the array is not 2-D floating point, has 0 or more than 64 channels, holds NaN or
        inf, or the rate is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> a = Audio(np.zeros((2, 48_000), dtype=np.float32), 48_000)
    >>> a.channels, a.frames, a.duration
    (2, 48000, 1.0)
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        x = self.samples
        if not isinstance(x, np.ndarray):
            raise InvalidAudioError(f"samples must be a numpy array, got {type(x).__name__}")
        if x.ndim != 2:
            raise InvalidAudioError(
                f"samples must be 2-D (channels, frames), got shape {x.shape}; "
                "use Audio.from_array() for 1-D or integer PCM arrays"
            )
        if not np.issubdtype(x.dtype, np.floating):
            raise InvalidAudioError(
                f"samples must be floating point, got {x.dtype}; "
                "use Audio.from_array() to scale integer PCM"
            )
        _check_channels(x.shape[0])
        rate = check_sample_rate(self.sample_rate)
        x = np.asarray(x, dtype=np.float32)
        bad = _first_non_finite(x)
        if bad is not None:
            count = int((~np.isfinite(x)).sum())
            raise InvalidAudioError(
                f"samples contain {count} non-finite value(s) (NaN or inf), "
                f"first at {bad / rate:.3f} s"
            )
        if x.flags.writeable:
            x = x.copy() if x is self.samples else x
            x.flags.writeable = False
        object.__setattr__(self, "samples", x)
        object.__setattr__(self, "sample_rate", rate)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_array(
        cls, array: np.ndarray, sample_rate: int, *, layout: str = "channels_first"
    ) -> Audio:
        """Lift a 1-D, ``(frames, channels)`` or integer-PCM array into an ``Audio``.

        Parameters
        ----------
        array : np.ndarray
            1-D mono, or 2-D in the given ``layout``. int16/int32 PCM is scaled to [-1, 1).
        sample_rate : int
            Hz.
        layout : {"channels_first", "frames_first"}
            Meaning of a 2-D array's axes: ``(channels, frames)`` or ``(frames, channels)``
            (the layout soundfile and most WAV readers return).
        """
        x = np.asarray(array)
        if x.dtype in _INT_SCALE:
            x = x.astype(np.float32) / np.float32(_INT_SCALE[x.dtype])
        elif x.dtype == np.uint8:
            x = (x.astype(np.float32) - 128.0) / 128.0
        if x.ndim == 1:
            x = x[np.newaxis, :]
        elif x.ndim == 2 and layout == "frames_first":
            x = x.T
        elif layout not in ("channels_first", "frames_first"):
            raise AudioValueError(f"layout={layout!r} must be 'channels_first' or 'frames_first'")
        return cls(np.ascontiguousarray(x, dtype=np.float32), sample_rate)

    # -- shape and time -----------------------------------------------------------------
    @property
    def channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        """Number of frames (samples per channel)."""
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Duration in seconds (``frames / sample_rate``)."""
        return self.frames / self.sample_rate

    duration_s = duration

    def frame_at(self, time_s: float) -> int:
        """Index of the frame at ``time_s`` seconds (rounded to the nearest frame)."""
        return round(time_s * self.sample_rate)

    def __len__(self) -> int:
        return self.frames

    def __repr__(self) -> str:
        return (
            f"Audio(channels={self.channels}, frames={self.frames}, "
            f"sample_rate={self.sample_rate}, duration={self.duration:.3f} s)"
        )

    # -- levels ---------------------------------------------------------------------------
    @property
    def peak_dbfs(self) -> float:
        """Sample peak over all channels in dBFS (full scale = 1.0); ``-inf`` for silence."""
        if self.frames == 0:
            return -math.inf
        peak = float(np.max(np.abs(self.samples)))
        return 20.0 * math.log10(peak) if peak > 0 else -math.inf

    @property
    def rms_dbfs(self) -> float:
        """RMS level over all channels and frames in dBFS (a full-scale square wave is 0 dBFS)."""
        if self.frames == 0:
            return -math.inf
        ms = float(np.mean(np.square(self.samples, dtype=np.float64)))
        return 10.0 * math.log10(ms) if ms > 0 else -math.inf

    # -- channels -----------------------------------------------------------------------
    def to_mono(self) -> Audio:
        """Average the channels into one (the mean, so levels of identical channels are kept)."""
        if self.channels == 1:
            return self
        return Audio(self.samples.mean(axis=0, keepdims=True, dtype=np.float32), self.sample_rate)

    def select_channels(self, channels: int | Sequence[int]) -> Audio:
        """Return the given channel(s), by 0-based index, in the order given."""
        idx = [channels] if isinstance(channels, (int, np.integer)) else list(channels)
        if not idx:
            raise AudioValueError("select_channels: no channel index given")
        for i in idx:
            if not -self.channels <= int(i) < self.channels:
                raise AudioValueError(
                    f"select_channels: channel {i} does not exist (audio has {self.channels})"
                )
        return Audio(np.ascontiguousarray(self.samples[idx]), self.sample_rate)

    # -- time -----------------------------------------------------------------------------
    def slice(self, start_s: float = 0.0, end_s: float | None = None) -> Audio:
        """Return the part between ``start_s`` and ``end_s`` seconds (end exclusive).

        ``end_s=None`` means the end of the audio. Times are rounded to the nearest frame.
        """
        if start_s < 0:
            raise AudioValueError(f"slice: start_s={start_s} s must be >= 0")
        if start_s > self.duration:
            raise AudioValueError(
                f"slice: start_s={start_s} s is past the end of the audio "
                f"(duration {self.duration:.3f} s)"
            )
        if end_s is not None and end_s < start_s:
            raise AudioValueError(f"slice: end_s={end_s} s is before start_s={start_s} s")
        first = self.frame_at(start_s)
        last = self.frames if end_s is None else min(self.frame_at(end_s), self.frames)
        return Audio(self.samples[:, first:last], self.sample_rate)

    def resample(self, sample_rate: int) -> Audio:
        """Resample to ``sample_rate`` Hz with soxr's high-quality (HQ) recipe.

        soxr is used because it is fast and accurate (it is also librosa's default); its
        speed against librosa's load path is measured in ``bench/run.py``. The output length
        is ``round(frames * sample_rate / self.sample_rate)``.
        """
        import soxr  # local import: only callers that resample pay for it

        rate = check_sample_rate(sample_rate)
        if rate == self.sample_rate:
            return self
        if self.frames == 0:
            return Audio(np.zeros((self.channels, 0), np.float32), rate)
        y = soxr.resample(self.samples.T, self.sample_rate, rate, quality=RESAMPLE_QUALITY)
        y = y.reshape(-1, self.channels)  # soxr returns 1-D for one channel
        return Audio(np.ascontiguousarray(y.T, dtype=np.float32), rate)


def concatenate(audios: Iterable[Audio]) -> Audio:
    """Join ``Audio`` values end to end; rates and channel counts must match.

    Raises
    ------
    SampleRateError
        If the rates differ (resample explicitly first).
    AudioValueError
        If no audio is given or channel counts differ.
    """
    items = list(audios)
    if not items:
        raise AudioValueError("concatenate: no audio given")
    check_same_layout(items, what="concatenate", noun="item")
    first = items[0]
    return Audio(np.concatenate([a.samples for a in items], axis=1), first.sample_rate)


class _Layout(Protocol):
    sample_rate: int
    channels: int


def check_same_layout(audios: Sequence[_Layout], *, what: str, noun: str = "item") -> None:
    """Check every ``Audio`` (or anything with ``sample_rate`` and ``channels``, such as an
    open :class:`wavesmith.io.AudioReader`) has the rate and channel count of the first; say
    how to fix it.

    Raises
    ------
    SampleRateError
        If a rate differs (the message names the explicit resample to call).
    AudioValueError
        If a channel count differs.
    """
    first = audios[0]
    for i, a in enumerate(audios[1:], start=1):
        if a.sample_rate != first.sample_rate:
            raise SampleRateError(
                f"{what}: {noun} {i} is {a.sample_rate} Hz but {noun} 0 is "
                f"{first.sample_rate} Hz; resample explicitly first: "
                f".resample({first.sample_rate})"
            )
        if a.channels != first.channels:
            raise AudioValueError(
                f"{what}: {noun} {i} has {a.channels} channel(s) but {noun} 0 has "
                f"{first.channels}; convert explicitly first (.to_mono() or select_channels)"
            )


def check_audio(audio: object, *, name: str = "audio", min_frames: int = 1) -> Audio:
    """Check a public entry point's argument is an ``Audio`` with at least ``min_frames``."""
    if not isinstance(audio, Audio):
        raise AudioValueError(f"{name} must be a wavesmith.Audio, got {type(audio).__name__}")
    if audio.frames < min_frames:
        raise AudioValueError(f"{name} has {audio.frames} frames; at least {min_frames} needed")
    return audio
