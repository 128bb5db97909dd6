"""Voice quality with Praat (praat-parselmouth): Praat's standard voice report, formants, CPPS.

Praat is the reference tool of clinical and phonetic voice analysis, so we call it rather than
re-implement its jitter and shimmer definitions; praat-parselmouth embeds Praat (6.1.38 in
parselmouth 0.4.7, GPL-3) and needs no external program.

What :func:`voice_report` computes, with Praat's standard settings:

* Pitch: ``To Pitch (cc)`` (cross-correlation, Praat's method for voice analysis): time step
  auto (0.75 / floor), floor ``f0_min_hz`` (75 Hz), 15 candidates, silence threshold 0.03,
  voicing threshold 0.45, octave cost 0.01, octave-jump cost 0.35, voiced/unvoiced cost
  0.14, ceiling ``f0_max_hz`` (600 Hz). Glottal pulses: ``To PointProcess (cc)``.
* F0 statistics, jitter (local, RAP, PPQ5) and shimmer (local, APQ3, APQ5, APQ11): the same
  Praat functions with the same arguments as Praat's "Voice report" (period range
  0.8 / ceiling … 1.25 / floor, maximum period factor 1.3, maximum amplitude factor 1.6),
  read through Praat's query commands for full precision. Jitter and shimmer in percent.
* HNR: the voice report's "mean harmonics-to-noise ratio" of the voiced parts (mean pitch
  strength in dB), read from the report's text (it has no query command).
* Formants F1–F3: ``To Formant (burg)`` (time step auto, 5 formants up to
  ``max_formant_hz`` = 5500 Hz, the default for adult female voices; use 5000 Hz for adult
  male voices, 25 ms window, pre-emphasis from 50 Hz); the median over frames that the
  pitch analysis calls voiced.
* CPPS (smoothed cepstral peak prominence, dB) over the whole signal with the settings of
  Maryn & Weenink (2015, AVQI): ``To PowerCepstrogram`` 60 Hz, 0.002 s, 5000 Hz, 50 Hz;
  ``Get CPPS`` no tilt subtraction before smoothing, 0.01 s time and 0.001 s quefrency
  averaging, peak search 60–330 Hz, tolerance 0.05, parabolic, tilt line 0.001 s to the
  end, straight, robust fit.

A signal with no voiced frame gives a report whose voice measures (CPPS included) are NaN
(``null`` in JSON) and ``voiced_frames = 0``; nothing is filled in.

Cost: the cross-correlation pitch pass dominates; about 1 s per second of 44.1 kHz audio on
one core of this 2-core machine under load (CPPS at a 2 ms step adds about half that).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from wavesmith.audio import Audio, check_audio
from wavesmith.errors import AudioValueError

__all__ = ["VoiceReport", "voice_report"]

DEFAULT_F0_MIN_HZ = 75.0        # Hz, Praat's pitch floor
DEFAULT_F0_MAX_HZ = 600.0       # Hz, Praat's "To Pitch" ceiling
DEFAULT_MAX_FORMANT_HZ = 5500.0  # Hz, Praat's formant ceiling (adult female; 5000 for male)
MAX_PERIOD_FACTOR = 1.3         # Praat voice report: largest ratio of consecutive periods
MAX_AMPLITUDE_FACTOR = 1.6      # Praat voice report: largest ratio of consecutive amplitudes
SILENCE_THRESHOLD = 0.03        # Praat pitch silence threshold (fraction of global peak)
VOICING_THRESHOLD = 0.45        # Praat pitch voicing threshold (cc method)
MIN_VOICE_PERIODS = 3           # periods of the pitch floor the audio must span at least


@dataclass(frozen=True, slots=True)
class VoiceReport:
    """Praat voice measures of one signal (NaN where Praat finds them undefined)."""

    f0_mean_hz: float
    f0_median_hz: float
    f0_sd_hz: float
    f0_min_hz: float
    f0_max_hz: float
    jitter_local_pct: float
    jitter_rap_pct: float
    jitter_ppq5_pct: float
    shimmer_local_pct: float
    shimmer_apq3_pct: float
    shimmer_apq5_pct: float
    shimmer_apq11_pct: float
    hnr_db: float
    f1_hz: float             # median over voiced frames
    f2_hz: float
    f3_hz: float
    cpps_db: float
    voiced_frames: int       # pitch frames Praat calls voiced
    frames: int              # pitch frames in all
    pulses: int              # glottal pulses found
    settings: dict[str, float]   # f0_min_hz, f0_max_hz, max_formant_hz used

    @property
    def voiced_fraction(self) -> float:
        """Share of pitch frames that are voiced (0…1; NaN for no frames)."""
        return self.voiced_frames / self.frames if self.frames else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict with units in the keys (NaN → ``None``)."""
        out = asdict(self)
        out["voiced_fraction"] = self.voiced_fraction
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in out.items()}


def _parselmouth() -> Any:
    import parselmouth  # Praat inside Python; imported here so analysis stays light

    return parselmouth


def _report_value(text: str, label: str) -> float:
    """A number from Praat's voice report text (``--undefined--`` → NaN)."""
    m = re.search(rf"^\s*{re.escape(label)}:\s*(--undefined--|[-+0-9.Ee]+)", text, re.M)
    if m is None:
        raise AudioValueError(f"voice: Praat's voice report has no {label!r} line")
    return float("nan") if m.group(1) == "--undefined--" else float(m.group(1))


def _voiced_median_formants(pitch: Any, formant: Any, count: int = 3) -> list[float]:
    """Median F1…F``count`` (Hz) over formant frames at voiced pitch frames."""
    f0 = pitch.selected_array["frequency"]
    pitch_t = pitch.xs()
    times = formant.xs()
    if f0.size == 0 or times.size == 0:
        return [float("nan")] * count
    nearest = np.clip(np.searchsorted(pitch_t, times), 0, pitch_t.size - 1)
    voiced_t = times[f0[nearest] > 0]
    out = []
    for k in range(1, count + 1):
        values = np.array([formant.get_value_at_time(k, t) for t in voiced_t], dtype=float)
        values = values[np.isfinite(values)]
        out.append(float(np.median(values)) if values.size else float("nan"))
    return out


def voice_report(audio: Audio, *, f0_min_hz: float = DEFAULT_F0_MIN_HZ,
                 f0_max_hz: float = DEFAULT_F0_MAX_HZ,
                 max_formant_hz: float = DEFAULT_MAX_FORMANT_HZ) -> VoiceReport:
    """Measure F0, jitter, shimmer, HNR, formants and CPPS of a voice (Praat's settings).

    Parameters
    ----------
    audio : Audio
        Mono, any rate (Praat analyses it at its own rate; nothing is resampled here).
        Meant for a sustained vowel or a short utterance of one speaker.
    f0_min_hz, f0_max_hz : float, default 75.0, 600.0
        Pitch floor and ceiling in Hz (Praat's defaults).
    max_formant_hz : float, default 5500.0
        Formant ceiling in Hz: 5500 for adult female, 5000 for adult male voices.

    Returns
    -------
    VoiceReport
        See the module docstring for each measure's definition.

    Raises
    ------
    AudioValueError
        Not mono; shorter than three periods of ``f0_min_hz``; a bad pitch range; or a
        formant ceiling above the Nyquist frequency.

    Examples
    --------
    >>> from wavesmith import io
    >>> from wavesmith.analysis import voice_report
    >>> r = voice_report(io.load("../shared/data/voice/praat_test_a.wav"))  # doctest: +SKIP
    >>> round(r.f0_median_hz)                                                # doctest: +SKIP
    108
    """
    check_audio(audio)
    if audio.channels != 1:
        raise AudioValueError(f"voice: needs mono audio, got {audio.channels} channels; "
                              "call audio.to_mono() or select_channels() first")
    if not (math.isfinite(f0_min_hz) and math.isfinite(f0_max_hz)
            and 0 < f0_min_hz < f0_max_hz):
        raise AudioValueError(f"voice: need 0 < f0_min_hz < f0_max_hz, got {f0_min_hz}, "
                              f"{f0_max_hz}")
    nyquist = audio.sample_rate / 2
    if not 0 < max_formant_hz <= nyquist:
        raise AudioValueError(f"voice: max_formant_hz={max_formant_hz} must be in (0, "
                              f"{nyquist:g}] Hz, the Nyquist frequency of this "
                              f"{audio.sample_rate} Hz audio")
    min_s = MIN_VOICE_PERIODS / f0_min_hz
    if audio.duration_s < min_s:
        raise AudioValueError(f"voice: audio is {audio.duration_s:.3f} s; Praat's pitch "
                              f"analysis needs at least {min_s:.3f} s (3 periods of "
                              f"f0_min_hz={f0_min_hz:g})")
    pm = _parselmouth()
    call = pm.praat.call
    snd = pm.Sound(audio.samples[0].astype(np.float64), sampling_frequency=audio.sample_rate)
    try:
        pitch = call(snd, "To Pitch (cc)", 0.0, f0_min_hz, 15, "no", SILENCE_THRESHOLD,
                     VOICING_THRESHOLD, 0.01, 0.35, 0.14, f0_max_hz)
        pulses = call([snd, pitch], "To PointProcess (cc)")
        text = call([snd, pitch, pulses], "Voice report", 0.0, 0.0, f0_min_hz, f0_max_hz,
                    MAX_PERIOD_FACTOR, MAX_AMPLITUDE_FACTOR, SILENCE_THRESHOLD,
                    VOICING_THRESHOLD)
        pmin, pmax = 0.8 / f0_max_hz, 1.25 / f0_min_hz   # periods (s), as the voice report
        jitter = [100.0 * call(pulses, f"Get jitter ({kind})", 0.0, 0.0, pmin, pmax,
                               MAX_PERIOD_FACTOR) for kind in ("local", "rap", "ppq5")]
        shimmer = [100.0 * call([snd, pulses], f"Get shimmer ({kind})", 0.0, 0.0, pmin, pmax,
                                MAX_PERIOD_FACTOR, MAX_AMPLITUDE_FACTOR)
                   for kind in ("local", "apq3", "apq5", "apq11")]
        f0 = [call(pitch, "Get mean", 0.0, 0.0, "Hertz"),
              call(pitch, "Get quantile", 0.0, 0.0, 0.5, "Hertz"),
              call(pitch, "Get standard deviation", 0.0, 0.0, "Hertz"),
              call(pitch, "Get minimum", 0.0, 0.0, "Hertz", "Parabolic"),
              call(pitch, "Get maximum", 0.0, 0.0, "Hertz", "Parabolic")]
        formant = call(snd, "To Formant (burg)", 0.0, 5, max_formant_hz, 0.025, 50.0)
        cepstrogram = call(snd, "To PowerCepstrogram", 60.0, 0.002, 5000.0, 50.0)
        cpps = call(cepstrogram, "Get CPPS", "no", 0.01, 0.001, 60.0, 330.0, 0.05,
                    "Parabolic", 0.001, 0.0, "Straight", "Robust")
        voiced = int(call(pitch, "Count voiced frames"))
        n_pulses = int(call(pulses, "Get number of points"))
    except pm.PraatError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "failed"
        raise AudioValueError(f"voice: Praat could not analyse this audio ({first})") from exc
    f1, f2, f3 = _voiced_median_formants(pitch, formant)
    return VoiceReport(
        f0_mean_hz=float(f0[0]), f0_median_hz=float(f0[1]), f0_sd_hz=float(f0[2]),
        f0_min_hz=float(f0[3]), f0_max_hz=float(f0[4]),
        jitter_local_pct=jitter[0], jitter_rap_pct=jitter[1], jitter_ppq5_pct=jitter[2],
        shimmer_local_pct=shimmer[0], shimmer_apq3_pct=shimmer[1],
        shimmer_apq5_pct=shimmer[2], shimmer_apq11_pct=shimmer[3],
        hnr_db=_report_value(text, "Mean harmonics-to-noise ratio"),
        f1_hz=f1, f2_hz=f2, f3_hz=f3, cpps_db=float(cpps) if voiced else float("nan"),
        voiced_frames=voiced,
        frames=int(pitch.n_frames), pulses=n_pulses,
        settings={"f0_min_hz": float(f0_min_hz), "f0_max_hz": float(f0_max_hz),
                  "max_formant_hz": float(max_formant_hz)})
