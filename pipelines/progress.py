"""Progress for long work: rich bars in a terminal, plain lines elsewhere (CI, Airflow logs).

Steps report progress through one callback shape, ``progress(event, **info)``, so the
same step code serves the CLI, Airflow and tests. Events used by the steps:

- ``start``  ``step=<name>, total=<n or None>``: a step begins (n units of work if known)
- ``advance`` ``step=<name>, item=<what was done>, advance=1``: one unit done
- ``done``   ``step=<name>, summary=<text>``: the step finished
- ``info``   ``message=<text>``: a line worth showing

Ingestion also reports ``file`` (source, day, file, outcome, rows, message) and
``problem`` (message), the build ``node_done`` (name, status) and ``build_done``
(success); ``normalise`` maps them onto the events above.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("pipelines")


class ProgressCallback(Protocol):
    def __call__(self, event: str, **info: Any) -> None: ...


def null_progress(event: str, **info: Any) -> None:
    """A progress callback that shows nothing."""


def normalise(event: str, info: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Map step-specific events onto start/advance/done/info."""
    if event == "file":
        item = f"{info.get('source')}/{info.get('day')} {info.get('outcome')}"
        return "advance", {"step": "ingest", "item": item, "advance": 1}
    if event == "problem":
        return "info", {"message": f"problem: {info.get('message')}"}
    if event == "partition":
        return "ignore", {}
    if event == "node_done":
        return "advance", {"step": "build", "item": f"{info.get('name')} {info.get('status')}"}
    if event == "build_done":
        return "done", {"step": "build", "summary": "ok" if info.get("success") else "failed"}
    return event, info


class PlainProgress:
    """One line per step start and end, and every n-th item: for logs and pipes."""

    def __init__(self, write: Callable[[str], None] | None = None, every: int = 25):
        self._write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self._every = every
        self._counts: dict[str, int] = {}
        self._totals: dict[str, int | None] = {}
        self._started: dict[str, float] = {}

    def __call__(self, event: str, **info: Any) -> None:
        event, info = normalise(event, info)
        step = str(info.get("step", ""))
        if event == "start":
            self._counts[step] = 0
            self._totals[step] = info.get("total")
            self._started[step] = time.monotonic()
            total = f" ({info['total']} items)" if info.get("total") else ""
            self._write(f"[{step}] started{total}")
        elif event == "advance":
            n = self._counts.get(step, 0) + int(info.get("advance", 1))
            self._counts[step] = n
            total = self._totals.get(step)
            if n % self._every == 0 or (total and n == total):
                of = f"/{total}" if total else ""
                self._write(f"[{step}] {n}{of} {info.get('item', '')}".rstrip())
        elif event == "done":
            secs = time.monotonic() - self._started.get(step, time.monotonic())
            summary = info.get("summary") or ""
            self._write(f"[{step}] done in {secs:.1f}s {summary}".rstrip())
        elif event == "info":
            self._write(str(info.get("message", "")))


class RichProgress:
    """Rich progress bars, one per step; use as a context manager."""

    def __init__(self, console: Any | None = None):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console or Console(stderr=True)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[item]}"),
            console=self.console,
            transient=False,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, event: str, **info: Any) -> None:
        event, info = normalise(event, info)
        step = str(info.get("step", ""))
        if event == "start":
            self._tasks[step] = self._progress.add_task(step, total=info.get("total"), item="")
        elif event == "advance" and step in self._tasks:
            self._progress.update(
                self._tasks[step],
                advance=int(info.get("advance", 1)),
                item=str(info.get("item", ""))[:60],
            )
        elif event == "done" and step in self._tasks:
            task = self._tasks[step]
            total = self._progress.tasks[task].total
            if total is None:
                self._progress.update(task, total=1, completed=1)
            else:
                self._progress.update(task, completed=total)
            self._progress.update(task, item=str(info.get("summary", ""))[:60])
        elif event == "info":
            self._progress.console.print(str(info.get("message", "")))


def terminal_progress(force_plain: bool = False) -> RichProgress | PlainProgress:
    """Rich bars when stderr is a terminal (and not under Airflow), plain lines otherwise."""
    import os

    interactive = sys.stderr.isatty() and not os.environ.get("AIRFLOW_CTX_DAG_ID")
    if interactive and not force_plain:
        return RichProgress()
    return PlainProgress()
