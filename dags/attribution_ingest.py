"""Airflow DAGs ``ingest_<source>``: one per registered source, made by one factory.

A source folder added under ``pipelines/sources/`` gets its DAG on the next parse, with
no edit here. Each DAG runs when files land (an ``AssetWatcher`` with the non-destructive
``LandingFileTrigger`` on ``landing_<source>``) and once a day (catch-up), ingests the
run's days, and emits ``lake_<source>`` with the rebuilt days in the event's ``extra``.
Task bodies live in ``pipelines.orchestration.tasks``; heavy libraries load inside tasks.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import (
    AssetOrTimeSchedule,
    AssetWatcher,
    CronTriggerTimetable,
    dag,
    task,
)
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from pipelines.orchestration.assets import lake_asset, landing_asset, source_names
from pipelines.orchestration.defaults import default_args
from pipelines.orchestration.triggers import LandingFileTrigger

DOC_MD = """
### Ingest `{source}`

Loads the files delivered to `landing/{source}/<YYYY-MM-DD>/` into the lake
(`lake/raw/<table>/source={source}/date=<day>/`), one Parquet partition per day, replaced
atomically (re-running a day never appends twice).

**Starts** when new files settle in the landing folder (asset `landing_{source}`, watched by
`LandingFileTrigger`, which never deletes or changes a file), and every day at 00:00 UTC
to catch up every landed file not yet ingested (files that arrived without an event).
No `start_date`: the first time-based run is the next midnight, not one at deploy time
(the trigger's first poll already announces every file waiting in landing).

**Tasks**
1. `ingest`: `pipelines.ingest.ingest(settings, dates=<the run's days>, sources=["{source}"])`.
2. `emit_lake_event`: emits asset `lake_{source}` with `extra.dates` = the days whose
   partitions were rebuilt (skipped when nothing changed, so no needless warehouse build).
3. `check_quarantine`: fails (no retries, alert sent) when a file was quarantined, naming
   each file and why; the good files were loaded and announced anyway. Fix the file and
   drop it into the landing folder again: the trigger picks it up.

**Backfill**: `airflow backfill create --dag-id ingest_{source} --from-date 2026-03-01
--to-date 2026-03-07` makes one run per day; each re-ingests exactly its logical date's
landing folder and emits `lake_{source}` for that day (even when no file changed), which
queues a warehouse build.
"""


def make_ingest_dag(source: str):
    """The ingest DAG of one source."""
    landing = landing_asset(
        source,
        watchers=[
            AssetWatcher(
                name=f"landing_{source}_watcher", trigger=LandingFileTrigger(source=source)
            )
        ],
    )
    lake = lake_asset(source)

    @dag(
        dag_id=f"ingest_{source}",
        description=f"Ingest {source} exports from the landing folder into the lake",
        schedule=AssetOrTimeSchedule(
            # run_immediately=timedelta(0): with False, Airflow 3.3 still runs the last
            # midnight's run at once when the DAG first appears within 2.4 h after it
            # (a tenth of the day); the first time-based run is the next midnight.
            timetable=CronTriggerTimetable(
                "0 0 * * *", timezone="UTC", run_immediately=timedelta(0)
            ),
            assets=landing,
        ),
        catchup=False,
        max_active_runs=1,
        default_args=default_args(retries=3),
        doc_md=DOC_MD.format(source=source),
        tags=["attribution", "ingest", source],
    )
    def ingest_dag():
        @task(task_id="ingest", multiple_outputs=False)
        def ingest_files(
            triggering_asset_events=None,
            data_interval_start=None,
            data_interval_end=None,
            dag_run=None,
        ) -> dict:
            from pipelines.orchestration.tasks import ingest_for_run

            return ingest_for_run(
                source,
                triggering_asset_events=triggering_asset_events,
                data_interval_start=data_interval_start,
                data_interval_end=data_interval_end,
                run_type=getattr(dag_run, "run_type", None),
            )

        @task(task_id="emit_lake_event", outlets=[lake], multiple_outputs=False)
        def emit_lake_event(summary: dict, outlet_events=None) -> dict:
            from pipelines.orchestration.tasks import lake_event_extra

            extra = lake_event_extra(summary)
            if extra is None:
                raise AirflowSkipException(f"no {source} partition changed; no lake event")
            outlet_events[lake].extra = extra
            return extra

        @task(task_id="check_quarantine", retries=0)
        def check_quarantine(summary: dict) -> None:
            from pipelines.orchestration.tasks import quarantine_report

            report = quarantine_report(summary)
            if report is not None:
                raise AirflowFailException(report)

        summary = ingest_files()
        emit_lake_event(summary)
        check_quarantine(summary)

    return ingest_dag()


for _source in source_names():
    globals()[f"ingest_{_source}"] = make_ingest_dag(_source)
