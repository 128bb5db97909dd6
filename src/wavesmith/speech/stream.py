"""Streaming recognition: :class:`StreamingTranscriber` takes audio blocks of any size and
returns partial and final results as they become known.

How it works:

* the blocks are mixed to mono (channel mean) and, when the stream is not 16 kHz, resampled
  by a streaming soxr resampler (the rate is given explicitly to the constructor);
* **endpointing** is :class:`wavesmith.edit.vad.SpeechDetector` (Silero VAD, stateful, fed
  block by block): an utterance ends after ``min_silence_s`` of non-speech, and the detector
  returns it padded by ``pad_s`` on each side. That audio is decoded with the full options
  and becomes a *final* result. Utterances shorter than ``min_speech_s`` are dropped;
* **partials**: while speech is open (the detector has not yet decided past its start), the
  audio from its start to now is re-decoded (greedy, beam 1, no word timestamps) at most once
  every ``partial_interval_s`` seconds, both of audio fed and of wall-clock time (so a slow
  machine fed in real time skips partials instead of falling behind). A partial is replaced
  by the next partial or by the final of the same ``utterance``;
* speech longer than ``max_utterance_s`` is cut at its quietest 100 ms in the last 5 s and
  finalised in pieces (:class:`wavesmith.speech.regions.SpeechRegions`, shared with long-file
  transcription).

Latency from the end of speech to its final result is about ``max(min_silence_s, 2 *
pad_s)`` plus one decode of the utterance; ``bench/bench_asr.py`` measures it. Memory: the
open utterance (at most ``max_utterance_s`` of 16 kHz float32) plus one block.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

import numpy as np

from wavesmith.audio import Audio, check_sample_rate
from wavesmith.errors import AudioValueError, SampleRateError
from wavesmith.speech.asr import (
    DEFAULT_ENGINE,
    ENGINE_SAMPLE_RATE_HZ,
    Segment,
    TranscribeOptions,
    Word,
    get_transcriber,
)
from wavesmith.speech.guard import GuardOptions, HallucinationGuard
from wavesmith.speech.regions import CUT_SEARCH_S, Region, SpeechRegions

__all__ = ["DEFAULT_BLOCK_S", "StreamOptions", "StreamResult",
           "StreamingTranscriber", "paced", "pcm16_blocks"]

DEFAULT_BLOCK_S = 0.1           # seconds per block read from a file or a pipe
_RATE = ENGINE_SAMPLE_RATE_HZ   # Hz of the internal signal (VAD and engines)


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """Endpointing and partial-result settings of :class:`StreamingTranscriber` (seconds)."""

    threshold: float = 0.5            # Silero speech probability that starts speech
    min_silence_s: float = 0.5        # non-speech that ends an utterance (adds to latency)
    min_speech_s: float = 0.25        # shorter utterances are dropped
    pad_s: float = 0.2                # audio kept before the first / after the last speech
    partial_interval_s: float = 1.0   # between partial decodes; 0 turns partials off
    max_utterance_s: float = 30.0     # longer speech is finalised in pieces

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise AudioValueError(f"threshold={self.threshold} must be between 0 and 1")
        for name in ("min_silence_s", "min_speech_s", "pad_s", "partial_interval_s"):
            if getattr(self, name) < 0:
                raise AudioValueError(f"{name}={getattr(self, name)} s must be >= 0")
        if not 2 * CUT_SEARCH_S <= self.max_utterance_s <= 600.0:
            raise AudioValueError(f"max_utterance_s={self.max_utterance_s} s must be between "
                                  f"{2 * CUT_SEARCH_S:g} and 600 s")


@dataclass(frozen=True, slots=True)
class StreamResult:
    """A partial or final transcript of one utterance; times in seconds from stream start."""

    final: bool
    utterance: int            # 0, 1, ...: the partials and the final of one utterance share it
    start_s: float
    end_s: float
    text: str
    emitted_s: float          # seconds of audio fed when this result was produced
    words: list[Word] = field(default_factory=list)   # finals only

    @property
    def type(self) -> str:
        """``"final"`` or ``"partial"``."""
        return "final" if self.final else "partial"


class StreamingTranscriber:
    """Recognise speech from audio blocks as they arrive.

    Parameters
    ----------
    sample_rate : int
        Hz of every block passed to :meth:`feed` (checked).
    engine, model, model_dir
        As in :func:`wavesmith.speech.get_transcriber`; the model is loaded here.
    options : TranscribeOptions, optional
        Decoding options of the finals. The engine's own VAD filter is turned off (the
        utterances are speech already); partials use ``beam_size=1`` and no word times.
    stream_options : StreamOptions, optional
        Endpointing and partial settings.
    guard : GuardOptions, optional
        Hallucination guard applied to every decode (:mod:`wavesmith.speech.guard`).

    Examples
    --------
    >>> from wavesmith import io
    >>> st = StreamingTranscriber(16_000)                              # doctest: +SKIP
    >>> for block in io.stream("talk.wav", 0.1, sample_rate=16_000):   # doctest: +SKIP
    ...     for r in st.feed(block):
    ...         print(r.type, r.start_s, r.text)
    >>> results = st.finish()                                          # doctest: +SKIP
    """

    def __init__(self, sample_rate: int, *, engine: str = DEFAULT_ENGINE,
                 model: str | None = None, model_dir: str | os.PathLike[str] | None = None,
                 options: TranscribeOptions | None = None,
                 stream_options: StreamOptions | None = None,
                 guard: GuardOptions | None = None) -> None:
        self.sample_rate = check_sample_rate(sample_rate)
        self.options = replace(options or TranscribeOptions(), vad=False)
        self.partial_options = replace(self.options, beam_size=1, word_timestamps=False)
        self.stream_options = stream_options or StreamOptions()
        self.transcriber = get_transcriber(engine, model=model, model_dir=model_dir)
        self.transcriber.check_options(self.options)
        self._guard_options = guard or GuardOptions()
        self.reset()

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Start a new stream: times restart at 0, the VAD and the guard forget their state."""
        so = self.stream_options
        self._regions = SpeechRegions(threshold=so.threshold, min_speech_s=so.min_speech_s,
                                      min_silence_s=so.min_silence_s, pad_s=so.pad_s,
                                      max_region_s=so.max_utterance_s)
        self._resampler: Any = None
        if self.sample_rate != _RATE:
            import soxr  # streaming resampler: output independent of the block size

            self._resampler = soxr.ResampleStream(self.sample_rate, _RATE, 1,
                                                  dtype="float32", quality="HQ")
        self._guard = HallucinationGuard(self._guard_options)
        self._fed_in = 0                      # input-rate frames fed
        self._next_utt = 0
        self._partial_sent = False
        self._last_partial_pos = 0            # 16 kHz frame of the last partial decode
        self._last_partial_wall = -np.inf     # time.monotonic() when it finished
        self._odd = b""                       # an odd trailing byte of PCM input

    @property
    def position_s(self) -> float:
        """Seconds of audio fed so far."""
        return self._fed_in / self.sample_rate

    # -- input ------------------------------------------------------------------------------
    def feed(self, block: Audio) -> list[StreamResult]:
        """Add a block (any length, the constructor's rate); return the results it completes.

        Raises
        ------
        SampleRateError
            If ``block.sample_rate`` differs from the constructor's ``sample_rate``.
        """
        if not isinstance(block, Audio):
            raise AudioValueError(f"block must be a wavesmith.Audio, got {type(block).__name__}")
        if block.sample_rate != self.sample_rate:
            raise SampleRateError(f"stream expects {self.sample_rate} Hz blocks, got "
                                  f"{block.sample_rate} Hz")
        if not block.frames:
            return []
        self._fed_in += block.frames
        x = block.to_mono().samples[0]  # channel policy: the mean of the channels
        if self._resampler is not None:
            x = self._resampler.resample_chunk(x, last=False)
        return self._consume(np.asarray(x, np.float32), final=False)

    def feed_pcm16(self, data: bytes) -> list[StreamResult]:
        """:meth:`feed` raw 16-bit little-endian mono PCM (an odd last byte waits for more)."""
        data = self._odd + data
        even = len(data) // 2 * 2
        self._odd = data[even:]
        if not even:
            return []
        pcm = np.frombuffer(data[:even], dtype="<i2")
        return self.feed(Audio.from_array(pcm, self.sample_rate))

    def finish(self) -> list[StreamResult]:
        """End the stream: finalise any open speech and return the last results."""
        x = np.zeros(0, np.float32)
        if self._resampler is not None:
            x = np.asarray(self._resampler.resample_chunk(x, last=True), np.float32)
        return self._consume(x, final=True)

    # -- the work ---------------------------------------------------------------------------
    def _consume(self, x: np.ndarray, *, final: bool) -> list[StreamResult]:
        results: list[StreamResult] = []
        for region in self._regions.push(x, final=final):
            results += self._final(region)
        if not final:
            results += self._partial()
        return results

    def _partial(self) -> list[StreamResult]:
        """Re-decode the open utterance, if one is open and a partial is due."""
        so = self.stream_options
        start = self._regions.open_start()
        end = self._regions.end
        now = time.monotonic()
        if (start is None or so.partial_interval_s <= 0
                or end - self._last_partial_pos < round(so.partial_interval_s * _RATE)
                or now - self._last_partial_wall < so.partial_interval_s):
            return []
        self._last_partial_pos = end
        segments = self._decode(start, self._regions.audio(start), self.partial_options,
                                self._guard.copy())
        self._last_partial_wall = time.monotonic()
        if not segments:
            return []
        self._partial_sent = True
        return [self._result(segments, False, start, end)]

    def _decode(self, start: int, samples: np.ndarray, options: TranscribeOptions,
                guard: HallucinationGuard) -> list[Segment]:
        segments = self.transcriber.decode(Audio(samples[np.newaxis, :], _RATE), options,
                                           offset_s=start / _RATE)
        return list(guard.filter(segments))

    def _final(self, region: Region) -> list[StreamResult]:
        segments = self._decode(region.start, region.samples, self.options, self._guard)
        results = []
        if segments or self._partial_sent:  # an empty final replaces a shown partial
            results.append(self._result(segments, True, region.start,
                                        region.start + len(region.samples)))
            self._next_utt += 1
        self._partial_sent = False
        self._last_partial_pos = self._regions.end
        return results

    def _result(self, segments: list[Segment], final: bool, start: int,
                stop: int) -> StreamResult:
        return StreamResult(
            final=final, utterance=self._next_utt,
            start_s=round(segments[0].start_s if segments else start / _RATE, 3),
            end_s=round(segments[-1].end_s if segments else stop / _RATE, 3),
            text=" ".join(s.text for s in segments), emitted_s=round(self.position_s, 3),
            words=[w for s in segments for w in s.words] if final else [],
        )

    def run(self, blocks: Iterable[Audio]) -> Iterator[StreamResult]:
        """Feed every block, then :meth:`finish`; yield the results as they come (lazily)."""
        for block in blocks:
            yield from self.feed(block)
        yield from self.finish()


# -- sources --------------------------------------------------------------------------------
def pcm16_blocks(fh: BinaryIO, sample_rate: int, block_s: float = DEFAULT_BLOCK_S,
                 *, name: str = "stdin") -> Iterator[Audio]:
    """Read raw 16-bit little-endian mono PCM at ``sample_rate`` Hz from ``fh`` as blocks.

    Each block holds what one read returned (at most ``block_s`` seconds), so a live pipe is
    passed on as soon as data arrives. An odd byte count is an error: raised here for a
    regular file, at the end for a pipe.
    """
    rate = check_sample_rate(sample_rate)
    size = _file_size(fh)
    if size is not None and size % 2:
        raise AudioValueError(f"{name}: {size} bytes is not a whole number of 16-bit samples; "
                              "expected raw s16le mono PCM")
    return _pcm16_reads(fh, rate, max(2, round(block_s * rate) * 2), name)


def _pcm16_reads(fh: BinaryIO, rate: int, nbytes: int, name: str) -> Iterator[Audio]:
    read = getattr(fh, "read1", fh.read)  # read1: return what is there, do not wait for n
    odd = b""
    while data := read(nbytes):
        data = odd + data
        even = len(data) // 2 * 2
        odd = data[even:]
        if even:
            yield Audio.from_array(np.frombuffer(data[:even], dtype="<i2"), rate)
    if odd:
        raise AudioValueError(f"{name}: input ends in the middle of a 16-bit sample "
                              "(odd byte count); expected raw s16le mono PCM")


def _file_size(fh: BinaryIO) -> int | None:
    """Size in bytes of a regular file, None for a pipe or terminal."""
    import stat

    try:
        st = os.fstat(fh.fileno())
    except (OSError, AttributeError, ValueError):  # BytesIO has no descriptor
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def paced(blocks: Iterable[Audio]) -> Iterator[Audio]:
    """Yield each block no earlier than the wall-clock time at which its last frame would have
    been recorded (real-time playback of a file; the first block starts the clock)."""
    start = time.monotonic()
    done_s = 0.0
    for block in blocks:
        done_s += block.duration_s
        delay = start + done_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield block
