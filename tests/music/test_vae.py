"""The melody VAE: shipped weights, reconstruction of real held-out bars, interpolation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from wavesmith.errors import AudioValueError
from wavesmith.music.dataset import nottingham_files
from wavesmith.music.midi import Melody, read_melody, split_pieces
from wavesmith.music.vae import SEGMENT_STEPS, SHIPPED_VAE, load_vae, melody_segments, slerp


@pytest.fixture(scope="module")
def test_44_tunes(nottingham: Path) -> list[Melody]:
    """Real held-out 4/4 tunes (test split), first 8 bars."""
    out = []
    for p in split_pieces(nottingham_files(nottingham))["test"]:
        m = read_melody(p)
        if m.steps_per_bar == 16:
            out.append(m.crop(8))
        if len(out) == 6:
            return out
    return out


def test_card() -> None:
    card = json.loads(SHIPPED_VAE.with_suffix(".json").read_text())
    assert SHIPPED_VAE.stat().st_size < 10_000_000
    test = card["metrics"]["test"]
    assert test["segments"] > 500 and 0 < test["accuracy_free"] <= 1 and test["kl_nats"] > 0
    assert "/work/" not in json.dumps(card)


@pytest.mark.integration
def test_reconstructs_real_heldout_segments(test_44_tunes: list[Melody]) -> None:
    segs = np.concatenate([melody_segments(m) for m in test_44_tunes])
    acc = load_vae().accuracy(segs)
    # per 16th-step accuracy, greedy decoding from the latent mean; a decoder that always
    # says "hold" (the most common token) scores the share of NO_EVENT steps
    hold = float((segs == 0).mean())
    assert acc["accuracy_free"] > max(0.75, hold + 0.15), (acc, hold)
    assert acc["accuracy_teacher_forced"] >= acc["accuracy_free"] - 0.05


@pytest.mark.integration
def test_interpolation_ends_are_reconstructions(test_44_tunes: list[Melody]) -> None:
    vae = load_vae()
    a, b = test_44_tunes[0], test_44_tunes[1]
    path = vae.interpolate(a, b, 4)
    assert len(path) == 4 and all(p.steps == SEGMENT_STEPS for p in path)
    assert np.array_equal(path[0].tokens, vae.reconstruct(a).tokens)
    assert np.array_equal(path[-1].tokens, vae.reconstruct(b).tokens)
    again = vae.interpolate(a, b, 4)
    assert all(np.array_equal(p.tokens, q.tokens) for p, q in zip(path, again, strict=True))


def test_slerp_keeps_norm_between_equal_norm_ends(rng) -> None:
    a, b = (torch.from_numpy(rng.standard_normal(16)) for _ in range(2))
    b = b / b.norm() * a.norm()
    for t in (0.0, 0.3, 0.5, 1.0):
        assert float(slerp(a, b, t).norm()) == pytest.approx(float(a.norm()), rel=1e-6)
    np.testing.assert_allclose(slerp(a, b, 0.0).numpy(), a.numpy(), atol=1e-12)
    np.testing.assert_allclose(slerp(a, b, 1.0).numpy(), b.numpy(), atol=1e-12)


def test_sampling_is_seeded() -> None:
    vae = load_vae()
    a, b, c = (vae.sample(bars=4, seed=s) for s in (3, 3, 4))
    assert a.steps == 64 and np.array_equal(a.tokens, b.tokens)
    assert not np.array_equal(a.tokens, c.tokens)


def test_other_meters_and_bad_arguments() -> None:
    vae = load_vae()
    jig = Melody(np.array([67, -2, -2, 69, -2, -2] * 8, np.int16), 12, time_signature=(6, 8))
    with pytest.raises(AudioValueError, match="6/8"):
        vae.encode(jig)
    with pytest.raises(AudioValueError, match="steps="):
        vae.interpolate(jig, jig, 1)
    with pytest.raises(AudioValueError, match="even"):
        vae.sample(bars=3)
    silent = Melody(np.full(32, -2, np.int16))
    with pytest.raises(AudioValueError, match="no notes"):
        vae.encode(silent)


def test_vae_cannot_continue_and_interpolate_refuses_jigs(nottingham: Path, tmp_path: Path
                                                         ) -> None:
    from wavesmith.music.generate import continue_file, interpolate_file

    out = tmp_path / "o.mid"
    with pytest.raises(AudioValueError, match="cannot continue"):
        continue_file(nottingham / "jigs10.mid", out, model="vae")
    with pytest.raises(AudioValueError, match="6/8"):
        interpolate_file(nottingham / "hpps10.mid", nottingham / "jigs10.mid", out)
    assert not out.exists()
