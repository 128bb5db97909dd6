"""The HTTP service, as a real uvicorn server on a loopback port."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from tests.conftest import REPO
from wavesmith import __version__

JFK = REPO / "examples" / "jfk.flac"


def test_health(server: str) -> None:
    r = httpx.get(f"{server}/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["version"] == __version__


def test_openapi_schema_lists_endpoints(server: str) -> None:
    schema = httpx.get(f"{server}/openapi.json").json()
    assert {"/health", "/v1/info", "/v1/convert"} <= set(schema["paths"])
    assert httpx.get(f"{server}/docs").status_code == 200


def test_info_upload(server: str) -> None:
    r = httpx.post(f"{server}/v1/info", files={"file": ("jfk.flac", JFK.read_bytes())})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["path"] == "jfk.flac"
    assert (body["format"], body["sample_rate"], body["channels"], body["frames"]) == (
        "FLAC", 44_100, 2, 485_100)


def test_convert_upload(server: str, tmp_path: Path) -> None:
    r = httpx.post(f"{server}/v1/convert", files={"file": ("jfk.flac", JFK.read_bytes())},
                   data={"format": "wav", "sample_rate": "16000", "channels": "1",
                         "subtype": "PCM_16"}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    assert 'filename="jfk.wav"' in r.headers["content-disposition"]
    out = tmp_path / "out.wav"
    out.write_bytes(r.content)
    meta = sf.info(str(out))
    assert (meta.samplerate, meta.channels, meta.subtype) == (16_000, 1, "PCM_16")
    assert meta.duration == pytest.approx(11.0, abs=0.001)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_convert_to_m4a(server: str) -> None:
    r = httpx.post(f"{server}/v1/convert", files={"file": ("jfk.flac", JFK.read_bytes())},
                   data={"format": "m4a"}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/mp4"
    assert r.content[4:8] == b"ftyp"


def test_convert_unknown_format_is_415(server: str) -> None:
    r = httpx.post(f"{server}/v1/convert", files={"file": ("jfk.flac", JFK.read_bytes())},
                   data={"format": "xyz"})
    assert r.status_code == 415
    assert r.json()["error"]["message"].startswith("jfk.out.xyz: cannot write '.xyz'")
