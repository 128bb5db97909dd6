"""An n-gram (Markov) melody model on the 16th-note grid: the baseline every model must beat.

The model predicts the next grid token (:mod:`wavesmith.music.midi`: a pitch onset,
``NOTE_OFF`` or ``NO_EVENT``) from a context that grows with the order: the metric position
(meter and 16th-note step within the bar; can be switched off), then the number of steps
since the last event, then the last ``order - 2`` events (held steps skipped, see
:class:`_History`). On held-out Nottingham tunes order 3 is best (perplexity 2.65 per
16th-note token); higher orders overfit with this smoothing (``wavesmith music eval``).
Probabilities are interpolated Witten-Bell estimates (Witten & Bell 1991; Chen & Goodman 1998,
sec. 2.5), backing off from the longest history to the position alone, the unigram and
finally a uniform distribution over all 130 tokens, so every held-out token has a finite
likelihood. Pieces start from a ``BOS`` context.

The shipped table ``data/markov_nottingham.json`` is built by ``wavesmith music train-markov``
(see :data:`SHIPPED_MODEL` and the file's ``provenance`` field).
"""

from __future__ import annotations

import gzip
import json
import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.errors import AudioValueError, ModelError, ModelNotFoundError
from wavesmith.music.metrics import token_perplexity
from wavesmith.music.midi import (
    DEFAULT_TEMPO_BPM,
    MAX_PITCH,
    NO_EVENT,
    Melody,
    transpose,
)

__all__ = [
    "MAX_BARS",
    "MAX_ORDER",
    "SHIPPED_MODEL",
    "MarkovMelodyModel",
    "continue_melody",
    "load_model",
    "sample_melody",
    "sample_random",
    "train_on_nottingham",
]

BOS = -3                        # context-only token: before the first step of a piece
VOCAB = np.arange(NO_EVENT, MAX_PITCH + 1, dtype=np.int16)  # 130 tokens: -2, -1, 0..127
MAX_ORDER = 8                   # longest supported n-gram
MAX_SINCE_STEPS = 16            # 16th notes; "steps since the last event" saturates here
MAX_BARS = 1024                 # longest generation, in bars
MAX_TEMPERATURE = 10.0          # softmax temperature upper bound (dimensionless)
SHIPPED_MODEL = Path(__file__).with_name("data") / "markov_nottingham.json.gz"
FORMAT = 1                      # version of the JSON table format


def _context(history: Sequence[int], meter: int, pos: int, n_hist: int,
             use_position: bool) -> str:
    """Key of a context: ``meter:pos|since|e1,e2`` (empty position when not used).

    ``history`` is the state from :class:`_History`: its first item is the number of steps
    since the last event (capped), the rest are the previous events, oldest first.
    """
    head = f"{meter}:{pos}" if use_position else ""
    if n_hist == 0:
        return head
    events = history[len(history) - n_hist + 1:] if n_hist > 1 else ()
    return f"{head}|{history[0]}|" + ",".join(map(str, events))


class _History:
    """The model's view of the past: the last ``order - 2`` events (onsets and NOTE_OFF;
    ``NO_EVENT`` steps are skipped) and the steps since the last event, capped at
    :data:`MAX_SINCE_STEPS`. Skipping held steps keeps the pitch context alive through
    long notes, which a plain n-gram over grid steps forgets."""

    def __init__(self, order: int, tokens: Sequence[int] = ()) -> None:
        self.n_events = max(order - 2, 0)
        self.events: list[int] = [BOS] * self.n_events
        self.since = 0
        for tok in tokens:
            self.push(tok)

    def push(self, tok: int) -> None:
        if tok == NO_EVENT:
            self.since = min(self.since + 1, MAX_SINCE_STEPS)
            return
        self.since = 0
        if self.n_events:
            self.events.append(tok)
            del self.events[0]

    def state(self) -> list[int]:
        return [self.since, *self.events]


@dataclass
class MarkovMelodyModel:
    """Interpolated Witten-Bell n-gram over melody grid tokens.

    Parameters
    ----------
    order : int
        Number of context levels: 1 = position only, 2 = + steps since the last event,
        3 = + the last event, ``n`` = + the last ``n - 2`` events.
    use_position : bool
        Condition on the meter and step within the bar.
    counts : list of dict
        ``counts[k][context] = {token: count}`` for context level ``k``
        (``k = 0 .. order - 1``); below level 0 come ``unigram`` and the uniform.
    """

    order: int = 3
    use_position: bool = True
    counts: list[dict[str, dict[int, int]]] = field(default_factory=list)
    unigram: dict[int, int] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.order <= MAX_ORDER:
            raise AudioValueError(f"order={self.order} must be 1..{MAX_ORDER}")
        if not self.counts:
            self.counts = [{} for _ in range(self.order)]

    # -- training -------------------------------------------------------------------------
    def fit(self, melodies: Iterable[Melody], *, transpositions: Sequence[int] = (0,)
            ) -> MarkovMelodyModel:
        """Count n-grams in ``melodies`` (each also transposed by each of ``transpositions``
        semitones where it stays in MIDI range). Returns ``self``."""
        tmp: list[defaultdict[str, Counter[int]]] = [defaultdict(Counter)
                                                      for _ in range(self.order)]
        uni: Counter[int] = Counter()
        for base in melodies:
            for shift in transpositions:
                try:
                    mel = transpose(base, shift) if shift else base
                except AudioValueError:
                    continue
                hist = _History(self.order)
                toks = mel.tokens.tolist()
                uni.update(toks)
                for i, tok in enumerate(toks):
                    pos, state = i % mel.steps_per_bar, hist.state()
                    for k in range(self.order):
                        tmp[k][_context(state, mel.steps_per_bar, pos, k, self.use_position)][
                            tok] += 1
                    hist.push(tok)
        for k in range(self.order):
            for ctx, c in tmp[k].items():
                self.counts[k][ctx] = dict(c)
        for tok, c in uni.items():
            self.unigram[tok] = self.unigram.get(tok, 0) + c
        return self

    def truncated(self, order: int) -> MarkovMelodyModel:
        """The same counts used as a lower-order model (no retraining needed)."""
        if not 1 <= order <= self.order:
            raise AudioValueError(f"order={order} must be 1..{self.order} for this model")
        return MarkovMelodyModel(order, self.use_position, self.counts[:order], self.unigram,
                                 dict(self.provenance))

    # -- probabilities ----------------------------------------------------------------------
    def distribution(self, history: Sequence[int], meter: int, pos: int) -> np.ndarray:
        """Next-token probabilities over :data:`VOCAB` (float64, shape ``(130,)``, sum 1)."""
        p = np.full(VOCAB.size, 1.0 / VOCAB.size)
        levels: list[dict[int, int]] = [self.unigram]
        for k in range(self.order):
            c = self.counts[k].get(_context(history, meter, pos, k, self.use_position))
            if c is None:
                break
            levels.append(c)
        for c in levels:
            if not c:
                continue
            vec = np.zeros(VOCAB.size)
            idx = np.fromiter(c.keys(), dtype=np.int64) - NO_EVENT
            vec[idx] = np.fromiter(c.values(), dtype=np.float64)
            total, types = vec.sum(), len(c)
            p = (vec + types * p) / (total + types)
        return p

    def nll(self, melody: Melody) -> tuple[float, int]:
        """Total negative log-likelihood in nats of the melody's tokens, and the token count."""
        hist = _History(self.order)
        total = 0.0
        for i, tok in enumerate(melody.tokens.tolist()):
            p = self.distribution(hist.state(), melody.steps_per_bar, i % melody.steps_per_bar)
            total -= math.log(p[tok - NO_EVENT])
            hist.push(tok)
        return total, melody.steps

    def perplexity(self, melodies: Iterable[Melody]) -> tuple[float, float]:
        """``(nll_per_token, perplexity)`` over ``melodies``: nats per 16th-note token and
        ``exp`` of it (the effective number of equally likely choices per step)."""
        return token_perplexity(self, melodies)

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: format, order, counts and provenance."""
        return {"format": FORMAT, "model": "markov", "order": self.order,
                "use_position": self.use_position, "provenance": self.provenance,
                "unigram": {str(k): v for k, v in self.unigram.items()},
                "counts": [{ctx: {str(t): n for t, n in c.items()} for ctx, c in lvl.items()}
                           for lvl in self.counts]}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as (gzipped when the name ends in ``.gz``) JSON, atomically."""
        from wavesmith.io import write_bytes_atomic

        dst = Path(path)
        data = json.dumps(self.to_dict(), separators=(",", ":")).encode()
        return write_bytes_atomic(dst, gzip.compress(data, 9, mtime=0) if dst.suffix == ".gz"
                                  else data)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "model") -> MarkovMelodyModel:
        """Rebuild a model from :meth:`to_dict` output; refuses unknown formats."""
        if d.get("format") != FORMAT or d.get("model") != "markov":
            raise ModelError(f"{source}: not a wavesmith Markov table (format "
                             f"{d.get('format')!r}, model {d.get('model')!r})")
        counts = [{ctx: {int(t): int(n) for t, n in c.items()} for ctx, c in lvl.items()}
                  for lvl in d["counts"]]
        return cls(int(d["order"]), bool(d["use_position"]), counts,
                   {int(k): int(v) for k, v in d["unigram"].items()}, d.get("provenance", {}))


def load_model(path: str | os.PathLike[str] | None = None) -> MarkovMelodyModel:
    """Load a Markov table (default: the shipped Nottingham one).

    Raises
    ------
    ModelNotFoundError
        If the file does not exist.
    ModelError
        If it is not a readable table.
    """
    p = Path(path) if path is not None else SHIPPED_MODEL
    if not p.is_file():
        raise ModelNotFoundError(f"{p}: Markov table not found; build it with "
                                 "`wavesmith music train-markov -o PATH`")
    try:
        raw = p.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        data = json.loads(raw)
    except (OSError, ValueError, EOFError) as exc:
        raise ModelError(f"{p}: cannot read Markov table ({exc})") from exc
    return MarkovMelodyModel.from_dict(data, source=str(p))


# -- generation ---------------------------------------------------------------------------------
def _check_generation(bars: int, temperature: float, steps_per_bar: int) -> None:
    if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
        raise AudioValueError(f"bars={bars!r} must be an integer 1..{MAX_BARS}")
    if not (0 < temperature <= MAX_TEMPERATURE):
        raise AudioValueError(f"temperature={temperature} must be in (0, {MAX_TEMPERATURE}]")
    if not 1 <= steps_per_bar <= 64:
        raise AudioValueError(f"steps_per_bar={steps_per_bar} must be 1..64")


def _sample_steps(model: MarkovMelodyModel, tokens: list[int], n_steps: int, meter: int,
                  temperature: float, rng: np.random.Generator) -> list[int]:
    hist = _History(model.order, tokens)
    out = list(tokens)
    for _ in range(n_steps):
        p = model.distribution(hist.state(), meter, len(out) % meter)
        if temperature != 1.0:
            logp = np.log(np.maximum(p, 1e-300)) / temperature
            p = np.exp(logp - logp.max())
            p /= p.sum()
        tok = int(VOCAB[rng.choice(VOCAB.size, p=p)])
        out.append(tok)
        hist.push(tok)
    return out


def sample_melody(model: MarkovMelodyModel, *, bars: int = 16, seed: int | None = 0,
                  temperature: float = 1.0, steps_per_bar: int = 16,
                  tempo_bpm: float = DEFAULT_TEMPO_BPM, name: str = "markov") -> Melody:
    """Sample ``bars`` bars from the model.

    Parameters
    ----------
    bars : int
        Length in bars, 1..:data:`MAX_BARS`.
    seed : int or None
        Seed of the NumPy generator; the same seed gives the same melody.
    temperature : float
        Divides log-probabilities: < 1 is more conservative, > 1 more random.
    steps_per_bar : int
        16th notes per bar: 16 (4/4) or 12 (6/8, 3/4).
    tempo_bpm : float
        Tempo written to MIDI, quarter notes per minute.
    """
    _check_generation(bars, temperature, steps_per_bar)
    rng = np.random.default_rng(seed)
    toks = _sample_steps(model, [], bars * steps_per_bar, steps_per_bar, temperature, rng)
    ts = (steps_per_bar // 4, 4) if steps_per_bar % 4 == 0 else (steps_per_bar // 2, 8)
    return Melody(np.array(toks, dtype=np.int16), steps_per_bar, tempo_bpm, name, ts)


def continue_melody(model: MarkovMelodyModel, prime: Melody, *, bars: int = 8,
                    seed: int | None = 0, temperature: float = 1.0) -> Melody:
    """Return ``prime`` followed by a sampled continuation ``bars`` bars long.

    The prime keeps its meter and tempo; it is padded with ``NO_EVENT`` to its next bar
    line, and the continuation is conditioned on its last ``order - 1`` tokens.
    """
    _check_generation(bars, temperature, prime.steps_per_bar)
    if prime.steps == 0 or not prime.notes():
        raise AudioValueError(f"{prime.name or 'prime'}: the melody to continue has no notes")
    rng = np.random.default_rng(seed)
    toks = prime.tokens.tolist()
    spb = prime.steps_per_bar
    n = (-len(toks)) % spb + bars * spb
    return prime.with_tokens(np.array(
        _sample_steps(model, toks, n, spb, temperature, rng), dtype=np.int16))


def sample_random(vocabulary: Sequence[int], *, bars: int = 16, seed: int | None = 0,
                  steps_per_bar: int = 16, tempo_bpm: float = DEFAULT_TEMPO_BPM) -> Melody:
    """The uniform-random generator: each 16th-note token drawn uniformly from
    ``vocabulary`` (e.g. the tokens seen in training). A floor for every model."""
    _check_generation(bars, 1.0, steps_per_bar)
    voc = np.asarray(sorted(set(vocabulary)), dtype=np.int16)
    if voc.size == 0 or voc.min() < NO_EVENT or voc.max() > MAX_PITCH:
        raise AudioValueError("vocabulary must hold grid tokens -2, -1, 0..127")
    rng = np.random.default_rng(seed)
    ts = (steps_per_bar // 4, 4) if steps_per_bar % 4 == 0 else (steps_per_bar // 2, 8)
    return Melody(rng.choice(voc, size=bars * steps_per_bar), steps_per_bar, tempo_bpm,
                  "random", ts)

def train_on_nottingham(root: str | os.PathLike[str] | None = None, *, order: int = 3,
                        use_position: bool = True) -> MarkovMelodyModel:
    """Train the baseline on the Nottingham train split; provenance is recorded in the model.

    This is what ``wavesmith music train-markov`` runs to build :data:`SHIPPED_MODEL`.
    """
    from wavesmith import __version__
    from wavesmith.music.dataset import load_split, nottingham_files

    files = nottingham_files(root)
    data = load_split(root)
    model = MarkovMelodyModel(order, use_position).fit(data["train"])
    model.provenance = {
        "data": "Nottingham Music Database, jukedeck cleaned MIDI (github:jukedeck/"
                "nottingham-dataset, GPL-3.0), full tunes, melody = top track",
        "files": len(files), "train_pieces": len(data["train"]),
        "train_tokens": sum(m.steps for m in data["train"]),
        "split": "sha1(file name): test < 0.1 <= valid < 0.2 <= train",
        "transpositions": [0],
        "built_by": f"wavesmith music train-markov --order {order} -o "
                    "src/wavesmith/music/data/markov_nottingham.json.gz",
        "wavesmith": __version__,
    }
    return model
