"""``wavesmith music`` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def nottingham(shared_data: Path) -> Path:
    """The Nottingham full-tune MIDI folder (skipped where the shared data is absent)."""
    d = shared_data / "music" / "midi" / "nottingham"
    if not d.is_dir():
        pytest.skip(f"Nottingham MIDI not found at {d}")
    return d


def test_generate_midi_audio_plot(tmp_path: Path) -> None:
    mid, wav, png = tmp_path / "out.mid", tmp_path / "out.wav", tmp_path / "out.png"
    r = run_cli("music", "generate", "--model", "markov", "--bars", "16", "--seed", "1",
                "-o", mid, "--audio", wav, "--plot", png, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["bars"] == 16 and rep["notes"] > 16 and rep["duration_s"] == pytest.approx(32.0,
                                                                                       abs=1)
    from wavesmith import io
    from wavesmith.music.midi import read_melody

    assert read_melody(mid).steps <= 256 and io.info(wav).duration_s > 30
    assert png.read_bytes()[:4] == b"\x89PNG"
    again = tmp_path / "again.mid"
    assert run_cli("music", "generate", "--seed", "1", "-o", again).returncode == 0
    assert again.read_bytes() == mid.read_bytes()            # same seed, same MIDI


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "gan", "--meter", "6/8"], "the GAN generates 4/4 only"),
    (["--model", "vae", "--bars", "3"], "bars=3 must be an even integer"),
    (["--model", "markov", "--top-k", "5"], "top_k is supported by the transformer only"),
    (["--model", "vae", "--top-p", "0.9"], "top_p is supported by the transformer only"),
    (["--model", "transformer", "--top-p", "0"], "top_p=0.0 must be in (0, 1]"),
    (["--model", "markov", "--tokens", "remi"], "tokens is supported by the transformer only"),
    (["--model", "transformer", "--tokens", "words"], "tokens='words' must be one of grid, "
                                                      "remi"),
    (["--model", "transformer", "--tokens", "remi", "--meter", "5/4"],
     "5/4 is not in the REMI vocabulary"),
    (["--model", "lstm"], "unknown model 'lstm'"),
    (["--bars", "0"], "bars=0 must be"),
    (["--meter", "5/7"], "time signature 5/7 is not supported"),
])
def test_generate_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "x.mid"
    r = run_cli("music", "generate", "-o", out, *args)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("wavesmith: error: ") and message in r.stderr
    assert r.stderr.strip().count("\n") == 0 and not out.exists()


@pytest.mark.integration
def test_continue_real_tune(nottingham: Path, tmp_path: Path) -> None:
    out = tmp_path / "cont.mid"
    r = run_cli("music", "continue", nottingham / "jigs10.mid", "-o", out, "--bars", "8",
                "--json")
    assert r.returncode == 0, r.stderr
    from wavesmith.music.midi import read_melody

    src, res = read_melody(nottingham / "jigs10.mid"), read_melody(out)
    assert res.notes()[: len(src.notes()) - 1] == src.notes()[:-1]
    assert res.bars == pytest.approx(-(-src.steps // src.steps_per_bar) + 8)


@pytest.mark.parametrize("content", [b"", b"MThd\x00\x00", b"not midi at all" * 10])
def test_continue_bad_midi(tmp_path: Path, content: bytes) -> None:
    src, out = tmp_path / "bad.mid", tmp_path / "out.mid"
    src.write_bytes(content)
    r = run_cli("music", "continue", src, "-o", out)
    assert r.returncode == 2 and "bad.mid" in r.stderr and not out.exists()
    assert r.stderr.strip().count("\n") == 0


def test_render_missing_soundfont(tmp_path: Path) -> None:
    mid, wav = tmp_path / "a.mid", tmp_path / "a.wav"
    assert run_cli("music", "generate", "--bars", "1", "-o", mid).returncode == 0
    r = run_cli("music", "render", mid, "-o", wav, "--soundfont", tmp_path / "gm.sf2")
    assert r.returncode == 2 and "soundfont not found" in r.stderr and not wav.exists()


@pytest.mark.integration
def test_transcribe_trumpet(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.mid"
    r = run_cli("music", "transcribe",
                shared_data / "music" / "audio" / "sorohanro_-_solo-trumpet-06.hq.ogg",
                "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["notes"]) >= 8 and out.stat().st_size > 50


@pytest.mark.integration
def test_eval_quick(nottingham: Path) -> None:
    r = run_cli("music", "eval", "--data", nottingham, "--limit", "60", "--orders", "1,3",
                "--bars", "8", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    rows = {(p["model"], p["order"], p["use_position"]): p["perplexity"]
            for p in rep["perplexity"]}
    assert rows[("markov", 1, True)] < rows[("uniform-random", 0, False)]
    d = rep["distances"]
    assert d["markov-3"]["mean"] < d["uniform-random"]["mean"]


def test_generate_transformer_seeded(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    for out in (a, b):
        r = run_cli("music", "generate", "--model", "transformer", "--bars", "4", "--seed", "3",
                    "--temperature", "0.9", "--top-k", "20", "-o", out, "--json")
        assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["model"] == "transformer" and rep["top_k"] == 20 and rep["bars"] == 4
    assert a.read_bytes() == b.read_bytes()                # same seed, same MIDI
    greedy, nucleus = tmp_path / "greedy.mid", tmp_path / "nucleus.mid"
    for out, opts in ((greedy, ["--top-k", "1"]), (nucleus, ["--top-p", "0.000001"])):
        r = run_cli("music", "generate", "--model", "transformer", "--bars", "4", "--seed", "3",
                    *opts, "-o", out, "--json")
        assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["top_p"] == 0.000001
    assert greedy.read_bytes() == nucleus.read_bytes()     # a tiny nucleus is the argmax


@pytest.mark.integration
def test_eval_remi_transformer(nottingham: Path) -> None:
    """music eval --model transformer --tokens remi: per-REMI-token NLL against a REMI
    n-gram counted in the same run, and per-bar NLL against the grid Markov table."""
    r = run_cli("music", "eval", "--data", nottingham, "--limit", "12", "--model",
                "transformer", "--tokens", "remi", "--bars", "4", "--json", timeout=300)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["tokens"] == "remi" and rep["test_pieces"] == 12
    assert set(rep["nll_per_token"]) == {"transformer-remi", "remi-5gram"}
    assert set(rep["nll_per_bar"]) == {"transformer-remi", "markov-3"}
    assert rep["nll_per_token"]["transformer-remi"] < rep["nll_per_token"]["remi-5gram"]
    r = run_cli("music", "eval", "--model", "vae", "--tokens", "remi")
    assert r.returncode == 2 and "--tokens applies to --model transformer only" in r.stderr


def test_generate_remi_transformer(tmp_path: Path) -> None:
    """--tokens remi: the REMI model, in the asked meter (6/8), written as 6/8."""
    from wavesmith.music.midi import read_melody

    out = tmp_path / "jig.mid"
    r = run_cli("music", "generate", "--model", "transformer", "--tokens", "remi", "--bars",
                "4", "--meter", "6/8", "--seed", "2", "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["tokens"] == "remi" and rep["bars"] == 4
    mel = read_melody(out)
    assert mel.time_signature == (6, 8) and mel.steps_per_bar == 12 and len(mel.notes()) >= 4
    grid = tmp_path / "grid.mid"
    r = run_cli("music", "generate", "--model", "transformer", "--bars", "4", "--meter", "6/8",
                "--seed", "2", "-o", grid, "--json")
    assert json.loads(r.stdout)["tokens"] == "grid"
    assert read_melody(grid).time_signature == (6, 8)   # the asked meter, not 3/4
    assert grid.read_bytes() != out.read_bytes()


@pytest.mark.integration
def test_continue_transformer(nottingham: Path, tmp_path: Path) -> None:
    out = tmp_path / "cont.mid"
    r = run_cli("music", "continue", nottingham / "jigs10.mid", "-o", out, "--model",
                "transformer", "--bars", "2", "--seed", "4", "--json")
    assert r.returncode == 0, r.stderr
    from wavesmith.music.midi import read_melody

    src, res = read_melody(nottingham / "jigs10.mid"), read_melody(out)
    assert res.notes()[: len(src.notes()) - 1] == src.notes()[:-1]
    assert res.bars == pytest.approx(-(-src.steps // src.steps_per_bar) + 2)
    r = run_cli("music", "continue", nottingham / "jigs10.mid", "-o", out, "--model",
                "transformer", "--tokens", "remi", "--bars", "2", "--seed", "4", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["tokens"] == "remi", r.stderr
    res = read_melody(out)
    assert res.notes()[: len(src.notes()) - 1] == src.notes()[:-1]
    assert res.bars == pytest.approx(-(-src.steps // src.steps_per_bar) + 2)


@pytest.mark.integration
def test_interpolate_and_harmonize(nottingham: Path, tmp_path: Path) -> None:
    a, b = nottingham / "reelsa-c10.mid", nottingham / "hpps10.mid"
    out = tmp_path / "morph.mid"
    r = run_cli("music", "interpolate", a, b, "-o", out, "--steps", "3", "--json")
    assert r.returncode == 0, r.stderr
    from wavesmith.music.midi import read_melody

    assert json.loads(r.stdout)["bars"] == 6 and read_melody(out).steps <= 96
    t = tmp_path / "minor.mid"
    r = run_cli("music", "transfer", a, "-o", t, "--attribute", "minor", "--amount", "1.5",
                "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["notes"] > 10 and read_melody(t).steps_per_bar == 16
    r = run_cli("music", "transfer", a, "-o", tmp_path / "x.mid", "--attribute", "jazzy")
    assert r.returncode == 2 and "unknown attribute 'jazzy'" in r.stderr
    assert r.stderr.count("\n") == 1 and not (tmp_path / "x.mid").exists()
    h = tmp_path / "chords.mid"
    r = run_cli("music", "harmonize", nottingham / "jigs10.mid", "-o", h, "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["bars"] == len(rep["chords"]) > 8 and rep["key"].endswith(("major", "minor"))


def _hymn(path: Path) -> Path:
    """A 4-bar C-major quarter-note tune written as MIDI."""
    import numpy as np

    from wavesmith.music.midi import Melody, melody_to_midi, save_midi

    toks = np.full(64, -2, np.int16)
    toks[::4] = [72, 71, 72, 74, 76, 74, 72, 71, 69, 71, 72, 74, 72, 71, 72, 72]
    return save_midi(melody_to_midi(Melody(toks, 16, 90.0, "hymn")), path)


def test_harmonize_chorale_voicing(tmp_path: Path) -> None:
    from wavesmith.music.midi import load_midi, read_melody

    src, out = _hymn(tmp_path / "hymn.mid"), tmp_path / "satb.mid"
    r = run_cli("music", "harmonize", src, "-o", out, "--voicing", "chorale", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["voicing"] == "chorale" and len(rep["voices"]["bass"]) == 16
    assert rep["chords_per"] == "beat" and rep["bars"] == 4           # a chord per beat
    assert rep["chords"] == rep["voices"]["chords"] and len(rep["chords"]) == 16
    r = run_cli("music", "harmonize", src, "-o", tmp_path / "satb2.mid", "--voicing", "chorale")
    assert r.returncode == 0 and "4 bars, 16 beats" in r.stdout, r.stderr
    assert [i.name for i in load_midi(out).instruments] == ["soprano", "alto", "tenor", "bass"]
    assert read_melody(out).notes() == read_melody(src).notes()
    r = run_cli("music", "harmonize", src, "-o", tmp_path / "x.mid", "--voicing", "organ")
    assert r.returncode == 2 and "unknown voicing 'organ'" in r.stderr
    assert r.stderr.count("\n") == 1 and not (tmp_path / "x.mid").exists()


def test_transfer_towards_chorale(tmp_path: Path) -> None:
    from wavesmith.music.midi import read_melody

    src = _hymn(tmp_path / "hymn.mid")
    for attribute in ("chorale", "folk"):
        out = tmp_path / f"{attribute}.mid"
        r = run_cli("music", "transfer", src, "-o", out, "--attribute", attribute, "--json")
        assert r.returncode == 0, r.stderr
        mel = read_melody(out)
        assert json.loads(r.stdout)["notes"] == len(mel.notes()) > 0
        assert mel.steps_per_bar == 16 and mel.steps <= 64
