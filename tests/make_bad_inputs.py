"""Generate the bad-input corpus: files every layer (library, CLI, service) must reject cleanly.

Run ``python tests/make_bad_inputs.py DIR`` to write the corpus into DIR; the test suite calls
:func:`make_corpus` into a temporary folder. Every file is built byte by byte here (WAV headers
with :mod:`struct`), so the corpus does not depend on what an encoder agrees to write.

Each case maps a file name to the phrase its one-line error message must contain.
"""

from __future__ import annotations

import io as _io
import os
import struct
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

RATE_HZ = 16_000

# name -> (expected error class name, phrase the message must contain)
CASES: dict[str, tuple[str, str]] = {
    "empty.wav": ("AudioFileError", "empty file"),
    "zero_frames.wav": ("AudioFileError", "no audio"),
    "truncated_header.wav": ("AudioFileError", "truncated"),
    "truncated_data.wav": ("AudioFileError", "truncated"),
    "random_bytes.wav": ("UnsupportedFormatError", "not a recognised audio file"),
    "nan_inf.wav": ("InvalidAudioError", "non-finite"),
    "rate_0hz.wav": ("InvalidAudioError", "0 Hz"),
    "rate_1hz.wav": ("InvalidAudioError", "1 Hz"),
    "rate_1mhz.wav": ("InvalidAudioError", "1000000 Hz"),
    "channels_0.wav": ("InvalidAudioError", "0 channels"),
    "channels_256.wav": ("InvalidAudioError", "256 channels"),
    "claims_10_hours.wav": ("AudioFileError", "truncated"),
    "missing.wav": ("AudioFileError", "no such file"),
    "a_directory.wav": ("AudioFileError", "is a directory"),
    "unreadable.wav": ("AudioFileError", "permission denied"),
}

# A misnamed but valid file: MP3 bytes in a .wav name. Decision: read by content (libsndfile
# probes the bytes, not the name), and `info` reports the real format.
MISNAMED = "mp3_named.wav"


def wav_header(
    *,
    channels: int,
    rate_hz: int,
    bits: int = 16,
    fmt_tag: int = 1,
    data_bytes: int,
) -> bytes:
    """A canonical 44-byte RIFF/WAVE header declaring ``data_bytes`` of sample data."""
    block_align = channels * bits // 8
    fmt = struct.pack(
        "<HHIIHH", fmt_tag, channels, rate_hz, rate_hz * block_align, block_align, bits
    )
    riff_size = min(4 + (8 + len(fmt)) + 8 + data_bytes, 0xFFFFFFFF)
    return (
        b"RIFF" + struct.pack("<I", riff_size) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"data" + struct.pack("<I", min(data_bytes, 0xFFFFFFFF))
    )


def _tone(frames: int, rate_hz: int = RATE_HZ) -> np.ndarray:
    t = np.arange(frames) / rate_hz
    return (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def _pcm16_wav(frames: int, channels: int = 1, rate_hz: int = RATE_HZ) -> bytes:
    x = np.tile((_tone(frames, rate_hz) * 32767).astype("<i2")[:, None], (1, channels))
    return wav_header(channels=channels, rate_hz=rate_hz, data_bytes=x.nbytes) + x.tobytes()


def _mp3_bytes() -> bytes:
    buf = _io.BytesIO()
    sf.write(buf, _tone(RATE_HZ), RATE_HZ, format="MP3", subtype="MPEG_LAYER_III")
    return buf.getvalue()


def make_corpus(folder: str | os.PathLike[str]) -> Path:
    """Write every case of :data:`CASES` (and :data:`MISNAMED`) into ``folder``."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    good = _pcm16_wav(RATE_HZ)  # 1 s, mono, 16 kHz
    (d / "empty.wav").write_bytes(b"")
    (d / "zero_frames.wav").write_bytes(wav_header(channels=1, rate_hz=RATE_HZ, data_bytes=0))
    (d / "truncated_header.wav").write_bytes(good[:20])
    (d / "truncated_data.wav").write_bytes(good[: 44 + len(good[44:]) // 2])
    (d / "random_bytes.wav").write_bytes(np.random.default_rng(0).bytes(4096))
    (d / MISNAMED).write_bytes(_mp3_bytes())
    x = _tone(RATE_HZ)
    x[100], x[200], x[300] = np.nan, np.inf, -np.inf
    (d / "nan_inf.wav").write_bytes(
        wav_header(channels=1, rate_hz=RATE_HZ, bits=32, fmt_tag=3, data_bytes=x.nbytes)
        + x.astype("<f4").tobytes()
    )
    pcm = (_tone(RATE_HZ) * 32767).astype("<i2").tobytes()
    for name, rate in (("rate_0hz.wav", 0), ("rate_1hz.wav", 1), ("rate_1mhz.wav", 1_000_000)):
        (d / name).write_bytes(wav_header(channels=1, rate_hz=rate, data_bytes=len(pcm)) + pcm)
    (d / "channels_0.wav").write_bytes(wav_header(channels=0, rate_hz=RATE_HZ, data_bytes=len(pcm))
                                       + pcm)
    (d / "channels_256.wav").write_bytes(_pcm16_wav(256, channels=256))
    ten_hours = 10 * 3600 * RATE_HZ * 2  # bytes of 16-bit mono
    (d / "claims_10_hours.wav").write_bytes(
        wav_header(channels=1, rate_hz=RATE_HZ, data_bytes=ten_hours) + pcm
    )
    (d / "a_directory.wav").mkdir(exist_ok=True)
    unreadable = d / "unreadable.wav"
    unreadable.write_bytes(good)
    unreadable.chmod(0)
    return d


if __name__ == "__main__":
    out = make_corpus(sys.argv[1] if len(sys.argv) > 1 else "bad_inputs")
    print(f"wrote {len(list(out.iterdir()))} files to {out}")
