"""Channel and rate changes: :class:`ToMono`, :class:`SelectChannels` and :class:`Resample`.

Nothing in wavesmith downmixes or resamples silently; these effects are the explicit calls.
Resampling uses soxr (HQ recipe), as :meth:`wavesmith.Audio.resample` does: fast, accurate,
and its streaming resampler gives the same samples as its one-shot call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wavesmith.audio import RESAMPLE_QUALITY, Audio, check_audio, check_sample_rate
from wavesmith.edit.effect import Effect, register
from wavesmith.errors import AudioValueError, InvalidAudioError

__all__ = ["Resample", "SelectChannels", "ToMono", "resample", "select_channels", "to_mono"]

MAX_CHANNELS = 64   # the Audio type's limit


@register
class ToMono(Effect):
    """Average all channels into one (levels of identical channels are kept). Streamable."""

    name = "to_mono"
    params = ()

    def _process(self, audio: Audio) -> Audio:
        return audio.to_mono()


@register
class SelectChannels(Effect):
    """Keep, reorder or duplicate channels by 0-based index: ``[1, 0]`` swaps a stereo pair,
    ``[0]`` keeps the left channel, ``[0, 0]`` makes mono into dual mono. Streamable."""

    name = "select_channels"
    params = ("channels",)

    def __init__(self, *, channels: list[int]) -> None:
        items = list(channels) if isinstance(channels, list | tuple) else None
        if not items or len(items) > MAX_CHANNELS or not all(
                isinstance(c, int | np.integer) and not isinstance(c, bool) and c >= 0
                for c in items):
            raise AudioValueError(f"{self.name}: channels={channels!r} must be a list of 1 to "
                                  f"{MAX_CHANNELS} channel indices >= 0, e.g. [1, 0]")
        self.channels = [int(c) for c in items]
        super().__init__()

    def _process(self, audio: Audio) -> Audio:
        if max(self.channels) >= audio.channels:
            raise AudioValueError(f"{self.name}: channel {max(self.channels)} does not exist "
                                  f"(the audio has {audio.channels} channel(s), 0-based)")
        return audio.select_channels(self.channels)


@register
class Resample(Effect):
    """Resample to ``rate_hz`` (Hz) with soxr's HQ recipe.

    Streamable: soxr's streaming resampler holds a few ms of output back, which
    :meth:`flush` returns at the end of the stream; the joined output equals the one-shot
    output within float32 rounding (the stream can end one frame short for some block
    patterns). The whole-signal output has ``round(frames * rate_hz / input rate)`` frames.
    """

    name = "resample"
    params = ("rate_hz",)

    def __init__(self, *, rate_hz: int) -> None:
        try:
            self.rate_hz = check_sample_rate(rate_hz, name="rate_hz")
        except InvalidAudioError as exc:
            raise AudioValueError(f"{self.name}: {exc}") from exc
        self._stream: Any = None
        super().__init__()

    def _reset(self) -> None:
        self._stream = None

    def process(self, audio: Audio, *, reset: bool = True) -> Audio:
        if reset:  # whole signal: the one-shot resampler
            check_audio(audio, name=f"{self.name}: audio", min_frames=0)
            self.reset()
            return audio.resample(self.rate_hz)
        return super().process(audio, reset=False)

    def _process(self, audio: Audio) -> Audio:
        import soxr

        if audio.sample_rate == self.rate_hz:
            return audio
        if self._stream is None:
            self._stream = soxr.ResampleStream(audio.sample_rate, self.rate_hz, audio.channels,
                                               dtype="float32", quality=RESAMPLE_QUALITY)
        if audio.frames == 0:
            return Audio(np.zeros((audio.channels, 0), np.float32), self.rate_hz)
        y = self._stream.resample_chunk(audio.samples.T, last=False)
        return Audio(np.ascontiguousarray(y.reshape(-1, audio.channels).T), self.rate_hz)

    def flush(self) -> Audio | None:
        """Return the output soxr still holds at the end of the stream."""
        if self._stream is None or self._channels is None:
            return None
        y = self._stream.resample_chunk(np.zeros((0, self._channels), np.float32), last=True)
        self._stream = None
        return Audio(np.ascontiguousarray(y.reshape(-1, self._channels).T), self.rate_hz)


def to_mono(audio: Audio) -> Audio:
    """Apply :class:`ToMono` (mean of the channels)."""
    return ToMono()(audio)


def select_channels(audio: Audio, *, channels: list[int]) -> Audio:
    """Apply :class:`SelectChannels` (0-based indices, in the order given)."""
    return SelectChannels(channels=channels)(audio)


def resample(audio: Audio, *, rate_hz: int) -> Audio:
    """Apply :class:`Resample` (``rate_hz`` in Hz)."""
    return Resample(rate_hz=rate_hz)(audio)
