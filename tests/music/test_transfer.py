"""Style transfer with the VAE's attribute vectors: shipped vectors, checks, real tunes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wavesmith.errors import AudioValueError, ModelError, ModelNotFoundError
from wavesmith.music.dataset import nottingham_files
from wavesmith.music.harmonize import estimate_key
from wavesmith.music.midi import Melody, read_melody, split_pieces
from wavesmith.music.transfer import (
    ATTRIBUTES,
    MAPPED,
    SHIPPED_ATTRIBUTES,
    load_attributes,
    moment_map,
    onsets_per_bar,
    to_tonic_c,
    transfer,
)
from wavesmith.music.vae import load_vae

TUNE = Melody(np.array([67, -2, -2, -2, 71, -2, 74, -2, 72, -2, 71, -2, 69, -2, -2, -2] * 4,
                       np.int16), name="g-major")


def test_shipped_vectors_belong_to_the_shipped_vae() -> None:
    vecs = load_attributes()
    doc = json.loads(SHIPPED_ATTRIBUTES.read_text())
    assert set(vecs.vectors) == {"minor", "dense", "chorale"} and "/work/" not in json.dumps(doc)
    latent = load_vae().model.config.latent
    for name in ATTRIBUTES:
        assert vecs.vector(name).shape == (latent,)
    np.testing.assert_array_equal(vecs.vector("major"), -vecs.vector("minor"))
    np.testing.assert_array_equal(vecs.vector("folk"), -vecs.vector("chorale"))
    assert doc["metrics"]["test"]["mode_target_accuracy"]["tunes"] > 20
    style = doc["metrics"]["test"]["style"]
    assert style["segments"]["chorale"] > 50 and style["real_accuracy"]["balanced"] > 0.8
    assert doc["provenance"]["segments"]["chorale"] > 500
    # the moment maps: one per mode and style attribute, each undone by its opposite's
    assert set(vecs.maps) == set(MAPPED) and doc["format"] == 2
    mu = vecs.target("major", np.tile(vecs.maps["minor"][0], (3, 1)))
    for name, back in MAPPED.items():
        there = vecs.target(name, mu)
        np.testing.assert_allclose(vecs.target(back, there), mu, atol=2e-3)
    np.testing.assert_array_equal(vecs.target("dense", mu), mu + vecs.vector("dense"))


def test_moment_map_moves_one_gaussian_onto_another(rng: np.random.Generator) -> None:
    mix = rng.normal(size=(3, 3))
    source = rng.normal(size=(20000, 3)) * [1.0, 0.5, 2.0] + [1.0, -2.0, 0.0]
    target = rng.normal(size=(20000, 3)) @ mix + [0.0, 3.0, 1.0]
    src, dst, matrix = moment_map(source, target)
    moved = dst + (source - src) @ matrix.T
    np.testing.assert_allclose(moved.mean(0), target.mean(0), atol=1e-4)
    np.testing.assert_allclose(np.cov(moved.T), np.cov(target.T), rtol=1e-3, atol=1e-3)
    # a class mapped onto itself does not move; a plain shift is a mean shift
    src, dst, matrix = moment_map(source, source)
    np.testing.assert_allclose(matrix, np.eye(3), atol=1e-4)
    _, _, matrix = moment_map(source, source + 5.0)
    np.testing.assert_allclose(matrix, np.eye(3), atol=1e-4)


def test_vectors_for_other_weights_are_refused(tmp_path: Path) -> None:
    doc = json.loads(SHIPPED_ATTRIBUTES.read_text())
    doc["vae_sha256"] = "0" * 64
    other = tmp_path / "attrs.json"
    other.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="other VAE weights"):
        load_attributes(other)
    with pytest.raises(ModelNotFoundError, match="not found"):
        load_attributes(tmp_path / "missing.json")
    other.write_text("{not json")
    with pytest.raises(ModelError, match="not readable"):
        load_attributes(other)


def test_bad_arguments() -> None:
    vae = load_vae()
    with pytest.raises(AudioValueError, match="unknown attribute 'jazzy'"):
        transfer(vae, TUNE, "jazzy")
    with pytest.raises(AudioValueError, match="amount"):
        transfer(vae, TUNE, "minor", 9.0)
    with pytest.raises(AudioValueError, match="amount"):
        transfer(vae, TUNE, "minor", float("nan"))
    with pytest.raises(AudioValueError, match="shorter"):
        transfer(vae, Melody(TUNE.tokens[:16]), "minor")
    with pytest.raises(AudioValueError, match="no notes"):
        transfer(vae, Melody(np.full(64, -2, np.int16)), "minor")
    waltz = Melody(np.tile(np.array([67, -2, -2, -2, 71, -2, 74, -2, -2, -2, -2, -2], np.int16),
                           6), steps_per_bar=12, time_signature=(3, 4))
    with pytest.raises(AudioValueError, match="does not fit"):
        transfer(vae, waltz, "dense")


def test_transfer_keeps_length_meter_and_tonic_frame() -> None:
    c, shift, mode = to_tonic_c(TUNE)
    assert (shift, mode) == (5, "major") and c.tokens.max() == 74 + 5
    out = transfer(load_vae(), TUNE, "minor", 1.0)
    assert out.steps == TUNE.steps and out.steps_per_bar == 16
    assert out.tokens.min() >= -2 and out.tokens.max() <= 127
    again = transfer(load_vae(), TUNE, "minor", 1.0)
    np.testing.assert_array_equal(out.tokens, again.tokens)     # greedy: deterministic


@pytest.fixture(scope="module")
def heldout(nottingham: Path) -> list[Melody]:
    """Real held-out 4/4 tunes (test split), first 8 bars."""
    out = []
    for p in split_pieces(nottingham_files(nottingham))["test"]:
        m = read_melody(p)
        if m.steps_per_bar == 16 and m.bars >= 8:
            out.append(m.crop(8))
        if len(out) == 12:
            break
    return out


@pytest.mark.integration
def test_attributes_move_real_tunes(heldout: list[Melody]) -> None:
    vae = load_vae()
    rec = np.mean([onsets_per_bar(transfer(vae, m, "dense", 0.0)) for m in heldout])
    dense = np.mean([onsets_per_bar(transfer(vae, m, "dense", 1.5)) for m in heldout])
    sparse = np.mean([onsets_per_bar(transfer(vae, m, "sparse", 1.5)) for m in heldout])
    print(f"onsets per bar: sparse {sparse:.2f} < reconstruction {rec:.2f} < dense {dense:.2f}")
    assert sparse < rec - 0.5 and dense > rec + 0.5
    flips = base = 0
    for m in heldout:
        tonic, mode = estimate_key(m)
        target = "minor" if mode == "major" else "major"
        flips += estimate_key(transfer(vae, m, target, 1.0)) == (tonic, target)
        base += estimate_key(transfer(vae, m, target, 0.0)) == (tonic, target)
    print(f"heard in the target mode: {flips}/{len(heldout)} (plain reconstruction {base})")
    assert flips > base + len(heldout) // 2         # 8 of 12 (a mean vector: 6 of 12)
