"""Speech recognition over HTTP: ``POST /v1/transcribe`` and the WebSocket stream.

``POST /v1/transcribe`` answers the transcript as JSON (info, text, segments with words,
times in seconds), or as text in the requested subtitle format. Errors are one-line JSON: an
unknown engine or format is 422, a missing model 503. Plain ``def``: decoding runs in the
threadpool.

WebSocket ``/v1/asr/stream`` (also ``/v1/transcribe/stream``), query parameters ``rate`` (Hz
of the PCM, default 16000), ``engine``, ``language``, ``min_silence_s``, ``partial_s``:

* the server sends ``{"type": "ready", "sample_rate_hz": ..., "engine": ..., "model": ...}``
  once the model is loaded;
* the client sends **binary** messages of raw 16-bit little-endian mono PCM (any size), and
  the text message ``end`` when the audio is over;
* the server sends one JSON message per result, ``{"type": "partial" | "final",
  "utterance", "start_s", "end_s", "text", "emitted_s", "words"}`` (times in seconds from the
  first sample), and after ``end`` the last finals, then ``{"type": "done"}``, and closes.
* bad parameters or input: ``{"type": "error", "error": {"type", "message"}}``, then the
  socket is closed with code 1008 (1011 for a missing model).

Decoding runs in the threadpool, one :class:`~wavesmith.speech.stream.StreamingTranscriber`
per connection (the model itself is loaded once per process and shared).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from wavesmith.errors import AudioValueError, ModelError, WavesmithError
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


def _result_message(result: Any) -> dict[str, Any]:
    from dataclasses import asdict

    doc = {"type": result.type, **asdict(result)}
    del doc["final"]
    return doc


@router.websocket("/v1/asr/stream")
@router.websocket("/v1/transcribe/stream")
async def transcribe_stream(websocket: WebSocket, rate: int = 16_000, engine: str = "whisper",
                            language: str = "en", min_silence_s: float = 0.5,
                            partial_s: float = 1.0) -> None:
    """Stream PCM in, partial and final transcripts out (protocol in the module docstring)."""
    from wavesmith.speech import TranscribeOptions
    from wavesmith.speech.stream import StreamingTranscriber, StreamOptions

    await websocket.accept()

    async def fail(exc: WavesmithError) -> None:
        await websocket.send_json({"type": "error", "error": {"type": type(exc).__name__,
                                                              "message": str(exc)}})
        await websocket.close(code=1011 if isinstance(exc, ModelError) else 1008)

    try:
        st = await run_in_threadpool(
            StreamingTranscriber, rate, engine=engine,
            options=TranscribeOptions(language=language),
            stream_options=StreamOptions(min_silence_s=min_silence_s,
                                         partial_interval_s=partial_s))
    except WavesmithError as exc:
        await fail(exc)
        return
    await websocket.send_json({"type": "ready", "sample_rate_hz": rate, "engine": engine,
                               "model": st.transcriber.model_name})
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                results = await run_in_threadpool(st.feed_pcm16, message["bytes"])
            elif (message.get("text") or "").strip().lower() in ("end", '{"type": "end"}'):
                for r in await run_in_threadpool(st.finish):
                    await websocket.send_json(_result_message(r))
                await websocket.send_json({"type": "done", "duration_s": st.position_s})
                await websocket.close(code=1000)
                return
            else:
                await fail(_unexpected_text(message.get("text")))
                return
            for r in results:
                await websocket.send_json(_result_message(r))
    except WebSocketDisconnect:
        return
    except WavesmithError as exc:
        await fail(exc)


def _unexpected_text(text: str | None) -> WavesmithError:
    """The error for a text message other than ``end``."""
    shown = (text or "")[:40]
    return AudioValueError(f"unexpected text message {shown!r}; send binary s16le PCM "
                           "frames, then the text message 'end'")
