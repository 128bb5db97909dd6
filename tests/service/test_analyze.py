"""POST /v1/analyze on a real server."""

from __future__ import annotations

import io as stdio

import httpx
import numpy as np
import soundfile as sf

from tests.conftest import REPO

TRUMPET = REPO / "examples" / "trumpet.ogg"


def _wav(x: np.ndarray, sr: int) -> bytes:
    buf = stdio.BytesIO()
    sf.write(buf, x.T, sr, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def test_analyze_json(server: str) -> None:
    r = httpx.post(f"{server}/v1/analyze", files={"file": ("trumpet.ogg", TRUMPET.read_bytes())},
                   data={"features": "loudness,key"}, timeout=120)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["features"] == ["loudness", "key"]
    # the service answers what the library computes on the same file (mean of the channels)
    from wavesmith import io
    from wavesmith.analysis import estimate_key
    k = estimate_key(io.load(TRUMPET).to_mono())
    assert (body["key"]["key"], body["key"]["mode"]) == (k.key, k.mode) and k.key
    assert -30.0 < body["loudness"]["integrated_lufs"] < -5.0


def test_analyze_plot_png(server: str) -> None:
    r = httpx.post(f"{server}/v1/analyze", files={"file": ("trumpet.ogg", TRUMPET.read_bytes())},
                   data={"features": "loudness", "plot": "true"}, timeout=120)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.content[:4] == b"\x89PNG"


def test_analyze_bad_inputs(server: str) -> None:
    silent = _wav(np.zeros((6, 48_000), np.float32), 48_000)   # 6-channel silence
    r = httpx.post(f"{server}/v1/analyze", files={"file": ("six.wav", silent)},
                   data={"features": "loudness"}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["channels"] == 6 and r.json()["loudness"]["integrated_lufs"] is None
    bad = httpx.post(f"{server}/v1/analyze", files={"file": ("x.wav", silent)},
                     data={"features": "nope"}, timeout=60)
    assert bad.status_code == 422 and "unknown 'nope'" in bad.json()["error"]["message"]
    nan = np.zeros((1, 16_000), np.float32)
    nan[0, 100] = np.nan
    r = httpx.post(f"{server}/v1/analyze", files={"file": ("nan.wav", _wav(nan, 16_000))},
                   timeout=60)
    assert r.status_code == 422 and "nan.wav" in r.json()["error"]["message"]
