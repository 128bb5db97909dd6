"""REMI tokens (miditok), the REMI Music Transformer and the REMI n-gram baseline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from wavesmith.errors import AudioValueError, ModelError
from wavesmith.music import remi
from wavesmith.music.dataset import nottingham_files
from wavesmith.music.midi import NO_EVENT, NOTE_OFF, Melody, read_melody, split_pieces
from wavesmith.music.transformer import (
    SHIPPED_REMI_TRANSFORMER,
    Decoder,
    MusicTransformer,
    MusicTransformerConfig,
    load_transformer,
)


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def splits(nottingham: Path) -> dict[str, list[Path]]:
    return split_pieces(nottingham_files(nottingham))


@pytest.fixture(scope="module")
def tiny() -> remi.RemiTransformer:
    """An untrained REMI network: sampling must follow the grammar whatever it predicts."""
    torch.manual_seed(0)
    cfg = MusicTransformerConfig(tokens="remi", vocab_size=len(remi.tokenizer().vocab),
                                 block_size=48, n_layer=1, n_head=2, n_embd=16)
    return remi.RemiTransformer(MusicTransformer(cfg))


def _mel(tokens: list[int], spb: int = 16, ts: tuple[int, int] = (4, 4)) -> Melody:
    return Melody(np.array(tokens, dtype=np.int16), spb, time_signature=ts)


# -- tokens ----------------------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("name", ["ashover1.mid", "jigs10.mid", "ashover23.mid",
                                  "reelsa-c1.mid", "hpps10.mid"])
def test_round_trip_real_tunes(nottingham: Path, name: str) -> None:
    """3/4, 6/8, 2/2 (written 4/4), 4/4 tunes: notes and bar count survive exactly."""
    m = read_melody(nottingham / name)
    ids = remi.encode(m)
    back = remi.decode(ids, steps_per_bar=m.steps_per_bar)
    assert back.notes() == m.notes()
    assert back.steps == math.ceil(m.bars) * m.steps_per_bar
    ev = remi.events(m)
    assert ev[0] == "Bar_None" and ev[1].startswith("TimeSig_")
    assert ev.count("Bar_None") == math.ceil(m.bars)
    assert len(ev) == 2 * math.ceil(m.bars) + 3 * len(m.notes())


def test_encode_small_melody_exactly() -> None:
    # bar 1: C5 on beat 1 for a quarter, E5 at the 8th 16th for two 16ths; bar 2 empty
    m = _mel([72, -2, -2, -2, -1, -2, -2, -2, 76, -2, -1, -2, -2, -2, -2, -2] + [-2] * 16)
    assert remi.events(m) == ["Bar_None", "TimeSig_4/4", "Position_0", "Pitch_72",
                              "Duration_1.0.4", "Position_8", "Pitch_76", "Duration_0.2.4",
                              "Bar_None", "TimeSig_4/4"]


def test_six_eight_positions_are_32nds() -> None:
    m = _mel([-2] * 10 + [74, -2], spb=12, ts=(6, 8))
    assert remi.events(m)[2:4] == ["Position_20", "Pitch_74"]
    ids = remi.encode(m)
    assert remi.positions(ids.tolist(), (6, 8)).tolist() == [0, 0, 0, 10, 10]


def test_meter_errors() -> None:
    with pytest.raises(AudioValueError, match="5/4 is not in the REMI vocabulary"):
        remi.encode(_mel([60] + [-2] * 19, spb=20, ts=(5, 4)))
    with pytest.raises(AudioValueError, match=r"12 steps per bar do not match .* 4/4"):
        remi.encode(_mel([60] + [-2] * 11, spb=12, ts=(4, 4)))
    with pytest.raises(AudioValueError, match="REMI generation knows"):
        remi.default_meter(20)


def test_melody_from_spans_cuts_overlaps_and_keeps_top_line() -> None:
    m = remi.melody_from_spans([(0, 8, 60), (4, 6, 62), (4, 12, 67), (14, 20, 65)], 16, 16)
    assert m.tokens.tolist() == [60, -2, -2, -2, 67] + [-2] * 7 + [NOTE_OFF, -2, 65, -2]
    assert [n.pitch for n in m.notes()] == [60, 67, 65]   # 62 loses to 67 on the same step


# -- the network --------------------------------------------------------------------------------
def test_decoder_matches_full_forward(tiny: remi.RemiTransformer) -> None:
    """Incremental decoding (with the cache rebuilt past the window) gives the logits of a
    full forward pass over the same window."""
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 200, 60).tolist()
    bpos = rng.integers(0, 16, 60).tolist()
    net = tiny.model
    dec = Decoder(net, 16)
    dec.feed(ids[:10], bpos[:10])
    dec.logits()
    for k in range(10, 60):
        dec.feed([ids[k]], [bpos[k]])
        got = dec.logits()
        keep = dec.filled
        with torch.no_grad():
            want, _ = net(torch.tensor([ids[k + 1 - keep:k + 1]]),
                          torch.tensor([bpos[k + 1 - keep:k + 1]]), torch.tensor([16]))
        np.testing.assert_allclose(got, want[0, -1].double().numpy(), atol=1e-4)


@pytest.mark.parametrize(("spb", "ts"), [(16, (4, 4)), (12, (6, 8)), (12, (3, 4)),
                                         (18, (9, 8)), (8, (2, 4))])
def test_untrained_samples_follow_the_grammar(tiny: remi.RemiTransformer, spb: int,
                                              ts: tuple[int, int]) -> None:
    m = tiny.sample(bars=3, seed=1, steps_per_bar=spb, time_signature=ts)
    assert m.steps == 3 * spb and m.time_signature == ts
    ids = remi.encode(m).tolist()            # what was sampled re-encodes to 3 bars
    assert sum(1 for i in ids if remi._vocab().kind[i] == remi.BAR) == 3
    again = tiny.sample(bars=3, seed=1, steps_per_bar=spb, time_signature=ts)
    assert again.tokens.tolist() == m.tokens.tolist()


def test_continue_keeps_the_prime(tiny: remi.RemiTransformer) -> None:
    prime = _mel([67, -2, -2, -2, 69, -2, 71, -2, -2, -2, -1])   # 11 steps: padded to 16
    out = tiny.continue_melody(prime, bars=2, seed=3)
    assert out.steps == 16 + 2 * 16
    assert out.tokens[:11].tolist() == prime.tokens.tolist()
    assert set(out.tokens[11:16].tolist()) == {NO_EVENT}
    with pytest.raises(AudioValueError, match="has no notes"):
        tiny.continue_melody(_mel([-2] * 16), bars=2)
    with pytest.raises(AudioValueError, match="bars=0"):
        tiny.sample(bars=0)


def test_vocab_mismatch_is_refused() -> None:
    net = MusicTransformer(MusicTransformerConfig(tokens="remi", vocab_size=99, n_layer=1,
                                                  n_head=1, n_embd=8, block_size=8))
    with pytest.raises(ModelError, match="99 classes"):
        remi.RemiTransformer(net)
    with pytest.raises(TypeError, match="tokens='words'"):
        MusicTransformerConfig(tokens="words")


# -- the shipped model --------------------------------------------------------------------------
@pytest.mark.integration
def test_shipped_remi_transformer_matches_its_card(nottingham: Path,
                                                   splits: dict[str, list[Path]]) -> None:
    """Re-scoring 10 held-out tunes reproduces the card's measure to within noise of the
    subset, and the model beats its REMI n-gram and the grid Markov table per bar."""
    card = json.loads(SHIPPED_REMI_TRANSFORMER.with_suffix(".json").read_text())
    model = load_transformer(tokens="remi")
    assert isinstance(model, remi.RemiTransformer)
    tunes = [read_melody(p) for p in splits["test"][:10]]
    nll, _ = model.perplexity(tunes)
    m = card["metrics"]
    assert nll == pytest.approx(m["nll_per_token"]["transformer"], rel=0.25)
    assert m["nll_per_token"]["transformer"] < m["nll_per_token"]["remi-5gram"]
    assert m["nll_per_bar"]["transformer"] < m["nll_per_bar"]["markov-3"]
    assert card["data"]["pieces"]["test"] == len(splits["test"])


@pytest.mark.integration
def test_shipped_remi_sample_and_continue(nottingham: Path) -> None:
    model = load_transformer(tokens="remi")
    a = model.sample(bars=16, seed=5)
    assert a.steps == 256 and len(a.notes()) >= 16
    pitches = np.array([n.pitch for n in a.notes()])
    # a folk tune's range (plain sampling may draw a 1-in-a-million pitch, as seed 5 does)
    assert ((pitches >= 48) & (pitches <= 96)).mean() > 0.95
    prime = read_melody(nottingham / "jigs10.mid").crop(4)
    out = model.continue_melody(prime, bars=4, seed=2, top_p=0.9)
    assert out.steps == 8 * prime.steps_per_bar and out.time_signature == (6, 8)
    assert len(out.crop(4, 4).notes()) >= 4


# -- the n-gram baseline -----------------------------------------------------------------------
@pytest.mark.integration
def test_ngram_learns_from_real_tunes(splits: dict[str, list[Path]]) -> None:
    train = [read_melody(p) for p in splits["train"][:60]]
    test = [read_melody(p) for p in splits["test"][:10]]

    def per_token(model: remi.RemiNgram) -> float:
        pairs = [model.nll(m) for m in test]
        return sum(p[0] for p in pairs) / sum(p[1] for p in pairs)

    uni, tri = remi.RemiNgram(1).fit(train), remi.RemiNgram(3).fit(train)
    assert per_token(tri) < per_token(uni) < math.log(len(remi.tokenizer().vocab))
    with pytest.raises(AudioValueError, match="order=0"):
        remi.RemiNgram(0)
