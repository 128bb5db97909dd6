"""The ``wavesmith`` command line: parse, call the core, format. No capability logic here.

Exit codes: 0 success; 1 internal error (one line; ``--debug`` shows the traceback);
2 usage error or bad input (``wavesmith: error: <file>: <problem>`` on stderr).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from wavesmith import __version__, io
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

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "app", "main"]

EXIT_INTERNAL = 1  # a bug: please report it
EXIT_INPUT = 2     # bad input or usage (same code typer uses for usage errors)


app = typer.Typer(
    name="wavesmith",
    help="wavesmith: analyse, edit, transcribe, synthesise and generate audio, offline.\n\n"
    "Examples:\n\n"
    "  wavesmith info speech.flac music.ogg\n\n"
    "  wavesmith convert speech.flac speech16k.wav --rate 16000 --channels 1\n\n"
    "  wavesmith serve --port 8000",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Commands and groups, one per capability. A module `wavesmith.cli.<name>` provides either
# `app` (a typer.Typer: `wavesmith <name> <sub> ...`) or `command` (a function: `wavesmith
# <name> ...`); names without a module are reserved and list no commands yet.
_GROUPS = {
    "analyze": "Acoustic analysis: spectra, pitch, loudness, rhythm, key, voice quality.",
    "edit": "Audio editing: effects and chains, denoise, stretch, pitch, trim, normalize, mix.",
    "asr": "Speech recognition: transcribe, stream, subtitles, WER/CER evaluation.",
    "speak": "Text to speech.",
    "emotion": "Speech emotion recognition.",
    "music": "Music generation and audio-to-MIDI.",
    "train": "Training pipeline: prepare data, train, evaluate, export.",
    "batch": "Batch jobs over folders and manifests, resumable.",
}
for _name, _help in _GROUPS.items():
    if importlib.util.find_spec(f"wavesmith.cli.{_name}") is not None:
        _module = importlib.import_module(f"wavesmith.cli.{_name}")
        if hasattr(_module, "command"):
            app.command(name=_name, help=_module.command.__doc__ or _help)(_module.command)
        else:
            app.add_typer(_module.app, name=_name, help=_help)
    else:
        app.add_typer(typer.Typer(no_args_is_help=True,
                                  help=_help + " (coming soon: no commands yet)"), name=_name)


def _version(value: bool) -> None:
    if value:
        out.print(f"wavesmith {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as one JSON document.")]
    = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or notes.")]
    = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]
    = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = CliState(json=as_json, quiet=quiet, verbose=verbose, debug=debug)


def _state(ctx: typer.Context) -> CliState:
    return ctx.obj if isinstance(ctx.obj, CliState) else CliState()


@app.command()
def info(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Audio files to describe.", readable=False,
                                                show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON list.")] = False,
) -> None:
    """Describe audio files: format, codec, rate, channels, frames, duration.

    Files are recognised by content, not name. Bad files are named on stderr; the others are
    still described, and the exit code is 2 if any failed.

    Example: wavesmith info examples/jfk.flac --json
    """
    state = _state(ctx)
    results, failed = each_file(files, io.info)
    if as_json or state.json:
        print_json(results)
    elif results:
        table = Table(box=None, header_style="bold")
        table.add_column("file", overflow="fold")
        extra = ("size (bytes)", "backend", "format name") if state.verbose else ()
        for col in ("format", "codec", "rate (Hz)", "ch", "frames", "duration (s)", *extra):
            table.add_column(col, no_wrap=True)
        for r in results:
            more = (str(r.size_bytes), r.backend, r.format_name) if state.verbose else ()
            table.add_row(r.path, r.format, r.codec, str(r.sample_rate), str(r.channels),
                          str(r.frames), f"{r.duration_s:.3f}", *more)
        out.print(table)
    if failed:
        raise typer.Exit(EXIT_INPUT)


@app.command()
def convert(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="Input audio file.", show_default=False,
                                                      readable=False)],
    dst: Annotated[Path, typer.Argument(help="Output file; its extension picks the format "
                                        "(.wav .flac .ogg .opus .mp3 .aiff; .m4a with ffmpeg).",
                                        show_default=False)],
    rate: Annotated[int | None, typer.Option("--rate", "-r", help="Output sample rate in Hz "
                                             "(soxr high quality). Default: keep.")] = None,
    channels: Annotated[int | None, typer.Option("--channels", "-c", help="Output channels: 1 "
                                                 "downmixes; from mono, N duplicates.")] = None,
    subtype: Annotated[str | None, typer.Option("--subtype", help="PCM_16, PCM_24, FLOAT, ... "
                                                "Default: keep the input's when possible.")]
    = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Allow DST to be SRC (replaced "
                                            "only once the output is complete).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Convert SRC to DST: format, sample rate, channels, sample format. Streams long files.

    Example: wavesmith convert examples/jfk.flac jfk16k.wav --rate 16000 --channels 1
    """
    state = _state(ctx)
    if state.verbose and not (as_json or state.json):
        src_info = io.info(src)
        err.print(f"reading {src} ({src_info.format} {src_info.codec}, {src_info.sample_rate} Hz, "
                  f"{src_info.channels} ch, {src_info.duration_s:.2f} s, {src_info.backend})",
                  markup=False)
    with progress_bar(f"converting {src.name}", enabled=not state.quiet) as progress:
        report = io.convert(src, dst, sample_rate=rate, channels=channels, subtype=subtype,
                            overwrite=overwrite, progress=progress)
    if as_json or state.json:
        print_json(report)
    elif not state.quiet:
        out.print(f"wrote {report.dst} ({report.subtype}, {report.sample_rate} Hz, "
                  f"{report.channels} ch, {report.duration_s:.2f} s)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    max_upload_mb: Annotated[float, typer.Option(help="Largest upload accepted, in MB "
                                                 "(larger ones get 413).")] = 200.0,
    job_threshold_s: Annotated[float | None, typer.Option(
        help="Transcription uploads longer than this many seconds of audio become jobs "
             "(202 + /v1/jobs/{id}); default 60, or WAVESMITH_JOB_THRESHOLD_S.")] = None,
) -> None:
    """Run the HTTP service (OpenAPI docs at /docs, schema at /openapi.json).

    Example: wavesmith serve --port 8000, then
    curl -F file=@examples/jfk.flac http://127.0.0.1:8000/v1/info
    """
    from wavesmith.service import run

    if job_threshold_s is not None:  # read by wavesmith.service.asr.AsrSettings.from_env
        os.environ["WAVESMITH_JOB_THRESHOLD_S"] = str(job_threshold_s)

    run(host=host, port=port, max_upload_bytes=int(max_upload_mb * 1_000_000))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``wavesmith`` script: errors become one line and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="wavesmith")
    except WavesmithError as exc:
        error_line(str(exc))
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        error_line("interrupted")
        sys.exit(130)
    except Exception as exc:  # last resort: a bug must not print a wall of text
        if "--debug" in args:
            traceback.print_exc()
        error_line(f"internal error: {type(exc).__name__}: {exc} "
                   "(run with --debug for the traceback, and please report it)")
        sys.exit(EXIT_INTERNAL)
