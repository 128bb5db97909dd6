"""``wavesmith analyze FILE``: parse, call :func:`wavesmith.analysis.analyze_file`, format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wavesmith.cli._output import CliState, out, print_json, progress_bar


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}{unit}"
    return f"{value}{unit}"


def _table(data: dict[str, Any]) -> Table:
    from wavesmith import analysis

    table = Table(box=None, header_style="bold", show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("duration (s)", _fmt(data["duration_s"]))
    table.add_row("sample rate (Hz)", str(data["sample_rate_hz"]))
    table.add_row("channels", str(data["channels"]))
    if data.get("streamed"):
        table.add_row("streamed", "yes (read block by block)")
    for section in analysis.FEATURES:
        values = data.get(section)
        if values is None:
            continue
        if "skipped" in values:
            table.add_row(f"[bold]{section}[/bold]", f"skipped: {values['skipped']}")
            continue
        table.add_row(f"[bold]{section}[/bold]", "")
        for name, value in values.items():
            if isinstance(value, dict):   # spectral {"mean", "std"}
                if isinstance(value.get("mean"), float):
                    table.add_row(f"  {name} mean ± std",
                                  f"{value['mean']:.4g} ± {value['std']:.3g}")
                continue
            if isinstance(value, list):
                table.add_row(f"  {name} (count)", str(len(value)))
                continue
            table.add_row(f"  {name}", _fmt(value))
    return table


def analyze(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Audio file to analyse.", show_default=False)],
    features: Annotated[str, typer.Option(
        "--features", "-f",
        help="Comma-separated sections: loudness, spectral, rhythm, key, pitch, voice, or "
             "all.")]
    = "loudness,spectral",
    pitch: Annotated[str | None, typer.Option(
        "--pitch", metavar="METHOD",
        help="Add the pitch section with this tracker: pyin or crepe.")] = None,
    pitch_model: Annotated[str, typer.Option(
        "--pitch-model", help="CREPE model size: tiny (fast) or full.")] = "tiny",
    voice: Annotated[bool, typer.Option(
        "--voice", help="Add Praat's voice report (F0, jitter, shimmer, HNR, formants, "
                        "CPPS).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Also write a PNG overview (waveform, log-mel with pitch contour, "
                       "loudness, chroma/beats).")] = None,
    curves: Annotated[bool, typer.Option(
        "--curves", help="Include the loudness curves and the pitch contour in --json.")]
    = False,
    stream_min_s: Annotated[float | None, typer.Option(
        "--stream-min-s", metavar="SECONDS", show_default=False,
        help="Stream files at least this long instead of loading them (default 600; 0 "
             "streams every file).")] = None,
) -> None:
    """Loudness (LUFS, LRA, true peak), spectral features, tempo, key, pitch and voice
    quality of FILE.

    Multi-channel files: loudness uses every channel; the other sections use the channel
    mean (reported as mono_downmix). Undefined values (silence) print as — / JSON null.

    Files of 10 minutes or more are streamed (reported as streamed): loudness, spectral and
    pitch are measured block by block with the whole-file results; rhythm, key, voice and
    --plot use a mono 22.05 kHz load of the file.

    Example: wavesmith analyze examples/jfk.flac --pitch pyin --voice --plot jfk.png
    """
    from wavesmith import analysis, io  # here, not at import: keeps `wavesmith --help` fast

    state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
    wanted = analysis.parse_features(features, pitch=pitch, voice=voice)
    options = {} if stream_min_s is None else {"stream_min_s": stream_min_s}
    with progress_bar(f"analysing {file.name}", enabled=not state.quiet) as progress:
        result = analysis.analyze_file(file, wanted, pitch=pitch, pitch_model=pitch_model,
                                       progress=progress, **options)
    if plot is not None:
        audio = analysis.load_downmix(file) if result.streamed else io.load(file)
        analysis.plot_report(audio, plot, result=result)
    data = result.to_dict(curves=curves)
    if as_json or state.json:
        print_json(data)
    else:
        out.print(_table(data))
        if plot is not None and not state.quiet:
            out.print(f"wrote {plot}", markup=False)


command = analyze  # `wavesmith analyze FILE ...` (a command, not a group)
