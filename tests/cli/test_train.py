"""`wavesmith train …` as a user runs it: prepare → run → eval → export → predict, and
one-line errors for bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli
from tests.learn.conftest import tiny_rows
from wavesmith.learn.data import Manifest, write_manifest

pytestmark = pytest.mark.integration


@pytest.fixture
def digits(shared_data: Path) -> Path:
    return shared_data / "speech" / "digits"


@pytest.mark.slow
def test_prepare_writes_speaker_independent_manifest_and_folds(digits: Path,
                                                               tmp_path: Path) -> None:
    r = run_cli("train", "prepare", digits, "-o", tmp_path / "m.csv", "--folds",
                tmp_path / "folds", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["clips"] == 2500 and s["test"]["speakers"] == ["yweweler"]
    assert s["val"]["speakers"] == ["theo"] and len(s["folds"]) == 5
    assert (tmp_path / "folds" / "fold4.csv").is_file()


def test_bad_inputs_give_one_line_errors(digits: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(f"path,label,speaker,split\n{digits / '0_theo_0.wav'},0,theo,train\n"
                   f"{tmp_path / 'gone.wav'},1,jackson,val\n")
    corrupt = tmp_path / "best.pt"
    corrupt.write_bytes(b"\x00" * 64)
    r = run_cli("train", "eval", corrupt, bad)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wavesmith: error:")
    assert "not a readable checkpoint" in lines[0] and str(corrupt) in lines[0]


@pytest.mark.slow
def test_more_bad_inputs_give_one_line_errors(digits: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(f"path,label,speaker,split\n{digits / '0_theo_0.wav'},0,theo,train\n"
                   f"{tmp_path / 'gone.wav'},1,jackson,val\n")
    r = run_cli("train", "predict", "no_such_model", digits / "0_theo_0.wav")
    assert r.returncode == 2 and "not a shipped model name" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"data": str(bad), "noise_dir": None, "epochs": 1,
                                   "out_dir": str(tmp_path / "run")}))
    r = run_cli("train", "run", cfg)
    assert r.returncode == 2 and "1 listed file(s) missing" in r.stderr
    assert not (tmp_path / "run" / "best.pt").exists()   # no partial outputs


@pytest.mark.slow
def test_pipeline_end_to_end(digits: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "tiny.csv"
    write_manifest(Manifest(tuple(tiny_rows(digits)), ("0", "1")), manifest)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({
        "data": str(manifest), "noise_dir": None, "epochs": 3, "batch_size": 8, "lr": 0.01,
        "model_config": {"channels": [4, 8], "hidden": 16}, "eval_snr_db": [],
        "cache_dir": str(tmp_path / "cache"), "threads": 1}))
    run = tmp_path / "run"
    r = run_cli("train", "run", cfg, "--out", run, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["checkpoint"] == str(run / "best.pt")
    assert len((run / "log.jsonl").read_text().splitlines()) == 3
    r = run_cli("train", "eval", run / "best.pt", run / "manifest.csv", "--plots",
                tmp_path / "plots", "--cache-dir", tmp_path / "cache", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["n"] == 12 and len(rep["confusion"]) == 2
    assert (tmp_path / "plots" / "confusion.png").is_file()
    r = run_cli("train", "export", run / "best.pt", "-o", tmp_path / "onnx", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["parity_max_abs_diff"] <= 1e-4
    r = run_cli("train", "predict", tmp_path / "onnx" / "model.int8.onnx",
                digits / "1_george_7.wav", "--json")
    assert r.returncode == 0, r.stderr
    (pred,) = json.loads(r.stdout)
    assert pred["label"] in ("0", "1") and pred["path"].endswith("1_george_7.wav")
