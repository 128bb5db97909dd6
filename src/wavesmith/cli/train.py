"""``wavesmith train``: prepare manifests, train, evaluate, export, predict.

Thin layer: parse → call one function of :mod:`wavesmith.learn` / :mod:`wavesmith.models`
→ format. Errors derived from ``WavesmithError`` become one line and exit 2 (see
:func:`wavesmith.cli.main`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from wavesmith.cli._output import err, out, print_json, to_jsonable

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Training pipeline: prepare data, train, evaluate, export, predict.")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")]


@contextmanager
def _epoch_bar(label: str, enabled: bool) -> Iterator[Any]:
    """A rich bar over epochs on stderr (only on a terminal); yields the trainer callback."""
    if not enabled or not err.is_terminal:
        def note(done: int, total: int, row: dict[str, Any]) -> None:
            if enabled:
                err.print(f"epoch {done}/{total}: train_loss {row['train_loss']:.4f} val_loss "
                          f"{row['val_loss']:.4f} val_acc {row['val_acc']:.3f}", markup=False)
        yield note
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(),
                   TextColumn("epoch {task.completed:.0f}/{task.total:.0f} {task.fields[info]}"),
                   TimeRemainingColumn(), console=err, transient=True)
    task = bar.add_task(label, total=1, info="")
    with bar:
        def update(done: int, total: int, row: dict[str, Any]) -> None:
            bar.update(task, completed=done, total=total,
                       info=f"val_loss {row['val_loss']:.3f} val_acc {row['val_acc']:.3f}")
        yield update


@app.command()
def prepare(
    source: Annotated[Path, typer.Argument(help="Folder of clips: FSDD names "
                                           "(DIGIT_SPEAKER_INDEX.wav) or LABEL/SPEAKER_x.wav.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Manifest CSV to write.")],
    test_speaker: Annotated[list[str] | None, typer.Option(
        "--test-speaker", help="Held-out test speaker (repeatable). Default: last sorted.")]
    = None,
    val_speaker: Annotated[list[str] | None, typer.Option(
        "--val-speaker", help="Validation speaker (repeatable). Default: the one before.")]
    = None,
    folds: Annotated[Path | None, typer.Option(
        "--folds", help="Also write leave-one-speaker-out manifests fold<k>.csv here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a speaker-independent manifest (path,label,speaker,split) for SOURCE.

    Example: wavesmith train prepare ../shared/data/speech/digits -o digits.csv
    """
    from wavesmith.learn.data import loso_folds, prepare_manifest, write_manifest

    m = prepare_manifest(source, output, test_speakers=test_speaker, val_speakers=val_speaker)
    summary: dict[str, Any] = {"manifest": str(output), "clips": len(m.rows),
                               "labels": list(m.labels),
                               **{s: {"clips": len(m.split(s)), "speakers": m.speakers(s)}
                                  for s in ("train", "val", "test")}}
    if folds is not None:
        paths = []
        for k, fold in enumerate(loso_folds(m)):
            write_manifest(fold, folds / f"fold{k}.csv")
            paths.append(str(folds / f"fold{k}.csv"))
        summary["folds"] = paths
    if as_json:
        print_json(summary)
        return
    out.print(f"wrote {output}: {len(m.rows)} clips, {len(m.labels)} labels")
    for s in ("train", "val", "test"):
        spk = ", ".join(summary[s]["speakers"])
        out.print(f"  {s}: {summary[s]['clips']} clips, speakers {spk}")
    if folds is not None:
        out.print(f"  {len(summary['folds'])} leave-one-speaker-out folds in {folds}")


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="YAML training config (configs/*.yaml).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output folder (overrides "
                                                  "out_dir).")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Override epochs.")] = None,
    fold: Annotated[int | None, typer.Option("--fold", help="Leave-one-speaker-out fold.")]
    = None,
    loso: Annotated[bool, typer.Option("--loso", help="Train every leave-one-speaker-out fold "
                                       "and report the mean.")] = False,
    resume: Annotated[Path | None, typer.Option("--resume", help="Continue from a last.pt.")]
    = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir", help="Feature cache folder "
                                                    "(default ~/.cache/wavesmith/features); "
                                                    "music: parsed-corpus cache.")]
    = None,
    ship: Annotated[bool, typer.Option("--ship", help="Music configs: also write the "
                                       "weights and card into the package.")] = False,
    minutes: Annotated[float | None, typer.Option("--minutes", help="Music configs: "
                                                  "override the CPU-minute budget.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Music configs: pieces per "
                                              "split (smoke runs; never shipped).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a model from a YAML config; writes best.pt, last.pt, log.jsonl, metrics.json.

    A config with a ``kind`` key (configs/music/*.yaml) trains a music model instead and
    writes its weights, JSON card and log.jsonl to out_dir.

    Example: wavesmith train run configs/digits_cnn.yaml --out runs/digits_cnn

    Example: wavesmith train run configs/music/transformer.yaml --minutes 25 --ship
    """
    from wavesmith.errors import AudioValueError
    from wavesmith.music.train import is_music_config

    if is_music_config(config):
        digits_only = {"--fold": fold is not None, "--loso": loso, "--resume": resume}
        given = [k for k, v in digits_only.items() if v]
        if given:
            raise AudioValueError(f"{config}: {', '.join(given)} apply to digit configs, "
                                  "not music ones")
        _run_music(config, out_dir=out_dir, epochs=epochs, cache_dir=cache_dir, ship=ship,
                   minutes=minutes, limit=limit, quiet=quiet, as_json=as_json)
        return
    music_only = {"--ship": ship, "--minutes": minutes is not None, "--limit": limit is not None}
    given = [k for k, v in music_only.items() if v]
    if given:
        raise AudioValueError(f"{config}: {', '.join(given)} apply to music configs (with a "
                              "kind key) only")
    from wavesmith.learn.trainer import TrainConfig, train, train_loso

    cfg = TrainConfig.from_yaml(config, out_dir=str(out_dir) if out_dir else None,
                                epochs=epochs, fold=fold,
                                cache_dir=str(cache_dir) if cache_dir else None)
    with _epoch_bar(f"training {cfg.name}", not quiet) as progress:
        if loso:
            summary = train_loso(cfg, progress=progress)
        else:
            result = train(cfg, resume=resume, progress=progress)
            summary = {"out_dir": str(result.out_dir), "checkpoint": str(result.best_checkpoint),
                       **result.metrics}
    if as_json:
        print_json(summary)
    elif loso:
        for f in summary["folds"]:
            out.print(f"fold {f['fold']} ({f['test_speaker']}): accuracy {f['accuracy']:.2%}, "
                      + ", ".join(f"{k} {v:.2%}" for k, v in f["robustness"].items()))
        out.print(f"mean over folds: accuracy {summary['mean_accuracy']:.2%}, "
                  + ", ".join(f"{k} {v:.2%}" for k, v in summary["mean_robustness"].items()))
    else:
        out.print(f"best checkpoint {summary['checkpoint']} (epoch {summary['best_epoch']}, "
                  f"val_acc {summary['val_acc']:.2%}, {summary['train_seconds']:.0f} s)")
        if "test_accuracy" in summary:
            what = "string accuracy" if "test_der" in summary else "accuracy"
            out.print(f"test ({', '.join(summary['test_speakers'])}) {what}: "
                      + ", ".join(f"{k} {v:.2%}" for k, v in summary["test_robustness"].items()))
        if "test_der" in summary:
            out.print("digit error rate: "
                      + ", ".join(f"{k} {v:.2%}" for k, v in summary["test_der"].items()))


def _run_music(config: Path, *, out_dir: Path | None, epochs: int | None,
               cache_dir: Path | None, ship: bool, minutes: float | None, limit: int | None,
               quiet: bool, as_json: bool) -> None:
    """``train run`` for a music config: load, train, print a summary."""
    import shlex
    import sys

    from wavesmith.music.train import MusicTrainConfig, train_music

    cfg = MusicTrainConfig.from_yaml(config, out_dir=str(out_dir) if out_dir else None,
                                     epochs=epochs, minutes=minutes, limit=limit,
                                     cache_dir=str(cache_dir) if cache_dir else None,
                                     ship=ship or None)
    command = "wavesmith " + shlex.join(sys.argv[1:]) if sys.argv[1:] else None
    result = train_music(cfg, command=command,
                         log=None if quiet else lambda line: err.print(line, markup=False))
    if as_json:
        print_json(result)
        return
    m = result.metrics
    if "best_val_loss" in m:
        what = f"{m['epochs_run']} epochs, best val_loss {m['best_val_loss']:.4f}"
    elif "best_valid_distance" in m:
        what = (f"{m['generator_steps_run']} generator steps, best valid distance "
                f"{m['best_valid_distance']:.3f}")
    else:
        what = f"test chord accuracy {m['test']['hmm']['accuracy']:.1%}"
    out.print(f"wrote {result.weights} ({cfg.kind}: {what}; {result.train_cpu_seconds:.0f} "
              "CPU-s)", markup=False)
    for path in result.shipped:
        out.print(f"installed {path}", markup=False)


@app.command("eval")
def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="A .pt checkpoint or an exported .onnx.")],
    manifest: Annotated[Path, typer.Argument(help="Manifest CSV.")],
    split: Annotated[str, typer.Option(help="Split to evaluate.")] = "test",
    noise_dir: Annotated[Path | None, typer.Option("--noise", help="Noise folder for the "
                                                    "robustness curve (held-out files only).")]
    = None,
    plots: Annotated[Path | None, typer.Option("--plots", help="Write confusion.png and "
                                                "robustness.png here.")] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy, per-class precision/recall/F1, confusion matrix and robustness curve.

    Example: wavesmith train eval runs/digits_cnn/best.pt runs/digits_cnn/manifest.csv
    --noise ../shared/data/noise --plots runs/digits_cnn/plots
    """
    from wavesmith.learn.evaluate import evaluate_checkpoint

    report = evaluate_checkpoint(checkpoint, manifest, split=split, noise_dir=noise_dir,
                                 cache_dir=cache_dir, plots_dir=plots)
    if as_json:
        print_json(report)
        return
    if not hasattr(report, "per_class"):   # a CTC digit-string model
        out.print(f"{report.n} digit strings ({report.n_digits} digits), beam "
                  f"{report.beam_size}: " + "; ".join(
                      f"{k}: string accuracy {report.string_accuracy[k]:.2%}, digit error rate "
                      f"{report.der[k]:.2%}" for k in report.der))
        return
    out.print(f"{report.n} clips, accuracy {report.accuracy:.2%}; per speaker: "
              + ", ".join(f"{s} {a:.2%}" for s, a in report.per_speaker.items()))
    table = Table("label", "precision", "recall", "F1", "support")
    for c in report.per_class:
        table.add_row(c.label, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}",
                      str(c.support))
    out.print(table)
    if len(report.robustness) > 1:
        out.print("robustness (held-out noise): "
                  + ", ".join(f"{k} {v:.2%}" for k, v in report.robustness.items()))


@app.command()
def export(
    checkpoint: Annotated[Path, typer.Argument(help="A .pt checkpoint.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the ONNX files.")],
    manifest: Annotated[Path | None, typer.Option(help="Real clips for parity and accuracy "
                                                  "(default: manifest.csv beside CHECKPOINT).")]
    = None,
    threads: Annotated[int, typer.Option(help="CPU threads for the latency runs.")] = 1,
    int8_conv: Annotated[bool, typer.Option(
        "--int8-conv", help="Quantize Conv layers too (smaller; slower on many CPUs).")]
    = False,
    ship: Annotated[str | None, typer.Option(
        "--ship", help="Also install as shipped model NAME (package weights + model cards).")]
    = None,
    noise_dir: Annotated[Path | None, typer.Option(
        "--noise", help="Noise folder for the shipped cards' robustness figures.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export to ONNX fp32 + int8, check parity, print size / latency / accuracy.

    Example: wavesmith train export runs/digits_cnn/best.pt -o runs/digits_cnn/onnx
    """
    from wavesmith.learn.export import export_checkpoint, ship_model

    ops = ("MatMul", "Conv") if int8_conv else ("MatMul",)
    report = export_checkpoint(checkpoint, output, manifest=manifest, threads=threads,
                               int8_ops=ops)
    shipped = (ship_model(checkpoint, output, ship, noise_dir=noise_dir) if ship else [])
    if as_json:
        print_json({**to_jsonable(report), "shipped": [str(p) for p in shipped]})
        return
    out.print(f"parity: max |torch - onnx| = {report.parity_max_abs_diff:.2e} on "
              f"{report.parity_clips} real clips")
    table = Table("variant", "size (KB)", f"latency/clip (ms, {threads} thread)", "accuracy")
    for r in report.rows:
        table.add_row(r.variant, f"{r.size_bytes / 1024:.1f}", f"{r.latency_ms:.3f}",
                      f"{r.accuracy:.2%}")
    out.print(table)
    out.print(f"front end: {report.feature_ms:.3f} ms per clip")
    for p in shipped:
        out.print(f"installed {p}")


@app.command()
def predict(
    model: Annotated[str, typer.Argument(help="Shipped model name (digits_cnn, "
                                         "digits_cnn_int8, digits_ctc) or an exported .onnx.")],
    files: Annotated[list[Path], typer.Argument(help="Audio files: one word each, or a digit "
                                                "string for a CTC model.")],
    as_json: JsonOpt = False,
) -> None:
    """Recognise the word (or, with a CTC model, the digit string) in each FILE; --json prints
    one object per file (path, label, confidence; CTC: path, text, confidence, digits).

    Example: wavesmith train predict digits_cnn ../shared/data/speech/digits/7_theo_3.wav
    """
    from wavesmith.models.registry import load_model

    rec = load_model(model)
    results = [rec.recognize(f) for f in files]
    if as_json:
        print_json([to_jsonable(r) for r in results])
        return
    for r in results:
        text = r.label if hasattr(r, "label") else r.text
        out.print(f"{r.path}\t{text}\t{r.confidence:.3f}", markup=False)
