"""Shared fixtures: seeded RNG, real data, the bad-input corpus, the CLI, a real server."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.make_bad_inputs import make_corpus

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("WAVESMITH_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def rng() -> np.random.Generator:
    """One seeded generator per test."""
    return np.random.default_rng(20261125)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real recordings); skipped with a reason only where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (set WAVESMITH_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def bad_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bad-input corpus of ``tests/make_bad_inputs.py``, written once per session."""
    return make_corpus(tmp_path_factory.mktemp("bad_inputs"))


def file_digest(path: Path) -> str | None:
    """SHA-256 of a regular file (None for anything else), to prove inputs are untouched."""
    if not path.is_file():
        return None
    with without_file_capabilities():
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except PermissionError:
            return f"mode:{path.stat().st_mode:o}:{path.stat().st_size}"


# -- running as root: make "permission denied" real -------------------------------------
# Root reads any file whatever its mode, so a chmod-0 file is not unreadable to it. Dropping
# CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the thread's effective set makes the kernel
# check file modes for root too; the capabilities stay permitted and are restored afterwards.
_CAP_VERSION_3 = 0x20080522
_DAC_CAPS = (1 << 1) | (1 << 2)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


@contextmanager
def without_file_capabilities() -> Iterator[None]:
    """Within the block, file permission bits apply to this thread even when it is root."""
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapHeader(_CAP_VERSION_3, 0), (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        pytest.skip("cannot read capabilities to drop root's file access")
    saved = data[0].effective
    data[0].effective = saved & ~_DAC_CAPS
    if libc.capset(ctypes.byref(header), data) != 0:
        pytest.skip("cannot drop root's file-access capabilities here")
    try:
        yield
    finally:
        data[0].effective = saved
        libc.capset(ctypes.byref(header), data)


def unprivileged_prefix() -> list[str]:
    """Command prefix that runs a child without root's file-access override (empty if not root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


# -- the CLI, as a user runs it ----------------------------------------------------------------
def run_cli(*args: str | os.PathLike[str], unprivileged: bool = False,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m wavesmith ARGS`` in a subprocess and capture its output."""
    prefix = unprivileged_prefix() if unprivileged else []
    return subprocess.run([*prefix, sys.executable, "-m", "wavesmith", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "COLUMNS": "200", "CI": "1"}, check=False)


# -- the service, as a real server on loopback --------------------------------------------------
SERVER_MAX_UPLOAD_MB = 5.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None,
                   stop_timeout_s: float = 10.0) -> Iterator[str]:
    """Run ``wavesmith serve ARGS`` on a free loopback port until /health answers; yield its
    base URL; terminate it (SIGTERM, then kill) on exit."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wavesmith", "serve", "--host", "127.0.0.1", "--port", str(port),
         *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"server exited early with {proc.returncode}: {out[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not answer /health within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """Start ``wavesmith serve`` on a free loopback port; yield its base URL."""
    with running_server("--max-upload-mb", str(SERVER_MAX_UPLOAD_MB)) as url:
        yield url
