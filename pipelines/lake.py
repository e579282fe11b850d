"""The lake: canonical Parquet partitions, replaced atomically, and the per-file cache.

Layout (DESIGN, folders under the data dir)::

    lake/raw/<table>/source=<source>/date=<YYYY-MM-DD>/data.parquet   one partition
    lake/raw/<table>/source=~none/date=1970-01-01/data.parquet         typed, empty
    lake/_files/<source>/<YYYY-MM-DD>/<sha256>.parquet                 one accepted file's rows

A partition is only ever replaced whole: the new file is written beside the old one under
a temporary name, flushed to disk (``fsync``) and moved over it with ``os.replace``, so a
reader (dbt, a BI tool) sees either the old partition or the new one, never half of one.

``ensure_tables`` writes one empty but typed file per canonical table (source ``~none``),
so ``read_parquet('<lake>/<table>/*/*/*.parquet', hive_partitioning = true)`` works, with
the right column types, before any source has delivered anything. It holds no rows, so it
changes no result; dbt models may filter ``source <> '~none'`` but need not. Its name sorts
after every source name (``~`` comes after the letters, digits and ``_`` of registry
names): DuckDB estimates the rows of a multi-file read from the first file of the sorted
listing times the number of files, and an empty first file made every lake read look
empty, so the planner built hash tables on the big side of each join (ten times slower on
10M events). ``ensure_tables`` replaces the placeholder of older lakes (``_none``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.canonical import TABLES, Table

if TYPE_CHECKING:
    from pipelines.config import Settings

PARTITION_FILE = "data.parquet"
# Every partition file of a table, from its folder: source=<source>/date=<day>/<file>.
PARTITION_GLOB = "*/*/*.parquet"
EMPTY_SOURCE = "~none"
LEGACY_EMPTY_SOURCES = ("_none",)  # placeholders of older lakes, replaced by ensure_tables
EMPTY_DATE = dt.date(1970, 1, 1)


def _table(table: Table | str) -> Table:
    if isinstance(table, Table):
        return table
    try:
        return TABLES[table]
    except KeyError:
        raise KeyError(f"unknown lake table {table!r}; known: {', '.join(TABLES)}") from None


def table_dir(settings: Settings, table_name: str) -> Path:
    return settings.paths.lake_raw / _table(table_name).name


def partition_path(settings: Settings, table_name: str, source: str, day: dt.date) -> Path:
    """``lake/raw/<table>/source=<source>/date=<day>/data.parquet``."""
    return (
        table_dir(settings, table_name)
        / f"source={source}"
        / f"date={day.isoformat()}"
        / PARTITION_FILE
    )


def table_glob(settings: Settings, table_name: str) -> str:
    """The glob dbt and DuckDB read a table with (use ``hive_partitioning = true``)."""
    return str(table_dir(settings, table_name) / PARTITION_GLOB)


def file_cache_path(settings: Settings, source: str, day: dt.date, file_hash: str) -> Path:
    """Where the canonical rows of one accepted landing file are kept."""
    return settings.paths.lake / "_files" / source / day.isoformat() / f"{file_hash}.parquet"


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a directory be opened
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_target(final: Path) -> Generator[Path]:
    """Yield a temporary path beside ``final``; on success fsync it and move it into place.

    Whatever writes to the temporary path (pyarrow, DuckDB ``COPY``) may fail half-way:
    then the temporary file is removed and ``final`` is untouched.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_parquet_atomic(path: Path, data: pa.Table) -> Path:
    with atomic_target(path) as tmp:
        pq.write_table(data, tmp)
    return path


def write_with_atomic(path: Path, writer: Callable[[Path], object]) -> Path:
    """Run ``writer(tmp_path)`` and move its output to ``path`` atomically."""
    with atomic_target(path) as tmp:
        writer(tmp)
    return path


def replace_partition(
    settings: Settings, table: Table | str, source: str, day: dt.date, arrow_table: pa.Table
) -> Path:
    """Replace one partition with ``arrow_table`` (cast to the table's lake schema)."""
    t = _table(table)
    data = arrow_table.select(t.schema.names).cast(t.schema)
    return write_parquet_atomic(partition_path(settings, t.name, source, day), data)


def remove_partition(settings: Settings, table: Table | str, source: str, day: dt.date) -> bool:
    """Delete a partition (when no accepted file is left for it); True if one existed."""
    path = partition_path(settings, _table(table).name, source, day)
    if not path.exists():
        return False
    path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()
    return True


def read_partition(settings: Settings, table: Table | str, source: str, day: dt.date) -> pa.Table:
    """One partition's rows (an empty typed table if it does not exist)."""
    t = _table(table)
    path = partition_path(settings, t.name, source, day)
    if not path.exists():
        return t.schema.empty_table()
    return pq.read_table(path, schema=t.schema)


def list_partitions(settings: Settings, table_name: str) -> dict[str, list[dt.date]]:
    """``{source: [days]}`` of the partitions present (the empty placeholder excluded)."""
    out: dict[str, list[dt.date]] = {}
    for path in sorted(table_dir(settings, table_name).glob(f"source=*/date=*/{PARTITION_FILE}")):
        source = path.parent.parent.name.removeprefix("source=")
        if source == EMPTY_SOURCE or source in LEGACY_EMPTY_SOURCES:
            continue
        day = dt.date.fromisoformat(path.parent.name.removeprefix("date="))
        out.setdefault(source, []).append(day)
    return out


def ensure_tables(settings: Settings) -> list[Path]:
    """Write the typed empty placeholder of every canonical table that lacks one.

    An older lake's placeholder (``LEGACY_EMPTY_SOURCES``) is removed when it holds no rows.
    """
    written = []
    for t in TABLES.values():
        for legacy in LEGACY_EMPTY_SOURCES:
            old = partition_path(settings, t.name, legacy, EMPTY_DATE)
            if old.exists() and pq.ParquetFile(old).metadata.num_rows == 0:
                old.unlink()
                with contextlib.suppress(OSError):
                    old.parent.rmdir()
                    old.parent.parent.rmdir()
        path = partition_path(settings, t.name, EMPTY_SOURCE, EMPTY_DATE)
        if not path.exists():
            write_parquet_atomic(path, t.schema.empty_table())
            written.append(path)
    return written
