"""Evaluate a classifier: accuracy, per-class precision/recall/F1, confusion matrix, and a
robustness curve (accuracy at several SNRs of *held-out* real noise), with plots.

A classifier is anything with ``predict_proba(features) -> probabilities``
(``(n, n_mels, n_frames)`` float32 in, ``(n, n_classes)`` out): :class:`TorchClassifier`
for a checkpoint, :class:`OnnxClassifier` for exported weights (onnxruntime).

CTC string recognizers (:class:`TorchCTC`, :class:`OnnxCTC`: ``log_probs(features (n_mels,
n_frames)) -> (out_frames, n_labels + 1)``) are scored by :func:`evaluate_strings`: digit
error rate (edit distance over digits / reference digits, the CER of a digit alphabet),
string accuracy (all digits right), for greedy and beam-search decoding, and how often a
digit's CTC spike falls inside the spoken digit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from wavesmith.errors import AudioValueError
from wavesmith.learn.augment import NoiseBank, mix_at_snr
from wavesmith.learn.data import (
    FeatureCache,
    FeatureParams,
    ManifestRow,
    features_from_audio,
    load_clip,
    read_manifest,
)

__all__ = ["ClassMetrics", "Classifier", "EvalReport", "OnnxCTC", "OnnxClassifier",
           "StringEvalReport", "TorchCTC", "TorchClassifier", "evaluate", "evaluate_checkpoint",
           "evaluate_strings", "noisy_features", "plot_confusion", "plot_robustness"]

DEFAULT_SNRS_DB = (20.0, 10.0, 5.0, 0.0)   # dB; the robustness curve's points besides clean
BATCH = 256                                  # clips per inference batch
DEFAULT_BEAM = 8                             # prefix beam width of the CTC decoder


class Classifier(Protocol):
    """Maps features ``(n, n_mels, n_frames)`` to class probabilities ``(n, n_classes)``."""

    def predict_proba(self, features: np.ndarray) -> np.ndarray: ...


class TorchClassifier:
    """A torch module (logits out) as a :class:`Classifier`; runs in eval mode, no grad."""

    def __init__(self, model: Any) -> None:
        self.model = model.eval()

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Softmax of the model's logits, batch by batch."""
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(features), BATCH):
                logits = self.model(torch.from_numpy(np.ascontiguousarray(features[i:i + BATCH])))
                out.append(torch.softmax(logits, dim=1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


class OnnxClassifier:
    """An exported ONNX model (input ``features``, output ``logits``) run by onnxruntime."""

    def __init__(self, path: str | os.PathLike[str], *, threads: int = 1) -> None:
        from wavesmith.models.registry import onnx_session

        self.session = onnx_session(path, threads)
        self.path = Path(path)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Raw logits ``(n, n_classes)`` for features ``(n, n_mels, n_frames)``."""
        out = [self.session.run(["logits"], {"features": np.ascontiguousarray(
            features[i:i + BATCH], dtype=np.float32)})[0] for i in range(0, len(features), BATCH)]
        return np.concatenate(out)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Softmax of :meth:`logits`."""
        z = self.logits(features)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


@dataclass
class ClassMetrics:
    """Precision, recall and F1 (0-1) of one label over ``support`` true examples."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class EvalReport:
    """Results on one set of clips; ``robustness`` maps ``"clean"``/``"<snr> dB"`` to accuracy."""

    n: int
    accuracy: float
    labels: list[str]
    per_class: list[ClassMetrics]
    confusion: list[list[int]]          # rows: true label, columns: predicted
    per_speaker: dict[str, float]       # clean accuracy per speaker
    robustness: dict[str, float] = field(default_factory=dict)
    noise_files: list[str] = field(default_factory=list)   # held-out noise used


def noisy_features(rows: Sequence[ManifestRow], params: FeatureParams, noise: NoiseBank,
                   snr_db: float, *, seed: int = 0) -> np.ndarray:
    """Features of ``rows`` mixed with held-out noise at ``snr_db`` dB.

    Clip ``i`` gets a noise segment drawn by ``default_rng([seed, i])``, so every SNR and
    every model sees the same noise for the same clip.
    """
    out = np.empty((len(rows), params.n_features, params.n_frames), np.float32)
    for i, r in enumerate(rows):
        clip = load_clip(r.path, params)
        seg = noise.segment(clip.frames, np.random.default_rng([seed, i]), heldout=True)
        out[i] = features_from_audio(mix_at_snr(clip, seg, snr_db), params)
    return out


def _report(probs: np.ndarray, targets: np.ndarray, labels: list[str],
            speakers: list[str]) -> EvalReport:
    pred = probs.argmax(axis=1)
    k = len(labels)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (targets, pred), 1)
    per_class = []
    for c, lab in enumerate(labels):
        tp, fp, fn = cm[c, c], cm[:, c].sum() - cm[c, c], cm[c, :].sum() - cm[c, c]
        p = float(tp / (tp + fp)) if tp + fp else 0.0
        r = float(tp / (tp + fn)) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_class.append(ClassMetrics(lab, round(p, 4), round(r, 4), round(f1, 4),
                                      int(cm[c].sum())))
    spk = np.array(speakers)
    per_speaker = {s: round(float((pred[spk == s] == targets[spk == s]).mean()), 4)
                   for s in sorted(set(speakers))}
    acc = round(float((pred == targets).mean()), 4)
    return EvalReport(len(targets), acc, labels, per_class, cm.tolist(), per_speaker,
                      {"clean": acc})


def evaluate(classifier: Classifier, rows: Sequence[ManifestRow], labels: Sequence[str],
             params: FeatureParams, cache: FeatureCache, *, noise: NoiseBank | None = None,
             snr_db: Sequence[float] = DEFAULT_SNRS_DB, seed: int = 0) -> EvalReport:
    """Evaluate ``classifier`` on ``rows``: clean metrics, then accuracy at each ``snr_db``
    with held-out noise (skipped when ``noise`` is None).

    Raises
    ------
    AudioValueError
        If ``rows`` is empty or holds a label outside ``labels``.
    """
    if not rows:
        raise AudioValueError("evaluate: no clips to evaluate (empty split)")
    index = {lab: i for i, lab in enumerate(labels)}
    unknown = sorted({r.label for r in rows} - set(index))
    if unknown:
        raise AudioValueError(f"evaluate: unknown label(s) {', '.join(map(repr, unknown))}; "
                              f"the model knows {', '.join(labels)}")
    targets = np.array([index[r.label] for r in rows])
    feats = cache.many([r.path for r in rows])
    report = _report(classifier.predict_proba(feats), targets, list(labels),
                     [r.speaker for r in rows])
    if noise is not None:
        report.noise_files = [p.name for p in noise.heldout_files]
        for snr in snr_db:
            probs = classifier.predict_proba(noisy_features(rows, params, noise, snr, seed=seed))
            report.robustness[f"{snr:g} dB"] = round(float((probs.argmax(1) == targets).mean()),
                                                     4)
    return report


def evaluate_checkpoint(checkpoint: str | os.PathLike[str], manifest: str | os.PathLike[str],
                        *, split: str = "test", noise_dir: str | os.PathLike[str] | None = None,
                        snr_db: Sequence[float] = DEFAULT_SNRS_DB,
                        cache_dir: str | os.PathLike[str] | None = None,
                        plots_dir: str | os.PathLike[str] | None = None
                        ) -> EvalReport | StringEvalReport:
    """Load a ``.pt`` checkpoint or ``.onnx`` export and evaluate it on a manifest split.

    ``.onnx`` files need their labels and feature parameters in the ONNX metadata (as
    written by :func:`wavesmith.learn.export.export_checkpoint`). With ``plots_dir``, writes
    ``confusion.png`` and (with noise) ``robustness.png`` there.

    A CTC model gives a :class:`StringEvalReport` on digit strings composed from the
    split's clips as the trainer composes its test set (the checkpoint's ``strings`` config
    and seed; an ``.onnx`` file uses the defaults and seed 0); no plots.
    """
    from wavesmith.learn.augment import AugmentConfig
    from wavesmith.models.registry import read_onnx_metadata

    path = Path(checkpoint)
    clf: Classifier
    ctc_model: Any = None
    train_config: dict[str, Any] = {}
    if path.suffix == ".onnx":
        meta = read_onnx_metadata(path)
        labels, fp = meta["labels"], meta["feature_params"]
        if meta.get("task") == "ctc":
            ctc_model, stride = OnnxCTC(path), int(meta["stride"])
        else:
            clf = OnnxClassifier(path)
    else:
        from wavesmith.models.checkpoint import load_checkpoint

        ck = load_checkpoint(path)
        labels, fp, train_config = ck.labels, ck.feature_params, ck.train_config
        if getattr(ck.model, "task", "classify") == "ctc":
            ctc_model, stride = TorchCTC(ck.model), int(ck.model.config.stride)
        else:
            clf = TorchClassifier(ck.model)
    params = FeatureParams(**fp)
    m = read_manifest(manifest, labels=labels, required_splits=(split,))
    held = AugmentConfig().noise_heldout_fraction
    bank = NoiseBank(noise_dir, params.sample_rate, heldout_fraction=held) if noise_dir else None
    if ctc_model is not None:
        from wavesmith.learn.strings import StringComposer, StringConfig, fixed_strings
        from wavesmith.learn.trainer import TEST_SEED_OFFSET

        cfg = StringConfig(**train_config.get("strings", {}))
        strings = fixed_strings(StringComposer(m.split(split), labels, params, cfg),
                                cfg.eval_strings,
                                int(train_config.get("seed", 0)) + TEST_SEED_OFFSET)
        return evaluate_strings(ctc_model, strings, labels, params,
                                frame_s=params.frame_s * stride,
                                noise=bank, snr_db=snr_db,
                                beam_size=int(train_config.get("beam_size", DEFAULT_BEAM)))
    report = evaluate(clf, m.split(split), labels, params, FeatureCache(params, cache_dir),
                      noise=bank, snr_db=snr_db)
    if plots_dir is not None:
        Path(plots_dir).mkdir(parents=True, exist_ok=True)
        plot_confusion(report, Path(plots_dir) / "confusion.png")
        if bank is not None:
            plot_robustness(report, Path(plots_dir) / "robustness.png")
    return report


def plot_confusion(report: EvalReport, path: str | os.PathLike[str]) -> Path:
    """Write the confusion matrix (counts, true label down, predicted across) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.array(report.confusion)
    fig, ax = plt.subplots(figsize=(5, 4.5), dpi=100)
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(report.labels)), report.labels)
    ax.set_yticks(range(len(report.labels)), report.labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {report.accuracy:.1%} (n={report.n})")
    for (i, j), v in np.ndenumerate(cm):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > cm.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_robustness(report: EvalReport, path: str | os.PathLike[str]) -> Path:
    """Write accuracy against SNR (dB, held-out real noise; clean on the left) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report.robustness)
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
    ax.plot(range(len(names)), [100 * report.robustness[n] for n in names], marker="o")
    ax.set_xticks(range(len(names)), names)
    ax.set_xlabel("SNR (held-out real noise)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


# -- CTC digit strings ------------------------------------------------------------------------
class TorchCTC:
    """A CTC torch module (logits ``(1, C, T')`` out) as ``log_probs(features) -> (T', C)``."""

    def __init__(self, model: Any) -> None:
        self.model = model.eval()

    def log_probs(self, features: np.ndarray) -> np.ndarray:
        """Log-softmax over symbols per output frame for features ``(n_mels, n_frames)``."""
        import torch

        with torch.inference_mode():
            z = self.model(torch.from_numpy(np.ascontiguousarray(features))[None])
            return torch.log_softmax(z[0].T.double(), dim=1).numpy()


class OnnxCTC:
    """An exported CTC model (input ``features``, output ``logits``) run by onnxruntime."""

    def __init__(self, path: str | os.PathLike[str], *, threads: int = 1) -> None:
        from wavesmith.models.registry import onnx_session

        self.session = onnx_session(path, threads)
        self.path = Path(path)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Raw logits ``(1, C, T')`` for features ``(n_mels, n_frames)``."""
        x = np.ascontiguousarray(features[np.newaxis], dtype=np.float32)
        return self.session.run(["logits"], {"features": x})[0]

    def log_probs(self, features: np.ndarray) -> np.ndarray:
        """Log-softmax over symbols per output frame, ``(T', C)``."""
        from wavesmith.models.ctc_decode import log_softmax

        return log_softmax(self.logits(features)[0].T, axis=1)


@dataclass
class StringEvalReport:
    """CTC results on one set of utterances, per condition (``"clean"``, ``"10 dB"``, ...).

    ``der``: digit error rate (edit distance / reference digits) with beam search;
    ``string_accuracy``: fraction of utterances decoded exactly; ``greedy_*``: the same with
    greedy decoding; ``spike_in_digit``: fraction of correctly decoded digits whose CTC spike
    (forced-alignment frames) is centred inside the spoken digit's span.
    """

    n: int
    n_digits: int
    beam_size: int
    der: dict[str, float] = field(default_factory=dict)
    string_accuracy: dict[str, float] = field(default_factory=dict)
    greedy_der: dict[str, float] = field(default_factory=dict)
    greedy_string_accuracy: dict[str, float] = field(default_factory=dict)
    spike_in_digit: dict[str, float] = field(default_factory=dict)
    per_speaker: dict[str, float] = field(default_factory=dict)   # clean string accuracy
    noise_files: list[str] = field(default_factory=list)
    examples: list[dict[str, str]] = field(default_factory=list)  # first errors (clean)


def _score(model: Any, strings: Sequence[Any], labels: Sequence[str], params: FeatureParams,
           frame_s: float, beam_size: int) -> dict[str, Any]:
    from wavesmith.learn.data import log_mel_features
    from wavesmith.learn.strings import edit_distance
    from wavesmith.models.ctc_decode import forced_align, greedy_decode, prefix_beam_search

    errs = g_errs = exact = g_exact = digits = hits = matched = 0
    by_speaker: dict[str, list[int]] = {}
    wrong: list[dict[str, str]] = []
    for s in strings:
        lp = model.log_probs(log_mel_features(s.audio.samples[0], params))
        ref = list(s.labels)
        best = prefix_beam_search(lp, beam_size)[0].symbols
        hyp = [labels[k - 1] for k in best]
        ghyp = [labels[k - 1] for k in greedy_decode(lp)]
        e, ge = edit_distance(ref, hyp), edit_distance(ref, ghyp)
        errs, g_errs, digits = errs + e, g_errs + ge, digits + len(ref)
        exact, g_exact = exact + (e == 0), g_exact + (ge == 0)
        by_speaker.setdefault(s.speaker, []).append(int(e == 0))
        if e == 0 and best:
            for (a, b), (t0, t1) in zip(forced_align(lp, list(best)), s.spans, strict=True):
                centre_s = (a + b) / 2 * frame_s   # output frame k is centred at k * frame_s
                hits += t0 <= centre_s <= t1
                matched += 1
        elif e and len(wrong) < 10:
            wrong.append({"ref": "".join(ref), "hyp": "".join(hyp)})
    n = max(len(strings), 1)
    return {"der": round(errs / max(digits, 1), 4), "acc": round(exact / n, 4),
            "gder": round(g_errs / max(digits, 1), 4), "gacc": round(g_exact / n, 4),
            "spike": round(hits / max(matched, 1), 4), "digits": digits,
            "per_speaker": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_speaker.items())},
            "wrong": wrong}


def evaluate_strings(model: Any, strings: Sequence[Any], labels: Sequence[str],
                     params: FeatureParams, *, frame_s: float, noise: NoiseBank | None = None,
                     snr_db: Sequence[float] = (10.0,), beam_size: int = DEFAULT_BEAM,
                     seed: int = 0) -> StringEvalReport:
    """Score a CTC model on utterances (:class:`~wavesmith.learn.strings.DigitString`),
    clean and, with ``noise``, at each ``snr_db`` (held-out noise, digits-only SNR).

    Parameters
    ----------
    model : TorchCTC or OnnxCTC
        Anything with ``log_probs(features) -> (out_frames, n_labels + 1)``.
    frame_s : float
        Seconds per output frame (hop × stride), for the spike timing check.

    Raises
    ------
    AudioValueError
        If ``strings`` is empty.
    """
    from wavesmith.learn.strings import noisy_strings

    if not strings:
        raise AudioValueError("evaluate_strings: no utterances to evaluate (empty split)")
    report = StringEvalReport(n=len(strings), n_digits=0, beam_size=beam_size)
    conditions: list[tuple[str, Sequence[Any]]] = [("clean", strings)]
    if noise is not None:
        report.noise_files = [p.name for p in noise.heldout_files]
        conditions += [(f"{snr:g} dB", noisy_strings(strings, noise, snr, seed=seed))
                       for snr in snr_db]
    for name, items in conditions:
        r = _score(model, items, labels, params, frame_s, beam_size)
        report.der[name], report.string_accuracy[name] = r["der"], r["acc"]
        report.greedy_der[name], report.greedy_string_accuracy[name] = r["gder"], r["gacc"]
        report.spike_in_digit[name] = r["spike"]
        if name == "clean":
            report.n_digits, report.per_speaker, report.examples = (r["digits"],
                                                                   r["per_speaker"], r["wrong"])
    return report
