"""``/v1/music`` on a real server."""

from __future__ import annotations

import io as stdio
from pathlib import Path

import httpx
import pytest
import soundfile as sf


def test_generate_midi_and_wav(server: str) -> None:
    r = httpx.post(f"{server}/v1/music/generate",
                   data={"model": "markov", "bars": "4", "seed": "3"}, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"] == "audio/midi"
    assert r.content[:4] == b"MThd"
    w = httpx.post(f"{server}/v1/music/generate",
                   data={"bars": "4", "seed": "3", "audio": "true"}, timeout=60)
    assert w.status_code == 200 and w.headers["content-type"] == "audio/wav"
    audio, rate = sf.read(stdio.BytesIO(w.content))
    assert rate == 44_100 and len(audio) / rate > 7.5          # 4 bars at 120 bpm = 8 s


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"model": "gan"}, 503, "not trained yet"),
    ({"model": "nope"}, 422, "unknown model"),
    ({"bars": "0"}, 422, "bars=0"),
    ({"temperature": "-1"}, 422, "temperature="),
])
def test_generate_bad_input(server: str, data: dict, status: int, message: str) -> None:
    r = httpx.post(f"{server}/v1/music/generate", data=data, timeout=60)
    assert r.status_code == status and message in r.json()["error"]["message"]


@pytest.mark.integration
def test_transcribe_upload(server: str, shared_data: Path) -> None:
    path = shared_data / "music" / "audio" / "sorohanro_-_solo-trumpet-06.hq.ogg"
    with open(path, "rb") as fh:
        r = httpx.post(f"{server}/v1/music/transcribe",
                       files={"file": (path.name, fh, "audio/ogg")}, timeout=120)
    assert r.status_code == 200 and r.content[:4] == b"MThd"
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(stdio.BytesIO(r.content))
    assert sum(len(i.notes) for i in pm.instruments) >= 8


def test_transcribe_bad_upload(server: str) -> None:
    r = httpx.post(f"{server}/v1/music/transcribe",
                   files={"file": ("x.wav", b"garbage" * 10, "audio/wav")}, timeout=60)
    assert r.status_code in (415, 422) and "x.wav" in r.json()["error"]["message"]
