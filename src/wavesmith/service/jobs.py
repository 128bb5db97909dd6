"""A small in-process job queue for long requests: run a callable in the background, keep its
JSON result for a while.

A :class:`JobQueue` runs at most ``workers`` jobs at once (one by default: decoding already
uses every core) and holds at most ``max_pending`` jobs queued or running; one more raises
:class:`QueueFullError`, which the service answers with 503. Finished jobs (``done``,
``failed``, ``cancelled``) are kept ``keep_s`` seconds, and at most ``keep_jobs`` of them
(oldest forgotten first). Jobs live in this process only: a restart forgets them.

A job function takes its :class:`Job` and returns a JSON-serialisable result. It reports
progress with :meth:`Job.report` (seconds of audio done, seconds in total), which also raises
:class:`JobCancelled` once the job was cancelled, so a running job stops at its next report.
The ``cleanup`` given to :meth:`JobQueue.submit` runs exactly once when the job ends (done,
failed or cancelled, queued or running), *before* the final status is visible, so a client
that sees ``done`` knows the job's temporary files are gone.

Records (:meth:`JobQueue.get`) are plain dicts, copied under the lock::

    {"id": "3f2a...", "kind": "transcribe", "status": "running", "progress": 0.42,
     "duration_s": 3600.0, "created_s": 1764000000.1, "started_s": 1764000000.3,
     "finished_s": null, "file": "talk.flac"}

plus ``"result"`` once done and ``"error": {"type", "message"}`` once failed. Times ending in
``_s`` are Unix times in seconds; ``duration_s`` is seconds of input audio (None if unknown).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from wavesmith.errors import WavesmithError

__all__ = [
    "ACTIVE_STATUSES",
    "FINISHED_STATUSES",
    "Job",
    "JobCancelled",
    "JobQueue",
    "JobSettings",
    "QueueFullError",
    "env_number",
    "shutdown_all",
]

log = logging.getLogger("wavesmith.service.jobs")

DEFAULT_MAX_PENDING = 8       # jobs queued or running at once; one more is refused (503)
DEFAULT_WORKERS = 1           # jobs decoded at the same time
DEFAULT_KEEP_S = 3600.0       # seconds a finished job (and its result) is kept
DEFAULT_KEEP_JOBS = 100       # finished jobs kept at most; the oldest are forgotten first
SHUTDOWN_WAIT_S = 5.0         # s a stopping server waits for running jobs to end
ACTIVE_STATUSES = ("queued", "running")
FINISHED_STATUSES = ("done", "failed", "cancelled")

_N = TypeVar("_N", int, float)
_QUEUES: weakref.WeakSet[JobQueue] = weakref.WeakSet()  # live queues, for shutdown_all()


class QueueFullError(Exception):
    """The queue takes no more jobs now: ``max_pending`` are waiting, or it is shutting down."""


class JobCancelled(Exception):
    """Raised inside a job function by :meth:`Job.report` once the job was cancelled."""


def env_number(name: str, default: _N, environ: Mapping[str, str] | None = None) -> _N:
    """The number in environment variable ``name`` (same type as ``default``), or ``default``.

    Raises
    ------
    ValueError
        When the variable is set to something that is not such a number.
    """
    text = (os.environ if environ is None else environ).get(name, "").strip()
    if not text:
        return default
    try:
        return type(default)(text)
    except ValueError:
        kind = "an integer" if isinstance(default, int) else "a number"
        raise ValueError(f"{name}={text!r} is not {kind}") from None


@dataclass(frozen=True, slots=True)
class JobSettings:
    """Limits of a :class:`JobQueue` (see the module docstring)."""

    max_pending: int = DEFAULT_MAX_PENDING
    workers: int = DEFAULT_WORKERS
    keep_s: float = DEFAULT_KEEP_S
    keep_jobs: int = DEFAULT_KEEP_JOBS

    def __post_init__(self) -> None:
        for name in ("max_pending", "workers", "keep_jobs"):
            if getattr(self, name) < 1:
                raise ValueError(f"job setting {name}={getattr(self, name)} must be >= 1")
        if self.keep_s <= 0:
            raise ValueError(f"job setting keep_s={self.keep_s} s must be > 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JobSettings:
        """Settings from ``WAVESMITH_MAX_JOBS``, ``WAVESMITH_JOB_WORKERS``,
        ``WAVESMITH_JOB_KEEP_S`` and ``WAVESMITH_JOB_KEEP_COUNT`` (defaults where unset)."""
        return cls(max_pending=env_number("WAVESMITH_MAX_JOBS", DEFAULT_MAX_PENDING, environ),
                   workers=env_number("WAVESMITH_JOB_WORKERS", DEFAULT_WORKERS, environ),
                   keep_s=env_number("WAVESMITH_JOB_KEEP_S", DEFAULT_KEEP_S, environ),
                   keep_jobs=env_number("WAVESMITH_JOB_KEEP_COUNT", DEFAULT_KEEP_JOBS, environ))


@dataclass(eq=False, slots=True)
class Job:
    """One job: its state, progress and outcome. Fields change under the queue's lock."""

    id: str
    kind: str
    fn: Callable[[Job], Any]
    duration_s: float | None                 # seconds of input audio (None if unknown)
    meta: dict[str, Any]                     # extra JSON fields of the record (e.g. "file")
    cleanup: Callable[[], None] | None
    created_s: float                         # Unix time, seconds
    status: str = "queued"
    started_s: float | None = None
    finished_s: float | None = None
    done_s: float = 0.0                      # seconds of audio processed so far
    result: Any = None
    error: dict[str, str] | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    future: Future[None] | None = None

    @property
    def progress(self) -> float | None:
        """Fraction done, 0..1: ``done_s / duration_s`` (None when the duration is unknown)."""
        if self.status == "done":
            return 1.0
        if not self.duration_s or self.duration_s <= 0:
            return None
        return round(min(max(self.done_s / self.duration_s, 0.0), 1.0), 4)

    def report(self, done_s: float, total_s: float | None = None) -> None:
        """Progress callback: ``done_s`` of ``total_s`` seconds; raises :class:`JobCancelled`
        once the job was cancelled (call it between units of work)."""
        self.done_s = float(done_s)
        if total_s and not self.duration_s:
            self.duration_s = float(total_s)
        self.check_cancelled()

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if the job was cancelled."""
        if self.cancel_requested.is_set():
            raise JobCancelled(f"job {self.id} was cancelled")

    def record(self) -> dict[str, Any]:
        """The job as a JSON-ready dict (see the module docstring); call under the lock."""
        doc: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "status": self.status,
            "progress": self.progress, "duration_s": self.duration_s,
            "created_s": round(self.created_s, 3),
            "started_s": None if self.started_s is None else round(self.started_s, 3),
            "finished_s": None if self.finished_s is None else round(self.finished_s, 3),
            **self.meta,
        }
        if self.status == "running" and self.cancel_requested.is_set():
            doc["cancel_requested"] = True
        if self.status == "done":
            doc["result"] = self.result
        if self.error is not None:
            doc["error"] = dict(self.error)
        return doc


class JobQueue:
    """A bounded queue of background jobs run by a thread pool (see the module docstring).

    Parameters
    ----------
    settings : JobSettings, optional
        Limits; :meth:`JobSettings.from_env` when None.

    Examples
    --------
    >>> q = JobQueue(JobSettings(max_pending=2))
    >>> job_id = q.submit(lambda job: {"answer": 42}, kind="demo")["id"]
    >>> q.wait(job_id, timeout_s=5.0)["result"]
    {'answer': 42}
    >>> q.shutdown()
    """

    def __init__(self, settings: JobSettings | None = None) -> None:
        self.settings = settings or JobSettings.from_env()
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._pending = 0          # jobs submitted and not yet ended
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=self.settings.workers,
                                        thread_name_prefix="wavesmith-job")
        _QUEUES.add(self)

    # -- client side ---------------------------------------------------------------------
    def submit(self, fn: Callable[[Job], Any], *, kind: str, duration_s: float | None = None,
               meta: dict[str, Any] | None = None,
               cleanup: Callable[[], None] | None = None) -> dict[str, Any]:
        """Queue ``fn(job)``; return the new job's record (status ``queued``).

        Raises
        ------
        QueueFullError
            When ``max_pending`` jobs are queued or running, or the queue is shut down.
            ``cleanup`` is then *not* called: the caller still owns its resources.
        """
        job = Job(id=uuid.uuid4().hex, kind=kind, fn=fn, duration_s=duration_s,
                  meta=dict(meta or {}), cleanup=cleanup, created_s=time.time())
        with self._lock:
            if self._closed:
                raise QueueFullError("the server is shutting down; retry on the next one")
            if self._pending >= self.settings.max_pending:
                raise QueueFullError(f"{self._pending} jobs are queued or running, the "
                                     f"limit is {self.settings.max_pending}; retry later")
            self._prune()
            self._jobs[job.id] = job
            self._pending += 1
            job.future = self._pool.submit(self._run, job)
            return job.record()  # the worker needs the lock to start it: still "queued"

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job's record, or None when it is unknown or was forgotten."""
        with self._lock:
            self._prune()
            job = self._jobs.get(job_id)
            return None if job is None else job.record()

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """Cancel an active job, or forget a finished one; return its record (None: unknown).

        A queued job is cancelled at once. A running one gets ``cancel_requested`` and ends as
        ``cancelled`` at its next :meth:`Job.report` (it may still finish ``done`` first). A
        finished job is removed: later :meth:`get` calls answer None.
        """
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            if job.status in FINISHED_STATUSES:
                del self._jobs[job_id]
                return job.record()
            job.cancel_requested.set()
            if job.status == "running" or job.future is None or not job.future.cancel():
                return job.record()  # the worker ends it (and runs its cleanup)
        self._end(job, "cancelled")  # never started: end it here
        with self._lock:
            return job.record()

    def wait(self, job_id: str, timeout_s: float) -> dict[str, Any] | None:
        """Poll until the job has finished or ``timeout_s`` passed; return its last record."""
        deadline = time.monotonic() + timeout_s
        while True:
            record = self.get(job_id)
            if record is None or record["status"] in FINISHED_STATUSES \
                    or time.monotonic() > deadline:
                return record
            time.sleep(0.02)

    def counts(self) -> dict[str, int]:
        """How many known jobs are in each status."""
        with self._lock:
            out = dict.fromkeys(ACTIVE_STATUSES + FINISHED_STATUSES, 0)
            for job in self._jobs.values():
                out[job.status] += 1
            return out

    def shutdown(self, wait_s: float = SHUTDOWN_WAIT_S) -> None:
        """Refuse new jobs, cancel queued ones and stop running ones (idempotent).

        A running job ends at its next :meth:`Job.report`; after ``wait_s`` seconds the
        cleanups of jobs still running are run anyway, so that no upload outlives the server
        (uvicorn ends the process right after its shutdown hooks, without waiting for threads).
        """
        with self._lock:
            self._closed = True
            active = [j for j in self._jobs.values() if j.status in ACTIVE_STATUSES]
        for job in active:
            self.cancel(job.id)
        self._pool.shutdown(wait=False, cancel_futures=False)
        deadline = time.monotonic() + wait_s
        for job in active:
            while job.status in ACTIVE_STATUSES and time.monotonic() < deadline:
                time.sleep(0.05)
            self._cleanup(job)

    # -- worker side ---------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        with self._lock:
            if job.status != "queued" or job.cancel_requested.is_set():
                cancelled_early = True
            else:
                cancelled_early = False
                job.status, job.started_s = "running", time.time()
        if cancelled_early:
            self._end(job, "cancelled")
            return
        try:
            result = job.fn(job)
        except JobCancelled:
            self._end(job, "cancelled")
        except Exception as exc:
            if not isinstance(exc, WavesmithError):
                log.exception("job %s (%s) failed", job.id, job.kind)
            self._end(job, "failed", error={"type": type(exc).__name__, "message": str(exc)})
        else:
            self._end(job, "done", result=result)

    def _end(self, job: Job, status: str, *, result: Any = None,
             error: dict[str, str] | None = None) -> None:
        """Run the job's cleanup once, then publish its final status."""
        self._cleanup(job)
        with self._lock:
            if job.status in FINISHED_STATUSES:
                return
            job.status, job.finished_s = status, time.time()
            job.result, job.error, job.fn = result, error, _finished
            self._pending -= 1
            self._prune()

    def _cleanup(self, job: Job) -> None:
        """Run the job's cleanup if it has not run yet (exceptions are logged)."""
        with self._lock:
            cleanup, job.cleanup = job.cleanup, None
        if cleanup is not None:
            try:
                cleanup()
            except Exception:
                log.exception("cleanup of job %s failed", job.id)

    def _prune(self) -> None:
        """Forget finished jobs past ``keep_s`` or beyond ``keep_jobs``; call under the lock."""
        now = time.time()
        finished = sorted((j for j in self._jobs.values() if j.status in FINISHED_STATUSES),
                          key=lambda j: j.finished_s or 0.0)
        extra = len(finished) - self.settings.keep_jobs
        for i, job in enumerate(finished):
            if i < extra or now - (job.finished_s or now) > self.settings.keep_s:
                del self._jobs[job.id]


def _finished(job: Job) -> Any:
    """Stands in for a finished job's function, so its closure (and memory) can be freed."""
    raise RuntimeError(f"job {job.id} has already run")


def shutdown_all() -> None:
    """:meth:`JobQueue.shutdown` every live queue (the service calls it when it stops)."""
    for queue in list(_QUEUES):
        queue.shutdown()
