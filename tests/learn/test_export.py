"""ONNX export: parity with torch on real clips, int8 variant, metadata, the table."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from wavesmith.errors import ModelError
from wavesmith.learn.data import FeatureCache, FeatureParams, read_manifest
from wavesmith.learn.evaluate import OnnxClassifier
from wavesmith.learn.export import PARITY_ATOL, export_checkpoint, export_onnx
from wavesmith.models.checkpoint import build_model, save_checkpoint
from wavesmith.models.registry import load_recognizer, read_onnx_metadata

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", ["digit_cnn", "digit_crnn", "digit_bilstm", "digit_transformer",
                                  "digit_pool"])
def test_export_parity_and_table(name: str, tiny_manifest: Path, tmp_path: Path) -> None:
    params = FeatureParams(n_mels=32)
    torch.manual_seed(0)
    sizes = {"digit_pool": {"hidden": 16}, "digit_bilstm": {"proj": 16, "hidden": 16},
             "digit_transformer": {"d_model": 16, "heads": 2, "layers": 1}
             }.get(name, {"channels": [8, 16]})
    model = build_model(name, {"n_mels": 32, "n_frames": params.n_frames, "n_classes": 2,
                               **sizes})
    ck = save_checkpoint(tmp_path / "m.pt", model.eval(), labels=["0", "1"],
                         feature_params=asdict(params), train_config={}, metrics={})
    report = export_checkpoint(ck, tmp_path / "onnx", manifest=tiny_manifest,
                               cache_dir=tmp_path / "cache", latency_runs=20)
    assert report.parity_max_abs_diff <= PARITY_ATOL and report.parity_clips == 12
    assert [r.variant for r in report.rows] == ["torch fp32", "onnx fp32", "onnx int8"]
    assert all(r.size_bytes > 0 and r.latency_ms > 0 and 0 <= r.accuracy <= 1
               for r in report.rows)
    assert report.rows[0].accuracy == report.rows[1].accuracy  # same logits within 1e-4
    meta = read_onnx_metadata(tmp_path / "onnx" / "model.int8.onnx")
    assert meta["labels"] == ["0", "1"] and meta["feature_params"]["n_mels"] == 32
    assert json.loads((tmp_path / "onnx" / "export.json").read_text())["rows"][2]["variant"] \
        == "onnx int8"
    # the int8 model stays close to fp32 on the same real features
    rows = read_manifest(tiny_manifest).split("test")
    feats = FeatureCache(params, tmp_path / "cache").many([r.path for r in rows])
    p32 = OnnxClassifier(tmp_path / "onnx" / "model.onnx").predict_proba(feats)
    p8 = OnnxClassifier(tmp_path / "onnx" / "model.int8.onnx").predict_proba(feats)
    assert np.max(np.abs(p32 - p8)) < 0.1
    pred = load_recognizer(tmp_path / "onnx" / "model.onnx").recognize(rows[0].path)
    assert pred.label in ("0", "1") and 0.5 <= pred.confidence <= 1.0


def test_onnx_without_metadata_is_refused(tmp_path: Path) -> None:
    model = build_model("digit_cnn", {"n_mels": 16, "n_frames": 21, "channels": [4]}).eval()
    torch.onnx.export(model, (torch.zeros(1, 16, 21),), str(tmp_path / "bare.onnx"),
                      input_names=["features"], output_names=["logits"], dynamo=False)
    with pytest.raises(ModelError, match="no wavesmith metadata"):
        load_recognizer(tmp_path / "bare.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        load_recognizer(tmp_path / "junk.onnx")


def test_ctc_export_parity_on_real_strings_and_recognizer(tiny_manifest: Path,
                                                          tmp_path: Path) -> None:
    from wavesmith.models.registry import DigitStringRecognizer

    params = FeatureParams(n_mels=24)
    torch.manual_seed(0)
    model = build_model("digit_ctc", {"n_mels": 24, "n_classes": 2, "channels": 16,
                                      "hidden": 16, "layers": 2})
    ck = save_checkpoint(tmp_path / "ctc.pt", model.eval(), labels=["0", "1"],
                         feature_params=asdict(params),
                         train_config={"seed": 0, "strings": {"min_digits": 2, "max_digits": 4}},
                         metrics={})
    report = export_checkpoint(ck, tmp_path / "onnx", manifest=tiny_manifest, latency_runs=10,
                               ctc_strings=12)
    assert report.parity_max_abs_diff <= PARITY_ATOL and report.parity_clips == 12
    assert [r.variant for r in report.rows] == ["torch fp32", "onnx fp32", "onnx int8"]
    assert report.rows[0].accuracy == report.rows[1].accuracy
    meta = read_onnx_metadata(tmp_path / "onnx" / "model.onnx")
    assert (meta["task"], meta["stride"], meta["labels"]) == ("ctc", 2, ["0", "1"])
    rec = DigitStringRecognizer(tmp_path / "onnx" / "model.onnx", beam_size=3)
    row = read_manifest(tiny_manifest).split("test")[0]
    pred = rec.recognize(row.path)
    assert set(pred.text) <= {"0", "1"} and 0.0 < pred.confidence <= 1.0
    assert pred.text == "".join(d.label for d in pred.digits)
    assert all(0.0 <= d.start_s <= d.end_s <= 0.01 + 1.0 for d in pred.digits)   # clipped
    classifier = build_model("digit_cnn", {"n_mels": 16, "n_frames": 21, "channels": [4]})
    cls_onnx = export_onnx(classifier.eval(), FeatureParams(n_mels=16, clip_s=0.2),
                           tmp_path / "cls.onnx", json.dumps({"model": "digit_cnn"}))
    with pytest.raises(ModelError, match="'digit_cnn' model, not a CTC digit-string model"):
        DigitStringRecognizer(cls_onnx)
