"""Build the warehouse: run the dbt project (``dbt_project/``) in-process with the settings.

One implementation for the CLI, the Airflow DAGs and the tests: everything goes through
``dbt_invoke``, which hands dbt the project and profile folders
(``settings.dbt_project_dir``), the settings as ``--vars`` (``settings.dbt_vars()``), and
target/log folders under the data dir, so
several data dirs (parallel tests) never share dbt's working files. The profile
(``dbt_project/profiles.yml``) reads the warehouse path and the DuckDB limits from
environment variables that ``dbt_invoke`` sets around the call.

The dbt target is ``settings.warehouse.target``: ``duckdb`` (default) or ``spark``. Spark
has no dbt Python models: there ``build`` builds up to the data-driven math, computes the
``in_python`` tables with ``pipelines.attribution.outcomes`` and loads them through the
adapter (``compute_python_models``), then builds the rest.

``build`` runs ``dbt build`` (seeds, models, data tests; unit tests on request), records the outcome
in ``state/build.json`` (the build id the quality gate and publish check) and raises
``PipelineError`` naming the failed nodes. ``parse`` writes the manifest that Cosmos reads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.errors import PipelineError

if TYPE_CHECKING:
    from dbt.cli.main import dbtRunnerResult

    from pipelines.config import Settings

ProgressCallback = Callable[..., None]

logger = logging.getLogger(__name__)

# dbt keeps process-wide state (flags, adapters, event manager): one invocation at a time.
_DBT_LOCK = threading.Lock()

# Commands that take no --vars / --target-path.
_NO_PROJECT_COMMANDS = {"clean", "deps", "init", "debug"}

_FAILED_STATUSES = {"error", "fail", "runtime error"}

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class NodeResult:
    """The outcome of one dbt node (model, seed, data test, unit test)."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str | None = None
    execution_time: float = 0.0
    failures: int | None = None

    @property
    def failed(self) -> bool:
        return self.status in _FAILED_STATUSES


class BuildFailedError(PipelineError):
    """``dbt build`` failed; ``result`` holds every node's outcome."""

    def __init__(self, message: str, result: BuildResult):
        super().__init__(message)
        self.result = result

    @property
    def only_data_tests_failed(self) -> bool:
        """True when every failed node is a data test: the models built, the data is bad.

        That is an audit failure (the quality gate's business: exit 3), not a broken build
        (a model or unit test failing: exit 1).
        """
        failed = [n for n in self.result.nodes if n.failed]
        return bool(failed) and all(n.resource_type == "test" for n in failed)


@dataclass
class BuildResult:
    """What ``build`` did: ``success``, the dbt invocation id, and every node's result."""

    success: bool
    build_id: str
    finished_at: str
    elapsed_seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    # the tables rewritten after the build to drop their deleted rows (compact)
    compacted: list[Compaction] = field(default_factory=list)

    @property
    def models(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.resource_type == "model"]

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.failed]

    def to_state(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "finished_at": self.finished_at,
            "success": self.success,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "models": [
                {"name": n.name, "status": n.status, "execution_time": round(n.execution_time, 3)}
                for n in self.models
            ],
            "tests": {
                status: sum(
                    1
                    for n in self.nodes
                    if n.resource_type in {"test", "unit_test"} and n.status == status
                )
                for status in ("pass", "warn", "fail", "error", "skipped")
            },
            "failed": [asdict(n) for n in self.failed],
            "compacted": [asdict(c) for c in self.compacted],
        }


def target_path(settings: Settings) -> Path:
    """dbt's target folder (compiled SQL, run results, manifest) for this data dir."""
    return settings.paths.data_dir / "dbt" / "target"


def log_path(settings: Settings) -> Path:
    return settings.paths.logs / "dbt"


def manifest_path(settings: Settings) -> Path:
    """The manifest written by ``parse`` or any other dbt call (``manifest.json``)."""
    return target_path(settings) / "manifest.json"


def build_state_path(settings: Settings) -> Path:
    return settings.paths.state / "build.json"


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment variables ``dbt_project/profiles.yml`` reads."""
    duck = settings.duckdb_config()
    return {
        "ATTRIBUTION_WAREHOUSE_PATH": str(settings.paths.warehouse),
        "ATTRIBUTION_DBT_THREADS": str(settings.warehouse.threads),
        "ATTRIBUTION_DUCKDB_THREADS": str(duck["threads"]),
        "ATTRIBUTION_DUCKDB_MEMORY_LIMIT": str(duck["memory_limit"]),
        "ATTRIBUTION_DUCKDB_TEMP_DIRECTORY": str(duck["temp_directory"]),
        "ATTRIBUTION_SPARK_DIR": str(settings.paths.spark),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Generator[None, None, None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def dbt_args(settings: Settings, args: Sequence[str]) -> list[str]:
    """The full dbt argument list for ``args`` (a command and its own options)."""
    args = list(args)
    if not args:
        raise ValueError("dbt_invoke needs a dbt command, e.g. ['build']")
    project = str(settings.dbt_project_dir)
    common = ["--project-dir", project, "--profiles-dir", project]
    if args[0] in _NO_PROJECT_COMMANDS:
        return [*args, *common]
    return [
        *args,
        *common,
        "--target",
        settings.warehouse.target,
        "--target-path",
        str(target_path(settings)),
        "--log-path",
        str(log_path(settings)),
        "--vars",
        json.dumps(settings.dbt_vars(), sort_keys=True),
    ]


def start_dbt_import() -> threading.Thread:
    """Import dbt in a background thread, for a caller with other work to do before it
    builds (``run`` ingests first): importing dbt takes 1-2 s of a nightly run, which then
    overlaps the ingest (mostly DuckDB, which releases the GIL). A failed import is left
    for the build to raise: ``dbt_invoke`` imports dbt again and meets the same error.
    """

    def load() -> None:
        with contextlib.suppress(Exception):
            importlib.import_module("dbt.cli.main")

    thread = threading.Thread(target=load, name="dbt-import", daemon=True)
    thread.start()
    return thread


def dbt_invoke(
    settings: Settings,
    args: Sequence[str],
    callbacks: Sequence[Callable[[Any], None]] | None = None,
) -> dbtRunnerResult:
    """Run one dbt command in-process for these settings; returns dbt's result object."""
    from dbt.cli.main import dbtRunner

    full = dbt_args(settings, args)
    settings.duckdb_temp_directory.mkdir(parents=True, exist_ok=True)
    target_path(settings).mkdir(parents=True, exist_ok=True)
    log_path(settings).mkdir(parents=True, exist_ok=True)
    settings.paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with _DBT_LOCK, _environment(dbt_env(settings)):
        try:
            return dbtRunner(callbacks=list(callbacks or [])).invoke(full)
        finally:
            _release_duckdb()


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a command.

    dbt-duckdb caches one database instance per process; while it lives, this process
    cannot open the warehouse with another configuration (the gate's and publish's
    read-only connections), and no other process can write it.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter (the Spark port) keeps nothing open here
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if env is not None:
        with contextlib.suppress(Exception):
            env.close()


def parse(settings: Settings) -> Path:
    """Parse the project and write ``manifest.json`` (for Cosmos ``LoadMode.DBT_MANIFEST``)."""
    res = dbt_invoke(settings, ["parse"])
    if not res.success:
        raise PipelineError(
            f"dbt parse of {settings.dbt_project_dir} failed: {_first_line(res.exception)}; "
            f"fix the project (details in {log_path(settings) / 'dbt.log'})."
        )
    return manifest_path(settings)


def generate_docs(settings: Settings) -> Path:
    """Write dbt's documentation site as one self-contained page, ``reports/dbt-docs/index.html``.

    Reads the built warehouse for the catalog (column types, row counts): run after ``build``.
    """
    res = dbt_invoke(settings, ["docs", "generate", "--static"])
    page = target_path(settings) / "static_index.html"
    if not res.success or not page.exists():
        raise PipelineError(
            f"dbt docs generate failed: {_first_line(res.exception)}; build the warehouse "
            f"first (details in {log_path(settings) / 'dbt.log'})."
        )
    out = settings.paths.reports / "dbt-docs" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".html.tmp")
    tmp.write_bytes(page.read_bytes())
    os.replace(tmp, out)
    return out


def check_attribution_models(settings: Settings) -> None:
    """Every model listed in ``attribution.models`` needs its ``attr_<name>`` dbt model."""
    models_dir = settings.dbt_project_dir / "models"
    present = {p.stem for p in models_dir.rglob("attr_*") if p.suffix in {".sql", ".py"}}
    missing = [m for m in settings.attribution.models if f"attr_{m}" not in present]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        raise PipelineError(
            f"attribution.models lists {names} but {models_dir / 'attribution'} has no "
            f"attr_<name>.sql or .py for it; add the model file or remove the name from the "
            f"settings."
        )


# Models computed in Python by pipelines.attribution.outcomes (tag in_python): dbt Python
# models on DuckDB; on targets without Python models, computed here between two dbt
# invocations and loaded through the adapter (load_python_result).
IN_PYTHON_TAG = "in_python"
PYTHON_MODELS_TARGETS = {"duckdb"}


def runs_python_models(settings: Settings) -> bool:
    """True when the target runs the in_python dbt Python models itself (DuckDB)."""
    return settings.warehouse.target in PYTHON_MODELS_TARGETS


def query_model(settings: Settings, model: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows of ``columns`` of a built dbt model, read through dbt (any target)."""
    sql = f"select {', '.join(columns)} from {{{{ ref('{model}') }}}}"
    res = dbt_invoke(settings, ["show", "--inline", sql, "--limit", "-1", "--log-level", "none"])
    if not res.success or res.result is None or not res.result.results:
        raise PipelineError(
            f"reading {model} through dbt failed: {_first_line(res.exception)}; build it "
            f"first (details in {log_path(settings) / 'dbt.log'})."
        )
    table = res.result.results[0].agate_table
    return [tuple(row.values()) for row in table.rows]


def load_model_table(settings: Settings, model: str, frame: Any, types: dict[str, str]) -> None:
    """Replace the table of dbt model ``model`` by ``frame`` (through the adapter, any target).

    ``types`` maps each column to ``string``, ``bigint`` or ``double``; doubles travel as
    17-significant-digit literals, so they arrive bit for bit.
    """
    columns = list(types)
    rows = []
    for record in frame[columns].itertuples(index=False, name=None):
        row: list[Any] = []
        for value, column in zip(record, columns, strict=True):
            kind = types[column]
            if value is None or (kind != "string" and value != value):  # NaN
                row.append(None)
            elif kind == "string":
                row.append(str(value))
            elif kind == "bigint":
                row.append(str(int(value)))
            else:
                row.append(f"{float(value):.17e}")
        rows.append(row)
    args = {"model_name": model, "columns": [[c, types[c]] for c in columns], "rows": rows}
    res = dbt_invoke(settings, ["run-operation", "load_python_result", "--args", json.dumps(args)])
    if not res.success:
        raise PipelineError(
            f"loading {model} ({len(rows)} rows) through dbt failed: "
            f"{_first_line(res.exception)}; see {log_path(settings) / 'dbt.log'}."
        )


def compute_python_models(settings: Settings) -> list[NodeResult]:
    """Compute the in_python models from ``int_path_outcomes`` and load them (non-DuckDB).

    The same functions as the DuckDB Python models (pipelines.attribution.outcomes), with
    the same settings; returns one ``NodeResult`` per loaded model.
    """
    import pandas as pd

    from pipelines.attribution.outcomes import (
        OUTCOME_COLUMNS,
        path_channel_effects,
        path_credits,
    )

    started = time.monotonic()
    outcomes = pd.DataFrame(
        query_model(settings, "int_path_outcomes", OUTCOME_COLUMNS), columns=list(OUTCOME_COLUMNS)
    )
    a = settings.attribution
    double = "double"
    tables = {
        "int_path_credits": (
            path_credits(outcomes, a.path_transform, a.markov_order),
            {
                "path": "string",
                "path_position": "bigint",
                "markov_credit": double,
                "markov_value_credit": double,
                "shapley_credit": double,
            },
        ),
        "int_markov_channel_effects": (
            path_channel_effects(outcomes, a.path_transform, a.markov_order),
            {
                "channel": "string",
                "removal_effect": double,
                "value_removal_effect": double,
                "share": double,
                "attributed_conversions": double,
                "attributed_value": double,
            },
        ),
    }
    results = []
    for name, (frame, types) in tables.items():
        load_model_table(settings, name, frame, types)
        results.append(
            NodeResult(
                unique_id=f"model.attribution.{name}",
                name=name,
                resource_type="model",
                status="success",
                message=f"computed in Python and loaded ({len(frame)} rows)",
                execution_time=time.monotonic() - started,
            )
        )
    return results


def build(
    settings: Settings,
    full_refresh: bool = False,
    select: Sequence[str] | str | None = None,
    progress: ProgressCallback | None = None,
    quiet: bool | None = None,
    exclude: Sequence[str] | str | None = None,
    unit_tests: bool | None = None,
) -> BuildResult:
    """Run ``dbt build``; write ``state/build.json``; raise ``PipelineError`` on failure.

    ``select`` is a dbt selection (``"tag:published"``, ``["+fct_ad_spend_daily"]``),
    ``exclude`` one to leave out. ``unit_tests`` runs dbt's unit tests too (default:
    ``settings.warehouse.unit_tests``, off: they test the SQL, not the data).
    ``progress(event, **info)`` is called with ``"node_done"`` (``name``, ``status``,
    ``resource_type``, ``index``) as each node finishes, and ``"build_done"`` at the end.
    ``quiet`` silences dbt's own console log (errors still print); by default it is on
    when a ``progress`` callback reports instead. The full log is always in ``logs/dbt``.
    """
    from pipelines.lake import ensure_tables

    check_attribution_models(settings)
    ensure_tables(settings)  # every lake table readable, even before its first delivery

    args = ["build"]
    if quiet is None:
        quiet = progress is not None
    if quiet:
        args.append("--quiet")
    inputs = inputs_fingerprint(settings)
    last = _last_inputs(settings)
    if not full_refresh and last not in (None, inputs):
        # Channel rules, seeds, attribution settings or models changed since the last build:
        # incremental tables would keep old rows computed under the old rules. Or the last
        # build stopped part way (or built a selection): the record of whose events changed
        # (int_event_changes) is gone, and the tables after it never saw those changes.
        full_refresh = True
        if progress is not None:
            progress(
                "info",
                message=(
                    "the last build did not finish or built a selection: rebuilding every table"
                    if last == INCOMPLETE_BUILD
                    else "rules, settings or models changed: rebuilding every table"
                ),
            )
    # Until a complete build succeeds, the next one rebuilds every table.
    _inputs_state_path(settings).parent.mkdir(parents=True, exist_ok=True)
    _inputs_state_path(settings).write_text(INCOMPLETE_BUILD, encoding="utf-8")
    if full_refresh:
        args.append("--full-refresh")
    if not (settings.warehouse.unit_tests if unit_tests is None else unit_tests):
        args += ["--exclude-resource-type", "unit_test"]
    if select:
        args += ["--select", *([select] if isinstance(select, str) else list(select))]

    counter: dict[str, Any] = {"n": 0, "invocation_id": ""}

    def on_event(event: Any) -> None:
        counter["invocation_id"] = counter["invocation_id"] or event.info.invocation_id
        if progress is None or event.info.name != "NodeFinished":
            return
        info = event.data.node_info
        counter["n"] += 1
        progress(
            "node_done",
            name=info.node_name,
            unique_id=info.unique_id,
            resource_type=info.resource_type,
            status=info.node_status,
            index=counter["n"],
        )

    if progress is not None:
        progress("start", step="build", total=None)
    started = time.monotonic()
    nodes: list[NodeResult] = []
    excluded = [exclude] if isinstance(exclude, str) else list(exclude or [])
    if runs_python_models(settings):
        res = dbt_invoke(
            settings, [*args, *(["--exclude", *excluded] if excluded else [])], [on_event]
        )
        run = res.result
        nodes += _node_results(run)
    else:
        # No dbt Python models on this target: build everything up to the Python math,
        # compute it here and load it, then build what depends on it.
        res = dbt_invoke(
            settings, [*args, "--exclude", f"tag:{IN_PYTHON_TAG}+", *excluded], [on_event]
        )
        run = res.result
        nodes += _node_results(run)
        if res.success and not select:
            nodes += compute_python_models(settings)
            res = dbt_invoke(
                settings,
                [
                    *args,
                    "--select",
                    f"tag:{IN_PYTHON_TAG}+",
                    "--exclude",
                    f"tag:{IN_PYTHON_TAG},resource_type:model",
                    *excluded,
                ],
                [on_event],
            )
            run = res.result
            nodes += _node_results(run)
    elapsed = time.monotonic() - started
    finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    build_id = str(counter["invocation_id"] or "")
    result = BuildResult(
        success=bool(res.success) and not any(n.failed for n in nodes),
        build_id=build_id or _fallback_build_id(),
        finished_at=finished_at,
        elapsed_seconds=elapsed,
        nodes=nodes,
    )
    if result.success and not select and settings.warehouse.target == "duckdb":
        # a table that cannot be rewritten stays as it was: the build still succeeded
        result.compacted = compact(settings, progress=progress, keep_going=True)
        result.elapsed_seconds = time.monotonic() - started
    _write_state(settings, result)
    if result.success and not select:
        _inputs_state_path(settings).write_text(inputs, encoding="utf-8")
    if progress is not None:
        progress("build_done", success=result.success, build_id=result.build_id)
    if not result.success:
        raise BuildFailedError(_failure_message(settings, res, result, run), result)
    return result


@dataclass(frozen=True)
class Compaction:
    """One table ``compact`` rewrote: the rows it keeps, the deleted rows it held, the time."""

    table: str
    rows: int
    deleted_rows: int
    seconds: float


def dead_rows(con: Any) -> list[tuple[str, str, int, int]]:
    """``(schema, table, rows, deleted_rows)`` of each base table of a DuckDB database.

    DuckDB's ``estimated_size`` counts the rows a table stores, deleted ones included, until
    a rewrite drops them; ``count(*)`` skips them.
    """
    tables = con.execute(
        "select schema_name, table_name, estimated_size from duckdb_tables() "
        "where database_name = current_database() and not temporary "
        "order by schema_name, table_name"
    ).fetchall()
    out = []
    for schema, table, stored in tables:
        rows = con.execute(f"select count(*) from {_quoted(schema, table)}").fetchone()[0]
        out.append((schema, table, rows, max(int(stored) - rows, 0)))
    return out


def compact(
    settings: Settings,
    dead_share: float | None = None,
    progress: ProgressCallback | None = None,
    keep_going: bool = False,
) -> list[Compaction]:
    """Rewrite each warehouse table whose deleted rows pass ``dead_share`` of what it stores.

    Incremental models replace their changed slices (delete, then insert), and the deleted
    rows stay in the file: DuckDB's checkpoint vacuum only merges row groups that lost most
    of their rows, which deletes spread over every person never produce, and it cost a
    nightly build 14% of its time (DECISIONLOG), so the dbt profile turns it off
    (``max_vacuum_tasks: 0``) and this rewrite reclaims the space instead, table by table,
    when it is worth it. A rewrite keeps the table's definition (columns, types,
    constraints) and row order and runs in one transaction: a failure leaves the table as
    it was. ``dead_share`` defaults to ``warehouse.compact_dead_share``; tables storing
    fewer than ``warehouse.compact_min_rows`` rows are left alone. A rewrite that fails
    raises, or with ``keep_going`` is reported (``progress`` and the log) and the next
    table is tried.
    """
    import duckdb

    share = settings.warehouse.compact_dead_share if dead_share is None else dead_share
    min_rows = settings.warehouse.compact_min_rows
    done: list[Compaction] = []
    with duckdb.connect(
        str(settings.paths.warehouse), config=settings.duckdb_connect_config()
    ) as con:
        for schema, table, rows, deleted in dead_rows(con):
            stored = rows + deleted
            if stored < min_rows or deleted == 0 or deleted < share * stored:
                continue
            started = time.monotonic()
            try:
                _rewrite_table(con, schema, table)
            except duckdb.Error as exc:
                if not keep_going:
                    raise
                message = (
                    f"compacting {schema}.{table} failed, the table is unchanged: "
                    f"{_first_line(exc)}"
                )
                logger.warning(message)
                if progress is not None:
                    progress("info", message=message)
                continue
            done.append(Compaction(f"{schema}.{table}", rows, deleted, time.monotonic() - started))
            if progress is not None:
                progress(
                    "info",
                    message=(
                        f"compacted {schema}.{table}: dropped {deleted:,} deleted rows "
                        f"({deleted / stored:.0%} of {stored:,}) in {done[-1].seconds:.1f} s"
                    ),
                )
        if done:
            con.execute("checkpoint")
    return done


def _rewrite_table(con: Any, schema: str, table: str) -> None:
    """Copy a table's live rows into a fresh table of the same definition, in one transaction."""
    (ddl,) = con.execute(
        "select sql from duckdb_tables() "
        "where database_name = current_database() and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    old = f"{table}__compacting"
    con.execute("begin transaction")
    try:
        # The table moves aside under another name; its own DDL then creates it anew.
        con.execute(f"alter table {_quoted(schema, table)} rename to {_quoted(old)}")
        con.execute(ddl)
        con.execute(f"insert into {_quoted(schema, table)} select * from {_quoted(schema, old)}")
        con.execute(f"drop table {_quoted(schema, old)}")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _quoted(*parts: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def inputs_fingerprint(settings: Settings) -> str:
    """A hash of what decides how history is computed: the dbt vars, the seeds, and the
    code of the models and macros.

    When it differs from the last successful build's, ``build`` runs a full refresh, so
    an edited channel rule or lookback, or an upgraded model, never leaves incremental
    tables half old (or missing a column the new code reads).
    """
    h = hashlib.sha256()
    dbt_vars = {k: v for k, v in settings.dbt_vars().items() if k != "lake_dir"}
    h.update(json.dumps(dbt_vars, sort_keys=True, default=str).encode())
    project = Path(settings.dbt_project_dir)
    files = sorted((project / "seeds").rglob("*.csv"))
    for folder in ("models", "macros"):
        files += sorted(p for p in (project / folder).rglob("*") if p.suffix in (".sql", ".py"))
    for path in files:
        h.update(path.relative_to(project).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


# What state/build_inputs.sha256 holds while a build runs, and after one that failed or
# built only a selection: never a fingerprint, so the next build rebuilds every table.
INCOMPLETE_BUILD = "incomplete"


def _inputs_state_path(settings: Settings) -> Path:
    return settings.paths.state / "build_inputs.sha256"


def _last_inputs(settings: Settings) -> str | None:
    path = _inputs_state_path(settings)
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def _node_results(run: Any) -> list[NodeResult]:
    nodes: list[NodeResult] = []
    if run is not None and hasattr(run, "results"):
        for r in run.results:
            node = r.node
            nodes.append(
                NodeResult(
                    unique_id=node.unique_id,
                    name=node.name,
                    resource_type=str(node.resource_type),
                    status=str(r.status),
                    message=r.message,
                    execution_time=float(r.execution_time or 0.0),
                    failures=r.failures,
                )
            )
    return nodes


def _fallback_build_id() -> str:
    return "failed-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")


def _write_state(settings: Settings, result: BuildResult) -> None:
    path = build_state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result.to_state(), indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _first_line(value: object, max_lines: int = 3) -> str:
    """The first few non-empty lines of a dbt message, on one line."""
    text = _ANSI.sub("", str(value or "")).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[:max_lines]) if lines else "unknown error"


def _failure_sample(settings: Settings, run: Any, unique_id: str, limit: int = 3) -> str:
    """The first stored failing rows of a data test (tests configured with store_failures)."""
    if run is None:
        return ""
    relation = None
    for r in run.results:
        if r.node.unique_id == unique_id:
            relation = getattr(r.node, "relation_name", None)
    if not relation:
        return ""
    import duckdb

    try:
        with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
            cur = con.execute(f"select * from {relation} limit {int(limit)}")
            cols = [d[0] for d in cur.description]
            rows = cur.fetchall()
    except duckdb.Error:
        return ""
    return "; ".join(", ".join(f"{c}={v}" for c, v in zip(cols, row, strict=True)) for row in rows)


def _failure_message(settings: Settings, res: Any, result: BuildResult, run: Any) -> str:
    logs = log_path(settings) / "dbt.log"
    if not result.failed:
        return (
            f"dbt build failed before running any node: {_first_line(res.exception)}; "
            f"fix the dbt project or settings (details in {logs})."
        )
    parts = []
    for n in result.failed[:5]:
        detail = _first_line(n.message)
        sample = (
            _failure_sample(settings, run, n.unique_id)
            if n.resource_type == "test" and settings.warehouse.target == "duckdb"
            else ""
        )
        parts.append(f"{n.name} ({n.status}: {detail}{'; rows: ' + sample if sample else ''})")
    more = f" and {len(result.failed) - 5} more" if len(result.failed) > 5 else ""
    return (
        f"dbt build failed at {len(result.failed)} node(s): {', '.join(parts)}{more}; "
        f"fix the data or the model, then rebuild (details in {logs})."
    )
