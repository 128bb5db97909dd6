"""Transcript formats: golden text for small hand-made segment lists, SRT round trip, writer."""

from __future__ import annotations

import json

import pytest

from wavesmith.errors import AudioValueError
from wavesmith.speech.asr import Segment, TranscriptInfo, Word
from wavesmith.speech.formats import (
    format_srt,
    format_timestamp,
    format_tsv,
    format_txt,
    format_vtt,
    parse_srt,
    render,
)

SEGMENTS = [
    Segment(id=0, start_s=0.0, end_s=2.5, text=" Hello there.", confidence=0.9,
            words=[Word(0.0, 1.0, "Hello", 0.95), Word(1.2, 2.5, "there.", 0.85)]),
    Segment(id=1, start_s=3661.0215, end_s=3662.9996, text="Second\tline\nwrapped",
            confidence=0.5, words=[]),
]
INFO = TranscriptInfo(engine="whisper", model="tiny.en", language="en", duration_s=3663.0,
                      sample_rate_hz=16_000, channels=1, chunk_s=30.0)

SRT = """1
00:00:00,000 --> 00:00:02,500
Hello there.

2
01:01:01,022 --> 01:01:03,000
Second line wrapped
"""

VTT = """WEBVTT

00:00:00.000 --> 00:00:02.500
Hello there.

01:01:01.022 --> 01:01:03.000
Second line wrapped
"""

TSV = "start_s\tend_s\ttext\n0.000\t2.500\tHello there.\n3661.022\t3663.000\tSecond line wrapped\n"


def test_srt_golden() -> None:
    assert format_srt(SEGMENTS) == SRT


def test_vtt_golden() -> None:
    assert format_vtt(SEGMENTS) == VTT


def test_tsv_and_txt_golden() -> None:
    assert format_tsv(SEGMENTS) == TSV
    assert format_txt(SEGMENTS) == "Hello there.\nSecond line wrapped\n"


def test_empty_transcript_formats() -> None:
    assert format_srt([]) == ""
    assert format_vtt([]) == "WEBVTT\n\n"
    assert json.loads(render("json", [], INFO))["segments"] == []


def test_json_has_segments_words_and_seconds() -> None:
    doc = json.loads(render("json", SEGMENTS, INFO))
    assert doc["info"]["sample_rate_hz"] == 16_000
    assert doc["text"] == "Hello there. Second line wrapped"
    assert doc["segments"][0]["words"][1] == {"start_s": 1.2, "end_s": 2.5, "text": "there.",
                                              "confidence": 0.85}
    assert doc["segments"][1]["start_s"] == pytest.approx(3661.0215)


def test_srt_round_trip() -> None:
    back = parse_srt(format_srt(SEGMENTS))
    assert [(s.start_s, s.end_s, s.text) for s in back] == [
        (0.0, 2.5, "Hello there."), (3661.022, 3663.0, "Second line wrapped")]
    assert format_srt(back) == SRT


def test_timestamp_rounding_and_errors() -> None:
    assert format_timestamp(59.9996) == "00:01:00.000"
    assert format_timestamp(0.0014, decimal_marker=",") == "00:00:00,001"
    with pytest.raises(AudioValueError, match="-1"):
        format_timestamp(-1.0)


def test_unknown_format() -> None:
    with pytest.raises(AudioValueError, match="unknown transcript format 'docx'"):
        render("docx", SEGMENTS)


def test_parse_srt_rejects_garbage() -> None:
    with pytest.raises(AudioValueError, match="malformed cue"):
        parse_srt("1\nnot a time\nhello\n")
