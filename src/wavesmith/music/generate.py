"""Generation front door shared by the CLI and the service: model names, MIDI/audio output.

Only the Markov baseline is trained in this slice; ``vae``, ``gan`` and ``transformer`` are
known names that raise :class:`~wavesmith.errors.ModelNotFoundError` until their checkpoints
ship (never a stand-in result).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wavesmith.errors import AudioValueError, ModelNotFoundError
from wavesmith.music.baseline import continue_melody, load_model, sample_melody
from wavesmith.music.midi import Melody, melody_to_midi, read_melody, save_midi

__all__ = [
    "AVAILABLE_MODELS",
    "PLANNED_MODELS",
    "GenerationReport",
    "continue_file",
    "generate_file",
]

AVAILABLE_MODELS = ("markov",)
PLANNED_MODELS = ("vae", "gan", "transformer")


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


def _check_model(model: str) -> None:
    if model in PLANNED_MODELS:
        raise ModelNotFoundError(f"model {model!r} is not trained yet; available models: "
                                 + ", ".join(AVAILABLE_MODELS))
    if model not in AVAILABLE_MODELS:
        raise AudioValueError(f"unknown model {model!r}; available models: "
                              + ", ".join(AVAILABLE_MODELS))


def _write(melody: Melody, model: str, midi_path: Path, audio_path: Path | None,
           plot_path: Path | None, seed: int | None, temperature: float,
           program: int) -> GenerationReport:
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
                            seed, temperature)


def generate_file(output: str | os.PathLike[str], *, model: str = "markov", bars: int = 16,
                  seed: int | None = 1, temperature: float = 1.0, steps_per_bar: int = 16,
                  tempo_bpm: float = 120.0, audio: str | os.PathLike[str] | None = None,
                  plot: str | os.PathLike[str] | None = None, program: int = 0
                  ) -> GenerationReport:
    """Sample a melody with ``model`` and write MIDI (and optionally audio and a PNG)."""
    _check_model(model)
    mel = sample_melody(load_model(), bars=bars, seed=seed, temperature=temperature,
                        steps_per_bar=steps_per_bar, tempo_bpm=tempo_bpm, name=model)
    return _write(mel, model, Path(output), None if audio is None else Path(audio),
                  None if plot is None else Path(plot), seed, temperature, program)


def continue_file(source: str | os.PathLike[str], output: str | os.PathLike[str], *,
                  model: str = "markov", bars: int = 8, seed: int | None = 1,
                  temperature: float = 1.0, audio: str | os.PathLike[str] | None = None,
                  plot: str | os.PathLike[str] | None = None, program: int = 0
                  ) -> GenerationReport:
    """Continue the melody (top line) of ``source`` by ``bars`` bars and write it."""
    _check_model(model)
    src = Path(source)
    if Path(output).resolve() == src.resolve():
        raise AudioValueError(f"{output}: output would overwrite the input")
    prime = read_melody(src)
    mel = continue_melody(load_model(), prime, bars=bars, seed=seed, temperature=temperature)
    return _write(mel, model, Path(output), None if audio is None else Path(audio),
                  None if plot is None else Path(plot), seed, temperature, program)
