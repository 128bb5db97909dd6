"""Cutting by time (:class:`Cut`) and by content (:class:`StripSilence`)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, concatenate, io
from wavesmith.edit import Chain, Cut, Effect, StripSilence, cut, detect_speech, strip_silence
from wavesmith.errors import AudioValueError

RATE = 16_000  # Hz


def _streamed(effect: Effect, audio: Audio, sizes: tuple[int, ...]) -> Audio:
    effect.reset()
    parts, i, k = [], 0, 0
    while i < audio.frames:
        n = sizes[k % len(sizes)]
        parts.append(effect.process(Audio(audio.samples[:, i:i + n], audio.sample_rate),
                                    reset=False))
        i, k = i + n, k + 1
    tail = effect.flush()
    return concatenate(parts + ([tail] if tail is not None else []))


def test_cut_removes_the_range(rng: np.random.Generator) -> None:
    x = Audio(rng.standard_normal((2, 4 * RATE)).astype(np.float32), RATE)
    y = cut(x, start_s=1.0, end_s=2.5)
    np.testing.assert_array_equal(y.samples, np.concatenate(
        [x.samples[:, :RATE], x.samples[:, round(2.5 * RATE):]], axis=1))
    assert cut(x, start_s=3.0).frames == 3 * RATE
    for sizes in ((1, 999), (RATE // 3,), (5 * RATE,)):
        np.testing.assert_array_equal(_streamed(Cut(start_s=1.0, end_s=2.5), x,
                                                sizes).samples, y.samples)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"start_s": 5.0}, "cut: start_s=5 s is at or past the end of the audio (duration 4.000 s)"),
    ({"start_s": 1.0, "end_s": 4.5}, "cut: end_s=4.5 s is past the end of the audio"),
])
def test_cut_past_the_end(kwargs: dict[str, float], message: str) -> None:
    x = Audio(np.zeros((1, 4 * RATE), np.float32), RATE)
    with pytest.raises(AudioValueError, match=re.escape(message)):
        Cut(**kwargs)(x)
    with pytest.raises(AudioValueError, match=re.escape(message)):
        _streamed(Cut(**kwargs), x, (RATE,))
    with pytest.raises(AudioValueError, match="cut: end_s=1 must be > 2 s"):
        Cut(start_s=2.0, end_s=1.0)


def test_strip_silence_in_chain_files() -> None:
    chain = Chain.from_dict({"effects": [{"effect": "strip_silence", "method": "energy",
                                          "pad_s": 0.1}]})
    assert chain[0] == StripSilence(method="energy", pad_s=0.1)
    assert Chain.from_dict(chain.to_dict()) == chain
    with pytest.raises(AudioValueError, match="strip_silence: pad_s=-1 must be >= 0 s"):
        Chain.from_dict([{"effect": "strip_silence", "pad_s": -1}])
    with pytest.raises(AudioValueError, match="strip_silence: method='vosk' must be one of"):
        StripSilence(method="vosk")


def test_strip_silence_keeps_only_the_bursts(rng: np.random.Generator) -> None:
    """Synthetic, energy method: two 1 s tone bursts in 5 s of faint noise → ~2 s kept."""
    x = 0.0005 * rng.standard_normal((1, 5 * RATE))
    t = np.arange(RATE) / RATE
    x[0, RATE:2 * RATE] += 0.2 * np.sin(2 * np.pi * 440 * t)
    x[0, 3 * RATE:4 * RATE] += 0.2 * np.sin(2 * np.pi * 440 * t)
    audio = Audio(x.astype(np.float32), RATE)
    effect = StripSilence(method="energy", pad_s=0.05, fade_s=0.005)
    y = effect(audio)
    found = [(s.start + 0.05, s.end - 0.05) for s in effect.segments]   # padding removed
    assert found == [(pytest.approx(a, abs=0.04), pytest.approx(b, abs=0.04))  # 1 frame
                     for a, b in ((1.0, 2.0), (3.0, 4.0))]
    assert y.frames == pytest.approx(2 * 1.1 * RATE, abs=0.07 * RATE)  # 2 x (1 s + 2 pads)
    assert abs(y.samples[0, 0]) < 1e-3 and abs(y.samples[0, -1]) < 1e-3  # faded joins
    silent = Audio(np.zeros((1, RATE), np.float32), RATE)
    assert strip_silence(silent, method="energy").frames == 0


@pytest.mark.integration
@pytest.mark.parametrize("method", ["silero", "energy"])
def test_strip_silence_streams_like_whole_on_real_speech(shared_data: Path,
                                                         method: str) -> None:
    audio = io.load(shared_data / "speech" / "sentences" / "jfk.flac")
    effect = StripSilence(method=method)
    whole = effect(audio)
    segments = detect_speech(audio, method=method)
    kept = sum(round(s.end * audio.sample_rate) - round(s.start * audio.sample_rate)
               for s in segments)
    assert whole.frames == kept and whole.channels == 2
    assert 0.5 * audio.frames < whole.frames < 0.95 * audio.frames  # jfk has long pauses
    for sizes in ((4_410,), (1, 30_000, 777)):
        streamed = _streamed(effect, audio, sizes)
        np.testing.assert_array_equal(streamed.samples, whole.samples)  # bit-identical
