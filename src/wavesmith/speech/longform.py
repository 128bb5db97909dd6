"""Long inputs: VAD-gated chunks, decoded one by one in bounded memory.

The input arrives as 16 kHz mono blocks (a file is streamed and resampled block by block by
:func:`wavesmith.io.stream`; it is never loaded whole). :class:`~wavesmith.speech.regions.
SpeechRegions` turns them into speech regions (Silero VAD, each padded by ``pad_s`` of real
audio, neighbours sharing their gap; a region is at most ``chunk_s`` long). Consecutive
regions are **packed** into chunks of at most ``chunk_s`` seconds of speech, with the
non-speech between them left out, like faster-whisper's own VAD filter. Chunks are decoded
``options.batch_size`` at a time (whisper batches them through one encoder pass), every
segment and word time is mapped back from the chunk's timeline to the input's through the
chunk's :class:`Span` list, so timestamps are correct across chunks, and segments are split
into sentences by their word times (:func:`split_sentences`). Segments then pass the
hallucination guard (:mod:`wavesmith.speech.guard`).

Peak memory: about ``(batch_size + 1) × chunk_s × 16000 × 4`` bytes of audio (the batch,
and the VAD's undecided audio; 9.6 MB at the defaults) plus one read block, plus the
engine's working memory for one batch (whisper tiny.en: ~75 MB over the loaded model at
``batch_size=1``, ~330 MB at 4), whatever the input's length.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from wavesmith.audio import Audio
from wavesmith.speech.asr import Segment, TranscribeOptions, Transcriber, _monotonic
from wavesmith.speech.guard import GuardOptions, HallucinationGuard
from wavesmith.speech.regions import RATE_HZ, Region, SpeechRegions

__all__ = ["CHUNK_MIN_SILENCE_S", "CHUNK_PAD_S", "Chunk", "Span",
           "pack_regions", "split_sentences", "transcribe_long"]

CHUNK_PAD_S = 0.4           # seconds of real audio kept each side of speech (as faster-whisper)
CHUNK_MIN_SILENCE_S = 0.5   # seconds of non-speech that separate two regions
SPLIT_GAP_S = 1.0           # seconds of pause between words that end a segment
SENTENCE_ENDS = (".", "?", "!")

Progress = Callable[[float, float], None]  # (seconds of input done, seconds total)


@dataclass(frozen=True, slots=True)
class Span:
    """One region inside a chunk: ``duration_s`` seconds at ``chunk_s`` in the chunk are
    ``input_s`` seconds into the input."""

    chunk_s: float
    input_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class Chunk:
    """Packed speech regions: 16 kHz mono samples and where each piece came from."""

    samples: np.ndarray        # float32, shape (frames,)
    spans: list[Span]

    @property
    def end_s(self) -> float:
        """End, in seconds of the input, of the last region."""
        last = self.spans[-1]
        return last.input_s + last.duration_s

    def _span(self, t: float, *, end: bool) -> int:
        starts = [s.chunk_s for s in self.spans]
        return max((bisect.bisect_left if end else bisect.bisect_right)(starts, t) - 1, 0)

    def to_input(self, t: float, *, end: bool = False) -> float:
        """Map a time in the chunk (seconds) to the input's timeline.

        A time on the border of two regions belongs to the later one, or to the earlier one
        with ``end=True`` (an end time stays inside the speech it ends).
        """
        span = self.spans[self._span(t, end=end)]
        local = min(max(t - span.chunk_s, 0.0), span.duration_s)
        return span.input_s + local

    def interval_to_input(self, start: float, end: float) -> tuple[float, float]:
        """Map a word's ``(start, end)`` in the chunk. A word that straddles two regions (its
        alignment ran over the join) is kept whole in the region holding more of it."""
        i, j = self._span(start, end=False), self._span(end, end=True)
        if i == j:
            return self.to_input(start), self.to_input(end, end=True)
        first, last = self.spans[i], self.spans[j]
        if first.chunk_s + first.duration_s - start >= end - last.chunk_s:
            return self.to_input(start), first.input_s + first.duration_s
        return last.input_s, self.to_input(end, end=True)


def pack_regions(regions: Iterable[Region], chunk_s: float) -> Iterator[Chunk]:
    """Group consecutive regions into chunks of at most ``chunk_s`` seconds of audio.

    A region longer than ``chunk_s`` becomes a chunk of its own. Memory: one chunk.
    """
    pending: list[Region] = []
    total = 0
    limit = round(chunk_s * RATE_HZ)

    def flush() -> Chunk:
        spans, t = [], 0
        for r in pending:
            spans.append(Span(t / RATE_HZ, r.start_s, r.duration_s))
            t += len(r.samples)
        return Chunk(np.concatenate([r.samples for r in pending]), spans)

    for region in regions:
        if pending and total + len(region.samples) > limit:
            yield flush()
            pending, total = [], 0
        pending.append(region)
        total += len(region.samples)
    if pending:
        yield flush()


def _mapped(seg: Segment, chunk: Chunk) -> Segment:
    words = []
    for w in seg.words:
        start_s, end_s = chunk.interval_to_input(w.start_s, w.end_s)
        words.append(replace(w, start_s=round(start_s, 3), end_s=round(max(end_s, start_s), 3)))
    start_s = chunk.to_input(seg.start_s)
    end_s = chunk.to_input(seg.end_s, end=True)
    if words:  # the segment spans its words
        start_s, end_s = min(start_s, words[0].start_s), max(end_s, words[-1].end_s)
    return replace(seg, start_s=round(start_s, 3), end_s=round(max(end_s, start_s), 3),
                   words=words)


def split_sentences(seg: Segment) -> list[Segment]:
    """Split a segment with word times after each sentence end (``.``, ``?``, ``!``) and at
    every pause of :data:`SPLIT_GAP_S` or more between words; text is re-joined from the words.
    A segment without words, or with nothing to split, is returned unchanged."""
    if not seg.words:
        return [seg]
    groups, current = [], [seg.words[0]]
    for prev, word in itertools.pairwise(seg.words):
        if prev.text.endswith(SENTENCE_ENDS) or word.start_s - prev.end_s >= SPLIT_GAP_S:
            groups.append(current)
            current = []
        current.append(word)
    groups.append(current)
    if len(groups) == 1:
        return [seg]
    return [replace(seg, start_s=ws[0].start_s, end_s=ws[-1].end_s,
                    text=" ".join(w.text for w in ws), words=ws) for ws in groups]


def _batches(chunks: Iterable[Chunk], size: int) -> Iterator[list[Chunk]]:
    batch: list[Chunk] = []
    for chunk in chunks:
        batch.append(chunk)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def transcribe_long(transcriber: Transcriber, blocks: Iterable[Audio],
                    options: TranscribeOptions, *, duration_s: float,
                    guard: GuardOptions | None = None,
                    progress: Progress | None = None) -> Iterator[Segment]:
    """Yield the segments of 16 kHz mono ``blocks``, VAD-chunked (see the module docstring).

    Chunks are decoded ``options.batch_size`` at a time (:meth:`Transcriber.decode_batch`).
    Segments are numbered from 0 with non-decreasing times in seconds from the first block.
    Nothing is read until the first ``next()``; closing the generator closes ``blocks``
    (a file reader) too.
    """
    detector = SpeechRegions(min_silence_s=CHUNK_MIN_SILENCE_S, pad_s=CHUNK_PAD_S,
                             max_region_s=options.chunk_s)
    engine_options = replace(options, vad=False)  # the chunks are speech already
    checker = HallucinationGuard(guard)

    def regions() -> Iterator[Region]:
        for block in blocks:
            yield from detector.push(block.samples[0])
        yield from detector.push(np.zeros(0, np.float32), final=True)

    next_id, last_end_s = 0, 0.0
    source = regions()
    try:
        for batch in _batches(pack_regions(source, options.chunk_s), options.batch_size):
            decoded = transcriber.decode_batch(
                [Audio(c.samples[np.newaxis, :], RATE_HZ) for c in batch], engine_options)
            for chunk, raw in zip(batch, decoded, strict=True):
                mapped = (part for s in raw for part in split_sentences(_mapped(s, chunk)))
                for seg in checker.filter(mapped):
                    seg = _monotonic(seg, next_id, last_end_s)
                    last_end_s = seg.end_s
                    next_id += 1
                    yield seg
            if progress is not None:
                progress(min(batch[-1].end_s, duration_s), duration_s)
        if progress is not None:
            progress(duration_s, duration_s)
    finally:
        source.close()
        if hasattr(blocks, "close"):
            blocks.close()
