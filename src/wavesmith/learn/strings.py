"""Connected digit strings (spoken PINs, phone numbers) built from real isolated digits.

An utterance is 3-7 real FSDD digits **of one speaker**, each trimmed of its edge silence,
joined by pauses of 50-400 ms (uniform; :class:`StringConfig`), with 50-300 ms before the
first and after the last digit. The speaker and clips come from one split of a
speaker-independent manifest (:mod:`wavesmith.learn.data`), so test strings are spoken by
speakers the model never heard. Every utterance records its digits and each digit's time
span in seconds.

* Training strings (:class:`StringDataset`) are drawn afresh for every item from a seeded
  generator, with per-digit speed/pitch/gain changes, optional reverb, and real background
  noise from the *training* noise files (:class:`~wavesmith.learn.augment.NoiseBank`).
* Validation and test strings (:func:`fixed_strings`) are a fixed list: string ``i`` is drawn
  from ``default_rng([seed, i])``; :func:`add_noise` mixes held-out noise into them.

SNR here is measured against the **spoken digits only** (the power of the digit samples,
pauses excluded), so a 10 dB string is as hard per digit as a 10 dB isolated clip.

Features are :func:`~wavesmith.learn.data.log_mel_features` of the whole utterance; targets
are label indices + 1 (0 is the CTC blank).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from wavesmith.audio import Audio
from wavesmith.errors import AudioValueError
from wavesmith.learn.augment import (
    AugmentConfig,
    NoiseBank,
    SpecAugmenter,
    apply_gain,
    pitch_shift,
    reverberate,
    speed_perturb,
    synthetic_rir,
)
from wavesmith.learn.data import FeatureParams, ManifestRow, load_clip, log_mel_features

__all__ = ["DigitString", "StringComposer", "StringConfig", "StringDataset", "add_noise",
           "collate_strings", "edit_distance", "fixed_strings", "trim_edges"]

TRIM_FRAME_S = 0.01      # seconds per energy frame when trimming clip edges


@dataclass(frozen=True)
class StringConfig:
    """How utterances are composed (all times in seconds)."""

    min_digits: int = 3
    max_digits: int = 7
    gap_s_min: float = 0.05       # s of silence between digits (uniform)
    gap_s_max: float = 0.4        # s
    edge_s_min: float = 0.05      # s of silence before the first / after the last digit
    edge_s_max: float = 0.3       # s
    trim_db: float = 40.0         # dB below the clip's loudest 10 ms frame counted as silence
    trim_margin_s: float = 0.02   # s kept on each side of the trimmed digit
    train_strings: int = 3000     # utterances drawn per training epoch
    eval_strings: int = 500       # fixed utterances in the val and test sets
    digit_gain_db_max: float = 3.0  # dB, training: per-digit level change, uniform ±
    train_pool: bool = False      # True: the train_strings utterances are drawn and augmented
    #                               once (item i from seed [seed, i]) and their features kept
    #                               in memory for every epoch (SpecAugment stays fresh); for
    #                               costly front ends such as whisper_tiny

    def __post_init__(self) -> None:
        if not 1 <= self.min_digits <= self.max_digits:
            raise AudioValueError(f"strings: need 1 <= min_digits ({self.min_digits}) <= "
                                  f"max_digits ({self.max_digits})")
        if not 0 <= self.gap_s_min <= self.gap_s_max or not 0 <= self.edge_s_min <= \
                self.edge_s_max:
            raise AudioValueError("strings: pause ranges need 0 <= min <= max (seconds)")


@dataclass(frozen=True)
class DigitString:
    """One composed utterance: mono ``audio``, its ``labels`` and each label's time span.

    ``spans`` are ``(start_s, end_s)`` seconds from the start of ``audio``; ``speech_power``
    is the mean square of the digit samples (pauses excluded), the reference of SNRs.
    """

    audio: Audio
    labels: tuple[str, ...]
    spans: tuple[tuple[float, float], ...]
    speaker: str
    speech_power: float

    @property
    def text(self) -> str:
        """The labels joined, e.g. ``"4071"``."""
        return "".join(self.labels)


def trim_edges(samples: np.ndarray, sample_rate: int, *, trim_db: float = 40.0,
               margin_s: float = 0.02) -> np.ndarray:
    """Cut leading and trailing silence from a 1-D clip.

    Frames of :data:`TRIM_FRAME_S` seconds whose mean power is more than ``trim_db`` dB
    below the loudest frame are silence; the first to last non-silent frame is kept,
    widened by ``margin_s`` seconds on each side. A silent clip is returned unchanged.
    """
    hop = max(1, round(TRIM_FRAME_S * sample_rate))
    n = samples.size // hop
    if n < 1:
        return samples
    power = np.square(samples[: n * hop].reshape(n, hop), dtype=np.float64).mean(axis=1)
    if power.max() <= 0:
        return samples
    loud = np.flatnonzero(power >= power.max() * 10.0 ** (-trim_db / 10.0))
    margin = round(margin_s * sample_rate)
    first = max(0, loud[0] * hop - margin)
    last = min(samples.size, (loud[-1] + 1) * hop + margin)
    return samples[first:last]


class StringComposer:
    """Trimmed clips of a set of manifest rows, grouped by speaker and label.

    Parameters
    ----------
    rows : sequence of ManifestRow
        The clips (one split); loaded once, at ``params.sample_rate`` (other rates raise
        ``SampleRateError``).
    labels : sequence of str
        The label map; target of label ``labels[k]`` is ``k + 1``.
    params : FeatureParams
        Sample rate and front end.
    config : StringConfig
        Composition settings.

    Raises
    ------
    AudioValueError
        If a speaker lacks some label (a string could not be drawn) or ``rows`` is empty.
    """

    def __init__(self, rows: Sequence[ManifestRow], labels: Sequence[str],
                 params: FeatureParams, config: StringConfig) -> None:
        if not rows:
            raise AudioValueError("strings: no clips to compose utterances from (empty split)")
        self.labels = list(labels)
        self.params = params
        self.config = config
        self.clips: dict[str, dict[str, list[np.ndarray]]] = {}
        for r in rows:
            x = load_clip(r.path, params).samples[0]
            x = trim_edges(x, params.sample_rate, trim_db=config.trim_db,
                           margin_s=config.trim_margin_s)
            self.clips.setdefault(r.speaker, {}).setdefault(r.label, []).append(x)
        for spk, by_label in self.clips.items():
            missing = sorted(set(self.labels) - set(by_label))
            if missing:
                raise AudioValueError(f"strings: speaker {spk!r} has no clip of label(s) "
                                      f"{', '.join(missing)}")
        self.speakers = sorted(self.clips)

    def draw(self, rng: np.random.Generator
             ) -> tuple[str, list[str], list[np.ndarray], np.ndarray]:
        """Choose a speaker, labels, one clip per label and the pauses (seconds).

        Returns ``(speaker, labels, clips, pauses_s)`` with ``len(labels) + 1`` pauses (the
        first and last are the edges).
        """
        c = self.config
        spk = self.speakers[int(rng.integers(len(self.speakers)))]
        n = int(rng.integers(c.min_digits, c.max_digits + 1))
        labels = [self.labels[int(k)] for k in rng.integers(len(self.labels), size=n)]
        clips = [self.clips[spk][lab][int(rng.integers(len(self.clips[spk][lab])))]
                 for lab in labels]
        gaps = rng.uniform(c.gap_s_min, c.gap_s_max, size=n + 1)
        gaps[[0, -1]] = rng.uniform(c.edge_s_min, c.edge_s_max, size=2)
        return spk, labels, clips, gaps

    def compose(self, speaker: str, labels: Sequence[str], clips: Sequence[np.ndarray],
                pauses_s: np.ndarray) -> DigitString:
        """Join ``clips`` with zero-filled pauses (seconds) into a :class:`DigitString`."""
        sr = self.params.sample_rate
        parts, spans, t, power, frames = [], [], 0, 0.0, 0
        for k, clip in enumerate(clips):
            gap = np.zeros(round(pauses_s[k] * sr), np.float32)
            parts += [gap, clip.astype(np.float32, copy=False)]
            t += gap.size
            spans.append((round(t / sr, 4), round((t + clip.size) / sr, 4)))
            t += clip.size
            power += float(np.square(clip, dtype=np.float64).sum())
            frames += clip.size
        parts.append(np.zeros(round(pauses_s[-1] * sr), np.float32))
        audio = Audio(np.concatenate(parts)[np.newaxis], sr)
        return DigitString(audio, tuple(labels), tuple(spans), speaker, power / max(frames, 1))

    def targets(self, labels: Sequence[str]) -> np.ndarray:
        """CTC targets: label indices + 1 (0 is the blank)."""
        index = {lab: i + 1 for i, lab in enumerate(self.labels)}
        return np.array([index[lab] for lab in labels], dtype=np.int64)


def add_noise(string: DigitString, noise: Audio, snr_db: float) -> DigitString:
    """Mix ``noise`` (mono, same rate, at least as long) into ``string`` at ``snr_db`` dB.

    The SNR is ``speech_power / mean(scaled noise²)``: speech power over the digits only.

    Raises
    ------
    AudioValueError
        If the noise is silent, too short or at another rate.
    """
    a = string.audio
    if noise.sample_rate != a.sample_rate or noise.frames < a.frames:
        raise AudioValueError(f"add_noise: noise is {noise.frames} frames at "
                              f"{noise.sample_rate} Hz; need >= {a.frames} at {a.sample_rate} Hz")
    n = noise.samples[0, :a.frames].astype(np.float64)
    pn = float(np.mean(n * n))
    if pn == 0.0 or string.speech_power == 0.0:
        raise AudioValueError("add_noise: speech or noise is silent; the SNR is undefined")
    scale = math.sqrt(string.speech_power / (pn * 10.0 ** (snr_db / 10.0)))
    mixed = (a.samples[0].astype(np.float64) + scale * n).astype(np.float32)
    return replace(string, audio=Audio(mixed[np.newaxis], a.sample_rate))


def fixed_strings(composer: StringComposer, n: int, seed: int) -> list[DigitString]:
    """``n`` clean utterances; utterance ``i`` is drawn from ``default_rng([seed, i])``."""
    return [composer.compose(*composer.draw(np.random.default_rng([seed, i])))
            for i in range(n)]


def noisy_strings(strings: Sequence[DigitString], noise: NoiseBank, snr_db: float, *,
                  seed: int = 0) -> list[DigitString]:
    """The same utterances with *held-out* noise at ``snr_db`` dB (digits-only SNR);
    utterance ``i`` gets the segment drawn by ``default_rng([seed, i])``."""
    return [add_noise(s, noise.segment(s.audio.frames, np.random.default_rng([seed, i]),
                                       heldout=True), snr_db)
            for i, s in enumerate(strings)]


class StringDataset:
    """A map-style ``torch.utils.data.Dataset`` of ``(features, targets)`` utterances.

    With ``strings`` it serves that fixed list (validation, test). Without, each item is a
    new utterance drawn from the seeded :attr:`rng` (``length`` items per epoch) and
    augmented with the :class:`AugmentConfig`: per digit speed and a gain
    (``StringConfig.digit_gain_db_max``), then for the utterance pitch, reverb, training noise at
    ``snr_db_min``-``snr_db_max`` dB (digits-only SNR) and SpecAugment. Items are
    ``float32 (n_mels, n_frames)`` and ``int64 (n_digits,)``
    tensors.
    """

    def __init__(self, composer: StringComposer, *, strings: Sequence[DigitString] | None = None,
                 length: int | None = None, augment: AugmentConfig | None = None,
                 noise: NoiseBank | None = None, seed: int = 0) -> None:
        self.composer = composer
        self.strings = list(strings) if strings is not None else None
        self.length = len(self.strings) if self.strings is not None else (
            length or composer.config.train_strings)
        self.augment = augment
        self.noise = noise
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._pool: dict[int, tuple[np.ndarray, tuple[str, ...]]] = {}
        self.spec = SpecAugmenter(augment, seed + 1) if augment is not None else None
        self._features: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.length

    def _augmented(self, rng: np.random.Generator) -> DigitString:
        c, comp = self.augment, self.composer
        assert c is not None
        sr = comp.params.sample_rate
        spk, labels, clips, gaps = comp.draw(rng)
        out = []
        for x in clips:
            a = Audio(x[np.newaxis], sr)
            if rng.random() < c.speed_prob:
                a = speed_perturb(a, float(rng.uniform(c.speed_min, c.speed_max)))
            g = comp.config.digit_gain_db_max
            if g > 0:
                a = apply_gain(a, float(rng.uniform(-g, g)))
            out.append(a.samples[0])
        s = comp.compose(spk, labels, out, gaps)
        if c.pitch_prob > 0 and rng.random() < c.pitch_prob:   # one voice: one shift
            semitones = float(rng.uniform(-c.pitch_semitones_max, c.pitch_semitones_max))
            s = replace(s, audio=pitch_shift(s.audio, semitones))
        if c.reverb_prob > 0 and rng.random() < c.reverb_prob:
            rir = synthetic_rir(sr, float(rng.uniform(c.rt60_s_min, c.rt60_s_max)), rng,
                                drr_db=float(rng.uniform(c.drr_db_min, c.drr_db_max)))
            s = replace(s, audio=reverberate(s.audio, rir))
        if self.noise is not None and rng.random() < c.noise_prob:
            seg = self.noise.segment(s.audio.frames, rng)
            s = add_noise(s, seg, float(rng.uniform(c.snr_db_min, c.snr_db_max)))
        return s

    def __getitem__(self, i: int) -> tuple[object, object]:
        import torch

        params = self.composer.params
        if self.strings is not None:
            if i not in self._features:
                self._features[i] = log_mel_features(self.strings[i].audio.samples[0], params)
            feats, labels = self._features[i], self.strings[i].labels
        elif self.composer.config.train_pool:
            if i not in self._pool:
                s = self._augmented(np.random.default_rng([self.seed, i]))
                self._pool[i] = (log_mel_features(s.audio.samples[0], params
                                                  ).astype(np.float16), s.labels)
            feats, labels = self._pool[i][0].astype(np.float32), self._pool[i][1]
            if self.spec is not None:
                feats = self.spec(feats)
        else:
            s = self._augmented(self.rng)
            feats, labels = log_mel_features(s.audio.samples[0], params), s.labels
            if self.spec is not None:
                feats = self.spec(feats)
        return (torch.from_numpy(np.ascontiguousarray(feats)),
                torch.from_numpy(self.composer.targets(labels)))


def collate_strings(batch: Sequence[tuple[object, object]]) -> tuple[object, ...]:
    """Pad a batch of ``(features, targets)`` for ``torch.nn.CTCLoss``.

    Returns ``(features (N, n_mels, T_max), feature_lengths (N,), targets (sum of lengths,),
    target_lengths (N,))``. Padding is 0, the per-band mean of the normalised features.
    """
    import torch

    feats = [b[0] for b in batch]
    targets = [b[1] for b in batch]
    lengths = torch.tensor([f.shape[1] for f in feats], dtype=torch.int64)  # type: ignore[attr-defined]
    x = torch.zeros(len(feats), feats[0].shape[0], int(lengths.max()))  # type: ignore[attr-defined]
    for k, f in enumerate(feats):
        x[k, :, :f.shape[1]] = f  # type: ignore[attr-defined]
    return (x, lengths, torch.cat(targets),  # type: ignore[arg-type]
            torch.tensor([len(t) for t in targets], dtype=torch.int64))  # type: ignore[arg-type]


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance (substitutions + deletions + insertions) between two sequences."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]
