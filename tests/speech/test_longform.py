"""Long inputs: VAD regions in bounded memory, packing, time mapping, and a real ~75-s input
whose sentences sit at known offsets."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tests.speech._long_input import RATE, Placed, build
from wavesmith import io
from wavesmith.speech import Segment, normalize_text, transcribe
from wavesmith.speech.evaluate import word_error_counts
from wavesmith.speech.longform import Chunk, Span, pack_regions
from wavesmith.speech.regions import Region, SpeechRegions

TOLERANCE_S = 0.5   # seconds a word may sit outside its sentence's clip


def wer(ref: str, hyp: str) -> float:
    sub, dele, ins, n = word_error_counts(normalize_text(ref), normalize_text(hyp))
    return (sub + dele + ins) / n


def test_pack_regions_and_map_times_back() -> None:
    regions = [Region(start, np.full(round(d * RATE), i, np.float32))
               for i, (start, d) in enumerate([(16_000, 2.0), (80_000, 3.0), (200_000, 4.0)])]
    chunks = list(pack_regions(regions, chunk_s=6.0))
    assert [len(c.spans) for c in chunks] == [2, 1]      # 2 + 3 s fit, + 4 s would not
    first = chunks[0]
    assert first.spans == [Span(0.0, 1.0, 2.0), Span(2.0, 5.0, 3.0)]
    np.testing.assert_array_equal(first.samples[:2 * RATE], 0.0)
    np.testing.assert_array_equal(first.samples[2 * RATE:], 1.0)
    assert first.to_input(0.5) == pytest.approx(1.5)
    assert first.to_input(2.0) == pytest.approx(5.0)             # border: the later region
    assert first.to_input(2.0, end=True) == pytest.approx(3.0)   # an end: the earlier one
    assert first.to_input(4.5) == pytest.approx(7.5)
    assert first.to_input(9.0) == pytest.approx(8.0)             # clipped to the last span
    assert chunks[1].end_s == pytest.approx(16.5)


def test_chunk_to_input_single_span() -> None:
    chunk = Chunk(np.zeros(RATE, np.float32), [Span(0.0, 100.0, 1.0)])
    assert chunk.to_input(0.25) == pytest.approx(100.25)


@pytest.mark.integration
def test_regions_memory_is_bounded_on_endless_speech(shared_data: Path) -> None:
    """Speech with no pause as long as min_silence_s (jfk 8 times over, then cafe babble):
    regions are cut at max_region_s and the buffer never holds much more than that."""
    noise = io.load(shared_data / "noise/blanket_coffee-shop.ogg", sample_rate=RATE,
                    mono=True).samples[0]
    speech = io.load(shared_data / "speech/sentences/jfk.flac", sample_rate=RATE,
                     mono=True).samples[0]
    x = np.concatenate([np.tile(speech, 8), noise])   # ~88 s of talking, then babble
    detector = SpeechRegions(max_region_s=12.0, min_silence_s=2.0)
    block = 4_000
    most = 0
    regions: list[Region] = []
    for i in range(0, len(x), block):
        regions += detector.push(x[i:i + block])
        most = max(most, detector.buffered)
    regions += detector.push(np.zeros(0, np.float32), final=True)
    assert most <= 12.0 * RATE + 2 * block
    assert all(r.duration_s <= 12.0 + 1e-6 for r in regions)
    starts = [r.start for r in regions]
    assert starts == sorted(starts)
    assert all(a.start + len(a.samples) <= b.start for a, b in itertools.pairwise(regions))
    for r in regions:  # every region is the input's audio at its place
        np.testing.assert_array_equal(r.samples, x[r.start:r.start + len(r.samples)])
    # the 8 copies of jfk (88 s, pauses < 2 s) are kept, in regions cut near 12 s
    assert sum(r.duration_s for r in regions if r.start < 88 * RATE) >= 80.0
    assert sum(r.duration_s > 12.0 - 5.0 for r in regions) >= 6


def check_words_at_offsets(segments: list[Segment], placed: list[Placed]) -> None:
    """Each sentence's words lie within TOLERANCE_S of its clip; each sentence is there."""
    words = [w for s in segments for w in s.words]
    starts = [w.start_s for w in words]
    assert starts == sorted(starts)
    for w in words:  # no word in the noise between sentences
        assert any(p.start_s - TOLERANCE_S <= w.start_s and w.end_s <= p.end_s + TOLERANCE_S
                   for p in placed), w
    for p in placed:
        inside = [w.text for w in words if p.start_s - TOLERANCE_S <= w.start_s
                  and w.end_s <= p.end_s + TOLERANCE_S]
        assert wer(p.text, " ".join(inside)) <= 0.4, (p.text, inside)


@pytest.mark.integration
def test_long_input_timestamps_and_wer(shared_data: Path, tmp_path: Path) -> None:
    audio, placed = build(shared_data)
    path = tmp_path / "long.flac"
    io.save(audio, path)
    calls: list[tuple[float, float]] = []
    segments, info = transcribe(path, progress=lambda done, total: calls.append((done, total)))
    assert info.duration_s == pytest.approx(audio.duration_s, abs=1e-3)
    segs = list(segments)
    check_words_at_offsets(segs, placed)
    text = " ".join(s.text for s in segs)
    assert wer(" ".join(p.text for p in placed), text) <= 0.15  # 0.08 measured
    assert [s.id for s in segs] == list(range(len(segs)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and calls[-1] == (info.duration_s, info.duration_s)
    assert len(calls) >= 3  # ~75 s of audio in 30-s chunks: progress after each
