"""Shipped digit models: size, CPU latency per clip and accuracy of torch fp32 / ONNX fp32 /
ONNX int8, measured in one run: ``.venv/bin/python bench/bench_models.py [--clips 200]``.

For each shipped classifier (``digits_whisper``, ``digits_cnn``) the held-out test speaker's
clips (from the model card) are featurised once (the front end's time per clip is printed
apart: log-mel, or the frozen Whisper encoder), then each variant is timed on one clip at a
time (median of all clips, ``--threads`` intra-op threads) and scored. The torch fp32 row
needs the training checkpoint ``runs/<name>/best.pt`` (``make train-digits``); without it the
row measured at export time is printed from the card instead, marked "(card)".

Targets (issue 7): ONNX int8 >= 2x faster per clip than torch fp32, accuracy within 1 point.
The exit status is 1 when a target measured in this run is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "speech" / "digits"
SPEEDUP_TARGET = 2.0        # torch fp32 time / ONNX int8 time
ACCURACY_POINTS = 0.01      # |accuracy int8 - accuracy torch|


def _median_ms(fn, feats: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    fn(feats[:1])   # warm-up
    times = []
    for i in range(len(feats)):
        t = time.perf_counter()
        fn(feats[i:i + 1])
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def bench(name: str, n_clips: int, threads: int) -> tuple[list[dict], bool]:
    import torch

    from wavesmith.learn.data import FeatureParams, features_from_audio, load_clip
    from wavesmith.learn.evaluate import OnnxClassifier
    from wavesmith.models.registry import WEIGHTS_DIR, shipped_info

    torch.set_num_threads(threads)
    card = shipped_info(name)
    params = FeatureParams(**card["feature_params"])
    speakers = card["metrics"]["test_speakers"]
    files = sorted(p for p in DATA.glob("*.wav") if p.name.split("_")[1] in speakers)
    files = files[:: max(1, len(files) // n_clips)][:n_clips]
    labels = np.array([card["labels"].index(p.name.split("_")[0]) for p in files])
    features_from_audio(load_clip(files[0], params), params)   # warm-up (model load, JIT)
    t = time.perf_counter()
    feats = np.stack([features_from_audio(load_clip(p, params), params) for p in files])
    frontend_ms = 1000 * (time.perf_counter() - t) / len(files)
    rows = []
    ckpt = REPO / "runs" / name / "best.pt"
    if ckpt.is_file():
        from wavesmith.models.checkpoint import load_checkpoint

        model = load_checkpoint(ckpt).model.eval()

        def run_torch(x: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return model(torch.from_numpy(x)).numpy()

        rows.append({"variant": "torch fp32", "size_kb": ckpt.stat().st_size / 1024,
                     "latency_ms": _median_ms(run_torch, feats),
                     "accuracy": float(np.mean(run_torch(feats).argmax(1) == labels))})
    else:
        card_row = next(r for r in card["export"]["rows"] if r["variant"] == "torch fp32")
        rows.append({"variant": "torch fp32 (card)", "size_kb": card_row["size_bytes"] / 1024,
                     "latency_ms": card_row["latency_ms"], "accuracy": card_row["accuracy"]})
    for variant, file in (("onnx fp32", f"{name}.onnx"), ("onnx int8", f"{name}_int8.onnx")):
        clf = OnnxClassifier(WEIGHTS_DIR / file, threads=threads)
        rows.append({"variant": variant, "size_kb": (WEIGHTS_DIR / file).stat().st_size / 1024,
                     "latency_ms": _median_ms(clf.logits, feats),
                     "accuracy": float(np.mean(clf.logits(feats).argmax(1) == labels))})
    print(f"\n{name}: {len(files)} clips of {', '.join(speakers)}; front end "
          f"({params.frontend}) {frontend_ms:.2f} ms / clip, not included below")
    print(f"{'variant':<20}{'size KB':>10}{'ms / clip':>12}{'accuracy':>10}")
    for r in rows:
        print(f"{r['variant']:<20}{r['size_kb']:>10.0f}{r['latency_ms']:>12.3f}"
              f"{r['accuracy']:>10.3f}")
    ok = True
    if rows[0]["variant"] == "torch fp32":
        speedup = rows[0]["latency_ms"] / rows[2]["latency_ms"]
        drop = abs(rows[0]["accuracy"] - rows[2]["accuracy"])
        ok = speedup >= SPEEDUP_TARGET and drop <= ACCURACY_POINTS
        print(f"ratio torch fp32 / onnx int8 = {speedup:.2f} (target >= {SPEEDUP_TARGET}); "
              f"accuracy difference {100 * drop:.1f} points (target <= 1)"
              f"{'' if ok else '  MISSED'}")
    return rows, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=200, help="held-out clips per model")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads")
    ap.add_argument("--models", nargs="+", default=["digits_whisper", "digits_cnn"])
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    results, ok = {}, True
    for name in args.models:
        rows, good = bench(name, args.clips, args.threads)
        results[name], ok = rows, ok and good
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
