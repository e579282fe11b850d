"""Which landing files the ingest ledger has not accepted yet (stdlib only, read-only).

Used by the event trigger (in the triggerer) and by the daily catch-up run of each ingest
DAG. It never writes: it lists ``landing/<source>/<YYYY-MM-DD>/<file>``, hashes each file
(sha256 of its bytes, as the ledger does) and opens the ledger database read-only. A file
is pending when the ledger holds no ``loaded`` row for its (source, folder day, hash):
new files, restated files with new content, and quarantined files dropped back.

The naming rules (hidden files and the suffixes of files still being uploaded are
ignored) mirror ``pipelines.ingest``, which cannot be imported here because it loads
DuckDB, pyarrow and every source parser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

# Same as pipelines.ingest._IGNORED_SUFFIXES: uploads in progress and our sidecar files.
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart", "~", ".error.txt")


@dataclass(frozen=True)
class LandedFile:
    """One file in a dated landing folder."""

    source: str
    day: dt.date
    path: Path
    rel: str  # relative to the landing dir, as the ledger stores it
    size: int
    mtime_ns: int

    @property
    def stamp(self) -> tuple[str, int, int]:
        """Identity of this version of the file without reading it."""
        return (self.rel, self.size, self.mtime_ns)


def _day(name: str) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(name)
    except ValueError:
        return None
    return day if day.isoformat() == name else None


def landed_files(landing_dir: Path, source: str) -> list[LandedFile]:
    """Every file under ``landing/<source>/<YYYY-MM-DD>/``, sorted by day and name."""
    source_dir = landing_dir / source
    if not source_dir.is_dir():
        return []
    found: list[LandedFile] = []
    for day_dir in sorted(source_dir.iterdir()):
        day = _day(day_dir.name)
        if day is None or not day_dir.is_dir():
            continue
        for path in sorted(day_dir.iterdir()):
            name = path.name
            if name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
                continue
            try:
                st = path.stat()
            except FileNotFoundError:  # moved away (quarantined) while we listed
                continue
            if not path.is_file():
                continue
            found.append(
                LandedFile(
                    source=source,
                    day=day,
                    path=path,
                    rel=path.relative_to(landing_dir).as_posix(),
                    size=st.st_size,
                    mtime_ns=st.st_mtime_ns,
                )
            )
    return found


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def loaded_hashes(ledger_path: Path, source: str) -> set[tuple[str, str]]:
    """(folder day ISO, sha256) of every file the ledger accepted for ``source``.

    Opens the SQLite ledger read-only; a missing ledger means nothing was loaded yet.
    """
    if not ledger_path.exists():
        return set()
    con = sqlite3.connect(f"{ledger_path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        rows = con.execute(
            "select folder_date, file_hash from files where source = ? and status = 'loaded'",
            (source,),
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return set()
        raise
    finally:
        con.close()
    return {(str(d), str(h)) for d, h in rows}


def pending_files(
    landing_dir: Path,
    ledger_path: Path,
    source: str,
    hash_cache: dict[tuple[str, int, int], str] | None = None,
) -> list[LandedFile]:
    """The landed files of ``source`` that the ledger has not accepted (see module doc).

    ``hash_cache`` maps a file's ``stamp`` to its hash, so a long-running caller (the
    trigger) hashes each version of a file once.
    """
    cache = hash_cache if hash_cache is not None else {}
    loaded = loaded_hashes(ledger_path, source)
    pending: list[LandedFile] = []
    for f in landed_files(landing_dir, source):
        digest = cache.get(f.stamp)
        if digest is None:
            try:
                digest = file_sha256(f.path)
            except FileNotFoundError:
                continue
            cache[f.stamp] = digest
        if (f.day.isoformat(), digest) not in loaded:
            pending.append(f)
    return pending
