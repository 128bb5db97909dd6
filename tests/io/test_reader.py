"""Reading: info, load (offset/duration/mono/resample), stream, the block reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wavesmith import Audio, concatenate, io
from wavesmith.errors import AudioFileError, AudioValueError, InvalidAudioError


@pytest.fixture
def noise_file(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, np.ndarray]:
    x = (rng.standard_normal((2, 48_000)) * 0.1).astype(np.float32)
    path = tmp_path / "noise.wav"
    io.save(Audio(x, 16_000), path, subtype="FLOAT")
    return path, x


def test_info_fields(noise_file: tuple[Path, np.ndarray]) -> None:
    path, _ = noise_file
    meta = io.info(path)
    assert (meta.format, meta.codec, meta.sample_rate, meta.channels, meta.frames) == (
        "WAV", "FLOAT", 16_000, 2, 48_000)
    assert meta.duration_s == pytest.approx(3.0)
    assert meta.size_bytes == path.stat().st_size
    assert meta.backend == "libsndfile"


def test_load_exact_float_roundtrip(noise_file: tuple[Path, np.ndarray]) -> None:
    path, x = noise_file
    a = io.load(path)
    np.testing.assert_array_equal(a.samples, x)
    assert a.sample_rate == 16_000


def test_load_offset_duration_mono(noise_file: tuple[Path, np.ndarray]) -> None:
    path, x = noise_file
    a = io.load(path, offset=0.5, duration=1.0, mono=True)
    np.testing.assert_allclose(a.samples[0], x[:, 8_000:24_000].mean(axis=0), atol=1e-7)
    with pytest.raises(AudioValueError, match="past the end"):
        io.load(path, offset=5.0)
    with pytest.raises(AudioValueError, match="offset"):
        io.load(path, offset=-1.0)


def test_load_resample_is_explicit(noise_file: tuple[Path, np.ndarray]) -> None:
    path, x = noise_file
    a = io.load(path, sample_rate=8_000)
    assert a.sample_rate == 8_000 and a.frames == 24_000
    np.testing.assert_allclose(a.samples, Audio(x, 16_000).resample(8_000).samples, atol=1e-6)
    with pytest.raises(InvalidAudioError, match="500 Hz"):
        io.load(path, sample_rate=500)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(block=st.integers(1, 20_000))
def test_reader_blocks_equal_whole_for_any_block_size(
        noise_file: tuple[Path, np.ndarray], block: int) -> None:
    path, x = noise_file
    with io.open(path) as reader:
        blocks = list(reader.blocks(block))
    assert all(b.frames == block for b in blocks[:-1])
    np.testing.assert_array_equal(concatenate(blocks).samples, x)


def test_reader_seek_read_tell(noise_file: tuple[Path, np.ndarray]) -> None:
    path, x = noise_file
    with io.open(path) as reader:
        assert (reader.sample_rate, reader.channels, reader.frames) == (16_000, 2, 48_000)
        reader.seek(reader.frame_at(1.0))
        part = reader.read(100)
        assert reader.tell() == 16_100
        np.testing.assert_array_equal(part.samples, x[:, 16_000:16_100])
        with pytest.raises(AudioValueError, match="cannot seek"):
            reader.seek(10**9)
        stop_blocks = list(reader.blocks(1_000, stop=20_000))
        assert sum(b.frames for b in stop_blocks) == 20_000 - 16_100


def test_stream_joined_equals_load(noise_file: tuple[Path, np.ndarray]) -> None:
    path, x = noise_file
    blocks = list(io.stream(path, block_seconds=0.3))
    assert len(blocks) == 10  # 3 s in 0.3 s blocks
    np.testing.assert_array_equal(concatenate(blocks).samples, x)


def test_stream_mono_offset_duration(noise_file: tuple[Path, np.ndarray]) -> None:
    path, x = noise_file
    joined = concatenate(io.stream(path, 0.25, mono=True, offset=1.0, duration=1.0))
    np.testing.assert_allclose(joined.samples[0], x[:, 16_000:32_000].mean(axis=0), atol=1e-7)


def test_stream_resampled_equals_whole_resample(noise_file: tuple[Path, np.ndarray]) -> None:
    path, x = noise_file
    joined = concatenate(io.stream(path, 0.2, sample_rate=44_100))
    whole = Audio(x, 16_000).resample(44_100)
    assert abs(joined.frames - whole.frames) <= 1
    n = min(joined.frames, whole.frames)
    # soxr streamed vs one-shot: same filter, float32 accumulation differences only
    np.testing.assert_allclose(joined.samples[:, :n], whole.samples[:, :n], atol=2e-4)


def test_stream_reports_progress(noise_file: tuple[Path, np.ndarray]) -> None:
    path, _ = noise_file
    seen: list[tuple[float, float]] = []
    for _ in io.stream(path, 1.0, progress=lambda done, total: seen.append((done, total))):
        pass
    assert seen == [(1.0, 3.0), (2.0, 3.0), (3.0, 3.0)]


def test_stream_is_lazy_and_validates_block_size(tmp_path: Path) -> None:
    gen = io.stream(tmp_path / "missing.wav")  # nothing happens until the first block
    with pytest.raises(AudioFileError, match="no such file"):
        next(gen)
    with pytest.raises(AudioValueError, match="block_seconds"):
        next(io.stream(tmp_path / "x.wav", block_seconds=0))


def test_nan_found_mid_stream_names_time(tmp_path: Path) -> None:
    x = np.zeros(32_000, np.float32)
    x[24_000] = np.inf
    path = tmp_path / "late_inf.wav"
    import soundfile as sf

    sf.write(path, x, 16_000, subtype="FLOAT")
    gen = io.stream(path, block_seconds=1.0)
    assert next(gen).frames == 16_000  # the clean first second is delivered
    with pytest.raises(InvalidAudioError, match=r"first at 1\.500 s"):
        next(gen)
