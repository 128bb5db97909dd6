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
    ({"model": "gan", "top_k": "5"}, 422, "top_k is not supported by the GAN"),
    ({"model": "markov", "top_p": "0.9"}, 422, "top_p is supported by the transformer only"),
    ({"model": "vae", "tokens": "remi"}, 422, "tokens is supported by the transformer only"),
    ({"model": "transformer", "tokens": "abc"}, 422, "tokens='abc' must be one of"),
    ({"model": "nope"}, 422, "unknown model"),
    ({"bars": "0"}, 422, "bars=0"),
    ({"meter": "six-eight"}, 422, "meter 'six-eight' must look like 4/4 or 6/8"),
    ({"meter": "5/7"}, 422, "time signature 5/7 is not supported"),
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


def _midi_notes(content: bytes) -> list:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(stdio.BytesIO(content))
    return [i.notes for i in pm.instruments]


def test_generate_transformer_seeded(server: str) -> None:
    form = {"model": "transformer", "bars": "2", "seed": "9", "top_k": "10"}
    a = httpx.post(f"{server}/v1/music/generate", data=form, timeout=60)
    b = httpx.post(f"{server}/v1/music/generate", data=form, timeout=60)
    assert a.status_code == 200 and a.content[:4] == b"MThd" and a.content == b.content
    bad = httpx.post(f"{server}/v1/music/generate", data={**form, "model": "markov"},
                     timeout=60)
    assert bad.status_code == 422 and "top_k" in bad.json()["error"]["message"]
    nucleus = httpx.post(f"{server}/v1/music/generate",
                         data={"model": "transformer", "bars": "2", "top_p": "0.9"}, timeout=60)
    assert nucleus.status_code == 200 and nucleus.content[:4] == b"MThd"
    remi = httpx.post(f"{server}/v1/music/generate",
                      data={**form, "tokens": "remi", "meter": "6/8"}, timeout=60)
    assert remi.status_code == 200 and remi.content[:4] == b"MThd"
    assert remi.content != a.content and len(_midi_notes(remi.content)[0]) >= 2
    import pretty_midi

    ts = pretty_midi.PrettyMIDI(stdio.BytesIO(remi.content)).time_signature_changes[0]
    assert (ts.numerator, ts.denominator) == (6, 8)


@pytest.mark.integration
def test_continue_interpolate_harmonize(server: str, shared_data: Path) -> None:
    d = shared_data / "music" / "midi" / "nottingham"
    reel, hornpipe = (d / "reelsa-c10.mid").read_bytes(), (d / "hpps10.mid").read_bytes()
    r = httpx.post(f"{server}/v1/music/continue", files={"file": ("reel.mid", reel)},
                   data={"model": "transformer", "bars": "2"}, timeout=60)
    assert r.status_code == 200 and len(_midi_notes(r.content)[0]) > 10
    # the same file name twice must not clash
    r = httpx.post(f"{server}/v1/music/interpolate", data={"steps": "3"},
                   files={"a": ("x.mid", reel), "b": ("x.mid", hornpipe)}, timeout=60)
    assert r.status_code == 200 and len(_midi_notes(r.content)) == 1
    r = httpx.post(f"{server}/v1/music/harmonize", files={"file": ("reel.mid", reel)},
                   timeout=60)
    tracks = _midi_notes(r.content)
    assert r.status_code == 200 and len(tracks) == 2 and len(tracks[1]) >= 3
    r = httpx.post(f"{server}/v1/music/transfer", files={"file": ("reel.mid", reel)},
                   data={"attribute": "minor", "amount": "1.5"}, timeout=60)
    assert r.status_code == 200 and len(_midi_notes(r.content)[0]) > 10
    r = httpx.post(f"{server}/v1/music/transfer", files={"file": ("reel.mid", reel)},
                   data={"attribute": "jazzy"}, timeout=60)
    assert r.status_code == 422 and "unknown attribute 'jazzy'" in r.json()["error"]["message"]
    jig = (d / "jigs10.mid").read_bytes()
    r = httpx.post(f"{server}/v1/music/interpolate",
                   files={"a": ("a.mid", reel), "b": ("jig.mid", jig)}, timeout=60)
    assert r.status_code == 422 and "6/8" in r.json()["error"]["message"]


@pytest.mark.integration
def test_vae_16_bars(server: str, shared_data: Path) -> None:
    import numpy as np

    from wavesmith.music.midi import Melody, read_melody
    from wavesmith.music.vae16 import load_vae16

    r = httpx.post(f"{server}/v1/music/generate",
                   data={"model": "vae", "bars": "16", "seed": "2"}, timeout=60)
    assert r.status_code == 200
    want = load_vae16().sample(bars=16, seed=2)       # bars % 16 == 0: the 16-bar VAE
    assert [n.pitch for n in _midi_notes(r.content)[0]] == [n.pitch for n in want.notes()]
    d = shared_data / "music" / "midi" / "nottingham"
    reel, hornpipe = d / "reelsa-c10.mid", d / "hpps10.mid"
    files = {"a": ("a.mid", reel.read_bytes()), "b": ("b.mid", hornpipe.read_bytes())}
    r = httpx.post(f"{server}/v1/music/interpolate", data={"steps": "2", "bars": "16"},
                   files=files, timeout=60)
    assert r.status_code == 200
    path = load_vae16().interpolate(read_melody(reel), read_melody(hornpipe), 2)
    both = Melody(np.concatenate([p.tokens for p in path]), 16)
    assert [n.pitch for n in _midi_notes(r.content)[0]] == [n.pitch for n in both.notes()]
    r = httpx.post(f"{server}/v1/music/interpolate", data={"steps": "2", "bars": "4"},
                   files=files, timeout=60)
    assert r.status_code == 422
    assert "bars=4 must be 2 (the 2-bar VAE) or 16" in r.json()["error"]["message"]


def test_harmonize_chorale_voicing(server: str) -> None:
    import numpy as np

    from wavesmith.music.midi import Melody, melody_to_midi

    toks = np.full(64, -2, np.int16)
    toks[::4] = [72, 71, 72, 74, 76, 74, 72, 71, 69, 71, 72, 74, 72, 71, 72, 72]
    buf = stdio.BytesIO()
    melody_to_midi(Melody(toks, 16, 90.0, "hymn")).write(buf)
    r = httpx.post(f"{server}/v1/music/harmonize", files={"file": ("hymn.mid", buf.getvalue())},
                   data={"voicing": "chorale"}, timeout=60)
    tracks = _midi_notes(r.content)
    assert r.status_code == 200 and len(tracks) == 4
    assert [n.pitch for n in tracks[0]] == [int(p) for p in toks[::4]]
    assert 0 < len(tracks[3]) <= 16
    import pretty_midi

    from wavesmith.music.harmonize import CHORDS

    chords = [t.text for t in pretty_midi.PrettyMIDI(stdio.BytesIO(r.content)).text_events]
    assert len(chords) > 4 and set(chords) <= set(CHORDS)      # a chord per beat, not per bar
    r = httpx.post(f"{server}/v1/music/harmonize", files={"file": ("hymn.mid", buf.getvalue())},
                   data={"voicing": "organ"}, timeout=60)
    assert r.status_code == 422 and "unknown voicing 'organ'" in r.json()["error"]["message"]
