"""FastAPI application: parse the upload, call one core function, format the answer.

Uploads are multipart with the audio in the form field ``file``. Every wavesmith error becomes
a JSON body ``{"error": {"type": ..., "message": ...}}`` with the status from
:func:`wavesmith.errors.http_status` (422 bad audio, 415 unsupported format, 503 missing tool
or model); an upload over the size limit gets 413 before its body is read.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from wavesmith import __version__, io
from wavesmith.errors import WavesmithError, http_status
from wavesmith.service.limits import UploadLimit
from wavesmith.service.uploads import MEDIA_TYPES, file_response, workdir

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "create_app", "run"]

DEFAULT_MAX_UPLOAD_BYTES = 200_000_000  # bytes (200 MB)
STATIC = Path(__file__).with_name("static")  # the web page, served at /
# Modules that each define `router` (a fastapi.APIRouter) for one capability, when present.
ROUTE_MODULES = ("analyze", "edit", "asr", "speak", "emotion", "music", "train", "batch")


def create_app(max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> FastAPI:
    """Build the service. ``max_upload_bytes`` caps request bodies (413 beyond it)."""
    api = FastAPI(
        title="wavesmith",
        version=__version__,
        description="Audio analysis, editing, speech and music over HTTP. Uploads are "
        "multipart with the audio in the form field `file`.",
    )
    api.add_middleware(UploadLimit, max_bytes=max_upload_bytes)

    @api.exception_handler(WavesmithError)
    async def _wavesmith_error(_: Request, exc: WavesmithError) -> JSONResponse:
        return JSONResponse(status_code=http_status(exc),
                            content={"error": {"type": type(exc).__name__, "message": str(exc)}})

    for name in ROUTE_MODULES:  # capability routers, each in wavesmith.service.<name>
        if importlib.util.find_spec(f"wavesmith.service.{name}") is not None:
            api.include_router(importlib.import_module(f"wavesmith.service.{name}").router)

    @api.get("/", include_in_schema=False)
    def page() -> FileResponse:
        """The web page: upload a file, describe and convert it through this API."""
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @api.get("/health")
    def health() -> dict[str, Any]:
        """Liveness check."""
        return {"status": "ok", "version": __version__, "max_upload_bytes": max_upload_bytes}

    @api.post("/v1/info")
    def info(file: Annotated[UploadFile, File(description="Audio file.")]) -> dict[str, Any]:
        """Describe the uploaded audio: format, codec, rate (Hz), channels, frames, duration (s)."""
        with workdir() as work:
            result = io.info(work.save_upload(file))
            data = {k: getattr(result, k) for k in result.__slots__}
            data["path"] = work.relative(data["path"])
            return data

    @api.post("/v1/convert", response_class=FileResponse,
              responses={200: {"content": {t: {} for t in sorted(set(MEDIA_TYPES.values()))},
                               "description": "The converted audio."}})
    def convert(
        file: Annotated[UploadFile, File(description="Audio file.")],
        format: Annotated[str, Form(description="Output extension: wav, flac, ogg, opus, "
                                    "mp3, aiff (m4a with ffmpeg).")] = "wav",
        sample_rate: Annotated[int | None, Form(description="Output rate in Hz.")] = None,
        channels: Annotated[int | None, Form(description="Output channels.")] = None,
        subtype: Annotated[str | None, Form(description="PCM_16, PCM_24, FLOAT, ...")] = None,
    ) -> FileResponse:
        """Convert the uploaded audio; answers with the new file."""
        ext = "." + format.lower().lstrip(".")
        with workdir(keep=True) as work:
            src = work.save_upload(file)
            dst = work.path / (Path(src.stem).name + ".out" + ext)
            io.convert(src, dst, sample_rate=sample_rate, channels=channels,
                       subtype=subtype)
        return file_response(dst, work, Path(file.filename or "audio").stem + ext)

    return api


def run(host: str = "127.0.0.1", port: int = 8000,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> None:
    """Serve :func:`create_app` with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(max_upload_bytes), host=host, port=port, log_level="info")
