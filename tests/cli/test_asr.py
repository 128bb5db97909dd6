"""``wavesmith asr``: transcribe and eval, run as a user runs them (subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from wavesmith.speech import normalize_text, parse_srt

pytestmark = pytest.mark.integration

JFK_TEXT = ("and so my fellow americans ask not what your country can do for you "
            "ask what you can do for your country")


def test_transcribe_to_stdout(shared_data: Path) -> None:
    r = run_cli("asr", "transcribe", shared_data / "speech/sentences/jfk.flac")
    assert r.returncode == 0, r.stderr
    assert normalize_text(r.stdout) == JFK_TEXT


@pytest.mark.slow
def test_transcribe_srt_to_folder_and_json(shared_data: Path, tmp_path: Path) -> None:
    r = run_cli("asr", "transcribe", shared_data / "speech/sentences/jfk.flac",
                shared_data / "speech/digits/4_theo_0.wav", "-f", "srt", "-o", tmp_path,
                "--json")
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert [Path(d["output"]).name for d in docs] == ["jfk.srt", "4_theo_0.srt"]
    cues = parse_srt((tmp_path / "jfk.srt").read_text(encoding="utf-8"))
    assert normalize_text(" ".join(c.text for c in cues)) == JFK_TEXT
    assert [c.start_s for c in cues] == [s["start_s"] for s in docs[0]["segments"]]
    assert docs[0]["segments"][0]["words"][0]["text"] == "And"


def test_sphinx_digits_grammar(shared_data: Path) -> None:
    r = run_cli("asr", "transcribe", "--engine", "sphinx", "--grammar", "digits",
                shared_data / "speech/digits/1_theo_3.wav")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "one\n"


def test_unknown_engine_and_format(shared_data: Path) -> None:
    jfk = shared_data / "speech/sentences/jfk.flac"
    r = run_cli("asr", "transcribe", jfk, "--engine", "kaldi")
    assert r.returncode == 2
    assert r.stderr.strip() == ("wavesmith: error: unknown engine 'kaldi'; "
                                "choose one of whisper, sphinx, digits")
    r = run_cli("asr", "transcribe", jfk, "-f", "docx")
    assert r.returncode == 2 and "unknown transcript format 'docx'" in r.stderr


def test_missing_model(shared_data: Path, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache, whatever this host has
    r = run_cli("asr", "transcribe", shared_data / "speech/sentences/jfk.flac", "--model",
                "small")
    assert r.returncode == 2
    assert r.stderr.startswith("wavesmith: error: model 'small' not found locally;")
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_bad_file_in_a_batch(shared_data: Path, tmp_path: Path) -> None:
    r = run_cli("asr", "transcribe", tmp_path / "missing.wav",
                shared_data / "speech/sentences/librispeech_1089-134691-0000.flac")
    assert r.returncode == 2
    assert "missing.wav" in r.stderr
    assert normalize_text(r.stdout) == "he could wait no longer"


@pytest.mark.slow
def test_eval_manifest(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "speech/sentences"
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,text\n{folder / 'jfk.flac'},\"And so, my fellow Americans, ask "
                        "not what your country can do for you, ask what you can do for your "
                        f"country.\"\n{folder / 'librispeech_1089-134691-0000.flac'},HE COULD "
                        "WAIT NO LONGER\n", encoding="utf-8")
    r = run_cli("asr", "eval", manifest, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["utterances"] == 2 and report["ref_words"] == 27
    assert report["wer"] <= 0.1 and report["cer"] <= 0.05
    assert 0 < report["rtf"] < 2.0
    assert [u["reference"] for u in report["results"]][1] == "he could wait no longer"
    r = run_cli("asr", "eval", manifest, "--limit", "1")
    assert r.returncode == 0, r.stderr
    assert "WER 0.0000" in r.stdout and "on 1 utterances" in r.stdout


def test_eval_manifest_errors(shared_data: Path, tmp_path: Path) -> None:
    r = run_cli("asr", "eval", shared_data / "speech/digits/manifest.csv")
    assert r.returncode == 2
    assert "no 'text' column (columns: path, digit, speaker, index, split)" in r.stderr
    bad = tmp_path / "m.csv"
    bad.write_text("path,text\nnope.wav,hello\n", encoding="utf-8")
    r = run_cli("asr", "eval", bad)
    assert r.returncode == 2 and "nope.wav not found" in r.stderr


def test_asr_recognize_digits_with_shipped_model(tmp_path: Path) -> None:
    import json as _json

    from tests.conftest import REPO

    examples = REPO / "examples"
    files = [examples / n for n in ("7_theo_3.wav", "3_george_10.wav", "0_jackson_5.wav")]
    r = run_cli("asr", "recognize", *files, "--json")
    assert r.returncode == 0, r.stderr
    got = {Path(d["path"]).name: (d["label"], d["confidence"]) for d in _json.loads(r.stdout)}
    assert {k: v[0] for k, v in got.items()} == {"7_theo_3.wav": "7", "3_george_10.wav": "3",
                                                 "0_jackson_5.wav": "0"}
    # softmax of the shipped head; it is under-confident (label smoothing, 6 epochs) but
    # always far above chance (0.1)
    assert all(0.3 < c <= 1.0 for _, c in got.values())
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    r = run_cli("asr", "recognize", bad, files[0])
    assert r.returncode == 2
    assert r.stderr.strip().startswith(f"wavesmith: error: {bad}: ")
    assert r.stdout.split()[1] == "7"  # the good file is still recognised


def test_stream_raw_pcm_from_stdin(shared_data: Path) -> None:
    import os
    import subprocess
    import sys

    import numpy as np

    from tests.conftest import REPO
    from wavesmith import io

    clip = io.load(shared_data / "speech/sentences/librispeech_1089-134691-0000.flac",
                   sample_rate=16_000, mono=True).samples[0]
    pcm = (np.clip(clip, -1, 1) * 32767).astype("<i2").tobytes()
    r = subprocess.run([sys.executable, "-m", "wavesmith", "asr", "stream", "-", "--rate",
                        "16000", "--json"], input=pcm, capture_output=True, cwd=REPO,
                       env={**os.environ, "CI": "1"}, timeout=120, check=False)
    assert r.returncode == 0, r.stderr.decode()
    lines = [json.loads(line) for line in r.stdout.decode().splitlines()]
    finals = [m for m in lines if m["type"] == "final"]
    assert normalize_text(" ".join(m["text"] for m in finals)) == "he could wait no longer"
    assert all(m["type"] in ("partial", "final") for m in lines)


def test_stream_bad_input(shared_data: Path, tmp_path: Path) -> None:
    flac = shared_data / "speech/sentences/librispeech_1089-134691-0000.flac"
    r = run_cli("asr", "stream", flac, "--rate", "8000")
    assert r.returncode == 2
    assert r.stderr.strip() == (f"wavesmith: error: {flac}: the file is 16000 Hz but --rate is "
                                "8000; --rate is for raw PCM input only")
    odd = tmp_path / "odd.pcm"
    odd.write_bytes(b"\x00\x01\x02")
    r = run_cli("asr", "stream", odd)
    assert r.returncode == 2
    assert r.stderr.strip().endswith("odd.pcm: 3 bytes is not a whole number of 16-bit "
                                     "samples; expected raw s16le mono PCM")
    r = run_cli("asr", "stream", tmp_path / "missing.raw")
    assert r.returncode == 2 and "missing.raw: cannot open" in r.stderr


def test_stream_printer_overwrites_partials_on_a_tty(capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    from wavesmith.cli.asr import _StreamPrinter
    from wavesmith.speech import StreamResult, Word

    show = _StreamPrinter(json_out=False)
    show.tty = True  # what isatty() says on a terminal
    show(StreamResult(False, 0, 1.2, 2.0, "he could", 2.1))
    show(StreamResult(False, 0, 1.2, 3.0, "he could wait", 3.1))
    show(StreamResult(True, 0, 1.25, 3.2, "He could wait no longer.", 3.9,
                      [Word(1.25, 1.5, "He", 0.9)]))
    out = capsys.readouterr().out
    assert out.count("\r\x1b[K") == 3  # two partials drawn over each other, then erased
    assert out.endswith("\r\x1b[K[00:00:01.250 --> 00:00:03.200] He could wait no longer.\n")
    show = _StreamPrinter(json_out=True)
    show(StreamResult(True, 0, 1.25, 3.2, "He could wait no longer.", 3.9))
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"type": "final", "utterance": 0, "start_s": 1.25, "end_s": 3.2,
                   "text": "He could wait no longer.", "emitted_s": 3.9, "words": []}
