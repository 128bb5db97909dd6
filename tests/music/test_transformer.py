"""The Music Transformer: shipped weights, held-out scoring, seeded sampling, training loop."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from wavesmith.errors import AudioValueError, ModelError
from wavesmith.music.dataset import nottingham_files
from wavesmith.music.midi import NO_EVENT, Melody, read_melody, split_pieces
from wavesmith.music.transformer import (
    SHIPPED_TRANSFORMER,
    MelodyTransformer,
    MusicTransformer,
    MusicTransformerConfig,
    encode_melody,
    load_transformer,
    nucleus,
)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny networks run fastest on one thread (a busy 2-core CI machine makes thread
    barriers costly); the setting is restored after each test."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def test_tunes(nottingham: Path) -> list[Melody]:
    """Four real held-out tunes (the test split), cropped to 16 bars."""
    paths = split_pieces(nottingham_files(nottingham))["test"][:4]
    return [read_melody(p).crop(16) for p in paths]


def test_card_has_metrics_and_no_absolute_paths() -> None:
    card = json.loads(SHIPPED_TRANSFORMER.with_suffix(".json").read_text())
    assert SHIPPED_TRANSFORMER.stat().st_size < 10_000_000
    ppl = card["metrics"]["perplexity"]
    assert set(ppl) == {"transformer", "markov-3"} and card["data"]["pieces"]["test"] > 90
    assert "/work/" not in json.dumps(card) and "/home/" not in json.dumps(card)


@pytest.mark.integration
def test_real_tunes_score_better_than_shuffled(test_tunes: list[Melody], rng) -> None:
    model = load_transformer()
    real = model.perplexity(test_tunes)[1]
    shuffled = model.perplexity([m.with_tokens(rng.permutation(m.tokens)) for m in test_tunes])[1]
    assert real < 4.0 and shuffled > 2 * real


def test_sampling_is_seeded_and_valid() -> None:
    model = load_transformer()
    a = model.sample(bars=2, seed=5)
    b = model.sample(bars=2, seed=5)
    c = model.sample(bars=2, seed=6)
    assert a.steps == 32 and np.array_equal(a.tokens, b.tokens)
    assert not np.array_equal(a.tokens, c.tokens)
    assert a.tokens.min() >= NO_EVENT and a.tokens.max() <= 127
    greedy = [model.sample(bars=2, seed=s, top_k=1).tokens for s in (1, 2)]
    assert np.array_equal(*greedy)                     # top-k 1 leaves nothing to chance
    tiny = [model.sample(bars=2, seed=s, top_p=1e-6).tokens for s in (1, 2)]
    assert np.array_equal(tiny[0], greedy[0]) and np.array_equal(*tiny)   # top-p ~0 = argmax
    nucleus_09 = model.sample(bars=2, seed=5, top_p=0.9)
    assert np.array_equal(nucleus_09.tokens, model.sample(bars=2, seed=5, top_p=0.9).tokens)
    assert np.array_equal(model.sample(bars=2, seed=5, top_p=1.0).tokens, a.tokens)


def test_nucleus_keeps_the_smallest_set_holding_the_mass() -> None:
    p = np.array([0.05, 0.5, 0.15, 0.3])
    np.testing.assert_allclose(nucleus(p, 0.5), [0, 1, 0, 0])
    np.testing.assert_allclose(nucleus(p, 0.6), [0, 0.5 / 0.8, 0, 0.3 / 0.8])
    np.testing.assert_allclose(nucleus(p, 0.9), np.array([0, 0.5, 0.15, 0.3]) / 0.95)
    np.testing.assert_allclose(nucleus(p, 1.0), p)
    np.testing.assert_allclose(nucleus(np.array([0.5, 0.5]), 0.1), [1, 0])   # ties: index


def test_cache_matches_full_forward() -> None:
    """Sampling uses a key/value cache; its logits equal a full forward pass."""
    model = load_transformer().model
    ids, _, bpos = (torch.from_numpy(x) for x in encode_melody(
        Melody(np.array([67, -2, 69, -2, -1, -2, 71, -2], np.int16))))
    meter = torch.tensor([16])
    with torch.no_grad():
        full, _ = model(ids[None], bpos[None], meter)
        _, cache = model(ids[None, :5], bpos[None, :5], meter)
        for k in range(5, 8):
            out, cache = model(ids[None, k:k + 1], bpos[None, k:k + 1], meter, start=k,
                               cache=cache)
            np.testing.assert_allclose(out[0, 0].numpy(), full[0, k].numpy(), atol=1e-4,
                                       rtol=1e-4)


def test_long_melody_is_scored_in_windows() -> None:
    """A melody longer than the context gets every token scored exactly once."""
    net = MusicTransformer(MusicTransformerConfig(block_size=16, n_layer=1, n_head=2, n_embd=16))
    model = MelodyTransformer(net)
    mel = Melody(np.tile(np.array([60, -2, 62, -1], np.int16), 10))  # 40 steps, 2.5 windows
    nll, n = model.nll(mel)
    assert n == 40 and 0 < nll / n < np.log(130) + 1.0


def test_continuation_keeps_the_prime() -> None:
    prime = Melody(np.array([67, -2, -2, -2, 69, -2, 71, -2, -2, -1], np.int16))
    out = load_transformer().continue_melody(prime, bars=1, seed=1)
    assert out.steps == 32 and np.array_equal(out.tokens[:10], prime.tokens)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bars": 0}, "bars="), ({"temperature": 0.0}, "temperature="), ({"top_k": 0}, "top_k="),
    ({"top_p": 0.0}, "top_p=0.0 must be in"), ({"top_p": 1.5}, "top_p=1.5"),
    ({"steps_per_bar": 65}, "steps_per_bar="),
])
def test_bad_generation_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(AudioValueError, match=message):
        load_transformer().sample(**kwargs)


def test_weights_checked_against_card(tmp_path: Path) -> None:
    bad = tmp_path / "t.pt"
    bad.write_bytes(SHIPPED_TRANSFORMER.read_bytes()[:-10] + b"0" * 10)
    (tmp_path / "t.json").write_text(SHIPPED_TRANSFORMER.with_suffix(".json").read_text())
    with pytest.raises(ModelError, match="SHA-256"):
        load_transformer(bad)


@pytest.mark.integration
@pytest.mark.slow  # seconds of training, plus torch's one-time deterministic-mode import
def test_trainer_fit_lowers_loss_on_real_tunes(test_tunes: list[Melody], tmp_path: Path
                                               ) -> None:
    """A tiny transformer trained for a few seconds with the project's trainer loop."""
    from wavesmith.learn.trainer import TrainConfig, fit

    enc = [[torch.from_numpy(x) for x in encode_melody(m)] for m in test_tunes]
    batch = (torch.stack([e[0][:64] for e in enc]), torch.stack([e[1][:64] for e in enc]),
             torch.stack([e[2][:64] for e in enc]), torch.tensor([m.steps_per_bar
                                                                  for m in test_tunes]))

    def loss(model: torch.nn.Module, b: tuple) -> tuple[torch.Tensor, int]:
        logits, _ = model(b[0], b[2], b[3])
        return torch.nn.functional.cross_entropy(logits.reshape(-1, 130), b[1].reshape(-1)), \
            b[1].numel()

    net = MusicTransformer(MusicTransformerConfig(block_size=64, n_layer=1, n_head=2,
                                                  n_embd=32, dropout=0.0))
    cfg = TrainConfig(epochs=12, lr=2e-2, patience=12, threads=1, out_dir=str(tmp_path))
    best, history = fit(net, [batch], [batch], loss, cfg)
    assert history[-1]["train_loss"] < 0.6 * history[0]["train_loss"]
    assert (tmp_path / "log.jsonl").read_text().count("\n") == len(history)
    assert set(best) == set(net.state_dict())
