"""Write-audit-publish: snapshot the audited marts and swap them in atomically.

``publish`` refuses (``GateBlockedError``, exit 3) unless ``state/gate.json`` passed for
the CURRENT build: the build id in ``state/build.json`` and the warehouse file's
fingerprint must both match what the gate checked. The invariant lives here, so the
CLI, Airflow and tests can call ``publish`` freely.

A publication (``version`` = UTC timestamp + run id) is first written complete under
``published/versions/<version>.tmp-<pid>/`` — a DuckDB file (warehouse attached
READ_ONLY, the new file attached with ``STORAGE_VERSION`` from the settings so DuckDB 1.x
readers can open it, one ``CREATE TABLE AS`` per mart, plus ``publication_log``) and one
Parquet file per mart — verified (opened read-only, row counts compared), then renamed
to ``versions/<version>/``. Then it is swapped in:

- ``published/marts.duckdb``: a copy written as ``marts.duckdb.tmp-<version>`` and
  ``os.replace``d into place. Readers with the old file open keep reading it; new
  connections see the new one.
- ``published/parquet``: a symbolic link to ``versions/<version>/parquet``, replaced
  atomically (``os.replace`` of a new link), so a reader sees the whole old or the whole
  new set of files.

A crash at any point leaves ``marts.duckdb`` whole (old or new); the next publish
removes leftovers (``*.tmp-*``). The last ``publish.keep_versions`` versions are kept for
``rollback``. One publisher at a time (a lock file; a killed process releases it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.config import Settings
from pipelines.errors import GateBlockedError, PipelineError
from pipelines.quality import publication_log as plog
from pipelines.quality.result import GateResult, read_gate
from pipelines.quality.warehouse_tables import (
    PUBLICATION_LOG_TABLE,
    published_marts,
    read_build,
    resolve_table,
    warehouse_fingerprint,
)

TMP_MARK = ".tmp-"
# Test hook: the name of a step at which ``publish`` pauses (sleeps) so a test can kill
# the process there. Steps: "snapshot_written", "version_written", "db_swapped".
PAUSE_ENV = "ATTRIBUTION_TEST_PUBLISH_PAUSE_AT"


@dataclass
class PublishResult:
    run_id: str
    version: str
    published_at: str
    tables: dict[str, int]
    path: Path
    parquet_dir: Path
    removed_versions: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        rows = sum(self.tables.values())
        return f"version {self.version}: {len(self.tables)} tables, {rows:,} rows -> {self.path}"


def _pause(step: str) -> None:
    if os.environ.get(PAUSE_ENV) == step:
        print(f"paused at {step}", flush=True)
        time.sleep(3600)


@contextlib.contextmanager
def _publish_lock(settings: Settings) -> Generator[None]:
    settings.paths.published.mkdir(parents=True, exist_ok=True)
    lock = settings.paths.published / ".publish.lock"
    with lock.open("a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise PipelineError(
                f"{lock}: another publish or rollback is running; wait for it and retry."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def clean_leftovers(settings: Settings) -> list[str]:
    """Remove what an interrupted publish or rollback left (``*.tmp-*``). Call under lock."""
    removed = []
    for folder in (settings.paths.published, settings.paths.published_versions):
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if TMP_MARK not in p.name:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(str(p))
    return removed


def _gate_problem(settings: Settings, gate: GateResult | None) -> str | None:
    """Why the gate does not allow publishing the current build, or None."""
    if gate is None:
        return "no quality gate result (state/gate.json); run `attribution validate` first"
    if not gate.passed:
        names = ", ".join(sorted({f"{f.expectation} on {f.table}" for f in gate.failures}))
        return f"the quality gate of run {gate.run_id} failed ({names})"
    build = read_build(settings) or {}
    if build.get("build_id") != gate.build_id:
        return (
            f"the gate checked build {gate.build_id} but the current build is "
            f"{build.get('build_id')}; run `attribution validate` again"
        )
    if warehouse_fingerprint(settings) != gate.warehouse_fingerprint:
        return (
            f"{settings.paths.warehouse} changed after the gate checked it; "
            "run `attribution validate` again"
        )
    return None


def _version_name(run_id: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in run_id)
    return f"{stamp}-{safe}"


def publish(settings: Settings, run_id: str | None = None) -> PublishResult:
    """Publish the audited marts of the current build; see the module docstring."""
    gate = read_gate(settings)
    run_id = run_id or (gate.run_id if gate else uuid.uuid4().hex[:12])
    data_dates = gate.data_dates if gate else []
    build_id = (read_build(settings) or {}).get("build_id")
    with _publish_lock(settings):
        cleaned = clean_leftovers(settings)
        problem = _gate_problem(settings, gate)
        if problem:
            plog.append_entry(
                settings,
                plog.make_entry(
                    run_id,
                    stage="publish",
                    result=plog.BLOCKED,
                    data_dates=data_dates,
                    build_id=build_id,
                    failed_expectations=[
                        f"{f.expectation} on {f.table}" for f in (gate.failures if gate else [])
                    ],
                    message=problem,
                ),
            )
            raise GateBlockedError(
                f"Publication refused: {problem}; {settings.paths.published_db} is unchanged."
            )
        version = _version_name(run_id)
        entry = plog.make_entry(
            run_id,
            stage="publish",
            result=plog.PUBLISHED,
            data_dates=data_dates,
            build_id=build_id,
            version=version,
            message="published",
        )
        try:
            tables = _write_version(settings, version, [*plog.read_entries(settings), entry])
            _pause("version_written")
            _swap_in(settings, version)
        except Exception as exc:
            plog.append_entry(
                settings,
                plog.make_entry(
                    run_id,
                    stage="publish",
                    result=plog.FAILED,
                    data_dates=data_dates,
                    build_id=build_id,
                    version=version,
                    message=str(exc),
                ),
            )
            if isinstance(exc, PipelineError):
                raise
            raise PipelineError(
                f"Publishing {version} failed ({exc}); the previous publication is unchanged."
            ) from exc
        plog.append_entry(settings, entry)
        removed = _prune_versions(settings, keep=settings.publish.keep_versions, current=version)
    return PublishResult(
        run_id=run_id,
        version=version,
        published_at=entry["attempted_at"],
        tables=tables,
        path=settings.paths.published_db,
        parquet_dir=settings.paths.published_parquet,
        removed_versions=removed,
        cleaned=cleaned,
    )


def _sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _write_version(
    settings: Settings, version: str, log_rows: list[dict[str, Any]]
) -> dict[str, int]:
    """Write and verify ``versions/<version>/`` (DuckDB file + Parquet); return row counts."""
    versions = settings.paths.published_versions
    versions.mkdir(parents=True, exist_ok=True)
    work = versions / f"{version}{TMP_MARK}{os.getpid()}"
    work.mkdir()
    db = work / "marts.duckdb"
    storage = settings.publish.duckdb_storage_version
    counts: dict[str, int] = {}
    # within the configured threads and memory limit, spilling to the configured folder
    with duckdb.connect(config=settings.duckdb_connect_config()) as con:
        con.execute(f"attach {_sql_str(settings.paths.warehouse)} as wh (read_only)")
        con.execute(f"attach {_sql_str(db)} as snap (storage_version {_sql_str(storage)})")
        marts = published_marts(settings, con)
        if not marts:
            raise PipelineError(
                f"{settings.paths.warehouse}: no published marts found (no dbt manifest "
                "models tagged 'published' and no fct_*/mart_* tables); run the build first."
            )
        for name in marts:
            source = resolve_table(con, name, catalog="wh")
            if source is None:
                raise PipelineError(
                    f"{settings.paths.warehouse}: published mart {name} is missing; "
                    "run the build again."
                )
            con.execute(f'create table snap."{name}" as select * from {source}')
            (counts[name],) = con.execute(f"select count(*) from {source}").fetchall()[0]
        log = pd.DataFrame(log_rows, columns=list(plog.LOG_COLUMNS))
        log["attempted_at"] = pd.to_datetime(log["attempted_at"], utc=True, format="ISO8601")
        con.register("log_frame", log)
        con.execute(
            f'create table snap."{PUBLICATION_LOG_TABLE}" as select '
            "attempted_at::timestamptz as attempted_at, run_id::varchar as run_id, "
            "stage::varchar as stage, result::varchar as result, "
            "data_dates::varchar as data_dates, build_id::varchar as build_id, "
            "version::varchar as version, failed_expectations::varchar as failed_expectations, "
            "message::varchar as message from log_frame"
        )
        counts[PUBLICATION_LOG_TABLE] = len(log)
        con.unregister("log_frame")
        for name in counts:
            out = work / "parquet" / name
            out.mkdir(parents=True)
            con.execute(
                f'copy (select * from snap."{name}") to {_sql_str(out / "data.parquet")} '
                "(format parquet)"
            )
        con.execute("detach snap")
        con.execute("detach wh")
    _pause("snapshot_written")
    _verify(work, counts)
    final = versions / version
    os.replace(work, final)
    _fsync_dir(versions)
    return counts


def _verify(folder: Path, counts: dict[str, int]) -> None:
    """Open the snapshot read-only and compare every table's rows (DuckDB and Parquet)."""
    with duckdb.connect(str(folder / "marts.duckdb"), read_only=True) as con:
        for name, expected in counts.items():
            (got,) = con.execute(f'select count(*) from "{name}"').fetchall()[0]
            glob = _sql_str(folder / "parquet" / name / "*.parquet")
            (pq_rows,) = con.execute(f"select count(*) from read_parquet({glob})").fetchall()[0]
            if got != expected or pq_rows != expected:
                raise PipelineError(
                    f"{folder}: table {name} has {got} rows in DuckDB and {pq_rows} in Parquet "
                    f"but the warehouse has {expected}; the publication was not swapped in."
                )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_in(settings: Settings, version: str) -> None:
    """Make ``versions/<version>`` the current publication (DuckDB file, then Parquet)."""
    published = settings.paths.published
    source = settings.paths.published_versions / version
    tmp_db = published / f"marts.duckdb{TMP_MARK}{version}"
    shutil.copyfile(source / "marts.duckdb", tmp_db)
    with tmp_db.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp_db, settings.paths.published_db)
    _fsync_dir(published)
    _pause("db_swapped")
    link = settings.paths.published_parquet
    if link.exists() and not link.is_symlink():  # a real folder from elsewhere: move it aside
        shutil.rmtree(link)
    tmp_link = published / f"parquet{TMP_MARK}{version}"
    tmp_link.unlink(missing_ok=True)
    os.symlink(Path("versions") / version / "parquet", tmp_link)
    os.replace(tmp_link, link)
    _fsync_dir(published)


def _went_live(settings: Settings, current: str | None) -> set[str] | None:
    """Versions the publication log records as swapped in (published or rolled back to),
    plus the current one; None when the log records none (history unknown).

    A publish killed after writing ``versions/<version>/`` but before the swap leaves a
    complete folder that readers never saw; it is kept but is not a rollback target.
    """
    live = {
        e["version"]
        for e in plog.read_entries(settings)
        if e.get("version") and e.get("result") in (plog.PUBLISHED, plog.ROLLED_BACK)
    }
    if not live:
        return None
    return live | {current} if current else live


def list_versions(settings: Settings) -> list[dict[str, Any]]:
    """Kept publications, oldest first: ``{version, path, current, published, tables}``.

    ``published`` is False for a version an interrupted publish wrote but never swapped in.
    """
    folder = settings.paths.published_versions
    if not folder.is_dir():
        return []
    current = current_version(settings)
    live = _went_live(settings, current)
    out = []
    for p in sorted(folder.iterdir()):
        if TMP_MARK in p.name or not (p / "marts.duckdb").exists():
            continue
        tables = (
            sorted(x.name for x in (p / "parquet").iterdir()) if (p / "parquet").is_dir() else []
        )
        out.append(
            {
                "version": p.name,
                "path": str(p),
                "current": p.name == current,
                "published": live is None or p.name in live,
                "tables": tables,
            }
        )
    return out


def current_version(settings: Settings) -> str | None:
    """The version of ``published/marts.duckdb`` (its own publication_log row), or None."""
    db = settings.paths.published_db
    if not db.exists():
        return None
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.execute(
                f'select version from "{PUBLICATION_LOG_TABLE}" '
                "where result = 'published' and version is not null "
                "order by attempted_at desc limit 1"
            ).fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if rows else None


def rollback(settings: Settings, version: str | None = None) -> str:
    """Make an earlier publication current again (the previous one, or ``version``).

    The previous one is the newest kept version older than the current one that was
    published (not one an interrupted publish wrote but never swapped in). Returns the
    version now current. Raises ``PipelineError`` if there is none to go to.
    """
    with _publish_lock(settings):
        clean_leftovers(settings)
        kept = list_versions(settings)
        versions = [v["version"] for v in kept]
        current = current_version(settings)
        if version is None:
            older = [
                v["version"]
                for v in kept
                if v["published"] and (current is None or v["version"] < current)
            ]
            if not older:
                raise PipelineError(
                    f"{settings.paths.published_versions}: no publication older than {current} "
                    "to roll back to."
                )
            version = older[-1]
        elif version not in versions:
            raise PipelineError(
                f"{settings.paths.published_versions}: version {version} is not kept; "
                f"choose one of {', '.join(versions) or 'none'}."
            )
        _swap_in(settings, version)
        plog.append_entry(
            settings,
            plog.make_entry(
                f"rollback-{uuid.uuid4().hex[:6]}",
                stage="rollback",
                result=plog.ROLLED_BACK,
                version=version,
                message=f"rolled back from {current} to {version}",
            ),
        )
    return version


def _prune_versions(settings: Settings, keep: int, current: str) -> list[str]:
    versions = [v["version"] for v in list_versions(settings)]
    removed = []
    for v in versions[:-keep] if len(versions) > keep else []:
        if v == current:
            continue
        shutil.rmtree(settings.paths.published_versions / v, ignore_errors=True)
        removed.append(v)
    return removed
