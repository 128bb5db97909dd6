"""Generation front door shared by the CLI and the service: model names, MIDI/audio output.

Trained models: ``markov`` (the n-gram baseline), ``transformer``
(:mod:`wavesmith.music.transformer`; ``tokens="grid"`` one token per 16th note, or
``tokens="remi"`` REMI events, :mod:`wavesmith.music.remi`), ``vae`` (generation and
interpolation of 4/4, no continuation) and ``gan`` (:mod:`wavesmith.music.gan`; 4-bar 4/4
phrases, generation only).
``vae`` is two networks, picked by length (:func:`vae_for_bars`): a multiple of 16 bars
comes from the hierarchical 16-bar VAE (:mod:`wavesmith.music.vae16`; one latent code per
16 bars), any other even number of bars from the 2-bar VAE (:mod:`wavesmith.music.vae`; one
code per 2 bars). Interpolation uses the 2-bar VAE on the melodies' first 2 bars (it
reconstructs 91 % of held-out steps), or with ``bars=16`` the 16-bar VAE on their first 16
bars of 4/4 (69 %). A name in
:data:`PLANNED_MODELS` raises :class:`~wavesmith.errors.ModelNotFoundError` until its
checkpoint ships (never a stand-in result).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.errors import AudioValueError, ModelNotFoundError
from wavesmith.music.baseline import continue_melody, load_model, sample_melody
from wavesmith.music.midi import (
    Melody,
    melody_to_midi,
    read_melody,
    save_midi,
    steps_per_bar_for,
)

__all__ = [
    "AVAILABLE_MODELS",
    "PLANNED_MODELS",
    "GenerationReport",
    "continue_file",
    "generate_file",
    "interpolate_file",
    "sample",
    "transfer_file",
    "vae_for_bars",
]

AVAILABLE_MODELS = ("markov", "transformer", "vae", "gan")
PLANNED_MODELS: tuple[str, ...] = ()
CONTINUE_MODELS = ("markov", "transformer")   # the VAEs model fixed 2- or 16-bar spans
VAE_BARS = (2, 16)                            # bars per latent code of the two VAEs
DEFAULT_TOKENS = "grid"                       # the transformer used without --tokens


@dataclass(frozen=True)
class GenerationReport:
    """What was written: paths, bars, notes, seconds of music."""

    model: str
    midi: str
    audio: str | None
    plot: str | None
    bars: float
    notes: int
    duration_s: float
    seed: int | None
    temperature: float
    top_k: int | None = None
    top_p: float | None = None
    tokens: str | None = None     # the transformer's tokens (grid or remi)


def _check_model(model: str) -> None:
    if model in PLANNED_MODELS:
        raise ModelNotFoundError(f"model {model!r} is not trained yet; available models: "
                                 + ", ".join(AVAILABLE_MODELS))
    if model not in AVAILABLE_MODELS:
        raise AudioValueError(f"unknown model {model!r}; available models: "
                              + ", ".join(AVAILABLE_MODELS))


def _write(melody: Melody, model: str, midi_path: Path, audio_path: Path | None,
           plot_path: Path | None, seed: int | None, temperature: float,
           program: int, top_k: int | None = None, top_p: float | None = None,
           tokens: str | None = None) -> GenerationReport:
    for p in (midi_path, audio_path, plot_path):
        if p is not None and not p.parent.is_dir():
            raise AudioValueError(f"{p}: folder {p.parent} does not exist")
    if audio_path is not None:
        from wavesmith import io
        if audio_path.suffix.lower() not in io.writable_extensions():
            raise AudioValueError(f"{audio_path}: cannot write audio with extension "
                                  f"{audio_path.suffix!r}")
    pm = melody_to_midi(melody, program=program)
    audio = None
    if audio_path is not None:  # render first: a missing synth leaves nothing written
        from wavesmith.music.render import render_midi
        audio = render_midi(pm)
    save_midi(pm, midi_path)
    if audio is not None and audio_path is not None:
        from wavesmith import io
        io.save(audio, audio_path)
    if plot_path is not None:
        from wavesmith.music.render import plot_piano_roll
        plot_piano_roll(pm, plot_path, title=f"{model}: {melody.name}")
    return GenerationReport(model, str(midi_path), None if audio_path is None else
                            str(audio_path), None if plot_path is None else str(plot_path),
                            melody.bars, len(melody.notes()), float(pm.get_end_time()),
                            seed, temperature, top_k, top_p, tokens)


def _no_top_k(model: str, top_k: int | None, top_p: float | None = None,
              tokens: str | None = None) -> None:
    for name, value in (("top_k", top_k), ("top_p", top_p), ("tokens", tokens)):
        if value is not None:
            raise AudioValueError(f"{name} is supported by the transformer only, not "
                                  f"{model!r}")


def _tokens_of(model: str, tokens: str | None) -> str | None:
    return (tokens or DEFAULT_TOKENS) if model == "transformer" else None


def vae_for_bars(bars: int) -> int:
    """Bars per latent code of the VAE that generates ``bars`` bars: 16 (the hierarchical
    VAE) for a positive multiple of 16, else 2 (which refuses odd or out-of-range counts)."""
    ok = isinstance(bars, int) and not isinstance(bars, bool) and bars > 0
    return 16 if ok and bars % 16 == 0 else 2


def _transformer(tokens: str | None) -> Any:
    from wavesmith.music.transformer import load_transformer

    return load_transformer(tokens=tokens or DEFAULT_TOKENS)


def sample(model: str = "markov", *, bars: int = 16, seed: int | None = 1,
           temperature: float = 1.0, top_k: int | None = None, steps_per_bar: int = 16,
           tempo_bpm: float = 120.0, top_p: float | None = None,
           tokens: str | None = None, time_signature: tuple[int, int] | None = None
           ) -> Melody:
    """Sample a melody from the shipped ``model`` (see :data:`AVAILABLE_MODELS`);
    ``top_k``, ``top_p`` (nucleus) and ``tokens`` (``"grid"`` or ``"remi"``, default
    :data:`DEFAULT_TOKENS`) are for the transformer only. ``time_signature`` (it must have
    ``steps_per_bar`` 16ths) is written to the melody; the REMI transformer also conditions
    on it (without it, 12 steps per bar are written 3/4, REMI: 6/8)."""
    _check_model(model)
    if time_signature is not None and steps_per_bar_for(*time_signature) != steps_per_bar:
        raise AudioValueError(f"time signature {time_signature[0]}/{time_signature[1]} does "
                              f"not have {steps_per_bar} 16th notes per bar")
    mel = _sample(model, bars, seed, temperature, top_k, steps_per_bar, tempo_bpm, top_p,
                  tokens, time_signature)
    if time_signature is None:
        return mel
    return Melody(mel.tokens, mel.steps_per_bar, mel.tempo_bpm, mel.name, time_signature)


def _sample(model: str, bars: int, seed: int | None, temperature: float, top_k: int | None,
            steps_per_bar: int, tempo_bpm: float, top_p: float | None, tokens: str | None,
            time_signature: tuple[int, int] | None) -> Melody:
    if model == "transformer":
        net = _transformer(tokens)
        extra = {"time_signature": time_signature} if net.tokens == "remi" else {}
        return net.sample(bars=bars, seed=seed, temperature=temperature, top_k=top_k,
                          steps_per_bar=steps_per_bar, tempo_bpm=tempo_bpm, name=model,
                          top_p=top_p, **extra)
    _no_top_k(model, None, top_p, tokens)
    if model == "vae":
        from wavesmith.music.vae import load_vae
        from wavesmith.music.vae16 import load_vae16

        vae = load_vae16() if vae_for_bars(bars) == 16 else load_vae()
        return vae.sample(bars=bars, seed=seed, temperature=temperature, top_k=top_k,
                          steps_per_bar=steps_per_bar, tempo_bpm=tempo_bpm, name=model)
    if model == "gan":
        from wavesmith.music.gan import load_gan

        return load_gan().sample(bars=bars, seed=seed, temperature=temperature, top_k=top_k,
                                 steps_per_bar=steps_per_bar, tempo_bpm=tempo_bpm, name=model)
    _no_top_k(model, top_k)
    return sample_melody(load_model(), bars=bars, seed=seed, temperature=temperature,
                         steps_per_bar=steps_per_bar, tempo_bpm=tempo_bpm, name=model)


def generate_file(output: str | os.PathLike[str], *, model: str = "markov", bars: int = 16,
                  seed: int | None = 1, temperature: float = 1.0, top_k: int | None = None,
                  steps_per_bar: int = 16, tempo_bpm: float = 120.0,
                  audio: str | os.PathLike[str] | None = None,
                  plot: str | os.PathLike[str] | None = None, program: int = 0,
                  top_p: float | None = None, tokens: str | None = None,
                  time_signature: tuple[int, int] | None = None) -> GenerationReport:
    """Sample a melody with ``model`` and write MIDI (and optionally audio and a PNG).

    ``top_k`` (transformer only) restricts each step to the ``top_k`` most likely tokens,
    ``top_p`` (transformer only) to the most likely ones holding that probability mass;
    ``tokens`` (transformer only) picks the grid or the REMI model; ``time_signature``
    as :func:`sample`.
    """
    mel = sample(model, bars=bars, seed=seed, temperature=temperature, top_k=top_k,
                 steps_per_bar=steps_per_bar, tempo_bpm=tempo_bpm, top_p=top_p, tokens=tokens,
                 time_signature=time_signature)
    return _write(mel, model, Path(output), None if audio is None else Path(audio),
                  None if plot is None else Path(plot), seed, temperature, program, top_k,
                  top_p, _tokens_of(model, tokens))


def continue_file(source: str | os.PathLike[str], output: str | os.PathLike[str], *,
                  model: str = "markov", bars: int = 8, seed: int | None = 1,
                  temperature: float = 1.0, top_k: int | None = None,
                  audio: str | os.PathLike[str] | None = None,
                  plot: str | os.PathLike[str] | None = None, program: int = 0,
                  top_p: float | None = None, tokens: str | None = None
                  ) -> GenerationReport:
    """Continue the melody (top line) of ``source`` by ``bars`` bars and write it
    (``top_k`` / ``top_p`` / ``tokens``: transformer only, as :func:`generate_file`)."""
    _check_model(model)
    if model not in CONTINUE_MODELS:
        raise AudioValueError(f"model {model!r} cannot continue a melody; use one of: "
                              + ", ".join(CONTINUE_MODELS))
    src = Path(source)
    if Path(output).resolve() == src.resolve():
        raise AudioValueError(f"{output}: output would overwrite the input")
    prime = read_melody(src)
    if model == "transformer":
        mel = _transformer(tokens).continue_melody(prime, bars=bars, seed=seed,
                                                   temperature=temperature, top_k=top_k,
                                                   top_p=top_p)
    else:
        _no_top_k(model, top_k, top_p, tokens)
        mel = continue_melody(load_model(), prime, bars=bars, seed=seed,
                              temperature=temperature)
    return _write(mel, model, Path(output), None if audio is None else Path(audio),
                  None if plot is None else Path(plot), seed, temperature, program, top_k,
                  top_p, _tokens_of(model, tokens))


def interpolate_file(source_a: str | os.PathLike[str], source_b: str | os.PathLike[str],
                     output: str | os.PathLike[str], *, steps: int = 5,
                     bars: int = 2,
                     audio: str | os.PathLike[str] | None = None,
                     plot: str | os.PathLike[str] | None = None, program: int = 0
                     ) -> GenerationReport:
    """Interpolate in a VAE's latent space from the start of ``source_a``'s melody to
    that of ``source_b`` and write the ``steps`` melodies one after the other (the first is
    A's reconstruction, the last B's).

    ``bars`` picks the VAE: 2 (default) interpolates the first 2 bars with the 2-bar VAE
    (``2 * steps`` bars written; 91 % of held-out steps reconstructed), 16 the first 256
    16th notes (16 bars of 4/4) with the hierarchical 16-bar VAE (``16 * steps`` bars; 69 %
    reconstructed, so the ends resemble A and B less closely).

    Raises
    ------
    AudioValueError
        Same path in and out, ``bars`` not 2 or 16, a melody not in 4/4, 2/4 or 2/2,
        too short, or without notes at its start.
    """
    from wavesmith.music.vae import load_vae
    from wavesmith.music.vae16 import load_vae16

    if isinstance(bars, bool) or bars not in VAE_BARS:
        raise AudioValueError(f"bars={bars!r} must be 2 (the 2-bar VAE) or 16 (the 16-bar "
                              "VAE)")
    for src in (source_a, source_b):
        if Path(output).resolve() == Path(src).resolve():
            raise AudioValueError(f"{output}: output would overwrite the input")
    a, b = read_melody(source_a), read_melody(source_b)
    vae = load_vae16() if bars == 16 else load_vae()
    parts = vae.interpolate(a, b, steps)
    mel = Melody(np.concatenate([p.tokens for p in parts]), a.steps_per_bar, a.tempo_bpm,
                 "vae-interpolation", a.time_signature)
    return _write(mel, "vae", Path(output), None if audio is None else Path(audio),
                  None if plot is None else Path(plot), None, 0.0, program)


def transfer_file(source: str | os.PathLike[str], output: str | os.PathLike[str], *,
                  attribute: str, amount: float = 1.0,
                  audio: str | os.PathLike[str] | None = None,
                  plot: str | os.PathLike[str] | None = None, program: int = 0
                  ) -> GenerationReport:
    """Move ``source``'s melody towards ``attribute`` (``minor``, ``major``, ``dense``,
    ``sparse``, ``chorale``, ``folk``) with the VAE's attribute vectors
    (:mod:`wavesmith.music.transfer`) and write it; every whole 2-bar segment is re-decoded,
    a trailing odd bar is kept.

    Raises
    ------
    AudioValueError
        Same path in and out, unknown attribute, amount out of range, a melody not in 4/4,
        2/4 or 2/2, shorter than 2 bars or without notes.
    """
    from wavesmith.music.transfer import transfer
    from wavesmith.music.vae import load_vae

    if Path(output).resolve() == Path(source).resolve():
        raise AudioValueError(f"{output}: output would overwrite the input")
    mel = read_melody(source)
    out = transfer(load_vae(), mel, attribute, amount)
    return _write(out, "vae", Path(output), None if audio is None else Path(audio),
                  None if plot is None else Path(plot), None, 0.0, program)
