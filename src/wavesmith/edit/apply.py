"""Apply an effect or chain to a file: :func:`apply_file`, streaming when the chain allows."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wavesmith import io
from wavesmith.audio import Audio
from wavesmith.edit.effect import Effect
from wavesmith.errors import AudioValueError

__all__ = ["DEFAULT_EDIT_BLOCK_SECONDS", "EditReport", "apply_file"]

DEFAULT_EDIT_BLOCK_SECONDS = 10.0   # seconds per streamed block; ~3.7 MB float32 at 48 kHz stereo

Progress = Callable[[float, float], None]  # (seconds of input done, seconds total)


@dataclass(frozen=True, slots=True)
class EditReport:
    """What :func:`apply_file` wrote."""

    src: str
    dst: str
    sample_rate: int          # Hz of the output
    channels: int             # of the output
    frames: int               # of the output
    duration_s: float         # seconds of output
    input_duration_s: float   # seconds of input
    streamed: bool            # True: block by block; False: the file was processed whole
    subtype: str              # output sample format, e.g. PCM_16, FLOAT
    chain: dict[str, Any] = field(default_factory=dict)  # the chain, as Chain.to_dict()


def apply_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    chain: Effect,
    *,
    overwrite: bool = False,
    subtype: str | None = None,
    block_seconds: float = DEFAULT_EDIT_BLOCK_SECONDS,
    progress: Progress | None = None,
) -> EditReport:
    """Run ``src`` through ``chain`` (an effect or a :class:`~wavesmith.edit.Chain`) into ``dst``.

    When ``chain.streamable``, the file is read, processed and written block by block with
    the effects' state carried across blocks, so memory stays at a few blocks whatever the
    file's length (peak ≈ 3 × block frames × channels × 4 bytes) and the output equals
    whole-file processing within each effect's tolerance. Otherwise (time-stretch, pitch
    shift, normalisation, silence trimming, denoise, fade-out) the whole file is loaded,
    processed in one call and written: peak memory is then a few times the decoded file.

    Parameters
    ----------
    src, dst : path-like
        Input file (any format ``io`` reads) and output file (format from its extension).
    chain : Effect
        The effect or chain; it is reset first.
    overwrite : bool, default False
        Allow ``dst`` to be ``src`` (replaced only once the output is complete).
    subtype : str, optional
        Output sample format (``PCM_16``, ``PCM_24``, ``FLOAT``...); default: the input's when
        the output format can hold it.
    block_seconds : float, default 10.0
        Seconds of input per block when streaming.
    progress : callable, optional
        Called as ``progress(seconds_done, seconds_total)`` (seconds of input audio).

    Returns
    -------
    EditReport

    Raises
    ------
    OverwriteError
        ``dst`` is ``src`` and ``overwrite`` is false.
    AudioValueError, AudioFileError
        Bad parameters for this file (e.g. a cutoff above Nyquist), unreadable input. The
        output is written atomically: on any error nothing appears at ``dst``.
    """
    if not isinstance(chain, Effect):
        raise AudioValueError(f"apply_file: chain must be an effect or Chain, got "
                              f"{type(chain).__name__}")
    if block_seconds <= 0:
        raise AudioValueError(f"apply_file: block_seconds={block_seconds} must be > 0")
    dst = io.check_output_path(dst, [src], overwrite=overwrite)
    src_info = io.info(src)
    subtype = subtype or io.kept_subtype(src_info.codec, dst)
    chain.reset()
    if not chain.streamable:
        if progress is not None:
            progress(0.0, src_info.duration_s)
        audio = io.load(src)
        out = chain.process(audio, reset=True)
        if out.frames == 0:
            raise AudioValueError(f"{dst}: the chain produced no audio (0 frames); "
                                  "nothing was written")
        with io.AudioWriter(dst, out.sample_rate, out.channels, subtype=subtype) as whole:
            whole.write(out)
        if progress is not None:
            progress(audio.duration_s, audio.duration_s)
        return EditReport(src=str(src), dst=str(dst), sample_rate=out.sample_rate,
                          channels=out.channels, frames=out.frames, duration_s=out.duration_s,
                          input_duration_s=audio.duration_s, streamed=False,
                          subtype=whole.subtype, chain=chain.to_dict())
    writer: io.AudioWriter | None = None
    frames_in = 0
    try:
        for block in io.stream(src, block_seconds, progress=progress):
            frames_in += block.frames
            writer = _write(writer, dst, chain.process(block, reset=False), subtype)
        writer = _write(writer, dst, chain.flush(), subtype)
        if writer is None:
            raise AudioValueError(f"{dst}: the chain produced no audio (0 frames); "
                                  "nothing was written")
        writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return EditReport(src=str(src), dst=str(dst), sample_rate=writer.sample_rate,
                      channels=writer.channels, frames=writer.frames_written,
                      duration_s=writer.frames_written / writer.sample_rate,
                      input_duration_s=frames_in / src_info.sample_rate, streamed=True,
                      subtype=writer.subtype, chain=chain.to_dict())


def _write(writer: io.AudioWriter | None, dst: Path, block: Audio | None,
           subtype: str | None) -> io.AudioWriter | None:
    """Write ``block``, opening the writer at the first non-empty one (rate and channels are
    the chain's output's, known only then)."""
    if block is None or block.frames == 0:
        return writer
    if writer is None:
        writer = io.AudioWriter(dst, block.sample_rate, block.channels, subtype=subtype)
    writer.write(block)
    return writer
