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


class _Oracle:
    """Emits a sharp CTC spike at the centre of each true digit of the next utterance
    (``drop_last``: all but the last digit), so the metrics have known values."""

    def __init__(self, strings: list, labels: list[str], drop_last: bool = False) -> None:
        self.queue, self.labels, self.drop_last = list(strings), labels, drop_last

    def log_probs(self, features: np.ndarray) -> np.ndarray:
        s = self.queue.pop(0)
        n = -(-features.shape[1] // 2)                     # ceil(frames / 2): 20 ms frames
        probs = np.full((n, len(self.labels) + 1), 1e-4)
        probs[:, 0] = 1.0
        keep = s.spans[:-1] if self.drop_last else s.spans
        for lab, (a, b) in zip(s.labels, keep, strict=False):
            probs[round((a + b) / 2 / 0.02), :] = 1e-4
            probs[round((a + b) / 2 / 0.02), self.labels.index(lab) + 1] = 1.0
        return np.log(probs / probs.sum(axis=1, keepdims=True))


@pytest.mark.integration
def test_string_metrics_from_known_outputs(shared_data: Path) -> None:
    from wavesmith.learn.data import ManifestRow
    from wavesmith.learn.evaluate import evaluate_strings
    from wavesmith.learn.strings import StringComposer, StringConfig, fixed_strings

    digits = shared_data / "speech" / "digits"
    labels = [str(d) for d in range(10)]
    rows = [ManifestRow(digits / f"{d}_theo_{i}.wav", str(d), "theo", "test")
            for d in range(10) for i in range(2)]
    params = FeatureParams()
    strings = fixed_strings(StringComposer(rows, labels, params, StringConfig()), 6, seed=0)
    n_digits = sum(len(s.labels) for s in strings)
    r = evaluate_strings(_Oracle(strings, labels), strings, labels, params, frame_s=0.02,
                         beam_size=4)
    assert (r.n, r.n_digits) == (6, n_digits)
    assert r.der == {"clean": 0.0} and r.string_accuracy == {"clean": 1.0}
    assert r.greedy_der == {"clean": 0.0} and r.spike_in_digit == {"clean": 1.0}
    assert r.per_speaker == {"theo": 1.0} and r.examples == []
    r = evaluate_strings(_Oracle(strings, labels, drop_last=True), strings, labels, params,
                         frame_s=0.02, beam_size=4)
    assert r.der["clean"] == pytest.approx(6 / n_digits, abs=1e-4)
    assert r.string_accuracy["clean"] == 0.0 and len(r.examples) == 6
    assert r.examples[0]["hyp"] == strings[0].text[:-1]


@pytest.mark.integration
def test_evaluate_checkpoint_scores_a_ctc_model_on_strings(tiny_manifest: Path,
                                                           tmp_path: Path) -> None:
    from dataclasses import asdict

    import torch

    from wavesmith.learn.evaluate import StringEvalReport, evaluate_checkpoint
    from wavesmith.models.checkpoint import build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model("digit_ctc", {"n_mels": 24, "n_classes": 2, "channels": 8,
                                      "hidden": 8, "layers": 1})
    ck = save_checkpoint(tmp_path / "ctc.pt", model.eval(), labels=["0", "1"],
                         feature_params=asdict(FeatureParams(n_mels=24)),
                         train_config={"seed": 1, "beam_size": 2, "strings": {
                             "min_digits": 2, "max_digits": 3, "eval_strings": 5}},
                         metrics={})
    r = evaluate_checkpoint(ck, tiny_manifest)
    assert isinstance(r, StringEvalReport)
    assert (r.n, r.beam_size, list(r.der)) == (5, 2, ["clean"])
    assert 10 <= r.n_digits <= 15 and r.per_speaker.keys() == {"george"}
    assert 0.0 <= r.string_accuracy["clean"] <= 1.0 and r.der["clean"] >= 0.0
