"""Spectral features on :class:`~wavesmith.Audio`: thin, documented wrappers of librosa.

librosa is the field's reference for these features (and it is what users compare with), so
we call it rather than re-implement it; what we add is the ``Audio`` boundary (explicit
sample rate, no silent resampling or downmixing), unit-named parameters and one-line errors.
All functions use librosa's defaults (``n_fft=2048``, ``hop_frames=512``, centred frames
with constant padding), so with the same parameters the results equal librosa's.

Shapes: ``n_frames = 1 + frames // hop_frames`` (centred). Frame ``i`` is centred at
``i * hop_frames / sample_rate`` seconds (:func:`frame_times`).

Channels: :func:`stft`, :func:`istft` and :func:`mel_spectrogram`/:func:`log_mel` accept any
channel count and put channels first; every other feature needs mono and raises
:class:`~wavesmith.errors.AudioValueError` otherwise (call ``audio.to_mono()`` first).

Centred framing pads the signal at both ends, so these functions take whole signals only;
for long files, :class:`~wavesmith.analysis.streaming.SpectralMeter` computes the statistics
of :func:`spectral_summary` block by block with the same result.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wavesmith.audio import Audio, check_audio
from wavesmith.errors import AudioValueError

__all__ = [
    "DEFAULT_HOP_FRAMES",
    "DEFAULT_N_FFT",
    "DEFAULT_N_MELS",
    "DEFAULT_N_MFCC",
    "chroma",
    "delta",
    "frame_times",
    "istft",
    "log_mel",
    "mel_spectrogram",
    "mfcc",
    "rms",
    "spectral_bandwidth",
    "spectral_centroid",
    "spectral_contrast",
    "spectral_flatness",
    "spectral_rolloff",
    "spectral_summary",
    "stft",
    "zero_crossing_rate",
]

DEFAULT_N_FFT = 2048        # frames per FFT window (46 ms at 44.1 kHz)
DEFAULT_HOP_FRAMES = 512    # frames between successive analysis frames (11.6 ms at 44.1 kHz)
DEFAULT_N_MELS = 128        # mel bands
DEFAULT_N_MFCC = 20         # cepstral coefficients
TOP_DB = 80.0               # dB; log-mel floor below the maximum
SUMMARY_N_MFCC = 13         # cepstral coefficients in spectral_summary
CONTRAST_BANDS = 6          # octave bands of spectral contrast (librosa's default)
CONTRAST_FMIN_HZ = 200.0    # Hz; lower edge of the first contrast octave (librosa's default)


def _librosa() -> Any:
    import librosa  # heavy import (numba): only callers of spectral features pay for it

    return librosa


def _check_fft(audio: Audio, n_fft: int, hop_frames: int, name: str) -> None:
    if not isinstance(n_fft, (int, np.integer)) or n_fft < 2:
        raise AudioValueError(f"{name}: n_fft={n_fft!r} must be an int >= 2")
    if not isinstance(hop_frames, (int, np.integer)) or hop_frames < 1:
        raise AudioValueError(f"{name}: hop_frames={hop_frames!r} must be an int >= 1")
    if audio.frames < n_fft:
        raise AudioValueError(
            f"{name}: audio has {audio.frames} frames ({audio.duration_s:.3f} s), shorter "
            f"than n_fft={n_fft}; pass a smaller n_fft or longer audio"
        )


def _mono(audio: Audio, name: str, *, n_fft: int = DEFAULT_N_FFT,
          hop_frames: int = DEFAULT_HOP_FRAMES) -> np.ndarray:
    """Checked 1-D float32 samples of mono ``audio``."""
    check_audio(audio)
    if audio.channels != 1:
        raise AudioValueError(
            f"{name}: needs mono audio, got {audio.channels} channels; "
            "call audio.to_mono() (or select_channels) first"
        )
    _check_fft(audio, n_fft, hop_frames, name)
    return audio.samples[0]


def _any(audio: Audio, name: str, n_fft: int, hop_frames: int) -> np.ndarray:
    check_audio(audio)
    _check_fft(audio, n_fft, hop_frames, name)
    return audio.samples


def frame_times(n_frames: int, sample_rate: int, hop_frames: int = DEFAULT_HOP_FRAMES
                ) -> np.ndarray:
    """Return the centre time in seconds of each of ``n_frames`` analysis frames.

    Examples
    --------
    >>> from wavesmith.analysis import frame_times
    >>> frame_times(3, 22_050, 441).tolist()
    [0.0, 0.02, 0.04]
    """
    return np.arange(n_frames) * hop_frames / float(sample_rate)


def stft(audio: Audio, *, n_fft: int = DEFAULT_N_FFT, hop_frames: int = DEFAULT_HOP_FRAMES,
         window: str = "hann", center: bool = True) -> np.ndarray:
    """Return the short-time Fourier transform, complex, shape ``(channels, 1 + n_fft // 2,
    n_frames)``; bin ``k`` is ``k * sample_rate / n_fft`` Hz.

    Parameters
    ----------
    audio : Audio
        Any channel count; at least ``n_fft`` frames.
    n_fft : int, default 2048
        FFT (and window) length in frames.
    hop_frames : int, default 512
        Frames between successive analysis frames.
    window : str, default "hann"
        Any window name :func:`scipy.signal.get_window` knows.
    center : bool, default True
        Pad by ``n_fft // 2`` frames at both ends so frame ``i`` is centred on frame
        ``i * hop_frames`` of the audio.
    """
    x = _any(audio, "stft", n_fft, hop_frames)
    return _librosa().stft(x, n_fft=n_fft, hop_length=hop_frames, window=window,
                           center=center, pad_mode="constant")


def istft(spectrum: np.ndarray, sample_rate: int, *, hop_frames: int = DEFAULT_HOP_FRAMES,
          n_fft: int | None = None, window: str = "hann", frames: int | None = None) -> Audio:
    """Invert :func:`stft` output (``(channels, bins, n_frames)`` or ``(bins, n_frames)``).

    Parameters
    ----------
    spectrum : np.ndarray
        Complex STFT; ``n_fft`` defaults to ``2 * (bins - 1)``.
    sample_rate : int
        Hz of the signal the spectrum came from.
    frames : int, optional
        Output length in frames (pass the original length for an exact round trip).

    Returns
    -------
    Audio
        float32 ``(channels, frames)``.
    """
    spec = np.asarray(spectrum)
    if spec.ndim == 2:
        spec = spec[np.newaxis]
    if spec.ndim != 3 or not np.iscomplexobj(spec):
        raise AudioValueError(
            f"istft: spectrum must be complex (channels, bins, n_frames), got "
            f"{spec.dtype} {spec.shape}"
        )
    y = _librosa().istft(spec, hop_length=hop_frames, n_fft=n_fft, window=window,
                         length=frames)
    return Audio(np.ascontiguousarray(y, dtype=np.float32), sample_rate)


def mel_spectrogram(audio: Audio, *, n_fft: int = DEFAULT_N_FFT,
                    hop_frames: int = DEFAULT_HOP_FRAMES, n_mels: int = DEFAULT_N_MELS,
                    fmin_hz: float = 0.0, fmax_hz: float | None = None) -> np.ndarray:
    """Return the mel power spectrogram, shape ``(channels, n_mels, n_frames)``.

    Slaney-style mel scale and area-normalised filters (librosa's defaults), power = |STFT|².
    ``fmax_hz`` defaults to ``sample_rate / 2``.
    """
    x = _any(audio, "mel_spectrogram", n_fft, hop_frames)
    return _librosa().feature.melspectrogram(
        y=x, sr=audio.sample_rate, n_fft=n_fft, hop_length=hop_frames, n_mels=n_mels,
        fmin=fmin_hz, fmax=fmax_hz, pad_mode="constant")


def log_mel(audio: Audio, *, n_fft: int = DEFAULT_N_FFT, hop_frames: int = DEFAULT_HOP_FRAMES,
            n_mels: int = DEFAULT_N_MELS, top_db: float | None = TOP_DB) -> np.ndarray:
    """Return the mel spectrogram in dB relative to its maximum (0 dB), floored ``top_db``
    below it, shape ``(channels, n_mels, n_frames)``: librosa's ``power_to_db(S, ref=np.max)``.
    """
    mel = mel_spectrogram(audio, n_fft=n_fft, hop_frames=hop_frames, n_mels=n_mels)
    return _librosa().power_to_db(mel, ref=np.max, top_db=top_db)


def mfcc(audio: Audio, *, n_mfcc: int = DEFAULT_N_MFCC, n_fft: int = DEFAULT_N_FFT,
         hop_frames: int = DEFAULT_HOP_FRAMES, n_mels: int = DEFAULT_N_MELS) -> np.ndarray:
    """Return MFCCs (DCT-II of the log-mel power, dB re. 1.0), shape ``(n_mfcc, n_frames)``.

    Mono only. Equals ``librosa.feature.mfcc(y=..., sr=..., n_mfcc=...)`` with the same
    parameters. Use :func:`delta` for the first/second derivatives.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.analysis import mfcc
    >>> x = np.random.default_rng(0).standard_normal((1, 22_050)).astype(np.float32)
    >>> mfcc(Audio(x, 22_050), n_mfcc=13).shape
    (13, 44)
    """
    x = _mono(audio, "mfcc", n_fft=n_fft, hop_frames=hop_frames)
    return _librosa().feature.mfcc(y=x, sr=audio.sample_rate, n_mfcc=n_mfcc, n_fft=n_fft,
                                   hop_length=hop_frames, n_mels=n_mels, pad_mode="constant")


def delta(features: np.ndarray, *, order: int = 1, width: int = 9) -> np.ndarray:
    """Return the ``order``-th time derivative (Savitzky–Golay, ``width`` frames) along the
    last axis, same shape as ``features`` (librosa's ``feature.delta``, ``mode="interp"``).

    Raises
    ------
    AudioValueError
        If there are fewer than ``width`` frames (pass a smaller odd ``width``).
    """
    feats = np.asarray(features)
    if feats.shape[-1] < width:
        raise AudioValueError(
            f"delta: {feats.shape[-1]} frames are fewer than width={width}; "
            "pass a smaller odd width (>= 3) or longer audio"
        )
    return _librosa().feature.delta(feats, order=order, width=width)


def chroma(audio: Audio, *, n_fft: int = DEFAULT_N_FFT, hop_frames: int = DEFAULT_HOP_FRAMES,
           tuning: float | None = 0.0) -> np.ndarray:
    """Return the STFT chromagram, shape ``(12, n_frames)``, rows C, C#, …, B; each frame
    is max-normalised to 1. Mono only.

    ``tuning`` is the deviation from A440 in fractions of a bin; 0.0 (default) assumes
    standard tuning, ``None`` estimates it from the signal (as librosa's default does).
    """
    x = _mono(audio, "chroma", n_fft=n_fft, hop_frames=hop_frames)
    return _librosa().feature.chroma_stft(y=x, sr=audio.sample_rate, n_fft=n_fft,
                                          hop_length=hop_frames, tuning=tuning,
                                          pad_mode="constant")


def spectral_centroid(audio: Audio, *, n_fft: int = DEFAULT_N_FFT,
                      hop_frames: int = DEFAULT_HOP_FRAMES) -> np.ndarray:
    """Return the magnitude-weighted mean frequency per frame in Hz, shape ``(n_frames,)``."""
    x = _mono(audio, "spectral_centroid", n_fft=n_fft, hop_frames=hop_frames)
    return _librosa().feature.spectral_centroid(
        y=x, sr=audio.sample_rate, n_fft=n_fft, hop_length=hop_frames, pad_mode="constant")[0]


def spectral_bandwidth(audio: Audio, *, n_fft: int = DEFAULT_N_FFT,
                       hop_frames: int = DEFAULT_HOP_FRAMES) -> np.ndarray:
    """Return the magnitude-weighted spread around the centroid (p=2) per frame in Hz,
    shape ``(n_frames,)``."""
    x = _mono(audio, "spectral_bandwidth", n_fft=n_fft, hop_frames=hop_frames)
    return _librosa().feature.spectral_bandwidth(
        y=x, sr=audio.sample_rate, n_fft=n_fft, hop_length=hop_frames, pad_mode="constant")[0]


def spectral_rolloff(audio: Audio, *, n_fft: int = DEFAULT_N_FFT,
                     hop_frames: int = DEFAULT_HOP_FRAMES, roll_percent: float = 0.85
                     ) -> np.ndarray:
    """Return the frequency in Hz below which ``roll_percent`` of each frame's magnitude
    lies, shape ``(n_frames,)``."""
    x = _mono(audio, "spectral_rolloff", n_fft=n_fft, hop_frames=hop_frames)
    return _librosa().feature.spectral_rolloff(
        y=x, sr=audio.sample_rate, n_fft=n_fft, hop_length=hop_frames,
        roll_percent=roll_percent, pad_mode="constant")[0]


def spectral_flatness(audio: Audio, *, n_fft: int = DEFAULT_N_FFT,
                      hop_frames: int = DEFAULT_HOP_FRAMES) -> np.ndarray:
    """Return the geometric over arithmetic mean of each frame's power spectrum (0–1,
    1 = white noise), shape ``(n_frames,)``."""
    x = _mono(audio, "spectral_flatness", n_fft=n_fft, hop_frames=hop_frames)
    return _librosa().feature.spectral_flatness(
        y=x, n_fft=n_fft, hop_length=hop_frames, pad_mode="constant")[0]


def spectral_contrast(audio: Audio, *, n_fft: int = DEFAULT_N_FFT,
                      hop_frames: int = DEFAULT_HOP_FRAMES, n_bands: int = CONTRAST_BANDS,
                      fmin_hz: float = CONTRAST_FMIN_HZ) -> np.ndarray:
    """Return the peak-to-valley level difference in dB of ``n_bands`` octave bands above
    ``fmin_hz`` plus one band below it, shape ``(n_bands + 1, n_frames)``.

    Raises
    ------
    AudioValueError
        If the top band would start past Nyquist (``fmin_hz * 2**(n_bands - 1)`` >=
        ``sample_rate / 2``, librosa's rule; the top band itself is cut at Nyquist): lower
        ``n_bands`` or ``fmin_hz``, e.g. ``n_bands=5`` at 8 kHz.
    """
    x = _mono(audio, "spectral_contrast", n_fft=n_fft, hop_frames=hop_frames)
    if fmin_hz * 2.0**(n_bands - 1) >= audio.sample_rate / 2:   # librosa's rule: the top
        raise AudioValueError(                                    # band may end past Nyquist
            f"spectral_contrast: the top of {n_bands} octave bands above {fmin_hz:g} Hz "
            f"starts at {fmin_hz * 2.0**(n_bands - 1):g} Hz, past Nyquist "
            f"({audio.sample_rate / 2:g} Hz); lower n_bands or fmin_hz"
        )
    return _librosa().feature.spectral_contrast(
        y=x, sr=audio.sample_rate, n_fft=n_fft, hop_length=hop_frames, n_bands=n_bands,
        fmin=fmin_hz, pad_mode="constant")


def zero_crossing_rate(audio: Audio, *, frame_frames: int = DEFAULT_N_FFT,
                       hop_frames: int = DEFAULT_HOP_FRAMES) -> np.ndarray:
    """Return the fraction of sign changes per frame (0–1; × ``sample_rate`` / 2 ≈ Hz of a
    pure tone), shape ``(n_frames,)``."""
    x = _mono(audio, "zero_crossing_rate", n_fft=frame_frames, hop_frames=hop_frames)
    return _librosa().feature.zero_crossing_rate(
        x, frame_length=frame_frames, hop_length=hop_frames)[0]


def rms(audio: Audio, *, frame_frames: int = DEFAULT_N_FFT,
        hop_frames: int = DEFAULT_HOP_FRAMES) -> np.ndarray:
    """Return the root-mean-square amplitude per frame (linear, full scale = 1), shape
    ``(n_frames,)``; ``20 * log10`` gives dBFS."""
    x = _mono(audio, "rms", n_fft=frame_frames, hop_frames=hop_frames)
    return _librosa().feature.rms(y=x, frame_length=frame_frames, hop_length=hop_frames,
                                  pad_mode="constant")[0]


def _stats(values: np.ndarray) -> dict[str, Any]:
    """Mean and std over frames (last axis): floats for 1-D, lists for 2-D features."""
    mean, std = np.mean(values, axis=-1), np.std(values, axis=-1)
    if np.ndim(mean) == 0:
        return {"mean": float(mean), "std": float(std)}
    return {"mean": [float(v) for v in mean], "std": [float(v) for v in std]}


def _summary_bands(sample_rate: int) -> int:
    """Octave bands of :func:`spectral_summary`'s contrast: at most 6 above
    :data:`CONTRAST_FMIN_HZ`, fewer when the top one would start past Nyquist."""
    n_bands = CONTRAST_BANDS
    while n_bands > 1 and CONTRAST_FMIN_HZ * 2.0**(n_bands - 1) >= sample_rate / 2:
        n_bands -= 1
    return n_bands


def spectral_summary(audio: Audio, *, n_fft: int = DEFAULT_N_FFT,
                     hop_frames: int = DEFAULT_HOP_FRAMES, n_mfcc: int = SUMMARY_N_MFCC
                     ) -> dict[str, Any]:
    """Return the mean and standard deviation over frames of every spectral feature.

    Mono only. Keys carry units: ``spectral_centroid_hz``, ``spectral_bandwidth_hz``,
    ``spectral_rolloff_hz``, ``spectral_flatness`` (ratio), ``spectral_contrast_db``
    (per band), ``zero_crossing_rate`` (per frame, 0–1), ``rms_dbfs`` (of the frame
    RMS), ``mfcc`` and ``mfcc_delta`` (``n_mfcc`` values), ``chroma`` (12 values, C…B).
    Each is ``{"mean": ..., "std": ...}``; also ``n_fft``, ``hop_frames``, ``n_frames``
    and ``frame_rate_hz``.
    """
    _mono(audio, "spectral_summary", n_fft=n_fft, hop_frames=hop_frames)
    sr = audio.sample_rate
    n_bands = _summary_bands(sr)
    coeffs = mfcc(audio, n_mfcc=n_mfcc, n_fft=n_fft, hop_frames=hop_frames)
    with np.errstate(divide="ignore"):
        rms_db = 20.0 * np.log10(rms(audio, frame_frames=n_fft, hop_frames=hop_frames))
    rms_db = np.maximum(rms_db, -200.0)  # dBFS floor so silence has finite statistics
    width = min(9, coeffs.shape[1] - (1 - coeffs.shape[1] % 2))
    result: dict[str, Any] = {
        "n_fft": n_fft, "hop_frames": hop_frames, "n_frames": int(coeffs.shape[1]),
        "frame_rate_hz": sr / hop_frames,
        "spectral_centroid_hz": _stats(spectral_centroid(audio, n_fft=n_fft,
                                                         hop_frames=hop_frames)),
        "spectral_bandwidth_hz": _stats(spectral_bandwidth(audio, n_fft=n_fft,
                                                           hop_frames=hop_frames)),
        "spectral_rolloff_hz": _stats(spectral_rolloff(audio, n_fft=n_fft,
                                                       hop_frames=hop_frames)),
        "spectral_flatness": _stats(spectral_flatness(audio, n_fft=n_fft,
                                                      hop_frames=hop_frames)),
        "spectral_contrast_db": _stats(spectral_contrast(audio, n_fft=n_fft,
                                                         hop_frames=hop_frames,
                                                         n_bands=n_bands)),
        "zero_crossing_rate": _stats(zero_crossing_rate(audio, frame_frames=n_fft,
                                                        hop_frames=hop_frames)),
        "rms_dbfs": _stats(rms_db),
        "mfcc": _stats(coeffs),
        "mfcc_delta": _stats(delta(coeffs, width=width)) if width >= 3 else None,
        "chroma": _stats(chroma(audio, n_fft=n_fft, hop_frames=hop_frames)),
    }
    return result
