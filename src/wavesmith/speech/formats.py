"""Transcript formats: TXT, SRT, VTT, TSV and JSON, and an atomic text writer.

* ``txt``: one line per segment.
* ``srt``: SubRip cues ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, numbered from 1.
* ``vtt``: WebVTT (``WEBVTT`` header, ``HH:MM:SS.mmm`` times).
* ``tsv``: header ``start_s<TAB>end_s<TAB>text``, times in seconds with 3 decimals.
* ``json``: ``{"info": ..., "text": ..., "segments": [... "words": [...]]}``, times in seconds.

Times are rounded to the nearest millisecond.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable

from wavesmith.errors import AudioValueError
from wavesmith.speech.asr import Segment, TranscriptInfo, Word

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "format_json",
    "format_srt",
    "format_timestamp",
    "format_tsv",
    "format_txt",
    "format_vtt",
    "parse_srt",
    "render",
    "transcript_dict",
]


MEDIA_TYPES = {"txt": "text/plain", "srt": "application/x-subrip", "vtt": "text/vtt",
               "tsv": "text/tab-separated-values", "json": "application/json"}


def format_timestamp(seconds: float, *, decimal_marker: str = ".") -> str:
    """``HH:MM:SS<marker>mmm`` for a non-negative time in seconds (rounded to 1 ms)."""
    if seconds < 0:
        raise AudioValueError(f"timestamp {seconds} s must be >= 0")
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{ms:03d}"


def _seconds(t: float) -> str:
    """Seconds with 3 decimals, rounded to the nearest ms like :func:`format_timestamp`."""
    ms = round(t * 1000)
    return f"{ms // 1000}.{ms % 1000:03d}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def format_txt(segments: Iterable[Segment]) -> str:
    """Segment texts, one per line."""
    return "".join(_one_line(s.text) + "\n" for s in segments)


def format_srt(segments: Iterable[Segment]) -> str:
    """SubRip subtitles, cues numbered from 1."""
    cues = []
    for i, s in enumerate(segments, start=1):
        cues.append(f"{i}\n{format_timestamp(s.start_s, decimal_marker=',')} --> "
                    f"{format_timestamp(s.end_s, decimal_marker=',')}\n{_one_line(s.text)}\n")
    return "\n".join(cues)


def format_vtt(segments: Iterable[Segment]) -> str:
    """WebVTT subtitles."""
    cues = [f"{format_timestamp(s.start_s)} --> {format_timestamp(s.end_s)}\n"
            f"{_one_line(s.text)}\n" for s in segments]
    return "WEBVTT\n\n" + "\n".join(cues)


def format_tsv(segments: Iterable[Segment]) -> str:
    """Tab-separated ``start_s``, ``end_s`` (seconds, 3 decimals) and ``text``."""
    rows = [f"{_seconds(s.start_s)}\t{_seconds(s.end_s)}\t{_one_line(s.text)}\n"
            for s in segments]
    return "start_s\tend_s\ttext\n" + "".join(rows)


def transcript_dict(segments: Iterable[Segment], info: TranscriptInfo | None) -> dict[str, object]:
    """The JSON document: info, full text, and segments with words (times in seconds)."""
    segs = list(segments)
    return {
        "info": None if info is None else dataclasses.asdict(info),
        "text": " ".join(_one_line(s.text) for s in segs),
        "segments": [dataclasses.asdict(s) for s in segs],
    }


def format_json(segments: Iterable[Segment], info: TranscriptInfo | None = None) -> str:
    """One JSON document (see :func:`transcript_dict`), indented, ending with a newline."""
    return json.dumps(transcript_dict(segments, info), indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[list[Segment], TranscriptInfo | None], str]] = {
    "txt": lambda s, _: format_txt(s),
    "srt": lambda s, _: format_srt(s),
    "vtt": lambda s, _: format_vtt(s),
    "tsv": lambda s, _: format_tsv(s),
    "json": format_json,
}


def render(fmt: str, segments: Iterable[Segment], info: TranscriptInfo | None = None) -> str:
    """Format segments as ``fmt`` (one of :data:`FORMATS`)."""
    key = fmt.lower().lstrip(".")
    if key not in FORMATS:
        raise AudioValueError(f"unknown transcript format {fmt!r}; choose one of "
                              f"{', '.join(FORMATS)}")
    return FORMATS[key](list(segments), info)


_SRT_TIME = r"(\d{2,}):(\d{2}):(\d{2}),(\d{3})"
_SRT_CUE = re.compile(rf"^\d+\n{_SRT_TIME} --> {_SRT_TIME}\n(.*?)\n?$", re.DOTALL)


def parse_srt(text: str) -> list[Segment]:
    """Read SubRip text back into segments (no words; confidence 1.0)."""
    segments = []
    for block in filter(None, (b.strip("\n") for b in text.replace("\r\n", "\n").split("\n\n"))):
        m = _SRT_CUE.match(block)
        if m is None:
            raise AudioValueError(f"srt: malformed cue {block.splitlines()[0]!r}")
        g = [int(x) for x in m.groups()[:8]]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        segments.append(Segment(id=len(segments), start_s=round(start, 3), end_s=round(end, 3),
                                text=m.group(9).replace("\n", " "), confidence=1.0,
                                words=list[Word]()))
    return segments


