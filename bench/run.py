"""wavesmith.io benchmarks against peer libraries: ``.venv/bin/python bench/run.py``.

(a) load_16k_mono: wall time of ``wavesmith.io.load(path, sample_rate=16000, mono=True)``
    versus ``librosa.load(path, sr=16000)`` (librosa's defaults: mono, res_type "soxr_hq", the
    same soxr HQ recipe wavesmith uses) on a 10-minute 44.1 kHz stereo recording, once as FLAC
    and once as 16-bit WAV. Both run in this process, alternating which goes first, after one
    warm-up each; the median of each is reported. Target: wavesmith / librosa <= 1.0.
(b) stream_memory: peak resident memory (``VmHWM`` of a fresh child process) while
    iterating ``wavesmith.io.stream(path, block_seconds=1.0)`` over a 1-minute and a 60-minute
    44.1 kHz stereo FLAC. Target: peak(60 min) / peak(1 min) <= 1.2. The same figures for
    ``soundfile.blocks`` (1-second blocks) are printed for information.

The test files are built once into ``bench/.cache/`` by concatenating the real music
recordings in ``../shared/data/music/audio`` (cycled until the wanted length) with the
streaming ``wavesmith.io.AudioWriter``, and reused afterwards. The exit status is 1 when a
target is missed.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

import wavesmith
from wavesmith import Audio, io

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
MUSIC = DATA / "music" / "audio"
CACHE = REPO / "bench" / ".cache"
RATE, CHANNELS = 44_100, 2       # Hz, channels of every built test file
LOAD_REPEATS = 7                 # timed runs per library and file in (a)
LOAD_TARGET = 1.0                # (a): wavesmith time / librosa time
MEMORY_TARGET = 1.2              # (b): peak RSS 60-min file / peak RSS 1-min file


# -- test files -------------------------------------------------------------------------------
def music_sources() -> list[Path]:
    """The real recordings the test files are made of (44.1 kHz stereo OGG and WAV)."""
    if not MUSIC.is_dir():
        sys.exit(f"bench: shared recordings not found at {MUSIC}; the benchmarks need the "
                 "../shared/data folder beside the repository")
    sources = sorted([*MUSIC.glob("*.ogg"), *MUSIC.glob("*.wav")])
    if not sources:
        sys.exit(f"bench: no .ogg or .wav recordings in {MUSIC}")
    return sources


def build(name: str, minutes: int) -> Path:
    """Return ``CACHE/name``, first writing it (block by block) if absent or the wrong length."""
    path = CACHE / name
    frames = minutes * 60 * RATE
    if path.exists() and sf.info(str(path)).frames == frames:
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"  building {path.relative_to(REPO)} ({minutes} min) ...", flush=True)
    left = frames
    with io.AudioWriter(path, RATE, CHANNELS, on_clip="clip") as writer:
        while left:
            for src in music_sources():
                for block in io.stream(src, block_seconds=10.0, sample_rate=RATE):
                    x = block.samples[:, :left]
                    if x.shape[0] == 1:  # upmix a mono recording
                        x = np.repeat(x, CHANNELS, axis=0)
                    writer.write(Audio(x, RATE))
                    left -= x.shape[1]
                    if not left:
                        return path
    return path


# -- (a) load and resample --------------------------------------------------------------------
def timed(fn: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    gc.collect()
    start = time.perf_counter()
    y = fn()
    return time.perf_counter() - start, y


def bench_load(path: Path) -> bool:
    import librosa

    def ours() -> np.ndarray:
        return io.load(path, sample_rate=16_000, mono=True).samples[0]

    def peer() -> np.ndarray:
        return librosa.load(path, sr=16_000)[0]

    _, y_ours = timed(ours)  # warm-up: imports, page cache, soxr plans
    _, y_peer = timed(peer)
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    for i in range(LOAD_REPEATS):
        order = [("ours", ours), ("peer", peer)]
        for key, fn in order if i % 2 == 0 else order[::-1]:
            times[key].append(timed(fn)[0])
    t_ours, t_peer = statistics.median(times["ours"]), statistics.median(times["peer"])
    ratio = t_ours / t_peer
    ok = ratio <= LOAD_TARGET
    n = min(len(y_ours), len(y_peer))
    diff = float(np.max(np.abs(y_ours[:n] - y_peer[:n])))
    print(f"  {path.suffix[1:].upper():<5} librosa {t_peer:6.3f} s   wavesmith {t_ours:6.3f} s   "
          f"ratio {ratio:5.2f} (target <= {LOAD_TARGET:.1f})  {'PASS' if ok else 'FAIL'}")
    print(f"        runs librosa {fmt_list(times['peer'])}  wavesmith {fmt_list(times['ours'])}; "
          f"outputs {len(y_peer)} vs {len(y_ours)} samples, max |diff| {diff:.1e}")
    return ok


def fmt_list(values: list[float]) -> str:
    return "[" + " ".join(f"{v:.3f}" for v in values) + "]"


# -- (b) streaming memory ---------------------------------------------------------------------
def peak_rss_kib() -> int:
    """This process's peak resident set size in KiB.

    ``VmHWM`` is read rather than ``ru_maxrss``, which Linux carries over from the forking
    parent across ``exec`` and so would report the benchmark driver's peak, not the child's.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("bench: no VmHWM in /proc/self/status (the memory benchmark needs Linux)")


def child(reader: str, path: str) -> None:
    """Child process: iterate ``path`` in 1-second blocks; print baseline and peak RSS as JSON."""
    baseline, frames = peak_rss_kib(), 0
    if reader == "wavesmith":
        for block in io.stream(path, block_seconds=1.0):
            frames += block.frames
    else:
        blocksize = sf.info(path).samplerate
        for x in sf.blocks(path, blocksize=blocksize, dtype="float32", always_2d=True):
            frames += x.shape[0]
    print(json.dumps({"baseline_kib": baseline, "peak_kib": peak_rss_kib(), "frames": frames}))


def peak_rss(reader: str, path: Path) -> dict[str, int]:
    out = subprocess.run([sys.executable, __file__, "--child", reader, str(path)],
                         check=True, capture_output=True, text=True).stdout
    result: dict[str, int] = json.loads(out)
    if result["frames"] != sf.info(str(path)).frames:
        sys.exit(f"bench: {reader} read {result['frames']} frames of {path}, not all of it")
    return result


def bench_memory(short: Path, long: Path) -> bool:
    ok = True
    for reader in ("soundfile", "wavesmith"):
        a, b = peak_rss(reader, short), peak_rss(reader, long)
        ratio = b["peak_kib"] / a["peak_kib"]
        verdict = "(peer, for information)"
        if reader == "wavesmith":
            ok = ratio <= MEMORY_TARGET
            verdict = f"(target <= {MEMORY_TARGET:.1f})  {'PASS' if ok else 'FAIL'}"
        print(f"  {reader:<9}  1 min {a['peak_kib'] / 1024:6.1f} MiB   "
              f"60 min {b['peak_kib'] / 1024:6.1f} MiB   ratio {ratio:5.2f} {verdict}")
        grow = [(r["peak_kib"] - r["baseline_kib"]) / 1024 for r in (a, b)]
        print(f"             growth over the after-import baseline: 1 min {grow[0]:.1f} MiB, "
              f"60 min {grow[1]:.1f} MiB")
    return ok


def machine() -> str:
    import librosa
    import soxr

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}; numpy {np.__version__}, "
            f"librosa {librosa.__version__}, soundfile {sf.__version__} "
            f"(libsndfile {sf.__libsndfile_version__}), soxr {soxr.__version__}, "
            f"wavesmith {wavesmith.__version__}")


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
        return 0
    started = time.perf_counter()
    print(f"machine: {machine()}")
    print("test files (real recordings concatenated, 44.1 kHz stereo PCM_16):")
    files = {name: build(name, minutes) for name, minutes in
             [("music_10min.flac", 10), ("music_10min.wav", 10),
              ("music_1min.flac", 1), ("music_60min.flac", 60)]}
    for name, path in files.items():
        print(f"  {name:<17} {path.stat().st_size / 2**20:7.1f} MB")
    print(f"\n(a) load 10 min 44.1 kHz stereo -> 16 kHz mono: median of {LOAD_REPEATS} runs "
          "each, alternating order")
    ok_a = all([bench_load(files["music_10min.flac"]), bench_load(files["music_10min.wav"])])
    print("\n(b) peak RSS of a fresh process streaming 1-second blocks, 1-min vs 60-min FLAC")
    ok_b = bench_memory(files["music_1min.flac"], files["music_60min.flac"])
    print(f"\n{'all targets met' if ok_a and ok_b else 'TARGET MISSED'} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0 if ok_a and ok_b else 1


if __name__ == "__main__":
    sys.exit(main())
