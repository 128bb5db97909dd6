"""Manifests, speaker-independent splits, the feature cache and the dataset."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio
from wavesmith.errors import AudioFileError, AudioValueError, SampleRateError
from wavesmith.learn.data import (
    FeatureCache,
    FeatureDataset,
    FeatureParams,
    features_from_audio,
    fixed_window,
    loso_folds,
    prepare_manifest,
    read_manifest,
)

pytestmark = pytest.mark.integration


def test_prepare_fsdd_is_speaker_independent(digits_dir: Path, tmp_path: Path) -> None:
    m = prepare_manifest(digits_dir, tmp_path / "m.csv", test_speakers=["theo"])
    assert len(m.rows) == 2500
    assert m.labels == tuple(str(d) for d in range(10))
    assert m.speakers("test") == ["theo"]
    assert m.speakers("val") == ["yweweler"]
    assert set(m.speakers("train")) == {"george", "jackson", "nicolas"}
    again = read_manifest(tmp_path / "m.csv")
    assert [r.path for r in again.rows] == [r.path for r in m.rows]
    assert [r.split for r in again.rows] == [r.split for r in m.rows]


def test_loso_folds_cover_every_speaker_once(digits_dir: Path, tmp_path: Path) -> None:
    m = prepare_manifest(digits_dir, tmp_path / "m.csv")
    folds = loso_folds(m)
    assert [f.speakers("test") for f in folds] == [[s] for s in m.speakers()]
    for f in folds:
        tr, va, te = (set(f.speakers(s)) for s in ("train", "val", "test"))
        assert len(tr) == 3 and len(va) == 1 and not (tr & va or tr & te or va & te)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_bad_manifests_raise_one_line_errors(digits_dir: Path, tmp_path: Path) -> None:
    a, b = digits_dir / "0_theo_0.wav", digits_dir / "1_theo_0.wav"
    c, d = digits_dir / "0_george_0.wav", digits_dir / "1_george_0.wav"
    head = "path,label,speaker,split\n"
    cases = [
        (head + f"{a},0,theo,train\n{tmp_path}/nope.wav,1,theo,val\n", AudioFileError,
         "1 listed file"),
        (head + f"{a},0,theo,train\n{c},0,george,val\n", AudioValueError, "single class"),
        (head + f"{a},0,theo,train\n{b},1,theo,train\n", AudioValueError, "'val' split is empty"),
        (head + f"{a},0,theo,train\n{b},1,theo,val\n", AudioValueError, "speaker-independent"),
        ("file,label\nx,0\n", AudioValueError, "missing column"),
        (head + f"{a},0,theo,dev\n", AudioValueError, "split 'dev'"),
    ]
    for i, (text, exc, msg) in enumerate(cases):
        with pytest.raises(exc, match=msg) as info:
            read_manifest(_write(tmp_path / f"bad{i}.csv", text))
        assert "\n" not in str(info.value)
    ok = _write(tmp_path / "ok.csv", head + f"{a},0,theo,train\n{d},7,george,val\n")
    with pytest.raises(AudioValueError, match="unknown label"):
        read_manifest(ok, labels=["0", "1"])


def test_fixed_window_pads_centred_and_crops_around_energy() -> None:
    x = np.ones(10, np.float32)
    y = fixed_window(x, 20)
    assert y.shape == (20,) and y[:5].sum() == 0 and y[5:15].sum() == 10 and y[15:].sum() == 0
    burst = np.zeros(100, np.float32)
    burst[80:90] = 1.0
    assert fixed_window(burst, 30).sum() == 10  # the word stays inside the window


def test_features_reject_other_rates_and_channels() -> None:
    p = FeatureParams()
    with pytest.raises(SampleRateError, match="16000 Hz"):
        features_from_audio(Audio(np.zeros((1, 16_000), np.float32), 16_000), p)
    with pytest.raises(AudioValueError, match="mono"):
        features_from_audio(Audio(np.zeros((2, 8_000), np.float32), 8_000), p)


def test_features_are_gain_invariant_and_shaped(digits_dir: Path) -> None:
    p = FeatureParams()
    from wavesmith import io

    clip = io.load(digits_dir / "3_jackson_0.wav")
    f = features_from_audio(clip, p)
    assert f.shape == (p.n_mels, p.n_frames) == (40, 101)
    g = features_from_audio(Audio(clip.samples * 0.25, clip.sample_rate), p)
    np.testing.assert_allclose(f, g, atol=1e-4)  # dB re. clip max: gain cancels (float32)
    np.testing.assert_allclose(f.mean(axis=1), 0.0, atol=1e-5)  # per-band mean removed (cmn)
    raw = features_from_audio(clip, FeatureParams(cmn=False))
    assert raw.max() == pytest.approx(1.0, abs=1e-6) and raw.min() >= -1.0 - 1e-6


def test_cache_is_keyed_by_content_and_params(digits_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "clip.wav"
    shutil.copy(digits_dir / "5_nicolas_1.wav", src)
    cache = FeatureCache(FeatureParams(), tmp_path / "cache")
    first = cache.get(src)
    assert (cache.hits, cache.misses) == (0, 1)
    np.testing.assert_array_equal(cache.get(src), first)
    assert (cache.hits, cache.misses) == (1, 1)
    other = FeatureCache(FeatureParams(n_mels=32), tmp_path / "cache")
    assert other.get(src).shape[0] == 32 and other.misses == 1
    shutil.copy(digits_dir / "6_nicolas_1.wav", src)  # new content, same name
    changed = cache.get(src)
    assert cache.misses == 2 and not np.allclose(changed, first)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 3


def test_dataset_items_have_fixed_shape(tiny_manifest: Path, tmp_path: Path) -> None:
    m = read_manifest(tiny_manifest)
    ds = FeatureDataset(m.split("train"), m.labels, FeatureCache(FeatureParams(), tmp_path))
    x, y = ds[3]
    assert tuple(x.shape) == (40, 101) and str(x.dtype) == "torch.float32"
    assert int(y) in (0, 1) and len(ds) == 24


def test_whisper_frontend_gives_encoder_frames(digits_dir: Path, tmp_path: Path) -> None:
    from wavesmith.learn.data import load_clip, log_mel_features

    params = FeatureParams(frontend="whisper_tiny", clip_s=1.0)
    assert (params.n_features, params.n_frames, params.frame_s) == (384, 50, 0.02)
    cache = FeatureCache(params, tmp_path)
    first = cache.get(digits_dir / "7_theo_3.wav")
    assert first.shape == (384, 50) and np.isfinite(first).all()
    assert np.array_equal(cache.get(digits_dir / "7_theo_3.wav"), first) and cache.hits == 1
    # any length (connected strings): 20 ms frames, frames_for agrees with the encoder
    x = np.concatenate([fixed_window(np.zeros(10, np.float32), 8000),
                        load_clip(
                            digits_dir / "3_george_0.wav", params).samples[0]])
    f = log_mel_features(x, params)
    assert f.shape == (384, params.frames_for(x.size)) and f.shape[1] == x.size // 160
    with pytest.raises(AudioValueError, match="frontend='mfcc'"):
        FeatureParams(frontend="mfcc")
