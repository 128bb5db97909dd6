"""``wavesmith edit ...`` as a user runs it: subprocess, real files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import run_cli
from wavesmith import Audio, io

RATE = 16_000  # Hz


@pytest.fixture
def speech(shared_data: Path) -> Path:
    return shared_data / "speech" / "sentences" / "cmu_arctic_us_aew_a0001.wav"


def test_help_teaches() -> None:
    r = run_cli("edit", "--help")
    assert r.returncode == 0
    for cmd in ("apply", "normalize", "stretch", "pitch", "trim", "fade", "denoise", "mix",
                "concat", "cut", "vad", "strip-silence"):
        assert cmd in r.stdout
        sub = run_cli("edit", cmd, "--help")
        assert sub.returncode == 0 and "Example: wavesmith edit " + cmd in sub.stdout


@pytest.mark.integration
def test_apply_chain_file_json_report(speech: Path, tmp_path: Path) -> None:
    chain = tmp_path / "voice.yaml"
    chain.write_text("effects:\n  - {effect: highpass, cutoff_hz: 80}\n"
                     "  - {effect: gain, gain_db: -3}\n")
    r = run_cli("edit", "apply", speech, tmp_path / "out.flac", "--chain", chain, "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["streamed"] is True and report["sample_rate"] == RATE
    assert report["chain"]["effects"][0] == {"effect": "highpass", "cutoff_hz": 80.0}
    assert sf.info(str(tmp_path / "out.flac")).frames == sf.info(str(speech)).frames


@pytest.mark.integration
@pytest.mark.parametrize(("args", "frames_ratio"), [
    (("stretch", "--rate", "1.25"), 0.8),
    (("pitch", "--semitones", "-3"), 1.0),
    (("normalize", "--lufs", "-16"), 1.0),
    (("normalize", "--peak", "-1"), 1.0),
    (("fade", "--in", "0.5", "--out", "1.0", "--shape", "equal-power"), 1.0),
    (("denoise", "--stationary"), 1.0),
])
def test_shortcuts(speech: Path, tmp_path: Path, args: tuple[str, ...],
                   frames_ratio: float) -> None:
    out = tmp_path / "out.wav"
    r = run_cli("edit", args[0], speech, out, *args[1:])
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and "whole file" in r.stdout
    assert sf.info(str(out)).frames / sf.info(str(speech)).frames == pytest.approx(
        frames_ratio, rel=0.01)


@pytest.mark.integration
def test_trim_streams(speech: Path, tmp_path: Path) -> None:
    r = run_cli("edit", "trim", speech, tmp_path / "t.wav", "--start", "1.0", "--end", "2.5",
                "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["frames"] == round(1.5 * RATE)


@pytest.mark.integration
def test_vad_table_and_json(shared_data: Path) -> None:
    jfk = shared_data / "speech" / "sentences" / "jfk.flac"
    r = run_cli("edit", "vad", jfk)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].split() == ["start_s", "end_s", "duration_s"]
    assert "segment(s)" in lines[-1] and "s of speech in 11.00 s (silero)" in lines[-1]
    rows = [[float(v) for v in line.split()] for line in lines[1:-1]]
    assert len(rows) >= 3 and all(a < b for a, b, _ in rows)
    r = run_cli("edit", "vad", jfk, "--method", "energy", "--pad", "0", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["method"] == "energy" and report["duration_s"] == pytest.approx(11.0)
    assert report["speech_s"] == pytest.approx(
        sum(s["end"] - s["start"] for s in report["segments"]), abs=1e-3)
    assert 5.0 < report["speech_s"] < 10.0


@pytest.mark.integration
def test_strip_silence_cut_and_dfn_denoise(speech: Path, tmp_path: Path) -> None:
    r = run_cli("edit", "strip-silence", speech, tmp_path / "s.wav", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["streamed"] is True and report["chain"]["effect"] == "strip_silence"
    assert 0.5 < report["duration_s"] / report["input_duration_s"] < 0.99  # edges removed
    r = run_cli("edit", "cut", speech, tmp_path / "c.wav", "--start", "1", "--end", "2.5",
                "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["frames"] == sf.info(str(speech)).frames - round(1.5 * RATE)
    r = run_cli("edit", "denoise", speech, tmp_path / "d.flac", "--method", "dfn")
    assert r.returncode == 0, r.stderr
    assert "streamed" in r.stdout and sf.info(str(tmp_path / "d.flac")).frames == \
        sf.info(str(speech)).frames


def test_mix(tmp_path: Path, rng: np.random.Generator) -> None:
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    io.save(Audio((0.1 * rng.standard_normal((1, RATE))).astype(np.float32), RATE), a)
    io.save(Audio((0.1 * rng.standard_normal((1, RATE))).astype(np.float32), RATE), b)
    r = run_cli("edit", "mix", tmp_path / "m.wav", a, b, "--gains-db", "0,-6",
                "--offsets-s", "0,0.5", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["duration_s"] == pytest.approx(1.5)
    r = run_cli("edit", "concat", tmp_path / "c.wav", a, b, "--crossfade", "0.25", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["duration_s"] == pytest.approx(1.75)
    r = run_cli("edit", "concat", tmp_path / "x.wav", a, b, "--crossfade", "-1")
    assert r.returncode == 2 and "concat: crossfade_s=-1" in r.stderr
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize(("args", "message"), [
    (("stretch", "{src}", "{out}", "--rate", "0"), "time_stretch: rate=0 must be >= 0.05"),
    (("stretch", "{src}", "{out}", "--rate", "-1.25"), "time_stretch: rate=-1.25 must be"),
    (("pitch", "{src}", "{out}", "--semitones", "99"), "pitch_shift: semitones=99 must be"),
    (("trim", "{src}", "{out}", "--start", "0.5", "--end", "30"), "trim: end_s=30 s is past"),
    (("apply", "{src}", "{out}", "--chain", "{bad_yaml}"),
     "chain: not valid YAML (line 3, column 1"),
    (("apply", "{src}", "{out}", "--chain", "{unknown}"), "chain: unknown effect 'flanger'; "
     "known: chain, chorus"),
    (("apply", "{src}", "{out}", "--chain", "{zero_hz}"), "highpass: cutoff_hz=0 must be > 0 Hz"),
    (("mix", "{out}", "{src}", "{mono}"), "mix: input 1 has 1 channel(s) but input 0 has 2"),
    (("normalize", "{src}", "{src}", "--peak", "-1"), "output is the input file; pass "
     "overwrite=True (--overwrite)"),
    (("cut", "{src}", "{out}", "--start", "2", "--end", "3"), "cut: start_s=2 s is at or past"),
    (("vad", "{src}", "--method", "vosk"), "vad: method='vosk' must be one of 'silero'"),
    (("strip-silence", "{src}", "{out}", "--threshold", "2"),
     "strip_silence: threshold=2 must be < 1"),
    (("denoise", "{src}", "{out}", "--method", "rnnoise"),
     "denoise: --method 'rnnoise' must be 'gate' or 'dfn'"),
])
def test_bad_input_one_line_nothing_written(tmp_path: Path, rng: np.random.Generator,
                                            args: tuple[str, ...], message: str) -> None:
    paths = {"src": tmp_path / "src.wav", "mono": tmp_path / "mono.wav",
             "out": tmp_path / "out.wav", "bad_yaml": tmp_path / "bad.yaml",
             "unknown": tmp_path / "unknown.yaml", "zero_hz": tmp_path / "zero.json"}
    io.save(Audio((0.1 * rng.standard_normal((2, RATE))).astype(np.float32), RATE),
            paths["src"])
    io.save(Audio((0.1 * rng.standard_normal((1, RATE))).astype(np.float32), RATE),
            paths["mono"])
    paths["bad_yaml"].write_text("effects: [\n  {effect: gain\n")
    paths["unknown"].write_text("effects:\n  - effect: flanger\n")
    paths["zero_hz"].write_text('{"effects": [{"effect": "highpass", "cutoff_hz": 0}]}')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    r = run_cli("edit", *(a.format(**paths) for a in args))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wavesmith: error: "), r.stderr
    assert message in lines[0]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written


def test_normalize_needs_exactly_one_target(tmp_path: Path) -> None:
    r = run_cli("edit", "normalize", tmp_path / "a.wav", tmp_path / "b.wav")
    assert r.returncode == 2 and "exactly one of --lufs or --peak" in r.stderr
