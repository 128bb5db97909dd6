"""Mixing several signals with per-input gains (dB) and start offsets (seconds)."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wavesmith import io
from wavesmith.audio import Audio, check_audio, check_same_layout
from wavesmith.edit.effect import check_number
from wavesmith.errors import AudioValueError

__all__ = ["MixReport", "concat_files", "mix", "mix_files", "parse_numbers"]

MAX_GAIN_DB = 96.0   # dB; larger gains are a unit mistake


def parse_numbers(text: str | None, name: str) -> list[float] | None:
    """``"0,-6.5"`` → ``[0.0, -6.5]`` (``None`` stays ``None``), for the CLI and the service.

    Raises
    ------
    AudioValueError
        If an item is not a number (the message names ``name``).
    """
    if text is None or not text.strip():
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise AudioValueError(f"mix: {name}={text!r} must be comma-separated numbers, "
                              "e.g. 0,-6") from exc


def _per_input(values: Sequence[float] | None, n: int, name: str, unit: str,
               ge: float, le: float | None) -> list[float]:
    if values is None:
        return [0.0] * n
    values = list(values)
    if len(values) != n:
        raise AudioValueError(f"mix: {name} has {len(values)} value(s) but there are {n} "
                              "inputs; give one per input")
    return [check_number("mix", f"{name}[{i}]", v, unit=unit, ge=ge, le=le)
            for i, v in enumerate(values)]


def mix(inputs: Sequence[Audio], *, gains_db: Sequence[float] | None = None,
        offsets_s: Sequence[float] | None = None) -> Audio:
    """Sum ``inputs``, each scaled by its gain and starting at its offset.

    Parameters
    ----------
    inputs : sequence of Audio
        One or more signals with the same sample rate and channel count.
    gains_db : sequence of float, optional
        Gain per input in dB (default 0 dB each).
    offsets_s : sequence of float, optional
        Start time per input in seconds, >= 0 (default 0 s each).

    Returns
    -------
    Audio
        Length ``max(offset + duration)`` over the inputs. Samples may exceed full scale;
        lower the gains or normalise afterwards.

    Raises
    ------
    SampleRateError
        If the rates differ: nothing resamples silently; call ``edit.resample`` first.
    AudioValueError
        No inputs, differing channel counts, or a gain/offset list of the wrong length.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.edit import mix
    >>> a = Audio(np.full((1, 4), 0.25, np.float32), 8_000)
    >>> mix([a, a], offsets_s=[0.0, 2 / 8_000]).samples.tolist()
    [[0.25, 0.25, 0.5, 0.5, 0.25, 0.25]]
    """
    items = list(inputs)
    if not items:
        raise AudioValueError("mix: no inputs given; pass at least one Audio")
    for i, a in enumerate(items):
        check_audio(a, name=f"mix: input {i}", min_frames=0)
    check_same_layout(items, what="mix", noun="input")
    first = items[0]
    gains = _per_input(gains_db, len(items), "gains_db", "dB", -MAX_GAIN_DB, MAX_GAIN_DB)
    offsets = _per_input(offsets_s, len(items), "offsets_s", "s", 0.0, None)
    starts = [round(o * first.sample_rate) for o in offsets]
    length = max(s + a.frames for s, a in zip(starts, items, strict=True))
    out = np.zeros((first.channels, length), np.float32)
    for a, g, s in zip(items, gains, starts, strict=True):
        out[:, s:s + a.frames] += a.samples * np.float32(10.0 ** (g / 20.0))
    return Audio(out, first.sample_rate)


@dataclass(frozen=True, slots=True)
class MixReport:
    """What :func:`mix_files` wrote."""

    inputs: list[str]
    dst: str
    sample_rate: int     # Hz
    channels: int
    frames: int
    duration_s: float    # seconds
    peak_dbfs: float     # sample peak of the mix, dBFS


def mix_files(srcs: Sequence[str | os.PathLike[str]], dst: str | os.PathLike[str], *,
              gains_db: Sequence[float] | None = None,
              offsets_s: Sequence[float] | None = None,
              overwrite: bool = False, subtype: str | None = None,
              block_seconds: float = 1.0) -> MixReport:
    """Mix audio files into ``dst`` (see :func:`mix`), streamed block by block.

    Every input is decoded ``block_seconds`` at a time and the mix is written as it is
    summed, so peak memory is about ``(inputs + 1) × block × channels × 4`` bytes whatever
    the files' lengths; the samples equal those of :func:`mix` on the loaded files.
    Refuses ``dst`` equal to an input unless ``overwrite``; writes atomically, so on any error
    (a differing rate or channel count is found before any decoding) nothing is written.
    """
    if not srcs:
        raise AudioValueError("mix: no inputs given; pass at least one file")
    check_number("mix", "block_seconds", block_seconds, unit="s", gt=0.0)
    io.check_output_path(dst, list(srcs), overwrite=overwrite)
    with contextlib.ExitStack() as stack:
        readers = [stack.enter_context(io.open_audio(s)) for s in srcs]
        check_same_layout(readers, what="mix", noun="input")
        rate, channels = readers[0].sample_rate, readers[0].channels
        gains = _per_input(gains_db, len(srcs), "gains_db", "dB", -MAX_GAIN_DB, MAX_GAIN_DB)
        offsets = _per_input(offsets_s, len(srcs), "offsets_s", "s", 0.0, None)
        starts = [round(o * rate) for o in offsets]
        scales = [np.float32(10.0 ** (g / 20.0)) for g in gains]
        block = max(1, round(block_seconds * rate))
        done = [False] * len(readers)
        t0, peak = 0, 0.0
        with io.AudioWriter(dst, rate, channels, subtype=subtype) as writer:
            while not all(done):
                out = np.zeros((channels, block), np.float32)
                used = 0                      # frames of this block that hold any input
                for i, reader in enumerate(readers):
                    if done[i] or starts[i] >= t0 + block:
                        used = block if not done[i] else used   # silence before a late start
                        continue
                    at = max(0, starts[i] - t0)
                    x = reader.read(block - at).samples
                    out[:, at:at + x.shape[1]] += x * scales[i]
                    used = max(used, at + x.shape[1])
                    done[i] = x.shape[1] < block - at
                if used:
                    chunk = Audio(out[:, :used], rate)
                    peak = max(peak, float(np.max(np.abs(chunk.samples))))
                    writer.write(chunk)
                t0 += block
        frames = writer.frames_written
    return MixReport(inputs=[str(s) for s in srcs], dst=str(dst), sample_rate=rate,
                     channels=channels, frames=frames, duration_s=frames / rate,
                     peak_dbfs=20.0 * math.log10(peak) if peak > 0 else -math.inf)


def concat_files(srcs: Sequence[str | os.PathLike[str]], dst: str | os.PathLike[str], *,
                 crossfade_s: float = 0.0, overwrite: bool = False, subtype: str | None = None,
                 block_seconds: float = 1.0) -> MixReport:
    """Splice audio files end to end into ``dst``, streamed block by block.

    With ``crossfade_s`` > 0 each join overlaps the end of one file and the start of the
    next by that many seconds with an equal-power crossfade (cos/sin, so uncorrelated
    material keeps its level); with 0 the samples equal :func:`wavesmith.concatenate` of
    the loaded files. Memory does not grow with the files' lengths.

    Raises
    ------
    SampleRateError, AudioValueError
        Differing rates or channel counts (found before any decoding), no inputs, a
        negative crossfade, or a file shorter than the crossfade.
    """
    if not srcs:
        raise AudioValueError("concat: no inputs given; pass at least one file")
    check_number("concat", "crossfade_s", crossfade_s, unit="s", ge=0.0)
    check_number("concat", "block_seconds", block_seconds, unit="s", gt=0.0)
    io.check_output_path(dst, list(srcs), overwrite=overwrite)
    with contextlib.ExitStack() as stack:
        readers = [stack.enter_context(io.open_audio(s)) for s in srcs]
        check_same_layout(readers, what="concat", noun="input")
        rate, channels = readers[0].sample_rate, readers[0].channels
        xf = round(crossfade_s * rate)
        block = max(1, round(block_seconds * rate), xf)
        t = (np.arange(xf, dtype=np.float64) + 0.5) / max(xf, 1) * (np.pi / 2)
        fade_in, fade_out = np.sin(t).astype(np.float32), np.cos(t).astype(np.float32)
        peak = 0.0
        with io.AudioWriter(dst, rate, channels, subtype=subtype) as writer:
            def emit(x: np.ndarray) -> None:
                nonlocal peak
                if x.shape[1]:
                    peak = max(peak, float(np.max(np.abs(x))))
                    writer.write(Audio(x, rate))

            tail = np.zeros((channels, 0), np.float32)  # the held-back end of the last file
            for i, reader in enumerate(readers):
                if i and xf:
                    head = reader.read(xf).samples
                    if head.shape[1] < xf:
                        raise AudioValueError(f"concat: {reader.path} is shorter than the "
                                              f"{crossfade_s:g} s crossfade")
                    emit(tail * fade_out + head * fade_in)
                    tail = np.zeros((channels, 0), np.float32)
                while True:
                    x = reader.read(block).samples
                    if not x.shape[1]:
                        break
                    held = np.concatenate([tail, x], axis=1)
                    cut = held.shape[1] - (xf if i < len(readers) - 1 else 0)
                    emit(held[:, :max(0, cut)])
                    tail = held[:, max(0, cut):]
                if i < len(readers) - 1 and tail.shape[1] < xf:
                    raise AudioValueError(f"concat: {reader.path} is too short for a "
                                          f"{crossfade_s:g} s crossfade at each end")
        frames = writer.frames_written
    return MixReport(inputs=[str(s) for s in srcs], dst=str(dst), sample_rate=rate,
                     channels=channels, frames=frames, duration_s=frames / rate,
                     peak_dbfs=20.0 * math.log10(peak) if peak > 0 else -math.inf)
