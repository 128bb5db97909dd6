"""The CLI as a user runs it: a subprocess, real files, stdout/stderr/exit code."""

from __future__ import annotations

import io as stdio
import json
from pathlib import Path

import pytest
from rich.console import Console

from tests.conftest import REPO, run_cli
from wavesmith import __version__, io
from wavesmith.cli import _output

JFK = REPO / "examples" / "jfk.flac"


def test_version() -> None:
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"wavesmith {__version__}"


def test_help_teaches_and_lists_groups() -> None:
    r = run_cli("--help")
    assert r.returncode == 0
    for word in ("info", "convert", "serve", "analyze", "edit", "asr", "speak", "emotion",
                 "music", "train", "batch", "Examples"):
        assert word in r.stdout
    sub = run_cli("convert", "--help")
    assert "--rate" in sub.stdout and "Example" in sub.stdout


def test_reserved_group_shows_help_and_exits_2() -> None:
    r = run_cli("music")
    assert r.returncode == 2 and "Usage: wavesmith music" in r.stdout + r.stderr


def test_info_table_and_json() -> None:
    table = run_cli("info", JFK)
    assert table.returncode == 0
    assert "FLAC" in table.stdout and "44100" in table.stdout and "11.000" in table.stdout
    for args in (("info", JFK, "--json"), ("--json", "info", JFK)):
        r = run_cli(*args)
        data = json.loads(r.stdout)
        assert data[0]["sample_rate"] == 44_100 and data[0]["channels"] == 2
        assert data[0]["duration_s"] == pytest.approx(11.0)


def test_verbose_adds_detail(tmp_path: Path) -> None:
    r = run_cli("--verbose", "info", JFK)
    assert "libsndfile" in r.stdout and "FLAC (Free Lossless Audio Codec)" in r.stdout
    r = run_cli("-v", "convert", JFK, tmp_path / "v.wav")
    assert r.returncode == 0 and "reading" in r.stderr and "PCM_24" in r.stderr


def test_convert_and_report(tmp_path: Path) -> None:
    out = tmp_path / "jfk16k.wav"
    r = run_cli("convert", JFK, out, "--rate", "16000", "--channels", "1", "--subtype", "PCM_16")
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stdout
    meta = io.info(out)
    assert (meta.sample_rate, meta.channels, meta.codec) == (16_000, 1, "PCM_16")
    r = run_cli("--json", "convert", JFK, tmp_path / "jfk.mp3")
    report = json.loads(r.stdout)
    assert report["sample_rate"] == 44_100 and report["subtype"] == "MPEG_LAYER_III"


def test_convert_refuses_input_as_output_unless_overwrite(tmp_path: Path) -> None:
    src = tmp_path / "in.wav"
    io.convert(JFK, src)
    before = src.read_bytes()
    r = run_cli("convert", src, src)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"wavesmith: error: {src}: output is the input file; "
                                "pass overwrite=True (--overwrite) to replace it")
    assert src.read_bytes() == before
    r = run_cli("convert", src, src, "--rate", "8000", "--overwrite")
    assert r.returncode == 0 and io.info(src).sample_rate == 8_000


def test_bad_option_value_is_usage_error(tmp_path: Path) -> None:
    r = run_cli("convert", JFK, tmp_path / "x.wav", "--rate", "5")
    assert r.returncode == 2
    assert "5 Hz is outside the supported range" in r.stderr
    assert "Traceback" not in r.stderr


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    r = run_cli("--quiet", "convert", JFK, tmp_path / "q.flac")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""


def test_progress_bar_appears_only_after_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = stdio.StringIO()
    monkeypatch.setattr(_output, "err", Console(file=buf, force_terminal=True, width=100))
    monkeypatch.setattr(_output, "PROGRESS_DELAY_S", 60.0)
    with _output.progress_bar("quick", enabled=True) as update:
        update(1.0, 10.0)
    assert buf.getvalue() == ""  # quick work: no bar
    monkeypatch.setattr(_output, "PROGRESS_DELAY_S", 0.0)
    with _output.progress_bar("converting", enabled=True) as update:
        update(5.0, 10.0)
    assert "converting" in buf.getvalue()
    buf.truncate(0)
    with _output.progress_bar("off", enabled=False) as update:
        update(5.0, 10.0)
    assert buf.getvalue() == ""


def test_cli_start_up_imports_no_heavy_library() -> None:
    # `wavesmith --help` must stay quick: capability modules import their engines lazily.
    import subprocess
    import sys

    heavy = ("torch", "librosa", "scipy", "pedalboard", "matplotlib", "faster_whisper",
             "ctranslate2", "onnxruntime", "fastapi")
    code = ("import sys, wavesmith.cli; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "", f"importing wavesmith.cli loaded: {loaded}"
