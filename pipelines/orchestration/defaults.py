"""What every DAG of the pipeline shares: start date and ``default_args`` (retries etc.)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.orchestration.alerts import on_failure_callback

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)

# DuckDB allows one writer per file: every task writing warehouse.duckdb or published/
# takes the single slot of this pool (created by `airflow pools set duckdb_writer 1 ...`).
DUCKDB_WRITER_POOL = "duckdb_writer"


def default_args(retries: int = 2, **extra: Any) -> dict[str, Any]:
    """Retries with exponential back-off (30 s, 60 s, 120 s, ... at most 15 min) and alerts."""
    return {
        "owner": "data-platform",
        "retries": retries,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=15),
        "on_failure_callback": on_failure_callback,
        **extra,
    }
