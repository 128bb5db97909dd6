"""WebSocket ``/v1/asr/stream`` on a real server: PCM frames in, partial/final JSON out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import websocket  # websocket-client: a plain blocking client, as a user's script would use

from wavesmith import io
from wavesmith.speech import normalize_text

pytestmark = pytest.mark.integration

TIMEOUT_S = 120.0
FRAME_S = 0.25   # seconds of PCM per binary message


def ws_url(server: str, path: str = "/v1/asr/stream", **query: object) -> str:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return server.replace("http://", "ws://") + path + (f"?{q}" if q else "")


def pcm16(path: Path, rate: int) -> bytes:
    x = io.load(path, sample_rate=rate, mono=True).samples[0]
    return (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


def test_stream_final_over_websocket(server: str, shared_data: Path) -> None:
    rate = 8_000  # the server resamples to 16 kHz
    pcm = pcm16(shared_data / "speech/sentences/librispeech_1089-134691-0000.flac", rate)
    ws = websocket.create_connection(ws_url(server, rate=rate), timeout=TIMEOUT_S)
    try:
        ready = json.loads(ws.recv())
        assert ready == {"type": "ready", "sample_rate_hz": rate, "engine": "whisper",
                         "model": "tiny.en"}
        step = round(FRAME_S * rate) * 2 + 1   # odd sizes: samples split across messages
        for i in range(0, len(pcm), step):
            ws.send_binary(pcm[i:i + step])
        ws.send("end")
        messages = []
        while not messages or messages[-1]["type"] != "done":
            messages.append(json.loads(ws.recv()))
    finally:
        ws.close()
    finals = [m for m in messages if m["type"] == "final"]
    assert normalize_text(" ".join(m["text"] for m in finals)) == "he could wait no longer"
    assert messages[-1]["duration_s"] == pytest.approx(len(pcm) / 2 / rate)
    words = [w for m in finals for w in m["words"]]
    assert 0.0 <= words[0]["start_s"] < words[-1]["end_s"] <= len(pcm) / 2 / rate


def test_stream_errors_are_one_json_line(server: str) -> None:
    ws = websocket.create_connection(ws_url(server, "/v1/transcribe/stream", engine="kaldi"),
                                     timeout=TIMEOUT_S)
    try:
        msg = json.loads(ws.recv())
        assert msg == {"type": "error", "error": {"type": "AudioValueError", "message":
                       "unknown engine 'kaldi'; choose one of whisper, sphinx, digits"}}
    finally:
        ws.close()
    ws = websocket.create_connection(ws_url(server), timeout=TIMEOUT_S)
    try:
        assert json.loads(ws.recv())["type"] == "ready"
        ws.send("hello")
        msg = json.loads(ws.recv())
        assert msg["type"] == "error" and "unexpected text message 'hello'" in \
            msg["error"]["message"]
    finally:
        ws.close()
