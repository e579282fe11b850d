"""The pipeline on a real Airflow 3 stack: files land -> ingest -> build -> gate -> publish.

Starts ``api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` (LocalExecutor,
SQLite, a temporary ``AIRFLOW_HOME``) on our ``dags/`` folder, then:

1. waits for the DAGs to be parsed;
2. drops two days of spend and currency exports into ``landing/``: the landing trigger
   fires, each ``ingest_<source>`` runs and announces ``lake_<source>``; the build waits,
   because it needs first-party events too;
3. drops the event logs: ``ingest_events`` -> ``build_warehouse`` (one run, consuming the
   queued lake events) -> ``published/marts.duckdb`` -> ``publish_report``;
4. checks the published marts equal the CLI's (``pipelines.run.run``) on the same files;
5. drops a malformed export: it is quarantined, ``ingest_google_ads`` fails its
   ``check_quarantine`` task, no build runs and the publication stays byte-identical.

Every process is stopped by PID in the fixture's teardown.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from airflow_stack import AirflowStack, wait_for

from pipelines.orchestration.assets import source_names
from pipelines.parity import BUILD_COLUMNS

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]

PII_SALT = "airflow-e2e-salt"
START = dt.date(2026, 3, 2)
DAYS = 2
EARLY_SOURCES = ["google_ads", "meta_ads", "fx_rates"]  # land before the events
EVENTS = "events"
TIMEOUT = 240  # seconds for each phase


@pytest.fixture
def stack(tmp_path):
    airflow_stack = AirflowStack(
        tmp_path / "airflow", tmp_path / "data", {"ATTRIBUTION_PII_SALT": PII_SALT}
    )
    try:
        airflow_stack.start()
        yield airflow_stack
    finally:
        airflow_stack.stop()


def make_landing(out_dir: Path) -> Path:
    """Two small days of synthetic exports for the sources under test."""
    from pipelines.synth import generate

    generate(out_dir, START, DAYS, seed=11, people=150, sources=[*EARLY_SOURCES, EVENTS])
    landing = out_dir / "landing"
    assert {p.name for p in landing.iterdir()} == {*EARLY_SOURCES, EVENTS}
    return landing


def start_cli_reference(landing: Path, data_dir: Path) -> subprocess.Popen:
    """The CLI's run on a copy of the same files, in the background (it overlaps Airflow)."""
    shutil.copytree(landing, data_dir / "landing")
    end = START + dt.timedelta(days=DAYS - 1)
    script = textwrap.dedent(
        f"""
        import datetime as dt
        from pipelines.config import load_settings
        from pipelines.run import run
        result = run(load_settings(), dt.date.fromisoformat("{START}"),
                     dt.date.fromisoformat("{end}"))
        raise SystemExit(result.exit_code)
        """
    )
    env = {**os.environ, "ATTRIBUTION_DATA_DIR": str(data_dir), "ATTRIBUTION_PII_SALT": PII_SALT}
    return subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def runs_of(stack: AirflowStack, dag_id: str, run_type: str | None = None) -> list[dict]:
    runs = stack.dag_runs(dag_id)
    return [r for r in runs if run_type is None or r["run_type"] == run_type]


def quiet(stack: AirflowStack) -> bool:
    """No DAG run queued or running."""
    return all(r["state"] in ("success", "failed") for r in stack.dag_runs())


def succeeded(stack: AirflowStack, dag_id: str, run_type: str, task_id: str) -> bool:
    for run in runs_of(stack, dag_id, run_type):
        if run["state"] == "failed":
            raise AssertionError(
                f"{dag_id} run {run['dag_run_id']} failed: "
                f"{stack.task_instances(dag_id, run['dag_run_id'])}" + stack.diagnostics()
            )
        if (
            run["state"] == "success"
            and stack.task_instances(dag_id, run["dag_run_id"]).get(task_id) == "success"
        ):
            return True
    return False


def copy_source(landing: Path, data_dir: Path, source: str) -> None:
    target = data_dir / "landing" / source
    tmp = data_dir / "landing" / f".{source}.incoming"  # hidden: not watched until renamed
    shutil.copytree(landing / source, tmp)
    os.replace(tmp, target)


def mart_tables(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()
    return sorted(r[0] for r in rows)


def assert_same_marts(airflow_db: Path, cli_db: Path) -> None:
    tables = [t for t in mart_tables(cli_db) if t != "publication_log"]
    assert tables, f"{cli_db} has no mart tables"
    assert [t for t in mart_tables(airflow_db) if t != "publication_log"] == tables
    con = duckdb.connect()
    con.execute(f"attach '{airflow_db}' as af (read_only)")
    con.execute(f"attach '{cli_db}' as cli (read_only)")
    for table in tables:
        cols = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_catalog = 'cli' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        # Float sums may differ in the last bits between two runs; compare them rounded.
        # When a row was written (BUILD_COLUMNS) differs between any two runs.
        select = ", ".join(
            f'round("{c}", 6) as "{c}"' if t in ("DOUBLE", "FLOAT") else f'"{c}"'
            for c, t in cols
            if c not in BUILD_COLUMNS
        )
        counts = con.execute(
            f"select (select count(*) from af.{table}), (select count(*) from cli.{table})"
        ).fetchone()
        assert counts[0] == counts[1], f"{table}: {counts[0]} rows via Airflow, {counts[1]} via CLI"
        diff = con.execute(
            f"select count(*) from ((select {select} from af.{table} except all "
            f"select {select} from cli.{table}) union all (select {select} from cli.{table} "
            f"except all select {select} from af.{table}))"
        ).fetchone()[0]
        assert diff == 0, f"{table}: {diff} rows differ between the Airflow and the CLI runs"
    con.close()


def test_landed_files_flow_through_airflow_to_the_same_marts_as_the_cli(stack, tmp_path):
    data_dir = stack.data_dir
    landing = make_landing(tmp_path / "staging")
    cli = start_cli_reference(landing, tmp_path / "cli")
    stack.ensure_pool("duckdb_writer", 1, "one DuckDB writer at a time")

    # 1. Every DAG is parsed; nothing runs before data lands (the daily run is at midnight).
    expected = {f"ingest_{s}" for s in source_names()} | {"build_warehouse", "publish_report"}
    wait_for("the DAGs", lambda: expected <= stack.dag_ids(), TIMEOUT, stack=stack)

    # 2. Spend and currency exports land: each source's trigger starts its ingestion.
    for source in EARLY_SOURCES:
        copy_source(landing, data_dir, source)
    for source in EARLY_SOURCES:
        wait_for(
            f"ingest_{source} started by its landing event",
            lambda s=source: succeeded(stack, f"ingest_{s}", "asset_triggered", "emit_lake_event"),
            TIMEOUT,
            interval=2,
            stack=stack,
        )
    assert runs_of(stack, "build_warehouse") == []  # waits for first-party events

    # 3. Events land: ingest_events -> build_warehouse -> publish -> publish_report.
    copy_source(landing, data_dir, EVENTS)
    wait_for(
        "build_warehouse to publish",
        lambda: succeeded(stack, "build_warehouse", "asset_triggered", "publish"),
        TIMEOUT,
        interval=2,
        stack=stack,
    )
    wait_for(
        "publish_report",
        lambda: succeeded(stack, "publish_report", "asset_triggered", "write_report"),
        TIMEOUT,
        interval=2,
        stack=stack,
    )
    wait_for("every run to finish", lambda: quiet(stack), TIMEOUT, interval=2, stack=stack)
    published = data_dir / "published" / "marts.duckdb"
    assert published.exists()
    assert (data_dir / "reports" / "kpi-report.html").exists()
    assert len(runs_of(stack, "build_warehouse")) == 1  # queued lake events -> one build

    days = [(START + dt.timedelta(days=i)).isoformat() for i in range(DAYS)]
    lake_events = stack.asset_events("lake_events")
    assert lake_events and sorted(lake_events[-1]["extra"]["dates"]) == days
    landing_events = stack.asset_events("landing_google_ads")
    assert landing_events[-1]["extra"]["from_trigger"] is True
    assert landing_events[-1]["extra"]["payload"]["dates"] == days
    # The trigger never deleted a delivered file.
    for source in [*EARLY_SOURCES, EVENTS]:
        delivered = sorted(p.relative_to(landing) for p in (landing / source).rglob("*.*"))
        kept = data_dir / "landing"
        assert delivered == sorted(p.relative_to(kept) for p in (kept / source).rglob("*.*"))

    # 4. The same marts as the CLI on the same files.
    out, _ = cli.communicate(timeout=TIMEOUT)
    assert cli.returncode == 0, f"the CLI reference run failed:\n{out[-4000:]}"
    assert_same_marts(published, tmp_path / "cli" / "published" / "marts.duckdb")

    # 5. A malformed export is quarantined; nothing is rebuilt or republished.
    before = published.read_bytes()
    builds_before = len(runs_of(stack, "build_warehouse"))
    bad_day = START + dt.timedelta(days=DAYS + 3)
    bad_dir = data_dir / "landing" / "google_ads" / bad_day.isoformat()
    bad_dir.mkdir()
    (bad_dir / "report.json").write_text('{"results": [{"campaign": ', encoding="utf-8")
    quarantined = data_dir / "quarantine" / "google_ads" / bad_day.isoformat() / "report.json"

    def failed_quarantine_check() -> bool:
        for run in runs_of(stack, "ingest_google_ads", "asset_triggered"):
            if run["state"] == "failed":
                tis = stack.task_instances("ingest_google_ads", run["dag_run_id"])
                return tis == {
                    "ingest": "success",
                    "emit_lake_event": "skipped",
                    "check_quarantine": "failed",
                }
        return False

    wait_for("the bad file's ingest run", failed_quarantine_check, TIMEOUT, interval=2, stack=stack)
    assert quarantined.exists()
    assert "report.json" in Path(f"{quarantined}.error.txt").read_text(encoding="utf-8")
    wait_for("every run to finish", lambda: quiet(stack), TIMEOUT, interval=2, stack=stack)
    assert len(runs_of(stack, "build_warehouse")) == builds_before
    assert published.read_bytes() == before

    # 6. A backfill re-runs ingestion and the build for a date range and gives the CLI's
    #    marts again: lose a lake partition, backfill both sources' ingestion, and the
    #    partition is rebuilt from the ledger's files and the warehouse rebuilt from it.
    lost = data_dir / "lake" / "raw" / "ad_delivery" / "source=google_ads" / f"date={START}"
    shutil.rmtree(lost)
    builds_before = len(runs_of(stack, "build_warehouse"))
    end = START + dt.timedelta(days=DAYS - 1)
    for dag_id in ("ingest_google_ads", "ingest_events"):
        stack.create_backfill(dag_id, START.isoformat(), end.isoformat())
    wait_for(
        "the backfilled ingestion to rebuild and publish",
        lambda: (
            len(runs_of(stack, "build_warehouse")) > builds_before
            and quiet(stack)
            and all(r["state"] == "success" for r in runs_of(stack, "build_warehouse"))
        ),
        TIMEOUT,
        interval=2,
        stack=stack,
    )
    assert len(runs_of(stack, "ingest_google_ads", "backfill")) == DAYS
    assert (lost / "data.parquet").exists()
    assert_same_marts(published, tmp_path / "cli" / "published" / "marts.duckdb")
