"""A PNG overview of an analysis: waveform, log-mel spectrogram with the pitch contour,
loudness, chroma, beats.

matplotlib (Agg back end, no display needed) is imported inside :func:`plot_report`, so
importing :mod:`wavesmith.analysis` stays light. The file is written atomically: rendered to
a temporary file in the same folder, then renamed over ``path``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from wavesmith.analysis.report import AnalysisResult, analyze
from wavesmith.analysis.spectral import DEFAULT_HOP_FRAMES, DEFAULT_N_MELS, chroma, log_mel
from wavesmith.audio import Audio, check_audio
from wavesmith.errors import AudioValueError

__all__ = ["plot_report"]

FIGURE_WIDTH_IN = 12.0     # inches
PANEL_HEIGHT_IN = 2.2      # inches per panel
DPI = 100                  # dots per inch
MAX_WAVEFORM_POINTS = 20_000  # points drawn per channel (min/max envelope beyond this)
MEL_TICKS_HZ = (100, 500, 1_000, 2_000, 5_000, 10_000, 20_000)  # Hz, spectrogram y ticks


def _mel_band_position(freq_hz: np.ndarray, sample_rate: int,
                       n_mels: int = DEFAULT_N_MELS) -> np.ndarray:
    """Fractional row of :func:`log_mel`'s image (band centre k at k + 0.5) for ``freq_hz``."""
    import librosa

    centres_hz = librosa.mel_frequencies(n_mels + 2, fmin=0.0, fmax=sample_rate / 2)[1:-1]
    return np.interp(librosa.hz_to_mel(freq_hz), librosa.hz_to_mel(centres_hz),
                     np.arange(n_mels) + 0.5, left=np.nan, right=np.nan)


def _envelope(x: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) per bucket so long signals draw fast with their peaks kept."""
    if x.size <= points:
        return x, x
    n = x.size // points * points
    buckets = x[:n].reshape(points, -1)
    return buckets.min(axis=1), buckets.max(axis=1)


def plot_report(audio: Audio, path: str | os.PathLike[str], *,
                result: AnalysisResult | None = None) -> Path:
    """Draw an overview PNG of ``audio`` at ``path`` and return the path.

    Panels: waveform (all channels), log-mel spectrogram (mono downmix, dB re. max; y axis
    in Hz) with the pitch contour drawn over it when ``result`` has one, and, when
    ``result`` has them, momentary/short-term loudness (LUFS), chroma and beats.
    Without ``result``, loudness, rhythm and key are computed here (:func:`analyze`).

    Raises
    ------
    AudioValueError
        If the audio is shorter than one 2048-frame spectrogram window.
    AudioFileError
        If ``path`` cannot be written (the message names it).
    """
    check_audio(audio)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    if result is None:
        result = analyze(audio, ("loudness", "rhythm", "key"))
    mono = audio.to_mono()
    mel = log_mel(mono)[0]   # raises AudioValueError for clips shorter than one window
    hop_s = DEFAULT_HOP_FRAMES / audio.sample_rate
    loud = result.loudness
    panels = ["wave", "mel"]
    if loud is not None and loud.momentary_lufs.size:
        panels.append("loudness")
    if result.key is not None or result.rhythm is not None:
        panels.append("chroma")
    fig, axes = plt.subplots(len(panels), 1, sharex=True, squeeze=False,
                             figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * len(panels)))
    try:
        end_s = audio.duration_s
        for ax, panel in zip(axes[:, 0], panels, strict=True):
            if panel == "wave":
                for c in range(audio.channels):
                    lo, hi = _envelope(audio.samples[c], MAX_WAVEFORM_POINTS)
                    t = np.linspace(0.0, end_s, lo.size)
                    ax.fill_between(t, lo, hi, linewidth=0.5, alpha=0.6, label=f"ch {c}")
                ax.set_ylabel("amplitude (FS)")
                ax.set_title(f"{audio.channels} ch, {audio.sample_rate} Hz, {end_s:.2f} s")
            elif panel == "mel":
                ax.imshow(mel, origin="lower", aspect="auto", cmap="magma",
                          extent=(0.0, mel.shape[1] * hop_s, 0, mel.shape[0]))
                ticks = np.array([f for f in MEL_TICKS_HZ if f < audio.sample_rate / 2])
                ax.set_yticks(_mel_band_position(ticks, audio.sample_rate),
                              [f"{f / 1000:g}k" if f >= 1000 else str(f) for f in ticks],
                              fontsize="x-small")
                ax.set_ylabel("Hz (mel scale)")
                p = result.pitch
                if p is not None and np.any(p.voiced):
                    ax.plot(p.times_s, _mel_band_position(p.f0_hz, audio.sample_rate),
                            color="cyan", lw=1.2, label=f"F0 ({p.method})")
                    med = float(np.median(p.voiced_f0_hz))
                    ax.set_title(f"pitch {p.method}: median F0 {med:.1f} Hz, "
                                 f"{np.mean(p.voiced):.0%} of frames voiced",
                                 fontsize="small")
                    ax.legend(loc="upper right", fontsize="small")
            elif panel == "loudness" and loud is not None:
                ax.plot(loud.momentary_times_s, loud.momentary_lufs, lw=0.8, label="momentary")
                if loud.short_term_lufs.size:
                    ax.plot(loud.short_term_times_s, loud.short_term_lufs, lw=1.2,
                            label="short-term")
                if np.isfinite(loud.integrated_lufs):
                    ax.axhline(loud.integrated_lufs, color="k", ls="--", lw=0.8,
                               label=f"integrated {loud.integrated_lufs:.1f} LUFS")
                finite = loud.momentary_lufs[np.isfinite(loud.momentary_lufs)]
                if finite.size:
                    ax.set_ylim(max(finite.min(), -70.0) - 3.0, finite.max() + 3.0)
                ax.set_ylabel("LUFS")
                ax.legend(loc="lower right", fontsize="small")
            elif panel == "chroma":
                try:
                    c = chroma(mono)
                except AudioValueError:
                    c = np.zeros((12, 1))
                ax.imshow(c, origin="lower", aspect="auto", cmap="viridis",
                          extent=(0.0, c.shape[1] * hop_s, -0.5, 11.5))
                ax.set_yticks(range(12), ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#",
                                          "A", "A#", "B"], fontsize="x-small")
                title = []
                if result.key is not None and result.key.key:
                    title.append(f"key {result.key.label} ({result.key.confidence:.2f})")
                if result.rhythm is not None:
                    for b in result.rhythm.beat_times_s:
                        ax.axvline(b, color="w", lw=0.6, alpha=0.8)
                    title.append(f"{result.rhythm.tempo_bpm:.1f} bpm (beats in white)")
                ax.set_title(", ".join(title), fontsize="small")
        axes[-1, 0].set_xlabel("time (s)")
        axes[-1, 0].set_xlim(0.0, end_s)
        fig.tight_layout()
        return _save_atomic(fig, out)
    finally:
        plt.close(fig)


def _save_atomic(fig: object, out: Path) -> Path:
    from wavesmith.io import atomic_output

    with atomic_output(out) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)  # type: ignore[attr-defined]
    return out
