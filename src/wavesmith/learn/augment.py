"""Data augmentation: real noise at a set SNR, gain, time shift, speed, pitch, reverb,
SpecAugment.

Every random choice comes from a ``numpy.random.Generator`` the caller seeds, so a training
run is reproducible. Parameters carry their units (``snr_db``, ``gain_db``, ``shift_s``).

Real background noise comes from a folder (:class:`NoiseBank`). Its files are split once,
deterministically, into a training part and a **held-out** part used only for evaluation
(the robustness curve): a noise file never serves both.

Speed perturbation resamples with soxr (the project's resampler) and relabels the rate, so
both tempo and pitch change by ``factor``, as in Ko et al., "Audio augmentation for speech
recognition", Interspeech 2015. SpecAugment masks follow Park et al., Interspeech 2019
(time warping is not implemented).

Pitch shift (tempo kept) uses pedalboard's ``PitchShift`` (Rubber Band, already a
dependency of ``wavesmith.edit``). Reverb convolves with a room impulse response: a real one
(an ``Audio``) or a synthetic one from :func:`synthetic_rir`, exponentially decaying noise
with a seeded reverberation time RT60 (the usual statistical room model, Schroeder 1962),
so the room is set in seconds of RT60 rather than pedalboard Reverb's unitless "room size".
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wavesmith import io
from wavesmith.audio import Audio, check_audio
from wavesmith.errors import AudioFileError, AudioValueError

__all__ = [
    "AugmentConfig",
    "NoiseBank",
    "SpecAugmenter",
    "WaveAugmenter",
    "apply_gain",
    "measure_snr_db",
    "mix_at_snr",
    "offset",
    "pitch_shift",
    "reverberate",
    "spec_augment",
    "speed_perturb",
    "synthetic_rir",
    "time_shift",
]

NOISE_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
MAX_NOISE_FILE_S = 60.0   # seconds read from each noise file (keeps memory and load time low)
DECAY_60_DB = 3.0 * math.log(10.0)   # ln(1000): amplitude factor of a 60 dB decay
MAX_PITCH_SEMITONES = 12.0           # semitones; larger shifts are refused


def measure_snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """Return ``10 log10(mean(signal²) / mean(noise²))`` in dB (arrays of equal shape)."""
    ps = float(np.mean(np.square(signal, dtype=np.float64)))
    pn = float(np.mean(np.square(noise, dtype=np.float64)))
    return 10.0 * math.log10(ps / pn)


def mix_at_snr(speech: Audio, noise: Audio, snr_db: float) -> Audio:
    """Add ``noise`` to ``speech``, scaled so that the mix has SNR ``snr_db`` in dB.

    The SNR is the ratio of the mean power of ``speech`` to the mean power of the scaled
    noise over the same frames. ``noise`` must have the same rate and channels and at least
    as many frames as ``speech`` (only the first ``speech.frames`` are used).

    Raises
    ------
    AudioValueError
        If either signal is silent, the noise is too short, or the rates/channels differ.
    """
    check_audio(speech, name="speech")
    check_audio(noise, name="noise")
    if noise.sample_rate != speech.sample_rate or noise.channels != speech.channels:
        raise AudioValueError(f"mix_at_snr: noise is {noise.channels} ch {noise.sample_rate} Hz, "
                              f"speech {speech.channels} ch {speech.sample_rate} Hz")
    if noise.frames < speech.frames:
        raise AudioValueError(f"mix_at_snr: noise has {noise.frames} frames, speech "
                              f"{speech.frames}; pass a noise segment at least as long")
    s = speech.samples.astype(np.float64)
    n = noise.samples[:, :speech.frames].astype(np.float64)
    ps, pn = float(np.mean(s * s)), float(np.mean(n * n))
    if ps == 0.0 or pn == 0.0:
        raise AudioValueError("mix_at_snr: speech or noise is silent; the SNR is undefined")
    scale = math.sqrt(ps / (pn * 10.0 ** (snr_db / 10.0)))
    return Audio((s + scale * n).astype(np.float32), speech.sample_rate)


def apply_gain(audio: Audio, gain_db: float) -> Audio:
    """Scale ``audio`` by ``gain_db`` decibels (amplitude factor ``10 ** (gain_db / 20)``)."""
    check_audio(audio)
    return Audio(audio.samples * np.float32(10.0 ** (gain_db / 20.0)), audio.sample_rate)


def time_shift(audio: Audio, shift_s: float) -> Audio:
    """Delay (``shift_s`` > 0) or advance (< 0) ``audio`` by seconds, zero-filling; the
    length is unchanged and samples shifted past either end are dropped."""
    check_audio(audio)
    k = round(shift_s * audio.sample_rate)
    out = np.zeros_like(audio.samples)
    if abs(k) < audio.frames:
        if k >= 0:
            out[:, k:] = audio.samples[:, :audio.frames - k]
        else:
            out[:, :k] = audio.samples[:, -k:]
    return Audio(out, audio.sample_rate)


def offset(audio: Audio, shift_s: float) -> Audio:
    """Pad ``|shift_s|`` seconds of zeros before (``shift_s`` > 0) or after (< 0) ``audio``.

    Unlike :func:`time_shift` nothing is dropped: once the clip is centred in a fixed
    window (:func:`wavesmith.learn.data.fixed_window`) the word moves by ``shift_s / 2``
    seconds and stays whole.
    """
    check_audio(audio)
    k = round(abs(shift_s) * audio.sample_rate)
    pad = ((0, 0), (k, 0)) if shift_s > 0 else ((0, 0), (0, k))
    return Audio(np.pad(audio.samples, pad), audio.sample_rate)


def speed_perturb(audio: Audio, factor: float) -> Audio:
    """Play ``audio`` ``factor`` times faster (tempo and pitch), same sample rate.

    The output has ``round(frames / factor)`` frames: the samples are resampled from
    ``sample_rate`` to ``sample_rate / factor`` Hz with soxr and relabelled.
    """
    check_audio(audio)
    if not 0.5 <= factor <= 2.0:
        raise AudioValueError(f"speed_perturb: factor={factor} must be within 0.5-2.0")
    import soxr  # the project's resampler (see Audio.resample)

    y = soxr.resample(audio.samples.T, audio.sample_rate, audio.sample_rate / factor,
                      quality="HQ")
    y = np.asarray(y, dtype=np.float32).reshape(-1, audio.channels).T
    return Audio(np.ascontiguousarray(y), audio.sample_rate)


def pitch_shift(audio: Audio, semitones: float) -> Audio:
    """Shift the pitch of ``audio`` by ``semitones`` (tempo and length unchanged).

    Uses pedalboard's ``PitchShift`` (Rubber Band); deterministic, no random choices.

    Raises
    ------
    AudioValueError
        If ``|semitones|`` > 12.
    """
    check_audio(audio)
    if not abs(semitones) <= MAX_PITCH_SEMITONES:
        raise AudioValueError(f"pitch_shift: semitones={semitones} must be within "
                              f"±{MAX_PITCH_SEMITONES:g}")
    import pedalboard  # Rubber Band pitch shifting; already used by wavesmith.edit

    y = pedalboard.PitchShift(semitones=float(semitones))(audio.samples, audio.sample_rate)
    return Audio(np.ascontiguousarray(y[:, :audio.frames], dtype=np.float32), audio.sample_rate)


def synthetic_rir(sample_rate: int, rt60_s: float, rng: np.random.Generator, *,
                  drr_db: float = 5.0, predelay_s: float = 0.005) -> Audio:
    """Return a mono synthetic room impulse response with reverberation time ``rt60_s``.

    A unit direct-path impulse at frame 0, then (after ``predelay_s`` seconds) Gaussian noise
    drawn from ``rng`` with an exponential envelope ``exp(-ln(1000) t / rt60_s)`` (its
    energy falls 60 dB in ``rt60_s`` seconds), scaled so that the direct-to-reverberant
    energy ratio is ``drr_db`` dB. The response is ``1.5 * rt60_s`` seconds long.

    Raises
    ------
    AudioValueError
        If ``rt60_s`` is not within 0.05-5 s or ``predelay_s`` < 0.
    """
    if not 0.05 <= rt60_s <= 5.0:
        raise AudioValueError(f"synthetic_rir: rt60_s={rt60_s} must be within 0.05-5 s")
    if predelay_s < 0:
        raise AudioValueError(f"synthetic_rir: predelay_s={predelay_s} must be >= 0")
    n = max(2, round(1.5 * rt60_s * sample_rate))
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal(n) * np.exp(-DECAY_60_DB * t / rt60_s)
    tail[: max(1, round(predelay_s * sample_rate))] = 0.0
    tail *= math.sqrt(1.0 / (np.sum(tail * tail) * 10.0 ** (drr_db / 10.0)))
    tail[0] = 1.0
    return Audio(tail.astype(np.float32)[np.newaxis], sample_rate)


def reverberate(audio: Audio, rir: Audio) -> Audio:
    """Convolve ``audio`` with a room impulse response (each channel with the mono ``rir``).

    The output keeps ``audio``'s length (the tail past the end is cut) and is rescaled to
    the input's peak, so reverb changes the sound, not the level.

    Raises
    ------
    AudioValueError
        If the rates differ or ``rir`` is not mono.
    """
    check_audio(audio)
    check_audio(rir, name="rir")
    if rir.sample_rate != audio.sample_rate or rir.channels != 1:
        raise AudioValueError(f"reverberate: rir is {rir.channels} ch {rir.sample_rate} Hz; "
                              f"needs 1 ch at {audio.sample_rate} Hz")
    from scipy.signal import fftconvolve  # FFT convolution: O(n log n) for 0.5-s responses

    y = fftconvolve(audio.samples, rir.samples, axes=1)[:, :audio.frames]
    peak_in, peak_out = float(np.max(np.abs(audio.samples))), float(np.max(np.abs(y)))
    if peak_out > 0:
        y *= peak_in / peak_out
    return Audio(np.ascontiguousarray(y, dtype=np.float32), audio.sample_rate)


def spec_augment(features: np.ndarray, rng: np.random.Generator, *, time_masks: int = 2,
                 max_time_mask_frames: int = 10, freq_masks: int = 2,
                 max_freq_mask_bands: int = 6, fill: float | None = None) -> np.ndarray:
    """Return a copy of ``features`` ``(n_bands, n_frames)`` with random masks.

    Each of ``time_masks`` masks sets up to ``max_time_mask_frames`` consecutive frames (all
    bands) to ``fill``; each of ``freq_masks`` masks sets up to ``max_freq_mask_bands``
    consecutive bands (all frames). ``fill`` defaults to the mean of ``features``.
    """
    x = np.array(features, dtype=np.float32, copy=True)
    bands, frames = x.shape
    value = float(x.mean()) if fill is None else fill
    for _ in range(time_masks):
        w = int(rng.integers(0, max_time_mask_frames + 1))
        t0 = int(rng.integers(0, max(frames - w, 0) + 1))
        x[:, t0:t0 + w] = value
    for _ in range(freq_masks):
        w = int(rng.integers(0, max_freq_mask_bands + 1))
        f0 = int(rng.integers(0, max(bands - w, 0) + 1))
        x[f0:f0 + w, :] = value
    return x


class NoiseBank:
    """Real background noise, split deterministically into training and held-out files.

    Files are ordered by the SHA-256 of their names; the first
    ``ceil(heldout_fraction * n)`` are held out for evaluation, the rest train. The split
    therefore depends only on the file names, not on the listing order or a seed.

    Parameters
    ----------
    folder : path-like
        Folder of noise recordings (wav, flac, ogg, mp3); any rate and channel count.
    sample_rate : int
        Hz. Noise is resampled to it (soxr HQ) and downmixed on load: noise is an input to
        the augmenter, not user audio, so this conversion is part of the contract.
    heldout_fraction : float, default 0.25
        Fraction of files kept for evaluation only.
    """

    def __init__(self, folder: str | os.PathLike[str], sample_rate: int, *,
                 heldout_fraction: float = 0.25) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise AudioFileError(f"{self.folder}: noise folder not found")
        files = [p for p in self.folder.iterdir() if p.suffix.lower() in NOISE_SUFFIXES]
        if len(files) < 2:
            raise AudioValueError(f"{self.folder}: needs at least 2 noise files (one to train, "
                                  f"one held out), found {len(files)}")
        files.sort(key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
        n_held = min(max(1, math.ceil(heldout_fraction * len(files))), len(files) - 1)
        self.heldout_files = sorted(files[:n_held])
        self.train_files = sorted(files[n_held:])
        self.sample_rate = sample_rate
        self._cache: dict[Path, Audio] = {}

    def _load(self, path: Path) -> Audio:
        if path not in self._cache:
            a = io.load(path, sample_rate=self.sample_rate, mono=True, duration=MAX_NOISE_FILE_S)
            self._cache[path] = a
        return self._cache[path]

    def segment(self, frames: int, rng: np.random.Generator, *, heldout: bool = False) -> Audio:
        """Return a random ``frames``-long mono noise segment from the training files, or from
        the held-out files when ``heldout``; silent stretches are redrawn (up to 10 times)."""
        files = self.heldout_files if heldout else self.train_files
        for _ in range(10):
            a = self._load(files[int(rng.integers(len(files)))])
            x = a.samples[0]
            if x.size < frames:
                x = np.tile(x, frames // x.size + 1)
            start = int(rng.integers(0, x.size - frames + 1))
            seg = x[start:start + frames]
            if np.any(seg):
                return Audio(np.ascontiguousarray(seg[np.newaxis]), self.sample_rate)
        raise AudioValueError(f"{self.folder}: noise files are silent")


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of the training augmentations (0 probability disables)."""

    noise_prob: float = 0.6
    snr_db_min: float = 0.0       # dB
    snr_db_max: float = 25.0      # dB
    gain_prob: float = 0.5
    gain_db_max: float = 6.0      # dB, uniform in ±gain_db_max
    shift_prob: float = 0.5
    shift_s_max: float = 0.2      # seconds of zero padding (word moves by half), ±uniform
    speed_prob: float = 0.3
    speed_min: float = 0.9        # factor
    speed_max: float = 1.1        # factor
    spec_prob: float = 0.5
    time_masks: int = 2
    max_time_mask_frames: int = 8
    freq_masks: int = 2
    max_freq_mask_bands: int = 5
    noise_heldout_fraction: float = 0.25
    pitch_prob: float = 0.0
    pitch_semitones_max: float = 2.0   # semitones, uniform in ±pitch_semitones_max
    reverb_prob: float = 0.0
    rt60_s_min: float = 0.15      # s, reverberation time of the synthetic room
    rt60_s_max: float = 0.6       # s
    drr_db_min: float = 0.0       # dB, direct-to-reverberant ratio
    drr_db_max: float = 10.0      # dB


class WaveAugmenter:
    """Seeded chain speed → pitch → offset → reverb → gain → noise on waveforms (training
    noise files only). Pitch and reverb are off by default (probability 0), so runs of
    earlier configs draw the same random numbers as before.

    Calling it returns the augmented ``Audio``, or ``None`` when no augmentation fired.
    """

    def __init__(self, config: AugmentConfig, noise: NoiseBank | None, seed: int) -> None:
        self.config = config
        self.noise = noise
        self.rng = np.random.default_rng(seed)

    def __call__(self, audio: Audio) -> Audio | None:
        c, rng, out, changed = self.config, self.rng, audio, False
        if rng.random() < c.speed_prob:
            out, changed = speed_perturb(out, float(rng.uniform(c.speed_min, c.speed_max))), True
        if c.pitch_prob > 0 and rng.random() < c.pitch_prob:
            semitones = float(rng.uniform(-c.pitch_semitones_max, c.pitch_semitones_max))
            out, changed = pitch_shift(out, semitones), True
        if rng.random() < c.shift_prob:
            out, changed = offset(out, float(rng.uniform(-c.shift_s_max, c.shift_s_max))), True
        if c.reverb_prob > 0 and rng.random() < c.reverb_prob and np.any(out.samples):
            out, changed = reverberate(out, self.room(out.sample_rate)), True
        if rng.random() < c.gain_prob:
            out, changed = apply_gain(out, float(rng.uniform(-c.gain_db_max, c.gain_db_max))), True
        if self.noise is not None and rng.random() < c.noise_prob and np.any(out.samples):
            seg = self.noise.segment(out.frames, rng)
            out = mix_at_snr(out, seg, float(rng.uniform(c.snr_db_min, c.snr_db_max)))
            changed = True
        return out if changed else None

    def room(self, sample_rate: int) -> Audio:
        """A synthetic impulse response with RT60 and DRR drawn from the config's ranges."""
        c = self.config
        return synthetic_rir(sample_rate, float(self.rng.uniform(c.rt60_s_min, c.rt60_s_max)),
                             self.rng, drr_db=float(self.rng.uniform(c.drr_db_min, c.drr_db_max)))


class SpecAugmenter:
    """Seeded SpecAugment with the masks of an :class:`AugmentConfig`, applied with
    probability ``spec_prob``."""

    def __init__(self, config: AugmentConfig, seed: int) -> None:
        self.config = config
        self.rng = np.random.default_rng(seed)

    def __call__(self, features: np.ndarray) -> np.ndarray:
        c = self.config
        if self.rng.random() >= c.spec_prob:
            return features
        return spec_augment(features, self.rng, time_masks=c.time_masks,
                            max_time_mask_frames=c.max_time_mask_frames,
                            freq_masks=c.freq_masks, max_freq_mask_bands=c.max_freq_mask_bands)
