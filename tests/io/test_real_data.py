"""Integration: every real recording in ../shared/data reads, streams and converts correctly."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from wavesmith import concatenate, io

pytestmark = pytest.mark.integration

AUDIO_EXTS = {".wav", ".flac", ".ogg", ".mp3"}


def real_files(shared: Path, *folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (shared / f).iterdir()
                  if p.suffix.lower() in AUDIO_EXTS)


def test_info_matches_soundfile_on_all_real_files(shared_data: Path) -> None:
    files = real_files(shared_data, "speech/sentences", "music/audio", "noise", "voice",
                       "speech/emotion/wav", "speech/digits")
    assert len(files) > 2_600
    for path in files:
        meta = io.info(path)
        ref = sf.info(str(path))
        assert (meta.sample_rate, meta.channels, meta.frames) == (
            ref.samplerate, ref.channels, ref.frames), path


def test_music_manifest_durations(shared_data: Path) -> None:
    import csv

    folder = shared_data / "music" / "audio"
    with open(folder / "manifest.csv") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        meta = io.info(folder / row["path"])
        assert meta.duration_s == pytest.approx(float(row["duration_s"]), abs=0.01)
        assert meta.sample_rate == int(row["sample_rate"])
        assert meta.channels == int(row["channels"])


@pytest.mark.parametrize("name", ["speech/sentences/jfk.flac",
                                  "music/audio/sorohanro_-_solo-trumpet-06.hq.ogg",
                                  "noise/ambient_hum.mp3",
                                  "speech/sentences/cmu_arctic_us_aew_a0001.wav"])
def test_load_16k_mono_matches_librosa(shared_data: Path, name: str) -> None:
    path = shared_data / name
    ours = io.load(path, sample_rate=16_000, mono=True)
    ref, sr = librosa.load(path, sr=16_000, mono=True)  # soxr_hq too: same filter
    # librosa rounds the output length up (ceil) and pads; soxr rounds to nearest
    assert sr == 16_000 and abs(ours.frames - ref.shape[-1]) <= 1
    n = min(ours.frames, ref.shape[-1])
    np.testing.assert_allclose(ours.samples[0, :n], ref[:n], atol=1e-4)


@pytest.mark.parametrize("name", ["speech/sentences/jfk.flac",
                                  "music/audio/Kevin_MacLeod_-_Vibe_Ace.hq.ogg",
                                  "noise/ambient_wind1.mp3"])
def test_stream_equals_load_on_real_files(shared_data: Path, name: str) -> None:
    path = shared_data / name
    whole = io.load(path)
    joined = concatenate(io.stream(path, block_seconds=0.37))
    assert joined.frames == whole.frames
    np.testing.assert_array_equal(joined.samples, whole.samples)


def test_offset_reads_the_same_frames(shared_data: Path) -> None:
    path = shared_data / "music" / "audio" / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
    whole = io.load(path, duration=5.0)
    part = io.load(path, offset=2.0, duration=1.0)
    np.testing.assert_allclose(part.samples, whole.slice(2.0, 3.0).samples, atol=1e-6)


def test_convert_real_recording_to_every_format(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "speech" / "sentences" / "jfk.flac"
    ref = io.load(src, sample_rate=48_000, mono=True)
    for ext in io.writable_extensions():
        dst = tmp_path / f"jfk{ext}"
        io.convert(src, dst, sample_rate=48_000, channels=1)
        got = io.load(dst)
        assert got.sample_rate == 48_000 and got.channels == 1, ext
        assert abs(got.duration - ref.duration) < 0.1, ext
        assert got.rms_dbfs == pytest.approx(ref.rms_dbfs, abs=0.5), ext
