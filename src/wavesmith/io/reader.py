"""Reading audio: :func:`info`, :func:`open` (a block reader), :func:`load` and :func:`stream`.

Files are decoded by libsndfile (soundfile) in-process, or by ffmpeg for the containers
libsndfile does not read (see :mod:`wavesmith.io._backends`). Files are recognised by their
bytes, not their names: MP3 data in a file called ``x.wav`` is read as MP3, and :func:`info`
reports ``format="MP3"``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wavesmith.audio import RESAMPLE_QUALITY, Audio, check_sample_rate
from wavesmith.errors import AudioFileError, AudioValueError, InvalidAudioError
from wavesmith.io._backends import FfmpegSource, SoundfileSource, open_source

__all__ = [
    "DEFAULT_BLOCK_SECONDS",
    "DEFAULT_MAX_LOAD_BYTES",
    "AudioInfo",
    "AudioReader",
    "info",
    "load",
    "open_audio",
    "stream",
]

DEFAULT_BLOCK_SECONDS = 1.0          # seconds per block yielded by stream()
DEFAULT_MAX_LOAD_BYTES = 4 * 2**30   # bytes of float32 that load() agrees to allocate (4 GiB)
_SCAN_BLOCK_FRAMES = 262_144         # frames per block when info() scans float files for NaN
_LOAD_BLOCK_FRAMES = 65_536          # frames per block when load() decodes and resamples

Progress = Callable[[float, float], None]  # (seconds done, seconds total)


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a file holds, read from its header (and, for float data, checked to be finite)."""

    path: str
    format: str            # container, e.g. "WAV", "FLAC", "OGG", "MP3", "MOV"
    format_name: str       # long name, e.g. "WAV (Microsoft)"
    codec: str             # subtype/codec, e.g. "PCM_16", "VORBIS", "AAC"
    sample_rate: int       # Hz
    channels: int
    frames: int            # per channel; estimated from the duration for ffmpeg sources
    duration_s: float      # seconds
    size_bytes: int        # file size
    backend: str           # "libsndfile" or "ffmpeg"


class AudioReader:
    """A context-managed reader that decodes a file block by block.

    Peak memory is about ``block frames × channels × 4 bytes``, independent of file length.

    Examples
    --------
    >>> from wavesmith import io
    >>> with io.open_audio("speech.flac") as reader:  # doctest: +SKIP
    ...     reader.seek(reader.frame_at(1.0))
    ...     first_second = reader.read(reader.sample_rate)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._src: SoundfileSource | FfmpegSource = open_source(path)
        self.path: Path = self._src.path
        self.sample_rate: int = self._src.sample_rate
        self.channels: int = self._src.channels
        self.frames: int = self._src.frames
        self._pos = 0
        if self._src.backend == "libsndfile" and self.frames == 0:
            self.close()
            raise AudioFileError(f"{self.path}: contains no audio (0 frames)")

    # -- context management ---------------------------------------------------------------
    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the file (or the ffmpeg process)."""
        self._src.close()

    # -- positions ------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        """Duration in seconds (estimated for ffmpeg sources)."""
        return self.frames / self.sample_rate

    def frame_at(self, time_s: float) -> int:
        """Frame index at ``time_s`` seconds."""
        return round(time_s * self.sample_rate)

    def tell(self) -> int:
        """Current frame position."""
        return self._pos

    def seek(self, frame: int) -> None:
        """Move to ``frame`` (0-based); later reads start there."""
        if frame < 0 or (self._src.backend == "libsndfile" and frame > self.frames):
            raise AudioValueError(
                f"{self.path}: cannot seek to frame {frame} (file has {self.frames})"
            )
        self._src.seek(frame)
        self._pos = frame

    # -- reading --------------------------------------------------------------------------
    def read(self, frames: int = -1, *, mono: bool = False) -> Audio:
        """Decode up to ``frames`` frames (all remaining when -1) into an :class:`Audio`.

        With ``mono`` the channels are averaged (as :meth:`Audio.to_mono`) straight from the
        decoder's frames-first buffer, which saves transposing and copying every channel.

        Raises
        ------
        InvalidAudioError
            If the decoded block holds NaN or inf (names the file and the time).
        """
        if frames < 0:
            if self._src.backend == "ffmpeg":
                joined = _join(list(self.blocks(self.sample_rate * 10)), self)
                return joined.to_mono() if mono else joined
            frames = self.frames - self._pos
        x = self._read_raw(frames, mono=mono)
        return Audio(np.ascontiguousarray(x.T), self.sample_rate)

    def _read_raw(self, frames: int, *, mono: bool = False) -> np.ndarray:
        """Decode up to ``frames`` frames as a checked ``(frames, channels)`` float32 array."""
        x = self._src.read(frames)
        self._check_finite(x)
        self._pos += x.shape[0]
        return _downmix(x) if mono and x.shape[1] > 1 else x

    def blocks(self, block_frames: int, stop: int | None = None) -> Iterator[Audio]:
        """Yield consecutive blocks of ``block_frames`` frames until ``stop`` (or the end).

        The last block may be shorter. Nothing is decoded until the first block is read.
        """
        if block_frames < 1:
            raise AudioValueError(f"block_frames={block_frames} must be >= 1")
        while stop is None or self._pos < stop:
            n = block_frames if stop is None else min(block_frames, stop - self._pos)
            block = self.read(n)
            if block.frames == 0:
                return
            yield block
            if block.frames < n:
                return

    def _check_finite(self, x: np.ndarray) -> None:
        if x.size and not np.isfinite(x).all():
            bad = ~np.isfinite(x)
            first = (self._pos + int(np.argmax(bad.any(axis=1)))) / self.sample_rate
            raise InvalidAudioError(
                f"{self.path}: {int(bad.sum())} non-finite sample(s) (NaN or inf), "
                f"first at {first:.3f} s"
            )

    def info(self) -> AudioInfo:
        """The :class:`AudioInfo` of the open file."""
        src = self._src
        return AudioInfo(
            path=str(self.path), format=src.format, format_name=src.format_name,
            codec=src.codec, sample_rate=self.sample_rate, channels=self.channels,
            frames=self.frames, duration_s=self.duration_s,
            size_bytes=self.path.stat().st_size, backend=src.backend,
        )


def _downmix(x: np.ndarray) -> np.ndarray:
    """Mean of a ``(frames, channels)`` float32 array as ``(frames, 1)``, bit-identical to
    :meth:`Audio.to_mono` (channels summed in order, then divided by their count); working on
    the decoder's frames-first buffer saves transposing and copying every channel."""
    y = x[:, 0].copy()
    for c in range(1, x.shape[1]):
        y += x[:, c]
    y /= np.float32(x.shape[1])
    return y[:, np.newaxis]


def _read_resampled(reader: AudioReader, stop: int | None, mono: bool, target: int) -> Audio:
    """Decode from the reader's position to ``stop`` and resample to ``target`` Hz.

    Decoding the next block in a worker thread while soxr resamples the current one (both
    release the GIL) overlaps the two, and the whole file is never held at its source rate:
    on a 10-minute 44.1 kHz stereo file this takes about half of librosa's time and a quarter
    of its memory (``bench/run.py``). soxr's streaming output equals its one-shot output.
    """
    import soxr

    channels = 1 if mono else reader.channels
    resampler = soxr.ResampleStream(reader.sample_rate, target, channels, dtype="float32",
                                    quality=RESAMPLE_QUALITY)

    def next_block() -> np.ndarray:
        n = _LOAD_BLOCK_FRAMES if stop is None else min(_LOAD_BLOCK_FRAMES, stop - reader.tell())
        return reader._read_raw(n, mono=mono) if n > 0 else np.zeros((0, channels), np.float32)

    pieces = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next_block)
        while True:
            x = pending.result()
            if not len(x):
                break
            pending = pool.submit(next_block)
            pieces.append(resampler.resample_chunk(x, last=False))
    pieces.append(resampler.resample_chunk(np.zeros((0, channels), np.float32), last=True))
    y = np.concatenate([p.reshape(-1, channels) for p in pieces])
    return Audio(np.ascontiguousarray(y.T), target)


def _join(blocks: list[Audio], reader: AudioReader) -> Audio:
    if not blocks:
        return Audio(np.zeros((reader.channels, 0), np.float32), reader.sample_rate)
    return Audio(np.concatenate([b.samples for b in blocks], axis=1), reader.sample_rate)


def open_audio(path: str | os.PathLike[str]) -> AudioReader:
    """Open ``path`` for block reading; use as a context manager. Also exported as ``io.open``."""
    return AudioReader(path)


def info(path: str | os.PathLike[str]) -> AudioInfo:
    """Describe an audio file: format, codec, rate (Hz), channels, frames, duration (s).

    The header is read and checked (rate, channels, truncation). Files holding float samples
    are also scanned block by block for NaN/inf, since no later step could use them.

    Raises
    ------
    AudioFileError
        Missing, unreadable, empty, truncated or corrupt file (or a subclass of it).
    InvalidAudioError
        Rate or channel count out of range, or non-finite float samples.
    """
    with AudioReader(path) as reader:
        result = reader.info()
        if result.codec in ("FLOAT", "DOUBLE"):
            for _ in reader.blocks(_SCAN_BLOCK_FRAMES):
                pass
        return result


def load(
    path: str | os.PathLike[str],
    sample_rate: int | None = None,
    mono: bool = False,
    offset: float = 0.0,
    duration: float | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_LOAD_BYTES,
) -> Audio:
    """Decode a whole file (or a part of it) into an :class:`Audio`.

    Parameters
    ----------
    path : path-like
        Any format :func:`info` accepts.
    sample_rate : int, optional
        Resample to this rate in Hz (soxr HQ). ``None`` keeps the file's rate.
    mono : bool, default False
        Average the channels into one.
    offset : float, default 0.0
        Start time in seconds.
    duration : float, optional
        Seconds to read from ``offset``; ``None`` reads to the end.
    max_bytes : int, default 4 GiB
        Refuse to decode more float32 data than this; long files belong to :func:`stream`.

    Returns
    -------
    Audio
        float32 ``(channels, frames)``; ``channels`` is 1 when ``mono``.
    """
    if offset < 0:
        raise AudioValueError(f"{path}: offset={offset} s must be >= 0")
    if duration is not None and duration < 0:
        raise AudioValueError(f"{path}: duration={duration} s must be >= 0")
    target = None if sample_rate is None else check_sample_rate(sample_rate)
    with AudioReader(path) as reader:
        first = reader.frame_at(offset)
        if reader._src.backend == "libsndfile" and first >= reader.frames:
            raise AudioValueError(
                f"{path}: offset={offset} s is past the end (duration {reader.duration_s:.3f} s)"
            )
        stop = None if duration is None else first + reader.frame_at(duration)
        if reader._src.backend == "libsndfile":  # exact length; ffmpeg's is an estimate
            stop = reader.frames if stop is None else min(stop, reader.frames)
        span = (reader.frames if stop is None else stop) - first
        need = span * reader.channels * 4
        if need > max_bytes:
            raise AudioFileError(
                f"{path}: decoding {span / reader.sample_rate / 3600:.1f} h whole needs "
                f"{need / 2**30:.1f} GiB (limit {max_bytes / 2**30:.1f} GiB); "
                "use io.stream() or pass offset/duration"
            )
        if first:
            reader.seek(first)
        if target is not None and target != reader.sample_rate:
            audio = _read_resampled(reader, stop, mono, target)
        elif reader._src.backend == "ffmpeg":
            audio = _join(list(reader.blocks(_LOAD_BLOCK_FRAMES, stop=stop)), reader)
            audio = audio.to_mono() if mono else audio
        else:
            assert stop is not None
            audio = reader.read(stop - first, mono=mono)
    if audio.frames == 0:
        raise AudioFileError(f"{path}: contains no audio (0 frames decoded)")
    return audio


def stream(
    path: str | os.PathLike[str],
    block_seconds: float = DEFAULT_BLOCK_SECONDS,
    *,
    sample_rate: int | None = None,
    mono: bool = False,
    offset: float = 0.0,
    duration: float | None = None,
    progress: Progress | None = None,
) -> Iterator[Audio]:
    """Yield a file as consecutive :class:`Audio` blocks of ``block_seconds`` seconds.

    Memory stays at a few blocks whatever the file's length. With ``sample_rate`` the blocks
    are resampled by a streaming soxr resampler, so the joined blocks equal a whole-file
    resample within floating-point error. The file is opened (and validated) on the first
    ``next()``; it is closed when the generator finishes or is closed.

    Parameters
    ----------
    block_seconds : float
        Block length in seconds of the file's rate; the last block may be shorter, and
        resampled blocks vary by a few frames.
    sample_rate, mono, offset, duration
        As in :func:`load`.
    progress : callable, optional
        Called as ``progress(seconds_done, seconds_total)`` after each block.
    """
    if block_seconds <= 0:
        raise AudioValueError(f"{path}: block_seconds={block_seconds} must be > 0")
    target = None if sample_rate is None else check_sample_rate(sample_rate)
    with AudioReader(path) as reader:
        first = reader.frame_at(offset)
        stop = None if duration is None else first + reader.frame_at(duration)
        total_s = ((stop if stop is not None else reader.frames) - first) / reader.sample_rate
        if first:
            reader.seek(first)
        out_channels = 1 if mono else reader.channels
        resampler = None
        if target is not None and target != reader.sample_rate:
            import soxr

            resampler = soxr.ResampleStream(
                reader.sample_rate, target, out_channels, dtype="float32",
                quality=RESAMPLE_QUALITY,
            )
        block_frames = max(1, round(block_seconds * reader.sample_rate))
        done = 0
        for block in reader.blocks(block_frames, stop=stop):
            done += block.frames
            if mono:
                block = block.to_mono()
            if resampler is not None:
                y = resampler.resample_chunk(block.samples.T, last=False)
                block = Audio(np.ascontiguousarray(y.reshape(-1, out_channels).T), target)
            if progress is not None:
                progress(done / reader.sample_rate, total_s)
            if block.frames:
                yield block
        if resampler is not None:
            tail = resampler.resample_chunk(np.zeros((0, out_channels), np.float32), last=True)
            if len(tail):
                yield Audio(np.ascontiguousarray(tail.reshape(-1, out_channels).T), target)
