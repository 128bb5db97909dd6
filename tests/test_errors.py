"""The exception tree: builtin compatibility and HTTP mapping."""

from __future__ import annotations

import pytest

from wavesmith import errors


@pytest.mark.parametrize(("cls", "builtin"), [
    (errors.AudioFileError, OSError), (errors.UnsupportedFormatError, OSError),
    (errors.OverwriteError, FileExistsError), (errors.AudioValueError, ValueError),
    (errors.InvalidAudioError, ValueError), (errors.SampleRateError, ValueError),
    (errors.ModelNotFoundError, FileNotFoundError),
])
def test_errors_are_also_builtins(cls: type, builtin: type) -> None:
    assert issubclass(cls, errors.WavesmithError) and issubclass(cls, builtin)


@pytest.mark.parametrize(("exc", "status"), [
    (errors.AudioFileError("x"), 422), (errors.InvalidAudioError("x"), 422),
    (errors.UnsupportedFormatError("x"), 415), (errors.MissingToolError("x"), 503),
    (errors.ModelNotFoundError("x"), 503), (errors.SampleRateError("x"), 422),
])
def test_http_status(exc: errors.WavesmithError, status: int) -> None:
    assert errors.http_status(exc) == status
