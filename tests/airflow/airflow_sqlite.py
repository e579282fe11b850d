"""SQLite settings for the test Airflow: its connection arguments and its journal mode.

The scheduler, the DAG processor, the API server and CLI commands share one SQLite file.

- ``CONNECT_ARGS`` (``sql_alchemy_connect_args`` and ``sql_alchemy_connect_args_async``):
  a writer waits up to ``timeout`` seconds for another's lock; sqlite3's default of 5 s was
  too short on a 2-core machine busy with builds.
- ``use_wal``: in SQLite's default rollback journal a reader blocks a writer's commit, and a
  transaction that has read and then wants to write while another writer commits gets
  "database is locked" at once, without waiting (SQLite refuses to wait where waiting could
  deadlock). Write-ahead logging lets readers and one writer go on together, which leaves
  only writer against writer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

CONNECT_ARGS = {"timeout": 60}


def use_wal(database: Path) -> None:
    """Switch ``database`` to write-ahead logging; the mode is stored in the file."""
    with sqlite3.connect(database, timeout=CONNECT_ARGS["timeout"]) as conn:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise RuntimeError(f"{database}: SQLite kept journal mode {mode!r}, not WAL")
