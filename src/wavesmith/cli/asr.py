"""``wavesmith asr``: transcribe files and score an engine against a manifest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from wavesmith.cli._output import (
    CliState,
    each_file,
    err,
    error_line,
    out,
    print_json,
    progress_bar,
)
from wavesmith.errors import WavesmithError

if TYPE_CHECKING:
    from wavesmith.speech.asr import TranscribeOptions

__all__ = ["app"]

EXIT_INPUT = 2  # same as wavesmith.cli.EXIT_INPUT (not imported: that module imports this one)

app = typer.Typer(no_args_is_help=True)

EngineOpt = Annotated[str, typer.Option("--engine", "-e", help="whisper (faster-whisper, "
                                        "embedded tiny.en) or sphinx (pocketsphinx en-us).")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="whisper model name from "
                                              "the local Hugging Face cache (small, base.en...); "
                                              "never downloaded.")]
ModelDirOpt = Annotated[Path | None, typer.Option("--model-dir", help="CTranslate2 whisper "
                                                  "model folder.")]
GrammarOpt = Annotated[str | None, typer.Option("--grammar", help="sphinx: JSGF grammar file "
                                                "(.gram/.jsgf), or 'digits' for zero..nine.")]
KeyphraseOpt = Annotated[list[str] | None, typer.Option("--keyphrase", help="sphinx: spot this "
                                                        "phrase (repeatable).")]
LanguageOpt = Annotated[str, typer.Option("--language", help="Language code.")]


def _state(ctx: typer.Context) -> CliState:
    parent = ctx.find_root()
    return parent.obj if isinstance(parent.obj, CliState) else CliState()


def _options(language: str, grammar: str | None, keyphrases: list[str] | None,
             chunk_s: float = 30.0, vad: bool = True) -> TranscribeOptions:
    from wavesmith.speech import TranscribeOptions
    from wavesmith.speech.engines.sphinx import digits_grammar

    return TranscribeOptions(language=language,
                             grammar=digits_grammar() if grammar == "digits" else grammar,
                             keyphrases=tuple(keyphrases or ()), chunk_s=chunk_s, vad=vad)


@app.command()
def transcribe(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Audio files.", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", "-f", help="txt, srt, vtt, tsv or json.")]
    = "txt",
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o", help="Write "
                                                    "<stem>.<format> here instead of stdout.")]
    = None,
    engine: EngineOpt = "whisper",
    model: ModelOpt = None,
    model_dir: ModelDirOpt = None,
    grammar: GrammarOpt = None,
    keyphrase: KeyphraseOpt = None,
    language: LanguageOpt = "en",
    chunk_s: Annotated[float, typer.Option("--chunk-s", help="Seconds per chunk of long "
                                           "files.")] = 30.0,
    no_vad: Annotated[bool, typer.Option("--no-vad", help="whisper: decode non-speech too.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Transcribe speech in FILES (any rate/channels; resampled to 16 kHz mono, mean downmix).

    Without -o the transcript goes to stdout; with -o each file's transcript is written
    (atomically) to DIR/<stem>.<format>. Bad files are named on stderr, the others are still
    transcribed, and the exit code is 2 if any failed.

    Example: wavesmith asr transcribe jfk.flac -f srt -o subs/
    """
    from wavesmith.io import write_text_atomic
    from wavesmith.speech import get_transcriber, render, transcribe
    from wavesmith.speech.formats import transcript_dict

    state = _state(ctx)
    json_out = as_json or state.json
    options = _options(language, grammar, keyphrase, chunk_s, not no_vad)
    render(fmt, [])  # reject an unknown format before loading anything
    get_transcriber(engine, model=model, model_dir=model_dir)  # model errors stop the batch
    if output_dir is not None and not output_dir.is_dir():
        raise typer.BadParameter(f"{output_dir} is not a folder", param_hint="--output-dir")
    documents, failed = [], 0
    for f in files:
        try:
            with progress_bar(f"transcribing {f.name}", enabled=not state.quiet) as progress:
                segments, info = transcribe(f, engine=engine, model=model, model_dir=model_dir,
                                            options=options, progress=progress)
                segs = list(segments)
            text = render(fmt, segs, info)
            doc = {"file": str(f), **transcript_dict(segs, info)}
            if output_dir is not None:
                dst = write_text_atomic(output_dir / f"{f.stem}.{fmt.lower()}", text)
                doc["output"] = str(dst)
                if not json_out and not state.quiet:
                    out.print(f"wrote {dst}", markup=False)
            elif not json_out:
                out.file.write(text)
                out.file.flush()
            documents.append(doc)
        except WavesmithError as exc:
            error_line(str(exc))
            failed += 1
    if json_out:
        print_json(documents)
    if failed:
        raise typer.Exit(EXIT_INPUT)


@app.command("eval")
def evaluate(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(help="CSV with columns path (relative to the "
                                             "manifest) and the reference text.",
                                             show_default=False)],
    engine: EngineOpt = "whisper",
    model: ModelOpt = None,
    model_dir: ModelDirOpt = None,
    grammar: GrammarOpt = None,
    keyphrase: KeyphraseOpt = None,
    language: LanguageOpt = "en",
    text_column: Annotated[str, typer.Option("--text-column", help="Column holding the "
                                             "reference text.")] = "text",
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="Use at most N rows.")]
    = None,
    every: Annotated[int, typer.Option("--every", help="Use every K-th row.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Score an engine on MANIFEST: WER, CER (fractions), S/D/I counts and real-time factor.

    Texts are normalised first (lowercase, no punctuation, digits spelled as words).

    Example: wavesmith asr eval speech/digits/manifest.csv --text-column digit --every 25
    """
    from wavesmith.speech import evaluate_manifest

    state = _state(ctx)
    with progress_bar(f"evaluating {manifest.name}", enabled=not state.quiet) as progress:
        report = evaluate_manifest(
            manifest, engine=engine, model=model, model_dir=model_dir,
            options=_options(language, grammar, keyphrase), limit=limit, every=every,
            text_column=text_column, progress=progress,
        )
    if as_json or state.json:
        print_json(report)
        return
    table = Table(box=None, header_style="bold")
    for col in ("file", "WER", "CER", "S", "D", "I", "hypothesis"):
        table.add_column(col, overflow="fold", no_wrap=col not in ("file", "hypothesis"))
    for r in report.results:
        table.add_row(Path(r.path).name, f"{r.wer:.3f}", f"{r.cer:.3f}", str(r.substitutions),
                      str(r.deletions), str(r.insertions), r.hypothesis)
    out.print(table)
    out.print(f"{report.engine} ({report.model}) on {report.utterances} utterances, "
              f"{report.audio_s:.1f} s of audio: WER {report.wer:.4f}, CER {report.cer:.4f} "
              f"(S {report.substitutions}, D {report.deletions}, I {report.insertions} of "
              f"{report.ref_words} words); RTF {report.rtf:.3f}; model load {report.load_s:.2f} s",
              markup=False)
    if state.verbose:
        err.print(f"decoding took {report.processing_s:.2f} s", markup=False)


@app.command()
def recognize(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Audio files, one spoken digit each "
                                                "(any rate; resampled explicitly to 8 kHz).",
                                                readable=False, show_default=False)],
    model: Annotated[str, typer.Option("--model", "-m", help="Shipped model (digits_cnn, "
                                       "digits_cnn_int8) or an exported .onnx.")] = "digits_cnn",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list: path, label, "
                                          "confidence per file.")] = False,
) -> None:
    """Recognise the isolated spoken digit (0-9) in each FILE with our shipped CNN (offline).

    Bad files are named on stderr; the others are still recognised, and the exit code is 2 if
    any failed.

    Example: wavesmith asr recognize examples/7_theo_3.wav examples/3_george_10.wav --json
    """
    from wavesmith.models.registry import load_recognizer

    results, failed = each_file(files, load_recognizer(model).recognize)
    if as_json or _state(ctx).json:
        print_json(results)
    else:
        for r in results:
            out.print(f"{r.path}\t{r.label}\t{r.confidence:.3f}", markup=False)
    if failed:
        raise typer.Exit(EXIT_INPUT)
