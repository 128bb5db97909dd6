"""``wavesmith music``: generate, continue, interpolate, transfer, harmonize, render,
transcribe, eval, train-markov."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wavesmith.cli._output import CliState, out, print_json

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="markov, transformer, vae or "
                                       "gan (vae and gan: 4/4 only).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same music).")]
TempOpt = Annotated[float, typer.Option("--temperature", "-t", help="Sampling temperature "
                                        "(<1 safer, >1 wilder).")]
TopKOpt = Annotated[int | None, typer.Option("--top-k", help="Transformer only: sample among "
                                             "the K most likely tokens per step.")]
TopPOpt = Annotated[float | None, typer.Option("--top-p", help="Transformer only: nucleus "
                                               "sampling among the most likely tokens "
                                               "holding this probability mass (0..1].")]
TokensOpt = Annotated[str | None, typer.Option("--tokens", help="Transformer only: grid (one "
                                               "token per 16th note) or remi (miditok REMI "
                                               "events). [default: grid]",
                                               show_default=False)]
AudioOpt = Annotated[Path | None, typer.Option("--audio", help="Also render to this audio "
                                               "file (FluidSynth, General MIDI piano).")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Also draw a piano-roll PNG.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _json(ctx: typer.Context, as_json: bool) -> bool:
    root = ctx.find_root().obj
    return as_json or (isinstance(root, CliState) and root.json)


def _report(ctx: typer.Context, report: object, as_json: bool) -> None:
    if _json(ctx, as_json):
        print_json(report)
        return
    r = report
    extra = "".join(f", {p}" for p in (r.audio, r.plot) if p)  # type: ignore[attr-defined]
    out.print(f"wrote {r.midi}{extra} ({r.model}: {r.bars:g} bars, "  # type: ignore[attr-defined]
              f"{r.notes} notes, {r.duration_s:.1f} s)", markup=False)  # type: ignore[attr-defined]


@app.command()
def generate(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="MIDI file to write.")],
    model: ModelOpt = "markov",
    bars: Annotated[int, typer.Option("--bars", help="Length in bars. --model vae: a "
                                      "multiple of 16 comes from the 16-bar hierarchical "
                                      "VAE, another even count from the 2-bar VAE.")] = 16,
    seed: SeedOpt = 1,
    temperature: TempOpt = 1.0,
    top_k: TopKOpt = None,
    top_p: TopPOpt = None,
    tokens: TokensOpt = None,
    meter: Annotated[str, typer.Option("--meter", help="Time signature: 4/4, 3/4, 6/8, "
                                       "2/4, 9/8 ...")] = "4/4",
    tempo: Annotated[float, typer.Option("--tempo", help="Quarter notes per minute.")] = 120.0,
    audio: AudioOpt = None,
    plot: PlotOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate a melody and write it as MIDI (optionally audio and a piano roll).

    With --model vae, --bars 16, 32, 48 ... samples one latent code per 16 bars from the
    hierarchical 16-bar VAE; other even --bars one code per 2 bars from the 2-bar VAE.

    With --model transformer, --tokens remi uses the Transformer trained on REMI events
    (Bar, TimeSig, Position, Pitch, Duration) instead of the 16th-note grid.

    Example: wavesmith music generate --model markov --bars 16 --seed 1 -o out.mid --audio out.wav
    """
    from wavesmith.music.generate import generate_file
    from wavesmith.music.midi import parse_meter, steps_per_bar_for

    ts = parse_meter(meter)
    report = generate_file(output, model=model, bars=bars, seed=seed, temperature=temperature,
                           top_k=top_k, steps_per_bar=steps_per_bar_for(*ts), tempo_bpm=tempo,
                           audio=audio, plot=plot, top_p=top_p, tokens=tokens,
                           time_signature=ts)
    _report(ctx, report, as_json)


@app.command("continue")
def continue_(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="MIDI file whose melody (top line) to "
                                           "continue.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="MIDI file to write.")],
    model: ModelOpt = "markov",
    bars: Annotated[int, typer.Option("--bars", help="Bars to add.")] = 8,
    seed: SeedOpt = 1,
    temperature: TempOpt = 1.0,
    top_k: TopKOpt = None,
    top_p: TopPOpt = None,
    tokens: TokensOpt = None,
    audio: AudioOpt = None,
    plot: PlotOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Continue a melody: SOURCE's melody, then BARS new bars, written to OUTPUT.

    Example: wavesmith music continue tune.mid -o longer.mid --model transformer --top-p 0.9
    """
    from wavesmith.music.generate import continue_file

    report = continue_file(source, output, model=model, bars=bars, seed=seed,
                           temperature=temperature, top_k=top_k, audio=audio, plot=plot,
                           top_p=top_p, tokens=tokens)
    _report(ctx, report, as_json)


@app.command()
def interpolate(
    ctx: typer.Context,
    source_a: Annotated[Path, typer.Argument(help="MIDI file A (its first 16 or 2 bars; "
                                             "4/4, 2/4 or 2/2).", show_default=False)],
    source_b: Annotated[Path, typer.Argument(help="MIDI file B.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="MIDI file to write.")],
    steps: Annotated[int, typer.Option("--steps", help="Melodies from A to B, ends "
                                       "included (2..64).")] = 5,
    bars: Annotated[int, typer.Option("--bars", help="2: the 2-bar VAE on the first 2 bars "
                                      "(91 % of held-out steps reconstructed); 16: the "
                                      "16-bar VAE on the first 16 bars of 4/4 (69 %).")] = 2,
    audio: AudioOpt = None,
    plot: PlotOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Morph melody A into melody B in a VAE's latent space (spherical interpolation);
    the STEPS melodies are written one after the other: STEPS x 2 bars with the 2-bar VAE,
    or STEPS x 16 bars with --bars 16 (the hierarchical 16-bar VAE; both tunes need 16
    bars of 4/4).

    Example: wavesmith music interpolate a.mid b.mid -o morph.mid --steps 5 [--bars 16]
    """
    from wavesmith.music.generate import interpolate_file

    report = interpolate_file(source_a, source_b, output, steps=steps, bars=bars, audio=audio,
                              plot=plot)
    _report(ctx, report, as_json)


@app.command()
def transfer(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="MIDI file whose melody (top line; 4/4, 2/4 "
                                           "or 2/2) to transform.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="MIDI file to write.")],
    attribute: Annotated[str, typer.Option("--attribute", "-a", help="minor, major, dense "
                                           "(more notes), sparse (fewer notes), chorale "
                                           "(like a Bach chorale soprano) or folk.")],
    amount: Annotated[float, typer.Option("--amount", help="How far to move, -4..4: 0 is "
                                          "the plain VAE reconstruction, 1 the target "
                                          "style's counterpart; beyond 1 extrapolates.")
                      ] = 1.0,
    audio: AudioOpt = None,
    plot: PlotOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Style transfer in the 2-bar VAE's latent space: every 2-bar segment's code is moved
    and decoded. Minor/major and chorale/folk map the code onto its counterpart in the
    target class's distribution (a moment map fitted to real segments); dense/sparse add an
    attribute vector. Minor/major keep the tune's tonic (G major -> G minor).

    Example: wavesmith music transfer tune.mid -o tune-minor.mid --attribute minor --amount 1.5
    """
    from wavesmith.music.generate import transfer_file

    report = transfer_file(source, output, attribute=attribute, amount=amount, audio=audio,
                           plot=plot)
    _report(ctx, report, as_json)


@app.command()
def harmonize(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="MIDI file whose melody (top line of the "
                                           "highest track) to harmonize.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="MIDI file to write (melody "
                                         "+ a chord track, or four voices).")],
    audio: AudioOpt = None,
    voicing: Annotated[str, typer.Option("--voicing", help="chords (one block chord per "
                                         "bar) or chorale (a chord per beat; alto, tenor, "
                                         "bass under the melody; learned from the Bach "
                                         "chorales).")
                       ] = "chords",
    as_json: JsonOpt = False,
) -> None:
    """Choose one chord per bar for a melody (chord HMM trained on Nottingham) and write
    the melody with a block-chord track, or with --voicing chorale one chord per beat (chord
    HMM trained on the Bach chorales) as four-part harmony (soprano = the melody, then
    alto, tenor, bass tracks; chord symbols as MIDI text events).

    Example: wavesmith music harmonize tune.mid -o tune_satb.mid --voicing chorale
    """
    from wavesmith.music.harmonize import harmonize_file

    result = harmonize_file(source, output, audio=audio, voicing=voicing)
    if _json(ctx, as_json):
        print_json(result)
        return
    per = "" if result.chords_per == "bar" else f", {len(result.chords)} beats"
    out.print(f"wrote {result.midi}{', ' + result.audio if result.audio else ''} "
              f"(key {result.key}, {result.bars} bars{per}): {' | '.join(result.chords)}",
              markup=False)


@app.command()
def render(
    source: Annotated[Path, typer.Argument(help="MIDI file.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Audio file to write.")],
    rate: Annotated[int, typer.Option("--rate", help="Sample rate in Hz.")] = 44_100,
    soundfont: Annotated[Path | None, typer.Option("--soundfont", help=".sf2 file (default: "
                                                   "Debian's GM soundfont, else pretty_midi's "
                                                   "TimGM6mb).")] = None,
    plot: PlotOpt = None,
) -> None:
    """Render a MIDI file to audio with FluidSynth.

    Example: wavesmith music render tune.mid -o tune.wav --plot tune.png
    """
    from wavesmith import io
    from wavesmith.music.midi import load_midi
    from wavesmith.music.render import plot_piano_roll, render_midi

    pm = load_midi(source)
    audio = render_midi(pm, sample_rate=rate, soundfont=soundfont)
    io.save(audio, output)
    if plot is not None:
        plot_piano_roll(pm, plot, title=source.name)
    out.print(f"wrote {output} ({audio.duration:.1f} s, {audio.sample_rate} Hz)", markup=False)


@app.command()
def transcribe(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="Audio file (any format, rate, channels).",
                                           show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="MIDI file to write.")],
    onset_threshold: Annotated[float, typer.Option(help="Onset posterior threshold 0..1.")]
    = 0.5,
    frame_threshold: Annotated[float, typer.Option(help="Frame posterior threshold 0..1.")]
    = 0.3,
    as_json: JsonOpt = False,
) -> None:
    """Transcribe audio to MIDI with basic-pitch (audio mixed to mono and resampled to
    22 050 Hz, the model's rate).

    Example: wavesmith music transcribe trumpet.ogg -o trumpet.mid
    """
    from wavesmith import io
    from wavesmith.music.midi import save_midi
    from wavesmith.music.transcribe import MODEL_SAMPLE_RATE_HZ
    from wavesmith.music.transcribe import transcribe as run

    audio = io.load(source, sample_rate=MODEL_SAMPLE_RATE_HZ, mono=True)
    result = run(audio, onset_threshold=onset_threshold, frame_threshold=frame_threshold)
    save_midi(result.midi, output)
    if _json(ctx, as_json):
        print_json({"midi": str(output), "notes": result.notes})
    else:
        out.print(f"wrote {output} ({len(result.notes)} notes)", markup=False)


@app.command("eval")
def eval_(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option("--data", help="Folder of Nottingham *.mid "
                                              "(default: the shared data).")] = None,
    orders: Annotated[str, typer.Option("--orders", help="n-gram orders, comma separated.")]
    = "1,2,3,4",
    sample_order: Annotated[int, typer.Option("--sample-order", help="Order whose samples "
                                              "are compared by metrics.")] = 3,
    bars: Annotated[int, typer.Option("--bars", help="Bars per sample / real crop.")] = 16,
    seed: SeedOpt = 0,
    limit: Annotated[int | None, typer.Option("--limit", help="Pieces per split (quick "
                                              "runs).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="markov (the n-gram study), "
                                       "transformer (vs the shipped Markov table, same "
                                       "tokens), vae, vae16, gan, harmony, chorale, transfer or "
                                       "all (shipped models vs baselines).")]
    = "markov",
    transcription: Annotated[bool, typer.Option("--transcription", help="Instead: note F1 "
                                                "of basic-pitch on held-out tunes rendered "
                                                "to audio (~6 s per tune).")] = False,
    n: Annotated[int, typer.Option("--n", help="--transcription: test tunes to use.")] = 20,
    tokens: TokensOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate on held-out real music: the Markov baseline (about 1 minute), a shipped
    model against its baselines, or (--transcription) audio-to-MIDI.

    markov / transformer: held-out NLL/perplexity per token (transformer --tokens remi: per REMI
    token, against a REMI n-gram counted in the same run) and per bar (comparable across
    tokens), and metric distances of generated samples (and, for markov, uniform-random samples)
    and real valid tunes to the real test tunes. vae (2-bar reconstruction, samples; ~1 min),
    vae16 (16-bar reconstruction vs the 2-bar VAE, samples, interpolation; ~2 min), gan
    (samples), harmony (chord accuracy per bar), chorale (chords per beat and four-part voicing
    on held-out Bach chorales), transfer (moment maps and vectors; folk <-> chorale judged by the
    style classifier), all (those six, ~3 min): a table of each model against its baselines.
    With --transcription: N test tunes rendered with FluidSynth and transcribed; mir_eval note
    precision/recall/F1 (onset 50 ms; offsets ignored, and required).

    Example: wavesmith music eval --model all --json > music-eval.json
    """
    from rich.table import Table

    from wavesmith.errors import AudioValueError
    from wavesmith.music.evaluate import evaluate_baseline

    if transcription:
        _eval_transcription(ctx, data, n, as_json)
        return
    if model == "transformer":
        _eval_transformer(ctx, data, bars, seed, limit, as_json, tokens or "grid")
        return
    if tokens is not None:
        raise AudioValueError("--tokens applies to --model transformer only")
    if model != "markov":
        _eval_shipped(ctx, data, model, limit, as_json)
        return

    try:
        order_list = tuple(int(x) for x in orders.split(","))
    except ValueError as exc:
        raise AudioValueError(f"--orders {orders!r} must be integers like 1,2,3") from exc
    report = evaluate_baseline(data, orders=order_list, sample_order=sample_order, bars=bars,
                               seed=seed, limit=limit)
    if _json(ctx, as_json):
        print_json(report)
        return
    out.print(f"pieces {report.pieces}, test tokens {report.test_tokens} (16th notes), "
              f"{report.seconds:.0f} s", markup=False)
    t = Table(title="held-out perplexity per 16th-note token", box=None)
    for c in ("model", "order", "position", "NLL (nats/token)", "perplexity"):
        t.add_column(c)
    for r in report.perplexity:
        t.add_row(r.model, str(r.order), "yes" if r.use_position else "no",
                  f"{r.nll_per_token:.4f}", f"{r.perplexity:.3f}")
    out.print(t)
    names = list(report.distances)
    t = Table(title=f"metric distance to {report.distance_pieces} real test tunes "
              f"({report.distance_bars} bars; Wasserstein / real std)", box=None)
    t.add_column("metric")
    for n in names:
        t.add_column(n)
    for m in next(iter(report.distances.values())):
        t.add_row(m, *(f"{report.distances[n][m]:.3f}" for n in names))
    out.print(t)


def _eval_transcription(ctx: typer.Context, data: Path | None, n: int, as_json: bool) -> None:
    from rich.table import Table

    from wavesmith.cli._output import err
    from wavesmith.music.evaluate import evaluate_transcription

    root = ctx.find_root().obj
    quiet = isinstance(root, CliState) and root.quiet
    report = evaluate_transcription(
        data, n=n, log=None if quiet else lambda line: err.print(line, markup=False))
    if _json(ctx, as_json):
        print_json(report)
        return
    t = Table(title=f"note-level transcription, {len(report.pieces)} held-out tunes "
              f"(onset {report.onset_tolerance_s * 1000:g} ms; {report.soundfont}; "
              f"{report.seconds:.0f} s)", box=None)
    for c in ("", "precision", "recall", "F1", "F1 with offsets"):
        t.add_column(c)
    for name, row in (("mean", report.mean), ("median", report.median)):
        t.add_row(name, f"{row['precision']:.3f}", f"{row['recall']:.3f}",
                  f"{row['f_measure']:.3f}", f"{row['f_measure_with_offsets']:.3f}")
    out.print(t)


def _eval_shipped(ctx: typer.Context, data: Path | None, model: str, limit: int | None,
                  as_json: bool) -> None:
    from rich.table import Table

    from wavesmith.cli._output import err
    from wavesmith.music.eval_models import evaluate_shipped

    root = ctx.find_root().obj
    quiet = isinstance(root, CliState) and root.quiet
    report = evaluate_shipped(model, data, limit=limit,
                              log=None if quiet else lambda s: err.print(s, markup=False))
    if _json(ctx, as_json):
        print_json(report)
        return
    t = Table(title=f"shipped models vs baselines on held-out music ({report['seconds']:.0f}"
              " s; --json for every number)", box=None)
    for c in ("model", "measure", "value", "baseline", "baseline value", "beats it"):
        t.add_column(c)
    for r in report["summary"]:
        t.add_row(r["model"], r["measure"], f"{r['value']:.3f}", r["baseline"],
                  f"{r['baseline_value']:.3f}",
                  {True: "yes", False: "NO", None: "(reference)"}[r["beats_baseline"]])
    out.print(t)


def _eval_transformer(ctx: typer.Context, data: Path | None, bars: int, seed: int,
                      limit: int | None, as_json: bool, tokens: str) -> None:
    from rich.table import Table

    from wavesmith.music.dataset import load_split
    from wavesmith.music.evaluate import evaluate_generator
    from wavesmith.music.transformer import load_transformer

    report = evaluate_generator(load_transformer(tokens=tokens), load_split(data, limit=limit),
                                name=f"transformer-{tokens}", bars=bars, seed=seed)
    if _json(ctx, as_json):
        print_json(report)
        return
    unit = "16th-note" if tokens == "grid" else "REMI"
    t = Table(title=f"held-out NLL per {unit} token ({report['test_tokens']} tokens)",
              box=None)
    for c in ("model", "NLL (nats/token)", "perplexity"):
        t.add_column(c)
    for name, nll in report["nll_per_token"].items():
        t.add_row(name, f"{nll:.4f}", f"{report['perplexity'][name]:.3f}")
    out.print(t)
    t = Table(title=f"held-out NLL per bar ({report['test_bars']:g} bars; comparable across "
              "tokenizations)", box=None)
    for c in ("model", "NLL (nats/bar)"):
        t.add_column(c)
    for name, nll in report["nll_per_bar"].items():
        t.add_row(name, f"{nll:.2f}")
    out.print(t)
    names = list(report["distances"])
    t = Table(title=f"metric distance to {report['distance_pieces']} real test tunes "
              f"({report['distance_bars']} bars; Wasserstein / real std)", box=None)
    t.add_column("metric")
    for n in names:
        t.add_column(n)
    for m in report["distances"][names[0]]:
        t.add_row(m, *(f"{report['distances'][n][m]:.3f}" for n in names))
    out.print(t)


@app.command("train-markov")
def train_markov(
    output: Annotated[Path, typer.Option("--output", "-o", help="Table to write (.json or "
                                         ".json.gz).")],
    data: Annotated[Path | None, typer.Option("--data", help="Folder of Nottingham *.mid.")]
    = None,
    order: Annotated[int, typer.Option("--order", help="n-gram order.")] = 3,
) -> None:
    """Train the Markov baseline on the Nottingham train split and save its table.

    The shipped table was built with:
    wavesmith music train-markov --order 3 -o src/wavesmith/music/data/markov_nottingham.json.gz
    """
    from wavesmith.music.baseline import train_on_nottingham

    model = train_on_nottingham(data, order=order)
    model.save(output)
    out.print(f"wrote {output} (order {order}, {model.provenance['train_pieces']} pieces)",
              markup=False)
