"""``wavesmith asr``: transcribe files, stream live audio, score an engine on a manifest."""

from __future__ import annotations

import json
import shutil
import sys
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
    from wavesmith.speech.stream import StreamResult

__all__ = ["app"]

EXIT_INPUT = 2  # same as wavesmith.cli.EXIT_INPUT (not imported: that module imports this one)
RAW_SUFFIXES = (".raw", ".pcm", ".s16", ".s16le")  # files read as raw s16le PCM, like stdin

app = typer.Typer(no_args_is_help=True)

EngineOpt = Annotated[str, typer.Option("--engine", "-e", help="whisper (faster-whisper, "
                                        "embedded tiny.en), sphinx (pocketsphinx en-us) or "
                                        "digits (our CTC model for spoken digit strings).")]
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
             chunk_s: float = 30.0, vad: bool = True, batch_size: int = 1
             ) -> TranscribeOptions:
    from wavesmith.speech import TranscribeOptions
    from wavesmith.speech.engines.sphinx import digits_grammar

    return TranscribeOptions(language=language,
                             grammar=digits_grammar() if grammar == "digits" else grammar,
                             keyphrases=tuple(keyphrases or ()), chunk_s=chunk_s, vad=vad,
                             batch_size=batch_size)


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
    no_vad: Annotated[bool, typer.Option("--no-vad", help="Decode all the audio in --chunk-s "
                                         "pieces instead of VAD speech chunks.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Chunks decoded together "
                                            "(4: ~17 % less CPU, ~250 MB more memory).")] = 1,
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
    options = _options(language, grammar, keyphrase, chunk_s, not no_vad, batch_size)
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
    model: Annotated[str, typer.Option("--model", "-m", help="Shipped model (digits_whisper, "
                                       "digits_whisper_int8, digits_cnn, digits_cnn_int8) or "
                                       "an exported .onnx.")] = "digits_whisper",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list: path, label, "
                                          "confidence per file.")] = False,
) -> None:
    """Recognise the isolated spoken digit (0-9) in each FILE with a shipped model (offline).

    The default, digits_whisper, is a small head we trained on the frozen Whisper tiny.en
    encoder; digits_cnn is our from-scratch log-mel CNN (smaller, faster, less accurate on
    new voices).

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


@app.command()
def stream(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Audio file, raw PCM file (.raw/.pcm/.s16le), "
                                          "or - for raw PCM on stdin.")] = "-",
    rate: Annotated[int | None, typer.Option("--rate", "-r", help="Hz of raw PCM input "
                                             "(default 16000). Audio files carry their "
                                             "own.")] = None,
    realtime: Annotated[bool, typer.Option("--realtime", help="Pace a file in real time, as "
                                           "if it were being recorded.")] = False,
    engine: EngineOpt = "whisper",
    model: ModelOpt = None,
    model_dir: ModelDirOpt = None,
    language: LanguageOpt = "en",
    min_silence_s: Annotated[float, typer.Option("--min-silence-s", help="Silence (s) that "
                                                 "ends an utterance.")] = 0.5,
    partial_s: Annotated[float, typer.Option("--partial-s", help="Seconds between partial "
                                             "results (0: finals only).")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line: type "
                                          "(partial/final), utterance, start_s, end_s, "
                                          "text, emitted_s, words.")] = False,
) -> None:
    """Transcribe a live stream: raw 16-bit little-endian mono PCM on stdin, or a file.

    Final lines are printed with their times as each utterance ends (after MIN_SILENCE_S of
    silence); on a terminal the current partial result is shown and overwritten. With --json
    every partial and final result is one JSON line.

    Example: arecord -q -f S16_LE -r 16000 -c 1 | wavesmith asr stream - --rate 16000
    """
    from wavesmith import io
    from wavesmith.errors import AudioFileError, AudioValueError
    from wavesmith.speech.stream import (
        StreamingTranscriber,
        StreamOptions,
        paced,
        pcm16_blocks,
    )

    json_out = as_json or _state(ctx).json
    raw = source == "-" or source.lower().endswith(RAW_SUFFIXES)
    # open and check the input before the model is loaded, so bad input fails fast
    if source == "-":
        rate = 16_000 if rate is None else rate
        blocks = pcm16_blocks(sys.stdin.buffer, rate)
    elif raw:
        rate = 16_000 if rate is None else rate
        try:
            fh = open(source, "rb")  # noqa: SIM115 - closed when the command ends
        except OSError as exc:
            raise AudioFileError(f"{source}: cannot open ({exc.strerror})") from exc
        ctx.call_on_close(fh.close)
        blocks = pcm16_blocks(fh, rate, name=source)
    else:
        file_rate = io.info(source).sample_rate
        if rate is not None and rate != file_rate:
            raise AudioValueError(f"{source}: the file is {file_rate} Hz but --rate is {rate}; "
                                  "--rate is for raw PCM input only")
        rate = file_rate
        blocks = io.stream(source, block_seconds=0.1)
    st = StreamingTranscriber(
        rate, engine=engine, model=model, model_dir=model_dir,
        options=_options(language, None, None),
        stream_options=StreamOptions(min_silence_s=min_silence_s, partial_interval_s=partial_s))
    if realtime:
        blocks = paced(blocks)
    show = _StreamPrinter(json_out)
    try:
        for result in st.run(blocks):
            show(result)
    finally:
        show.clear()


class _StreamPrinter:
    """Print stream results: JSON lines, or final lines with partials overwritten on a TTY."""

    def __init__(self, json_out: bool) -> None:
        self.json_out = json_out
        self.tty = sys.stdout.isatty()
        self.partial_shown = False

    def __call__(self, r: StreamResult) -> None:
        from wavesmith.cli._output import to_jsonable
        from wavesmith.speech.formats import format_timestamp

        if self.json_out:
            doc = {"type": r.type, **to_jsonable(r)}
            del doc["final"]
            sys.stdout.write(json.dumps(doc) + "\n")
        elif r.final:
            self.clear()
            if r.text:
                sys.stdout.write(f"[{format_timestamp(r.start_s)} --> "
                                 f"{format_timestamp(r.end_s)}] {r.text}\n")
        elif self.tty:
            width = shutil.get_terminal_size().columns
            line = f"[{format_timestamp(r.start_s)} ...] {r.text}"
            if len(line) > width - 1:  # one screen line, or \r cannot overwrite it
                line = "..." + line[len(line) - width + 4:]
            sys.stdout.write(f"\r\x1b[K\x1b[2m{line}\x1b[0m")
            self.partial_shown = True
        sys.stdout.flush()

    def clear(self) -> None:
        """Erase a partial line still on the terminal."""
        if self.partial_shown:
            sys.stdout.write("\r\x1b[K")
            sys.stdout.flush()
            self.partial_shown = False
