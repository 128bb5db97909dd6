"""Manifests, speaker-independent splits, cached log-mel features and a PyTorch dataset.

A *manifest* is a CSV with one row per clip: ``path,label,speaker,split`` (paths relative to
the manifest's folder, or absolute). :func:`prepare_manifest` writes one from a folder:

* the Free Spoken Digit Dataset layout (``DIGIT_SPEAKER_INDEX.wav``), detected by name;
* or one sub-folder per label (``LABEL/SPEAKER_anything.wav``; the speaker is the part of the
  file name before the first ``_``).

Splits are **speaker-independent**: every speaker is in exactly one of train, val and test.
:func:`loso_folds` gives the leave-one-speaker-out folds (test = one speaker, val = the next).

Features are log-mel spectrograms from :func:`wavesmith.analysis.log_mel` on a fixed window
(:class:`FeatureParams`, stored in every checkpoint). :class:`FeatureCache` keeps them on disk
keyed by the SHA-256 of the file's bytes plus the parameters, so editing a file or changing a
parameter can never return a stale feature.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from wavesmith import io
from wavesmith.analysis.spectral import log_mel
from wavesmith.audio import Audio
from wavesmith.errors import AudioFileError, AudioValueError, SampleRateError

__all__ = [
    "DEFAULT_CACHE_DIR",
    "SPLITS",
    "FeatureCache",
    "FeatureDataset",
    "FeatureParams",
    "Manifest",
    "ManifestRow",
    "features_from_audio",
    "fixed_window",
    "log_mel_features",
    "loso_folds",
    "prepare_manifest",
    "read_manifest",
    "write_manifest",
]

SPLITS = ("train", "val", "test")
DEFAULT_CACHE_DIR = Path(os.environ.get("WAVESMITH_CACHE", Path.home() / ".cache" / "wavesmith")
                         ) / "features"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
FSDD_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)$")   # digit_speaker_index
FRONTENDS = ("logmel", "whisper_tiny")
FEATURE_SCALE_DB = 40.0     # dB; log-mel (0 … -80 dB re. clip max) maps to [-1, 1]


@dataclass(frozen=True)
class FeatureParams:
    """Log-mel front end; stored in checkpoints so inference computes the same features.

    Defaults suit 8 kHz speech: 32 ms windows, 10 ms hop, 40 mel bands, a 1 s window.
    """

    sample_rate: int = 8_000      # Hz; inputs at any other rate raise SampleRateError
    n_fft: int = 256              # frames per FFT window (32 ms at 8 kHz)
    hop_frames: int = 80          # frames between analysis frames (10 ms at 8 kHz)
    n_mels: int = 40              # mel bands
    clip_s: float = 1.0           # seconds; clips are padded or cropped to this length
    top_db: float = 80.0          # dB floor below each clip's maximum
    cmn: bool = True              # subtract each band's mean over the clip (speaker/channel)
    frontend: str = "logmel"      # "logmel", or "whisper_tiny": frozen Whisper tiny.en encoder
    #                               frames (384 channels, 20 ms) of the clip resampled to
    #                               16 kHz (wavesmith.models.whisper_encoder); n_fft,
    #                               hop_frames, n_mels, top_db and cmn are then unused

    def __post_init__(self) -> None:
        if self.frontend not in FRONTENDS:
            raise AudioValueError(f"features: frontend={self.frontend!r} is not one of "
                                  f"{', '.join(FRONTENDS)}")

    @property
    def clip_frames(self) -> int:
        """Samples per fixed-length clip."""
        return round(self.clip_s * self.sample_rate)

    @property
    def n_features(self) -> int:
        """Channels of a feature frame: ``n_mels``, or 384 for ``whisper_tiny``."""
        if self.frontend == "whisper_tiny":
            from wavesmith.models.whisper_encoder import ENCODER_DIM

            return ENCODER_DIM
        return self.n_mels

    @property
    def frame_s(self) -> float:
        """Seconds between feature frames (the hop; 20 ms for ``whisper_tiny``)."""
        if self.frontend == "whisper_tiny":
            from wavesmith.models.whisper_encoder import ENCODER_FRAME_S

            return ENCODER_FRAME_S
        return self.hop_frames / self.sample_rate

    def frames_for(self, n_samples: int) -> int:
        """Feature frames of ``n_samples`` at :attr:`sample_rate` (any length)."""
        if self.frontend == "whisper_tiny":
            from wavesmith.models.whisper_encoder import ENCODER_SAMPLE_RATE, mel_frames

            return mel_frames(round(n_samples * ENCODER_SAMPLE_RATE / self.sample_rate)) // 2
        return 1 + n_samples // self.hop_frames

    @property
    def n_frames(self) -> int:
        """Feature frames per clip (log-mel, centred STFT: ``1 + clip_frames // hop_frames``)."""
        return self.frames_for(self.clip_frames)

    def key(self) -> str:
        """Stable text of the parameters, for cache keys."""
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class ManifestRow:
    """One clip: absolute ``path``, class ``label``, ``speaker`` id and ``split``."""

    path: Path
    label: str
    speaker: str
    split: str


@dataclass(frozen=True)
class Manifest:
    """Rows of a manifest plus the sorted label list (index = class id)."""

    rows: tuple[ManifestRow, ...]
    labels: tuple[str, ...]
    source: Path | None = None

    def split(self, name: str) -> list[ManifestRow]:
        """Rows of one split (``train``, ``val`` or ``test``)."""
        return [r for r in self.rows if r.split == name]

    def speakers(self, split: str | None = None) -> list[str]:
        """Sorted speakers, of one split or of all."""
        return sorted({r.speaker for r in self.rows if split is None or r.split == split})


# -- building manifests -------------------------------------------------------------------
def _scan(folder: Path) -> list[tuple[Path, str, str]]:
    """(path, label, speaker) for every clip under ``folder`` (FSDD names or label folders)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    items: list[tuple[Path, str, str]] = []
    for p in files:
        m = FSDD_NAME.match(p.stem)
        if m:
            items.append((p, m.group(1), m.group(2)))
        elif p.parent != folder:
            items.append((p, p.parent.name, p.stem.split("_")[0]))
        else:
            raise AudioValueError(
                f"{p}: cannot tell label and speaker; name files DIGIT_SPEAKER_INDEX.wav "
                "or put them in one folder per label (LABEL/SPEAKER_x.wav)")
    return items


def _assign_splits(speakers: Sequence[str], test_speakers: Sequence[str],
                   val_speakers: Sequence[str]) -> dict[str, str]:
    known = set(speakers)
    for s in (*test_speakers, *val_speakers):
        if s not in known:
            raise AudioValueError(f"speaker {s!r} is not in the data (speakers: "
                                  f"{', '.join(sorted(known))})")
    if set(test_speakers) & set(val_speakers):
        raise AudioValueError("a speaker cannot be in both the test and the val split")
    split = {s: "train" for s in speakers}
    split.update({s: "test" for s in test_speakers})
    split.update({s: "val" for s in val_speakers})
    return split


def prepare_manifest(source: str | os.PathLike[str], out: str | os.PathLike[str], *,
                     test_speakers: Sequence[str] | None = None,
                     val_speakers: Sequence[str] | None = None) -> Manifest:
    """Scan ``source`` and write a speaker-independent manifest CSV to ``out``.

    Parameters
    ----------
    source : path-like
        A folder of clips in the FSDD layout or one sub-folder per label.
    out : path-like
        CSV to write (``path,label,speaker,split``; paths relative to ``out``'s folder).
    test_speakers, val_speakers : sequence of str, optional
        Speakers held out for test and validation. By default, of the sorted speakers the
        last one is the test speaker and the one before it the val speaker.

    Returns
    -------
    Manifest
        The rows written, validated as :func:`read_manifest` would.

    Raises
    ------
    AudioFileError
        If ``source`` is not a folder.
    AudioValueError
        If fewer than 3 speakers or 2 labels are found, or a named speaker is unknown.
    """
    folder = Path(source)
    if not folder.is_dir():
        raise AudioFileError(f"{folder}: not a folder of audio clips")
    items = _scan(folder)
    speakers = sorted({s for _, _, s in items})
    if len(speakers) < 3:
        raise AudioValueError(f"{folder}: found {len(speakers)} speaker(s); speaker-"
                              "independent train/val/test splits need at least 3")
    test = list(test_speakers) if test_speakers else [speakers[-1]]
    rest = [s for s in speakers if s not in test]
    val = list(val_speakers) if val_speakers else [rest[-1]]
    split = _assign_splits(speakers, test, val)
    rows = tuple(ManifestRow(p.resolve(), lab, spk, split[spk]) for p, lab, spk in items)
    manifest = Manifest(rows, tuple(sorted({r.label for r in rows}, key=_label_order)))
    validate_manifest(manifest, name=str(out))
    write_manifest(manifest, out)
    return replace(manifest, source=Path(out))


def write_manifest(manifest: Manifest, out: str | os.PathLike[str]) -> None:
    """Write ``manifest`` as CSV; paths are stored relative to the CSV's folder if possible."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    base = out.resolve().parent
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "speaker", "split"])
        for r in manifest.rows:
            w.writerow([os.path.relpath(r.path, base), r.label, r.speaker, r.split])
    tmp.replace(out)  # no partial manifest on failure


def loso_folds(manifest: Manifest) -> list[Manifest]:
    """Return one manifest per speaker: test = that speaker, val = the next, train = the rest.

    Speakers are taken in sorted order; fold ``k`` tests speaker ``k`` and validates on
    speaker ``(k + 1) % n``.
    """
    speakers = manifest.speakers()
    if len(speakers) < 3:
        raise AudioValueError(f"leave-one-speaker-out needs >= 3 speakers, got {len(speakers)}")
    folds = []
    for k, spk in enumerate(speakers):
        split = _assign_splits(speakers, [spk], [speakers[(k + 1) % len(speakers)]])
        rows = tuple(replace(r, split=split[r.speaker]) for r in manifest.rows)
        folds.append(replace(manifest, rows=rows))
    return folds


# -- reading and checking -----------------------------------------------------------------
def _label_order(label: str) -> tuple[int, str]:
    """Numeric labels sort as numbers (``"10"`` after ``"9"``), others alphabetically."""
    return (int(label), "") if label.isdigit() else (1 << 30, label)


def read_manifest(path: str | os.PathLike[str], *,
                  labels: Sequence[str] | None = None,
                  required_splits: Sequence[str] = ("train", "val")) -> Manifest:
    """Read and validate a manifest CSV.

    Parameters
    ----------
    path : path-like
        CSV with at least the columns ``path,label,speaker,split``.
    labels : sequence of str, optional
        The label map of a trained model; any other label is an error.
    required_splits : sequence of str, default ("train", "val")
        Splits that must hold at least one row.

    Raises
    ------
    AudioFileError
        If the CSV or any clip it lists is missing.
    AudioValueError
        If a column is missing, a split name is unknown, a label is not in ``labels``,
        there is a single class, a required split is empty, or a speaker is in two splits.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: manifest not found")
    base = path.resolve().parent
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            cols = set(reader.fieldnames or [])
            missing = {"path", "label", "speaker", "split"} - cols
            if missing:
                raise AudioValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                                      "a manifest needs path,label,speaker,split")
            raw = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AudioValueError(f"{path}: not a readable CSV manifest ({exc})") from exc
    rows = []
    for i, r in enumerate(raw, start=2):
        if r["split"] not in SPLITS:
            raise AudioValueError(f"{path}: line {i}: split {r['split']!r} is not one of "
                                  f"{', '.join(SPLITS)}")
        rows.append(ManifestRow((base / r["path"]).resolve(), r["label"], r["speaker"],
                                r["split"]))
    found = tuple(sorted({r.label for r in rows}, key=_label_order))
    manifest = Manifest(tuple(rows), tuple(labels) if labels is not None else found, path)
    validate_manifest(manifest, name=str(path), required_splits=required_splits)
    return manifest


def validate_manifest(manifest: Manifest, *, name: str,
                      required_splits: Sequence[str] = ("train", "val")) -> None:
    """Raise a one-line error for the first problem in ``manifest`` (see :func:`read_manifest`)."""
    if not manifest.rows:
        raise AudioValueError(f"{name}: manifest has no rows")
    missing = [r.path for r in manifest.rows if not r.path.is_file()]
    if missing:
        raise AudioFileError(f"{name}: {len(missing)} listed file(s) missing, first "
                             f"{missing[0]}")
    known = set(manifest.labels)
    unknown = sorted({r.label for r in manifest.rows} - known)
    if unknown:
        raise AudioValueError(f"{name}: unknown label(s) {', '.join(map(repr, unknown))}; "
                              f"the model knows {', '.join(manifest.labels)}")
    present = {r.label for r in manifest.rows}
    if len(present) < 2:
        raise AudioValueError(f"{name}: a single class ({', '.join(present)}); "
                              "a classifier needs at least 2 labels")
    counts = Counter(r.split for r in manifest.rows)
    for s in required_splits:
        if counts[s] == 0:
            raise AudioValueError(f"{name}: the {s!r} split is empty")
    where: dict[str, set[str]] = {}
    for r in manifest.rows:
        where.setdefault(r.speaker, set()).add(r.split)
    shared = sorted(s for s, sp in where.items() if len(sp) > 1)
    if shared:
        raise AudioValueError(f"{name}: speaker {shared[0]!r} is in splits "
                              f"{', '.join(sorted(where[shared[0]]))}; splits must be "
                              "speaker-independent")


# -- features -------------------------------------------------------------------------------
def fixed_window(samples: np.ndarray, clip_frames: int) -> np.ndarray:
    """Pad (centred, zeros) or crop a 1-D clip to ``clip_frames`` samples.

    Long clips are cropped around their energy centroid so the word stays in the window.
    """
    n = samples.shape[-1]
    if n >= clip_frames:
        energy = samples.astype(np.float64) ** 2
        total = energy.sum()
        centre = int(np.dot(np.arange(n), energy) / total) if total > 0 else n // 2
        start = min(max(centre - clip_frames // 2, 0), n - clip_frames)
        return np.ascontiguousarray(samples[start:start + clip_frames], dtype=np.float32)
    out = np.zeros(clip_frames, dtype=np.float32)
    start = (clip_frames - n) // 2
    out[start:start + n] = samples
    return out


def features_from_audio(audio: Audio, params: FeatureParams) -> np.ndarray:
    """Return the scaled log-mel features of a mono clip, shape ``(n_mels, n_frames)``.

    The clip is padded/cropped to ``params.clip_s`` seconds (:func:`fixed_window`), turned
    into a log-mel spectrogram in dB re. its maximum (floor ``-top_db``), and scaled by
    ``db / 40 + 1`` (about [-1, 1]). With ``params.cmn`` each band's mean over the clip is
    then subtracted (cepstral-mean-style normalisation, which removes the spectral tilt of
    the speaker and the channel).

    Raises
    ------
    SampleRateError
        If ``audio`` is not at ``params.sample_rate`` (resample explicitly first).
    AudioValueError
        If ``audio`` is not mono.
    """
    if audio.sample_rate != params.sample_rate:
        raise SampleRateError(f"features expect {params.sample_rate} Hz, got "
                              f"{audio.sample_rate} Hz; call audio.resample("
                              f"{params.sample_rate}) first")
    if audio.channels != 1:
        raise AudioValueError(f"features need mono audio, got {audio.channels} channels; "
                              "call audio.to_mono() first")
    x = fixed_window(audio.samples[0], params.clip_frames)
    return log_mel_features(x, params)


def log_mel_features(samples: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Return the features of mono samples of any length, ``(n_features, n_frames)``.

    The front end of :func:`features_from_audio` without the fixed window (``params.clip_s``
    is ignored): scaled log-mel, ``n_frames = 1 + len(samples) // hop_frames``, or with
    ``params.frontend == "whisper_tiny"`` Whisper encoder frames (:func:`whisper_features`).
    Connected digit strings (:mod:`wavesmith.learn.strings`) use it on whole utterances.
    ``samples`` is a 1-D float32 array at ``params.sample_rate`` Hz (the caller checks the
    rate).
    """
    x = np.ascontiguousarray(samples, dtype=np.float32)
    if params.frontend == "whisper_tiny":
        return whisper_features(x, params)
    if not np.any(x):  # silence: log-mel re. max is undefined; use the floor
        floor = 0.0 if params.cmn else 1.0 - params.top_db / FEATURE_SCALE_DB
        return np.full((params.n_mels, 1 + x.size // params.hop_frames), floor,
                       dtype=np.float32)
    db = log_mel(Audio(x[np.newaxis], params.sample_rate), n_fft=params.n_fft,
                 hop_frames=params.hop_frames, n_mels=params.n_mels, top_db=params.top_db)[0]
    feats = db / FEATURE_SCALE_DB + 1.0
    if params.cmn:
        feats = feats - feats.mean(axis=1, keepdims=True)
    return feats.astype(np.float32)


def whisper_features(samples: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Frozen Whisper tiny.en encoder frames ``(384, n_frames)`` of mono samples at
    ``params.sample_rate`` (resampled to the encoder's 16 kHz with soxr, a property of the
    model, not a guess about the input)."""
    import soxr

    from wavesmith.models.whisper_encoder import ENCODER_SAMPLE_RATE, encode

    x = samples
    if params.sample_rate != ENCODER_SAMPLE_RATE:
        x = soxr.resample(x, params.sample_rate, ENCODER_SAMPLE_RATE, quality="HQ")
    feats = encode(x, threads=_torch_threads())
    return feats[:, :params.frames_for(samples.size)]


def _torch_threads() -> int:
    """The intra-op thread count the trainer set for torch (1 when torch is not loaded)."""
    import sys

    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else 1


def load_clip(path: Path, params: FeatureParams) -> Audio:
    """Load ``path`` as mono at ``params.sample_rate``; other rates raise SampleRateError."""
    audio = io.load(path, mono=True)
    if audio.sample_rate != params.sample_rate:
        raise SampleRateError(f"{path}: {audio.sample_rate} Hz, but the features use "
                              f"{params.sample_rate} Hz; resample the data set first")
    return audio


class FeatureCache:
    """On-disk cache of clean features: ``<dir>/<sha256(file bytes + params)>.npy``.

    Parameters
    ----------
    params : FeatureParams
        Front end; part of every key.
    cache_dir : path-like, optional
        Folder for the ``.npy`` files; default ``~/.cache/wavesmith/features``.
        ``None`` and ``enabled=False`` computes features without storing them.
    """

    def __init__(self, params: FeatureParams, cache_dir: str | os.PathLike[str] | None = None,
                 *, enabled: bool = True) -> None:
        self.params = params
        self.dir = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def key(self, path: Path) -> str:
        """SHA-256 hex of the file's bytes followed by the feature parameters."""
        h = hashlib.sha256()
        try:
            h.update(path.read_bytes())
        except OSError as exc:
            raise AudioFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        h.update(self.params.key().encode())
        return h.hexdigest()

    def get(self, path: Path) -> np.ndarray:
        """Features of ``path``, shape ``(n_mels, n_frames)``, from the cache when present."""
        if not self.enabled:
            return features_from_audio(load_clip(path, self.params), self.params)
        file = self.dir / f"{self.key(path)}.npy"
        if file.is_file():
            try:
                feats = np.load(file, allow_pickle=False)
                if feats.shape == (self.params.n_features, self.params.n_frames):
                    self.hits += 1
                    return feats
            except (OSError, ValueError):
                pass  # a damaged cache entry is recomputed and rewritten below
        self.misses += 1
        feats = features_from_audio(load_clip(path, self.params), self.params)
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f"{file.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, feats, allow_pickle=False)
        tmp.replace(file)
        return feats

    def many(self, paths: Sequence[Path],
             progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Features of many files stacked: shape ``(len(paths), n_mels, n_frames)``."""
        out = np.empty((len(paths), self.params.n_features, self.params.n_frames), np.float32)
        for i, p in enumerate(paths):
            out[i] = self.get(p)
            if progress is not None:
                progress(i + 1, len(paths))
        return out


class FeatureDataset:
    """A map-style ``torch.utils.data.Dataset`` of ``(features, label_index)`` pairs.

    Clean features come from the cache; with ``augment`` (a seeded callable ``Audio ->
    Audio | None``, e.g. :class:`~wavesmith.learn.augment.WaveAugmenter`) the waveform is
    augmented and features recomputed for the clips it changes (``None``: unchanged).
    ``spec_augment`` (``features -> features``) runs last. Items are
    float32 tensors of shape ``(n_mels, n_frames)`` and int64 labels.
    """

    def __init__(self, rows: Sequence[ManifestRow], labels: Sequence[str], cache: FeatureCache,
                 *, augment: Callable[[Audio], Audio | None] | None = None,
                 spec_augment: Callable[[np.ndarray], np.ndarray] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> None:
        index = {lab: i for i, lab in enumerate(labels)}
        self.rows = list(rows)
        self.targets = np.array([index[r.label] for r in self.rows], dtype=np.int64)
        self.cache = cache
        self.features = cache.many([r.path for r in self.rows], progress)
        self.augment = augment
        self.spec_augment = spec_augment
        self._audio: dict[int, Audio] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[object, object]:
        import torch

        feats = self.features[i]
        if self.augment is not None:
            if i not in self._audio:  # the whole FSDD is ~13 MB of float32: keep it
                self._audio[i] = load_clip(self.rows[i].path, self.cache.params)
            changed = self.augment(self._audio[i])
            if changed is not None:
                feats = features_from_audio(changed, self.cache.params)
        if self.spec_augment is not None:
            feats = self.spec_augment(feats)
        return torch.from_numpy(np.ascontiguousarray(feats)), torch.tensor(self.targets[i])
