"""The HTTP service: a thin FastAPI layer over the same core as the CLI."""

from wavesmith.service.app import DEFAULT_MAX_UPLOAD_BYTES, create_app, run

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "create_app", "run"]
