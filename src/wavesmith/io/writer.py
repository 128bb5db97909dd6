"""Writing audio atomically: :class:`AudioWriter` (block writer), :func:`save`, :func:`convert`.

Every write goes to a temporary file in the target folder and is renamed over the target only
when it is complete, so a crash, a full disk or a bad block never leaves a half-written file,
and an existing file is replaced in one step. The format comes from the output extension
(``.wav .flac .ogg .opus .mp3 .aiff .w64 .caf`` through libsndfile; ``.m4a .mp4 .aac`` through
ffmpeg when it is installed).
"""

from __future__ import annotations

import os
import subprocess
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf

from wavesmith.audio import Audio, check_audio, check_sample_rate
from wavesmith.errors import (
    AudioFileError,
    AudioValueError,
    MissingToolError,
    OverwriteError,
    SampleRateError,
    UnsupportedFormatError,
)
from wavesmith.io._backends import FFMPEG_WRITE, SOUNDFILE_WRITE, ffmpeg_path
from wavesmith.io.atomic import commit_temp, make_temp

__all__ = ["AudioWriter", "ClipPolicy", "ConvertReport", "check_output_path", "convert",
           "kept_subtype", "save", "writable_extensions"]

ClipPolicy = Literal["error", "clip", "warn"]
_FLOAT_SUBTYPES = {"FLOAT", "DOUBLE"}  # the only subtypes that keep samples beyond full scale


def writable_extensions() -> list[str]:
    """Output extensions :class:`AudioWriter` accepts (ffmpeg ones only when it is installed)."""
    exts = sorted(SOUNDFILE_WRITE)
    return exts + sorted(FFMPEG_WRITE) if ffmpeg_path() else exts


class AudioWriter:
    """Write ``Audio`` blocks to a file atomically; use as a context manager.

    Parameters
    ----------
    path : path-like
        Output file; its extension picks the format.
    sample_rate : int
        Hz; every block written must have this rate.
    channels : int
        Every block written must have this many channels.
    subtype : str, optional
        libsndfile subtype such as ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``; default per format.
    on_clip : {"warn", "clip", "error"}, default "warn"
        What to do with samples beyond ±1.0 for formats that cannot store them: clip and warn
        once, clip silently, or raise :class:`AudioValueError`.

    Notes
    -----
    The file appears at ``path`` only when the ``with`` block exits without an exception (or
    :meth:`close` is called); on an exception the temporary file is removed and any existing
    file at ``path`` is left untouched.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        sample_rate: int,
        channels: int,
        *,
        subtype: str | None = None,
        on_clip: ClipPolicy = "warn",
    ) -> None:
        self.path = Path(path)
        self.sample_rate = check_sample_rate(sample_rate)
        self.channels = int(channels)
        if on_clip not in ("warn", "clip", "error"):
            raise AudioValueError(f"on_clip={on_clip!r} must be 'warn', 'clip' or 'error'")
        self.on_clip = on_clip
        self._clip_warned = False
        self.frames_written = 0
        ext = self.path.suffix.lower()
        self._tmp = make_temp(self.path)
        self._proc: subprocess.Popen[bytes] | None = None
        self._sf: sf.SoundFile | None = None
        try:
            if ext in SOUNDFILE_WRITE:
                fmt, default_subtype = SOUNDFILE_WRITE[ext]
                self.subtype = (subtype or default_subtype).upper()
                self._open_soundfile(fmt)
            elif ext in FFMPEG_WRITE:
                self.subtype = FFMPEG_WRITE[ext][1].upper()
                self._open_ffmpeg(*FFMPEG_WRITE[ext])
            else:
                raise UnsupportedFormatError(
                    f"{self.path}: cannot write '{ext or 'no extension'}' files; "
                    f"supported: {' '.join(writable_extensions())}"
                )
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise

    def _open_soundfile(self, fmt: str) -> None:
        if not sf.check_format(fmt, self.subtype):
            raise UnsupportedFormatError(
                f"{self.path}: {fmt} cannot hold subtype {self.subtype}; choose one of "
                f"{', '.join(sorted(sf.available_subtypes(fmt)))}"
            )
        try:
            self._sf = sf.SoundFile(str(self._tmp), "w", samplerate=self.sample_rate,
                                    channels=self.channels, format=fmt, subtype=self.subtype)
        except (sf.LibsndfileError, ValueError, TypeError) as exc:
            msg = str(exc).split(": ", 1)[-1].strip()
            raise AudioFileError(
                f"{self.path}: cannot write {fmt}/{self.subtype} at {self.sample_rate} Hz "
                f"with {self.channels} channel(s) ({msg})"
            ) from exc

    def _open_ffmpeg(self, muxer: str, codec: str) -> None:
        ffmpeg = ffmpeg_path()
        if ffmpeg is None:
            raise MissingToolError(
                f"{self.path}: writing {self.path.suffix} files needs ffmpeg, which is not "
                "installed (apt-get install ffmpeg)"
            )
        cmd = [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar",
               str(self.sample_rate), "-ac", str(self.channels), "-i", "-", "-c:a", codec,
               "-f", muxer, str(self._tmp)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    # -- writing ----------------------------------------------------------------------------
    def write(self, audio: Audio) -> None:
        """Append a block; its rate and channel count must match the writer's."""
        check_audio(audio, min_frames=0)
        if audio.sample_rate != self.sample_rate:
            raise SampleRateError(
                f"{self.path}: writer is {self.sample_rate} Hz but the block is "
                f"{audio.sample_rate} Hz; resample explicitly"
            )
        if audio.channels != self.channels:
            raise AudioValueError(
                f"{self.path}: writer has {self.channels} channel(s) but the block has "
                f"{audio.channels}"
            )
        x = self._handle_clipping(audio.samples)
        if self._sf is not None:
            self._sf.write(x.T)
        elif self._proc is not None and self._proc.stdin is not None:
            try:
                self._proc.stdin.write(np.ascontiguousarray(x.T, dtype="<f4").tobytes())
            except BrokenPipeError as exc:
                raise AudioFileError(f"{self.path}: ffmpeg stopped ({self._ffmpeg_error()})"
                                     ) from exc
        self.frames_written += audio.frames

    def _handle_clipping(self, x: np.ndarray) -> np.ndarray:
        if self.subtype in _FLOAT_SUBTYPES or x.size == 0:
            return x
        peak = float(np.max(np.abs(x)))
        if peak <= 1.0:
            return x
        if self.on_clip == "error":
            raise AudioValueError(
                f"{self.path}: samples reach {20 * np.log10(peak):+.2f} dBFS, beyond full scale, "
                f"and {self.subtype} cannot store them; lower the gain or write FLOAT"
            )
        if self.on_clip == "warn" and not self._clip_warned:
            warnings.warn(f"{self.path}: clipping samples beyond full scale (peak "
                          f"{20 * np.log10(peak):+.2f} dBFS)", stacklevel=3)
            self._clip_warned = True
        return np.clip(x, -1.0, 1.0)

    def _ffmpeg_error(self) -> str:
        assert self._proc is not None and self._proc.stderr is not None
        self._proc.wait()
        lines = self._proc.stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self._proc.returncode}"

    # -- finishing --------------------------------------------------------------------------
    def close(self) -> None:
        """Finish the file and move it into place (atomic rename)."""
        try:
            if self._sf is not None:
                self._sf.close()
            if self._proc is not None:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                if self._proc.wait() != 0:
                    raise AudioFileError(f"{self.path}: ffmpeg failed ({self._ffmpeg_error()})")
            if self.frames_written == 0:
                raise AudioValueError(f"{self.path}: nothing was written (0 frames)")
            commit_temp(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Discard everything written; ``path`` is left as it was."""
        if self._sf is not None and not self._sf.closed:
            self._sf.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def save(
    audio: Audio,
    path: str | os.PathLike[str],
    subtype: str | None = None,
    *,
    on_clip: ClipPolicy = "warn",
) -> Path:
    """Write ``audio`` to ``path`` atomically; the extension picks the format.

    Returns
    -------
    Path
        The written file.
    """
    check_audio(audio)
    with AudioWriter(path, audio.sample_rate, audio.channels, subtype=subtype,
                     on_clip=on_clip) as writer:
        writer.write(audio)
    return writer.path


def check_output_path(
    output: str | os.PathLike[str], inputs: list[str | os.PathLike[str]], *, overwrite: bool
) -> Path:
    """Refuse an output path that is one of the inputs, unless ``overwrite``."""
    out = Path(output)
    for src in inputs:
        same = os.path.samefile(src, out) if out.exists() and Path(src).exists() else (
            Path(src).resolve() == out.resolve())
        if same and not overwrite:
            raise OverwriteError(
                f"{out}: output is the input file; pass overwrite=True (--overwrite) "
                "to replace it"
            )
    return out


def kept_subtype(src_codec: str, dst: str | os.PathLike[str]) -> str | None:
    """``src_codec`` when the format of ``dst`` can hold it, else None (the format's default).

    Converting a 24-bit WAV to FLAC keeps 24 bits; MP3 to FLAC falls back to FLAC's default.
    """
    ext = Path(dst).suffix.lower()
    if ext not in SOUNDFILE_WRITE:
        return None
    fmt = SOUNDFILE_WRITE[ext][0]
    ok = src_codec in sf.available_subtypes(fmt) and sf.check_format(fmt, src_codec)
    return src_codec if ok else None


@dataclass(frozen=True, slots=True)
class ConvertReport:
    """What :func:`convert` wrote."""

    src: str
    dst: str
    sample_rate: int     # Hz of the output
    channels: int
    subtype: str
    frames: int
    duration_s: float


def _map_channels(audio: Audio, channels: int | None) -> Audio:
    if channels is None or channels == audio.channels:
        return audio
    if channels == 1:
        return audio.to_mono()
    if audio.channels == 1:
        return Audio(np.repeat(audio.samples, channels, axis=0), audio.sample_rate)
    raise AudioValueError(
        f"cannot map {audio.channels} channels to {channels}; choose 1 (downmix) or "
        f"{audio.channels}"
    )


def convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    sample_rate: int | None = None,
    channels: int | None = None,
    subtype: str | None = None,
    overwrite: bool = False,
    block_seconds: float = 10.0,
    progress: Callable[[float, float], None] | None = None,
) -> ConvertReport:
    """Convert ``src`` to ``dst`` (format from its extension), streaming block by block.

    Parameters
    ----------
    sample_rate : int, optional
        Output rate in Hz (soxr HQ, streamed); ``None`` keeps the input's.
    channels : int, optional
        1 downmixes (mean); from mono, N duplicates; ``None`` keeps the input's.
    subtype : str, optional
        Output subtype (``PCM_16``, ``PCM_24``, ``FLOAT``...). ``None`` keeps the input's
        when the output format can hold it, else the format's default.
    overwrite : bool, default False
        Allow ``dst`` to be ``src`` (the input is replaced only once the output is complete).

    Memory stays at a few blocks whatever the file's length.
    """
    from wavesmith.io.reader import AudioReader, stream

    check_output_path(dst, [src], overwrite=overwrite)
    if channels is not None and channels < 1:
        raise AudioValueError(f"channels={channels} must be >= 1")
    with AudioReader(src) as reader:
        src_info = reader.info()
    out_rate = src_info.sample_rate if sample_rate is None else check_sample_rate(sample_rate)
    out_channels = src_info.channels if channels is None else channels
    if channels not in (None, 1, src_info.channels) and src_info.channels != 1:
        _map_channels(Audio(np.zeros((src_info.channels, 1), np.float32), out_rate), channels)
    subtype = subtype or kept_subtype(src_info.codec, dst)
    frames = 0
    with AudioWriter(dst, out_rate, out_channels, subtype=subtype) as writer:
        for block in stream(src, block_seconds, sample_rate=sample_rate, progress=progress):
            writer.write(_map_channels(block, channels))
            frames += block.frames
    return ConvertReport(src=str(src), dst=str(dst), sample_rate=out_rate,
                         channels=out_channels, subtype=writer.subtype, frames=frames,
                         duration_s=frames / out_rate)
