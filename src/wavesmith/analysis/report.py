"""One-call analysis of a signal: :func:`analyze` (results) and :func:`report` (JSON dict).

Loudness is measured on all channels (BS.1770 channel weighting). Spectral, rhythm, key, pitch
and voice features are defined on one channel, so for multi-channel audio they are computed on
the channel mean (:meth:`Audio.to_mono`) and the report says so (``"mono_downmix": true``);
the downmix is part of the documented result, never hidden.

Pitch (``pitch``) runs pYIN or CREPE (:mod:`wavesmith.analysis.pitch`); its section holds F0
statistics over voiced frames and, with ``curves``, the contour. Voice (``voice``) is Praat's
voice report (:mod:`wavesmith.analysis.voice`). Both are slow next to the others (pYIN about
real time on this 2-core machine), so neither is a default.

A section that cannot be computed for this audio (e.g. spectral features of a 10 ms clip)
holds ``{"skipped": "<reason>"}`` instead of numbers; nothing is filled with placeholders.

Files: :func:`analyze_file` loads files shorter than ``stream_min_s`` (10 minutes by default)
and calls :func:`analyze`. Longer files are streamed: loudness
(:class:`~wavesmith.analysis.LoudnessMeter`), spectral statistics
(:class:`~wavesmith.analysis.SpectralMeter`) and pitch
(:class:`~wavesmith.analysis.PitchTracker`) read the file block by block, with the results
of the whole-file path (within the tolerances those classes state), and the report says
``"streamed": true``. Rhythm, key and voice need the whole signal, so for them the file is
loaded once more as a mono downmix at 22 050 Hz (:func:`load_downmix`; the file's own rate
when lower), a quarter of the memory of a 44.1 kHz stereo load; their results are those of
that version of the audio.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from wavesmith.analysis.key import KeyResult, estimate_key
from wavesmith.analysis.loudness import LoudnessMeter, LoudnessResult
from wavesmith.analysis.pitch import CREPE_MODELS, METHODS, PitchResult, estimate_pitch
from wavesmith.analysis.rhythm import RhythmResult, rhythm
from wavesmith.analysis.spectral import spectral_summary
from wavesmith.analysis.streaming import PitchTracker, SpectralMeter
from wavesmith.analysis.voice import VoiceReport, voice_report
from wavesmith.audio import Audio, check_audio
from wavesmith.errors import AudioValueError

__all__ = ["FEATURES", "AnalysisResult", "analyze", "analyze_file", "jsonable", "load_downmix",
           "parse_features", "report"]

FEATURES = ("loudness", "spectral", "rhythm", "key", "pitch", "voice")  # in report order
MONO_FEATURES = ("spectral", "rhythm", "key", "pitch", "voice")  # computed on the downmix
DEFAULT_FEATURES = ("loudness", "spectral")              # the cheap ones
PROGRESS_BLOCK_S = 10.0   # s of audio metered between progress callbacks
STREAM_MIN_S = 600.0      # s; analyze_file streams files at least this long (10 minutes)
STREAM_BLOCK_S = 10.0     # s of the file's audio per streamed block (~3.5 MB at 44.1 kHz stereo)
DOWNMIX_RATE_HZ = 22_050  # Hz; rate of the mono version loaded for rhythm, key and voice

Progress = Callable[[float, float], None]  # (seconds done, seconds total)


@dataclass(frozen=True, slots=True, eq=False)
class AnalysisResult:
    """Everything :func:`analyze` computed; ``None`` for sections not requested."""

    duration_s: float
    sample_rate: int
    channels: int
    features: tuple[str, ...]
    loudness: LoudnessResult | None = None
    spectral: dict[str, Any] | None = None
    rhythm: RhythmResult | None = None
    key: KeyResult | None = None
    pitch: PitchResult | None = None
    voice: VoiceReport | None = None
    skipped: dict[str, str] | None = None   # section → reason it could not be computed
    streamed: bool = False   # True: analyze_file's long-file path (loudness, spectral and
    #                          pitch streamed; rhythm, key and voice on load_downmix's version)

    def to_dict(self, *, curves: bool = False) -> dict[str, Any]:
        """JSON-able dict (NaN/inf → ``None``); ``curves`` adds the loudness curves and the
        pitch contour (``times_s``, ``f0_hz`` with ``null`` where unvoiced,
        ``voiced_prob``)."""
        out: dict[str, Any] = {
            "duration_s": self.duration_s, "sample_rate_hz": self.sample_rate,
            "channels": self.channels, "features": list(self.features),
            "mono_downmix": self.channels > 1 and any(
                f in self.features for f in MONO_FEATURES),
            "streamed": self.streamed,
        }
        skipped = self.skipped or {}
        if "loudness" in self.features and self.loudness is not None:
            section: dict[str, Any] = self.loudness.summary()
            for k in ("duration_s", "sample_rate", "channels"):
                section.pop(k)
            if curves:
                section.update(
                    momentary_times_s=self.loudness.momentary_times_s,
                    momentary_lufs=self.loudness.momentary_lufs,
                    short_term_times_s=self.loudness.short_term_times_s,
                    short_term_lufs=self.loudness.short_term_lufs)
            out["loudness"] = section
        if "spectral" in self.features:
            out["spectral"] = self.spectral if self.spectral is not None else {
                "skipped": skipped.get("spectral", "")}
        if "rhythm" in self.features:
            r = self.rhythm
            out["rhythm"] = {"skipped": skipped.get("rhythm", "")} if r is None else {
                "tempo_bpm": r.tempo_bpm, "beat_times_s": r.beat_times_s,
                "onset_times_s": r.onset_times_s, "onset_rate_hz": r.onset_rate_hz}
        if "key" in self.features:
            k = self.key
            out["key"] = {"skipped": skipped.get("key", "")} if k is None else {
                "key": k.key or None, "mode": k.mode or None,
                "label": k.label if k.key else None, "confidence": k.confidence,
                "margin": k.margin}
        if "pitch" in self.features:
            p = self.pitch
            out["pitch"] = {"skipped": skipped.get("pitch", "")} if p is None else p.summary()
            if p is not None and curves:
                out["pitch"].update(times_s=p.times_s, f0_hz=p.f0_hz,
                                    voiced_prob=p.voiced_prob)
        if "voice" in self.features:
            v = self.voice
            out["voice"] = {"skipped": skipped.get("voice", "")} if v is None else v.to_dict()
        return jsonable(out)


def jsonable(value: Any) -> Any:
    """Turn arrays, numpy scalars and non-finite floats (→ ``None``) into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def parse_features(features: str | Iterable[str] | None, *, pitch: str | None = None,
                   voice: bool = False) -> tuple[str, ...]:
    """Normalise ``"loudness,spectral"`` / a list / ``None`` (defaults) / ``"all"``.

    ``pitch`` (a method name, ``"pyin"`` or ``"crepe"``) and ``voice=True`` add those
    sections to the list, as the CLI's ``--pitch METHOD`` and ``--voice`` do.

    Raises
    ------
    AudioValueError
        For an unknown feature or pitch method (the message lists the known ones).
    """
    if pitch is not None and pitch not in METHODS:
        raise AudioValueError(f"pitch: unknown method {pitch!r}; choose from "
                              f"{', '.join(METHODS)}")
    extra = {"pitch"} if pitch is not None else set()
    if voice:
        extra.add("voice")
    if features is None:
        return tuple(f for f in FEATURES if f in {*DEFAULT_FEATURES, *extra})
    names = features.split(",") if isinstance(features, str) else list(features)
    names = [n.strip().lower() for n in names if n.strip()]
    if names == ["all"]:
        return FEATURES
    unknown = [n for n in names if n not in FEATURES]
    if unknown or not (names or extra):
        raise AudioValueError(
            f"features: unknown {', '.join(map(repr, unknown)) or 'empty list'}; "
            f"choose from {', '.join(FEATURES)} (comma-separated) or 'all'"
        )
    return tuple(f for f in FEATURES if f in {*names, *extra})


def analyze(audio: Audio, features: str | Iterable[str] | None = None, *,
            pitch: str | None = None, pitch_model: str = "tiny", voice: bool = False,
            progress: Progress | None = None) -> AnalysisResult:
    """Compute the requested analysis sections of ``audio``.

    Parameters
    ----------
    audio : Audio
        Any rate and channel count (loudness needs a BS.1770 layout: 1–6 channels).
    features : str or iterable of str, optional
        Any of ``"loudness"``, ``"spectral"``, ``"rhythm"``, ``"key"``, ``"pitch"``,
        ``"voice"`` (or ``"all"``); default loudness and spectral.
    pitch : {"pyin", "crepe"}, optional
        Pitch method; adds the pitch section (``"pitch"`` in ``features`` alone uses pYIN).
    pitch_model : {"tiny", "full"}, default "tiny"
        CREPE model size (ignored for pYIN).
    voice : bool, default False
        Add the voice section (Praat's voice report, :func:`voice_report`).
    progress : callable, optional
        Called as ``progress(seconds_done, seconds_total)`` (seconds of audio) while the
        loudness meter runs and after each further section.

    Returns
    -------
    AnalysisResult
        Use :meth:`AnalysisResult.to_dict` (or :func:`report`) for JSON.
    """
    check_audio(audio)
    wanted = parse_features(features, pitch=pitch, voice=voice)
    _check_model(pitch_model)
    method = pitch or "pyin"

    def pitch_fn(mono: Audio) -> PitchResult:
        return estimate_pitch(mono, method, model=pitch_model)

    total = audio.duration_s
    steps = len(wanted)
    done = 0

    def tick(fraction: float) -> None:
        if progress is not None:
            progress(total * (done + fraction) / steps, total)

    loud = None
    if "loudness" in wanted:
        meter = LoudnessMeter(audio.sample_rate, audio.channels)
        block = max(1, round(PROGRESS_BLOCK_S * audio.sample_rate))
        for start in range(0, audio.frames, block):
            meter.process(Audio(audio.samples[:, start:start + block], audio.sample_rate))
            tick(min(1.0, (start + block) / audio.frames))
        loud = meter.result()
        done += 1
    mono = audio.to_mono() if set(wanted) - {"loudness"} else audio
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    sections: tuple[tuple[str, Callable[[Audio], Any]], ...] = (
        ("spectral", spectral_summary), ("rhythm", rhythm), ("key", estimate_key),
        ("pitch", pitch_fn), ("voice", voice_report))
    for name, fn in sections:
        if name not in wanted:
            continue
        try:
            results[name] = fn(mono)
        except AudioValueError as exc:  # too short for this section: say why, keep the rest
            skipped[name] = str(exc)
        done += 1
        tick(0.0)
    return AnalysisResult(
        duration_s=audio.duration_s, sample_rate=audio.sample_rate, channels=audio.channels,
        features=wanted, loudness=loud, spectral=results.get("spectral"),
        rhythm=results.get("rhythm"), key=results.get("key"), pitch=results.get("pitch"),
        voice=results.get("voice"), skipped=skipped or None)


def _check_model(pitch_model: str) -> None:
    if pitch_model not in CREPE_MODELS:
        raise AudioValueError(f"pitch: unknown model {pitch_model!r}; choose from "
                              f"{', '.join(CREPE_MODELS)}")


def load_downmix(path: str | os.PathLike[str]) -> Audio:
    """Load ``path`` as a mono downmix (channel mean) at 22 050 Hz, or at the file's own rate
    when that is lower: what :func:`analyze_file` analyses rhythm, key and voice on for
    streamed (long) files. Peak memory ≈ 4 bytes per output frame (318 MB per hour)."""
    from wavesmith import io

    rate = io.info(path).sample_rate
    return io.load(path, sample_rate=DOWNMIX_RATE_HZ if rate > DOWNMIX_RATE_HZ else None,
                   mono=True)


def analyze_file(path: str | os.PathLike[str], features: str | Iterable[str] | None = None,
                 *, pitch: str | None = None, pitch_model: str = "tiny", voice: bool = False,
                 stream_min_s: float = STREAM_MIN_S, block_seconds: float = STREAM_BLOCK_S,
                 progress: Progress | None = None) -> AnalysisResult:
    """Analyse an audio file, streaming it when it is at least ``stream_min_s`` long.

    Shorter files are loaded whole and passed to :func:`analyze`. Longer ones are read in
    blocks of ``block_seconds``: loudness, spectral statistics and pitch are measured block
    by block (peak memory a few blocks plus the pitch track, whatever the length), giving the
    whole-file results within the tolerances of :class:`LoudnessMeter`,
    :class:`SpectralMeter` and :class:`PitchTracker`. Spectral statistics usually need a
    second pass over the file (their dB floors depend on the signal's maximum; see
    :class:`SpectralMeter`). Rhythm, key and voice are computed on :func:`load_downmix`'s
    mono 22 050 Hz version of the file. The result says ``streamed=True``.

    Parameters
    ----------
    path : path-like
        Any file :func:`wavesmith.io.load` reads.
    features, pitch, pitch_model, voice
        As in :func:`analyze`.
    stream_min_s : float, default 600.0
        Files at least this long (seconds) are streamed; 0 streams every file.
    block_seconds : float, default 10.0
        Seconds of audio per streamed block.
    progress : callable, optional
        Called as ``progress(seconds_done, seconds_total)``; ``seconds_total`` is the file's
        duration and each stage (the streaming pass, the spectral second pass, each loaded
        section) takes an equal share of it.

    Returns
    -------
    AnalysisResult

    Raises
    ------
    AudioValueError
        Unknown features or options, or a bad ``stream_min_s`` / ``block_seconds``.
    AudioFileError
        The file cannot be read.
    """
    from wavesmith import io

    wanted = parse_features(features, pitch=pitch, voice=voice)
    _check_model(pitch_model)
    if not stream_min_s >= 0:
        raise AudioValueError(f"analyze_file: stream_min_s={stream_min_s} must be >= 0 s")
    if not (block_seconds > 0 and math.isfinite(block_seconds)):
        raise AudioValueError(f"analyze_file: block_seconds={block_seconds} must be > 0 s")
    info = io.info(path)
    if info.duration_s < stream_min_s:
        return analyze(io.load(path), wanted, pitch=pitch, pitch_model=pitch_model,
                       progress=progress)
    loaded = [name for name in ("rhythm", "key", "voice") if name in wanted]
    stages = 1 + ("spectral" in wanted) + len(loaded)
    total = info.duration_s
    stage = 0

    def tick(done_s: float, total_s: float) -> None:
        if progress is not None:
            fraction = min(1.0, done_s / total_s) if total_s > 0 else 1.0
            progress(total * (stage + fraction) / stages, total)

    loud = LoudnessMeter(info.sample_rate, info.channels) if "loudness" in wanted else None
    spectral = SpectralMeter(info.sample_rate) if "spectral" in wanted else None
    tracker = (PitchTracker(info.sample_rate, pitch or "pyin", model=pitch_model)
               if "pitch" in wanted else None)
    streaming = loud is not None or spectral is not None or tracker is not None
    frames = 0 if streaming else info.frames   # rhythm, key, voice only: nothing to stream
    for block in io.stream(path, block_seconds, progress=tick) if streaming else ():
        frames += block.frames
        if loud is not None:
            loud.process(block)
        if spectral is not None or tracker is not None:
            mono = block.to_mono()
            if spectral is not None:
                spectral.process(mono)
            if tracker is not None:
                tracker.process(mono)
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}

    def section(name: str, fn: Callable[[], Any]) -> None:
        try:
            results[name] = fn()
        except AudioValueError as exc:  # too short for this section: say why, keep the rest
            skipped[name] = str(exc)

    stage += 1
    if spectral is not None:
        if not spectral.exact and frames:   # the floors moved: measure again with them known
            first = spectral
            spectral = SpectralMeter(info.sample_rate, maxima=first.maxima)
            for block in io.stream(path, block_seconds, mono=True, progress=tick):
                spectral.process(block)
            assert spectral.exact, "second spectral pass with known maxima must be exact"
        section("spectral", spectral.result)
        stage += 1
        tick(0.0, 1.0)
    if tracker is not None:
        section("pitch", tracker.result)
    if loaded:
        downmix = load_downmix(path)
        fns: dict[str, Callable[[Audio], Any]] = {
            "rhythm": rhythm, "key": estimate_key, "voice": voice_report}
        for name in loaded:
            section(name, lambda fn=fns[name]: fn(downmix))
            stage += 1
            tick(0.0, 1.0)
    return AnalysisResult(
        duration_s=frames / info.sample_rate, sample_rate=info.sample_rate,
        channels=info.channels, features=wanted,
        loudness=loud.result() if loud is not None else None,
        spectral=results.get("spectral"), rhythm=results.get("rhythm"),
        key=results.get("key"), pitch=results.get("pitch"), voice=results.get("voice"),
        skipped=skipped or None, streamed=True)


def report(audio: Audio, features: str | Iterable[str] | None = None, *,
           curves: bool = False, pitch: str | None = None, pitch_model: str = "tiny",
           voice: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Return :func:`analyze`'s result as a JSON-able dict (units in keys; NaN/inf → None).

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.analysis import report
    >>> t = np.arange(48_000 * 3) / 48_000
    >>> x = (10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    >>> r = report(Audio(np.stack([x, x]), 48_000), features="loudness")
    >>> round(r["loudness"]["integrated_lufs"], 1), r["loudness"]["lra_lu"]
    (-23.0, 0.0)
    """
    return analyze(audio, features, pitch=pitch, pitch_model=pitch_model, voice=voice,
                   progress=progress).to_dict(curves=curves)
