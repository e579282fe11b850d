"""The ingestion ledger: every landing file seen, by content hash, and what became of it.

A SQLite database at ``settings.paths.ledger`` (``lake/_ledger.sqlite``) in WAL mode with a
busy timeout, so several processes (one Airflow task per source) can ingest at once. Each
write is one short ``BEGIN IMMEDIATE`` transaction; ``transaction()`` groups several writes
into one (ingest writes a landing folder's rows together, see ``pipelines.ingest``).

Table ``files``: one row per (source, folder day, sha256) with the first path it came
under, its size and mtime, when it was first accepted (``first_seen_at``, also the lineage
column ``delivered_at``), ``status`` (``loaded`` or ``quarantined``), the rows it loaded and
the partition they went to, or the reason it was rejected. A file re-delivered with the
same bytes is a no-op. A quarantined file dropped back (fixed, or after a parser fix) is
parsed again; if it loads, ``first_seen_at`` becomes the time it was accepted.

Table ``deliveries``: every (path, hash) ever seen, so a copy of a known file under another
name is recorded too (``status`` compares landing with it).

Table ``partitions``: per (source, folder day), the digest of the accepted files (hashes,
order and lineage, ``files_digest``) the lake partition was last built from. Ingest rebuilds
a partition whose digest differs from the ledger's, so a crash between recording files and
rebuilding their partition is repaired by the next ingest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
create table if not exists files (
    source text not null,
    folder_date text not null,
    file_hash text not null,
    source_file text not null,
    size_bytes integer,
    mtime real,
    first_seen_at text not null,
    updated_at text not null,
    status text not null,
    table_name text,
    rows integer,
    partition_path text,
    message text,
    primary key (source, folder_date, file_hash)
);
create table if not exists deliveries (
    source_file text not null,
    file_hash text not null,
    source text not null,
    folder_date text not null,
    first_seen_at text not null,
    primary key (source_file, file_hash)
);
create table if not exists partitions (
    source text not null,
    folder_date text not null,
    files_digest text not null,
    built_at text not null,
    primary key (source, folder_date)
);
"""

LOADED = "loaded"
QUARANTINED = "quarantined"


@dataclass(frozen=True)
class FileRecord:
    source: str
    folder_date: dt.date
    file_hash: str
    source_file: str
    size_bytes: int | None
    mtime: float | None
    first_seen_at: dt.datetime
    updated_at: dt.datetime
    status: str
    table_name: str | None
    rows: int | None
    partition_path: str | None
    message: str | None

    @classmethod
    def _from_row(cls, row: sqlite3.Row) -> FileRecord:
        d = dict(row)
        d["folder_date"] = dt.date.fromisoformat(d["folder_date"])
        d["first_seen_at"] = dt.datetime.fromisoformat(d["first_seen_at"])
        d["updated_at"] = dt.datetime.fromisoformat(d["updated_at"])
        return cls(**d)


def files_digest(records: Sequence[FileRecord]) -> str:
    """What a partition is built from: the accepted files, in order, with their lineage."""
    h = hashlib.sha256()
    for r in records:
        h.update(f"{r.file_hash} {r.first_seen_at.isoformat()} {r.source_file}\n".encode())
    return h.hexdigest()


class Ledger:
    """Access to the ledger database; cheap to create, one connection per instance."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(path, timeout=60, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("pragma busy_timeout = 60000")
        self._conn.execute("pragma journal_mode = wal")
        self._conn.execute("pragma synchronous = normal")
        with self._write() as c:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    c.execute(stmt)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Generator[None]:
        """Group the writes inside into one transaction (committed at the end, or rolled back
        if the block raises). Writes outside a ``transaction()`` commit one by one."""
        with self._write():
            yield

    @contextmanager
    def _write(self) -> Generator[sqlite3.Connection]:
        if self._conn.in_transaction:  # inside transaction(): its commit covers this write
            yield self._conn
            return
        self._conn.execute("begin immediate")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("rollback")
            raise
        self._conn.execute("commit")

    def get(self, source: str, day: dt.date, file_hash: str) -> FileRecord | None:
        row = self._conn.execute(
            "select * from files where source = ? and folder_date = ? and file_hash = ?",
            (source, day.isoformat(), file_hash),
        ).fetchone()
        return FileRecord._from_row(row) if row else None

    def record_delivery(
        self, source_file: str, file_hash: str, source: str, day: dt.date, seen_at: dt.datetime
    ) -> None:
        with self._write() as c:
            c.execute(
                "insert or ignore into deliveries values (?, ?, ?, ?, ?)",
                (source_file, file_hash, source, day.isoformat(), seen_at.isoformat()),
            )

    def record(
        self,
        *,
        source: str,
        day: dt.date,
        file_hash: str,
        source_file: str,
        size_bytes: int,
        mtime: float,
        seen_at: dt.datetime,
        status: str,
        table_name: str | None = None,
        rows: int | None = None,
        partition_path: str | None = None,
        message: str | None = None,
    ) -> FileRecord:
        """Insert or update the file's row (a re-parsed quarantined file is updated)."""
        with self._write() as c:
            c.execute(
                """
                insert into files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                on conflict (source, folder_date, file_hash) do update set
                    source_file = excluded.source_file,
                    size_bytes = excluded.size_bytes,
                    mtime = excluded.mtime,
                    first_seen_at = case when files.status = 'loaded'
                        then files.first_seen_at else excluded.first_seen_at end,
                    updated_at = excluded.updated_at,
                    status = excluded.status,
                    table_name = excluded.table_name,
                    rows = excluded.rows,
                    partition_path = excluded.partition_path,
                    message = excluded.message
                """,
                (
                    source,
                    day.isoformat(),
                    file_hash,
                    source_file,
                    size_bytes,
                    mtime,
                    seen_at.isoformat(),
                    seen_at.isoformat(),
                    status,
                    table_name,
                    rows,
                    partition_path,
                    message,
                ),
            )
        rec = self.get(source, day, file_hash)
        assert rec is not None
        return rec

    def loaded_files(self, source: str, day: dt.date) -> list[FileRecord]:
        """The accepted files of one landing folder, oldest delivery first.

        Order: first accepted, then file mtime, then path (the restatement order: a later
        file's rows replace an earlier one's rows with the same grain key).
        """
        rows = self._conn.execute(
            """
            select * from files
            where source = ? and folder_date = ? and status = 'loaded'
            order by first_seen_at, mtime, source_file
            """,
            (source, day.isoformat()),
        ).fetchall()
        return [FileRecord._from_row(r) for r in rows]

    def built_digest(self, source: str, day: dt.date) -> str | None:
        """The ``files_digest`` the (source, day) partition was last built from, if any."""
        row = self._conn.execute(
            "select files_digest from partitions where source = ? and folder_date = ?",
            (source, day.isoformat()),
        ).fetchone()
        return row[0] if row else None

    def mark_built(self, source: str, day: dt.date, digest: str | None) -> None:
        """Note what the partition was built from (``None``: it was removed)."""
        with self._write() as c:
            if digest is None:
                c.execute(
                    "delete from partitions where source = ? and folder_date = ?",
                    (source, day.isoformat()),
                )
                return
            c.execute(
                "insert or replace into partitions values (?, ?, ?, ?)",
                (source, day.isoformat(), digest, dt.datetime.now(dt.UTC).isoformat()),
            )

    def files(self, source: str | None = None) -> list[FileRecord]:
        """Every file row (for ``status``), ordered by source, day and delivery."""
        sql = "select * from files"
        args: tuple[str, ...] = ()
        if source is not None:
            sql += " where source = ?"
            args = (source,)
        sql += " order by source, folder_date, first_seen_at, source_file"
        return [FileRecord._from_row(r) for r in self._conn.execute(sql, args).fetchall()]

    def delivered_paths(self) -> set[str]:
        """Every landing path (relative to the landing dir) the ledger has seen."""
        return {r[0] for r in self._conn.execute("select source_file from deliveries")}
