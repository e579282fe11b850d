"""The bodies of the Airflow tasks: thin adapters from a DAG run to the pipeline steps.

Each function takes plain values from the task context, calls the same step the CLI
calls, logs what happened and returns a small JSON-able summary (the task's XCom). The
steps are imported inside the functions: this module is imported at parse time by the
DAG files (through them, by every component and task), so it must stay cheap.

Which days a run processes (idempotent: re-running a run redoes the same days):

- a run started by asset events: the days named in the events' ``extra`` (``payload.dates``
  from ``LandingFileTrigger``, or ``dates`` in an event posted to the REST API or emitted by
  an upstream task);
- a scheduled (daily) run: its logical date's day, plus every day with a landed file the
  ledger has not accepted (files that arrived while no trigger was watching);
- a backfill run: its logical date's day only (``CronTriggerTimetable``: the data interval
  is the instant of the logical date), and its lake event is emitted for that day even
  when no file changed, so the warehouse is rebuilt for it;
- a manual run without dates: every day with a pending file.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

log = logging.getLogger("pipelines.orchestration")


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def dates_from_extra(extra: Mapping[str, Any] | None) -> set[dt.date]:
    """Days named in one asset event's ``extra`` (``dates``, or ``payload.dates``)."""
    if not extra:
        return set()
    found: set[dt.date] = set()
    candidates: list[Any] = [extra.get("dates"), extra.get("date")]
    payload = extra.get("payload")
    if isinstance(payload, Mapping):
        candidates += [payload.get("dates"), payload.get("date")]
    for value in candidates:
        values = value if isinstance(value, list | tuple) else [value]
        found.update(d for d in (_as_date(v) for v in values) if d is not None)
    return found


def dates_from_events(triggering_asset_events: Mapping[Any, Iterable[Any]] | None) -> list[dt.date]:
    """Union of the days named by every triggering asset event of a run."""
    found: set[dt.date] = set()
    for events in (triggering_asset_events or {}).values():
        for event in events:
            found |= dates_from_extra(getattr(event, "extra", None))
    return sorted(found)


def interval_dates(start: dt.datetime | None, end: dt.datetime | None) -> list[dt.date]:
    """The calendar days (UTC) of a data interval ``[start, end)``; one day if it is empty."""
    if start is None:
        return []
    first = start.astimezone(dt.UTC).date() if start.tzinfo else start.date()
    if end is None:
        return [first]
    last_instant = end.astimezone(dt.UTC) if end.tzinfo else end
    last = (last_instant - dt.timedelta(microseconds=1)).date() if end > start else first
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _log_progress(event: str, **info: Any) -> None:
    if event == "file":
        line = f"{info.get('file')}: {info.get('outcome')}"
        if info.get("rows") is not None:
            line += f" ({info['rows']} rows)"
        if info.get("message"):
            line += f" - {info['message']}"
        (log.error if info.get("outcome") == "quarantined" else log.info)(line)
    elif event == "partition":
        log.info(
            "partition %s/%s/%s rebuilt: %s rows",
            info.get("table"),
            info.get("source"),
            info.get("day"),
            info.get("rows"),
        )
    elif event == "node_done":
        log.info(
            "dbt node %s %-7s %s", info.get("index"), info.get("status"), info.get("unique_id")
        )
    elif event == "problem":
        log.error("%s", info.get("message"))
    else:
        detail = info.get("summary") or info.get("message") or info.get("item") or ""
        log.info("[%s] %s %s", info.get("step", event), event, detail)


def ingest_for_run(
    source: str,
    *,
    triggering_asset_events: Mapping[Any, Iterable[Any]] | None = None,
    data_interval_start: dt.datetime | None = None,
    data_interval_end: dt.datetime | None = None,
    run_type: str | None = None,
) -> dict[str, Any]:
    """Ingest one source for the days of this run (see the module docstring)."""
    from pipelines.config import load_settings
    from pipelines.ingest import ingest
    from pipelines.orchestration.landing import pending_files

    settings = load_settings()
    kind = str(getattr(run_type, "value", run_type) or "")
    event_dates = dates_from_events(triggering_asset_events)
    if event_dates:
        dates, why = set(event_dates), "named by the triggering asset events"
    elif data_interval_start is not None:
        dates = set(interval_dates(data_interval_start, data_interval_end))
        why = "of the run's data interval"
        if kind != "backfill":
            late = {
                f.day for f in pending_files(settings.paths.landing, settings.paths.ledger, source)
            }
            if late - dates:
                why += f" and days with files that arrived without an event ({len(late - dates)})"
            dates |= late
    else:
        pending = pending_files(settings.paths.landing, settings.paths.ledger, source)
        dates, why = {f.day for f in pending}, "with landed files not yet ingested"
    days = sorted(dates)
    log.info(
        "Ingesting %s for %d day(s) %s: %s",
        source,
        len(days),
        why,
        ", ".join(d.isoformat() for d in days) or "none",
    )
    result = ingest(settings, dates=days, sources=[source], progress=_log_progress)
    log.info("%s: %s", source, result.summary())
    rebuilt = sorted(result.partitions.get(source, []))
    event_days = set(rebuilt)
    if kind == "backfill":
        event_days |= {f.day for f in result.unchanged if f.source == source}
    return {
        "source": source,
        "requested_dates": [d.isoformat() for d in days],
        "rebuilt_dates": [d.isoformat() for d in rebuilt],
        "event_dates": [d.isoformat() for d in sorted(event_days)],
        "loaded": [f.file for f in result.loaded],
        "unchanged": len(result.unchanged),
        "quarantined": [
            {
                "file": q.file,
                "message": q.message,
                "quarantined_to": str(q.quarantined_to) if q.quarantined_to else None,
            }
            for q in result.quarantined
        ],
        "problems": list(result.problems),
    }


def lake_event_extra(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``extra`` of the ``lake_<source>`` event, or None when no partition changed."""
    if not summary.get("event_dates"):
        return None
    return {
        "source": summary["source"],
        "dates": list(summary["event_dates"]),
        "files": list(summary.get("loaded", [])),
    }


def quarantine_report(summary: Mapping[str, Any]) -> str | None:
    """One sentence plus one line per rejected file, or None when nothing was rejected."""
    quarantined = list(summary.get("quarantined", []))
    problems = list(summary.get("problems", []))
    if not quarantined and not problems:
        return None
    parts = []
    if quarantined:
        parts.append(f"{len(quarantined)} file(s) quarantined")
    if problems:
        parts.append(f"{len(problems)} misplaced landing item(s)")
    lines = [
        f"{summary['source']}: {' and '.join(parts)}; the other files were loaded. Fix each "
        f"file named below and drop it into its landing folder again."
    ]
    lines += [f"  {q['message']} (moved to {q['quarantined_to']})" for q in quarantined]
    lines += [f"  {p}" for p in problems]
    return "\n".join(lines)


def build_warehouse(triggering_asset_events: Mapping[Any, Iterable[Any]] | None = None) -> dict:
    """``dbt build`` (models, data tests, unit tests) via ``pipelines.warehouse.build``."""
    from pipelines.config import load_settings
    from pipelines.warehouse import build

    settings = load_settings()
    days = dates_from_events(triggering_asset_events)
    log.info("Building the warehouse for new data of %s", [d.isoformat() for d in days] or "-")
    result = build(settings, progress=_log_progress)
    nodes = list(getattr(result, "nodes", []) or [])
    slowest = sorted(nodes, key=lambda n: -float(getattr(n, "execution_time", 0) or 0))[:5]
    for node in slowest:
        log.info("slowest: %s %.2fs", node.unique_id, float(node.execution_time or 0))
    log.info("dbt build %s: %d node(s), success=%s", result.build_id, len(nodes), result.success)
    return {
        "build_id": str(result.build_id),
        "nodes": len(nodes),
        "dates": [d.isoformat() for d in days],
    }


class GateFailed(AirflowFailException):
    """The quality gate blocked publication: the task fails at once, without retries."""


def run_quality_gate(run_id: str, dates: list[str]) -> dict[str, Any]:
    """The quality gate; raises ``GateFailed`` listing the failed expectations."""
    from pipelines.config import load_settings
    from pipelines.quality.gate import format_gate_summary, run_gate

    settings = load_settings()
    days = sorted(dt.date.fromisoformat(d) for d in dates)
    result = run_gate(
        settings,
        run_id=run_id,
        run_date=days[-1] if days else None,
        data_dates=days or None,
    )
    text = format_gate_summary(result)
    for line in text.splitlines():
        (log.info if result.passed else log.error)("%s", line)
    if not result.passed:
        raise GateFailed(
            f"the quality gate blocked publication of run {run_id}: "
            f"{len(result.failures)} failed expectation(s); the last publication is kept.\n{text}"
        )
    return {"passed": True, "warnings": len(getattr(result, "warnings", []) or [])}


def publish_marts(run_id: str, dates: list[str]) -> dict[str, Any]:
    """Publish the gated build (``pipelines.publish.publish``); the ``published_marts`` extra."""
    from pipelines.config import load_settings
    from pipelines.publish import publish

    settings = load_settings()
    result = publish(settings, run_id=run_id)
    log.info("Published: %s", result)
    extra: dict[str, Any] = {"run_id": run_id, "dates": list(dates)}
    for name in ("version", "build_id", "published_at", "path"):
        value = getattr(result, name, None)
        if value is not None:
            extra[name] = str(value)
    return extra


def write_kpi_report() -> str:
    """The HTML report from the published marts (``pipelines.report.write_report``)."""
    from pipelines.config import load_settings
    from pipelines.report import write_report

    path = write_report(load_settings())
    log.info("Report written to %s", path)
    return str(path)
