"""Upload handling shared by every endpoint: a per-request folder, safe names, file answers.

A router saves the upload with :meth:`Workdir.save_upload`, calls the core on the saved path,
and answers with :func:`file_response` (which removes the folder once the answer is sent).
Inside ``with workdir() as work:``, wavesmith errors are re-raised with the temporary folder
removed from their message, so clients see their own file name. A background job that needs
the upload after the request calls :meth:`Workdir.hand_over` inside the block and removes the
folder itself when it ends.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from wavesmith.errors import WavesmithError

__all__ = ["MEDIA_TYPES", "Workdir", "file_response", "workdir"]

MEDIA_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg",
               ".oga": "audio/ogg", ".opus": "audio/ogg", ".mp3": "audio/mpeg",
               ".aiff": "audio/aiff", ".aif": "audio/aiff", ".w64": "audio/x-w64",
               ".caf": "audio/x-caf", ".m4a": "audio/mp4", ".mp4": "audio/mp4",
               ".aac": "audio/aac", ".mid": "audio/midi", ".png": "image/png",
               ".json": "application/json", ".srt": "application/x-subrip",
               ".vtt": "text/vtt"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Workdir:
    """A temporary folder for one request; messages show names relative to it."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="wavesmith-req-"))
        self.handed_over = False  # True: the ``with workdir()`` block leaves the folder alone

    def save_upload(self, upload: UploadFile) -> Path:
        """Save the upload under its own (sanitised) base name; return the path."""
        name = _SAFE_NAME.sub("_", Path(upload.filename or "upload").name).lstrip(".") or "upload"
        dst = self.path / name
        with open(dst, "wb") as fh:
            shutil.copyfileobj(upload.file, fh, length=1 << 20)
        return dst

    def relative(self, message: str) -> str:
        """``message`` with this folder removed from the paths in it."""
        return message.replace(f"{self.path}/", "")

    def hand_over(self) -> Workdir:
        """Keep the folder after the ``with workdir()`` block; the new owner calls :meth:`remove`.

        Used to give an upload to a background job: if the hand-over itself fails (e.g. the
        job queue is full), the caller must still call :meth:`remove`.
        """
        self.handed_over = True
        return self

    def remove(self) -> None:
        """Delete the folder and everything in it."""
        shutil.rmtree(self.path, ignore_errors=True)


@contextmanager
def workdir(keep: bool = False) -> Iterator[Workdir]:
    """A request folder, removed on exit unless ``keep`` and the block succeeded (then
    :func:`file_response` removes it after the answer is sent).

    A folder given away with :meth:`Workdir.hand_over` inside the block is never removed here.
    """
    work = Workdir()
    done = False
    try:
        yield work
        done = True
    except WavesmithError as exc:
        raise type(exc)(work.relative(str(exc))) from exc
    finally:
        if not work.handed_over and not (keep and done):
            work.remove()


def file_response(path: Path, work: Workdir, filename: str) -> FileResponse:
    """Answer with ``path`` (media type from its extension); remove ``work`` afterwards."""
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix.lower(),
                                                         "application/octet-stream"),
                        filename=filename, background=BackgroundTask(work.remove))
