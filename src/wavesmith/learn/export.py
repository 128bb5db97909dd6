"""Export a checkpoint to ONNX, check parity, quantize to int8, and measure all three.

``export_checkpoint`` writes ``model.onnx`` (fp32; ``torch.onnx.export(dynamo=False)``, the
TorchScript exporter, which needs no onnxscript) and ``model.int8.onnx`` (onnxruntime dynamic
quantization: int8 weights, activations quantized per batch at run time). Both carry the
labels and feature parameters in their metadata, so they run without the checkpoint.

Parity: the fp32 ONNX logits must match torch within :data:`PARITY_ATOL` on real clips.
The table gives file size, median CPU latency per clip (batch 1, model only; the log-mel
front end is timed separately) and accuracy on the manifest's test split, for torch fp32,
ONNX fp32 and ONNX int8.

CTC models (``digit_ctc``) export with a dynamic time axis; parity, latency (per utterance)
and accuracy (string accuracy, beam search) are measured on connected digit strings
composed from the test split exactly as the trainer composed its test set. Their int8
variant quantizes Conv too (a convolution-only network has no MatMul).

Model cards hold no machine paths: files are named by their base name and the training
config's ``out_dir``/``cache_dir`` are replaced by portable values (:func:`portable_config`).
"""

from __future__ import annotations

import io as _bytes_io
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.errors import ModelError
from wavesmith.learn.data import FeatureCache, FeatureParams, load_clip, read_manifest
from wavesmith.learn.evaluate import OnnxClassifier, TorchClassifier

__all__ = ["PARITY_ATOL", "ExportReport", "ExportRow", "export_checkpoint", "export_onnx",
           "portable_config", "ship_model"]

PARITY_ATOL = 1e-4      # max |logit difference| allowed between torch and ONNX fp32
ONNX_OPSET = 17
LATENCY_RUNS = 200      # timed single-clip runs per variant (after 20 warm-up runs)
# Operators quantized to int8. Only MatMul by default: quantizing Conv too (ConvInteger) made
# the shipped digit CNN 5x *slower* than ONNX fp32 on this 2-core x86 box (1.45 ms vs 0.29 ms
# per clip, `wavesmith train export`, 2026-11-25) for the same accuracy, while the linear
# layers hold ~90 % of its weights, so MatMul-only int8 gets most of the size saving.
INT8_OPS = ("MatMul",)
CTC_PARITY_STRINGS = 100   # real test utterances for the CTC parity check and table


@dataclass
class ExportRow:
    """One variant: file size (bytes), median latency per clip (ms), test accuracy (0-1)."""

    variant: str
    path: str
    size_bytes: int
    latency_ms: float
    accuracy: float


@dataclass
class ExportReport:
    """The exported files, the parity result and the comparison table."""

    onnx_fp32: str
    onnx_int8: str
    parity_max_abs_diff: float
    parity_clips: int
    feature_ms: float                   # median log-mel front-end time per clip
    threads: int
    rows: list[ExportRow] = field(default_factory=list)


def _metadata(ck: Any) -> str:
    meta = {"model": ck.model_name, "model_config": ck.raw["model_config"],
            "labels": ck.labels, "feature_params": ck.feature_params,
            "versions": ck.raw.get("versions", {})}
    if getattr(ck.model, "task", "classify") == "ctc":
        meta.update({"task": "ctc", "blank": 0, "stride": ck.model.config.stride})
    return json.dumps(meta)


def portable_config(train_config: dict[str, Any]) -> dict[str, Any]:
    """A training config fit for a shipped card: no absolute or machine-specific paths.

    ``cache_dir`` becomes ``None`` (the default cache), an absolute ``out_dir`` becomes
    ``runs/<name>``; relative paths (``../shared/data/...``) are kept.
    """
    cfg = dict(train_config)
    cfg["cache_dir"] = None
    if Path(str(cfg.get("out_dir", ""))).is_absolute():
        cfg["out_dir"] = f"runs/{cfg.get('name', 'model')}"
    for key in ("data", "noise_dir"):
        if cfg.get(key) and Path(str(cfg[key])).is_absolute():
            cfg[key] = Path(str(cfg[key])).name
    return cfg


def export_onnx(model: Any, params: FeatureParams, path: str | os.PathLike[str],
                metadata: str | None = None) -> Path:
    """Export a torch model (features → logits) to ONNX with a dynamic batch axis.

    Input ``features`` ``(batch, n_mels, n_frames)`` float32; output ``logits``. CTC models
    (``task == "ctc"``) also get a dynamic time axis (``logits`` ``(batch, symbols,
    out_frames)``). ``metadata`` (JSON text) is stored under the ``wavesmith`` metadata key.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, params.n_features, params.n_frames)
    model.eval()
    axes: dict[str, dict[int, str]] = {"features": {0: "batch"}, "logits": {0: "batch"}}
    if getattr(model, "task", "classify") == "ctc":
        axes = {"features": {0: "batch", 2: "frames"}, "logits": {0: "batch", 2: "out_frames"}}
    torch.onnx.export(model, (dummy,), str(path), input_names=["features"],
                      output_names=["logits"], opset_version=ONNX_OPSET, dynamo=False,
                      dynamic_axes=axes)
    if metadata is not None:
        _set_metadata(path, metadata)
    return path


def _set_metadata(path: Path, metadata: str) -> None:
    import onnx

    from wavesmith.models.registry import METADATA_KEY

    m = onnx.load(str(path))
    for p in list(m.metadata_props):
        if p.key == METADATA_KEY:
            m.metadata_props.remove(p)
    m.metadata_props.append(onnx.StringStringEntryProto(key=METADATA_KEY, value=metadata))
    onnx.save(m, str(path))


def _median_ms(fn: Any, x: np.ndarray, runs: int) -> float:
    for i in range(20):
        fn(x[i % len(x):i % len(x) + 1])
    times = []
    for i in range(runs):
        clip = x[i % len(x):i % len(x) + 1]
        t0 = time.perf_counter()
        fn(clip)
        times.append(time.perf_counter() - t0)
    return round(1000 * float(np.median(times)), 4)


def export_checkpoint(checkpoint: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                      manifest: str | os.PathLike[str] | None = None, split: str = "test",
                      cache_dir: str | os.PathLike[str] | None = None, threads: int = 1,
                      latency_runs: int = LATENCY_RUNS,
                      int8_ops: tuple[str, ...] = INT8_OPS,
                      ctc_strings: int = CTC_PARITY_STRINGS) -> ExportReport:
    """Export ``checkpoint`` to ``out_dir/model.onnx`` and ``model.int8.onnx`` and measure.

    Parameters
    ----------
    checkpoint : path-like
        A ``.pt`` from the trainer.
    out_dir : path-like
        Folder for the ONNX files and ``export.json`` (the report).
    manifest : path-like, optional
        Real clips for parity and accuracy; default the ``manifest.csv`` the trainer wrote
        beside the checkpoint.
    split : str, default "test"
        Manifest split to measure on.
    threads : int, default 1
        CPU threads for torch and onnxruntime during the latency runs.
    int8_ops : tuple of str, default ("MatMul",)
        ONNX operator types quantized to int8 (see :data:`INT8_OPS`); add ``"Conv"`` for a
        fully quantized model. (CTC models always quantize Conv and MatMul.)
    ctc_strings : int, default 100
        CTC models: test utterances for parity, latency and accuracy.

    Raises
    ------
    ModelError
        If the checkpoint is unusable or ONNX fp32 differs from torch by more than
        :data:`PARITY_ATOL` (the files are then removed).
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from wavesmith.models.checkpoint import load_checkpoint

    ck = load_checkpoint(checkpoint)
    params = FeatureParams(**ck.feature_params)
    manifest = Path(manifest) if manifest else Path(checkpoint).resolve().parent / "manifest.csv"
    if getattr(ck.model, "task", "classify") == "ctc":
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return _export_ctc(ck, out_dir, manifest, split, threads, latency_runs, ctc_strings)
        finally:
            torch.set_num_threads(previous)
    rows = read_manifest(manifest, labels=ck.labels, required_splits=(split,)).split(split)
    targets = np.array([ck.labels.index(r.label) for r in rows])
    feats = FeatureCache(params, cache_dir).many([r.path for r in rows])

    out = Path(out_dir)
    fp32, int8 = out / "model.onnx", out / "model.int8.onnx"
    meta = _metadata(ck)
    export_onnx(ck.model, params, fp32, meta)
    torch_clf, onnx_clf = TorchClassifier(ck.model), OnnxClassifier(fp32, threads=threads)
    with torch.inference_mode():
        ref = ck.model(torch.from_numpy(feats)).numpy()
    diff = float(np.max(np.abs(ref - onnx_clf.logits(feats))))
    if not diff <= PARITY_ATOL:
        fp32.unlink(missing_ok=True)
        raise ModelError(f"{checkpoint}: ONNX fp32 logits differ from torch by {diff:.2e} "
                         f"(> {PARITY_ATOL:.0e}) on {len(rows)} real clips; not exported")
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8,
                     op_types_to_quantize=list(int8_ops))
    _set_metadata(int8, meta)
    int8_clf = OnnxClassifier(int8, threads=threads)

    buf = _bytes_io.BytesIO()
    torch.save(ck.model.state_dict(), buf)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        def torch_fn(x: np.ndarray) -> Any:
            with torch.inference_mode():
                return ck.model(torch.from_numpy(x))

        table = [
            ExportRow("torch fp32", str(checkpoint), buf.getbuffer().nbytes,
                      _median_ms(torch_fn, feats, latency_runs),
                      float((torch_clf.predict_proba(feats).argmax(1) == targets).mean())),
            ExportRow("onnx fp32", str(fp32), fp32.stat().st_size,
                      _median_ms(onnx_clf.logits, feats, latency_runs),
                      float((onnx_clf.predict_proba(feats).argmax(1) == targets).mean())),
            ExportRow("onnx int8", str(int8), int8.stat().st_size,
                      _median_ms(int8_clf.logits, feats, latency_runs),
                      float((int8_clf.predict_proba(feats).argmax(1) == targets).mean())),
        ]
    finally:
        torch.set_num_threads(previous)
    from wavesmith.learn.data import features_from_audio

    clips = [load_clip(r.path, params) for r in rows[:50]]
    ftimes = []
    for c in clips:
        t0 = time.perf_counter()
        features_from_audio(c, params)
        ftimes.append(time.perf_counter() - t0)
    report = ExportReport(str(fp32), str(int8), diff, len(rows),
                          round(1000 * float(np.median(ftimes)), 3), threads, table)
    (out / "export.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report


def _test_strings(ck: Any, manifest: Path, split: str, n: int | None = None) -> list[Any]:
    """The trainer's fixed test utterances (first ``n``) for a CTC checkpoint."""
    from wavesmith.learn.strings import StringComposer, StringConfig, fixed_strings
    from wavesmith.learn.trainer import TEST_SEED_OFFSET

    params = FeatureParams(**ck.feature_params)
    cfg = StringConfig(**ck.train_config.get("strings", {}))
    rows = read_manifest(manifest, labels=ck.labels, required_splits=(split,)).split(split)
    comp = StringComposer(rows, ck.labels, params, cfg)
    return fixed_strings(comp, n or cfg.eval_strings,
                         int(ck.train_config.get("seed", 0)) + TEST_SEED_OFFSET)


def _string_accuracy(model: Any, strings: list[Any], labels: list[str],
                     params: FeatureParams) -> float:
    from wavesmith.learn.data import log_mel_features
    from wavesmith.models.ctc_decode import prefix_beam_search

    hits = 0
    for s in strings:
        best = prefix_beam_search(model.log_probs(log_mel_features(s.audio.samples[0], params)))
        hits += [labels[k - 1] for k in best[0].symbols] == list(s.labels)
    return hits / len(strings)


def _export_ctc(ck: Any, out_dir: str | os.PathLike[str], manifest: Path, split: str,
                threads: int, latency_runs: int, n_strings: int) -> ExportReport:
    """:func:`export_checkpoint` for a CTC model, measured on real digit strings."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from wavesmith.learn.data import log_mel_features
    from wavesmith.learn.evaluate import OnnxCTC, TorchCTC

    params = FeatureParams(**ck.feature_params)
    strings = _test_strings(ck, manifest, split, n_strings)
    feats = [log_mel_features(s.audio.samples[0], params) for s in strings]
    out = Path(out_dir)
    fp32, int8 = out / "model.onnx", out / "model.int8.onnx"
    meta = _metadata(ck)
    export_onnx(ck.model, params, fp32, meta)
    onnx_m = OnnxCTC(fp32, threads=threads)
    diff = 0.0
    with torch.inference_mode():
        for f in feats:
            ref = ck.model(torch.from_numpy(f)[None]).numpy()
            diff = max(diff, float(np.max(np.abs(ref - onnx_m.logits(f)))))
    if not diff <= PARITY_ATOL:
        fp32.unlink(missing_ok=True)
        raise ModelError(f"{ck.path}: ONNX fp32 logits differ from torch by {diff:.2e} "
                         f"(> {PARITY_ATOL:.0e}) on {len(strings)} real utterances; not exported")
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["Conv", "MatMul"])
    _set_metadata(int8, meta)
    int8_m = OnnxCTC(int8, threads=threads)
    torch_m = TorchCTC(ck.model)
    buf = _bytes_io.BytesIO()
    torch.save(ck.model.state_dict(), buf)
    runs = max(1, min(latency_runs, len(feats)))

    def median_ms(fn: Any) -> float:
        fn(feats[0])
        times = []
        for f in feats[:runs]:
            t0 = time.perf_counter()
            fn(f)
            times.append(time.perf_counter() - t0)
        return round(1000 * float(np.median(times)), 4)

    table = [ExportRow(variant, name, size, median_ms(m.log_probs),
                       round(_string_accuracy(m, strings, ck.labels, params), 4))
             for variant, name, size, m in (
                 ("torch fp32", Path(ck.path).name, buf.getbuffer().nbytes, torch_m),
                 ("onnx fp32", fp32.name, fp32.stat().st_size, onnx_m),
                 ("onnx int8", int8.name, int8.stat().st_size, int8_m))]
    ftimes = []
    for s in strings[:50]:
        t0 = time.perf_counter()
        log_mel_features(s.audio.samples[0], params)
        ftimes.append(time.perf_counter() - t0)
    report = ExportReport(str(fp32), str(int8), diff, len(strings),
                          round(1000 * float(np.median(ftimes)), 3), threads, table)
    (out / "export.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report


def _portable_export(export: dict[str, Any]) -> dict[str, Any]:
    """``export.json`` with file names instead of machine paths."""
    out = {**export, "onnx_fp32": Path(export["onnx_fp32"]).name,
           "onnx_int8": Path(export["onnx_int8"]).name}
    out["rows"] = [{**r, "path": Path(r["path"]).name} for r in export.get("rows", [])]
    return out


def _ship_ctc(ck: Any, src: Path, name: str, dest: Path, noise_dir: Any,
              manifest_path: Path) -> list[Path]:
    """Install a CTC export as ``<name>.onnx`` + ``<name>.json`` (fp32 only)."""
    import shutil

    from wavesmith.learn.augment import AugmentConfig, NoiseBank
    from wavesmith.learn.evaluate import OnnxCTC, evaluate_strings
    from wavesmith.learn.strings import StringConfig
    from wavesmith.models.registry import sha256_file

    params = FeatureParams(**ck.feature_params)
    export = json.loads((src / "export.json").read_text())
    manifest = read_manifest(manifest_path, labels=ck.labels, required_splits=("test",))
    bank = (NoiseBank(noise_dir, params.sample_rate,
                      heldout_fraction=AugmentConfig().noise_heldout_fraction)
            if noise_dir else None)
    strings = _test_strings(ck, manifest_path, "test")
    target = dest / f"{name}.onnx"
    shutil.copyfile(src / "model.onnx", target)
    frame_s = params.frame_s * ck.model.config.stride
    snrs = tuple(ck.train_config.get("eval_snr_db") or (10.0,))
    rep = evaluate_strings(OnnxCTC(target), strings, ck.labels, params, frame_s=frame_s,
                           noise=bank, snr_db=snrs if bank else (),
                           beam_size=int(ck.train_config.get("beam_size", 8)))
    scfg = StringConfig(**ck.train_config.get("strings", {}))
    card = {
        "name": name, "file": target.name, "sha256": sha256_file(target),
        "variant": "onnx fp32", "task": "ctc", "model": ck.model_name,
        "model_config": ck.raw["model_config"], "labels": ck.labels, "blank": 0,
        "frame_s": frame_s, "feature_params": ck.feature_params,
        "metrics": {"test_speakers": manifest.speakers("test"), "n_test_strings": rep.n,
                    "n_test_digits": rep.n_digits, "beam_size": rep.beam_size,
                    "string_accuracy": rep.string_accuracy, "digit_error_rate": rep.der,
                    "greedy_string_accuracy": rep.greedy_string_accuracy,
                    "greedy_digit_error_rate": rep.greedy_der,
                    "spike_in_digit": rep.spike_in_digit, "examples_wrong": rep.examples,
                    "training": ck.metrics},
        "data": {"speech": "Free Spoken Digit Dataset (CC-BY-SA 4.0), 8 kHz, "
                           f"{len(manifest.rows)} clips",
                 "splits": {"train": ck.metrics.get("train_speakers", manifest.speakers(
                     "train")), "val": ck.metrics.get("val_speakers", manifest.speakers("val")),
                            "test": manifest.speakers("test")},
                 "val_holdout": ck.train_config.get("val_holdout", 0.0),
                 "strings": (f"{scfg.min_digits}-{scfg.max_digits} digits of one speaker, "
                             f"pauses {scfg.gap_s_min:g}-{scfg.gap_s_max:g} s; test strings "
                             "drawn with seed train_config.seed + 2000"),
                 "snr": "digits-only SNR with held-out noise files",
                 "noise_heldout_files": rep.noise_files},
        "train_config": portable_config(ck.train_config), "export": _portable_export(export),
        "versions": ck.raw.get("versions", {}),
        "reproduce": f"wavesmith train run configs/{name}.yaml --out runs/{name} && "
                     f"wavesmith train export runs/{name}/best.pt -o runs/{name}/onnx "
                     f"--ship {name} --noise ../shared/data/noise",
    }
    card_path = target.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    return [target, card_path]


def ship_model(checkpoint: str | os.PathLike[str], export_dir: str | os.PathLike[str],
               name: str, *, weights_dir: str | os.PathLike[str] | None = None,
               noise_dir: str | os.PathLike[str] | None = None,
               cache_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Copy an export into the package's weights with model cards (JSON) for the registry.

    Writes ``<name>.onnx`` + ``<name>.json`` (fp32) and ``<name>_int8.onnx`` +
    ``<name>_int8.json``. Each card holds the file's SHA-256, labels, feature parameters,
    the training config, the data provenance, the export table and the accuracy of *that
    ONNX file* on the held-out test speakers, clean and at 20/10/5/0 dB SNR of held-out real
    noise (measured here, not copied from training).
    """
    import shutil

    from wavesmith.learn.augment import AugmentConfig, NoiseBank
    from wavesmith.learn.evaluate import evaluate
    from wavesmith.models.checkpoint import load_checkpoint
    from wavesmith.models.registry import WEIGHTS_DIR, sha256_file

    ck = load_checkpoint(checkpoint)
    params = FeatureParams(**ck.feature_params)
    src = Path(export_dir)
    manifest_path = Path(checkpoint).resolve().parent / "manifest.csv"
    if getattr(ck.model, "task", "classify") == "ctc":
        dest = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
        dest.mkdir(parents=True, exist_ok=True)
        return _ship_ctc(ck, src, name, dest, noise_dir, manifest_path)
    export = json.loads((src / "export.json").read_text())
    manifest = read_manifest(manifest_path, labels=ck.labels, required_splits=("test",))
    bank = (NoiseBank(noise_dir, params.sample_rate,
                      heldout_fraction=AugmentConfig().noise_heldout_fraction)
            if noise_dir else None)
    dest = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for variant, file in (("onnx fp32", "model.onnx"), ("onnx int8", "model.int8.onnx")):
        target = dest / (f"{name}.onnx" if variant == "onnx fp32" else f"{name}_int8.onnx")
        shutil.copyfile(src / file, target)
        rep = evaluate(OnnxClassifier(target), manifest.split("test"), ck.labels, params,
                       FeatureCache(params, cache_dir), noise=bank)
        card = {
            "name": target.stem, "file": target.name, "sha256": sha256_file(target),
            "variant": variant, "model": ck.model_name, "model_config": ck.raw["model_config"],
            "labels": ck.labels, "feature_params": ck.feature_params,
            "metrics": {"test_speakers": manifest.speakers("test"), "n_test": rep.n,
                        "accuracy_clean": rep.accuracy, "robustness": rep.robustness,
                        "per_speaker_clean": rep.per_speaker,
                        "per_class": [asdict(c) for c in rep.per_class],
                        "training": ck.metrics},
            "data": {"speech": "Free Spoken Digit Dataset (CC-BY-SA 4.0), 8 kHz, "
                               f"{len(manifest.rows)} clips",
                     "splits": {s: manifest.speakers(s) for s in ("train", "val", "test")},
                     "noise_heldout_files": rep.noise_files},
            "train_config": portable_config(ck.train_config),
            "export": _portable_export(export), "versions": ck.raw.get("versions", {}),
            "reproduce": f"wavesmith train run configs/{name}.yaml --out runs/{name} && "
                         f"wavesmith train export runs/{name}/best.pt -o runs/{name}/onnx "
                         f"--ship {name} --noise ../shared/data/noise",
        }
        card_path = target.with_suffix(".json")
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        written += [target, card_path]
    return written
