"""Repetition / hallucination guard: drop decoded segments that look like a decoder loop.

Whisper-style decoders, fed noise, music or a cut word, sometimes loop: the same phrase many
times in one segment ("I'm sorry. I'm sorry. I'm sorry."), or the previous segment's text
again right after it. :class:`HallucinationGuard` drops a segment when

1. its text's **compression ratio** (UTF-8 bytes / zlib-compressed bytes) is above
   ``max_compression_ratio`` (2.4, whisper's own threshold for a looping decode);
2. it contains an **n-gram loop**: ``n`` words (1 <= n <= :data:`MAX_LOOP_NGRAM`) repeated at
   least ``min_loop_repeats`` times in a row, covering at least :data:`MIN_LOOP_WORDS` words
   and half of the segment;
3. it **repeats the previous n-gram pattern**: its words (normalised) are the previous kept
   segment's words, or a repetition of that segment's last n-gram, and it starts less than
   ``repeat_gap_s`` seconds after that segment ends. A speaker who says a sentence again
   after a pause (>= ``repeat_gap_s``) is kept.

Texts are compared after :func:`wavesmith.speech.evaluate.normalize_text` (case, punctuation
and numbers ignored). The guard only removes segments; it never edits their text or times.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from wavesmith.errors import AudioValueError
from wavesmith.speech.asr import Segment
from wavesmith.speech.evaluate import normalize_text

__all__ = ["GuardOptions", "HallucinationGuard", "compression_ratio", "longest_loop"]

MAX_LOOP_NGRAM = 8        # words: the longest phrase checked for back-to-back repetition
MIN_LOOP_WORDS = 6        # words a loop must cover before it counts ("no no no" is speech)

log = logging.getLogger("wavesmith.speech")


@dataclass(frozen=True, slots=True)
class GuardOptions:
    """Thresholds of :class:`HallucinationGuard` (``enabled=False`` keeps every segment)."""

    enabled: bool = True
    max_compression_ratio: float = 2.4   # bytes / zlib bytes; whisper's default threshold
    min_loop_repeats: int = 3            # back-to-back copies of an n-gram that make a loop
    repeat_gap_s: float = 1.0            # seconds: a repeat of the previous segment closer
                                         # than this is a loop, farther is a speaker repeating

    def __post_init__(self) -> None:
        if self.max_compression_ratio <= 1.0:
            raise AudioValueError(f"max_compression_ratio={self.max_compression_ratio} must "
                                  "be > 1")
        if self.min_loop_repeats < 2:
            raise AudioValueError(f"min_loop_repeats={self.min_loop_repeats} must be >= 2")
        if self.repeat_gap_s < 0:
            raise AudioValueError(f"repeat_gap_s={self.repeat_gap_s} s must be >= 0")


def compression_ratio(text: str) -> float:
    """UTF-8 length of ``text`` over its zlib-compressed length (0.0 for empty text)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def longest_loop(words: list[str]) -> tuple[int, int]:
    """Return ``(n, repeats)`` of the n-gram repeated most often back to back in ``words``.

    ``repeats`` counts the copies in the longest run (1 when nothing repeats); among equal
    runs the shortest ``n`` wins.
    """
    best = (1, 1)
    for n in range(1, min(MAX_LOOP_NGRAM, len(words) // 2) + 1):
        for start in range(n):  # runs aligned on each phase
            run, prev = 1, None
            for i in range(start, len(words) - n + 1, n):
                gram = words[i:i + n]
                run = run + 1 if gram == prev else 1
                prev = gram
                if run > best[1]:
                    best = (n, run)
    return best


def _repeats_pattern(words: list[str], previous: list[str]) -> bool:
    """True if ``words`` is ``previous`` again, or copies of one of its trailing n-grams."""
    if not words or not previous:
        return False
    if words == previous:
        return True
    for n in range(1, min(MAX_LOOP_NGRAM, len(previous)) + 1):
        gram = previous[-n:]
        if len(words) % n == 0 and all(words[i:i + n] == gram
                                       for i in range(0, len(words), n)):
            return True
    return False


class HallucinationGuard:
    """Filter a time-ordered stream of segments; remembers the last segment it kept.

    Examples
    --------
    >>> from wavesmith.speech import Segment
    >>> guard = HallucinationGuard()
    >>> a = Segment(0, 0.0, 2.0, "Thank you for coming.", 0.9)
    >>> b = Segment(1, 2.1, 3.0, "Thank you for coming.", 0.8)
    >>> [s.text for s in guard.filter([a, b])]
    ['Thank you for coming.']
    >>> guard.dropped
    1
    """

    def __init__(self, options: GuardOptions | None = None) -> None:
        self.options = options or GuardOptions()
        self.dropped = 0
        self._previous: tuple[list[str], float] | None = None  # (words, end_s) of last kept

    def reset(self) -> None:
        """Forget the previous segment (a new, unrelated input follows)."""
        self._previous = None

    def copy(self) -> HallucinationGuard:
        """A guard with the same options and memory (for a trial decode that is thrown away)."""
        other = HallucinationGuard(self.options)
        other._previous = self._previous
        return other

    def reason(self, segment: Segment) -> str | None:
        """Why ``segment`` would be dropped (one of the three rules), or None to keep it."""
        opts = self.options
        if not opts.enabled:
            return None
        ratio = compression_ratio(segment.text)
        if ratio > opts.max_compression_ratio:
            return f"compression ratio {ratio:.2f} > {opts.max_compression_ratio}"
        words = normalize_text(segment.text).split()
        n, repeats = longest_loop(words)
        if repeats >= opts.min_loop_repeats and n * repeats >= max(MIN_LOOP_WORDS,
                                                                    len(words) / 2):
            return f"{n}-word phrase repeated {repeats} times"
        if self._previous is not None:
            prev_words, prev_end_s = self._previous
            if (segment.start_s - prev_end_s < opts.repeat_gap_s
                    and _repeats_pattern(words, prev_words)):
                return "repeats the previous segment"
        return None

    def keep(self, segment: Segment) -> bool:
        """Check ``segment``; remember it when kept, count and log it when dropped."""
        why = self.reason(segment)
        if why is not None:
            self.dropped += 1
            log.info("hallucination guard dropped %.2f-%.2f s %r: %s", segment.start_s,
                     segment.end_s, segment.text, why)
            return False
        words = normalize_text(segment.text).split()
        if words:
            self._previous = (words, segment.end_s)
        return True

    def filter(self, segments: Iterable[Segment]) -> Iterator[Segment]:
        """Yield the segments that pass (lazily, in order)."""
        for seg in segments:
            if self.keep(seg):
                yield seg
