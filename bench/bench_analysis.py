"""wavesmith.analysis benchmarks: ``.venv/bin/python bench/bench_analysis.py [--repeats N]``.

(a) feature_set: wall time of the full feature set (mel spectrogram, MFCC, chroma, spectral
    centroid / bandwidth / roll-off / flatness / contrast, zero-crossing rate, RMS, onset
    times, tempo and beats) on a 10-minute real music recording (mono, 22 050 Hz), computed
    through ``wavesmith.analysis`` and through librosa directly with the same parameters, in
    this process, alternating which goes first, after one warm-up each; medians reported.
    Target: librosa time / wavesmith time >= 1.0 (as fast or faster), with every output equal
    (max |difference| <= 1e-4 of the feature's largest magnitude).
(b) loudness_memory: peak resident memory (``VmHWM`` of a fresh child process) while a
    :class:`wavesmith.analysis.LoudnessMeter` meters ``io.stream(path, block_seconds=1.0)``
    over a 1-minute and a 60-minute 44.1 kHz stereo FLAC. Target: peak(60) / peak(1) <= 1.2.
(c) spectral_memory: the same with streamed spectral statistics as well: a fresh child feeds
    each 1-second block to a ``LoudnessMeter`` and its channel mean to a
    :class:`wavesmith.analysis.SpectralMeter` (one pass; what ``analyze_file`` does for
    files of 10 minutes or more). Target: peak(60) / peak(1) <= 1.2.

``--parts`` picks some of them (e.g. ``--parts spectral``; default all three).
The test files are the ones ``bench/run.py`` builds in ``bench/.cache/`` from the real music
recordings in ``../shared/data/music/audio`` (built here too when absent). Exit status 1 when
a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from wavesmith import Audio, io

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as io_bench  # bench/run.py: the test-file builder and the VmHWM reader

FEATURE_RATE = 22_050       # Hz, rate the feature set runs at (librosa's default rate)
N_FFT, HOP = 2048, 512      # frames; librosa's defaults, used by both sides
N_MFCC = 20                 # coefficients
SPEED_TARGET = 1.0          # (a): librosa time / wavesmith time
EQUAL_RTOL = 1e-4           # (a): max |diff| / max |librosa value| per feature
MEMORY_TARGET = 1.2         # (b), (c): peak RSS 60-min file / peak RSS 1-min file
PARTS = ("features", "loudness", "spectral")   # (a), (b), (c)

Features = dict[str, np.ndarray]


def ours(audio: Audio) -> Features:
    """The feature set through wavesmith.analysis (each call validates, then runs librosa)."""
    from wavesmith import analysis as a

    r = a.rhythm(audio, hop_frames=HOP)
    return {
        "mel": a.mel_spectrogram(audio, n_fft=N_FFT, hop_frames=HOP)[0],
        "mfcc": a.mfcc(audio, n_mfcc=N_MFCC, n_fft=N_FFT, hop_frames=HOP),
        "chroma": a.chroma(audio, n_fft=N_FFT, hop_frames=HOP),
        "centroid": a.spectral_centroid(audio, n_fft=N_FFT, hop_frames=HOP),
        "bandwidth": a.spectral_bandwidth(audio, n_fft=N_FFT, hop_frames=HOP),
        "rolloff": a.spectral_rolloff(audio, n_fft=N_FFT, hop_frames=HOP),
        "flatness": a.spectral_flatness(audio, n_fft=N_FFT, hop_frames=HOP),
        "contrast": a.spectral_contrast(audio, n_fft=N_FFT, hop_frames=HOP),
        "zcr": a.zero_crossing_rate(audio, frame_frames=N_FFT, hop_frames=HOP),
        "rms": a.rms(audio, frame_frames=N_FFT, hop_frames=HOP),
        "onsets_s": r.onset_times_s, "beats_s": r.beat_times_s,
        "tempo_bpm": np.array([r.tempo_bpm]),
    }


def peer(audio: Audio) -> Features:
    """The same features with librosa called directly on the array."""
    import librosa

    y, sr = audio.samples[0], audio.sample_rate
    kw = {"n_fft": N_FFT, "hop_length": HOP}
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=HOP, aggregate=np.median)
    tempo, beats = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=HOP,
                                           units="time")
    return {
        "mel": librosa.feature.melspectrogram(y=y, sr=sr, pad_mode="constant", **kw),
        "mfcc": librosa.feature.mfcc(y=y, sr=sr, n_mfcc=N_MFCC, **kw),
        "chroma": librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0, pad_mode="constant",
                                              **kw),
        "centroid": librosa.feature.spectral_centroid(y=y, sr=sr, pad_mode="constant",
                                                      **kw)[0],
        "bandwidth": librosa.feature.spectral_bandwidth(y=y, sr=sr, pad_mode="constant",
                                                        **kw)[0],
        "rolloff": librosa.feature.spectral_rolloff(y=y, sr=sr, pad_mode="constant",
                                                    **kw)[0],
        "flatness": librosa.feature.spectral_flatness(y=y, pad_mode="constant", **kw)[0],
        "contrast": librosa.feature.spectral_contrast(y=y, sr=sr, pad_mode="constant", **kw),
        "zcr": librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP)[0],
        "rms": librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP,
                                   pad_mode="constant")[0],
        "onsets_s": librosa.onset.onset_detect(y=y, sr=sr, hop_length=HOP, units="time"),
        "beats_s": np.asarray(beats, dtype=np.float64),
        "tempo_bpm": np.atleast_1d(tempo).astype(np.float64),
    }


def timed(fn: Callable[[Audio], Features], audio: Audio) -> tuple[float, Features]:
    gc.collect()
    start = time.perf_counter()
    out = fn(audio)
    return time.perf_counter() - start, out


def worst_difference(a: Features, b: Features) -> tuple[str, float]:
    """The feature whose outputs differ most, relative to its largest magnitude."""
    worst = ("", 0.0)
    for name in b:
        x, y = np.asarray(a[name], dtype=np.float64), np.asarray(b[name], dtype=np.float64)
        if x.shape != y.shape:
            return name, float("inf")
        scale = float(np.max(np.abs(y))) if y.size else 0.0
        rel = float(np.max(np.abs(x - y))) / scale if scale > 0 else float(np.any(x != y))
        if rel > worst[1]:
            worst = (name, rel)
    return worst


def bench_features(path: Path, repeats: int) -> bool:
    audio = io.load(path, sample_rate=FEATURE_RATE, mono=True)
    print(f"  input {path.name}: {audio.duration_s / 60:.1f} min, mono, {FEATURE_RATE} Hz")
    _, out_ours = timed(ours, audio)      # warm-up: imports, numba JIT, FFT plans
    _, out_peer = timed(peer, audio)
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    for i in range(repeats):
        order = [("ours", ours), ("peer", peer)]
        for key, fn in order if i % 2 == 0 else order[::-1]:
            times[key].append(timed(fn, audio)[0])
    t_ours, t_peer = statistics.median(times["ours"]), statistics.median(times["peer"])
    ratio = t_peer / t_ours
    name, diff = worst_difference(out_ours, out_peer)
    ok = ratio >= SPEED_TARGET and diff <= EQUAL_RTOL
    print(f"  librosa {t_peer:7.2f} s   wavesmith {t_ours:7.2f} s   ratio librosa/wavesmith "
          f"{ratio:5.2f} (target >= {SPEED_TARGET:.1f})  {'PASS' if ok else 'FAIL'}")
    print(f"        runs librosa {io_bench.fmt_list(times['peer'])}  wavesmith "
          f"{io_bench.fmt_list(times['ours'])}; largest relative difference {diff:.1e} "
          f"({name or 'none'}; target <= {EQUAL_RTOL:g})")
    return ok


# -- (b), (c) streamed loudness / spectral statistics memory ------------------------------------
def child(part: str, path: str) -> None:
    """Child process: meter ``path`` block by block (loudness, plus spectral statistics of the
    channel mean when ``part`` is "spectral"); print baseline and peak RSS as JSON."""
    from wavesmith.analysis import LoudnessMeter, SpectralMeter

    if part == "spectral":
        import librosa  # noqa: F401 -- SpectralMeter's library, imported before the baseline

    baseline = io_bench.peak_rss_kib()
    started = time.perf_counter()
    meter, spectral, frames = None, None, 0
    for block in io.stream(path, block_seconds=1.0):
        if meter is None:
            meter = LoudnessMeter(block.sample_rate, block.channels)
            spectral = SpectralMeter(block.sample_rate) if part == "spectral" else None
        meter.process(block)
        if spectral is not None:
            spectral.process(block.to_mono())
        frames += block.frames
    lufs = meter.result().integrated_lufs if meter is not None else float("nan")
    centroid = (spectral.result()["spectral_centroid_hz"]["mean"] if spectral is not None
                else float("nan"))
    print(json.dumps({"baseline_kib": baseline, "peak_kib": io_bench.peak_rss_kib(),
                      "frames": frames, "integrated_lufs": lufs, "centroid_hz": centroid,
                      "seconds": time.perf_counter() - started}))


def peak_rss(part: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", part, str(path)], check=True,
                         capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def bench_stream_memory(part: str, short: Path, long: Path) -> bool:
    a, b = peak_rss(part, short), peak_rss(part, long)
    ratio = b["peak_kib"] / a["peak_kib"]
    ok = ratio <= MEMORY_TARGET
    print(f"  1 min {a['peak_kib'] / 1024:6.1f} MiB ({a['integrated_lufs']:.2f} LUFS)   "
          f"60 min {b['peak_kib'] / 1024:6.1f} MiB ({b['integrated_lufs']:.2f} LUFS)   "
          f"ratio {ratio:5.2f} (target <= {MEMORY_TARGET:.1f})  {'PASS' if ok else 'FAIL'}")
    grow = [(r["peak_kib"] - r["baseline_kib"]) / 1024 for r in (a, b)]
    print(f"        growth over the after-import baseline: 1 min {grow[0]:.1f} MiB, "
          f"60 min {grow[1]:.1f} MiB; metering took {a['seconds']:.1f} s and "
          f"{b['seconds']:.1f} s")
    if part == "spectral":
        print(f"        spectral centroid mean: 1 min {a['centroid_hz']:.1f} Hz, "
              f"60 min {b['centroid_hz']:.1f} Hz")
    return ok


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side (3)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated parts to run: {', '.join(PARTS)} (all)")
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if not parts or set(parts) - set(PARTS):
        parser.error(f"--parts: choose from {', '.join(PARTS)}")
    started = time.perf_counter()
    print(f"machine: {io_bench.machine()}")
    wanted = [("music_1min.flac", 1), ("music_60min.flac", 60)]
    if "features" in parts:
        wanted.insert(0, ("music_10min.flac", 10))
    files = {name: io_bench.build(name, minutes) for name, minutes in wanted}
    ok = []
    if "features" in parts:
        print(f"\n(a) feature set on 10 min of music: median of {args.repeats} runs each, "
              "alternating order")
        ok.append(bench_features(files["music_10min.flac"], args.repeats))
    if "loudness" in parts:
        print("\n(b) peak RSS of a fresh process metering loudness over 1-second blocks, "
              "1-min vs 60-min FLAC")
        ok.append(bench_stream_memory("loudness", files["music_1min.flac"],
                                      files["music_60min.flac"]))
    if "spectral" in parts:
        print("\n(c) peak RSS of a fresh process metering loudness and spectral statistics "
              "over 1-second blocks, 1-min vs 60-min FLAC")
        ok.append(bench_stream_memory("spectral", files["music_1min.flac"],
                                      files["music_60min.flac"]))
    print(f"\n{'all targets met' if all(ok) else 'TARGET MISSED'} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
