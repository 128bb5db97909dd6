"""``wavesmith music eval``: held-out perplexity and metric distances, measured in one run.

Protocol (all on real Nottingham tunes, split by piece, see :mod:`wavesmith.music.dataset`):

1. Train the n-gram baseline on the train split (original keys), at the highest order asked.
2. Held-out NLL per 16th-note token and perplexity on the test split for each order, with
   and without the metric-position context. The uniform-random generator's perplexity is
   the number of tokens it draws from.
3. Metric distances (:func:`wavesmith.music.metrics.metric_distance`) to the first
   ``bars`` bars of every test tune at least that long, for: one Markov sample per test
   tune (same meter; seed ``seed + i``), one uniform-random sample per test tune, and the
   valid split's real tunes (a floor: what real-vs-real looks like).

Transcription protocol (:func:`evaluate_transcription`, ``music eval --transcription``):
``n`` test-split tunes, evenly spaced through the sorted list, are rendered whole (melody and
chord tracks, as in the file) with FluidSynth at 22 050 Hz
(:func:`wavesmith.music.render.render_midi`), transcribed with basic-pitch
(:func:`wavesmith.music.transcribe.transcribe`, default thresholds) and scored against every
pitched note of the MIDI with ``mir_eval.transcription``: onset within 50 ms and pitch within
50 cents, offsets ignored; and again with offsets (within 20 % of the reference duration or
50 ms, mir_eval's defaults). Means and medians are over tunes.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wavesmith.errors import AudioValueError
from wavesmith.music.baseline import MarkovMelodyModel, sample_melody, sample_random
from wavesmith.music.dataset import load_split
from wavesmith.music.metrics import metric_distance, set_metrics

REMI_NGRAM_ORDER = 5    # REMI n-gram baseline order: best NLL on the valid split of orders 2..9

__all__ = ["EvalReport", "PerplexityRow", "TranscriptionReport", "TranscriptionRow",
           "baseline_distances", "crops_16", "evaluate_baseline", "evaluate_generator",
           "evaluate_transcription"]

ONSET_TOLERANCE_S = 0.05     # s, mir_eval's note onset window (MIREX)
OFFSET_RATIO = 0.2           # offset window as a share of the reference note's duration
OFFSET_MIN_TOLERANCE_S = 0.05  # s, smallest offset window


@dataclass(frozen=True)
class PerplexityRow:
    """Held-out score of one model: nats per 16th-note token and ``exp`` of it."""

    model: str
    order: int
    use_position: bool
    nll_per_token: float
    perplexity: float


@dataclass
class EvalReport:
    """Everything ``music eval`` measured; ``dataclasses.asdict`` makes it JSON."""

    pieces: dict[str, int]
    test_tokens: int
    perplexity: list[PerplexityRow]
    distance_bars: int
    distance_pieces: int
    sample_order: int
    temperature: float
    seed: int
    distances: dict[str, dict[str, float]] = field(default_factory=dict)
    real_metric_means: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def evaluate_baseline(root: str | os.PathLike[str] | None = None, *,
                      orders: tuple[int, ...] = (1, 2, 3, 4), sample_order: int = 3,
                      bars: int = 16, seed: int = 0, temperature: float = 1.0,
                      limit: int | None = None) -> EvalReport:
    """Run the protocol in the module docstring and return the numbers.

    Parameters
    ----------
    root : path-like, optional
        Folder of the Nottingham ``*.mid`` files (default: the shared data).
    orders : tuple of int
        n-gram orders whose held-out perplexity is measured.
    sample_order : int
        Order of the Markov model whose samples are compared by metrics.
    bars : int
        Length of generated samples and of the real crops they are compared with.
    seed : int
        First sampling seed; sample ``i`` uses ``seed + i``.
    limit : int, optional
        Use only the first ``limit`` pieces of each split (quick runs, tests).
    """
    if not orders or min(orders) < 1:
        raise AudioValueError(f"orders={orders} must be positive integers")
    if bars < 1:
        raise AudioValueError(f"bars={bars} must be >= 1")
    started = time.monotonic()
    data = load_split(root, limit=limit)
    top = max(*orders, sample_order)
    rows: list[PerplexityRow] = []
    models: dict[bool, MarkovMelodyModel] = {}
    for use_position in (True, False):
        models[use_position] = MarkovMelodyModel(top, use_position).fit(data["train"])
        for k in sorted(orders):
            nll, ppl = models[use_position].truncated(k).perplexity(data["test"])
            rows.append(PerplexityRow("markov", k, use_position, nll, ppl))
    vocab = sorted(models[True].unigram)
    rows.append(PerplexityRow("uniform-random", 0, False, math.log(len(vocab)),
                              float(len(vocab))))

    def crops(split: str) -> list[Any]:
        return [m.crop(bars) for m in data[split] if m.steps >= bars * m.steps_per_bar]

    reference, valid = crops("test"), crops("valid")
    if not reference:
        raise AudioValueError(f"no test tune is {bars} bars long; use fewer --bars")
    markov = models[True].truncated(sample_order)
    gen = [sample_melody(markov, bars=bars, seed=seed + i, temperature=temperature,
                         steps_per_bar=r.steps_per_bar) for i, r in enumerate(reference)]
    rnd = [sample_random(vocab, bars=bars, seed=seed + i, steps_per_bar=r.steps_per_bar)
           for i, r in enumerate(reference)]
    distances = {f"markov-{sample_order}": metric_distance(gen, reference),
                 "uniform-random": metric_distance(rnd, reference)}
    if valid:
        distances["real-valid"] = metric_distance(valid, reference)
    means = {k: float(v[v == v].mean()) for k, v in set_metrics(reference).items()}
    return EvalReport(
        pieces={k: len(v) for k, v in data.items()},
        test_tokens=sum(m.steps for m in data["test"]), perplexity=rows,
        distance_bars=bars, distance_pieces=len(reference), sample_order=sample_order,
        temperature=temperature, seed=seed, distances=distances, real_metric_means=means,
        seconds=time.monotonic() - started)


def crops_16(melodies: list[Any]) -> list[Any]:
    """The first 16 bars of every 4/4 tune at least that long (the distance references)."""
    return [m.crop(16) for m in melodies if m.steps_per_bar == 16 and m.steps >= 16 * 16]


def baseline_distances(reference: list[Any], valid: list[Any] | None = None
                       ) -> dict[str, dict[str, float]]:
    """Metric distances to ``reference`` (16-bar 4/4 crops) of the baselines every music
    generator is compared with: one sample of the shipped Markov table and one of
    uniform-random tokens per crop (seed ``i``), and, given ``valid``, real crops (the
    floor). Keys: ``markov-<order>``, ``uniform-random``, ``real-valid``."""
    from wavesmith.music.baseline import load_model

    n, markov = len(reference), load_model()
    out = {f"markov-{markov.order}": metric_distance(
               [sample_melody(markov, bars=16, seed=i, steps_per_bar=16) for i in range(n)],
               reference),
           "uniform-random": metric_distance(
               [sample_random(sorted(markov.unigram), bars=16, seed=i, steps_per_bar=16)
                for i in range(n)], reference)}
    if valid:
        out["real-valid"] = metric_distance(valid, reference)
    return out


def evaluate_generator(model: Any, data: dict[str, list[Any]], *, name: str, bars: int = 16,
                       seed: int = 0, temperature: float = 1.0, top_k: int | None = None
                       ) -> dict[str, Any]:
    """Score a trained melody model against the shipped Markov baseline, in one run.

    ``model`` has ``nll(melody)``, ``sample(bars=, seed=, temperature=, top_k=,
    steps_per_bar=)`` and ``tokens`` (``"grid"`` or ``"remi"``; e.g.
    :class:`wavesmith.music.transformer.MelodyTransformer`). Measures, on ``data["test"]``:
    NLL per token and perplexity of the model and of its n-gram baseline on the same tokens
    (grid: the shipped Markov table; REMI: a :class:`wavesmith.music.remi.RemiNgram` of
    order :data:`REMI_NGRAM_ORDER` counted on ``data["train"]`` in this run), and NLL per bar
    of the model and the grid Markov table (comparable across tokenizations); metric
    distances to the real ``bars``-bar test crops of one sample per crop (same meter, seed
    ``seed + i``) from the model and from the Markov table, and of the real valid crops; the
    mean time (s) to sample 16 bars of 4/4.
    """
    from wavesmith.music.baseline import load_model

    started = time.monotonic()
    markov = load_model()
    test = data["test"]
    mname = f"markov-{markov.order}"
    bars_total = sum(m.bars for m in test)

    def totals(scorer: Any) -> tuple[float, int]:
        pairs = [scorer.nll(m) for m in test]
        return sum(p[0] for p in pairs), sum(p[1] for p in pairs)

    nll_t, n_t = totals(model)
    m_nll_t, m_n = totals(markov)
    per_token = {name: nll_t / n_t}
    if getattr(model, "tokens", "grid") == "remi":
        from wavesmith.music.remi import RemiNgram

        ngram = RemiNgram(REMI_NGRAM_ORDER).fit(data["train"])
        g_t, g_n = totals(ngram)
        per_token[f"remi-{REMI_NGRAM_ORDER}gram"] = g_t / g_n
    else:
        per_token[mname] = m_nll_t / m_n
    per_bar = {name: nll_t / bars_total, mname: m_nll_t / bars_total}

    def crops(split: str) -> list[Any]:
        return [m.crop(bars) for m in data[split] if m.steps >= bars * m.steps_per_bar]

    reference, valid = crops("test"), crops("valid")
    t0 = time.monotonic()
    gen = [model.sample(bars=bars, seed=seed + i, temperature=temperature, top_k=top_k,
                        steps_per_bar=r.steps_per_bar) for i, r in enumerate(reference)]
    sample_s = (time.monotonic() - t0) / len(reference) * 16 / bars
    base = [sample_melody(markov, bars=bars, seed=seed + i, steps_per_bar=r.steps_per_bar)
            for i, r in enumerate(reference)]
    return {
        "test_pieces": len(test), "test_tokens": n_t, "tokens": getattr(model, "tokens", "grid"),
        "nll_per_token": {k: round(v, 4) for k, v in per_token.items()},
        "perplexity": {k: round(math.exp(v), 4) for k, v in per_token.items()},
        "test_bars": round(bars_total, 1),
        "nll_per_bar": {k: round(v, 3) for k, v in per_bar.items()},
        "distance_bars": bars, "distance_pieces": len(reference), "seed": seed,
        "temperature": temperature, "top_k": top_k,
        "distances": {name: metric_distance(gen, reference),
                      mname: metric_distance(base, reference),
                      "real-valid": metric_distance(valid, reference)},
        "seconds_per_16_bars": round(sample_s, 3),
        "eval_seconds": round(time.monotonic() - started, 1),
    }


@dataclass(frozen=True)
class TranscriptionRow:
    """Scores of one rendered tune (0..1; ``*_with_offsets`` also require matching offsets)."""

    piece: str
    duration_s: float
    reference_notes: int
    estimated_notes: int
    precision: float
    recall: float
    f_measure: float
    precision_with_offsets: float
    recall_with_offsets: float
    f_measure_with_offsets: float
    transcribe_seconds: float   # wall time of the transcription alone


@dataclass
class TranscriptionReport:
    """What ``music eval --transcription`` measured; ``dataclasses.asdict`` makes it JSON."""

    protocol: str
    soundfont: str
    onset_tolerance_s: float
    offset_ratio: float
    offset_min_tolerance_s: float
    pieces: list[TranscriptionRow]
    mean: dict[str, float]
    median: dict[str, float]
    seconds: float


_SCORES = ("precision", "recall", "f_measure", "precision_with_offsets",
           "recall_with_offsets", "f_measure_with_offsets")


def evaluate_transcription(root: str | os.PathLike[str] | None = None, *, n: int = 20,
                           soundfont: str | os.PathLike[str] | None = None,
                           log: Callable[[str], None] | None = None) -> TranscriptionReport:
    """Note-level transcription scores on ``n`` held-out tunes rendered to audio.

    Follows the transcription protocol of the module docstring. Takes a few seconds per tune
    (rendering and basic-pitch on one core).

    Parameters
    ----------
    root : path-like, optional
        Folder of the Nottingham ``*.mid`` files (default: the shared data).
    n : int
        Test tunes to use (all of them when ``n`` is at least the split's size, 102).
    soundfont : path-like, optional
        ``.sf2`` file for rendering (default: :func:`wavesmith.music.render.find_soundfont`).
    log : callable, optional
        Called with one line per tune as it is scored.

    Raises
    ------
    AudioValueError
        If ``n`` < 1.
    AudioFileError, MissingToolError, ModelError
        Missing data, FluidSynth, soundfont or basic-pitch model.
    """
    from wavesmith.music.dataset import nottingham_files
    from wavesmith.music.midi import load_midi, split_pieces
    from wavesmith.music.render import find_soundfont, render_midi
    from wavesmith.music.transcribe import MODEL_SAMPLE_RATE_HZ, note_f_measure, transcribe

    if n < 1:
        raise AudioValueError(f"n={n} must be >= 1")
    started = time.monotonic()
    sf2 = find_soundfont(soundfont)
    test = split_pieces(nottingham_files(root))["test"]
    picked = test if n >= len(test) else [test[(i * len(test)) // n] for i in range(n)]
    rows = []
    for path in picked:
        pm = load_midi(path)
        audio = render_midi(pm, sample_rate=MODEL_SAMPLE_RATE_HZ, soundfont=sf2)
        t0 = time.monotonic()
        notes = transcribe(audio).notes
        took = time.monotonic() - t0
        onset = note_f_measure(pm, notes, onset_tolerance_s=ONSET_TOLERANCE_S)
        both = note_f_measure(pm, notes, onset_tolerance_s=ONSET_TOLERANCE_S,
                              offset_ratio=OFFSET_RATIO,
                              offset_min_tolerance_s=OFFSET_MIN_TOLERANCE_S)
        row = TranscriptionRow(
            piece=path.stem, duration_s=round(audio.duration_s, 2),
            reference_notes=int(onset["reference_notes"]),
            estimated_notes=int(onset["estimated_notes"]), precision=onset["precision"],
            recall=onset["recall"], f_measure=onset["f_measure"],
            precision_with_offsets=both["precision"], recall_with_offsets=both["recall"],
            f_measure_with_offsets=both["f_measure"], transcribe_seconds=round(took, 2))
        rows.append(row)
        if log is not None:
            log(f"{row.piece:>14}: F {row.f_measure:.3f} (P {row.precision:.3f}, R "
                f"{row.recall:.3f}), with offsets {row.f_measure_with_offsets:.3f}; "
                f"{row.reference_notes} notes, {row.duration_s:.0f} s")
    return TranscriptionReport(
        protocol="Nottingham test-split tunes (melody + chords) rendered with FluidSynth at "
                 f"{MODEL_SAMPLE_RATE_HZ} Hz, transcribed with basic-pitch; mir_eval note "
                 "precision/recall/F (onset 50 ms, pitch 50 cents; offsets ignored, then "
                 "required)",
        soundfont=sf2.name, onset_tolerance_s=ONSET_TOLERANCE_S, offset_ratio=OFFSET_RATIO,
        offset_min_tolerance_s=OFFSET_MIN_TOLERANCE_S, pieces=rows,
        mean={k: statistics.fmean(getattr(r, k) for r in rows) for k in _SCORES},
        median={k: statistics.median(getattr(r, k) for r in rows) for k in _SCORES},
        seconds=round(time.monotonic() - started, 1))
