"""``wavesmith edit``: apply effect chains and shortcuts to files. Parse → call → format.

Every command builds an effect or chain and calls :func:`wavesmith.edit.apply_file` (or
:func:`wavesmith.edit.mix_files`); what the result *is* is decided in ``wavesmith.edit``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wavesmith import edit
from wavesmith.cli._output import CliState, out, print_json, progress_bar
from wavesmith.edit import EditReport, Effect, MixReport
from wavesmith.errors import AudioValueError

__all__ = ["app"]

app = typer.Typer(
    no_args_is_help=True,
    help="Audio editing: effects and chains, denoise, stretch, pitch, trim, cut, fade, "
    "normalize, mix, voice activity detection and silence stripping.\n\nExamples:\n\n"
    "  wavesmith edit normalize talk.flac talk-16.flac --lufs -16\n\n"
    "  wavesmith edit apply talk.flac clean.flac --chain voice.yaml\n\n"
    "  wavesmith edit vad talk.flac --json",
    context_settings={"help_option_names": ["-h", "--help"]},
)

Src = Annotated[Path, typer.Argument(help="Input audio file.", metavar="IN", show_default=False)]
Dst = Annotated[Path, typer.Argument(metavar="OUT", help="Output file; its extension picks "
                                     "the format (.wav .flac .ogg .mp3 .aiff ...).",
                                     show_default=False)]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Allow OUT to be IN (replaced "
                                         "only once the output is complete).")]
Json = Annotated[bool, typer.Option("--json", help="Print the report as one JSON document.")]
Subtype = Annotated[str | None, typer.Option("--subtype", help="PCM_16, PCM_24, FLOAT, ... "
                                             "Default: the input's when possible.")]


def _state(ctx: typer.Context) -> CliState:
    parent = ctx.find_root()
    return parent.obj if isinstance(parent.obj, CliState) else CliState()


def _report(ctx: typer.Context, report: EditReport | MixReport, as_json: bool) -> None:
    state = _state(ctx)
    if as_json or state.json:
        print_json(report)
    elif not state.quiet:
        how = "" if isinstance(report, MixReport) else (
            ", streamed" if report.streamed else ", whole file")
        out.print(f"wrote {report.dst} ({report.sample_rate} Hz, {report.channels} ch, "
                  f"{report.duration_s:.2f} s{how})", markup=False)


def _apply(ctx: typer.Context, src: Path, dst: Path, chain: Effect, *, overwrite: bool,
           subtype: str | None, as_json: bool, block_seconds: float = 10.0) -> None:
    with progress_bar(f"editing {src.name}", enabled=not _state(ctx).quiet) as progress:
        report = edit.apply_file(src, dst, chain, overwrite=overwrite, subtype=subtype,
                                 block_seconds=block_seconds, progress=progress)
    _report(ctx, report, as_json)


@app.command()
def apply(
    ctx: typer.Context, src: Src, dst: Dst,
    chain: Annotated[Path, typer.Option("--chain", "-c", help="Chain file (YAML or JSON): "
                                        "effects: [{effect: highpass, cutoff_hz: 80}, ...].",
                                        show_default=False)],
    block_seconds: Annotated[float, typer.Option(help="Seconds per block when the chain "
                                                 "streams.")] = 10.0,
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Run IN through the effect chain in a YAML/JSON file and write OUT.

    Streamable chains are processed block by block (flat memory); chains with time-stretch,
    pitch-shift, normalisation, silence trimming or denoise process the whole file.

    Example: wavesmith edit apply talk.flac clean.flac --chain voice.yaml
    """
    _apply(ctx, src, dst, edit.Chain.load(chain), overwrite=overwrite, subtype=subtype,
           as_json=as_json, block_seconds=block_seconds)


@app.command()
def normalize(
    ctx: typer.Context, src: Src, dst: Dst,
    lufs: Annotated[float | None, typer.Option("--lufs", help="Target integrated loudness "
                                               "(LUFS, BS.1770), e.g. -16 for podcasts.")]
    = None,
    peak: Annotated[float | None, typer.Option("--peak", help="Target sample peak (dBFS), "
                                               "e.g. -1.")] = None,
    true_peak: Annotated[float, typer.Option("--true-peak", help="True-peak ceiling (dBTP) "
                                             "with --lufs.")] = -1.0,
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Normalise IN to a loudness (--lufs) or a peak level (--peak) and write OUT.

    Example: wavesmith edit normalize talk.flac talk-16.flac --lufs -16
    """
    if (lufs is None) == (peak is None):
        raise typer.BadParameter("give exactly one of --lufs or --peak")
    effect: Effect = (edit.LoudnessNormalize(target_lufs=lufs, true_peak_dbtp=true_peak)
                      if lufs is not None else edit.PeakNormalize(target_dbfs=peak))
    _apply(ctx, src, dst, effect, overwrite=overwrite, subtype=subtype, as_json=as_json)


@app.command()
def stretch(
    ctx: typer.Context, src: Src, dst: Dst,
    rate: Annotated[float, typer.Option("--rate", help="Speed factor: above 1 speeds up "
                                        "(shorter), below 1 slows down. Pitch is kept.",
                                        show_default=False)],
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Change the tempo of IN by --rate without changing its pitch (Rubber Band).

    Example: wavesmith edit stretch talk.flac fast.flac --rate 1.25
    """
    _apply(ctx, src, dst, edit.TimeStretch(rate=rate), overwrite=overwrite, subtype=subtype,
           as_json=as_json)


@app.command()
def pitch(
    ctx: typer.Context, src: Src, dst: Dst,
    semitones: Annotated[float, typer.Option("--semitones", help="Shift in semitones "
                                             "(positive is up). Duration is kept.",
                                             show_default=False)],
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Shift the pitch of IN by --semitones without changing its tempo (Rubber Band).

    Example: wavesmith edit pitch song.ogg song-up3.flac --semitones 3
    """
    _apply(ctx, src, dst, edit.PitchShift(semitones=semitones), overwrite=overwrite,
           subtype=subtype, as_json=as_json)


@app.command()
def trim(
    ctx: typer.Context, src: Src, dst: Dst,
    start: Annotated[float, typer.Option("--start", help="Start time (s).")] = 0.0,
    end: Annotated[float | None, typer.Option("--end", help="End time (s); default: the "
                                              "end of IN.")] = None,
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Keep IN between --start and --end (seconds) and write it to OUT. Streams.

    Example: wavesmith edit trim talk.flac part.flac --start 1.0 --end 4.5
    """
    _apply(ctx, src, dst, edit.Trim(start_s=start, end_s=end), overwrite=overwrite,
           subtype=subtype, as_json=as_json)


@app.command()
def fade(
    ctx: typer.Context, src: Src, dst: Dst,
    fade_in: Annotated[float, typer.Option("--in", help="Fade-in length (s).")] = 0.0,
    fade_out: Annotated[float, typer.Option("--out", help="Fade-out length (s).")] = 0.0,
    shape: Annotated[str, typer.Option("--shape", help="linear, equal-power or log.")]
    = "linear",
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Fade IN in over --in seconds and out over --out seconds.

    Example: wavesmith edit fade song.ogg song-faded.flac --in 0.5 --out 1.0 --shape log
    """
    _apply(ctx, src, dst, edit.Fade(fade_in_s=fade_in, fade_out_s=fade_out, shape=shape),
           overwrite=overwrite, subtype=subtype, as_json=as_json)


@app.command()
def denoise(
    ctx: typer.Context, src: Src, dst: Dst,
    method: Annotated[str, typer.Option("--method", help="gate: spectral gating "
                                        "(noisereduce, no model); dfn: DeepFilterNet 3 "
                                        "neural denoiser (48 kHz, runs offline, streams; "
                                        "better on speech).")] = "gate",
    stationary: Annotated[bool, typer.Option("--stationary/--non-stationary", help="gate: one "
                                             "noise profile for the whole file (hum, hiss), "
                                             "or a noise floor tracked over time.")] = False,
    strength: Annotated[float, typer.Option("--strength", help="gate: fraction of the noise "
                                            "to remove, 0-1.")] = 0.6,
    atten_lim: Annotated[float, typer.Option("--atten-lim", help="dfn: largest attenuation "
                                             "in dB (100: no limit; 15 keeps some "
                                             "background).")] = 100.0,
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Reduce background noise in IN: spectral gating or the DeepFilterNet 3 network.

    Example: wavesmith edit denoise noisy.wav clean.wav --method dfn
    """
    effect: Effect
    if method == "gate":
        effect = edit.Denoise(stationary=stationary, prop_decrease=strength)
    elif method == "dfn":
        effect = edit.NeuralDenoise(atten_lim_db=atten_lim)
    else:
        raise AudioValueError(f"denoise: --method {method!r} must be 'gate' or 'dfn'")
    _apply(ctx, src, dst, effect, overwrite=overwrite, subtype=subtype, as_json=as_json)


@app.command()
def cut(
    ctx: typer.Context, src: Src, dst: Dst,
    start: Annotated[float, typer.Option("--start", help="Start of the part to remove (s).",
                                         show_default=False)],
    end: Annotated[float | None, typer.Option("--end", help="End of the part to remove (s); "
                                              "default: the end of IN.")] = None,
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Remove IN between --start and --end (seconds) and join the rest into OUT. Streams.

    The opposite of trim, which keeps that part.

    Example: wavesmith edit cut talk.flac shorter.flac --start 12.0 --end 15.5
    """
    _apply(ctx, src, dst, edit.Cut(start_s=start, end_s=end), overwrite=overwrite,
           subtype=subtype, as_json=as_json)


Method = Annotated[str, typer.Option("--method", help="silero: neural VAD (ONNX, default); "
                                     "webrtc: WebRTC's GMM detector; energy: level above the "
                                     "noise floor (no model).")]
Threshold = Annotated[float, typer.Option("--threshold", help="Speech score 0-1 at which "
                                          "speech starts (silero: probability).")]
MinSpeech = Annotated[float, typer.Option("--min-speech", help="Drop speech shorter than "
                                          "this (s).")]
MinSilence = Annotated[float, typer.Option("--min-silence", help="Pauses shorter than this "
                                           "(s) do not end a segment.")]
Pad = Annotated[float, typer.Option("--pad", help="Seconds kept each side of a segment.")]
MaxSpeech = Annotated[float | None, typer.Option(
    "--max-speech", help="Longest segment (s, padding included): longer speech is split at "
    "its last pause > 0.098 s, or cut (e.g. 30 for ASR chunks). Default: no limit.")]


@app.command()
def vad(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="Audio file (any rate or channels; it is "
                                        "streamed).", metavar="FILE", show_default=False)],
    method: Method = "silero", threshold: Threshold = 0.5, min_speech: MinSpeech = 0.25,
    min_silence: MinSilence = 0.1, pad: Pad = 0.03, max_speech: MaxSpeech = None,
    as_json: Json = False,
) -> None:
    """Find the speech in FILE: a table (or JSON) of segments, start and end in seconds.

    Example: wavesmith edit vad talk.flac --method silero --json
    """
    with progress_bar(f"vad {src.name}", enabled=not _state(ctx).quiet) as progress:
        report = edit.vad_file(src, method=method, threshold=threshold,
                               min_speech_s=min_speech, min_silence_s=min_silence, pad_s=pad,
                               max_speech_s=max_speech, progress=progress)
    state = _state(ctx)
    if as_json or state.json:
        print_json(report)
        return
    out.print(f"{'start_s':>10} {'end_s':>10} {'duration_s':>10}", markup=False)
    for seg in report.segments:
        out.print(f"{seg.start:10.3f} {seg.end:10.3f} {seg.duration:10.3f}", markup=False)
    if not state.quiet:
        out.print(f"{len(report.segments)} segment(s), {report.speech_s:.2f} s of speech in "
                  f"{report.duration_s:.2f} s ({report.method})", markup=False)


@app.command("strip-silence")
def strip_silence(
    ctx: typer.Context, src: Src, dst: Dst,
    method: Method = "silero", threshold: Threshold = 0.5, min_speech: MinSpeech = 0.25,
    min_silence: MinSilence = 0.1, pad: Pad = 0.03, max_speech: MaxSpeech = None,
    fade: Annotated[float, typer.Option("--fade", help="Fade (s) at each join, against "
                                        "clicks.")] = 0.005,
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Keep only the speech of IN (voice activity detection) and write it to OUT. Streams.

    Example: wavesmith edit strip-silence talk.flac talk-tight.flac --pad 0.1
    """
    _apply(ctx, src, dst, edit.StripSilence(method=method, threshold=threshold,
                                            min_speech_s=min_speech,
                                            min_silence_s=min_silence, pad_s=pad,
                                            max_speech_s=max_speech, fade_s=fade),
           overwrite=overwrite, subtype=subtype, as_json=as_json)


@app.command()
def mix(
    ctx: typer.Context, dst: Dst,
    srcs: Annotated[list[Path], typer.Argument(help="Input files (same rate and channels).",
                                               show_default=False)],
    gains_db: Annotated[str | None, typer.Option("--gains-db", help="Gain per input in dB, "
                                                 "comma-separated, e.g. 0,-6.")] = None,
    offsets_s: Annotated[str | None, typer.Option("--offsets-s", help="Start per input in "
                                                  "seconds, comma-separated, e.g. 0,1.5.")]
    = None,
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Mix IN1 IN2 ... into OUT with per-input gains and offsets, streamed block by block.

    Inputs must share a sample rate and channel count (convert them first: nothing is
    resampled silently).

    Example: wavesmith edit mix mix.wav voice.wav music.wav --gains-db 0,-12 --offsets-s 0,0.5
    """
    report = edit.mix_files(srcs, dst, gains_db=edit.parse_numbers(gains_db, "--gains-db"),
                            offsets_s=edit.parse_numbers(offsets_s, "--offsets-s"),
                            overwrite=overwrite, subtype=subtype)
    _report(ctx, report, as_json)


@app.command()
def concat(
    ctx: typer.Context, dst: Dst,
    srcs: Annotated[list[Path], typer.Argument(help="Input files in order (same rate and "
                                               "channels).", show_default=False)],
    crossfade_s: Annotated[float, typer.Option("--crossfade", help="Seconds of equal-power "
                                               "crossfade at each join (0: butt splice).")]
    = 0.0,
    subtype: Subtype = None, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Splice IN1 IN2 ... end to end into OUT, streamed block by block.

    Inputs must share a sample rate and channel count (convert them first: nothing is
    resampled silently).

    Example: wavesmith edit concat show.flac intro.flac talk.flac outro.flac --crossfade 0.5
    """
    report = edit.concat_files(srcs, dst, crossfade_s=crossfade_s, overwrite=overwrite,
                               subtype=subtype)
    _report(ctx, report, as_json)
