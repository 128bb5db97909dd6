"""Musical key with the Krumhansl–Schmuckler algorithm on an STFT chromagram.

The mean chroma vector is correlated (Pearson) with the Krumhansl–Kessler major and minor
key profiles rotated to each of the 12 tonics; the best of the 24 is the key.
``confidence`` is that best correlation (−1…1) and ``margin`` its lead over the second best
(relative major/minor pairs are often close: a small margin means "ambiguous mode").

Reference: C. L. Krumhansl, *Cognitive Foundations of Musical Pitch*, OUP 1990 (profiles
from Krumhansl & Kessler 1982).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wavesmith.analysis.spectral import DEFAULT_HOP_FRAMES, DEFAULT_N_FFT, chroma
from wavesmith.audio import Audio

__all__ = ["PITCH_CLASSES", "KeyResult", "estimate_key"]

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Krumhansl–Kessler probe-tone ratings (1–7 scale), tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
KEY_N_FFT = 4096            # frames; finer frequency resolution separates semitones in bass


@dataclass(frozen=True, slots=True)
class KeyResult:
    """The estimated key and how clearly the chroma matched it."""

    key: str            # tonic pitch class, "C" … "B" (sharps)
    mode: str           # "major" or "minor"
    confidence: float   # Pearson correlation of the mean chroma with the key profile, −1…1
    margin: float       # lead of that correlation over the second-best key

    @property
    def label(self) -> str:
        """``"F major"``-style name."""
        return f"{self.key} {self.mode}"


def key_correlations(mean_chroma: np.ndarray) -> np.ndarray:
    """Return the Pearson correlation of a 12-bin chroma vector with all 24 key profiles,
    shape ``(2, 12)``: row 0 major, row 1 minor; column = tonic pitch class (C = 0)."""
    v = np.asarray(mean_chroma, dtype=np.float64)
    out = np.empty((2, 12))
    for row, profile in enumerate((MAJOR_PROFILE, MINOR_PROFILE)):
        for tonic in range(12):
            p = np.roll(profile, tonic)
            if np.std(v) == 0:
                out[row, tonic] = np.nan
            else:
                out[row, tonic] = float(np.corrcoef(v, p)[0, 1])
    return out


def estimate_key(audio: Audio, *, n_fft: int = KEY_N_FFT,
                 hop_frames: int = DEFAULT_HOP_FRAMES) -> KeyResult:
    """Estimate the key of mono music (Krumhansl–Schmuckler on the mean STFT chroma).

    Returns ``key="", mode="", confidence=nan`` when the chroma is flat (silence, noise-free
    DC), where no key is defined.

    Raises
    ------
    AudioValueError
        If the audio is not mono or shorter than ``n_fft`` frames.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.analysis import estimate_key
    >>> t = np.arange(11_025) / 22_050                      # 0.5 s per chord
    >>> chords = [(261.63, 329.63, 392.00), (349.23, 440.00, 523.25),
    ...           (392.00, 493.88, 587.33), (261.63, 329.63, 392.00)]  # I IV V I in C
    >>> x = np.concatenate([sum(np.sin(2 * np.pi * f * t) for f in c) for c in chords])
    >>> estimate_key(Audio((0.2 * x)[None].astype(np.float32), 22_050)).label
    'C major'
    """
    if n_fft == KEY_N_FFT and audio.frames < KEY_N_FFT:
        n_fft = DEFAULT_N_FFT  # short clips: the default window still resolves semitones
    mean = chroma(audio, n_fft=n_fft, hop_frames=hop_frames).mean(axis=1)
    corr = key_correlations(mean)
    if not np.isfinite(corr).all():
        return KeyResult(key="", mode="", confidence=float("nan"), margin=float("nan"))
    flat = np.sort(corr.ravel())
    mode, tonic = np.unravel_index(int(np.argmax(corr)), corr.shape)
    return KeyResult(key=PITCH_CLASSES[tonic], mode=("major", "minor")[mode],
                     confidence=float(flat[-1]), margin=float(flat[-1] - flat[-2]))
