"""Word and character error rates of an engine against a manifest of reference transcripts.

Error counts come from jiwer (chosen because it is the field's reference implementation of
the Levenshtein alignment behind WER/CER, with separate substitution/deletion/insertion
counts). Both texts are first put through :func:`normalize_text`:

1. Unicode NFKC, lowercase;
2. numbers become words: ``"20th"`` → ``"twentieth"``, ``"1,000"`` → ``"one thousand"``,
   ``"3.5"`` → ``"three point five"``, ``"7"`` → ``"seven"`` (digits to words, never the
   reverse; years are read as plain numbers, ``"1961"`` → ``"one thousand nine hundred sixty
   one"``, so a reference spelling ``"nineteen sixty one"`` still counts as errors);
3. apostrophes are removed (``"I'm"`` → ``"im"``), every other non-alphanumeric character
   becomes a space;
4. runs of whitespace collapse to one space, ends stripped.

WER and CER are corpus-level: total edits over total reference words (characters, spaces
included) of all utterances, not a mean of per-utterance rates. The real-time factor (RTF) is
decoding seconds over audio seconds; model loading is reported apart (``load_s``).
"""

from __future__ import annotations

import csv
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from wavesmith import io
from wavesmith.errors import AudioFileError, AudioValueError
from wavesmith.speech.asr import (
    DEFAULT_ENGINE,
    TranscribeOptions,
    get_transcriber,
    transcribe,
)

__all__ = [
    "EvalReport",
    "ManifestRow",
    "UtteranceResult",
    "evaluate_manifest",
    "iter_evaluate",
    "normalize_text",
    "number_to_words",
    "read_manifest",
    "word_error_counts",
]

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand")]
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                  "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
_MAX_NUMBER = 10**15 - 1  # longer digit strings are read digit by digit

_GROUPED = re.compile(r"(?<=\d),(?=\d{3}\b)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:st|nd|rd|th)?")


def number_to_words(n: int) -> str:
    """English words for a non-negative integer: ``115`` → ``"one hundred fifteen"``."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + ("" if rest == 0 else " " + number_to_words(rest))
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return (number_to_words(head) + " " + name
                    + ("" if rest == 0 else " " + number_to_words(rest)))
    raise AssertionError("unreachable")


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return (head + " " + last).strip()


def _spell_number(match: re.Match[str]) -> str:
    token = match.group(0)
    suffix = token[-2:] if token[-2:].isalpha() else ""
    digits = token[: len(token) - len(suffix)]
    whole, _, frac = digits.partition(".")
    if len(whole) > len(str(_MAX_NUMBER)):
        words = " ".join(_ONES[int(d)] for d in whole)
    else:
        words = number_to_words(int(whole))
    if frac:
        words += " point " + " ".join(_ONES[int(d)] for d in frac)
    elif suffix:
        words = _ordinal(words)
    return f" {words} "


def normalize_text(text: str) -> str:
    """Normalise a transcript for WER/CER (see the module docstring for the rules).

    Examples
    --------
    >>> normalize_text("And so, my fellow Americans: ask NOT!")
    'and so my fellow americans ask not'
    >>> normalize_text("For the 20th time, 3 men; I'm 1,000 km away.")
    'for the twentieth time three men im one thousand km away'
    """
    s = unicodedata.normalize("NFKC", text).lower()
    s = _GROUPED.sub("", s)
    s = _NUMBER.sub(_spell_number, s)
    s = s.replace("'", "").replace("\u2019", "")
    s = re.sub(r"[^\w\s]|_", " ", s)
    return " ".join(s.split())


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One utterance of a manifest: the audio file and its reference text."""

    path: Path
    text: str


def read_manifest(manifest: str | os.PathLike[str], *, text_column: str = "text",
                  path_column: str = "path") -> list[ManifestRow]:
    """Read a CSV manifest; ``path`` is relative to the manifest's folder (or absolute).

    Raises
    ------
    AudioFileError
        The manifest, or an audio file it names, does not exist or cannot be read.
    AudioValueError
        A column is missing, or the manifest has no rows.
    """
    src = Path(manifest)
    try:
        with open(src, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            for col in (path_column, text_column):
                if col not in columns:
                    raise AudioValueError(f"{src}: no {col!r} column (columns: "
                                          f"{', '.join(columns) or 'none'}); "
                                          f"pass --text-column to pick the reference column")
            rows = [ManifestRow(path=src.parent / r[path_column], text=r[text_column] or "")
                    for r in reader]
    except FileNotFoundError as exc:
        raise AudioFileError(f"{src}: manifest not found") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise AudioFileError(f"{src}: cannot read the manifest ({exc})") from exc
    if not rows:
        raise AudioValueError(f"{src}: the manifest has no rows")
    missing = [r.path for r in rows if not r.path.is_file()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise AudioFileError(f"{src}: audio file {missing[0]} not found{more}")
    return rows


@dataclass(frozen=True, slots=True)
class UtteranceResult:
    """Scores of one utterance; texts are normalised."""

    path: str
    reference: str
    hypothesis: str
    wer: float             # fraction (0.1 = 10 %)
    cer: float             # fraction
    substitutions: int
    deletions: int
    insertions: int
    ref_words: int
    duration_s: float      # seconds of audio
    processing_s: float    # seconds spent decoding


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Corpus-level scores of one engine on a manifest."""

    manifest: str
    engine: str
    model: str
    utterances: int
    wer: float             # fraction: (S + D + I) / reference words
    cer: float             # fraction: character edits / reference characters
    substitutions: int
    deletions: int
    insertions: int
    ref_words: int
    ref_chars: int
    audio_s: float         # seconds of audio
    processing_s: float    # seconds spent decoding
    rtf: float             # processing_s / audio_s (< 1: faster than real time)
    load_s: float          # seconds to load the model (0 when already loaded)
    results: list[UtteranceResult] = field(default_factory=list)


def word_error_counts(reference: str, hypothesis: str) -> tuple[int, int, int, int]:
    """``(substitutions, deletions, insertions, reference words)`` of normalised texts."""
    import jiwer

    if not reference:
        return 0, 0, len(hypothesis.split()), 0
    out = jiwer.process_words(reference, hypothesis or "")
    return out.substitutions, out.deletions, out.insertions, len(reference.split())


def _char_edits(reference: str, hypothesis: str) -> int:
    import jiwer

    if not reference:
        return len(hypothesis)
    out = jiwer.process_characters(reference, hypothesis or "")
    return out.substitutions + out.deletions + out.insertions


def iter_evaluate(rows: list[ManifestRow], *, engine: str = DEFAULT_ENGINE,
                  model: str | None = None, model_dir: str | os.PathLike[str] | None = None,
                  options: TranscribeOptions | None = None) -> Iterator[UtteranceResult]:
    """Transcribe and score each row in turn, yielding as each one finishes."""
    for row in rows:
        started = time.perf_counter()
        segments, info = transcribe(row.path, engine=engine, model=model, model_dir=model_dir,
                                    options=options)
        hyp = normalize_text(" ".join(s.text for s in segments))
        elapsed = time.perf_counter() - started
        ref = normalize_text(row.text)
        if not ref:
            raise AudioValueError(f"{row.path}: the reference text is empty after normalisation")
        sub, dele, ins, n = word_error_counts(ref, hyp)
        yield UtteranceResult(
            path=str(row.path), reference=ref, hypothesis=hyp, wer=round((sub + dele + ins) / n, 4),
            cer=round(_char_edits(ref, hyp) / len(ref), 4), substitutions=sub, deletions=dele,
            insertions=ins, ref_words=n, duration_s=round(info.duration_s, 3),
            processing_s=round(elapsed, 3),
        )


def evaluate_manifest(
    manifest: str | os.PathLike[str],
    *,
    engine: str = DEFAULT_ENGINE,
    model: str | None = None,
    model_dir: str | os.PathLike[str] | None = None,
    options: TranscribeOptions | None = None,
    limit: int | None = None,
    every: int = 1,
    text_column: str = "text",
    progress: Callable[[float, float], None] | None = None,
) -> EvalReport:
    """Score ``engine`` on a CSV manifest (columns ``path`` and ``text_column``).

    Parameters
    ----------
    limit : int, optional
        Use at most this many rows (after ``every``).
    every : int, default 1
        Use every ``every``-th row (a spread-out subset of a large manifest).
    progress : callable, optional
        ``progress(utterances_done, utterances_total)`` after each utterance.
    """
    if every < 1:
        raise AudioValueError(f"every={every} must be >= 1")
    if limit is not None and limit < 1:
        raise AudioValueError(f"limit={limit} must be >= 1")
    rows = read_manifest(manifest, text_column=text_column)[::every][:limit]
    for row in rows:
        io.info(row.path)  # fail early, before any decoding, on an unreadable file
    started = time.perf_counter()
    transcriber = get_transcriber(engine, model=model, model_dir=model_dir)
    load_s = time.perf_counter() - started
    results = []
    for result in iter_evaluate(rows, engine=engine, model=model, model_dir=model_dir,
                                options=options):
        results.append(result)
        if progress is not None:
            progress(float(len(results)), float(len(rows)))
    ref_words = sum(r.ref_words for r in results)
    ref_chars = sum(len(r.reference) for r in results)
    char_edits = sum(_char_edits(r.reference, r.hypothesis) for r in results)
    sub = sum(r.substitutions for r in results)
    dele = sum(r.deletions for r in results)
    ins = sum(r.insertions for r in results)
    audio_s = sum(r.duration_s for r in results)
    processing_s = sum(r.processing_s for r in results)
    return EvalReport(
        manifest=str(manifest), engine=engine, model=transcriber.model_name,
        utterances=len(results), wer=round((sub + dele + ins) / max(ref_words, 1), 4),
        cer=round(char_edits / max(ref_chars, 1), 4), substitutions=sub, deletions=dele,
        insertions=ins, ref_words=ref_words, ref_chars=ref_chars, audio_s=round(audio_s, 3),
        processing_s=round(processing_s, 3), rtf=round(processing_s / max(audio_s, 1e-9), 4),
        load_s=round(load_s, 3), results=results,
    )
