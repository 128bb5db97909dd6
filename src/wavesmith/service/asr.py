"""``POST /v1/transcribe``: speech recognition of an uploaded file.

The answer is the transcript as JSON (info, text, segments with words, times in seconds), or
as text in the requested subtitle format. Errors are one-line JSON: an unknown engine or
format is 422, a missing model 503. Plain ``def``: decoding runs in the threadpool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from wavesmith.service.uploads import workdir

__all__ = ["router"]

router = APIRouter(tags=["speech"])


@router.post("/v1/transcribe",
             responses={200: {"content": {"application/json": {}, "text/plain": {},
                                          "application/x-subrip": {}, "text/vtt": {},
                                          "text/tab-separated-values": {}},
                              "description": "The transcript."}})
def transcribe_upload(
    file: Annotated[UploadFile, File(description="Audio file (any rate and channels).")],
    engine: Annotated[str, Form(description="whisper (default) or sphinx.")] = "whisper",
    format: Annotated[str, Form(description="json (default), txt, srt, vtt or tsv.")] = "json",
    language: Annotated[str, Form(description="Language code.")] = "en",
    model: Annotated[str | None, Form(description="whisper model name, only if already in "
                                      "the server's local cache.")] = None,
) -> Response:
    """Transcribe the uploaded audio; JSON segments and words, or subtitles as text."""
    from wavesmith.speech import TranscribeOptions, get_transcriber, render, transcribe
    from wavesmith.speech.formats import MEDIA_TYPES, transcript_dict

    fmt = format.lower()
    render(fmt, [])  # unknown format: 422 before the upload is decoded
    get_transcriber(engine, model=model)  # unknown engine: 422; missing model: 503
    with workdir() as work:
        src = work.save_upload(file)
        segments, info = transcribe(src, engine=engine, model=model,
                                    options=TranscribeOptions(language=language))
        segs = list(segments)
    if fmt == "json":
        doc: dict[str, Any] = transcript_dict(segs, info)
        doc["file"] = file.filename
        return JSONResponse(doc)
    return PlainTextResponse(render(fmt, segs, info), media_type=MEDIA_TYPES[fmt])
