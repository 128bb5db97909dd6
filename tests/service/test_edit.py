"""``POST /v1/edit`` (upload + chain JSON → edited audio) and ``POST /v1/edit/vad`` on a real
server."""

from __future__ import annotations

import io as stdio
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from wavesmith import Audio
from wavesmith.analysis import integrated_loudness

RATE = 16_000  # Hz


def _wav(rng: np.random.Generator, seconds: float = 2.0, channels: int = 1) -> bytes:
    buf = stdio.BytesIO()
    x = 0.05 * rng.standard_normal((round(seconds * RATE), channels))
    sf.write(buf, x, RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def test_edit_chain(server: str, rng: np.random.Generator) -> None:
    chain = {"effects": [{"effect": "highpass", "cutoff_hz": 100},
                         {"effect": "time_stretch", "rate": 2.0},
                         {"effect": "loudness_normalize", "target_lufs": -20}]}
    r = httpx.post(f"{server}/v1/edit", files={"file": ("take.wav", _wav(rng))},
                   data={"chain": json.dumps(chain), "format": "flac"}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/flac"
    assert 'filename="take.flac"' in r.headers["content-disposition"]
    y, rate = sf.read(stdio.BytesIO(r.content), dtype="float32", always_2d=True)
    assert rate == RATE and y.shape[0] == pytest.approx(RATE, rel=0.01)  # 2 s at 2x speed
    assert integrated_loudness(Audio(y.T.copy(), rate)) == pytest.approx(-20.0, abs=0.2)


def test_edit_keeps_upload_format_by_default(server: str, rng: np.random.Generator) -> None:
    r = httpx.post(f"{server}/v1/edit", files={"file": ("take.wav", _wav(rng))},
                   data={"chain": '[{"effect": "gain", "gain_db": -6}]'}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"


@pytest.mark.parametrize(("chain", "message"), [
    ('{"effects": [', "chain: not valid JSON (line 1, column 14"),
    ('[{"effect": "flanger"}]', "chain: unknown effect 'flanger'; known: chain, chorus"),
    ('[{"effect": "highpass", "cutoff_hz": 0}]', "highpass: cutoff_hz=0 must be > 0 Hz"),
    ('[{"effect": "highpass", "cutoff_hz": 9000}]', "highpass: cutoff_hz=9000 Hz must be "
     "below Nyquist (8000 Hz at 16000 Hz)"),
    ('[{"effect": "time_stretch", "rate": -1}]', "time_stretch: rate=-1 must be >= 0.05"),
    ('[{"effect": "trim", "start_s": 0, "end_s": 5}]', "trim: end_s=5 s is past the end"),
])
def test_bad_chain_is_422_one_line(server: str, rng: np.random.Generator, chain: str,
                                   message: str) -> None:
    r = httpx.post(f"{server}/v1/edit", files={"file": ("take.wav", _wav(rng))},
                   data={"chain": chain}, timeout=60)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["type"] == "AudioValueError"
    assert message in error["message"] and "\n" not in error["message"]
    assert "wavesmith-req-" not in error["message"]  # no server paths leak


def test_missing_chain_is_422(server: str, rng: np.random.Generator) -> None:
    r = httpx.post(f"{server}/v1/edit", files={"file": ("take.wav", _wav(rng))}, timeout=60)
    assert r.status_code == 422


def test_openapi_lists_edit(server: str) -> None:
    paths = httpx.get(f"{server}/openapi.json").json()["paths"]
    assert "/v1/edit" in paths and "/v1/edit/vad" in paths


@pytest.mark.integration
def test_vad_endpoint_on_real_speech(server: str, shared_data: Path) -> None:
    jfk = (shared_data / "speech" / "sentences" / "jfk.flac").read_bytes()
    r = httpx.post(f"{server}/v1/edit/vad", files={"file": ("jfk.flac", jfk)},
                   data={"method": "silero", "pad_s": "0.05"}, timeout=60)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["path"] == "jfk.flac" and report["method"] == "silero"
    assert report["duration_s"] == pytest.approx(11.0)
    starts = [s["start"] for s in report["segments"]]
    assert len(starts) >= 3 and starts == sorted(starts)
    assert 5.0 < report["speech_s"] < 10.0
    r = httpx.post(f"{server}/v1/edit/vad", files={"file": ("jfk.flac", jfk)},
                   data={"method": "silero", "pad_s": "0.05", "max_speech_s": "1.5"},
                   timeout=60)
    split = r.json()["segments"]
    assert r.status_code == 200 and len(split) > len(starts)
    assert max(s["end"] - s["start"] for s in split) <= 1.5 + 1e-6


def test_vad_endpoint_bad_parameter_is_422(server: str, rng: np.random.Generator) -> None:
    r = httpx.post(f"{server}/v1/edit/vad", files={"file": ("take.wav", _wav(rng))},
                   data={"method": "vosk"}, timeout=60)
    assert r.status_code == 422, r.text
    assert "vad: method='vosk' must be one of" in r.json()["error"]["message"]


def test_mix_and_concat_endpoints(server: str, rng: np.random.Generator) -> None:
    a, b = _wav(rng, 1.0), _wav(rng, 0.5)
    files = [("files", ("take.wav", a)), ("files", ("take.wav", b))]   # same name twice
    r = httpx.post(f"{server}/v1/edit/concat", files=files,
                   data={"crossfade_s": "0.25", "format": "flac"}, timeout=60)
    assert r.status_code == 200, r.text
    y, rate = sf.read(stdio.BytesIO(r.content), dtype="float32", always_2d=True)
    assert rate == RATE and y.shape[0] == round(1.25 * RATE)
    r = httpx.post(f"{server}/v1/edit/mix", files=files,
                   data={"gains_db": "0,-6", "offsets_s": "0,0.75"}, timeout=60)
    assert r.status_code == 200, r.text
    y, _ = sf.read(stdio.BytesIO(r.content), dtype="float32", always_2d=True)
    assert y.shape[0] == round(1.25 * RATE)
    r = httpx.post(f"{server}/v1/edit/mix", files=files, data={"gains_db": "0,loud"},
                   timeout=60)
    assert r.status_code == 422 and "gains_db='0,loud'" in r.json()["error"]["message"]
    stereo = [("files", ("a.wav", a)), ("files", ("b.wav", _wav(rng, 0.5, channels=2)))]
    r = httpx.post(f"{server}/v1/edit/concat", files=stereo, timeout=60)
    assert r.status_code == 422 and "input 1 has 2 channel(s)" in r.json()["error"]["message"]
