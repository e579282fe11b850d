"""Ingestion: landing files -> canonical rows -> lake partitions, with a ledger and quarantine.

``ingest(settings)`` walks ``landing/<source>/<YYYY-MM-DD>/`` for every registered source
(or the ones asked for) and, per landing folder:

1. Hashes each file (sha256 of its bytes). A file whose hash the ledger already holds as
   loaded for that folder is a no-op (``unchanged``), whatever its name.
2. Parses a new file with its source (``Source.parse_to_parquet``) into the per-file cache
   ``lake/_files/<source>/<day>/<sha256>.parquet``. A file that breaks its source's
   contract (``BadInputError``, or any other exception while parsing, wrapped into one) is
   moved to ``quarantine/<source>/<day>/<file>`` beside ``<file>.error.txt`` saying what is
   wrong, where and how to fix it; the other files and sources still load, and the result's
   exit code is 2. Apart from moving rejected files out, landing is never modified.
3. Rebuilds the folder's partition ``lake/raw/<table>/source=<source>/date=<day>/`` from
   the cached rows of every accepted file of that folder: files add up (one per account,
   per report page), and where a later delivery has rows with the same grain key
   (``Table.key``) as an earlier one, the later delivery's rows replace the earlier ones
   (restatements). "Later" is ledger order: first accepted, then file mtime, then name.
   Lineage columns ``source_file`` (relative to the landing dir), ``file_hash`` and
   ``delivered_at`` (first accepted) are added here. The rebuild runs in DuckDB with the
   settings' memory limit and spill directory, and replaces the partition atomically.

Several processes may ingest different sources at once (the ledger is SQLite in WAL mode);
the same source is serialised by a lock file ``lake/_locks/<source>.lock``.

A folder name that is not a date, files lying directly in ``landing/<source>/`` and landing
folders of unknown sources are reported in ``IngestResult.problems`` (exit code 2) and left
where they are.

Progress: ``progress(event, **info)`` is called with ``"file"`` (source, day, file,
outcome, rows, message), ``"partition"`` (table, source, day, rows, path) and ``"problem"``
(message); the CLI turns that into a progress bar, Airflow into log lines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import fnmatch
import hashlib
import os
import shutil
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import lake
from pipelines.errors import EXIT_BAD_INPUT, EXIT_OK, BadInputError, PipelineError
from pipelines.ledger import LOADED, QUARANTINED, Ledger
from pipelines.sources import all_sources, source_names
from pipelines.sources.base import ParseContext, Source

if TYPE_CHECKING:
    from pipelines.canonical import Table
    from pipelines.config import Settings

Progress = Callable[..., Any]

# Names of files still being written by an uploader, and our own sidecar files.
_IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart", "~", ".error.txt")


class UnknownSourceError(PipelineError):
    """``--source`` names no registered source (bad usage, exit 2)."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one landing file."""

    file: str  # path relative to the landing dir
    source: str
    day: dt.date
    message: str | None = None  # the reason it was quarantined
    rows: int | None = None
    file_hash: str | None = None
    quarantined_to: Path | None = None


@dataclass
class IngestResult:
    loaded: list[FileOutcome] = field(default_factory=list)
    quarantined: list[FileOutcome] = field(default_factory=list)
    unchanged: list[FileOutcome] = field(default_factory=list)
    partitions: dict[str, list[dt.date]] = field(default_factory=dict)  # rebuilt this run
    problems: list[str] = field(default_factory=list)  # misplaced folders and files

    @property
    def exit_code(self) -> int:
        return EXIT_BAD_INPUT if (self.quarantined or self.problems) else EXIT_OK

    def summary(self) -> str:
        return (
            f"{len(self.loaded)} file(s) loaded, {len(self.unchanged)} unchanged, "
            f"{len(self.quarantined)} quarantined, "
            f"{sum(len(d) for d in self.partitions.values())} partition(s) rebuilt"
            + (f", {len(self.problems)} problem(s)" if self.problems else "")
        )


def _emit(progress: Progress | None, event: str, **info: Any) -> None:
    if progress is not None:
        progress(event, **info)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def _source_lock(settings: Settings, source: str) -> Generator[None]:
    lock_dir = settings.paths.lake / "_locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{source}.lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _duckdb(settings: Settings) -> duckdb.DuckDBPyConnection:
    settings.duckdb_temp_directory.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config=settings.duckdb_config())
    con.execute("set timezone = 'UTC'")
    return con


def _duck_type(typ: pa.DataType) -> str:
    if pa.types.is_string(typ):
        return "varchar"
    if pa.types.is_int64(typ):
        return "bigint"
    if pa.types.is_floating(typ):
        return "double"
    if pa.types.is_date32(typ):
        return "date"
    if pa.types.is_timestamp(typ):
        return "timestamptz"
    if pa.types.is_boolean(typ):
        return "boolean"
    raise TypeError(f"no DuckDB type for {typ}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _accepts(source: Source, name: str) -> bool:
    low = name.lower()
    return any(fnmatch.fnmatch(low, pat.lower()) for pat in source.patterns)


def _landing_files(day_dir: Path) -> Iterator[Path]:
    for p in sorted(day_dir.iterdir()):
        if p.name.startswith(".") or p.name.endswith(_IGNORED_SUFFIXES) or not p.is_file():
            continue
        yield p


def _wrap(rel: str, source: str, exc: Exception) -> BadInputError:
    if isinstance(exc, BadInputError):
        # Keep the parser's problem and location, but name the file as landed.
        return BadInputError(rel, exc.problem, exc.where)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return BadInputError(
        rel,
        f"cannot be read as a {source} export ({type(exc).__name__}: {detail}); check that it "
        f"is a complete export in one of the formats described in "
        f"pipelines/sources/{source}/README.md",
    )


def _quarantine(
    settings: Settings, source: str, day: dt.date, path: Path, err: BadInputError, file_hash: str
) -> Path:
    qdir = settings.paths.quarantine / source / day.isoformat()
    qdir.mkdir(parents=True, exist_ok=True)
    target = qdir / path.name
    if target.exists() and file_sha256(target) != file_hash:
        target = qdir / f"{file_hash[:12]}-{path.name}"
    shutil.move(str(path), target)
    where = err.where or "the file as a whole"
    text = (
        f"{err.file} was rejected by the {source} source at "
        f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}.\n\n"
        f"Problem: {err.problem}\n"
        f"Where:   {where}\n"
        f"sha256:  {file_hash}\n\n"
        f"How to fix: correct the file (or the export that produced it; see "
        f"pipelines/sources/{source}/README.md for the accepted formats) and drop the corrected "
        f"file into landing/{source}/{day.isoformat()}/ again; the next ingest loads it and "
        f"the rest of that day's files stay loaded.\n"
    )
    Path(f"{target}.error.txt").write_text(text, encoding="utf-8")
    return target


def _parse_into_cache(
    settings: Settings, source: Source, path: Path, day: dt.date, file_hash: str
) -> int:
    ctx = ParseContext.from_settings(settings, source.name, day)
    cache = lake.file_cache_path(settings, source.name, day, file_hash)
    with lake.atomic_target(cache) as tmp:
        rows = source.parse_to_parquet(path, ctx, tmp)
        missing = [c for c in source.table.columns if c not in pq.read_schema(tmp).names]
        if missing:
            raise PipelineError(
                f"source {source.name} wrote {path.name} without the columns {missing} of table "
                f"{source.table.name}; fix pipelines/sources/{source.name}/source.py"
            )
    return int(rows)


def rebuild_partition(
    settings: Settings, ledger: Ledger, source: Source, day: dt.date, con=None
) -> tuple[Path | None, int]:
    """Rebuild one (source, day) partition from the cached rows of its accepted files."""
    table: Table = source.table
    records = ledger.loaded_files(source.name, day)
    if not records:
        lake.remove_partition(settings, table, source.name, day)
        return None, 0
    missing = [
        r.source_file
        for r in records
        if not lake.file_cache_path(settings, source.name, day, r.file_hash).exists()
    ]
    if missing:
        raise PipelineError(
            f"the lake cache of {', '.join(missing)} is missing; drop those files into landing "
            f"again (or restore lake/_files/{source.name}/{day.isoformat()}/) and re-run ingest"
        )
    own = con is None
    con = con or _duckdb(settings)
    try:
        lineage = pa.table(
            {
                "_path": [
                    str(lake.file_cache_path(settings, source.name, day, r.file_hash))
                    for r in records
                ],
                "_rank": list(range(len(records))),
                "_source_file": [r.source_file for r in records],
                "_file_hash": [r.file_hash for r in records],
                "_delivered_at": pa.array(
                    [r.first_seen_at for r in records], type=pa.timestamp("us", tz="UTC")
                ),
            }
        )
        con.register("_lineage", lineage)
        cols = ",\n".join(
            f"cast(d.{_quote(f.name)} as {_duck_type(f.type)}) as {_quote(f.name)}"
            for f in table.fields
        )
        key = ", ".join(f"d.{_quote(k)}" for k in table.key)
        files = (
            "["
            + ", ".join("'" + p.replace("'", "''") + "'" for p in lineage["_path"].to_pylist())
            + "]"
        )
        sql = f"""
            select
                {cols},
                l._source_file as source_file,
                l._file_hash as file_hash,
                l._delivered_at as delivered_at
            from read_parquet(
                {files}, filename = true, file_row_number = true, union_by_name = true
            ) as d
            inner join _lineage as l on d.filename = l._path
            qualify l._rank = max(l._rank) over (partition by {key})
            order by l._rank, d.file_row_number
        """
        final = lake.partition_path(settings, table.name, source.name, day)
        with lake.atomic_target(final) as tmp:
            con.execute(f"copy ({sql}) to '{tmp}' (format parquet, compression zstd)")
        con.unregister("_lineage")
        rows = pq.read_metadata(final).num_rows
        return final, rows
    finally:
        if own:
            con.close()


def _parse_day_name(name: str) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(name)
    except ValueError:
        return None
    return day if day.isoformat() == name else None


def ingest(
    settings: Settings,
    dates: Iterable[dt.date] | None = None,
    sources: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest what landed (optionally only some days / sources). See the module docstring."""
    registry = all_sources()
    wanted = list(sources) if sources is not None else None
    if wanted is not None:
        unknown = [s for s in wanted if s not in registry]
        if unknown:
            raise UnknownSourceError(
                f"unknown source(s) {', '.join(unknown)}; known sources: "
                f"{', '.join(source_names())}"
            )
    day_filter = set(dates) if dates is not None else None
    result = IngestResult()
    lake.ensure_tables(settings)
    landing = settings.paths.landing
    if not landing.exists():
        return result

    def problem(message: str) -> None:
        result.problems.append(message)
        _emit(progress, "problem", message=message)

    _emit(progress, "start", step="ingest", total=None)
    with Ledger(settings.paths.ledger) as ledger:
        for source_dir in sorted(p for p in landing.iterdir() if not p.name.startswith(".")):
            name = source_dir.name
            if wanted is not None and name not in wanted:
                continue
            if not source_dir.is_dir():
                problem(f"landing/{name} is a file; files go into landing/<source>/<YYYY-MM-DD>/")
                continue
            if name not in registry:
                problem(
                    f"landing/{name}/ belongs to no registered source; known sources: "
                    f"{', '.join(sorted(registry))} (rename the folder or add the source with "
                    f"`attribution new-source {name}`)"
                )
                continue
            with _source_lock(settings, name):
                _ingest_source(
                    settings,
                    ledger,
                    registry[name],
                    source_dir,
                    day_filter,
                    result,
                    progress,
                    problem,
                )
    _emit(progress, "done", step="ingest", summary=result.summary())
    return result


def _ingest_source(
    settings: Settings,
    ledger: Ledger,
    source: Source,
    source_dir: Path,
    day_filter: set[dt.date] | None,
    result: IngestResult,
    progress: Progress | None,
    problem: Callable[[str], None],
) -> None:
    landing = settings.paths.landing
    con = None
    try:
        for day_dir in sorted(p for p in source_dir.iterdir() if not p.name.startswith(".")):
            rel_dir = day_dir.relative_to(landing).as_posix()
            if not day_dir.is_dir():
                if not day_dir.name.endswith(_IGNORED_SUFFIXES):
                    problem(
                        f"landing/{rel_dir} lies outside a dated folder; move it into "
                        f"landing/{source.name}/<YYYY-MM-DD>/ (the day the export covers)"
                    )
                continue
            day = _parse_day_name(day_dir.name)
            if day is None:
                problem(
                    f"landing/{rel_dir}/ is not a date folder; rename it to the day its files "
                    f"cover, as YYYY-MM-DD (e.g. landing/{source.name}/2026-03-02/)"
                )
                continue
            if day_filter is not None and day not in day_filter:
                continue
            changed = _ingest_folder(settings, ledger, source, day, day_dir, result, progress)
            partition = lake.partition_path(settings, source.table.name, source.name, day)
            if not changed and (partition.exists() or not ledger.loaded_files(source.name, day)):
                continue
            con = con or _duckdb(settings)
            path, rows = rebuild_partition(settings, ledger, source, day, con)
            if path is not None:
                result.partitions.setdefault(source.name, []).append(day)
            _emit(
                progress,
                "partition",
                table=source.table.name,
                source=source.name,
                day=day,
                rows=rows,
                path=path,
            )
    finally:
        if con is not None:
            con.close()


def _ingest_folder(
    settings: Settings,
    ledger: Ledger,
    source: Source,
    day: dt.date,
    day_dir: Path,
    result: IngestResult,
    progress: Progress | None,
) -> bool:
    """Parse the new files of one landing folder; True if any file was accepted."""
    landing = settings.paths.landing
    seen_at = dt.datetime.now(dt.UTC)
    changed = False
    for path in _landing_files(day_dir):
        rel = path.relative_to(landing).as_posix()
        file_hash = file_sha256(path)
        st = path.stat()
        ledger.record_delivery(rel, file_hash, source.name, day, seen_at)
        known = ledger.get(source.name, day, file_hash)
        cached = lake.file_cache_path(settings, source.name, day, file_hash).exists()
        if known is not None and known.status == LOADED and cached:
            out = FileOutcome(rel, source.name, day, rows=known.rows, file_hash=file_hash)
            result.unchanged.append(out)
            _emit(
                progress,
                "file",
                source=source.name,
                day=day,
                file=rel,
                outcome="unchanged",
                rows=known.rows,
                message=None,
            )
            continue
        try:
            if not _accepts(source, path.name):
                raise BadInputError(
                    rel,
                    f"the file name does not match what {source.name} accepts "
                    f"({', '.join(source.patterns)}); rename it with the right extension or "
                    "move it to the landing folder of the source that produced it",
                )
            rows = _parse_into_cache(settings, source, path, day, file_hash)
        except PipelineError as exc:
            if not isinstance(exc, BadInputError):
                raise
            _reject(
                settings,
                ledger,
                source,
                day,
                path,
                rel,
                file_hash,
                st,
                seen_at,
                _wrap(rel, source.name, exc),
                result,
                progress,
            )
            continue
        except Exception as exc:
            _reject(
                settings,
                ledger,
                source,
                day,
                path,
                rel,
                file_hash,
                st,
                seen_at,
                _wrap(rel, source.name, exc),
                result,
                progress,
            )
            continue
        partition = lake.partition_path(settings, source.table.name, source.name, day)
        ledger.record(
            source=source.name,
            day=day,
            file_hash=file_hash,
            source_file=rel,
            size_bytes=st.st_size,
            mtime=st.st_mtime,
            seen_at=seen_at,
            status=LOADED,
            table_name=source.table.name,
            rows=rows,
            partition_path=partition.relative_to(settings.data_dir).as_posix(),
        )
        result.loaded.append(FileOutcome(rel, source.name, day, rows=rows, file_hash=file_hash))
        _emit(
            progress,
            "file",
            source=source.name,
            day=day,
            file=rel,
            outcome="loaded",
            rows=rows,
            message=None,
        )
        changed = True
    return changed


def _reject(
    settings: Settings,
    ledger: Ledger,
    source: Source,
    day: dt.date,
    path: Path,
    rel: str,
    file_hash: str,
    st: os.stat_result,
    seen_at: dt.datetime,
    err: BadInputError,
    result: IngestResult,
    progress: Progress | None,
) -> None:
    target = _quarantine(settings, source.name, day, path, err, file_hash)
    known = ledger.get(source.name, day, file_hash)
    if known is None or known.status != LOADED:
        ledger.record(
            source=source.name,
            day=day,
            file_hash=file_hash,
            source_file=rel,
            size_bytes=st.st_size,
            mtime=st.st_mtime,
            seen_at=seen_at,
            status=QUARANTINED,
            table_name=source.table.name,
            message=str(err),
        )
    result.quarantined.append(
        FileOutcome(
            rel, source.name, day, message=str(err), file_hash=file_hash, quarantined_to=target
        )
    )
    _emit(
        progress,
        "file",
        source=source.name,
        day=day,
        file=rel,
        outcome="quarantined",
        rows=None,
        message=str(err),
    )
