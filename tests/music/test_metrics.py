"""Objective melody metrics and the set distance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wavesmith.music.metrics import metric_distance, piece_metrics
from wavesmith.music.midi import NO_EVENT, NOTE_OFF, Melody


def _scale_melody(pitches: list[int], step: int = 4, bars: int = 2) -> Melody:
    t = np.full(16 * bars, NO_EVENT, np.int16)
    for i, p in enumerate(pitches):
        t[i * step] = p
    if len(pitches) * step < t.size:
        t[len(pitches) * step] = NOTE_OFF                       # the last note ends
    return Melody(t, 16)


def test_c_major_scale_metrics() -> None:
    m = piece_metrics(_scale_melody([60, 62, 64, 65, 67, 69, 71, 72]))
    assert m.scale_consistency == pytest.approx(1.0)
    # 8 notes, C twice: entropy of (2,1,1,1,1,1,1)/8 in bits
    p = np.array([2, 1, 1, 1, 1, 1, 1]) / 8
    assert m.pitch_class_entropy == pytest.approx(float(-(p * np.log2(p)).sum()))
    assert m.pitch_range == 12
    assert m.note_density == pytest.approx(4.0)                # 8 notes in 2 bars
    assert m.empty_bar_rate == 0.0 and m.polyphony == 1.0
    assert m.groove_consistency == pytest.approx(1.0)          # same onsets in both bars


def test_empty_bar_and_chromatic() -> None:
    m = piece_metrics(_scale_melody(list(range(60, 64)), step=1, bars=2))
    assert m.empty_bar_rate == pytest.approx(0.5)
    assert m.scale_consistency == pytest.approx(0.75)          # C C# D D#: 3 in C minor
    assert m.groove_consistency == pytest.approx(1 - 4 / 16)


def test_distance_zero_for_same_set_and_grows_with_shift() -> None:
    a = [_scale_melody([60 + k, 62 + k, 64 + k]) for k in range(5)]
    same = metric_distance(a, a)
    assert same["mean"] == 0.0
    wide = [_scale_melody([48, 62, 84]) for _ in range(5)]
    d = metric_distance(wide, a)
    assert d["pitch_range"] > 1.0 and d["mean"] > 0.0 and math.isfinite(d["mean"])
