"""Read a YAML config file (training configs of the digit and music models) with one-line
errors; kept free of torch so the CLI can inspect a config cheaply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from wavesmith.errors import AudioFileError, AudioValueError

__all__ = ["read_config_yaml"]


def read_config_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML config file.

    Raises
    ------
    AudioFileError
        If the file cannot be read.
    AudioValueError
        If it is not valid YAML or not a mapping of field: value.
    """
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise AudioFileError(f"{path}: cannot read config ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise AudioValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(values, dict):
        raise AudioValueError(f"{path}: a config must be a mapping of field: value")
    return values
