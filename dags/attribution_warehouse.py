"""Airflow DAG ``build_warehouse``: dbt build -> quality gate -> publish, on new lake data.

Scheduled on the lake assets from the source registry: new first-party events AND new
data of any other source (``lake_events & (lake_google_ads | lake_meta_ads | ...)``).
Writers of ``warehouse.duckdb`` and ``published/`` share the one-slot ``duckdb_writer``
pool (DuckDB allows one writer). Heavy libraries (dbt, Great Expectations, DuckDB) load
inside the tasks, in ``pipelines.orchestration.tasks``.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from pipelines.orchestration.assets import PUBLISHED_MARTS, build_schedule, source_names
from pipelines.orchestration.defaults import DUCKDB_WRITER_POOL, START_DATE, default_args


@dag(
    dag_id="build_warehouse",
    description="dbt build, quality gate and publication of the attribution marts",
    schedule=build_schedule(source_names()),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=2, pool=DUCKDB_WRITER_POOL),
    tags=["attribution", "warehouse", "publish"],
    doc_md="""
### Build, gate and publish the warehouse

**Starts** when new lake data is announced: `lake_events` and at least one other
`lake_<source>` asset since the last run (the condition is built from the source
registry). Events that arrive while a run is active are queued and consumed together by
the next run (`max_active_runs=1`).

**Tasks** (all in the one-slot `duckdb_writer` pool)
1. `dbt_build`: `pipelines.warehouse.build(settings)`: `dbt build` of every model and data
   test (dbt's unit tests run in `make test`), then the rewrite of any table whose deleted
   rows pass `warehouse.compact_dead_share`; each node's result is in the task log.
2. `quality_gate`: `pipelines.quality.gate.run_gate(...)`; the lake's row checks read the
   partitions written since the last gate that passed. A failed gate fails this task
   (no retries) with the failed expectations in the log; publication is skipped and the
   last publication stays in place.
3. `publish`: `pipelines.publish.publish(settings, run_id=<this run>)`, an atomic swap of
   `published/marts.duckdb`; emits asset `published_marts`.

The CLI (`attribution build` / `validate` / `publish`) calls the same functions.
""",
)
def build_warehouse():
    @task(task_id="dbt_build", multiple_outputs=False)
    def dbt_build(triggering_asset_events=None) -> dict:
        from pipelines.orchestration.tasks import build_warehouse as build

        return build(triggering_asset_events)

    @task(task_id="quality_gate", retries=0, multiple_outputs=False)
    def quality_gate(build: dict, run_id=None) -> dict:
        from pipelines.orchestration.tasks import run_quality_gate

        return run_quality_gate(run_id, build["dates"])

    @task(task_id="publish", outlets=[PUBLISHED_MARTS], multiple_outputs=False)
    def publish(build: dict, gate: dict, run_id=None, outlet_events=None) -> dict:
        from pipelines.orchestration.tasks import publish_marts

        extra = publish_marts(run_id, build["dates"])
        outlet_events[PUBLISHED_MARTS].extra = extra
        return extra

    built = dbt_build()
    publish(built, quality_gate(built))


build_warehouse()
