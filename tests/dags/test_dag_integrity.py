"""DAG integrity: every DAG file loads, is documented, retries, and is scheduled as designed.

Loads ``dags/`` with Airflow's own ``DagBag`` (no metadata database needed), checks each
DAG's schedule against DESIGN (ingest per source on its landing asset or daily; the build
on ``lake_events & (any other lake asset)``; the report on ``published_marts``), and imports
each DAG file in a fresh interpreter to prove no heavy library loads at parse time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import Asset, AssetAll, AssetAny, AssetOrTimeSchedule, CronTriggerTimetable
from airflow.serialization.decoders import decode_timetable
from airflow.serialization.encoders import encode_timetable
from airflow.timetables.base import TimeRestriction

from pipelines.orchestration import assets
from pipelines.orchestration.alerts import on_failure_callback
from pipelines.orchestration.defaults import DUCKDB_WRITER_POOL
from pipelines.orchestration.triggers import LandingFileTrigger
from pipelines.sources import source_names

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS = PROJECT_ROOT / "dags"
HEAVY = ("great_expectations", "dbt", "cosmos", "pandas", "pyarrow", "duckdb", "numpy")


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS), bundle_name="dags-folder")


def test_no_import_errors_and_one_ingest_dag_per_source(dagbag):
    assert dagbag.import_errors == {}
    expected = {f"ingest_{s}" for s in source_names()} | {"build_warehouse", "publish_report"}
    assert set(dagbag.dags) == expected


def test_parse_time_source_list_matches_the_registry():
    assert assets.source_names() == source_names()
    assert len(source_names()) >= 2


def test_every_dag_is_documented_tagged_and_retries_with_backoff(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md and len(dag.doc_md) > 100, dag_id
        assert "attribution" in dag.tags, dag_id
        assert dag.catchup is False, dag_id
        assert dag.max_active_runs == 1, dag_id
        assert dag.default_args["retries"] >= 2, dag_id
        assert dag.default_args["retry_exponential_backoff"] >= 2, dag_id
        for task in dag.tasks:
            assert task.on_failure_callback == [on_failure_callback], (dag_id, task.task_id)
            # Only the checks whose failure is about the data itself fail without retries.
            expected = 0 if task.task_id in ("check_quarantine", "quality_gate") else 2
            assert task.retries >= expected, (dag_id, task.task_id)


def test_ingest_dags_start_on_landing_events_or_daily(dagbag):
    for source in source_names():
        dag = dagbag.dags[f"ingest_{source}"]
        timetable = dag.timetable
        assert isinstance(timetable, AssetOrTimeSchedule)
        assert dag.start_date is None  # the first daily run is the next midnight
        assert timetable.timetable == CronTriggerTimetable(
            "0 0 * * *", timezone="UTC", run_immediately=timedelta(0)
        )
        # ... whatever the time of day: not the last midnight's, even shortly after it
        first = decode_timetable(encode_timetable(timetable.timetable)).next_dagrun_info(
            last_automated_data_interval=None,
            restriction=TimeRestriction(earliest=None, latest=None, catchup=False),
        )
        assert first.run_after > datetime.now(UTC)
        landing = timetable.asset_condition
        assert isinstance(landing, Asset)
        assert (landing.name, landing.uri) == (
            f"landing_{source}",
            f"attribution://landing/{source}",
        )
        (watcher,) = landing.watchers
        assert isinstance(watcher.trigger, LandingFileTrigger)
        assert watcher.trigger.serialize() == (
            "pipelines.orchestration.triggers.LandingFileTrigger",
            {"source": source, "poll_interval": 5.0, "data_dir": None},
        )
        assert dag.get_task("ingest").upstream_task_ids == set()
        emit = dag.get_task("emit_lake_event")
        assert emit.outlets == [Asset(name=f"lake_{source}", uri=f"attribution://lake/{source}")]
        assert emit.upstream_task_ids == {"ingest"}
        assert dag.get_task("check_quarantine").upstream_task_ids == {"ingest"}


def test_build_runs_on_events_and_any_other_source(dagbag):
    dag = dagbag.dags["build_warehouse"]
    others = [assets.lake_asset(s) for s in source_names() if s != "events"]
    assert dag.timetable.asset_condition == AssetAll(assets.lake_asset("events"), AssetAny(*others))
    assert [t.task_id for t in dag.topological_sort()] == ["dbt_build", "quality_gate", "publish"]
    for task in dag.tasks:
        assert task.pool == DUCKDB_WRITER_POOL, task.task_id
    assert dag.get_task("publish").outlets == [assets.PUBLISHED_MARTS]


def test_build_schedule_follows_the_registry():
    assert assets.build_schedule(["events"]) == assets.lake_asset("events")
    assert assets.build_schedule(["events", "a", "b"]) == AssetAll(
        assets.lake_asset("events"), AssetAny(assets.lake_asset("a"), assets.lake_asset("b"))
    )
    assert assets.build_schedule(["a", "b"]) == AssetAny(
        assets.lake_asset("a"), assets.lake_asset("b")
    )


def test_report_runs_on_each_publication(dagbag):
    dag = dagbag.dags["publish_report"]
    assert dag.timetable.asset_condition == AssetAll(assets.PUBLISHED_MARTS)
    assert [t.task_id for t in dag.tasks] == ["write_report"]


def test_dag_files_import_nothing_heavy_in_a_fresh_interpreter():
    files = sorted(str(p) for p in DAGS.glob("*.py"))
    script = textwrap.dedent(
        f"""
        import importlib.util, json, sys
        import airflow.sdk  # the baseline of every DAG file (it loads cosmos's plugin module)
        new = {{}}
        for i, path in enumerate({files!r}):
            before = set(sys.modules)
            spec = importlib.util.spec_from_file_location(f"dag_file_{{i}}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            new[path] = sorted(set(sys.modules) - before)
        print(json.dumps({{"new": new, "all": sorted(sys.modules)}}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=180
    )
    modules = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(modules["new"]) == len(files) >= 3
    for path, loaded in modules["new"].items():
        heavy = sorted({m.split(".")[0] for m in loaded} & set(HEAVY))
        assert not heavy, f"{Path(path).name} imports {heavy} at parse time"
    everything = {m.split(".")[0] for m in modules["all"]}
    assert not everything & {"great_expectations", "dbt", "pandas", "pyarrow", "duckdb"}


def test_a_new_source_folder_gets_its_ingest_dag(tmp_path):
    from pipelines.scaffold import new_source

    shutil.copytree(PROJECT_ROOT / "pipelines", tmp_path / "pipelines")
    shutil.copytree(DAGS, tmp_path / "dags")
    new_source("acme_ads", sources_dir=tmp_path / "pipelines" / "sources")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    script = textwrap.dedent(
        f"""
        import json, pipelines
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(tmp_path / "dags")!r}, bundle_name="dags-folder")
        print(json.dumps({{"errors": bag.import_errors, "dags": sorted(bag.dags),
                          "pipelines": pipelines.__file__}}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(out["pipelines"]).is_relative_to(tmp_path)
    assert out["errors"] == {}
    assert "ingest_acme_ads" in out["dags"]
    assert set(out["dags"]) == {f"ingest_{s}" for s in [*source_names(), "acme_ads"]} | {
        "build_warehouse",
        "publish_report",
    }
