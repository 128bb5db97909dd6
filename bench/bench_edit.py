"""Editing benchmarks: ``.venv/bin/python bench/bench_edit.py [--long-minutes 60] [--only d]``.

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
(d) the ``sox`` command line (SoX 14.4, the Debian ``sox`` package; skipped with a message when
    it is not installed) running the same kind of chain on the same 10-minute FLAC, FLAC
    16-bit out, against ``apply_file`` of (a)'s chain. Alternating order, ``--repeats``
    rounds, medians of wall-clock time (sox's includes its process start, a few ms) and, for
    information, of CPU time (sox's process; ours counts every thread of this one). The sox
    effects that stand in for ours, parameters as close as sox allows:

    * ``HighPass(80 Hz)``, first order → ``highpass -1 80`` (single pole);
    * ``PeakEQ(3 kHz, +2 dB, q=1)`` → ``equalizer 3000 1q 2`` (the same RBJ peaking biquad);
    * ``Compressor(-18 dB, 3:1, 5 ms / 120 ms)`` → ``compand 0.005,0.12 -18,-18,0,-12``
      (hard knee, 3:1 above -18 dBFS; sox's attack/decay are its level averager's times);
    * ``Reverb(room 0.3, damping 0.5, wet 0.15, dry 0.85)`` (JUCE's Freeverb) → ``reverb 26
      0 100 100 0 -4`` (sox's Freeverb: reverberance 26 % gives JUCE's comb feedback 0.784,
      HF-damping 0 % its damping 0.2, room-scale 100 % the same delay lengths, stereo depth
      100 %; wet gain -4 dB makes wet / dry equal JUCE's 0.45 / 1.7, since sox's dry path is
      fixed at unity);
    * ``Limiter(-1 dB, release 100 ms)`` → ``compand 0.002,0.2 -90,-80.65,-14.6,-5.25,0,-1.6``.
      JUCE's limiter is two compressors (-10 dB 4:1 at 2 ms / 200 ms, then -1 dB 1000:1)
      followed by +4.75 dB of make-up gain and a clip at 0 dBFS; one sox compander takes
      the first stage's times and the static curve of both stages with the make-up (the
      second stage only catches transients; sox clips at 0 dBFS too). The curve also
      carries +4.6 dB (x 1.7) of JUCE's reverb dry gain, which cannot be a separate ``gain``
      before it as sox clips to its 32-bit integer range between effects;
    * ``Gain(-1 dB)`` → ``gain -1``.

    ``-D`` turns off sox's automatic dither (we write plain rounded 16-bit) and ``-C 5`` is
    libsndfile's FLAC compression level. The algorithms differ (JUCE's compressor and
    limiter against sox's compander, float against 32-bit integer processing), so the outputs
    are not sample-identical and only speed is compared; the output RMS of both is printed
    to show the chains do comparable work on the level (within ~1 dB on the music files).
    Information, no target: sox is the classic C tool for these effects, and the
    ratio time(sox) / time(wavesmith) says how our pedalboard-backed streaming compares with
    it (> 1: we are faster).

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
SECTIONS = "abcd"
# (d): the sox effects standing in for typical_chain() (see the module docstring)
SOX_CHAIN = ["highpass", "-1", "80",
             "equalizer", "3000", "1q", "2",
             "compand", "0.005,0.12", "-18,-18,0,-12",
             "reverb", "26", "0", "100", "100", "0", "-4",
             "compand", "0.002,0.2", "-90,-80.65,-14.6,-5.25,0,-1.6",
             "gain", "-1"]


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


def run_sox(src: Path, dst: Path) -> tuple[float, float]:
    """The sox command line on ``src`` → 16-bit FLAC ``dst``: wall-clock and CPU seconds."""
    import resource

    cmd = ["sox", "-V1", "-D", str(src), "-b", "16", "-C", "5", str(dst), *SOX_CHAIN]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def run_ours_cpu(src: Path, dst: Path) -> tuple[float, float]:
    """:func:`run_ours`: wall-clock and CPU seconds (all of this process's threads)."""
    cpu = time.process_time()
    wall = run_ours(src, dst)
    return wall, time.process_time() - cpu


def rms_dbfs(path: Path) -> float:
    """RMS level of a file over all channels (dBFS), read in 10-s blocks."""
    total, n = 0.0, 0
    for block in io.stream(path, BLOCK_S):
        total += float(np.sum(block.samples.astype(np.float64) ** 2))
        n += block.samples.size
    return float(10 * np.log10(total / max(n, 1) + 1e-20))


def bench_sox(src: Path, repeats: int) -> None:
    """(d): time(sox) / time(wavesmith) for the same kind of chain (information)."""
    import shutil

    if shutil.which("sox") is None:
        print("  skipped: the sox command is not installed (Debian: apt-get install sox; "
              "`make system-deps` does it)")
        return
    version = subprocess.run(["sox", "--version"], capture_output=True, text=True).stdout
    print(f"  {version.split(':', 1)[-1].strip()}: sox -D IN -b 16 -C 5 OUT "
          f"{' '.join(SOX_CHAIN)}")
    runs: dict[str, list[tuple[float, float]]] = {"ours": [], "sox": []}
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "ours.flac", Path(tmp) / "sox.flac"
        run_ours(src, a), run_sox(src, b)   # warm-up: imports, page cache
        for i in range(repeats):
            order = [("ours", lambda: run_ours_cpu(src, a)), ("sox", lambda: run_sox(src, b))]
            for key, fn in order if i % 2 == 0 else order[::-1]:
                runs[key].append(fn())
        frames = (io.info(a).frames, io.info(b).frames)
        levels = (rms_dbfs(src), rms_dbfs(a), rms_dbfs(b))
    (t_ours, c_ours), (t_sox, c_sox) = ([statistics.median(r[k] for r in runs[key])
                                         for k in (0, 1)] for key in ("ours", "sox"))
    print(f"  sox {t_sox:6.2f} s   wavesmith {t_ours:6.2f} s   ratio {t_sox / t_ours:5.2f} "
          "(information; no target)")
    print(f"  CPU seconds: sox {c_sox:.2f}, wavesmith {c_ours:.2f} (ratio {c_sox / c_ours:.2f})")
    print(f"  runs sox {[round(r[0], 2) for r in runs['sox']]}  wavesmith "
          f"{[round(r[0], 2) for r in runs['ours']]}; frames {frames[1]} vs {frames[0]}; RMS "
          f"in {levels[0]:.1f} dBFS, out sox {levels[2]:.1f} / wavesmith {levels[1]:.1f} dBFS "
          "(different algorithms: not sample-identical)")


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
    parser.add_argument("--only", default=SECTIONS, metavar="SECTIONS",
                        help="run only these sections, e.g. 'd' or 'ad' (default: all)")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    only = args.only.replace(",", "").lower()
    if not only or set(only) - set(SECTIONS):
        parser.error(f"--only {args.only!r}: give letters among {SECTIONS!r}, e.g. --only d")
    started = time.perf_counter()
    ok_a = ok_b = True
    print(f"machine: {machine()}")
    ten = build("music_10min.flac", 10) if set(only) & set("ad") else None
    if "a" in only and ten is not None:
        print(f"\n(a) 6-effect chain, 10 min 44.1 kHz stereo FLAC -> FLAC, {BLOCK_S:g}-s "
              f"blocks, median of {args.repeats}")
        ok_a = bench_speed(ten, args.repeats)
    if "b" in only:
        long = build(f"music_{args.long_minutes}min.flac", args.long_minutes)
        print(f"\n(b) peak RSS of a fresh process applying the chain streamed, 1 min vs "
              f"{args.long_minutes} min")
        ok_b = bench_memory(build("music_1min.flac", 1), long)
    if "c" in only:
        print(f"\n(c) denoiser real-time factors, {DENOISE_S:g} s of speech + car noise at 5 "
              "dB, 16 kHz mono (RTF < 1: faster than real time)")
        bench_denoise()
    if "d" in only and ten is not None:
        print(f"\n(d) the same kind of chain by the sox CLI, 10 min 44.1 kHz stereo FLAC -> "
              f"FLAC 16-bit, median of {args.repeats}")
        bench_sox(ten, args.repeats)
    verdict = "all targets met" if ok_a and ok_b else "TARGET MISSED"
    if not set(only) & set("ab"):
        verdict = "no target in these sections"
    print(f"\n{verdict} ({time.perf_counter() - started:.0f} s)")
    return 0 if ok_a and ok_b else 1


if __name__ == "__main__":
    sys.exit(main())
