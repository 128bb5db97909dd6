"""basic-pitch transcription through onnxruntime, on real recordings and rendered MIDI."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, io
from wavesmith.errors import AudioValueError, SampleRateError
from wavesmith.music.midi import load_midi
from wavesmith.music.render import render_midi
from wavesmith.music.transcribe import note_f_measure, transcribe

F_DORIAN_BLUES = {5, 7, 8, 10, 11, 0, 2, 3}   # F G Ab Bb B(blue note) C D Eb (pitch classes)


@pytest.mark.integration
def test_trumpet_in_f(shared_data: Path) -> None:
    path = shared_data / "music" / "audio" / "sorohanro_-_solo-trumpet-06.hq.ogg"
    result = transcribe(io.load(path, sample_rate=22_050, mono=True))
    pitches = [n.pitch for n in result.notes]
    assert len(pitches) >= 8                                  # 12 found (basic-pitch CLI too)
    assert np.mean([p % 12 in F_DORIAN_BLUES for p in pitches]) >= 0.9
    assert min(pitches) >= 55 and max(pitches) <= 84          # trumpet range
    assert "tensorflow" not in sys.modules


@pytest.mark.integration
@pytest.mark.slow
def test_rendered_nottingham_f_measure(nottingham: Path) -> None:
    pm = load_midi(nottingham / "jigs10.mid")
    audio = render_midi(pm, sample_rate=22_050)
    scores = note_f_measure(pm, transcribe(audio).notes, onset_tolerance_s=0.05)
    assert scores["reference_notes"] == 252
    assert scores["f_measure"] > 0.65                        # measured 0.77
    assert scores["recall"] > 0.8


def test_wrong_rate_and_channels() -> None:
    with pytest.raises(SampleRateError, match="44100 Hz"):
        transcribe(Audio(np.zeros((1, 44_100), np.float32), 44_100))
    with pytest.raises(AudioValueError, match="mono"):
        transcribe(Audio(np.zeros((2, 22_050), np.float32), 22_050))


def test_silence_gives_no_notes() -> None:
    assert transcribe(Audio(np.zeros((1, 22_050), np.float32), 22_050)).notes == []


def test_note_f_measure_onsets_and_offsets() -> None:
    from wavesmith.music._deps import quiet_import
    from wavesmith.music.transcribe import TranscribedNote

    pretty_midi = quiet_import("pretty_midi")
    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(velocity=90, pitch=60, start=0.0, end=1.0),
                   pretty_midi.Note(velocity=90, pitch=62, start=1.0, end=2.0),
                   pretty_midi.Note(velocity=90, pitch=64, start=2.0, end=3.0)]
    pm.instruments.append(piano)
    estimate = [TranscribedNote(0.02, 1.0, 60, 0.5),   # onset 20 ms late, offset right
                TranscribedNote(1.03, 1.4, 62, 0.5),   # offset 0.6 s early (> 20 % of 1 s)
                TranscribedNote(2.08, 3.0, 64, 0.5),   # onset 80 ms late: no match at all
                TranscribedNote(2.5, 2.7, 67, 0.5)]    # an extra note
    onset = note_f_measure(pm, estimate, onset_tolerance_s=0.05)
    assert onset["precision"] == pytest.approx(2 / 4) and onset["recall"] == pytest.approx(2 / 3)
    both = note_f_measure(pm, estimate, onset_tolerance_s=0.05, offset_ratio=0.2)
    assert both["precision"] == pytest.approx(1 / 4) and both["recall"] == pytest.approx(1 / 3)
    assert both["reference_notes"] == 3 and both["estimated_notes"] == 4
