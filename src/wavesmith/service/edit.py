"""``POST /v1/edit``: run an uploaded file through an effect chain given as JSON;
``POST /v1/edit/vad``: the speech segments of an uploaded file; ``POST /v1/edit/mix`` and
``POST /v1/edit/concat``: several uploads (form field ``files``, repeated) mixed or spliced.

Parse (upload + chain JSON) → :func:`wavesmith.edit.apply_file` → the edited file. A bad
chain is a 422 with the one-line message; see :mod:`wavesmith.service.app`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

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
        src = work.save_upload(file)
        ext = "." + (format or src.suffix or "wav").lower().lstrip(".")
        dst = work.path / (Path(src.stem).name + ".edited" + ext)
        edit.apply_file(src, dst, effects, subtype=subtype)
    return file_response(dst, work, Path(file.filename or "audio").stem + ext)


@router.post("/v1/edit/vad",
             responses={422: {"description": "Bad parameter or bad audio (one-line JSON "
                                             "error)."}})
def edit_vad(
    file: Annotated[UploadFile, File(description="Audio file (any rate and channels).")],
    method: Annotated[str, Form(description="silero (neural, default), webrtc or "
                                "energy.")] = "silero",
    threshold: Annotated[float, Form(description="Speech score 0-1 at which speech "
                                     "starts.")] = 0.5,
    min_speech_s: Annotated[float, Form(description="Drop speech shorter than this "
                                        "(s).")] = 0.25,
    min_silence_s: Annotated[float, Form(description="Pauses shorter than this (s) do not "
                                         "end a segment.")] = 0.1,
    pad_s: Annotated[float, Form(description="Seconds kept each side of a segment.")] = 0.03,
    max_speech_s: Annotated[float | None, Form(description="Split segments longer than this "
                                               "(s) at their last pause.")] = None,
) -> dict[str, Any]:
    """Find the speech in the upload; answers the JSON of ``wavesmith edit vad --json``
    (``path`` is the upload's file name): segments with ``start``/``end`` in seconds."""
    kw: dict[str, Any] = {"method": method, "threshold": threshold,
                          "min_speech_s": min_speech_s, "min_silence_s": min_silence_s,
                          "pad_s": pad_s, "max_speech_s": max_speech_s}
    edit.SpeechDetector(**kw)  # checked before the upload
    with workdir() as work:
        report = edit.vad_file(work.save_upload(file), **kw)
    return dataclasses.asdict(dataclasses.replace(report, path=file.filename or "audio"))


MULTI_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {} for t in sorted(set(MEDIA_TYPES.values()))},
          "description": "The mixed or spliced audio."},
    422: {"description": "Bad parameter or bad audio (one-line JSON error)."}}
FilesForm = Annotated[list[UploadFile], File(description="Audio files, in order (same rate "
                                             "and channels); repeat the field per file.")]
FormatForm = Annotated[str, Form(description="Output extension (wav, flac, ogg, mp3, ...).")]
SubtypeForm = Annotated[str | None, Form(description="PCM_16, PCM_24, FLOAT, ...")]


def _multi(files: list[UploadFile], format: str, stem: str, run: Any) -> FileResponse:
    """Save every upload (numbered: two may share a name), run ``run(paths, dst)``, answer
    the result."""
    ext = "." + format.lower().lstrip(".")
    with workdir(keep=True) as work:
        paths = []
        for i, upload in enumerate(files):
            path = work.save_upload(upload)
            paths.append(path.rename(path.with_name(f"{i}-{path.name}")))
        dst = work.path / (stem + ext)
        run(paths, dst)
    return file_response(dst, work, stem + ext)


@router.post("/v1/edit/mix", response_class=FileResponse, responses=MULTI_RESPONSES)
def edit_mix(
    files: FilesForm,
    gains_db: Annotated[str | None, Form(description="Gain per file in dB, comma-separated, "
                                         "e.g. 0,-6.")] = None,
    offsets_s: Annotated[str | None, Form(description="Start per file in seconds, "
                                          "comma-separated, e.g. 0,1.5.")] = None,
    format: FormatForm = "wav",
    subtype: SubtypeForm = None,
) -> FileResponse:
    """Mix the uploads with per-file gains and offsets (``wavesmith edit mix``)."""
    gains, offsets = (edit.parse_numbers(gains_db, "gains_db"),
                      edit.parse_numbers(offsets_s, "offsets_s"))
    return _multi(files, format, "mix", lambda paths, dst: edit.mix_files(
        paths, dst, gains_db=gains, offsets_s=offsets, subtype=subtype))


@router.post("/v1/edit/concat", response_class=FileResponse, responses=MULTI_RESPONSES)
def edit_concat(
    files: FilesForm,
    crossfade_s: Annotated[float, Form(description="Seconds of equal-power crossfade at "
                                       "each join.")] = 0.0,
    format: FormatForm = "wav",
    subtype: SubtypeForm = None,
) -> FileResponse:
    """Splice the uploads end to end (``wavesmith edit concat``)."""
    return _multi(files, format, "concat", lambda paths, dst: edit.concat_files(
        paths, dst, crossfade_s=crossfade_s, subtype=subtype))
