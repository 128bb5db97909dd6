"""Rhythm: onset times and tempo/beats, with librosa's onset detector and beat tracker.

librosa's dynamic-programming beat tracker (Ellis 2007) is the field's common baseline, so we
call it. Like every tempo estimator it can lock to a metrical level twice or half the one a
listener would tap (e.g. eighth notes at 180 bpm in a 90 bpm loop); the result says which
tempo the tracker chose and callers compare with octave equivalence when that matters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wavesmith.analysis.spectral import DEFAULT_HOP_FRAMES, _librosa, _mono
from wavesmith.audio import Audio, check_audio
from wavesmith.errors import AudioValueError

__all__ = ["RhythmResult", "onsets", "rhythm"]

MIN_RHYTHM_S = 1.0          # s; shorter audio has too few frames for a tempo estimate
DEFAULT_START_BPM = 120.0   # bpm; the beat tracker's initial tempo guess (librosa's default)


@dataclass(frozen=True, slots=True, eq=False)
class RhythmResult:
    """Tempo and beat/onset times of one signal."""

    tempo_bpm: float             # beats per minute (nan when no beat was found)
    beat_times_s: np.ndarray     # s, shape (n_beats,)
    onset_times_s: np.ndarray    # s, shape (n_onsets,)
    onset_rate_hz: float         # onsets per second over the whole signal


def onsets(audio: Audio, *, hop_frames: int = DEFAULT_HOP_FRAMES,
           backtrack: bool = False) -> np.ndarray:
    """Return onset times in seconds, shape ``(n_onsets,)``, ascending (mono only).

    Spectral-flux onset strength with librosa's peak picking; ``backtrack`` moves each
    onset to the preceding energy minimum (better for cutting).
    """
    x = _mono(audio, "onsets", hop_frames=hop_frames)
    return _librosa().onset.onset_detect(y=x, sr=audio.sample_rate, hop_length=hop_frames,
                                         backtrack=backtrack, units="time")


def rhythm(audio: Audio, *, hop_frames: int = DEFAULT_HOP_FRAMES,
           start_bpm: float = DEFAULT_START_BPM) -> RhythmResult:
    """Estimate tempo (bpm) and beat times (s), and detect onsets (mono only).

    Parameters
    ----------
    audio : Audio
        Mono, at least 1 s.
    hop_frames : int, default 512
        Frames between onset-strength frames (sets the time resolution).
    start_bpm : float, default 120.0
        Initial tempo guess of the beat tracker, in bpm.

    Raises
    ------
    AudioValueError
        If the audio is not mono or shorter than 1 s.
    """
    check_audio(audio)
    if audio.duration_s < MIN_RHYTHM_S:
        raise AudioValueError(
            f"rhythm: audio is {audio.duration_s:.3f} s; tempo needs at least "
            f"{MIN_RHYTHM_S:g} s"
        )
    x = _mono(audio, "rhythm", hop_frames=hop_frames)
    lr = _librosa()
    sr = audio.sample_rate
    # median aggregation, as librosa.beat.beat_track(y=...) does, so results equal it
    envelope = lr.onset.onset_strength(y=x, sr=sr, hop_length=hop_frames, aggregate=np.median)
    tempo, beats = lr.beat.beat_track(onset_envelope=envelope, sr=sr, hop_length=hop_frames,
                                      start_bpm=start_bpm, units="time")
    onset_s = lr.onset.onset_detect(y=x, sr=sr, hop_length=hop_frames, units="time")
    bpm = float(np.atleast_1d(tempo)[0])
    return RhythmResult(
        tempo_bpm=bpm if bpm > 0 and len(beats) else float("nan"),
        beat_times_s=np.asarray(beats, dtype=np.float64),
        onset_times_s=np.asarray(onset_s, dtype=np.float64),
        onset_rate_hz=len(onset_s) / audio.duration_s,
    )
