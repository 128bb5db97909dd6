"""``POST /v1/edit``: run an uploaded file through an effect chain given as JSON.

Parse (upload + chain JSON) → :func:`wavesmith.edit.apply_file` → the edited file. A bad
chain is a 422 with the one-line message; see :mod:`wavesmith.service.app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse

from wavesmith import edit
from wavesmith.service.uploads import MEDIA_TYPES, file_response, workdir

__all__ = ["router"]

router = APIRouter(tags=["edit"])


@router.post("/v1/edit", response_class=FileResponse,
             responses={200: {"content": {t: {} for t in sorted(set(MEDIA_TYPES.values()))},
                              "description": "The edited audio."},
                        422: {"description": "Bad chain or bad audio (one-line JSON error)."}})
def edit_audio(
    file: Annotated[UploadFile, File(description="Audio file.")],
    chain: Annotated[str, Form(description='Effect chain as JSON, e.g. {"effects": '
                               '[{"effect": "highpass", "cutoff_hz": 80}, '
                               '{"effect": "loudness_normalize", "target_lufs": -16}]}')],
    format: Annotated[str | None, Form(description="Output extension (wav, flac, ogg, mp3, "
                                       "...); default: the upload's.")] = None,
    subtype: Annotated[str | None, Form(description="PCM_16, PCM_24, FLOAT, ...")] = None,
) -> FileResponse:
    """Apply the chain to the uploaded audio; answers with the edited file."""
    effects = edit.Chain.from_json(chain)  # validated before the upload is saved
    with workdir(keep=True) as work:
        try:
            src = work.save_upload(file)
            ext = "." + (format or src.suffix or "wav").lower().lstrip(".")
            dst = work.path / (Path(src.stem).name + ".edited" + ext)
            edit.apply_file(src, dst, effects, subtype=subtype)
        except BaseException:
            work.remove()
            raise
    return file_response(dst, work, Path(file.filename or "audio").stem + ext)
