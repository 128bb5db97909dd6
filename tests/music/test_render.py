"""Rendering MIDI through FluidSynth, and the piano-roll PNG."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wavesmith.errors import AudioValueError, MissingToolError
from wavesmith.music.midi import NO_EVENT, NOTE_OFF, Melody, load_midi, melody_to_midi
from wavesmith.music.render import find_soundfont, plot_piano_roll, render_midi


def _melody() -> Melody:
    # A4 for one beat, rest, E5 for one beat at 120 bpm: 0.5 s + 0.5 s + 0.5 s
    t = [69, NO_EVENT, NO_EVENT, NO_EVENT, NOTE_OFF, NO_EVENT, NO_EVENT, NO_EVENT,
         76, NO_EVENT, NO_EVENT, NO_EVENT]
    return Melody(np.array(t, np.int16), 16)


def test_render_pitch_and_length() -> None:
    audio = render_midi(melody_to_midi(_melody()), sample_rate=22_050)
    assert audio.channels == 1 and audio.sample_rate == 22_050
    assert 1.5 <= audio.duration < 4.0                          # 1.5 s of notes + release
    assert audio.peak_dbfs == pytest.approx(-1.0, abs=0.05)
    x = audio.samples[0, : int(0.45 * 22_050)]                  # the A4 only
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    f0 = np.fft.rfftfreq(x.size, 1 / 22_050)[np.argmax(spec)]
    assert f0 == pytest.approx(440.0, rel=0.03)                 # GM piano, fundamental peak


@pytest.mark.integration
def test_render_real_tune(nottingham: Path) -> None:
    pm = load_midi(nottingham / "jigs10.mid")
    audio = render_midi(pm)
    assert audio.duration == pytest.approx(pm.get_end_time(), abs=3.0)
    assert audio.rms_dbfs > -40


def test_missing_soundfont(tmp_path: Path) -> None:
    with pytest.raises(MissingToolError, match="soundfont not found"):
        render_midi(melody_to_midi(_melody()), soundfont=tmp_path / "none.sf2")
    assert find_soundfont().suffix == ".sf2"


def test_render_no_notes() -> None:
    import pretty_midi

    with pytest.raises(AudioValueError, match="no notes"):
        render_midi(pretty_midi.PrettyMIDI())


def test_missing_pyfluidsynth_is_one_line() -> None:
    code = ("import sys; sys.modules['fluidsynth'] = None\n"
            "from wavesmith.music.midi import Melody, melody_to_midi\n"
            "from wavesmith.music.render import render_midi\n"
            "import numpy as np\n"
            "try:\n    render_midi(melody_to_midi(Melody(np.array([60, -2], np.int16))))\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60, check=True)
    assert r.stdout.startswith("MissingToolError render: ") and "pyfluidsynth" in r.stdout
    assert r.stdout.count("\n") == 1


def test_piano_roll_png(tmp_path: Path) -> None:
    out = plot_piano_roll(melody_to_midi(_melody()), tmp_path / "roll.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    assert [p.name for p in tmp_path.iterdir()] == ["roll.png"]   # no temporary left
