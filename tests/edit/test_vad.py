"""Voice activity detection: the segmenter's rules, streaming, and accuracy on real speech."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, io
from wavesmith.edit import SpeechDetector, SpeechSegment, detect_speech, detect_speech_file
from wavesmith.edit.evaluate import digit_sequence
from wavesmith.edit.vad import VAD_METHODS, _Segmenter, speech_mask, webrtc_mode
from wavesmith.errors import AudioValueError, SampleRateError

HOP_S = 0.032  # seconds per score in the segmenter tests (Silero's frame)
JFK = "speech/sentences/jfk.flac"


def _segments(scores: list[float], duration_s: float | None = None, *, threshold: float = 0.5,
              min_speech_s: float = 0.0, min_silence_s: float = 0.1, pad_s: float = 0.0,
              max_speech_s: float | None = None) -> list[tuple[float, float]]:
    seg = _Segmenter(HOP_S, threshold, min_speech_s, min_silence_s, pad_s, max_speech_s)
    out = seg.push(np.array(scores, np.float32))
    out += seg.finish(len(scores) * HOP_S if duration_s is None else duration_s)
    return [(s.start, s.end) for s in out]


def test_segmenter_hysteresis_and_min_silence() -> None:
    # speech frames 2-5; a 2-frame dip (64 ms < 100 ms) is bridged; 0.4 keeps speech going
    scores = [0, 0, .9, .9, .1, .1, .4, .9, 0, 0, 0, 0, 0, 0]
    assert _segments(scores) == [(pytest.approx(2 * HOP_S), pytest.approx(8 * HOP_S))]
    # as in Silero, a pause ends speech once a silent frame starts >= min_silence_s after
    # the pause began: 4 silent frames (96 ms between first and last start) are bridged, 5
    # (128 ms) split the segment where the pause began
    assert len(_segments([0, .9, .9, 0, 0, 0, 0, .9, .9, 0, 0, 0, 0, 0])) == 1
    scores = [0, .9, .9, 0, 0, 0, 0, 0, .9, .9, 0, 0, 0, 0, 0]
    assert _segments(scores) == [(pytest.approx(HOP_S), pytest.approx(3 * HOP_S)),
                                 (pytest.approx(8 * HOP_S), pytest.approx(10 * HOP_S))]


def test_segmenter_min_speech_and_padding() -> None:
    scores = [0] * 5 + [.9] * 3 + [0] * 10 + [.9] * 20 + [0] * 10
    # the 96 ms blip is dropped by min_speech_s=0.25; the long one is padded 50 ms each side
    got = _segments(scores, min_speech_s=0.25, pad_s=0.05)
    assert got == [(pytest.approx(18 * HOP_S - 0.05), pytest.approx(38 * HOP_S + 0.05))]


def test_segmenter_neighbours_share_a_short_gap_and_clip_to_duration() -> None:
    scores = [.9] * 10 + [0] * 5 + [.9] * 10
    got = _segments(scores, duration_s=25 * HOP_S - 0.01, pad_s=0.1)
    gap_mid = 12.5 * HOP_S   # 5-frame gap (160 ms < 2 x 100 ms) split in the middle
    assert got == [(0.0, pytest.approx(gap_mid, abs=1e-6)),
                   (pytest.approx(gap_mid, abs=1e-6), pytest.approx(25 * HOP_S - 0.01))]


def test_speech_ending_before_the_audio_ends_at_the_silence() -> None:
    # the stream ends 64 ms into a pause (shorter than min_silence_s): end where it began
    assert _segments([0, .9, .9, .9, 0, 0]) == [(pytest.approx(HOP_S),
                                                 pytest.approx(4 * HOP_S))]


def _approx(pairs: list[tuple[float, float]]) -> list[tuple[object, object]]:
    return [(pytest.approx(a, abs=1e-6), pytest.approx(b, abs=1e-6)) for a, b in pairs]


def test_max_speech_cuts_hard_without_a_pause() -> None:
    # 3.2 s of speech, limit 1 s: a segment is cut at the first frame starting more than
    # 1 s - one frame after its start (frame 31, 0.992 s); the pieces touch
    got = _segments([.9] * 100, max_speech_s=1.0)
    assert got == _approx([(0.0, 31 * HOP_S), (31 * HOP_S, 62 * HOP_S),
                           (62 * HOP_S, 93 * HOP_S), (93 * HOP_S, 100 * HOP_S)])
    assert _segments([.9] * 100) == _approx([(0.0, 100 * HOP_S)])   # None: no limit


def test_max_speech_splits_at_the_last_long_enough_pause() -> None:
    # a 5-frame pause (160 ms > 98 ms, but < min_silence_s) at frames 20-24: the 1.0 s limit
    # ends the segment where the pause began, the next starts where speech came back
    scores = [.9] * 20 + [0] * 5 + [.9] * 30
    got = _segments(scores, min_silence_s=0.5, max_speech_s=1.0)
    assert got == _approx([(0.0, 20 * HOP_S), (25 * HOP_S, 55 * HOP_S)])
    assert _segments(scores, min_silence_s=0.5) == _approx([(0.0, 55 * HOP_S)])
    # two such pauses: the last one before the limit is used
    scores = [.9] * 8 + [0] * 5 + [.9] * 8 + [0] * 5 + [.9] * 30
    got = _segments(scores, min_silence_s=0.5, max_speech_s=1.0)
    assert got == _approx([(0.0, 21 * HOP_S), (26 * HOP_S, 56 * HOP_S)])
    # a 3-frame pause (96 ms) is too short to split at: a hard cut at the limit instead
    scores = [.9] * 20 + [0] * 3 + [.9] * 30
    got = _segments(scores, min_silence_s=0.5, max_speech_s=1.0)
    assert got == _approx([(0.0, 31 * HOP_S), (31 * HOP_S, 53 * HOP_S)])


def test_max_speech_reached_inside_a_pause() -> None:
    # the limit (frame 31) falls inside the pause that began at frame 25 (prev_end set at
    # frame 29): the segment ends there and speech starts again at frame 35 (Silero's rule)
    scores = [.9] * 10 + [0] * 5 + [.9] * 10 + [0] * 10 + [.9] * 10
    got = _segments(scores, min_silence_s=0.5, max_speech_s=1.0)
    assert got == _approx([(0.0, 25 * HOP_S), (35 * HOP_S, 45 * HOP_S)])
    # a pause of 2 frames at the limit (too short to have been split at): ends where it began
    scores = [.9] * 30 + [0] * 2 + [.9] * 10
    assert _segments(scores, max_speech_s=1.0) == _approx([(0.0, 30 * HOP_S),
                                                           (32 * HOP_S, 42 * HOP_S)])


@pytest.mark.parametrize("pad_s", [0.0, 0.03, 0.2])
@pytest.mark.parametrize("max_speech_s", [0.6, 1.0, 2.5])
def test_max_speech_bounds_every_segment(rng: np.random.Generator, pad_s: float,
                                         max_speech_s: float) -> None:
    """Random scores with pauses of every length: no segment, padding included, is longer
    than the limit; segments do not overlap; every speech frame the unlimited segmenter
    covers is still covered (min_speech_s=0, so no piece is dropped)."""
    runs = rng.integers(1, 40, 120)
    levels = rng.choice([0.0, 0.4, 0.9], size=120, p=[0.35, 0.15, 0.5])
    scores = np.repeat(levels, runs).astype(np.float32)
    n = len(scores)
    kw = {"min_silence_s": 0.4, "pad_s": pad_s}
    limited = _segments(scores.tolist(), max_speech_s=max_speech_s, **kw)
    free = _segments(scores.tolist(), **kw)
    assert max(b - a for a, b in free) > max_speech_s   # the limit does bite
    assert all(b - a <= max_speech_s + 1e-6 for a, b in limited)
    assert all(b1 <= a2 + 1e-9 for (_, b1), (a2, _) in pairwise(limited))
    centres = (np.arange(n) + 0.5) * HOP_S
    speech = scores >= 0.5

    def covered(segs: list[tuple[float, float]]) -> np.ndarray:
        mask = np.zeros(n, bool)
        for a, b in segs:
            mask |= (centres >= a) & (centres < b)
        return mask

    assert np.all(covered(limited)[speech & covered(free)])
    # the same segments whatever the blocks the scores come in
    seg = _Segmenter(HOP_S, 0.5, 0.0, 0.4, pad_s, max_speech_s)
    out, i = [], 0
    for size in rng.integers(1, 50, 1_000):
        out += seg.push(scores[i:i + size])
        i += int(size)
    out += seg.finish(n * HOP_S)
    assert [(s.start, s.end) for s in out] == limited


def test_max_speech_streamed_equals_whole(rng: np.random.Generator) -> None:
    """Energy method, 48 kHz stereo: 0.45 s tone bursts 0.3 s apart in noise for 6.5 s,
    pauses bridged (min_silence_s 0.5 s), 2 s limit: split at pauses, the same streamed."""
    rate = 48_000
    x = 0.001 * rng.standard_normal((2, 9 * rate))
    burst = 0.1 * np.sin(2 * np.pi * 700 * np.arange(round(0.45 * rate)) / rate)
    for k in range(9):
        i = round((1.0 + 0.75 * k) * rate)
        x[:, i:i + burst.size] += burst
    audio = Audio(x.astype(np.float32), rate)
    kw = {"method": "energy", "min_silence_s": 0.5}
    assert len(detect_speech(audio, **kw)) == 1
    whole = detect_speech(audio, max_speech_s=2.0, **kw)
    assert len(whole) >= 4 and all(s.duration <= 2.0 + 1e-6 for s in whole)
    assert whole[0].start == pytest.approx(1.0 - 0.03, abs=0.04)
    assert whole[-1].end == pytest.approx(7.45 + 0.03, abs=0.04)
    assert all(b.start - a.end > 0.15 for a, b in pairwise(whole))   # split at the pauses
    det, got, i = SpeechDetector(max_speech_s=2.0, **kw), [], 0
    for n in (1, 777, 44_100, 3, 100_000) * 10:
        got += det.process(Audio(audio.samples[:, i:i + n], rate))
        i += n
    assert got + det.finish() == whole
    assert "max_speech_s=2.0" in repr(det)


def test_energy_finds_tone_bursts_in_noise(rng: np.random.Generator) -> None:
    """Synthetic: 1 kHz bursts 30 dB above white noise at 48 kHz stereo."""
    rate = 48_000
    x = 0.001 * rng.standard_normal((2, 6 * rate))
    t = np.arange(rate) / rate
    for start in (1, 4):
        x[:, start * rate:(start + 1) * rate] += 0.1 * np.sin(2 * np.pi * 1_000 * t)
    got = detect_speech(Audio(x.astype(np.float32), rate), method="energy", pad_s=0.0)
    assert [(round(s.start, 1), round(s.end, 1)) for s in got] == [(1.0, 2.0), (4.0, 5.0)]
    assert all(abs(s.start - round(s.start)) <= 0.04 for s in got)  # one 32 ms frame


def test_silence_has_no_speech() -> None:
    silent = Audio(np.zeros((1, 16_000), np.float32), 16_000)
    for method in VAD_METHODS:
        assert detect_speech(silent, method=method) == []
    assert detect_speech(Audio(np.zeros((1, 0), np.float32), 16_000)) == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "neural"}, "vad: method='neural' must be one of 'silero', 'webrtc', 'energy'"),
    ({"threshold": 1.0}, "vad: threshold=1 must be < 1"),
    ({"threshold": 0}, "vad: threshold=0 must be > 0"),
    ({"min_silence_s": -0.1}, "vad: min_silence_s=-0.1 must be >= 0 s"),
    ({"pad_s": "3"}, "vad: pad_s='3' must be a number (s)"),
    ({"max_speech_s": 0}, "vad: max_speech_s=0 must be > 0 s"),
    ({"max_speech_s": 0.3}, "vad: max_speech_s=0.3 must be >= 0.342 s (min_speech_s + 2 * "
                            "pad_s + one 32 ms frame)"),
])
def test_bad_parameters_one_line(kwargs: dict[str, object], message: str) -> None:
    audio = Audio(np.zeros((1, 1_600), np.float32), 16_000)
    with pytest.raises(AudioValueError) as info:
        detect_speech(audio, **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_stream_refuses_a_rate_change() -> None:
    det = SpeechDetector(method="energy")
    det.process(Audio(np.zeros((1, 1_600), np.float32), 16_000))
    with pytest.raises(SampleRateError, match="block is 8000 Hz but the stream is 16000 Hz"):
        det.process(Audio(np.zeros((1, 800), np.float32), 8_000))


def test_webrtc_mode_from_threshold() -> None:
    assert [webrtc_mode(t) for t in (0.1, 0.3, 0.5, 0.8, 0.99)] == [0, 1, 2, 3, 3]


@pytest.mark.integration
@pytest.mark.parametrize("max_speech_s", [None, 1.0])
@pytest.mark.parametrize("method", VAD_METHODS)
def test_streamed_equals_whole_on_real_speech(shared_data: Path, method: str,
                                              max_speech_s: float | None) -> None:
    path = shared_data / JFK
    whole = detect_speech(io.load(path), method=method, max_speech_s=max_speech_s)
    assert len(whole) >= 2   # jfk has 3-5 phrases, every method finds more than one
    if max_speech_s is not None:   # its 2.3-2.5 s phrases are split
        assert len(whole) >= 8 and all(s.duration <= max_speech_s + 1e-6 for s in whole)
    for block_s in (0.05, 1.3):
        assert detect_speech_file(path, method=method, block_s=block_s,
                                  max_speech_s=max_speech_s) == whole
    det = SpeechDetector(method=method, max_speech_s=max_speech_s)   # odd block sizes
    audio, got, i = io.load(path), [], 0
    for n in (1, 777, 44_100, 3, 100_000) * 20:
        got += det.process(Audio(audio.samples[:, i:i + n], audio.sample_rate))
        i += n
    assert got + det.finish() == whole
    assert det.process(audio) + det.finish() == whole   # after finish(): a new stream


@pytest.mark.integration
@pytest.mark.parametrize("max_speech_s", [1.0, 2.0, 4.0])
def test_max_speech_on_real_sentences(shared_data: Path, max_speech_s: float) -> None:
    """Silero on the read sentences joined (1 s of digital silence between them), with the
    long pauses of ASR chunking (min_silence_s 0.5 s, pad 0.2 s, as speech/regions.py):
    no segment is longer than the limit, and the segments still cover >= 95 % of the
    speech in the unlimited ones (10 ms frames)."""
    folder = shared_data / "speech" / "sentences"
    gap = np.zeros(16_000, np.float32)
    parts = []
    for p in sorted(folder.glob("*")):
        if p.suffix in (".wav", ".flac"):
            parts += [io.load(p, sample_rate=16_000, mono=True).samples[0], gap]
    audio = Audio(np.concatenate(parts)[None, :], 16_000)
    kw = {"min_silence_s": 0.5, "pad_s": 0.2}
    free = detect_speech(audio, **kw)
    limited = detect_speech(audio, max_speech_s=max_speech_s, **kw)
    longest = max(s.duration for s in free)
    assert longest > max_speech_s
    assert max(s.duration for s in limited) <= max_speech_s + 1e-6
    ref = speech_mask(free, audio.duration_s)
    coverage = np.sum(speech_mask(limited, audio.duration_s) & ref) / np.sum(ref)
    print(f"\nmax_speech_s={max_speech_s}: {len(free)} -> {len(limited)} segments, longest "
          f"{longest:.2f} s, coverage {coverage:.3f}")
    assert coverage >= 0.95


@pytest.mark.integration
def test_silero_matches_its_reference_on_jfk(shared_data: Path) -> None:
    """Silero's own get_speech_timestamps on jfk (16 kHz mono, defaults) gives these
    segments (EMBEDDED.md: 0.3-2.3, 3.3-4.4, 5.4-7.7, 8.2-10.6 s; ours to the ms)."""
    got = detect_speech(io.load(shared_data / JFK))
    expected = [(0.322, 2.27), (3.266, 4.446), (5.378, 7.678), (8.162, 10.622)]
    assert [(s.start, s.end) for s in got] == [(pytest.approx(a, abs=0.002),
                                                pytest.approx(b, abs=0.002))
                                               for a, b in expected]


@pytest.mark.integration
@pytest.mark.parametrize(("method", "snr_db"), [
    ("silero", None), ("silero", 20.0), ("webrtc", None), ("energy", None),
])
def test_frame_f1_on_digit_strings_with_known_gaps(shared_data: Path, method: str,
                                                   snr_db: float | None) -> None:
    """FSDD test digits, 4 per phrase, 0.4-1.2 s gaps (digital silence, or real rain noise
    under everything at 20 dB SNR); reference = the files' extents, 10 ms frames."""
    audio, ref = digit_sequence(shared_data, n_digits=24, snr_db=snr_db,
                                noise="freesound_rain.wav", seed=7, per_phrase=4)
    hyp = detect_speech(audio, method=method, pad_s=0.0)
    r, h = speech_mask(ref, audio.duration_s), speech_mask(hyp, audio.duration_s)
    f1 = 2 * np.sum(r & h) / (np.sum(r) + np.sum(h))
    print(f"\n{method} @ {snr_db} dB SNR: frame F1 {f1:.3f}")
    assert f1 >= 0.9   # the bar


def test_speech_mask_frames() -> None:
    mask = speech_mask([SpeechSegment(0.1, 0.25)], 0.5, hop_s=0.05)  # centres 0.025, 0.075..
    assert mask.tolist() == [False, False, True, True, True, False, False, False, False,
                             False]
