"""Long uploads as jobs (``/v1/jobs/{id}``) and WebSocket limits, on a real server.

The server here is started with low limits (a 20-s job threshold, two pending jobs, 2-s
streams, 64-KiB messages) and its own ``TMPDIR``, so that the tests can see that a job's upload
folder is gone once the job has ended. The queue itself is also tested in-process.

Decision on bad input: an upload that cannot be read is refused at once (415/422, the header is
probed before any job is made, even with ``job=true``); only a failure while decoding makes a
``failed`` job (tested on the queue, since every corrupt file of the bad-input corpus is already
caught by the probe).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import websocket

from tests.conftest import running_server
from tests.speech import _long_input
from wavesmith import io
from wavesmith.errors import AudioFileError
from wavesmith.service.jobs import Job, JobQueue, JobSettings, QueueFullError
from wavesmith.speech import normalize_text, parse_srt

TIMEOUT_S = 120.0          # s, any one request or job
THRESHOLD_S = 20.0         # s of audio; longer uploads become jobs on this server
STREAM_MAX_S = 2.0         # s of audio per WebSocket stream on this server
MESSAGE_MAX_BYTES = 65_536  # bytes per WebSocket message on this server
LONG_CLIPS = ["jfk.flac", "librispeech_1089-134686-0000.flac", "cmu_arctic_us_aew_a0001.wav"]


# -- the queue, in-process ----------------------------------------------------------------
def test_queue_runs_fails_and_forgets() -> None:
    q = JobQueue(JobSettings(max_pending=4, keep_jobs=2))
    cleaned: list[str] = []
    try:
        ok = q.submit(lambda job: {"n": 1}, kind="demo", cleanup=lambda: cleaned.append("ok"))
        assert ok["status"] == "queued" and ok["progress"] is None

        def broken(job: object) -> None:
            raise AudioFileError("take3.wav: truncated")

        bad = q.submit(broken, kind="demo", duration_s=10.0,
                       cleanup=lambda: cleaned.append("bad"))
        assert q.wait(ok["id"], 5.0)["result"] == {"n": 1}
        failed = q.wait(bad["id"], 5.0)
        assert failed["status"] == "failed" and failed["progress"] == 0.0
        assert failed["error"] == {"type": "AudioFileError", "message": "take3.wav: truncated"}
        assert "result" not in failed and sorted(cleaned) == ["bad", "ok"]
        third = q.submit(lambda job: None, kind="demo")
        q.wait(third["id"], 5.0)
        assert q.get(ok["id"]) is None  # keep_jobs=2: the oldest finished job is forgotten
        assert q.cancel(bad["id"])["status"] == "failed" and q.get(bad["id"]) is None
        assert q.cancel("nope") is None
    finally:
        q.shutdown()


def test_queue_bounds_cancels_and_reports_progress() -> None:
    q = JobQueue(JobSettings(max_pending=2))
    gate, cleaned = threading.Event(), []

    def slow(job: Job) -> str:
        job.report(5.0)
        gate.wait(5.0)
        job.report(10.0)  # raises JobCancelled once cancelled
        return "finished"

    try:
        running = q.submit(slow, kind="demo", duration_s=10.0, cleanup=lambda: cleaned.append(1))
        queued = q.submit(slow, kind="demo", duration_s=10.0, cleanup=lambda: cleaned.append(2))
        with pytest.raises(QueueFullError, match="2 jobs are queued or running"):
            q.submit(slow, kind="demo")
        deadline = time.monotonic() + 5.0
        while q.get(running["id"])["progress"] != 0.5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert q.get(running["id"])["status"] == "running"
        assert q.cancel(queued["id"])["status"] == "cancelled" and cleaned == [2]
        assert q.cancel(running["id"])["cancel_requested"] is True
        gate.set()
        assert q.wait(running["id"], 5.0)["status"] == "cancelled" and cleaned == [2, 1]
    finally:
        q.shutdown()
    with pytest.raises(QueueFullError, match="shutting down"):
        q.submit(slow, kind="demo")


# -- a real server with low limits --------------------------------------------------------
@pytest.fixture(scope="module")
def job_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``wavesmith serve`` with low job and stream limits; yields (base URL, its TMPDIR)."""
    tmp = tmp_path_factory.mktemp("job_server_tmp")
    env = {**os.environ, "TMPDIR": str(tmp), "WAVESMITH_JOB_THRESHOLD_S": str(THRESHOLD_S),
           "WAVESMITH_MAX_JOBS": "2", "WAVESMITH_STREAM_MAX_S": str(STREAM_MAX_S),
           "WAVESMITH_STREAM_MAX_MESSAGE_BYTES": str(MESSAGE_MAX_BYTES)}
    with running_server(env=env, stop_timeout_s=20) as url:
        yield url, tmp


@pytest.fixture(scope="module")
def long_wav(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~32 s of real read speech (three sentences, noise between them), 16 kHz mono WAV."""
    audio, _ = _long_input.build(shared_data, LONG_CLIPS)
    path = tmp_path_factory.mktemp("long") / "three_sentences.wav"
    io.save(audio, path)
    return path


def post(url: str, path: Path, **form: str) -> httpx.Response:
    with open(path, "rb") as fh:
        return httpx.post(f"{url}/v1/transcribe", files={"file": (path.name, fh)}, data=form,
                          timeout=TIMEOUT_S)


def wait_for(url: str, location: str) -> tuple[dict, list[tuple[str, float | None]]]:
    """Poll a job until it has finished; return its record and the (status, progress) seen."""
    seen, deadline = [], time.monotonic() + TIMEOUT_S
    while True:
        r = httpx.get(url + location, timeout=TIMEOUT_S)
        assert r.status_code == 200, r.text
        doc = r.json()
        seen.append((doc["status"], doc["progress"]))
        if doc["status"] in ("done", "failed", "cancelled"):
            return doc, seen
        assert time.monotonic() < deadline, f"job still {doc['status']} after {TIMEOUT_S} s"
        time.sleep(0.2)


def leftover_uploads(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("wavesmith-req-*"))


@pytest.mark.integration
def test_long_upload_becomes_job(job_server: tuple[str, Path], long_wav: Path) -> None:
    url, tmp = job_server
    t0 = time.monotonic()
    r = post(url, long_wav, format="srt")
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert job["status"] == "queued" and job["url"] == f"/v1/jobs/{job['id']}"
    assert r.headers["location"] == job["url"] and job["file"] == "three_sentences.wav"
    assert job["result_url"] == f"{job['url']}?format=srt"
    assert job["duration_s"] == pytest.approx(32.0, abs=1.0)
    early = httpx.get(url + job["result_url"], timeout=TIMEOUT_S)  # 32 s take seconds to decode
    assert early.status_code == 409 and early.json()["error"]["type"] == "JobNotDone"
    doc, seen = wait_for(url, r.headers["location"])
    wall_s = time.monotonic() - t0
    assert doc["status"] == "done", doc
    assert {s for s, _ in seen} <= {"queued", "running", "done"}
    assert all(p is None or 0.0 <= p <= 1.0 for _, p in seen) and doc["progress"] == 1.0
    assert doc["created_s"] <= doc["started_s"] <= doc["finished_s"]
    assert leftover_uploads(tmp) == []  # the job's upload folder went when the job ended

    result = doc["result"]
    assert result["file"] == "three_sentences.wav" and result["info"]["engine"] == "whisper"
    assert result["info"]["duration_s"] == pytest.approx(job["duration_s"])
    starts = [s["start_s"] for s in result["segments"]]
    assert len(starts) >= 3 and starts == sorted(starts)
    assert all(s["start_s"] < s["end_s"] <= job["duration_s"] + 0.1 for s in result["segments"])
    text = normalize_text(result["text"])
    for phrase in ("ask not what your country can do for you", "stew for dinner",
                   "danger trail"):
        assert phrase in text, text

    srt = httpx.get(url + job["result_url"], timeout=TIMEOUT_S)
    assert srt.status_code == 200 and srt.headers["content-type"].startswith(
        "application/x-subrip")
    cues = parse_srt(srt.text)
    assert len(cues) == len(result["segments"])
    assert cues[0].start_s == pytest.approx(starts[0], abs=0.001)
    print(f"\n32-s job: {wall_s:.1f} s from upload to done ({32.0 / wall_s:.1f}x real time)")


@pytest.mark.integration
def test_short_upload_is_answered_directly(job_server: tuple[str, Path],
                                           shared_data: Path) -> None:
    url, _ = job_server
    r = post(url, shared_data / "speech/sentences/librispeech_1089-134691-0000.flac")
    assert r.status_code == 200, r.text  # 2.1 s < the 20-s threshold: job=auto answers now
    assert normalize_text(r.json()["text"]) == "he could wait no longer"
    r = post(url, shared_data / "speech/sentences/librispeech_1089-134691-0000.flac",
             job="sometimes")
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "job='sometimes'; choose auto, true or false"


def test_unknown_job_is_404(job_server: tuple[str, Path]) -> None:
    url, _ = job_server
    for method in ("GET", "DELETE"):
        r = httpx.request(method, f"{url}/v1/jobs/0123456789abcdef", timeout=TIMEOUT_S)
        assert r.status_code == 404
        assert r.json()["error"]["type"] == "JobNotFound"
        assert "no job '0123456789abcdef'" in r.json()["error"]["message"]


def test_corrupt_upload_is_refused_before_any_job(job_server: tuple[str, Path],
                                                  tmp_path: Path) -> None:
    url, tmp = job_server
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF not really a wave file" * 10)
    r = post(url, junk, job="true")
    assert r.status_code in (415, 422), r.text
    message = r.json()["error"]["message"]
    assert "junk.wav" in message and "wavesmith-req-" not in message
    assert leftover_uploads(tmp) == []


@pytest.mark.integration
def test_full_queue_is_503_and_jobs_cancel(job_server: tuple[str, Path], long_wav: Path) -> None:
    url, tmp = job_server
    first, second = post(url, long_wav, job="true"), post(url, long_wav, job="true")
    assert first.status_code == second.status_code == 202
    third = post(url, long_wav)
    assert third.status_code == 503 and third.headers["retry-after"] == "30"
    assert third.json()["error"]["type"] == "QueueFull"
    assert "2 jobs are queued or running, the limit is 2" in third.json()["error"]["message"]

    r = httpx.delete(url + second.headers["location"], timeout=TIMEOUT_S)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"  # it was queued
    r = httpx.delete(url + first.headers["location"], timeout=TIMEOUT_S)
    assert r.status_code == 200 and r.json()["status"] == "running"  # decoding for seconds
    assert r.json()["cancel_requested"] is True
    doc, _ = wait_for(url, first.headers["location"])
    assert doc["status"] in ("cancelled", "done")  # a running job stops at its next chunk
    assert leftover_uploads(tmp) == []
    for response in (first, second):  # DELETE of a finished job forgets it
        assert httpx.delete(url + response.headers["location"]).status_code == 200
        assert httpx.get(url + response.headers["location"]).status_code == 404


# -- WebSocket limits ---------------------------------------------------------------------
def ws_url(url: str, **query: object) -> str:
    return url.replace("http://", "ws://") + "/v1/asr/stream?" + "&".join(
        f"{k}={v}" for k, v in query.items())


def error_and_close_code(ws: websocket.WebSocket) -> tuple[dict, int]:
    """The error message the server sends, then the code of its close frame."""
    msg = json.loads(ws.recv())
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    return msg, int.from_bytes(data[:2], "big")


@pytest.mark.parametrize("rate", [4_000, 96_000])
def test_stream_rate_outside_8_to_48_khz_is_refused(job_server: tuple[str, Path],
                                                    rate: int) -> None:
    ws = websocket.create_connection(ws_url(job_server[0], rate=rate), timeout=TIMEOUT_S)
    try:
        msg, code = error_and_close_code(ws)
    finally:
        ws.close()
    assert code == 1008
    assert msg == {"type": "error", "error": {"type": "InvalidAudioError", "message":
                   f"rate={rate} Hz is outside the 8000-48000 Hz accepted for streams; "
                   "send PCM at 16000 Hz (or any rate in that range)"}}


def test_stream_length_and_message_size_are_capped(job_server: tuple[str, Path]) -> None:
    rate = 16_000
    silence = np.zeros(rate // 2, "<i2").tobytes()  # 0.5 s per message
    ws = websocket.create_connection(ws_url(job_server[0], rate=rate), timeout=TIMEOUT_S)
    try:
        assert json.loads(ws.recv())["type"] == "ready"
        for _ in range(round(STREAM_MAX_S / 0.5) + 1):  # one message past the limit
            ws.send_binary(silence)
        msg, code = error_and_close_code(ws)
    finally:
        ws.close()
    assert code == 1008 and msg["error"]["type"] == "AudioValueError"
    assert "stream is longer than the limit of 2 s of audio" in msg["error"]["message"]

    ws = websocket.create_connection(ws_url(job_server[0], rate=rate), timeout=TIMEOUT_S)
    try:
        assert json.loads(ws.recv())["type"] == "ready"
        ws.send_binary(bytes(MESSAGE_MAX_BYTES + 2))
        msg, code = error_and_close_code(ws)
    finally:
        ws.close()
    assert code == 1008 and msg["error"]["message"] == (
        f"binary message of {MESSAGE_MAX_BYTES + 2} bytes is over the limit of "
        f"{MESSAGE_MAX_BYTES} bytes; send smaller frames")
