"""Connected digit strings from real FSDD clips: layout, pauses, speakers, SNR, batching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from wavesmith import io
from wavesmith.errors import AudioValueError
from wavesmith.learn.augment import AugmentConfig, NoiseBank, measure_snr_db
from wavesmith.learn.data import FeatureParams, ManifestRow, load_clip
from wavesmith.learn.strings import (
    StringComposer,
    StringConfig,
    StringDataset,
    add_noise,
    collate_strings,
    edit_distance,
    fixed_strings,
    noisy_strings,
    trim_edges,
)

pytestmark = pytest.mark.integration
LABELS = tuple(str(d) for d in range(10))


@pytest.fixture(scope="module")
def composer(shared_data: Path) -> StringComposer:
    digits = shared_data / "speech" / "digits"
    rows = [ManifestRow(digits / f"{d}_{spk}_{i}.wav", str(d), spk, "test")
            for spk in ("george", "theo") for d in range(10) for i in range(3)]
    return StringComposer(rows, LABELS, FeatureParams(), StringConfig())


@pytest.fixture(scope="module")
def small_noise(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> NoiseBank:
    """A NoiseBank of 3-s excerpts of three real noise recordings (fast to load)."""
    folder = tmp_path_factory.mktemp("noise")
    for name in ("freesound_rain.wav", "blanket_coffee-shop.ogg", "freesound_typing.wav"):
        io.save(io.load(shared_data / "noise" / name, sample_rate=8000, mono=True, duration=3.0),
                folder / f"{Path(name).stem}.wav")
    return NoiseBank(folder, 8000)


def test_trim_edges_keeps_the_word(shared_data: Path) -> None:
    clip = load_clip(shared_data / "speech" / "digits" / "7_jackson_3.wav", FeatureParams())
    x = clip.samples[0]
    y = trim_edges(x, 8000, trim_db=40.0, margin_s=0.02)
    assert 0.2 * x.size < y.size <= x.size
    # the kept part holds nearly all the energy (silence is what was cut)
    assert np.sum(y.astype(np.float64) ** 2) >= 0.99 * np.sum(x.astype(np.float64) ** 2)
    assert trim_edges(np.zeros(800, np.float32), 8000).size == 800   # silence: unchanged


def test_strings_are_laid_out_as_recorded(composer: StringComposer) -> None:
    cfg = composer.config
    strings = fixed_strings(composer, 20, seed=5)
    for s in strings:
        assert cfg.min_digits <= len(s.labels) <= cfg.max_digits
        assert s.speaker in ("george", "theo") and len(s.text) == len(s.labels)
        starts = [a for a, _ in s.spans]
        ends = [b for _, b in s.spans]
        gaps = np.array(starts[1:]) - np.array(ends[:-1])
        assert np.all(gaps >= cfg.gap_s_min - 1e-3) and np.all(gaps <= cfg.gap_s_max + 1e-3)
        assert cfg.edge_s_min - 1e-3 <= starts[0] <= cfg.edge_s_max + 1e-3
        x = s.audio.samples[0]
        for k, (a, b) in enumerate(s.spans):   # pauses are silent, digits are not
            assert np.any(x[round(a * 8000):round(b * 8000)])
            if k:
                assert not np.any(x[round(ends[k - 1] * 8000) + 1:round(a * 8000) - 1])
        digit_power = np.mean(np.concatenate([x[round(a * 8000):round(b * 8000)]
                                              for a, b in s.spans]).astype(np.float64) ** 2)
        assert s.speech_power == pytest.approx(digit_power, rel=0.02)
    again = fixed_strings(composer, 20, seed=5)
    assert [s.text for s in again] == [s.text for s in strings]
    assert [s.text for s in fixed_strings(composer, 20, seed=6)] != [s.text for s in strings]


def test_noise_is_mixed_at_the_digits_only_snr(composer: StringComposer,
                                               small_noise: NoiseBank) -> None:
    bank = small_noise
    clean = fixed_strings(composer, 4, seed=1)
    for snr in (20.0, 10.0, 0.0):
        for c, n in zip(clean, noisy_strings(clean, bank, snr, seed=3), strict=True):
            noise = n.audio.samples[0] - c.audio.samples[0]
            digits = np.concatenate([c.audio.samples[0][round(a * 8000):round(b * 8000)]
                                     for a, b in c.spans])
            measured = 10 * np.log10(c.speech_power / np.mean(noise.astype(np.float64) ** 2))
            assert abs(measured - snr) <= 0.5
            # the whole-signal SNR is lower: pauses carry noise but no speech
            assert measure_snr_db(c.audio.samples, noise[None]) < measured
            assert digits.size < c.audio.frames
    with pytest.raises(AudioValueError, match="need >="):
        add_noise(clean[0], clean[1].audio.slice(0.0, 0.1), 10.0)


def test_training_items_are_fresh_seeded_and_batch_for_ctc(composer: StringComposer,
                                                           small_noise: NoiseBank) -> None:
    aug = AugmentConfig(noise_prob=1.0, speed_prob=1.0, reverb_prob=1.0, pitch_prob=0.0)
    a = StringDataset(composer, length=4, augment=aug, noise=small_noise, seed=9)
    b = StringDataset(composer, length=4, augment=aug, noise=small_noise, seed=9)
    items_a, items_b = [a[i] for i in range(4)], [b[i] for i in range(4)]
    for (fa, ta), (fb, tb) in zip(items_a, items_b, strict=True):
        torch.testing.assert_close(fa, fb)
        assert ta.tolist() == tb.tolist() and 1 <= min(ta.tolist()) <= max(ta.tolist()) <= 10
    assert a[0][1].tolist() != items_a[0][1].tolist() or a[0][0].shape != items_a[0][0].shape
    x, lengths, targets, target_lengths = collate_strings(items_a)
    assert x.shape == (4, 40, int(lengths.max()))
    assert lengths.tolist() == [f.shape[1] for f, _ in items_a]
    assert targets.tolist() == [d for _, t in items_a for d in t.tolist()]
    assert target_lengths.tolist() == [len(t) for _, t in items_a]
    assert float(x[int(lengths.argmin()), :, int(lengths.min()):].abs().sum()) == 0.0


def test_bad_compositions_are_refused(shared_data: Path) -> None:
    digits = shared_data / "speech" / "digits"
    rows = [ManifestRow(digits / f"{d}_theo_0.wav", str(d), "theo", "test") for d in range(9)]
    with pytest.raises(AudioValueError, match=r"speaker 'theo' has no clip of label\(s\) 9"):
        StringComposer(rows, LABELS, FeatureParams(), StringConfig())
    with pytest.raises(AudioValueError, match="empty split"):
        StringComposer([], LABELS, FeatureParams(), StringConfig())
    with pytest.raises(AudioValueError, match="min_digits"):
        StringConfig(min_digits=5, max_digits=3)


def test_edit_distance() -> None:
    assert edit_distance("4071", "4071") == 0
    assert edit_distance("4071", "471") == 1          # deletion
    assert edit_distance("4071", "40771") == 1        # insertion
    assert edit_distance("4071", "4091") == 1         # substitution
    assert edit_distance("", "123") == 3 and edit_distance("12", "") == 2
