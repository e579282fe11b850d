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
3. Records the folder's files in the ledger, in one transaction.
4. Rebuilds the folder's partition ``lake/raw/<table>/source=<source>/date=<day>/`` from
   the cached rows of every accepted file of that folder: files add up (one per account,
   per report page), and where a later delivery has rows with the same grain key
   (``Table.key``) as an earlier one, the later delivery's rows replace the earlier ones
   (restatements). "Later" is ledger order: first accepted, then file mtime, then name.
   Lineage columns ``source_file`` (relative to the landing dir), ``file_hash`` and
   ``delivered_at`` (first accepted) are added here. The rebuild runs in DuckDB with the
   settings' memory limit (shared with the parses running beside it, see ``_Parser``) and
   spill directory, and replaces the partition atomically.

Speed: all folders are planned first (hashed, and the ledger asked which files are new),
and the new files parse in a pool of ``workers`` threads (default: the ``duckdb.threads``
setting; see ``_Parser``), queued day by day across sources, while the main thread settles
folders (steps 3 and 4): each source's in day order, the next one of whichever source has
its parses done. The result's lists are then put in landing order (source, day, file
name), so results, ledger rows and partitions are those of parsing the files one by one;
only the interleaving of different sources' progress events varies.

Crash safety. A file counts as loaded only once its cache parquet is durable: the cache is
written to a temporary name, ``fsync``-ed and moved into place (``lake.atomic_target``)
before the parse returns, and the folder's ledger transaction starts only after all its
parses returned. So whatever the moment a run stops (crash, kill, power loss):

- before the folder's commit: its new files have no ledger row (cache files written so far
  are unreferenced); the next ingest parses them again from landing, which it never
  modified, and replaces the same cache files atomically;
- after the commit but before the partition is rebuilt: the ledger records which files each
  partition was built from (``Ledger.mark_built``, written after the new partition is in
  place); the next ingest rebuilds every partition whose accepted files differ from that;
- a rejected file is moved to quarantine (with its ``.error.txt``) before the commit; if the
  run stops in between it sits in quarantine without a ledger row, so ``status`` does not
  count it; nothing else differs (a quarantined file dropped back is parsed again anyway).

The ledger's write lock is held only while a folder's rows are written, never during a
parse. A ledger written before partitions were recorded gets each folder's partition
rebuilt once, the first time that folder is ingested again.

Several processes may ingest different sources at once (the ledger is SQLite in WAL mode);
the same source is serialised by a lock file ``lake/_locks/<source>.lock`` (a run takes the
locks of all the sources it ingests, in name order, so two runs never wait on each other
in a cycle).

A folder name that is not a date, files lying directly in ``landing/<source>/`` and landing
folders of unknown sources are reported in ``IngestResult.problems`` (exit code 2) and left
where they are.

Progress: ``progress(event, **info)`` is called with ``"file"`` (source, day, file,
outcome, rows, message), ``"partition"`` (table, source, day, rows, path) and ``"problem"``
(message), from the calling thread only; the CLI turns that into a progress bar, Airflow
into log lines.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import fcntl
import fnmatch
import functools
import hashlib
import os
import re
import shutil
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import lake
from pipelines.errors import EXIT_BAD_INPUT, EXIT_OK, BadInputError, PipelineError
from pipelines.ledger import LOADED, QUARANTINED, FileRecord, Ledger, files_digest
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


def _duckdb(settings: Settings, memory_parts: int = 1) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the settings' limits; with ``memory_parts`` > 1 it gets that
    share of the memory limit (other connections work beside it)."""
    settings.duckdb_temp_directory.mkdir(parents=True, exist_ok=True)
    config = settings.duckdb_config()
    config["memory_limit"] = _memory_share(config.get("memory_limit"), memory_parts)
    con = duckdb.connect(config={k: v for k, v in config.items() if v is not None})
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


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


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
    settings: Settings,
    source: Source,
    path: Path,
    day: dt.date,
    file_hash: str,
    ctx: ParseContext | None = None,
) -> int:
    ctx = ctx or ParseContext.from_settings(settings, source.name, day)
    cache = lake.file_cache_path(settings, source.name, day, file_hash)
    with lake.atomic_target(cache) as tmp:
        rows = source.parse_to_parquet(path, ctx, tmp)
        written = set(pq.read_schema(tmp).names)
        missing = [c for c in source.table.columns if c not in written]
        if missing:
            raise PipelineError(
                f"source {source.name} wrote {path.name} without the columns {missing} of table "
                f"{source.table.name}; fix pipelines/sources/{source.name}/source.py"
            )
    return int(rows)


def _parse_file(
    settings: Settings,
    source: Source,
    path: Path,
    rel: str,
    day: dt.date,
    file_hash: str,
    ctx: ParseContext | None = None,
) -> int:
    """Check the file's name, parse it into the per-file cache; the rows written."""
    if not _accepts(source, path.name):
        raise BadInputError(
            rel,
            f"the file name does not match what {source.name} accepts "
            f"({', '.join(source.patterns)}); rename it with the right extension or "
            "move it to the landing folder of the source that produced it",
        )
    return _parse_into_cache(settings, source, path, day, file_hash, ctx)


_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z%]*)\s*$", re.IGNORECASE)
_MEMORY_UNITS = {
    **dict.fromkeys(("", "b", "byte", "bytes"), 1),
    **{u: 1000**i for i, u in enumerate(("kb", "mb", "gb", "tb"), start=1)},
    **{u: 1024**i for i, u in enumerate(("kib", "mib", "gib", "tib"), start=1)},
}


def _memory_share(limit: object, parts: int) -> object:
    """``limit`` (a DuckDB ``memory_limit`` such as ``4GB`` or ``50%``) divided by ``parts``.

    A value this cannot read is returned unchanged (DuckDB still checks it when it is set).
    """
    m = _MEMORY.match(str(limit)) if limit is not None and parts > 1 else None
    if m is None:
        return limit
    number, unit = float(m[1]), m[2].lower()
    if unit == "%":
        return f"{number / parts:g}%"
    if unit not in _MEMORY_UNITS:
        return limit
    return f"{max(1, int(number * _MEMORY_UNITS[unit] / parts) // 1024**2)}MiB"


class _Parser:
    """Parses landing files into the per-file cache, up to ``workers`` files at a time.

    The work runs in threads: the DuckDB parsers (events) release the GIL, so big files
    parse on every core while the main thread records, quarantines and rebuilds
    partitions. Each parse writes only its own cache file and touches neither the ledger
    nor landing, so the outcome does not depend on the order the threads finish in. With
    ``workers > 1`` the parses and the main thread's partition rebuilds share the
    configured DuckDB memory limit (each gets ``1/(workers + 1)``, see ``_memory_share``)
    and each parse gets ``1/workers`` of the DuckDB threads (at least one). With one
    worker files parse in the main thread when their result is needed, with the settings'
    DuckDB limits, as ingest always did.
    """

    def __init__(self, settings: Settings, workers: int):
        self.settings = settings
        self.workers = max(1, workers)
        base = {k: v for k, v in settings.duckdb_config().items() if k != "temp_directory"}
        if self.workers > 1:
            threads = base.get("threads")
            base["threads"] = max(1, int(threads) // self.workers) if threads else 1
            base["memory_limit"] = _memory_share(base.get("memory_limit"), self.memory_parts)
        self._duckdb = base
        self._pool = (
            ThreadPoolExecutor(self.workers, thread_name_prefix="ingest-parse")
            if self.workers > 1
            else None
        )

    @property
    def memory_parts(self) -> int:
        """How many DuckDB connections work at once (the parses and the rebuild)."""
        return self.workers + 1 if self.workers > 1 else 1

    def __enter__(self) -> _Parser:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:  # running parses finish, queued ones are dropped
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _job(self, source: Source, landed: _Landed, day: dt.date) -> Callable[[], int]:
        ctx = dataclasses.replace(
            ParseContext.from_settings(self.settings, source.name, day), duckdb=self._duckdb
        )
        return functools.partial(
            _parse_file,
            self.settings,
            source,
            landed.path,
            landed.rel,
            day,
            landed.file_hash,
            ctx,
        )

    def submit(self, source: Source, landed: _Landed, day: dt.date) -> None:
        """Start parsing ``landed`` in the background (no-op with one worker)."""
        if self._pool is not None:
            landed.job = self._pool.submit(self._job(source, landed, day))

    def parse(self, source: Source, landed: _Landed, day: dt.date) -> int:
        """The rows of ``landed`` (waiting for its background parse, or parsing it now)."""
        if landed.job is not None:
            return landed.job.result()
        return self._job(source, landed, day)()


def rebuild_partition(
    settings: Settings, ledger: Ledger, source: Source, day: dt.date, con=None
) -> tuple[Path | None, int]:
    """Rebuild one (source, day) partition from the cached rows of its accepted files.

    Notes in the ledger what it was built from (``Ledger.mark_built``), once the new
    partition is in place.
    """
    table: Table = source.table
    records = ledger.loaded_files(source.name, day)
    if not records:
        lake.remove_partition(settings, table, source.name, day)
        ledger.mark_built(source.name, day, None)
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
        paths = [
            str(lake.file_cache_path(settings, source.name, day, r.file_hash)) for r in records
        ]
        # The lineage of each file, as a VALUES list joined on the file name (cheaper than
        # registering an Arrow table; its columns stay nullable like the data columns).
        lineage = ",\n".join(
            f"({_lit(path)}, {rank}, {_lit(r.source_file)}, {_lit(r.file_hash)}, "
            f"cast({_lit(r.first_seen_at.isoformat())} as timestamptz))"
            for rank, (path, r) in enumerate(zip(paths, records, strict=True))
        )
        cols = ",\n".join(
            f"cast(d.{_quote(f.name)} as {_duck_type(f.type)}) as {_quote(f.name)}"
            for f in table.fields
        )
        key = ", ".join(f"d.{_quote(k)}" for k in table.key)
        files = "[" + ", ".join(_lit(p) for p in paths) + "]"
        # Restatements: a key's rows come from the latest file holding it. With one file
        # every row is its own file's, so the window is left out.
        latest = (
            f"qualify l._rank = max(l._rank) over (partition by {key})" if len(records) > 1 else ""
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
            inner join (
                values {lineage}
            ) as l (_path, _rank, _source_file, _file_hash, _delivered_at)
                on d.filename = l._path
            {latest}
            order by l._rank, d.file_row_number
        """
        final = lake.partition_path(settings, table.name, source.name, day)
        with lake.atomic_target(final) as tmp:
            copied = con.execute(
                f"copy ({sql}) to {_lit(str(tmp))} (format parquet, compression zstd)"
            ).fetchone()
        ledger.mark_built(source.name, day, files_digest(records))
        rows = int(copied[0]) if copied else pq.read_metadata(final).num_rows
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


@dataclass
class _Landed:
    """One file of a landing folder, as found when the folder was planned."""

    path: Path
    rel: str  # relative to the landing dir
    file_hash: str
    st: os.stat_result
    job: Future[int] | None = None  # its parse, started in the background


@dataclass
class _Folder:
    """One landing folder ``landing/<source>/<day>/`` and its files, in name order."""

    source: Source
    day: dt.date
    path: Path
    files: list[_Landed] = field(default_factory=list)

    def pending(self) -> list[Future[int]]:
        """The parses of this folder's files still running or queued."""
        return [f.job for f in self.files if f.job is not None and not f.job.done()]


def _default_workers(settings: Settings) -> int:
    threads = settings.duckdb_config().get("threads")
    return int(threads) if threads else (os.cpu_count() or 1)


def ingest(
    settings: Settings,
    dates: Iterable[dt.date] | None = None,
    sources: Iterable[str] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> IngestResult:
    """Ingest what landed (optionally only some days / sources). See the module docstring.

    ``workers``: how many files parse at once (default: the ``duckdb.threads`` setting);
    1 parses one file after the other in the calling thread. The result is the same.
    """
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
    folders = _landing_folders(settings, registry, wanted, day_filter, problem)
    with contextlib.ExitStack() as stack:
        for name in sorted({f.source.name for f in folders}):
            stack.enter_context(_source_lock(settings, name))
        ledger = stack.enter_context(Ledger(settings.paths.ledger))
        parser = stack.enter_context(
            _Parser(settings, _default_workers(settings) if workers is None else workers)
        )
        # Parses are queued day by day across sources, so the DuckDB-heavy files of one
        # source (events) parse beside the pandas parsers of the others.
        for folder in sorted(folders, key=lambda f: f.day):
            _plan_folder(settings, ledger, parser, folder)
        con: duckdb.DuckDBPyConnection | None = None
        try:
            for folder in _ready_folders(folders):
                changed = _settle_folder(settings, ledger, parser, folder, result, progress)
                if not _needs_rebuild(settings, ledger, folder, changed):
                    continue
                con = con or _duckdb(settings, parser.memory_parts)
                path, rows = rebuild_partition(settings, ledger, folder.source, folder.day, con)
                if path is not None:
                    result.partitions.setdefault(folder.source.name, []).append(folder.day)
                _emit(
                    progress,
                    "partition",
                    table=folder.source.table.name,
                    source=folder.source.name,
                    day=folder.day,
                    rows=rows,
                    path=path,
                )
        finally:
            if con is not None:
                con.close()
    _in_landing_order(result, folders)
    _emit(progress, "done", step="ingest", summary=result.summary())
    return result


def _ready_folders(folders: list[_Folder]) -> Iterator[_Folder]:
    """The folders, each source's in day order, a source's next folder as soon as its parses
    are done (the first such source in landing order; with one worker: landing order)."""
    queues: dict[str, collections.deque[_Folder]] = {}
    for folder in folders:
        queues.setdefault(folder.source.name, collections.deque()).append(folder)
    while queues:
        heads = [q[0] for q in queues.values()]
        ready = next((f for f in heads if not f.pending()), None)
        if ready is None:
            pending = [job for f in heads for job in f.pending()]
            futures.wait(pending, return_when=futures.FIRST_COMPLETED)
            continue
        queue = queues[ready.source.name]
        queue.popleft()
        if not queue:
            del queues[ready.source.name]
        yield ready


def _in_landing_order(result: IngestResult, folders: list[_Folder]) -> None:
    """Sort the result's lists as if the folders had been settled one by one."""
    rank = {(f.source.name, f.day): i for i, f in enumerate(folders)}
    for outcomes in (result.loaded, result.quarantined, result.unchanged):
        outcomes.sort(key=lambda o: rank.get((o.source, o.day), len(rank)))
    result.partitions = {
        name: sorted(result.partitions[name]) for name in sorted(result.partitions)
    }


def _landing_folders(
    settings: Settings,
    registry: dict[str, Source],
    wanted: list[str] | None,
    day_filter: set[dt.date] | None,
    problem: Callable[[str], None],
) -> list[_Folder]:
    """The dated landing folders to ingest, in source then day order; report misplaced ones."""
    landing = settings.paths.landing
    folders: list[_Folder] = []
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
        for day_dir in sorted(p for p in source_dir.iterdir() if not p.name.startswith(".")):
            rel_dir = day_dir.relative_to(landing).as_posix()
            if not day_dir.is_dir():
                if not day_dir.name.endswith(_IGNORED_SUFFIXES):
                    problem(
                        f"landing/{rel_dir} lies outside a dated folder; move it into "
                        f"landing/{name}/<YYYY-MM-DD>/ (the day the export covers)"
                    )
                continue
            day = _parse_day_name(day_dir.name)
            if day is None:
                problem(
                    f"landing/{rel_dir}/ is not a date folder; rename it to the day its files "
                    f"cover, as YYYY-MM-DD (e.g. landing/{name}/2026-03-02/)"
                )
                continue
            if day_filter is not None and day not in day_filter:
                continue
            folders.append(_Folder(registry[name], day, day_dir))
    return folders


def _is_current(settings: Settings, source: Source, day: dt.date, known: FileRecord | None) -> bool:
    """The ledger holds the file as loaded and its cached rows are there."""
    return (
        known is not None
        and known.status == LOADED
        and lake.file_cache_path(settings, source.name, day, known.file_hash).exists()
    )


def _plan_folder(settings: Settings, ledger: Ledger, parser: _Parser, folder: _Folder) -> None:
    """Hash the folder's files and start parsing the ones the ledger does not hold yet."""
    landing = settings.paths.landing
    planned: set[str] = set()
    for path in _landing_files(folder.path):
        landed = _Landed(path, path.relative_to(landing).as_posix(), file_sha256(path), path.stat())
        folder.files.append(landed)
        if landed.file_hash in planned:  # same bytes twice: settled like the first copy
            continue
        planned.add(landed.file_hash)
        known = ledger.get(folder.source.name, folder.day, landed.file_hash)
        if not _is_current(settings, folder.source, folder.day, known):
            parser.submit(folder.source, landed, folder.day)


@dataclass
class _Settled:
    """What became of one file of a folder (written to the ledger together)."""

    landed: _Landed
    outcome: str  # loaded | unchanged | quarantined
    rows: int | None = None
    error: BadInputError | None = None
    quarantined_to: Path | None = None
    record: str | None = None  # the ledger status to write, if any


def _settle_folder(
    settings: Settings,
    ledger: Ledger,
    parser: _Parser,
    folder: _Folder,
    result: IngestResult,
    progress: Progress | None,
) -> bool:
    """Take the parse results of one folder, in file order; True if any file was accepted.

    First every file is settled (waiting for its parse, moving rejected files to
    quarantine), then the folder's ledger rows are written in one transaction, so the
    ledger's write lock is never held while a file parses. A parse failing for a reason
    other than the file (``PipelineError``) stops the run after the files settled before
    it are recorded.
    """
    source, day = folder.source, folder.day
    status_of: dict[str, str | None] = {}  # file hash -> its ledger status, as settled so far
    current: dict[str, int | None] = {}  # file hash -> rows, for files loaded and cached
    settled: list[_Settled] = []
    abort: PipelineError | None = None
    for landed in folder.files:
        h = landed.file_hash
        if h not in status_of:
            known = ledger.get(source.name, day, h)
            status_of[h] = None if known is None else known.status
            if known is not None and _is_current(settings, source, day, known):
                current[h] = known.rows
        if h in current:
            settled.append(_Settled(landed, "unchanged", rows=current[h]))
            continue
        error: BadInputError | None = None
        try:
            rows = parser.parse(source, landed, day)
        except BadInputError as exc:
            error = _wrap(landed.rel, source.name, exc)
        except PipelineError as exc:
            abort = exc
            break
        except Exception as exc:
            error = _wrap(landed.rel, source.name, exc)
        if error is None:
            status_of[h], current[h] = LOADED, rows
            settled.append(_Settled(landed, "loaded", rows=rows, record=LOADED))
            continue
        target = _quarantine(settings, source.name, day, landed.path, error, h)
        # A file the ledger holds as loaded keeps that row (only its cache was missing).
        record = None if status_of[h] == LOADED else QUARANTINED
        status_of[h] = status_of[h] or QUARANTINED
        settled.append(
            _Settled(landed, "quarantined", error=error, quarantined_to=target, record=record)
        )

    seen_at = dt.datetime.now(dt.UTC)
    with ledger.transaction():
        for done in settled:
            landed = done.landed
            ledger.record_delivery(landed.rel, landed.file_hash, source.name, day, seen_at)
            if done.record is not None:
                _record(
                    settings, ledger, folder, landed, seen_at, done.record, done.rows, done.error
                )

    for done in settled:
        landed = done.landed
        message = str(done.error) if done.error is not None else None
        out = FileOutcome(
            landed.rel,
            source.name,
            day,
            message=message,
            rows=done.rows,
            file_hash=landed.file_hash,
            quarantined_to=done.quarantined_to,
        )
        getattr(result, done.outcome).append(out)
        _emit(
            progress,
            "file",
            source=source.name,
            day=day,
            file=landed.rel,
            outcome=done.outcome,
            rows=done.rows,
            message=message,
        )
    if abort is not None:
        raise abort
    return any(done.outcome == "loaded" for done in settled)


def _record(
    settings: Settings,
    ledger: Ledger,
    folder: _Folder,
    landed: _Landed,
    seen_at: dt.datetime,
    status: str,
    rows: int | None,
    error: BadInputError | None,
) -> None:
    """Write the ledger row of one landing file (the only place ingest writes one)."""
    source = folder.source
    partition = lake.partition_path(settings, source.table.name, source.name, folder.day)
    ledger.record(
        source=source.name,
        day=folder.day,
        file_hash=landed.file_hash,
        source_file=landed.rel,
        size_bytes=landed.st.st_size,
        mtime=landed.st.st_mtime,
        seen_at=seen_at,
        status=status,
        table_name=source.table.name,
        rows=rows if status == LOADED else None,
        partition_path=(
            partition.relative_to(settings.data_dir).as_posix() if status == LOADED else None
        ),
        message=str(error) if error is not None else None,
    )


def _needs_rebuild(settings: Settings, ledger: Ledger, folder: _Folder, changed: bool) -> bool:
    """A folder's partition is rebuilt when a file was accepted, or when the partition is
    missing or was built from other files than the ledger now holds as loaded (a run
    stopped between recording files and rebuilding)."""
    if changed:
        return True
    records = ledger.loaded_files(folder.source.name, folder.day)
    if not records:
        return False
    partition = lake.partition_path(
        settings, folder.source.table.name, folder.source.name, folder.day
    )
    return not partition.exists() or ledger.built_digest(
        folder.source.name, folder.day
    ) != files_digest(records)
