"""REMI event tokens for melodies (via miditok), the Music Transformer over them, and an
n-gram baseline on the same tokens.

Tokens are miditok's REMI (Huang & Yang 2020): per bar ``Bar_None`` and ``TimeSig_<n>/<d>``,
then per note ``Position_<p>``, ``Pitch_<0..127>``, ``Duration_<beats>.<pos>.<res>``; no
velocities, tempos or rests. Positions count 4 per beat, and a beat is the time signature's
denominator, so one position is a 16th note in x/4, a 32nd in x/8 (Nottingham 6/8 tunes use
even positions only) and an 8th in x/2. Half-note meters are therefore written as their
quarter-note twins (2/2 as 4/4, 3/2 as 6/4: same bar, same 16th grid), which makes every
Nottingham melody round-trip exactly (``tests/music/test_remi.py``).

:class:`RemiTransformer` wraps a :class:`~wavesmith.music.transformer.MusicTransformer` built
with ``tokens="remi"``. Its inputs are the previous token plus, as for the grid model, the
bar position (16th notes) reached so far and the meter. Sampling follows the REMI grammar for
a monophonic line: ``Bar`` → its ``TimeSig`` → (``Position`` → ``Pitch`` → ``Duration``)*,
with positions rising inside a bar. Invalid tokens are masked and the rest renormalised, so
every sample decodes. Token-level perplexities of REMI and grid models are not comparable
(REMI has ~1.2 tokens per 16th step); nats per bar are, and ``wavesmith music eval --model
transformer`` reports those for both.

Shipped weights: ``data/transformer_remi_nottingham.pt`` (+ card), trained by ``wavesmith
train run configs/music/transformer_remi.yaml``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from wavesmith.errors import AudioValueError, ModelError
from wavesmith.music._deps import quiet_import
from wavesmith.music.metrics import token_perplexity
from wavesmith.music.midi import (
    DEFAULT_TEMPO_BPM,
    MAX_PITCH,
    MIN_PITCH,
    NO_EVENT,
    NOTE_OFF,
    Melody,
    steps_per_bar_for,
)
from wavesmith.music.weights import one_thread

__all__ = ["METER_ALIASES", "RemiNgram", "RemiTransformer", "decode", "default_meter",
           "encode", "events", "melody_from_spans", "positions", "tokenizer"]

TICKS_PER_QUARTER = 4                   # the Score we hand miditok is on the 16th grid
METER_ALIASES = {(2, 2): (4, 4), (3, 2): (6, 4)}   # half-note meters -> quarter-note twins
TIME_SIGNATURES = {8: [3, 6, 9, 12], 4: [2, 3, 4, 6], 2: [2, 3]}
# Meter written for a generated melody of a given length of bar (16ths): the commonest in
# the Nottingham train split (12 steps: 297 tunes in 6/8 against 38 in 3/4).
DEFAULT_METERS = {16: (4, 4), 12: (6, 8), 8: (2, 4), 18: (9, 8), 24: (6, 4), 6: (3, 8)}
# token kinds (see _Vocab)
OTHER, BAR, TIMESIG, POSITION, PITCH, DURATION = range(6)
_KINDS = {"Bar": BAR, "TimeSig": TIMESIG, "Position": POSITION, "Pitch": PITCH,
          "Duration": DURATION}


@lru_cache(maxsize=1)
def tokenizer() -> Any:
    """The REMI tokenizer (miditok), built once: pitches 0..127, 4 positions per beat."""
    miditok = quiet_import("miditok")
    cfg = miditok.TokenizerConfig(
        pitch_range=(MIN_PITCH, MAX_PITCH), beat_res={(0, 8): 4}, use_velocities=False,
        use_time_signatures=True, use_tempos=False, use_rests=False,
        time_signature_range=TIME_SIGNATURES, remove_duplicated_notes=True)
    return miditok.REMI(cfg)


def default_meter(steps_per_bar: int) -> tuple[int, int]:
    """The time signature written for generated bars of ``steps_per_bar`` 16th notes."""
    if steps_per_bar not in DEFAULT_METERS:
        raise AudioValueError(f"steps_per_bar={steps_per_bar}: REMI generation knows "
                              f"{sorted(DEFAULT_METERS)} 16th notes per bar")
    return DEFAULT_METERS[steps_per_bar]


def _meter(melody: Melody) -> tuple[int, int]:
    """The melody's time signature as written in REMI (half-note meters aliased), checked
    against its bar length."""
    ts = METER_ALIASES.get(tuple(melody.time_signature), tuple(melody.time_signature))
    num, den = int(ts[0]), int(ts[1])
    if num not in TIME_SIGNATURES.get(den, ()):
        raise AudioValueError(f"{melody.name or 'melody'}: time signature {num}/{den} is not "
                              "in the REMI vocabulary (x/8: 3 6 9 12, x/4: 2 3 4 6, x/2: 2 3)")
    if steps_per_bar_for(num, den) != melody.steps_per_bar:
        raise AudioValueError(f"{melody.name or 'melody'}: {melody.steps_per_bar} steps per "
                              f"bar do not match its time signature {num}/{den}")
    return num, den


class _Vocab:
    """Per-id facts about the REMI vocabulary: kind, value (position, pitch) and the
    ``TimeSig`` ids."""

    def __init__(self, vocab: dict[str, int]) -> None:
        n = len(vocab)
        self.size = n
        self.kind = np.zeros(n, dtype=np.int8)
        self.value = np.full(n, -1, dtype=np.int64)
        self.timesig: dict[tuple[int, int], int] = {}
        for tok, i in vocab.items():
            head, _, val = tok.partition("_")
            self.kind[i] = _KINDS.get(head, OTHER)
            if head in ("Position", "Pitch"):
                self.value[i] = int(val)
            elif head == "TimeSig":
                num, den = val.split("/")
                self.timesig[(int(num), int(den))] = i
        self.bar = int(np.flatnonzero(self.kind == BAR)[0])

    def position_mask(self, meter: tuple[int, int]) -> np.ndarray:
        """Position ids on the 16th grid inside one bar of ``meter``, as 16th steps (-1 for
        every other id)."""
        num, den = meter
        steps = np.full(self.size, -1, dtype=np.int64)
        pos = self.kind == POSITION
        units = self.value * 4  # position p is p * 4 / den 16ths
        ok = pos & (units % den == 0) & (units // den < steps_per_bar_for(num, den))
        steps[ok] = units[ok] // den
        return steps


@lru_cache(maxsize=1)
def _vocab() -> _Vocab:
    return _Vocab(tokenizer().vocab)


def encode(melody: Melody) -> np.ndarray:
    """REMI ids (int64) of a melody: one ``Bar``/``TimeSig`` pair per bar of the melody
    (trailing empty bars included) and three tokens per note.

    Raises
    ------
    AudioValueError
        If the meter is not in the vocabulary or does not match ``steps_per_bar``.
    """
    symusic = quiet_import("symusic")
    num, den = _meter(melody)
    score = symusic.Score(TICKS_PER_QUARTER)
    track = symusic.Track("melody", 0, False)
    for nt in melody.notes():
        track.notes.append(symusic.Note(nt.start_step, nt.end_step - nt.start_step, nt.pitch,
                                        90))
    score.tracks.append(track)
    score.time_signatures.append(symusic.TimeSignature(0, num, den))
    voc = _vocab()
    ids = list(tokenizer().encode(score)[0].ids) if track.notes else []
    bars = math.ceil(melody.steps / melody.steps_per_bar)
    missing = bars - sum(1 for i in ids if voc.kind[i] == BAR)
    ids += [voc.bar, voc.timesig[(num, den)]] * max(missing, 0)
    return np.asarray(ids, dtype=np.int64)


def events(melody: Melody) -> list[str]:
    """The REMI tokens of :func:`encode` as strings (``Bar_None``, ``Position_8``, ...)."""
    inv = {i: t for t, i in tokenizer().vocab.items()}
    return [inv[int(i)] for i in encode(melody)]


def melody_from_spans(spans: Iterable[tuple[int, int, int]], steps: int, steps_per_bar: int,
                      *, tempo_bpm: float = DEFAULT_TEMPO_BPM, name: str = "",
                      time_signature: tuple[int, int] | None = None) -> Melody:
    """A melody of ``steps`` 16ths from ``(start, end, pitch)`` spans: a note lasts until
    its end or the next onset, whichever is first; of two onsets on one step the higher pitch
    is kept (top line)."""
    onsets: dict[int, tuple[int, int]] = {}
    for a, b, p in spans:
        if 0 <= a < steps and (a not in onsets or p > onsets[a][0]):
            onsets[a] = (p, b)
    tokens = np.full(steps, NO_EVENT, dtype=np.int16)
    starts = sorted(onsets)
    for k, a in enumerate(starts):
        p, b = onsets[a]
        tokens[a] = p
        if b < (starts[k + 1] if k + 1 < len(starts) else steps):
            tokens[b] = NOTE_OFF
    ts = time_signature or ((steps_per_bar // 4, 4) if steps_per_bar % 4 == 0
                            else (steps_per_bar // 2, 8))
    return Melody(tokens, steps_per_bar, tempo_bpm, name, ts)


def decode(ids: Sequence[int], *, steps_per_bar: int, tempo_bpm: float = DEFAULT_TEMPO_BPM,
           name: str = "", time_signature: tuple[int, int] | None = None) -> Melody:
    """The melody of REMI ids (miditok decodes the notes); it lasts as many bars as it has
    ``Bar`` tokens."""
    miditok = quiet_import("miditok")
    voc = _vocab()
    bars = sum(1 for i in ids if voc.kind[int(i)] == BAR)
    score = tokenizer().decode([miditok.TokSequence(ids=[int(i) for i in ids])])
    tpq = score.ticks_per_quarter
    spans = [(n.start * TICKS_PER_QUARTER // tpq, n.end * TICKS_PER_QUARTER // tpq, n.pitch)
             for tr in score.tracks for n in tr.notes]
    return melody_from_spans(spans, bars * steps_per_bar, steps_per_bar, tempo_bpm=tempo_bpm,
                             name=name, time_signature=time_signature)


def positions(ids: Sequence[int], meter: tuple[int, int]) -> np.ndarray:
    """Bar position (16th notes) reached *before* each id: 0 after ``Bar``, the step of the
    last ``Position`` after it (int64, one per id)."""
    grammar = _Grammar(meter)      # one place knows how tokens move the bar position
    out = np.zeros(len(ids), dtype=np.int64)
    for k, i in enumerate(ids):
        out[k] = max(grammar.pos, 0)
        if i < grammar.voc.size:   # not BOS
            grammar.push(i)
    return out


def encode_for_model(melody: Melody) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(inputs, targets, bar_pos)`` of a whole melody for the network (int64, one row per
    REMI token): inputs are BOS then the tokens shifted by one."""
    ids = encode(melody)
    meter = _meter(melody)
    bos = _vocab().size
    inputs = np.concatenate([[bos], ids[:-1]]).astype(np.int64)
    return inputs, ids, positions(np.concatenate([[bos], ids]).tolist(), meter)[1:]


# -- the transformer ------------------------------------------------------------------------------
class _Grammar:
    """Which ids may come next in a monophonic REMI stream of one meter."""

    def __init__(self, meter: tuple[int, int]) -> None:
        self.voc = _vocab()
        self.steps = self.voc.position_mask(meter)
        self.ts_id = self.voc.timesig[meter]
        kind = self.voc.kind
        self.pitch = kind == PITCH
        self.duration = kind == DURATION
        self.last, self.pos = OTHER, -1    # state after the last token

    def push(self, i: int) -> None:
        k = int(self.voc.kind[i])
        if k == BAR:
            self.pos = -1
        elif k == POSITION:
            self.pos = int(self.steps[i])
        self.last = k

    def allowed(self) -> np.ndarray:
        if self.last == BAR:       # a bar's meter is fixed
            m = np.zeros(self.voc.size, dtype=bool)
            m[self.ts_id] = True
            return m
        if self.last == POSITION:
            return self.pitch
        if self.last == PITCH:
            return self.duration
        m = self.steps > self.pos   # after TimeSig or Duration: a later position, or a bar
        m[self.voc.bar] = True
        return m


class RemiTransformer:
    """A trained REMI :class:`~wavesmith.music.transformer.MusicTransformer` with scoring
    and sampling on melodies (the interface of
    :class:`~wavesmith.music.transformer.MelodyTransformer`).

    Parameters
    ----------
    model : MusicTransformer
        A network built with ``tokens="remi"`` (put in eval mode).
    card : dict
        The model card (metrics, config, data provenance).
    """

    tokens = "remi"

    def __init__(self, model: Any, card: dict[str, Any] | None = None) -> None:
        if model.config.vocab_size != _vocab().size:
            raise ModelError(f"REMI transformer has {model.config.vocab_size} classes but the "
                             f"tokenizer has {_vocab().size}")
        self.model = model.eval()
        self.card = card or {}

    @one_thread
    def nll(self, melody: Melody) -> tuple[float, int]:
        """Total negative log-likelihood (nats) of the melody's REMI tokens, and their count
        (windows overlapping by half beyond the context, as the grid model)."""
        from wavesmith.music.transformer import score_tokens

        if melody.steps == 0:
            raise AudioValueError(f"{melody.name or 'melody'}: empty melody has no likelihood")
        inputs, targets, bpos = encode_for_model(melody)
        return (score_tokens(self.model, inputs, targets, bpos, melody.steps_per_bar),
                len(targets))

    def perplexity(self, melodies: list[Melody]) -> tuple[float, float]:
        """``(nll_per_token, perplexity)`` in nats per REMI token."""
        return token_perplexity(self, melodies)

    @one_thread
    def _generate(self, prefix: list[int], meter: tuple[int, int], bars: int,
                  temperature: float, top_k: int | None, top_p: float | None,
                  rng: np.random.Generator) -> list[int]:
        """``prefix`` (whole bars) followed by ``bars`` sampled bars, as REMI ids."""
        import torch

        from wavesmith.music.transformer import Decoder, pick

        voc, grammar = _vocab(), _Grammar(meter)
        seq = [*prefix, voc.bar]               # every new bar starts with its bar line
        for i in seq:
            grammar.push(i)
        inputs = [voc.size, *seq]              # BOS first
        dec = Decoder(self.model, steps_per_bar_for(*meter))
        dec.feed(inputs, positions([*inputs, voc.bar], meter)[1:].tolist())
        opened = 1
        with torch.no_grad():
            # the grammar ends each bar after at most 2 + 3 x steps tokens
            for _ in range(bars * (2 + 3 * steps_per_bar_for(*meter))):
                i = pick(dec.logits(), temperature, top_k, top_p, rng, grammar.allowed())
                if voc.kind[i] == BAR:
                    opened += 1
                    if opened > bars:
                        break
                grammar.push(i)
                seq.append(i)
                dec.feed([i], [max(grammar.pos, 0)])
        return seq

    def sample(self, *, bars: int = 16, seed: int | None = 0, temperature: float = 1.0,
               top_k: int | None = None, steps_per_bar: int = 16,
               tempo_bpm: float = DEFAULT_TEMPO_BPM, name: str = "transformer",
               top_p: float | None = None, time_signature: tuple[int, int] | None = None
               ) -> Melody:
        """Sample ``bars`` bars; options as
        :meth:`wavesmith.music.transformer.MelodyTransformer.sample`. The bars are in
        ``time_signature`` (by default :func:`default_meter` of ``steps_per_bar``, 12 steps:
        6/8); its ``TimeSig`` token conditions the model."""
        from wavesmith.music.transformer import check_generation

        check_generation(bars, temperature, top_k, steps_per_bar, top_p)
        meter = (default_meter(steps_per_bar) if time_signature is None else
                 _meter(Melody(np.zeros(0, np.int16), steps_per_bar,
                               time_signature=tuple(time_signature))))
        ids = self._generate([], meter, bars, temperature, top_k, top_p,
                             np.random.default_rng(seed))
        return decode(ids, steps_per_bar=steps_per_bar, tempo_bpm=tempo_bpm, name=name,
                      time_signature=tuple(time_signature or meter))  # type: ignore[arg-type]

    def continue_melody(self, prime: Melody, *, bars: int = 8, seed: int | None = 0,
                        temperature: float = 1.0, top_k: int | None = None,
                        top_p: float | None = None) -> Melody:
        """``prime`` (padded with rest to its next bar line) followed by ``bars`` sampled
        bars; the model sees the prime's REMI tokens (its last ``block_size`` of them)."""
        from wavesmith.music.transformer import check_generation

        check_generation(bars, temperature, top_k, prime.steps_per_bar, top_p)
        if prime.steps == 0 or not prime.notes():
            raise AudioValueError(f"{prime.name or 'prime'}: the melody to continue has no "
                                  "notes")
        spb = prime.steps_per_bar
        padded = prime.with_tokens(np.concatenate(
            [prime.tokens, np.full((-prime.steps) % spb, NO_EVENT, dtype=np.int16)]))
        prefix = encode(padded).tolist()
        ids = self._generate(prefix, _meter(prime), bars, temperature, top_k, top_p,
                             np.random.default_rng(seed))
        new = decode(ids, steps_per_bar=spb).tokens[padded.steps:]
        return prime.with_tokens(np.concatenate([padded.tokens, new]))


# -- the n-gram baseline on REMI tokens -----------------------------------------------------------
class RemiNgram:
    """Interpolated Witten-Bell n-gram over REMI ids (the REMI transformer's baseline;
    smoothing as :class:`wavesmith.music.baseline.MarkovMelodyModel`, backing off to the
    unigram and a uniform distribution over the vocabulary).

    Parameters
    ----------
    order : int
        ``n``: the next id is predicted from the ``n - 1`` before it (BOS-padded).
    """

    def __init__(self, order: int = 4) -> None:
        if not 1 <= order <= 12:
            raise AudioValueError(f"order={order} must be 1..12")
        self.order = order
        self.counts: list[dict[tuple[int, ...], Counter[int]]] = [
            defaultdict(Counter) for _ in range(order)]

    def fit(self, melodies: Iterable[Melody]) -> RemiNgram:
        """Count the n-grams of the melodies' REMI ids; returns ``self``."""
        bos = _vocab().size
        for m in melodies:
            seq = [bos] * (self.order - 1) + encode(m).tolist()
            for k in range(self.order - 1, len(seq)):
                for n in range(self.order):
                    self.counts[n][tuple(seq[k - n:k])][seq[k]] += 1
        return self

    def nll(self, melody: Melody) -> tuple[float, int]:
        """Total negative log-likelihood (nats) of the melody's REMI ids, and their count."""
        size, bos = _vocab().size, _vocab().size
        ids = encode(melody).tolist()
        seq = [bos] * (self.order - 1) + ids
        total = 0.0
        for k in range(self.order - 1, len(seq)):
            p = 1.0 / size
            for n in range(self.order):
                c = self.counts[n].get(tuple(seq[k - n:k]))
                if not c:
                    break
                tot, types = sum(c.values()), len(c)
                p = (c.get(seq[k], 0) + types * p) / (tot + types)
            total -= math.log(p)
        return total, len(ids)
