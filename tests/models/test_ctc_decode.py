"""CTC decoding: greedy, prefix beam search (checked against brute force), forced alignment."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavesmith.models.ctc_decode import (
    BLANK,
    forced_align,
    frames_to_seconds,
    greedy_decode,
    log_softmax,
    prefix_beam_search,
)


def _collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    out, prev = [], BLANK
    for s in path:
        if s != prev and s != BLANK:
            out.append(s)
        prev = s
    return tuple(out)


def _string_log_probs(lp: np.ndarray) -> dict[tuple[int, ...], float]:
    """Exact log P(string) by summing every frame path (tiny inputs only)."""
    totals: dict[tuple[int, ...], float] = {}
    for path in itertools.product(range(lp.shape[1]), repeat=lp.shape[0]):
        p = math.exp(sum(lp[t, s] for t, s in enumerate(path)))
        key = _collapse(path)
        totals[key] = totals.get(key, 0.0) + p
    return {k: math.log(v) for k, v in totals.items()}


def test_greedy_merges_repeats_and_drops_blanks() -> None:
    frames = [0, 3, 3, 0, 3, 1, 1, 0, 0, 2]
    lp = np.log(np.full((len(frames), 4), 0.01))
    lp[np.arange(len(frames)), frames] = np.log(0.97)
    assert greedy_decode(lp) == [3, 3, 1, 2]


def test_beam_search_finds_the_string_greedy_misses() -> None:
    # best path is blank,blank (empty string, p=0.36) but "1" has p=0.64 summed over paths
    probs = np.array([[0.6, 0.4], [0.6, 0.4]])
    lp = np.log(probs)
    assert greedy_decode(lp) == []
    best = prefix_beam_search(lp, beam_size=4)[0]
    assert best.symbols == (1,)
    assert best.log_prob == pytest.approx(math.log(0.4 * 0.4 + 0.4 * 0.6 + 0.6 * 0.4), abs=1e-9)


@given(seed=st.integers(0, 2**32 - 1), frames=st.integers(1, 6))
@settings(max_examples=40, deadline=None)
def test_beam_search_matches_brute_force(seed: int, frames: int) -> None:
    rng = np.random.default_rng(seed)
    lp = log_softmax(rng.normal(0.0, 2.0, size=(frames, 3)), axis=1)
    exact = _string_log_probs(lp)
    hyps = prefix_beam_search(lp, beam_size=64, prune_log_prob=-math.inf)
    best = max(exact, key=exact.__getitem__)
    assert hyps[0].symbols == best
    for h in hyps:  # a wide beam keeps every prefix: scores are exact
        assert h.log_prob == pytest.approx(exact[h.symbols], abs=1e-9)


def test_forced_align_puts_each_symbol_on_its_frames() -> None:
    frames = [0, 0, 2, 2, 0, 0, 2, 0, 1, 1, 0]
    lp = np.log(np.full((len(frames), 3), 0.02))
    lp[np.arange(len(frames)), frames] = np.log(0.96)
    assert forced_align(lp, [2, 2, 1]) == [(2, 3), (6, 6), (8, 9)]
    assert forced_align(lp, []) == []
    with pytest.raises(ValueError, match="cannot spell"):
        forced_align(lp[:2], [2, 2, 1])          # needs >= 4 frames (a blank between 2s)
    assert frames_to_seconds((2, 3), 0.02) == pytest.approx((0.03, 0.07))
    assert frames_to_seconds((0, 0), 0.02) == pytest.approx((0.0, 0.01))
