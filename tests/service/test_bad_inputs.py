"""The service answers 4xx with a JSON body for every bad upload."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import SERVER_MAX_UPLOAD_MB
from tests.make_bad_inputs import CASES

# Path problems (missing file, directory, unreadable) cannot travel in an upload; the service's
# counterpart, a request without the `file` field, is tested below.
UPLOADABLE = sorted(n for n in CASES if n not in {"missing.wav", "a_directory.wav",
                                                  "unreadable.wav"})


@pytest.mark.parametrize("name", UPLOADABLE)
@pytest.mark.parametrize("endpoint", ["/v1/info", "/v1/convert"])
def test_bad_upload_gets_4xx_json(server: str, bad_corpus: Path, name: str,
                                  endpoint: str) -> None:
    phrase = CASES[name][1]
    data = (bad_corpus / name).read_bytes()
    r = httpx.post(server + endpoint, files={"file": (name, data)}, timeout=30)
    assert 400 <= r.status_code < 500, r.text
    body = r.json()
    assert body["error"]["type"] == CASES[name][0]
    message = body["error"]["message"]
    assert message.startswith(f"{name}: "), message  # names the upload, not a temp path
    assert phrase in message
    assert "\n" not in message


@pytest.mark.parametrize("endpoint", ["/v1/info", "/v1/convert"])
def test_missing_file_field_is_422(server: str, endpoint: str) -> None:
    r = httpx.post(server + endpoint, data={"format": "wav"}, timeout=30)
    assert r.status_code == 422
    assert "file" in r.text


def test_oversized_upload_is_413(server: str) -> None:
    size = int((SERVER_MAX_UPLOAD_MB + 1) * 1_000_000)
    r = httpx.post(server + "/v1/info", files={"file": ("big.wav", b"\0" * size)}, timeout=30)
    assert r.status_code == 413
    assert "limit" in r.json()["error"]["message"]


def test_oversized_chunked_upload_is_413(server: str) -> None:
    boundary = "wavesmithboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode()

    def body():  # no Content-Length: the server must count bytes as they arrive
        yield head
        for _ in range(int(SERVER_MAX_UPLOAD_MB) + 2):
            yield b"\0" * 1_000_000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = httpx.post(server + "/v1/info", content=body(), timeout=30,
                   headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413
