"""The whole pipeline for a date range: ingest -> build -> gate -> publish.

The CLI's ``attribution run`` and ``attribution demo`` and the tests call ``run``; the
Airflow DAGs call the same four steps as separate tasks. The invariants live in the
steps (publish refuses a build whose gate did not pass), so this module only composes
them and turns their outcomes into one exit code: 0 done, 1 failed, 2 bad input file
(quarantined), 3 gate blocked publication; the highest wins.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from pipelines.config import Settings
from pipelines.errors import EXIT_BAD_INPUT, EXIT_GATE_BLOCKED, EXIT_OK, GateBlockedError
from pipelines.progress import ProgressCallback, null_progress


@dataclass
class RunResult:
    run_id: str
    dates: list[dt.date]
    ingest: Any = None
    build: Any = None
    gate: Any = None
    publication: Any = None
    messages: list[str] = field(default_factory=list)
    exit_code: int = EXIT_OK

    @property
    def published(self) -> bool:
        return self.publication is not None


def date_range(start: dt.date, end: dt.date) -> list[dt.date]:
    if end < start:
        raise ValueError(
            f"--end {end} is before --start {start}; give an end on or after the start."
        )
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def new_run_id() -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{now}-{uuid.uuid4().hex[:6]}"


def run(
    settings: Settings,
    start: dt.date,
    end: dt.date | None = None,
    progress: ProgressCallback | None = None,
    run_id: str | None = None,
    full_refresh: bool = False,
) -> RunResult:
    """Ingest what landed for ``start..end``, build, gate and publish.

    A quarantined file does not stop the run (the other files load; exit code 2). A
    broken build (a model or unit test failing) raises ``PipelineError`` (exit 1) before
    anything is published. Data that fails dbt's data tests or the gate leaves the last
    publication untouched (exit 3).
    """
    from pipelines import publish as publish_step
    from pipelines import warehouse
    from pipelines.ingest import ingest
    from pipelines.quality.gate import run_gate

    progress = progress or null_progress
    end = end or start
    result = RunResult(run_id=run_id or new_run_id(), dates=date_range(start, end))

    warehouse.start_dbt_import()  # dbt loads while the files ingest
    result.ingest = ingest(settings, dates=result.dates, progress=progress)
    if result.ingest.exit_code == EXIT_BAD_INPUT:
        result.exit_code = EXIT_BAD_INPUT
        result.messages += [q.message for q in result.ingest.quarantined]
        result.messages += list(result.ingest.problems)

    try:
        result.build = warehouse.build(settings, full_refresh=full_refresh, progress=progress)
    except warehouse.BuildFailedError as exc:
        if not exc.only_data_tests_failed:
            raise
        # The models built but the data failed dbt's data tests (say, a currency with no
        # rate): an audit failure. The gate names it, publish refuses, exit 3.
        result.build = exc.result
        result.messages.append(str(exc))

    progress("start", step="gate", total=None)
    result.gate = run_gate(
        settings,
        run_id=result.run_id,
        run_date=end,
        data_dates=result.dates,
        full=full_refresh,
    )
    verdict = "passed" if result.gate.passed else f"{len(result.gate.failures)} failed"
    progress("done", step="gate", summary=verdict)
    progress("start", step="publish", total=None)
    try:
        result.publication = publish_step.publish(settings, run_id=result.run_id)
    except GateBlockedError as exc:
        result.messages.append(str(exc))
        result.exit_code = max(result.exit_code, EXIT_GATE_BLOCKED)
    progress("done", step="publish", summary="published" if result.published else "blocked")
    return result
