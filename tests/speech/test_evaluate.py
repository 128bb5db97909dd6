"""Text normalisation, error counts and manifest reading (no engine needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wavesmith.errors import AudioFileError, AudioValueError
from wavesmith.speech.evaluate import (
    normalize_text,
    number_to_words,
    read_manifest,
    word_error_counts,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("And so, my fellow Americans, ask not!", "and so my fellow americans ask not"),
    ("For the 20th time", "for the twentieth time"),
    ("Lord, but I'm glad", "lord but im glad"),
    ("1,000 and 3.5 and 2nd and 101st", "one thousand and three point five and second and "
                                        "one hundred first"),
    ("0", "zero"),
    ("  multiple \t spaces\n", "multiple spaces"),
    ("well-known", "well known"),
    ("café", "café"),
])
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(("n", "words"), [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (99, "ninety nine"), (100, "one hundred"),
    (1961, "one thousand nine hundred sixty one"), (2_000_005, "two million five"),
])
def test_number_to_words(n: int, words: str) -> None:
    assert number_to_words(n) == words


def test_word_error_counts() -> None:
    # one substitution (cat→bat), one deletion (the), one insertion (now)
    assert word_error_counts("the cat sat on the mat", "bat sat on the mat now") == (1, 1, 1, 6)
    assert word_error_counts("a b c", "") == (0, 3, 0, 3)


def test_read_manifest(tmp_path: Path) -> None:
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "m.csv").write_text("path,text\na.wav,hello\n", encoding="utf-8")
    rows = read_manifest(tmp_path / "m.csv")
    assert rows[0].path == tmp_path / "a.wav"
    assert rows[0].text == "hello"


def test_read_manifest_errors(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="manifest not found"):
        read_manifest(tmp_path / "none.csv")
    (tmp_path / "m.csv").write_text("path,digit\na.wav,3\n", encoding="utf-8")
    with pytest.raises(AudioValueError, match=r"no 'text' column \(columns: path, digit\)"):
        read_manifest(tmp_path / "m.csv")
    with pytest.raises(AudioFileError, match=r"a\.wav not found"):
        read_manifest(tmp_path / "m.csv", text_column="digit")
