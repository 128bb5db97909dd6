"""Speech recognition over HTTP: ``POST /v1/transcribe``, jobs, and the WebSocket stream.

``POST /v1/transcribe`` answers the transcript as JSON (info, text, segments with words,
times in seconds), or as text in the requested subtitle format. Errors are one-line JSON: an
unknown engine or format is 422, a missing model 503. Plain ``def``: decoding runs in the
threadpool.

Long uploads become background jobs (:mod:`wavesmith.service.jobs`). The form field ``job``
is ``auto`` (default: a job when the audio is longer than the server's ``job_threshold_s``,
read cheaply from the header with :func:`wavesmith.io.info`), ``true`` or ``false``. A job is
answered ``202 Accepted`` with ``{"job": {"id", "status": "queued", "url", ...}}`` and a
``Location`` header; ``GET /v1/jobs/{id}`` gives its record (``status``, ``progress`` 0..1,
``result``: the same JSON document as the direct answer), ``GET /v1/jobs/{id}?format=srt``
the finished transcript as subtitles (409 before it is done), ``DELETE /v1/jobs/{id}``
cancels an active job or forgets a finished one; an unknown id is 404. A full queue is 503
with ``Retry-After``. An upload that cannot be read is refused at once (415/422, as on the
direct path): only failures while decoding make a ``failed`` job. The upload's folder belongs
to the job (:meth:`~wavesmith.service.uploads.Workdir.hand_over`) and is removed when it ends.

WebSocket ``/v1/asr/stream`` (also ``/v1/transcribe/stream``), query parameters ``rate`` (Hz
of the PCM, default 16000, 8000-48000), ``engine``, ``language``, ``min_silence_s``,
``partial_s``:

* the server sends ``{"type": "ready", "sample_rate_hz": ..., "engine": ..., "model": ...}``
  once the model is loaded;
* the client sends **binary** messages of raw 16-bit little-endian mono PCM (any size up to
  ``stream_max_message_bytes``), and the text message ``end`` when the audio is over; a
  stream holds at most ``stream_max_s`` seconds of audio;
* the server sends one JSON message per result, ``{"type": "partial" | "final",
  "utterance", "start_s", "end_s", "text", "emitted_s", "words"}`` (times in seconds from the
  first sample), and after ``end`` the last finals, then ``{"type": "done"}``, and closes.
* bad parameters or input, or a limit passed: ``{"type": "error", "error": {"type",
  "message"}}``, then the socket is closed with code 1008 (1011 for a missing model).

Decoding runs in the threadpool, one :class:`~wavesmith.speech.stream.StreamingTranscriber`
per connection (the model itself is loaded once per process and shared).

Settings (:class:`AsrSettings`) come from the environment when the app does not set
``app.state.asr_settings``: ``WAVESMITH_JOB_THRESHOLD_S``, ``WAVESMITH_STREAM_MAX_S``,
``WAVESMITH_STREAM_MAX_MESSAGE_BYTES``; the queue's from :meth:`JobSettings.from_env`
(``WAVESMITH_MAX_JOBS``, ``WAVESMITH_JOB_KEEP_S``, ...) unless ``app.state.jobs`` is set.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import (
    APIRouter,
    FastAPI,
    File,
    Form,
    Query,
    Request,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from wavesmith import io
from wavesmith.errors import AudioValueError, InvalidAudioError, ModelError, WavesmithError
from wavesmith.service.jobs import (
    Job,
    JobQueue,
    JobSettings,
    QueueFullError,
    env_number,
    shutdown_all,
)
from wavesmith.service.uploads import Workdir, workdir

if TYPE_CHECKING:
    from wavesmith.speech import Segment, TranscribeOptions, TranscriptInfo

__all__ = ["AsrSettings", "job_queue", "router", "settings"]

DEFAULT_JOB_THRESHOLD_S = 60.0          # s of audio; longer uploads become jobs (job=auto)
STREAM_MIN_RATE_HZ = 8_000              # Hz; lowest PCM rate of a WebSocket stream
STREAM_MAX_RATE_HZ = 48_000             # Hz; highest
DEFAULT_STREAM_MAX_S = 7_200.0          # s of audio in one WebSocket stream (2 h)
DEFAULT_STREAM_MAX_MESSAGE_BYTES = 1 << 20  # bytes per binary message (~10.9 s at 48 kHz)
QUEUE_FULL_RETRY_AFTER_S = 30           # s, the Retry-After of a 503 from a full job queue
_JOB_CHOICES = {"auto": None, "true": True, "1": True, "yes": True,
                "false": False, "0": False, "no": False}

router = APIRouter(tags=["speech"], on_shutdown=[shutdown_all])
_STATE_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class AsrSettings:
    """Server settings of the speech endpoints (see the module docstring)."""

    job_threshold_s: float = DEFAULT_JOB_THRESHOLD_S
    stream_max_s: float = DEFAULT_STREAM_MAX_S
    stream_max_message_bytes: int = DEFAULT_STREAM_MAX_MESSAGE_BYTES

    def __post_init__(self) -> None:
        if self.job_threshold_s < 0:
            raise ValueError(f"job_threshold_s={self.job_threshold_s} s must be >= 0")
        if self.stream_max_s <= 0 or self.stream_max_message_bytes < 2:
            raise ValueError(f"stream_max_s={self.stream_max_s} s must be > 0 and "
                             f"stream_max_message_bytes={self.stream_max_message_bytes} >= 2")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AsrSettings:
        """Settings from ``WAVESMITH_JOB_THRESHOLD_S``, ``WAVESMITH_STREAM_MAX_S`` and
        ``WAVESMITH_STREAM_MAX_MESSAGE_BYTES`` (defaults where unset)."""
        return cls(
            job_threshold_s=env_number("WAVESMITH_JOB_THRESHOLD_S", DEFAULT_JOB_THRESHOLD_S,
                                       environ),
            stream_max_s=env_number("WAVESMITH_STREAM_MAX_S", DEFAULT_STREAM_MAX_S, environ),
            stream_max_message_bytes=env_number("WAVESMITH_STREAM_MAX_MESSAGE_BYTES",
                                                DEFAULT_STREAM_MAX_MESSAGE_BYTES, environ))


def settings(app: FastAPI) -> AsrSettings:
    """``app.state.asr_settings``, set from the environment on first use."""
    with _STATE_LOCK:
        if getattr(app.state, "asr_settings", None) is None:
            app.state.asr_settings = AsrSettings.from_env()
        return app.state.asr_settings


def job_queue(app: FastAPI) -> JobQueue:
    """``app.state.jobs``, the app's job queue, made on first use."""
    with _STATE_LOCK:
        if getattr(app.state, "jobs", None) is None:
            app.state.jobs = JobQueue(JobSettings.from_env())
        return app.state.jobs


def _error(status: int, kind: str, message: str,
           headers: dict[str, str] | None = None) -> JSONResponse:
    """The service's one-line JSON error body with ``status``."""
    return JSONResponse(status_code=status, headers=headers,
                        content={"error": {"type": kind, "message": message}})


@router.post("/v1/transcribe",
             responses={200: {"content": {"application/json": {}, "text/plain": {},
                                          "application/x-subrip": {}, "text/vtt": {},
                                          "text/tab-separated-values": {}},
                              "description": "The transcript."},
                        202: {"description": "A long upload became a job: "
                              '{"job": {"id", "status", "url"}}, Location: /v1/jobs/{id}.'},
                        503: {"description": "Missing model, or the job queue is full."}})
def transcribe_upload(
    request: Request,
    file: Annotated[UploadFile, File(description="Audio file (any rate and channels).")],
    engine: Annotated[str, Form(description="whisper (default), sphinx or digits.")] = "whisper",
    format: Annotated[str, Form(description="json (default), txt, srt, vtt or tsv.")] = "json",
    language: Annotated[str, Form(description="Language code.")] = "en",
    model: Annotated[str | None, Form(description="whisper model name, only if already in "
                                      "the server's local cache.")] = None,
    job: Annotated[str, Form(description="auto (default): a background job when the audio "
                             "is longer than the server's job threshold (60 s unless set); "
                             "true: always a job; false: never.")] = "auto",
) -> Response:
    """Transcribe the uploaded audio; JSON segments and words, subtitles as text, or a job."""
    from wavesmith.speech import TranscribeOptions, get_transcriber, render

    fmt = format.lower()
    render(fmt, [])  # unknown format: 422 before the upload is decoded
    if job.strip().lower() not in _JOB_CHOICES:
        raise AudioValueError(f"job={job!r}; choose auto, true or false")
    as_job = _JOB_CHOICES[job.strip().lower()]
    options = TranscribeOptions(language=language)
    # unknown engine or language: 422; missing model: 503
    get_transcriber(engine, model=model).check_options(options)
    with workdir() as work:
        src = work.save_upload(file)
        duration_s = io.info(src).duration_s  # unreadable upload: 415/422 now, never a job
        if not as_job and (as_job is False
                           or duration_s <= settings(request.app).job_threshold_s):
            segs, info = _decode(src, engine, model, options)
            return _answer(fmt, segs, info, file.filename)
        name = file.filename
        run = partial(_transcribe_job, work=work.hand_over(), src=src, filename=name,
                      engine=engine, model=model, options=options)
        try:
            record = job_queue(request.app).submit(
                run, kind="transcribe", duration_s=round(duration_s, 6), cleanup=work.remove,
                meta={"file": name, "engine": engine})
        except QueueFullError as exc:
            work.remove()
            return _error(503, "QueueFull", str(exc),
                          {"Retry-After": str(QUEUE_FULL_RETRY_AFTER_S)})
        except BaseException:
            work.remove()
            raise
    url = f"/v1/jobs/{record['id']}"
    body = {"id": record["id"], "status": record["status"], "url": url,
            "file": name, "duration_s": record["duration_s"]}
    if fmt != "json":
        body["result_url"] = f"{url}?format={fmt}"
    return JSONResponse(status_code=202, content={"job": body}, headers={"Location": url})


@router.get("/v1/jobs/{job_id}",
            responses={200: {"content": {"application/json": {}, "text/plain": {},
                                         "application/x-subrip": {}, "text/vtt": {},
                                         "text/tab-separated-values": {}},
                             "description": "The job's record, or its transcript."},
                       404: {"description": "Unknown job."},
                       409: {"description": "A transcript format asked before it is done."}})
def get_job(request: Request, job_id: str,
            format: Annotated[str, Query(description="json (default): the job's record; "
                                         "txt, srt, vtt or tsv: the finished transcript.")]
            = "json") -> Response:
    """A job's status, progress (0..1) and, once done, its result."""
    from wavesmith.speech import render
    from wavesmith.speech.formats import MEDIA_TYPES

    queue = job_queue(request.app)
    record = queue.get(job_id)
    if record is None:
        return _not_found(queue, job_id)
    fmt = format.lower()
    if fmt == "json":
        return JSONResponse(record)
    render(fmt, [])  # unknown format: 422
    if record["kind"] != "transcribe" or record["status"] != "done":
        return _error(409, "JobNotDone", f"job {job_id} is {record['status']}; its transcript "
                      f"can be rendered as {fmt} once it is done")
    segs, info = _from_document(record["result"])
    return PlainTextResponse(render(fmt, segs, info), media_type=MEDIA_TYPES[fmt])


@router.delete("/v1/jobs/{job_id}", responses={404: {"description": "Unknown job."}})
def delete_job(request: Request, job_id: str) -> JSONResponse:
    """Cancel a queued or running job, or forget a finished one; answers its record."""
    queue = job_queue(request.app)
    record = queue.cancel(job_id)
    return _not_found(queue, job_id) if record is None else JSONResponse(record)


def _not_found(queue: JobQueue, job_id: str) -> JSONResponse:
    keep = queue.settings
    return _error(404, "JobNotFound", f"no job {job_id[:64]!r}: finished jobs are kept "
                  f"{keep.keep_s:g} s (at most {keep.keep_jobs}), and a restart forgets them")


def _decode(src: Path, engine: str, model: str | None, options: TranscribeOptions,
            job: Job | None = None) -> tuple[list[Segment], TranscriptInfo]:
    """Transcribe ``src`` to the end; a job reports its progress and may be cancelled."""
    from wavesmith.speech import transcribe

    segments, info = transcribe(src, engine=engine, model=model, options=options,
                                progress=None if job is None else job.report)
    segs = []
    for seg in segments:
        segs.append(seg)
        if job is not None:
            job.check_cancelled()
    return segs, info


def _document(segs: list[Segment], info: TranscriptInfo, filename: str | None
              ) -> dict[str, Any]:
    """The JSON transcript answered by the direct path and stored as a job's result."""
    from wavesmith.speech.formats import transcript_dict

    doc: dict[str, Any] = transcript_dict(segs, info)
    doc["file"] = filename
    return doc


def _from_document(doc: dict[str, Any]) -> tuple[list[Segment], TranscriptInfo]:
    """Segments and info back from :func:`_document`'s output (to render subtitles)."""
    from wavesmith.speech import Segment, TranscriptInfo, Word

    segs = [Segment(**{**s, "words": [Word(**w) for w in s["words"]]})
            for s in doc["segments"]]
    return segs, TranscriptInfo(**doc["info"])


def _answer(fmt: str, segs: list[Segment], info: TranscriptInfo,
            filename: str | None) -> Response:
    """The direct answer: the JSON document, or the transcript rendered as ``fmt``."""
    from wavesmith.speech import render
    from wavesmith.speech.formats import MEDIA_TYPES

    if fmt == "json":
        return JSONResponse(_document(segs, info, filename))
    return PlainTextResponse(render(fmt, segs, info), media_type=MEDIA_TYPES[fmt])


def _transcribe_job(job: Job, *, work: Workdir, src: Path, filename: str | None, engine: str,
                    model: str | None, options: TranscribeOptions) -> dict[str, Any]:
    """A job's body: decode the upload it owns; errors name the client's file, not ours."""
    try:
        segs, info = _decode(src, engine, model, options, job)
    except WavesmithError as exc:
        raise type(exc)(work.relative(str(exc))) from exc
    return _document(segs, info, filename)


def _check_stream_rate(rate: int) -> int:
    """``rate`` if a stream accepts it (8-48 kHz), else :class:`InvalidAudioError`."""
    if not STREAM_MIN_RATE_HZ <= rate <= STREAM_MAX_RATE_HZ:
        raise InvalidAudioError(f"rate={rate} Hz is outside the {STREAM_MIN_RATE_HZ}-"
                                f"{STREAM_MAX_RATE_HZ} Hz accepted for streams; send PCM at "
                                "16000 Hz (or any rate in that range)")
    return rate


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
    limits = settings(websocket.app)
    max_stream_bytes = round(limits.stream_max_s * rate) * 2 if rate > 0 else 0
    fed_bytes = 0  # PCM bytes received

    async def fail(exc: WavesmithError) -> None:
        await websocket.send_json({"type": "error", "error": {"type": type(exc).__name__,
                                                              "message": str(exc)}})
        await websocket.close(code=1011 if isinstance(exc, ModelError) else 1008)

    try:
        _check_stream_rate(rate)
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
                data = message["bytes"]
                fed_bytes += len(data)
                if len(data) > limits.stream_max_message_bytes:
                    await fail(AudioValueError(
                        f"binary message of {len(data)} bytes is over the limit of "
                        f"{limits.stream_max_message_bytes} bytes; send smaller frames"))
                    return
                if fed_bytes > max_stream_bytes:
                    await fail(AudioValueError(
                        f"stream is longer than the limit of {limits.stream_max_s:g} s of "
                        "audio; send 'end' sooner and open a new stream for the rest"))
                    return
                results = await run_in_threadpool(st.feed_pcm16, data)
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
