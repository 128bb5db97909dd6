"""apply_file: streaming vs whole-file, overwrite refusal, nothing written on errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, io
from wavesmith.edit import (
    Chain,
    Compressor,
    Gain,
    HighPass,
    PeakNormalize,
    Resample,
    ToMono,
    Trim,
    apply_file,
    mix_files,
)
from wavesmith.errors import AudioValueError, OverwriteError

RATE = 44_100  # Hz


@pytest.fixture
def src(tmp_path: Path, rng: np.random.Generator) -> Path:
    x = (0.2 * rng.standard_normal((2, 3 * RATE))).astype(np.float32)
    path = tmp_path / "in.wav"
    io.save(Audio(x, RATE), path, subtype="FLOAT")
    return path


def test_streamed_file_equals_whole_signal(src: Path, tmp_path: Path) -> None:
    chain = Chain([HighPass(cutoff_hz=100.0), Compressor(threshold_db=-20.0),
                   Gain(gain_db=-3.0), ToMono(), Resample(rate_hz=16_000)])
    seen: list[tuple[float, float]] = []
    report = apply_file(src, tmp_path / "out.wav", chain, block_seconds=0.37,
                        progress=lambda done, total: seen.append((done, total)))
    assert report.streamed and report.subtype == "FLOAT"
    assert (report.sample_rate, report.channels) == (16_000, 1)
    assert report.input_duration_s == pytest.approx(3.0)
    assert seen[-1] == pytest.approx((3.0, 3.0)) and len(seen) == 9
    whole = chain(io.load(src))
    out = io.load(tmp_path / "out.wav")
    assert abs(out.frames - whole.frames) <= 1  # soxr's stream vs one-shot length
    n = min(out.frames, whole.frames)
    np.testing.assert_allclose(out.samples[:, :n], whole.samples[:, :n], atol=1e-6)  # soxr
    assert report.chain == chain.to_dict()


def test_whole_file_chain(src: Path, tmp_path: Path) -> None:
    report = apply_file(src, tmp_path / "out.flac", Chain([Trim(start_s=0.5),
                                                           PeakNormalize(target_dbfs=-1.0)]))
    assert not report.streamed and report.subtype == "PCM_16"  # FLAC cannot hold FLOAT
    out = io.load(tmp_path / "out.flac")
    assert out.frames == round(2.5 * RATE)
    assert out.peak_dbfs == pytest.approx(-1.0, abs=0.01)  # 16-bit rounding


def test_refuses_to_overwrite_input(src: Path) -> None:
    before, peak = src.read_bytes(), io.load(src).peak_dbfs
    with pytest.raises(OverwriteError, match="output is the input file"):
        apply_file(src, src, Gain(gain_db=-1.0))
    assert src.read_bytes() == before
    report = apply_file(src, src, Gain(gain_db=-6.0), overwrite=True)
    assert report.frames == 3 * RATE
    assert io.load(src).peak_dbfs == pytest.approx(peak - 6.0, abs=1e-4)  # replaced


@pytest.mark.parametrize("chain", [
    Chain([HighPass(cutoff_hz=30_000.0)]),        # above Nyquist at 44.1 kHz: first block
    Chain([Gain(gain_db=1.0), Trim(end_s=10.0)]),  # past the end: found at the last block
])
def test_errors_write_nothing(src: Path, tmp_path: Path, chain: Chain) -> None:
    dst = tmp_path / "out.wav"
    with pytest.raises(AudioValueError, match=r"highpass: cutoff_hz|trim: end_s=10 s is past"):
        apply_file(src, dst, chain, block_seconds=0.5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


def test_mix_files(src: Path, tmp_path: Path) -> None:
    report = mix_files([src, src], tmp_path / "mix.wav", gains_db=[-6.0, -6.0],
                       offsets_s=[0.0, 1.0])
    assert report.duration_s == pytest.approx(4.0) and report.channels == 2
    with pytest.raises(OverwriteError):
        mix_files([src, tmp_path / "mix.wav"], src)
    mono = tmp_path / "mono.wav"
    apply_file(src, mono, ToMono())
    with pytest.raises(AudioValueError, match="mix: input 1 has 1 channel"):
        mix_files([src, mono], tmp_path / "bad.wav")
    with pytest.raises(AudioValueError, match="mix: no inputs given"):
        mix_files([], tmp_path / "bad.wav")
    assert not (tmp_path / "bad.wav").exists()


@pytest.mark.integration
@pytest.mark.parametrize("block_seconds", [0.013, 0.5, 4.0])
def test_streamed_mix_equals_whole_mix(shared_data: Path, tmp_path: Path,
                                       block_seconds: float) -> None:
    """mix_files streams block by block; its samples equal mix() on the loaded files, also
    with an input that starts after another has ended (silence in between)."""
    from wavesmith import io
    from wavesmith.edit import mix

    music = sorted((shared_data / "music" / "audio").glob("*.ogg"))[:2]
    a, b = (io.load(p).slice(0.0, 2.0) for p in music)
    pa, pb = tmp_path / "a.wav", tmp_path / "b.wav"
    io.save(a, pa, subtype="FLOAT")
    io.save(b, pb, subtype="FLOAT")
    kw = {"gains_db": [-3.0, -9.5], "offsets_s": [0.25, 2.7]}
    report = mix_files([pa, pb], tmp_path / "mix.wav", subtype="FLOAT",
                       block_seconds=block_seconds, **kw)
    want = mix([a, b], **kw)
    got = io.load(tmp_path / "mix.wav")
    assert got.frames == want.frames == report.frames
    np.testing.assert_array_equal(got.samples, want.samples)
    assert report.peak_dbfs == pytest.approx(want.peak_dbfs, abs=1e-6)


@pytest.mark.integration
@pytest.mark.parametrize(("crossfade_s", "block_seconds"), [(0.0, 0.013), (0.0, 3.0),
                                                             (0.05, 0.013), (0.3, 1.0)])
def test_concat_files_splices_with_crossfade(shared_data: Path, tmp_path: Path,
                                             crossfade_s: float, block_seconds: float) -> None:
    """concat_files streams; without crossfade it equals concatenate() of the loaded files,
    with one each join is an equal-power crossfade of the overlapping frames."""
    from wavesmith import concatenate, io
    from wavesmith.edit import concat_files

    music = sorted((shared_data / "music" / "audio").glob("*.ogg"))[:3]
    parts = [io.load(p).slice(0.0, d) for p, d in zip(music, (1.0, 0.7, 1.3), strict=True)]
    paths = []
    for k, a in enumerate(parts):
        paths.append(tmp_path / f"{k}.wav")
        io.save(a, paths[-1], subtype="FLOAT")
    report = concat_files(paths, tmp_path / "out.wav", crossfade_s=crossfade_s,
                          subtype="FLOAT", block_seconds=block_seconds)
    got = io.load(tmp_path / "out.wav").samples
    xf = round(crossfade_s * parts[0].sample_rate)
    if not xf:
        np.testing.assert_array_equal(got, concatenate(parts).samples)
    else:
        t = (np.arange(xf) + 0.5) / xf * (np.pi / 2)
        want = parts[0].samples
        for b in parts[1:]:
            join = want[:, -xf:] * np.cos(t) + b.samples[:, :xf] * np.sin(t)
            want = np.concatenate([want[:, :-xf], join, b.samples[:, xf:]], axis=1)
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert report.frames == got.shape[1] == sum(a.frames for a in parts) - 2 * xf
    with pytest.raises(AudioValueError, match=r"1\.wav is shorter than the 0\.8 s crossfade"):
        concat_files(paths, tmp_path / "bad.wav", crossfade_s=0.8)
    with pytest.raises(AudioValueError, match=r"1\.wav is too short for a 0\.4 s crossfade"):
        concat_files(paths, tmp_path / "bad.wav", crossfade_s=0.4)   # 0.7 s < 2 x 0.4 s
    assert not (tmp_path / "bad.wav").exists()
