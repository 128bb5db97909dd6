"""Output helpers for the CLI: consoles, the error line, JSON, and a lazy progress bar."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

# Off a terminal, rich would wrap tables at 80 columns; pipes get long lines instead.
T = TypeVar("T")
R = TypeVar("R")

out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)

PROGRESS_DELAY_S = 2.0  # seconds of work before a progress bar appears


@dataclass
class CliState:
    """Global options, shared with every command through ``ctx.obj``."""

    json: bool = False
    quiet: bool = False
    verbose: bool = False
    debug: bool = False


def error_line(message: str) -> None:
    """Print ``wavesmith: error: <message>`` on stderr, one line, no markup."""
    err.print(f"wavesmith: error: {message}", markup=False, highlight=False)


def each_file(files: Iterable[T], work: Callable[[T], R]) -> tuple[list[R], int]:
    """Run ``work`` on every file; name each failing one on stderr and carry on.

    Returns the results of the files that worked and the number that failed (a batch still
    exits non-zero when that number is not 0).
    """
    from wavesmith.errors import WavesmithError

    results: list[R] = []
    failed = 0
    for f in files:
        try:
            results.append(work(f))
        except WavesmithError as exc:
            error_line(str(exc))
            failed += 1
    return results, failed


def to_jsonable(value: Any) -> Any:
    """Dataclasses, paths and non-finite floats turned into plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def print_json(value: Any) -> None:
    """Print exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2) + "\n")
    sys.stdout.flush()


@contextmanager
def progress_bar(label: str, *, enabled: bool) -> Iterator[Callable[[float, float], None]]:
    """Yield a ``progress(done_s, total_s)`` callback that draws a bar on stderr.

    The bar appears only once the work has run for :data:`PROGRESS_DELAY_S` seconds, only
    when stderr is a terminal and ``enabled`` is true; it measures seconds of audio.
    """
    started = time.monotonic()
    bar: Progress | None = None
    task = None

    def update(done_s: float, total_s: float) -> None:
        nonlocal bar, task
        if not enabled or not err.is_terminal:
            return
        if bar is None:
            if time.monotonic() - started < PROGRESS_DELAY_S:
                return
            bar = Progress(TextColumn("{task.description}"), BarColumn(),
                           TextColumn("{task.completed:.0f}/{task.total:.0f} s of audio"),
                           TimeRemainingColumn(), console=err, transient=True)
            bar.start()
            task = bar.add_task(label, total=max(total_s, 1e-9))
        assert task is not None
        bar.update(task, completed=done_s, total=max(total_s, done_s, 1e-9))

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()
