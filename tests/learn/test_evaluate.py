"""Metrics from known predictions, the robustness curve on real noise, the plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wavesmith.learn.augment import NoiseBank
from wavesmith.learn.data import FeatureCache, FeatureParams, read_manifest
from wavesmith.learn.evaluate import _report, evaluate, plot_confusion, plot_robustness


class _Fixed:
    """Predicts class 0 for every clip, with probability 1."""

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        out = np.zeros((len(features), 2), np.float32)
        out[:, 0] = 1.0
        return out


def test_metrics_from_known_predictions() -> None:
    probs = np.eye(3)[[0, 0, 1, 1, 2, 0]]
    r = _report(probs, np.array([0, 1, 1, 1, 2, 2]), ["a", "b", "c"], ["s"] * 3 + ["t"] * 3)
    assert r.accuracy == pytest.approx(4 / 6, abs=1e-4)
    assert r.confusion == [[1, 0, 0], [1, 2, 0], [1, 0, 1]]
    a, b, c = r.per_class
    assert (a.precision, a.recall) == (pytest.approx(1 / 3, abs=1e-4), 1.0)
    assert (b.precision, b.recall, b.support) == (1.0, pytest.approx(2 / 3, abs=1e-4), 3)
    assert c.f1 == pytest.approx(2 * 1 * 0.5 / 1.5, abs=1e-4)
    assert r.per_speaker == {"s": pytest.approx(2 / 3, abs=1e-4), "t": pytest.approx(2 / 3,
                                                                                     abs=1e-4)}


@pytest.mark.integration
def test_robustness_curve_and_plots(tiny_manifest: Path, shared_data: Path,
                                    tmp_path: Path) -> None:
    m = read_manifest(tiny_manifest)
    params = FeatureParams()
    bank = NoiseBank(shared_data / "noise", params.sample_rate)
    r = evaluate(_Fixed(), m.split("test"), m.labels, params, FeatureCache(params, tmp_path),
                 noise=bank, snr_db=(10.0, 0.0))
    assert list(r.robustness) == ["clean", "10 dB", "0 dB"]
    assert r.accuracy == 0.5 and all(v == 0.5 for v in r.robustness.values())
    assert r.noise_files == [p.name for p in bank.heldout_files]
    for path in (plot_confusion(r, tmp_path / "c.png"), plot_robustness(r, tmp_path / "r.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
