"""Acoustic analysis: loudness, spectral features, rhythm, key, pitch, voice quality, reports
and plots.

Pure functions on :class:`~wavesmith.Audio` (librosa's spirit: arrays in, arrays out, units
in names), plus :class:`LoudnessMeter`, :class:`SpectralMeter` and :class:`PitchTracker` for
block-by-block analysis of long files (:func:`analyze_file` uses them for files of 10 minutes
or more).
librosa, torch/torchcrepe, parselmouth and matplotlib are imported only by the functions that
use them. Accuracy harness: ``python -m wavesmith.analysis.evaluate`` (pitch, key).
"""

from wavesmith.analysis.key import KeyResult, estimate_key, key_correlations
from wavesmith.analysis.loudness import (
    LoudnessMeter,
    LoudnessResult,
    channel_weights,
    integrated_loudness,
    k_weighting,
    loudness,
    loudness_range,
    momentary_loudness,
    sample_peak,
    short_term_loudness,
    true_peak,
)
from wavesmith.analysis.pitch import PitchResult, crepe, estimate_pitch, pyin
from wavesmith.analysis.plot import plot_report
from wavesmith.analysis.report import (
    FEATURES,
    AnalysisResult,
    analyze,
    analyze_file,
    load_downmix,
    parse_features,
    report,
)
from wavesmith.analysis.rhythm import RhythmResult, onsets, rhythm
from wavesmith.analysis.spectral import (
    chroma,
    delta,
    frame_times,
    istft,
    log_mel,
    mel_spectrogram,
    mfcc,
    rms,
    spectral_bandwidth,
    spectral_centroid,
    spectral_contrast,
    spectral_flatness,
    spectral_rolloff,
    spectral_summary,
    stft,
    zero_crossing_rate,
)
from wavesmith.analysis.streaming import PitchTracker, SpectralMaxima, SpectralMeter
from wavesmith.analysis.voice import VoiceReport, voice_report

__all__ = [
    "FEATURES",
    "AnalysisResult",
    "KeyResult",
    "LoudnessMeter",
    "LoudnessResult",
    "PitchResult",
    "PitchTracker",
    "RhythmResult",
    "SpectralMaxima",
    "SpectralMeter",
    "VoiceReport",
    "analyze",
    "analyze_file",
    "channel_weights",
    "chroma",
    "crepe",
    "delta",
    "estimate_key",
    "estimate_pitch",
    "frame_times",
    "integrated_loudness",
    "istft",
    "k_weighting",
    "key_correlations",
    "load_downmix",
    "log_mel",
    "loudness",
    "loudness_range",
    "mel_spectrogram",
    "mfcc",
    "momentary_loudness",
    "onsets",
    "parse_features",
    "plot_report",
    "pyin",
    "report",
    "rhythm",
    "rms",
    "sample_peak",
    "short_term_loudness",
    "spectral_bandwidth",
    "spectral_centroid",
    "spectral_contrast",
    "spectral_flatness",
    "spectral_rolloff",
    "spectral_summary",
    "stft",
    "true_peak",
    "voice_report",
    "zero_crossing_rate",
]
