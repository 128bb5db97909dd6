"""``/v1/music``: generate, continue, interpolate, transfer and harmonize melodies (MIDI, or
WAV with ``audio=true``), transcribe audio."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from wavesmith.service.uploads import Workdir, file_response, workdir

__all__ = ["router"]

router = APIRouter(prefix="/v1/music", tags=["music"])
MIDI_RESPONSE = {200: {"content": {"audio/midi": {}, "audio/wav": {}},
                       "description": "A MIDI file (or WAV when audio=true)."}}


def _midi_or_wav(work: Workdir, midi: Path, wav: Path | None, stem: str) -> FileResponse:
    if wav is not None:
        return file_response(wav, work, f"{stem}.wav")
    return FileResponse(midi, media_type="audio/midi", filename=f"{stem}.mid",
                        background=BackgroundTask(work.remove))


ModelForm = Annotated[str, Form(description="markov, transformer, vae or gan (vae and gan: "
                                "4/4 only).")]
SeedForm = Annotated[int, Form(description="Random seed (same seed, same music).")]
TempForm = Annotated[float, Form(description="Sampling temperature.")]
TopKForm = Annotated[int | None, Form(description="Transformer only: sample among the K most "
                                      "likely tokens per step.")]
TopPForm = Annotated[float | None, Form(description="Transformer only: nucleus sampling "
                                        "among the most likely tokens holding this "
                                        "probability mass (0..1].")]
TokensForm = Annotated[str | None, Form(description="Transformer only: grid (one token per "
                                        "16th note, the default) or remi (REMI events).")]
AudioForm = Annotated[bool, Form(description="Answer with rendered WAV audio.")]


def _saved(work: Workdir, upload: UploadFile, prefix: str) -> Path:
    """Save an upload as ``<prefix>-<name>`` (two uploads may share a file name)."""
    path = work.save_upload(upload)
    return path.rename(path.with_name(f"{prefix}-{path.name}"))


@router.post("/generate", response_class=FileResponse, responses=MIDI_RESPONSE)
def generate(
    model: ModelForm = "markov",
    bars: Annotated[int, Form(description="Length in bars (1..1024; even for vae: a "
                              "multiple of 16 comes from the 16-bar VAE, another even "
                              "count from the 2-bar VAE).")] = 16,
    seed: SeedForm = 1,
    temperature: TempForm = 1.0,
    top_k: TopKForm = None,
    top_p: TopPForm = None,
    tokens: TokensForm = None,
    meter: Annotated[str, Form(description="Time signature: 4/4, 3/4, 6/8, 2/4, 9/8 ...")]
    = "4/4",
    tempo: Annotated[float, Form(description="Quarter notes per minute.")] = 120.0,
    audio: AudioForm = False,
) -> FileResponse:
    """Sample a melody; answers with MIDI, or WAV (44.1 kHz, FluidSynth) when ``audio``."""
    from wavesmith.music.generate import generate_file
    from wavesmith.music.midi import parse_meter, steps_per_bar_for

    ts = parse_meter(meter)
    with workdir(keep=True) as work:
        midi = work.path / "generated.mid"
        wav = work.path / "generated.wav" if audio else None
        generate_file(midi, model=model, bars=bars, seed=seed, temperature=temperature,
                      top_k=top_k, audio=wav, top_p=top_p, tokens=tokens,
                      steps_per_bar=steps_per_bar_for(*ts), tempo_bpm=tempo,
                      time_signature=ts)
    return _midi_or_wav(work, midi, wav, f"{model}-seed{seed}")


@router.post("/continue", response_class=FileResponse, responses=MIDI_RESPONSE)
def continue_(
    file: Annotated[UploadFile, File(description="MIDI file whose melody (top line) to "
                                     "continue.")],
    model: ModelForm = "markov",
    bars: Annotated[int, Form(description="Bars to add (1..1024).")] = 8,
    seed: SeedForm = 1,
    temperature: TempForm = 1.0,
    top_k: TopKForm = None,
    top_p: TopPForm = None,
    tokens: TokensForm = None,
    audio: AudioForm = False,
) -> FileResponse:
    """The uploaded melody followed by ``bars`` generated bars (markov or transformer)."""
    from wavesmith.music.generate import continue_file

    with workdir(keep=True) as work:
        src = _saved(work, file, "in")
        midi = work.path / "continued.mid"
        wav = work.path / "continued.wav" if audio else None
        continue_file(src, midi, model=model, bars=bars, seed=seed,
                      temperature=temperature, top_k=top_k, audio=wav, top_p=top_p,
                      tokens=tokens)
    return _midi_or_wav(work, midi, wav, f"{Path(file.filename or 'melody').stem}-{model}")


@router.post("/interpolate", response_class=FileResponse, responses=MIDI_RESPONSE)
def interpolate(
    a: Annotated[UploadFile, File(description="MIDI file A (first 16 or 2 bars; 4/4, 2/4 "
                                  "or 2/2).")],
    b: Annotated[UploadFile, File(description="MIDI file B.")],
    steps: Annotated[int, Form(description="Melodies from A to B, ends included "
                               "(2..64).")] = 5,
    bars: Annotated[int, Form(description="2: the 2-bar VAE on the first 2 bars; 16: the "
                              "16-bar VAE on the first 16 bars of 4/4.")] = 2,
    audio: AudioForm = False,
) -> FileResponse:
    """Spherical interpolation in a melody VAE's latent space from A to B; the ``steps``
    melodies (2 bars each, or 16 with ``bars=16``) one after the other."""
    from wavesmith.music.generate import interpolate_file

    with workdir(keep=True) as work:
        pa, pb = _saved(work, a, "a"), _saved(work, b, "b")
        midi = work.path / "interpolation.mid"
        wav = work.path / "interpolation.wav" if audio else None
        interpolate_file(pa, pb, midi, steps=steps, bars=bars, audio=wav)
    return _midi_or_wav(work, midi, wav, "interpolation")


@router.post("/transfer", response_class=FileResponse, responses=MIDI_RESPONSE)
def transfer(
    file: Annotated[UploadFile, File(description="MIDI file whose melody to transform "
                                     "(4/4, 2/4 or 2/2).")],
    attribute: Annotated[str, Form(description="minor, major, dense, sparse, chorale or "
                                   "folk.")],
    amount: Annotated[float, Form(description="How far to move, -4..4 (0: reconstruction, "
                                  "1: the target style's counterpart).")] = 1.0,
    audio: AudioForm = False,
) -> FileResponse:
    """Style transfer in the melody VAE's latent space (see ``wavesmith music
    transfer``)."""
    from wavesmith.music.generate import transfer_file

    with workdir(keep=True) as work:
        src = _saved(work, file, "in")
        midi = work.path / "transferred.mid"
        wav = work.path / "transferred.wav" if audio else None
        transfer_file(src, midi, attribute=attribute, amount=amount, audio=wav)
    return _midi_or_wav(work, midi, wav, f"{Path(file.filename or 'melody').stem}-{attribute}")


@router.post("/harmonize", response_class=FileResponse, responses=MIDI_RESPONSE)
def harmonize(
    file: Annotated[UploadFile, File(description="MIDI file whose melody to harmonize.")],
    audio: AudioForm = False,
    voicing: Annotated[str, Form(description="chords (a block-chord track) or chorale "
                                 "(a chord per beat; alto, tenor, bass tracks; learned "
                                 "from the Bach chorales).")] = "chords",
) -> FileResponse:
    """The uploaded melody plus a chord track (one chord per bar, Nottingham chord HMM),
    or with ``voicing=chorale`` plus alto, tenor and bass tracks (four-part harmony over
    one chord per beat from the chorale chord HMM; chord symbols as MIDI text events)."""
    from wavesmith.music.harmonize import harmonize_file

    with workdir(keep=True) as work:
        src = _saved(work, file, "in")
        midi = work.path / "harmonized.mid"
        wav = work.path / "harmonized.wav" if audio else None
        harmonize_file(src, midi, audio=wav, voicing=voicing)
    return _midi_or_wav(work, midi, wav, f"{Path(file.filename or 'melody').stem}-{voicing}")


@router.post("/transcribe", response_class=FileResponse, responses=MIDI_RESPONSE)
def transcribe(
    file: Annotated[UploadFile, File(description="Audio file.")],
) -> FileResponse:
    """Transcribe uploaded audio to MIDI (basic-pitch; mono, 22 050 Hz internally)."""
    from wavesmith import io
    from wavesmith.music.midi import save_midi
    from wavesmith.music.transcribe import MODEL_SAMPLE_RATE_HZ
    from wavesmith.music.transcribe import transcribe as run

    with workdir(keep=True) as work:
        src = work.save_upload(file)
        result = run(io.load(src, sample_rate=MODEL_SAMPLE_RATE_HZ, mono=True))
        dst = work.path / (src.stem + ".out.mid")
        save_midi(result.midi, dst)
    return _midi_or_wav(work, dst, None, Path(file.filename or "audio").stem)
