"""Fault injection helpers for the end-to-end fault tests (``test_fault_injection.py``).

Each helper breaks one thing the way it breaks in production: a lake partition rewritten
with pyarrow, a restated platform export landed through the source's own ``write()``, a
tracker re-delivering events it already sent, a publish killed half-way. None of them
knows the expected outcome; the tests assert it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from pipelines import lake
from pipelines.config import Settings
from pipelines.publish import PAUSE_ENV
from pipelines.quality.result import Failure, GateResult
from pipelines.sources import ParseContext, get_source

ROOT = Path(__file__).resolve().parents[2]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def find_failure(gate: GateResult, expectation: str, table: str) -> Failure:
    """The gate's failure of ``expectation`` on ``table``; fails the test if there is none."""
    for f in gate.failures:
        if (f.expectation, f.table) == (expectation, table):
            return f
    named = sorted({(f.expectation, f.table) for f in gate.failures})
    raise AssertionError(f"{expectation} on {table} not among the gate's failures: {named}")


def rewrite_partition(
    settings: Settings,
    table: str,
    source: str,
    day: dt.date,
    change: Callable[[pd.DataFrame], pd.DataFrame],
) -> None:
    """Rewrite one lake partition in place (every column kept, types unchanged)."""
    path = lake.partition_path(settings, table, source, day)
    original = pq.read_table(path)
    schema = pa.schema([f.with_nullable(True) for f in original.schema])
    changed = change(original.to_pandas())
    pq.write_table(pa.Table.from_pandas(changed, schema=schema, preserve_index=False), path)


def landed_rows(settings: Settings, source: str, day: dt.date) -> pd.DataFrame:
    """Canonical rows of every file landed for ``source`` on ``day``, parsed by the source."""
    src = get_source(source)
    ctx = ParseContext.from_settings(settings, source, day)
    folder = settings.paths.landing / source / day.isoformat()
    frames = [src.parse(p, ctx) for p in sorted(folder.iterdir()) if p.is_file()]
    return pd.concat(frames, ignore_index=True)


def land_export(
    settings: Settings, source: str, day: dt.date, rows: pd.DataFrame, suffix: str
) -> list[Path]:
    """Write canonical ``rows`` in the source's real format (its ``write()``) into landing.

    The files are named ``<stem>_<suffix><ext>`` (a re-delivery beside the first files)
    and get a modification time after every file already there.
    """
    src = get_source(source)
    ctx = ParseContext.from_settings(settings, source, day)
    folder = settings.paths.landing / source / day.isoformat()
    later = max(p.stat().st_mtime for p in folder.iterdir()) + 3600
    out = []
    with tempfile.TemporaryDirectory(prefix=".fault-", dir=settings.paths.data_dir) as tmp:
        for p in src.write(rows, Path(tmp), ctx):
            ext = "".join(p.suffixes)
            target = folder / f"{p.name[: -len(ext)]}_{suffix}{ext}"
            shutil.move(p, target)
            os.utime(target, (later, later))
            out.append(target)
    return out


def redeliver_events(
    settings: Settings, into_day: dt.date, from_days: list[dt.date], every: int
) -> tuple[Path, set[str]]:
    """A tracker re-sends events it already delivered (at-least-once): a second file in
    ``landing/events/<into_day>/`` repeating, line for line, every conversion event and
    every ``every``-th other event of ``from_days``. Returns the file and the repeated ids.
    """
    conversions = {"Order Completed", "Lead Generated", "Form Submitted", "Signed Up"}
    lines, ids = [], set()
    for day in from_days:
        for path in sorted((settings.paths.landing / "events" / day.isoformat()).iterdir()):
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
                event = json.loads(line)
                if event.get("event") in conversions or i % every == 0:
                    lines.append(line)
                    ids.add(event["messageId"])
    target = settings.paths.landing / "events" / into_day.isoformat() / "events-redelivery.jsonl"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target, ids


def cli(settings: Settings, *args: str):
    """Run the ``attribution`` command line in-process on this data dir."""
    from pipelines.cli import app

    return CliRunner().invoke(app, ["--data-dir", str(settings.paths.data_dir), *args])


def publish_killed_at(settings: Settings, step: str) -> None:
    """Start ``publish`` in a child process, let it pause at ``step``, SIGKILL it there."""
    code = (
        "from pipelines.config import load_settings; from pipelines.publish import publish; "
        f"publish(load_settings(data_dir={str(settings.paths.data_dir)!r}), run_id='killed')"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, PAUSE_ENV: step},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == f"paused at {step}"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
