"""The quality gate: audit the lake and the warehouse build before publication.

``run_gate`` opens the warehouse READ-ONLY, turns the lake and the warehouse into frames
(``frames``), validates them with the expectation suites (``suites``) in an ephemeral
Great Expectations context, builds Data Docs into ``reports/data-docs/``, and writes the
result to ``state/gate.json`` together with the build id it checked (``state/build.json``)
and the warehouse file's fingerprint — ``publish`` refuses anything else. The result is
also appended to the publication log's working copy.

Great Expectations is imported inside ``run_gate`` only: importing it costs seconds.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from pipelines.config import Settings
from pipelines.quality import publication_log as plog
from pipelines.quality.result import ERROR, WARNING, Failure, GateResult, write_gate
from pipelines.quality.warehouse_tables import (
    published_marts,
    read_build,
    warehouse_fingerprint,
)

if TYPE_CHECKING:
    from pipelines.quality.suites import Check

SAMPLE_ROWS = 5
_GX_LOGGERS = ("great_expectations", "great_expectations.core", "great_expectations.data_context")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def _as_dates(values: list[date] | list[str] | None) -> list[date]:
    out = []
    for v in values or []:
        out.append(v if isinstance(v, date) else date.fromisoformat(str(v)))
    return sorted(set(out))


def _latest_lake_date(con: duckdb.DuckDBPyConnection, settings: Settings) -> date | None:
    from pipelines.quality.frames import _read, lake_tables_present

    latest = None
    for t in lake_tables_present(settings):
        (d,) = con.execute(f'select max(cast("date" as date)) from {_read(settings, t)}').fetchone()
        if d is not None and (latest is None or d > latest):
            latest = d
    return latest


def run_gate(
    settings: Settings,
    run_id: str | None = None,
    run_date: date | str | None = None,
    data_dates: list[date] | list[str] | None = None,
    full: bool = False,
) -> GateResult:
    """Validate the lake and the current warehouse build; write ``state/gate.json``.

    ``data_dates`` are the days this run loaded (volume checks look at those days; all
    days when None). ``run_date`` is the day freshness is measured against (default: the
    last of ``data_dates``, else the latest day in the lake). The lake's row checks read
    the partitions a passed gate has not validated unchanged (``lake_scope``), or every
    partition with ``full``; ``result.lake_partitions`` says how many. Never raises for
    failed expectations: the result says ``passed=False`` and lists them.
    """
    from pipelines.quality import lake_scope

    run_id = run_id or new_run_id()
    dates = _as_dates(data_dates)
    build = read_build(settings) or {}
    build_id = build.get("build_id")
    checked_at = datetime.now(UTC).isoformat(timespec="seconds")
    fingerprint = warehouse_fingerprint(settings)
    docs_dir = settings.paths.reports / "data-docs"

    result = GateResult(
        run_id=run_id,
        passed=False,
        checked_at=checked_at,
        build_id=build_id,
        data_dates=[d.isoformat() for d in dates],
        warehouse_fingerprint=fingerprint,
    )
    if fingerprint is None:
        result.failures.append(
            Failure(
                "expect_warehouse_exists",
                "warehouse",
                ERROR,
                f"{settings.paths.warehouse} does not exist; run `attribution build` first.",
            )
        )
        return _finish(settings, result)

    # within the configured threads and memory limit, spilling to the configured folder
    with duckdb.connect(
        str(settings.paths.warehouse), read_only=True, config=settings.duckdb_connect_config()
    ) as con:
        marts = published_marts(settings, con)
        if run_date is not None:
            rd = run_date if isinstance(run_date, date) else date.fromisoformat(str(run_date))
        elif dates:
            rd = dates[-1]
        else:
            rd = _latest_lake_date(con, settings) or datetime.now(UTC).date()
        result.run_date = rd.isoformat()
        result.tables = marts

        from pipelines.quality.suites import build_checks

        scopes: list[lake_scope.LakeScope] = []
        checks = build_checks(con, settings, marts, rd, dates or None, full, scopes)
        result.lake_partitions = {s.table: s.summary() for s in scopes}
        failures, evaluated = _validate(checks, run_id, docs_dir, settings.quality.gate_part_rows)
    result.expectations_evaluated = evaluated
    result.data_docs = str(docs_dir / "index.html")
    result.failures = [f for f in failures if f.severity == ERROR]
    result.warnings = [f for f in failures if f.severity == WARNING]
    if build.get("success") is False:
        failed = [str(n.get("name")) for n in build.get("failed") or [] if isinstance(n, dict)]
        result.failures.append(
            Failure(
                "expect_build_succeeded",
                "warehouse",
                ERROR,
                f"dbt build {build_id} failed"
                + (f" at {', '.join(failed[:5])}" if failed else "")
                + "; the warehouse holds a partial build: fix the cause and run "
                "`attribution build` again before publishing.",
            )
        )
    if warehouse_fingerprint(settings) != fingerprint:
        result.failures.append(
            Failure(
                "expect_warehouse_unchanged_during_gate",
                "warehouse",
                ERROR,
                f"{settings.paths.warehouse} changed while the gate ran; run the gate again "
                "after the build finishes.",
            )
        )
    if not result.failures:
        lake_scope.save(settings, scopes)
    return _finish(settings, result)


def _finish(settings: Settings, result: GateResult) -> GateResult:
    result.passed = not result.failures
    write_gate(settings, result)
    plog.append_entry(
        settings,
        plog.make_entry(
            result.run_id,
            stage="gate",
            result="passed" if result.passed else plog.BLOCKED,
            data_dates=result.data_dates,
            build_id=result.build_id,
            failed_expectations=[f"{f.expectation} on {f.table}" for f in result.failures],
            message=f"{len(result.failures)} errors, {len(result.warnings)} warnings",
        ),
    )
    return result


def _silence_gx() -> None:
    for name in _GX_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _validate(
    checks: list[Check], run_id: str, docs_dir: Any, part_rows: int
) -> tuple[list[Failure], int]:
    """Run every check in one ephemeral GX context; build Data Docs once at the end.

    A check whose frame is read in parts (``Check.parts``) runs its suite on each part in
    turn, each a validation of its own in Data Docs; what the parts find is reported as
    one failure per expectation, with the counts summed over the parts.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _silence_gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(
        "gate",
        {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    source = context.data_sources.add_pandas("gate")
    gx_run_id = RunIdentifier(run_name=run_id, run_time=datetime.now(UTC))
    failures: list[Failure] = []
    evaluated = 0
    for check in checks:
        suite = context.suites.add(gx.ExpectationSuite(name=check.suite))
        by_id = {}
        for exp in check.expectations:
            added = suite.add_expectation(exp)
            by_id[added.id] = exp
        result_format: dict[str, Any] = (
            {"result_format": "COMPLETE"}
            if check.split_by
            else {"result_format": "SUMMARY", "partial_unexpected_count": 20}
        )
        parts = check.parts(part_rows)
        found: dict[str, _Found] = {}
        elements: dict[str, int] = {}  # rows each expectation saw, over all the parts
        for part in range(parts):
            frame = check.load(part, parts)  # read now, dropped after this part
            if parts > 1 and frame.empty:
                # the table has rows (else it is one part): a table-level expectation such
                # as "not empty" must not fail on a part the hash left empty
                continue
            name = check.suite if parts == 1 else f"{check.suite} (part {part + 1} of {parts})"
            # an asset per part: Data Docs keep one page per asset and run
            batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("frame")
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(
                    name=f"gate.{name}",
                    validation_definitions=[definition],
                    actions=[],
                    result_format=result_format,
                )
            )
            run = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=gx_run_id)
            first = not elements
            for validation in run.run_results.values():
                for res in validation.results:
                    if first:  # an expectation counts once, whatever the parts
                        evaluated += 1
                    exp_id = res.expectation_config.id
                    elements[exp_id] = elements.get(exp_id, 0) + int(
                        (res.result or {}).get("element_count") or 0
                    )
                    if res.success:
                        continue
                    found.setdefault(exp_id, _Found(by_id.get(exp_id), res)).add(frame, res)
            # GX's pandas engine caches every batch's data for the context's lifetime
            _drop_cached_batches(source)
            del frame, run
        for exp_id, hit in found.items():
            hit.elements = elements[exp_id]
            failures.extend(_to_failures(check, hit))
    context.build_data_docs(site_names=["gate"])
    return failures, evaluated


def _drop_cached_batches(source: Any) -> None:
    """Forget the frames GX's pandas execution engine keeps: it caches every batch it is
    given for the life of the context, which held every part of every big table at once."""
    manager = source.get_execution_engine().batch_manager
    manager.batch_data_cache.clear()
    manager.reset_batch_cache()


class _Found:
    """What one expectation found unexpected, gathered over the parts of its frame."""

    def __init__(self, exp: Any, res: Any):
        self.exp = exp
        self.res = res  # the first failing result: its config and observed value
        self.rows: list[pd.DataFrame] = []
        self.unexpected = 0
        self.elements = 0  # set by the caller: the rows of every part, failing or not
        self.error: str | None = None

    def add(self, frame: pd.DataFrame, res: Any) -> None:
        info = res.exception_info or {}
        if info.get("raised_exception"):
            self.error = self.error or str(info.get("exception_message"))
            return
        r = res.result or {}
        idx = r.get("unexpected_index_list")
        if idx is None:
            idx = r.get("partial_unexpected_index_list") or []
        idx = [i["index"] if isinstance(i, dict) and "index" in i else i for i in idx]
        idx = [i for i in idx if i in frame.index]
        if idx:
            self.rows.append(frame.loc[idx])
        self.unexpected += int(r.get("unexpected_count") or len(idx))


def _json_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    if df.empty:
        return []
    return json.loads(df.to_json(orient="records", date_format="iso", default_handler=str))


def _describe_row(exp: Any, row: dict[str, Any], column: str | None) -> str:
    template = getattr(type(exp), "row_message", "") if exp is not None else ""
    values = dict(row)
    values["column"] = column
    values["value"] = row.get(column) if column else None
    cols = getattr(exp, "column_list", None)
    if cols:
        values["key"] = "(" + ", ".join(f"{c}={row.get(c)!r}" for c in cols) + ")"
    try:
        return template.format(**values) if template else ""
    except (KeyError, ValueError, TypeError, IndexError, AttributeError):
        return ", ".join(f"{k}={v!r}" for k, v in row.items())


def _to_failures(check: Check, found: _Found) -> list[Failure]:
    exp, config = found.exp, found.res.expectation_config
    name = config.type
    raw_severity = getattr(config, "severity", "critical")
    severity = WARNING if getattr(raw_severity, "value", raw_severity) == "warning" else ERROR
    column = config.kwargs.get("column") or getattr(exp, "column", None)
    if found.error is not None:
        return [
            Failure(
                name,
                check.table,
                severity,
                f"the check could not run on {check.suite}: {found.error}",
            )
        ]
    if not found.rows:
        r = found.res.result or {}
        observed = r.get("observed_value")
        detail = (
            f"{_label(exp, column)}: observed {observed!r}"
            if "observed_value" in r
            else (f"{_label(exp, column)}: not met")
        )
        return [Failure(name, check.table, severity, detail)]
    rows = pd.concat(found.rows) if len(found.rows) > 1 else found.rows[0]
    groups = (
        [
            (f"lake.{t}" if check.table == "lake" else str(t), g)
            for t, g in rows.groupby(check.split_by, sort=True)
        ]
        if check.split_by
        else [(check.table, rows)]
    )
    out = []
    for table, group in groups:
        samples = _json_rows(group.head(SAMPLE_ROWS))
        if check.split_by:
            count = f"{len(group)} rows"
        else:
            count = f"{found.unexpected} of {found.elements or '?'} rows"
        raw = group.head(3).to_dict("records")
        examples = "; ".join(_describe_row(exp, row, column) for row in raw)
        detail = f"{_label(exp, column)}: {count} unexpected, e.g. {examples}"
        out.append(Failure(name, table, severity, detail, samples))
    return out


def _label(exp: Any, column: str | None) -> str:
    desc = getattr(exp, "description", None) or ""
    where = f"column {column}" if column else ""
    cols = getattr(exp, "column_list", None)
    if cols:
        where = "columns " + ", ".join(cols)
    return f"{where} ({desc.rstrip('.')})" if where and desc else (where or desc.rstrip("."))


def format_gate_summary(result: GateResult, max_rows: int = 3) -> str:
    """A short console summary: verdict, then each failed expectation and a few rows."""
    verdict = "PASSED" if result.passed else "BLOCKED"
    lines = [
        f"Quality gate {verdict}: run {result.run_id}, build {result.build_id or '-'}, "
        f"{result.expectations_evaluated} expectations, {len(result.failures)} errors, "
        f"{len(result.warnings)} warnings."
    ]
    for label, items in (("ERROR", result.failures), ("WARN ", result.warnings)):
        for f in items:
            lines.append(f"  {label} {f.expectation} on {f.table}: {f.detail}")
            for row in f.sample_rows[:max_rows]:
                lines.append("         " + ", ".join(f"{k}={v}" for k, v in row.items()))
    partial = {t: n for t, n in result.lake_partitions.items() if n[0] < n[1]}
    if partial:
        lines.append(
            "Lake partitions validated (the others unchanged since a passed gate): "
            + ", ".join(f"{t} {n[0]} of {n[1]}" for t, n in sorted(partial.items()))
        )
    if result.data_docs:
        lines.append(f"Data Docs: {result.data_docs}")
    return "\n".join(lines)
