"""The publication log's working copy: ``state/publication_log.jsonl``.

Every publication attempt is one line: a gate that blocked, a publish that was refused,
failed or succeeded, a rollback. ``publish`` copies the log into the published database
as the table ``publication_log`` (the log as of that publication, itself included).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.config import Settings

PUBLISHED, BLOCKED, FAILED, ROLLED_BACK = "published", "blocked", "failed", "rolled_back"

# Columns of the published ``publication_log`` table, in order.
LOG_COLUMNS = (
    "attempted_at",
    "run_id",
    "stage",
    "result",
    "data_dates",
    "build_id",
    "version",
    "failed_expectations",
    "message",
)


def log_path(settings: Settings) -> Path:
    return settings.paths.state / "publication_log.jsonl"


def make_entry(
    run_id: str,
    stage: str,
    result: str,
    data_dates: list[str] | None = None,
    build_id: str | None = None,
    version: str | None = None,
    failed_expectations: list[str] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    return {
        "attempted_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "run_id": run_id,
        "stage": stage,
        "result": result,
        "data_dates": ",".join(data_dates or []),
        "build_id": build_id,
        "version": version,
        "failed_expectations": "; ".join(failed_expectations or []),
        "message": message,
    }


def append_entry(settings: Settings, entry: dict[str, Any]) -> None:
    """Append one line (one ``write`` of a whole line, then fsync)."""
    path = log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({k: entry.get(k) for k in LOG_COLUMNS}, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_entries(settings: Settings) -> list[dict[str, Any]]:
    """Every entry of the working copy, oldest first (a torn last line is ignored)."""
    path = log_path(settings)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            out.append({k: row.get(k) for k in LOG_COLUMNS})
    return out
