"""Editing benchmarks: ``.venv/bin/python bench/bench_edit.py [--long-minutes 60]``.

The inputs are the test files of ``bench/run.py`` (real music recordings joined end to end,
44.1 kHz stereo, built into ``bench/.cache/`` on first use) and, for (c), the read sentences
of ``../shared/data/speech/sentences`` mixed with real noise.

(a) chain speed: a typical 6-effect chain (high-pass, peak EQ, compressor, reverb, limiter,
    gain) applied file to file to the 10-minute FLAC, streamed in 10-s blocks:
    ``wavesmith.edit.apply_file`` against pedalboard used directly (``pedalboard.io.AudioFile``
    read in 10-s chunks, one ``pedalboard.Pedalboard`` of the same plugins with
    ``reset=False``, FLAC 16-bit written by ``AudioFile``). Alternating order, ``--repeats``
    rounds, medians. Target: time(pedalboard) / time(wavesmith) >= 0.9 (overhead <= 10 %).
(b) streamed memory: peak RSS (``VmHWM``) of a fresh child process running the same chain
    with ``apply_file`` on the 1-minute and the ``--long-minutes`` FLAC. Target: ratio <= 1.2.
(c) denoiser real-time factors on 60 s of speech + real noise at 5 dB SNR, 16 kHz mono:
    CPU seconds per second of audio (model load reported apart) and wall-clock, for the
    spectral gate (stationary / non-stationary) and DeepFilterNet 3, whole and streamed.

The exit status is 1 when a target is missed. Timings depend on the machine's load: compare
ratios within one run. To run it from ``make bench``, add ``bench/bench_edit.py`` after
``bench/run.py`` (it needs no argument).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from wavesmith import Audio, io
from wavesmith.edit import (
    Chain,
    Compressor,
    Denoise,
    Gain,
    HighPass,
    Limiter,
    NeuralDenoise,
    PeakEQ,
    Reverb,
    apply_file,
)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from run import build, machine, peak_rss_kib  # noqa: E402  (bench/run.py: shared test files)

BLOCK_S = 10.0          # seconds per block, both sides of (a)
SPEED_TARGET = 0.9      # (a): time(pedalboard) / time(wavesmith)
MEMORY_TARGET = 1.2     # (b): peak RSS long file / peak RSS 1-min file
DENOISE_S = 60.0        # (c): seconds of noisy speech


def typical_chain() -> Chain:
    """Six streamable effects: five pedalboard plugins and our NumPy gain."""
    return Chain([HighPass(cutoff_hz=80.0), PeakEQ(cutoff_hz=3_000.0, gain_db=2.0, q=1.0),
                  Compressor(threshold_db=-18.0, ratio=3.0, attack_s=0.005, release_s=0.12),
                  Reverb(room_size=0.3, wet_level=0.15, dry_level=0.85),
                  Limiter(threshold_db=-1.0), Gain(gain_db=-1.0)])


def run_ours(src: Path, dst: Path) -> float:
    start = time.perf_counter()
    apply_file(src, dst, typical_chain(), block_seconds=BLOCK_S, subtype="PCM_16",
               overwrite=True)
    return time.perf_counter() - start


def _plugin(effect: object) -> object:
    """The pedalboard plugin with the effect's parameters (``Gain`` is NumPy on our side)."""
    import pedalboard

    if isinstance(effect, Gain):
        return pedalboard.Gain(gain_db=effect.gain_db)
    return effect._make_plugin()  # type: ignore[attr-defined]


def run_pedalboard(src: Path, dst: Path) -> float:
    import pedalboard
    from pedalboard.io import AudioFile

    start = time.perf_counter()
    board = pedalboard.Pedalboard([_plugin(e) for e in typical_chain()])
    with AudioFile(str(src)) as f, AudioFile(str(dst), "w", f.samplerate, f.num_channels,
                                             bit_depth=16) as out:
        step = round(BLOCK_S * f.samplerate)
        while f.tell() < f.frames:
            out.write(board(f.read(step), f.samplerate, reset=False))
    return time.perf_counter() - start


def bench_speed(src: Path, repeats: int) -> bool:
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "ours.flac", Path(tmp) / "peer.flac"
        run_ours(src, a), run_pedalboard(src, b)   # warm-up: imports, page cache
        for i in range(repeats):
            order = [("ours", lambda: run_ours(src, a)), ("peer", lambda: run_pedalboard(src, b))]
            for key, fn in order if i % 2 == 0 else order[::-1]:
                times[key].append(fn())
        x, y = io.load(a).samples, io.load(b).samples
        diff = float(np.max(np.abs(x[:, :y.shape[1]] - y[:, :x.shape[1]])))
        frames = (x.shape[1], y.shape[1])
    t_ours, t_peer = statistics.median(times["ours"]), statistics.median(times["peer"])
    ratio = t_peer / t_ours
    ok = ratio >= SPEED_TARGET
    print(f"  pedalboard {t_peer:6.2f} s   wavesmith {t_ours:6.2f} s   ratio {ratio:5.2f} "
          f"(target >= {SPEED_TARGET})  {'PASS' if ok else 'FAIL'}")
    print(f"  runs pedalboard {[round(t, 2) for t in times['peer']]}  wavesmith "
          f"{[round(t, 2) for t in times['ours']]}; frames {frames[1]} vs {frames[0]}, "
          f"max |diff| {diff:.1e} (16-bit output)")
    return ok


def child(src: str) -> None:
    """Child process: apply the chain to ``src`` streamed; print baseline and peak RSS."""
    baseline = peak_rss_kib()
    with tempfile.TemporaryDirectory() as tmp:
        report = apply_file(src, Path(tmp) / "out.flac", typical_chain(),
                            block_seconds=BLOCK_S, subtype="PCM_16")
    print(json.dumps({"baseline_kib": baseline, "peak_kib": peak_rss_kib(),
                      "streamed": report.streamed, "frames": report.frames}))


def bench_memory(short: Path, long: Path) -> bool:
    runs = []
    for path in (short, long):
        out = subprocess.run([sys.executable, __file__, "--child", str(path)], check=True,
                             capture_output=True, text=True).stdout
        runs.append(json.loads(out))
    ratio = runs[1]["peak_kib"] / runs[0]["peak_kib"]
    ok = ratio <= MEMORY_TARGET and all(r["streamed"] for r in runs)
    print(f"  1 min {runs[0]['peak_kib'] / 1024:6.1f} MiB   long {runs[1]['peak_kib'] / 1024:6.1f}"
          f" MiB   ratio {ratio:5.2f} (target <= {MEMORY_TARGET})  {'PASS' if ok else 'FAIL'}")
    grow = [(r["peak_kib"] - r["baseline_kib"]) / 1024 for r in runs]
    print(f"  growth over the after-import baseline: 1 min {grow[0]:.1f} MiB, long "
          f"{grow[1]:.1f} MiB")
    return ok


def noisy_speech() -> Audio:
    """DENOISE_S seconds of the read sentences (cycled) + real car noise at 5 dB SNR."""
    data = REPO.parent / "shared" / "data"
    clips = [io.load(p, sample_rate=16_000, mono=True).samples[0]
             for p in sorted((data / "speech" / "sentences").glob("*.*"))
             if p.suffix in (".wav", ".flac")]
    x = np.resize(np.concatenate(clips), round(DENOISE_S * 16_000))
    noise = io.load(data / "noise" / "freesound_car_engine.wav", sample_rate=16_000,
                    mono=True).samples[0]
    noise = np.resize(noise, x.size)
    noise *= np.sqrt(np.mean(x**2) / np.mean(noise**2)) / 10 ** (5 / 20)
    return Audio((x + noise)[None, :].astype(np.float32), 16_000)


def bench_denoise() -> None:
    audio = noisy_speech()
    cases = [("gate, non-stationary (default)", Denoise(), False),
             ("gate, stationary", Denoise(stationary=True), False),
             ("DeepFilterNet 3, whole", NeuralDenoise(), False),
             ("DeepFilterNet 3, streamed 1 s", NeuralDenoise(), True)]
    Denoise()(audio.slice(0.0, 1.0))   # warm-up: noisereduce's imports
    for name, effect, streamed in cases:
        cpu, wall = time.process_time(), time.perf_counter()
        if streamed:
            effect.reset()
            for i in range(0, audio.frames, audio.sample_rate):
                effect.process(Audio(audio.samples[:, i:i + audio.sample_rate], 16_000),
                               reset=False)
            effect.flush()
        else:
            effect(audio)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        load, load_cpu = getattr(effect, "last_load_s", 0.0), getattr(effect, "last_load_cpu_s",
                                                                    0.0)
        print(f"  {name:32} RTF cpu {(cpu - load_cpu) / audio.duration_s:6.3f}   wall "
              f"{(wall - load) / audio.duration_s:6.3f}   model load {load:4.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long-minutes", type=int, default=60, choices=(10, 60))
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    started = time.perf_counter()
    print(f"machine: {machine()}")
    ten = build("music_10min.flac", 10)
    print(f"\n(a) 6-effect chain, 10 min 44.1 kHz stereo FLAC -> FLAC, {BLOCK_S:g}-s blocks, "
          f"median of {args.repeats}")
    ok_a = bench_speed(ten, args.repeats)
    long = ten if args.long_minutes == 10 else build("music_60min.flac", 60)
    print(f"\n(b) peak RSS of a fresh process applying the chain streamed, 1 min vs "
          f"{args.long_minutes} min")
    ok_b = bench_memory(build("music_1min.flac", 1), long)
    print(f"\n(c) denoiser real-time factors, {DENOISE_S:g} s of speech + car noise at 5 dB, "
          "16 kHz mono (RTF < 1: faster than real time)")
    bench_denoise()
    print(f"\n{'all targets met' if ok_a and ok_b else 'TARGET MISSED'} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0 if ok_a and ok_b else 1


if __name__ == "__main__":
    sys.exit(main())
