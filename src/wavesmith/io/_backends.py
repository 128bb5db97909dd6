"""Decoding and encoding back ends: libsndfile (through soundfile) and ffmpeg.

libsndfile (soundfile) is the default: it is in-process, probes files by content, seeks exactly,
and covers WAV/AIFF/FLAC/OGG Vorbis/Opus/MP3. ffmpeg covers the containers libsndfile does not
(M4A/AAC, MP4, WebM, WMA, ...) as a subprocess that pipes raw float32, so memory stays bounded.

A source exposes ``sample_rate``, ``channels``, ``frames`` (exact for libsndfile, estimated for
ffmpeg), ``format``, ``codec``, ``seek(frame)``, ``read(n) -> (n, channels) float32`` and
``close()``. Every error names the file in one line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import struct
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

from wavesmith.audio import MAX_CHANNELS, MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ
from wavesmith.errors import (
    AudioFileError,
    InvalidAudioError,
    MissingToolError,
    UnsupportedFormatError,
)

# Extensions handled by ffmpeg when libsndfile does not recognise the bytes.
FFMPEG_READ_EXTS = {".m4a", ".mp4", ".m4b", ".aac", ".webm", ".mkv", ".mka", ".wma", ".ac3",
                    ".amr", ".3gp", ".mov"}
# Output extension -> (ffmpeg muxer, ffmpeg codec)
FFMPEG_WRITE = {".m4a": ("ipod", "aac"), ".mp4": ("mp4", "aac"), ".aac": ("adts", "aac")}
# Output extension -> (libsndfile format, default subtype)
SOUNDFILE_WRITE = {
    ".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS"),
    ".oga": ("OGG", "VORBIS"), ".opus": ("OGG", "OPUS"), ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".aiff": ("AIFF", "PCM_16"), ".aif": ("AIFF", "PCM_16"), ".w64": ("W64", "PCM_16"),
    ".caf": ("CAF", "PCM_16"),
}
_UNKNOWN_LENGTH = {0, 0xFFFFFFFF}  # data sizes streaming writers put in headers
_SAMPLE_BYTES = {"PCM_S8": 1, "PCM_U8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4,
                 "DOUBLE": 8, "ULAW": 1, "ALAW": 1}  # bytes per sample of uncompressed subtypes
_SHOULD_BE = re.compile(r"^\s*(data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.M)


def ffmpeg_path(tool: str = "ffmpeg") -> str | None:
    """Path of ffmpeg/ffprobe, or None. ``WAVESMITH_FFMPEG`` names the ffmpeg binary to use."""
    override = os.environ.get("WAVESMITH_FFMPEG")
    if override is not None:
        if tool == "ffmpeg":
            return shutil.which(override)
        found = shutil.which(override)
        sibling = Path(found).with_name(tool) if found else None
        return str(sibling) if sibling and sibling.exists() else None
    return shutil.which(tool)


def check_input_path(path: str | os.PathLike[str]) -> Path:
    """Check ``path`` is an existing, readable, non-empty regular file; return it as a Path."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise AudioFileError(f"{p}: no such file") from None
    except PermissionError:
        raise AudioFileError(f"{p}: permission denied") from None
    except OSError as exc:
        raise AudioFileError(f"{p}: cannot access ({exc.strerror})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise AudioFileError(f"{p}: is a directory, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise AudioFileError(f"{p}: is not a regular file")
    if st.st_size == 0:
        raise AudioFileError(f"{p}: empty file (0 bytes)")
    try:
        with open(p, "rb") as fh:
            fh.read(1)
    except PermissionError:
        raise AudioFileError(f"{p}: permission denied") from None
    except OSError as exc:
        raise AudioFileError(f"{p}: cannot read ({exc.strerror})") from exc
    return p


def check_stream_params(path: Path, sample_rate: int, channels: int) -> None:
    """Reject rates and channel counts outside the :class:`~wavesmith.Audio` limits."""
    if not MIN_SAMPLE_RATE_HZ <= sample_rate <= MAX_SAMPLE_RATE_HZ:
        raise InvalidAudioError(
            f"{path}: sample rate {sample_rate} Hz is outside the supported range "
            f"{MIN_SAMPLE_RATE_HZ}-{MAX_SAMPLE_RATE_HZ} Hz"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise InvalidAudioError(
            f"{path}: {channels} channels is outside the supported range 1-{MAX_CHANNELS}"
        )


def _riff_fmt(path: Path) -> tuple[int, int] | None:
    """(channels, rate Hz) from a RIFF/WAVE 'fmt ' chunk, for messages libsndfile can't give."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        cid, size = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if cid == b"fmt " and pos + 16 <= len(head):
            channels, rate = struct.unpack("<HI", head[pos + 10:pos + 16])
            return channels, rate
        pos += 8 + size + (size & 1)
    return None


class SoundfileSource:
    """A file decoded in-process by libsndfile."""

    backend = "libsndfile"

    def __init__(self, path: Path, handle: sf.SoundFile) -> None:
        self.path, self._f = path, handle
        self.sample_rate, self.channels = int(handle.samplerate), int(handle.channels)
        self.frames = int(handle.frames)
        self.format, self.codec = str(handle.format), str(handle.subtype)
        self.format_name = str(handle.format_info)

    @classmethod
    def open(cls, path: Path) -> SoundfileSource:
        try:
            handle = sf.SoundFile(str(path))
        except sf.LibsndfileError as exc:
            raise _libsndfile_open_error(path, exc) from exc
        try:
            src = cls(path, handle)
            check_stream_params(path, src.sample_rate, src.channels)
            src._check_truncation()
        except BaseException:
            handle.close()
            raise
        return src

    def _check_truncation(self) -> None:
        """Reject a file whose header declares more sample data than the file holds.

        libsndfile reads such files leniently and logs ``data : N (should be M)``; a decoder
        that silently returned half a file would lose audio without a word, so we refuse.
        """
        m = _SHOULD_BE.search(self._f.extra_info)
        if not m:
            return
        declared, actual = int(m.group(2)), int(m.group(3))
        if declared in _UNKNOWN_LENGTH or declared <= actual:
            return
        bytes_per_s = _SAMPLE_BYTES.get(self.codec, 2) * self.channels * self.sample_rate
        raise AudioFileError(
            f"{self.path}: truncated: header declares {_fmt_duration(declared / bytes_per_s)} "
            f"of audio but the file holds {_fmt_duration(actual / bytes_per_s)}"
        )

    def seek(self, frame: int) -> None:
        self._f.seek(frame)

    def read(self, n: int) -> np.ndarray:
        try:
            return self._f.read(n, dtype="float32", always_2d=True)
        except sf.LibsndfileError as exc:
            raise AudioFileError(f"{self.path}: cannot decode ({_one_line(exc)})") from exc

    def close(self) -> None:
        self._f.close()


class FfmpegSource:
    """A file decoded by an ffmpeg subprocess into raw float32 on a pipe."""

    backend = "ffmpeg"

    def __init__(self, path: Path) -> None:
        ffmpeg, ffprobe = ffmpeg_path("ffmpeg"), ffmpeg_path("ffprobe")
        if ffmpeg is None or ffprobe is None:
            raise MissingToolError(
                f"{path}: reading {path.suffix or 'this'} files needs ffmpeg, which is not "
                "installed (apt-get install ffmpeg)"
            )
        self.path, self._ffmpeg = path, ffmpeg
        probe = subprocess.run(
            [ffprobe, "-v", "error", "-select_streams", "a:0", "-show_streams",
             "-show_format", "-of", "json", str(path)],
            capture_output=True, text=True, timeout=60, check=False,
        )
        data = json.loads(probe.stdout or "{}") if probe.returncode == 0 else {}
        streams = data.get("streams") or []
        if not streams:
            detail = _one_line(probe.stderr) if probe.returncode else "no audio stream found"
            raise UnsupportedFormatError(f"{path}: not a recognised audio file ({detail})")
        s, fmt = streams[0], data.get("format", {})
        self.sample_rate, self.channels = int(s.get("sample_rate", 0)), int(s.get("channels", 0))
        check_stream_params(path, self.sample_rate, self.channels)
        duration = float(s.get("duration") or fmt.get("duration") or 0.0)
        self.frames = round(duration * self.sample_rate)
        self.format = str(fmt.get("format_name", "unknown")).split(",")[0].upper()
        self.format_name = str(fmt.get("format_long_name", self.format))
        self.codec = str(s.get("codec_name", "unknown")).upper()
        self._proc: subprocess.Popen[bytes] | None = None
        self._start = 0

    def _spawn(self) -> subprocess.Popen[bytes]:
        cmd = [self._ffmpeg, "-nostdin", "-v", "error"]
        if self._start:
            cmd += ["-ss", f"{self._start / self.sample_rate:.6f}"]
        cmd += ["-i", str(self.path), "-map", "0:a:0", "-f", "f32le", "-acodec", "pcm_f32le",
                "-ac", str(self.channels), "-ar", str(self.sample_rate), "-"]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def seek(self, frame: int) -> None:
        self.close()
        self._start = frame

    def read(self, n: int) -> np.ndarray:
        if self._proc is None:
            self._proc = self._spawn()
        assert self._proc.stdout is not None
        want = n * self.channels * 4
        buf = bytearray()
        while len(buf) < want:
            chunk = self._proc.stdout.read(want - len(buf))
            if not chunk:
                break
            buf += chunk
        if len(buf) < want and self._proc.wait() != 0:
            assert self._proc.stderr is not None
            err = _one_line(self._proc.stderr.read().decode(errors="replace"))
            raise AudioFileError(f"{self.path}: ffmpeg cannot decode ({err})")
        usable = len(buf) - len(buf) % (self.channels * 4)
        return np.frombuffer(bytes(buf[:usable]), "<f4").reshape(-1, self.channels)

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for pipe in (self._proc.stdout, self._proc.stderr):
                if pipe:
                    pipe.close()
            self._proc = None


def open_source(path: str | os.PathLike[str]) -> SoundfileSource | FfmpegSource:
    """Open ``path`` with libsndfile, falling back to ffmpeg for containers it cannot read."""
    p = check_input_path(path)
    try:
        return SoundfileSource.open(p)
    except UnsupportedFormatError:
        if p.suffix.lower() in FFMPEG_READ_EXTS or _looks_like_container(p):
            return FfmpegSource(p)
        raise


def _looks_like_container(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(12)
    return head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3"  # MP4/M4A, Matroska/WebM


def _libsndfile_open_error(path: Path, exc: sf.LibsndfileError) -> Exception:
    msg = _one_line(exc).split(": ", 1)[-1]  # drop soundfile's "Error opening '...'" prefix
    low = msg.lower()
    fmt = _riff_fmt(path)
    if fmt is not None:
        channels, rate = fmt
        try:
            check_stream_params(path, rate, channels)
        except InvalidAudioError as bad:
            return bad
    if "not recognised" in low or "unknown format" in low:
        return UnsupportedFormatError(f"{path}: not a recognised audio file ({msg})")
    if any(k in low for k in ("malformed", "chunk", "short", "truncat", "end of file")):
        size = path.stat().st_size
        return AudioFileError(f"{path}: truncated or malformed header ({size} bytes; {msg})")
    return AudioFileError(f"{path}: cannot open ({msg})")


def _one_line(text: object) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _fmt_duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.2f} s"
