"""The repetition / hallucination guard (text-level rules, on constructed segments)."""

from __future__ import annotations

import pytest

from wavesmith.errors import AudioValueError
from wavesmith.speech import Segment
from wavesmith.speech.guard import (
    GuardOptions,
    HallucinationGuard,
    compression_ratio,
    longest_loop,
)

JFK = "And so, my fellow Americans, ask not what your country can do for you."


def seg(i: int, start_s: float, end_s: float, text: str) -> Segment:
    return Segment(id=i, start_s=start_s, end_s=end_s, text=text, confidence=0.9)


def test_compression_ratio_separates_loops_from_sentences() -> None:
    assert compression_ratio("") == 0.0
    assert compression_ratio(JFK) < 1.5
    assert compression_ratio("I'm sorry. " * 12) > 2.4


def test_longest_loop() -> None:
    assert longest_loop(list("abcd")) == (1, 1)
    assert longest_loop(["x", *["go", "to", "bed"] * 3, "y"]) == (3, 3)
    assert longest_loop(["no"] * 4) == (1, 4)


def test_drops_an_in_segment_loop_and_keeps_speech() -> None:
    guard = HallucinationGuard()
    loop = seg(1, 3.0, 9.0, "Thank you for watching. Thank you for watching. "
                            "Thank you for watching.")
    kept = list(guard.filter([seg(0, 0.0, 3.0, JFK), loop, seg(2, 9.5, 10.0, "no no no")]))
    assert [s.id for s in kept] == [0, 2]   # "no no no" covers < 6 words: speech
    assert guard.dropped == 1
    assert "repeated 3 times" in (HallucinationGuard().reason(loop) or "")


def test_repeat_of_previous_segment_depends_on_the_gap() -> None:
    guard = HallucinationGuard()
    first = seg(0, 0.0, 2.0, "Ask not.")
    close = seg(1, 2.3, 3.0, "ask not")          # right after: a decoder loop
    later = seg(2, 6.0, 7.0, "Ask not!")         # after a pause: a speaker repeating
    tail = seg(3, 7.2, 7.5, "not not")           # copies of the previous last word
    assert [s.id for s in guard.filter([first, close, later, tail])] == [0, 2]
    assert guard.dropped == 2


def test_disabled_guard_keeps_everything_and_options_are_checked() -> None:
    guard = HallucinationGuard(GuardOptions(enabled=False))
    segs = [seg(0, 0.0, 1.0, "hello"), seg(1, 1.0, 2.0, "hello"), seg(2, 2, 3, "a " * 40)]
    assert list(guard.filter(segs)) == segs
    with pytest.raises(AudioValueError, match=r"max_compression_ratio=1\.0 must be > 1"):
        GuardOptions(max_compression_ratio=1.0)
    with pytest.raises(AudioValueError, match="repeat_gap_s=-1 s"):
        GuardOptions(repeat_gap_s=-1)
