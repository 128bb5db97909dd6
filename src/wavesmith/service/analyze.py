"""``POST /v1/analyze``: the uploaded file's analysis report as JSON, or its overview PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from wavesmith import analysis, io
from wavesmith.service.uploads import file_response, workdir

router = APIRouter()


@router.post("/v1/analyze", responses={200: {"content": {"application/json": {},
                                                          "image/png": {}}}})
def analyze(
    file: Annotated[UploadFile, File(description="Audio file.")],
    features: Annotated[str, Form(description="Comma-separated: loudness, spectral, rhythm, "
                                              "key, pitch, voice, or all.")]
    = "loudness,spectral",
    pitch: Annotated[str | None, Form(description="Add the pitch section with this tracker: "
                                                  "pyin or crepe.")] = None,
    pitch_model: Annotated[str, Form(description="CREPE model size: tiny or full.")] = "tiny",
    voice: Annotated[bool, Form(description="Add Praat's voice report.")] = False,
    plot: Annotated[bool, Form(description="Answer with the PNG overview instead of "
                                           "JSON.")] = False,
    curves: Annotated[bool, Form(description="Include loudness curves and the pitch contour "
                                             "in the JSON.")] = False,
) -> Any:
    """Analyse the upload: loudness (LUFS, LRA, dBTP), spectral summary, tempo, key, pitch
    (pYIN or CREPE) and voice quality (Praat).

    Answers the same JSON as ``wavesmith analyze --json`` (undefined values are null), or
    with ``plot=true`` an ``image/png`` overview.
    """
    pitch = pitch or None   # an empty form field means "not asked"
    wanted = analysis.parse_features(features, pitch=pitch, voice=voice)
    options: dict[str, Any] = {"pitch": pitch, "pitch_model": pitch_model}
    if not plot:
        with workdir() as work:
            audio = io.load(work.save_upload(file))
            return analysis.report(audio, wanted, curves=curves, **options)
    with workdir(keep=True) as work:
        audio = io.load(work.save_upload(file))
        png = work.path / "analysis.png"
        analysis.plot_report(audio, png,
                             result=analysis.analyze(audio, wanted, **options))
    return file_response(png, work, Path(file.filename or "audio").stem + ".png")
