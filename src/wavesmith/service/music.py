"""``/v1/music``: generate a melody (MIDI, or WAV with ``audio=true``), transcribe audio."""

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


@router.post("/generate", response_class=FileResponse, responses=MIDI_RESPONSE)
def generate(
    model: Annotated[str, Form(description="markov (vae, gan, transformer: not trained "
                               "yet).")] = "markov",
    bars: Annotated[int, Form(description="Length in bars (1..1024).")] = 16,
    seed: Annotated[int, Form(description="Random seed.")] = 1,
    temperature: Annotated[float, Form(description="Sampling temperature.")] = 1.0,
    audio: Annotated[bool, Form(description="Answer with rendered WAV audio.")] = False,
) -> FileResponse:
    """Sample a melody; answers with MIDI, or WAV (44.1 kHz, FluidSynth) when ``audio``."""
    from wavesmith.music.generate import generate_file

    with workdir(keep=True) as work:
        try:
            midi = work.path / "generated.mid"
            wav = work.path / "generated.wav" if audio else None
            generate_file(midi, model=model, bars=bars, seed=seed, temperature=temperature,
                          audio=wav)
        except BaseException:
            work.remove()
            raise
    return _midi_or_wav(work, midi, wav, f"{model}-seed{seed}")


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
        try:
            src = work.save_upload(file)
            result = run(io.load(src, sample_rate=MODEL_SAMPLE_RATE_HZ, mono=True))
            dst = work.path / (src.stem + ".out.mid")
            save_midi(result.midi, dst)
        except BaseException:
            work.remove()
            raise
    return _midi_or_wav(work, dst, None, Path(file.filename or "audio").stem)
