"""Airflow DAG ``publish_report``: the HTML KPI report after every publication."""

from __future__ import annotations

from airflow.sdk import dag, task

from pipelines.orchestration.assets import PUBLISHED_MARTS
from pipelines.orchestration.defaults import START_DATE, default_args


@dag(
    dag_id="publish_report",
    description="Write the HTML KPI report from the published marts",
    schedule=[PUBLISHED_MARTS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=2),
    tags=["attribution", "report"],
    doc_md="""
### KPI report

**Starts** on every `published_marts` event (a new publication). Calls
`pipelines.report.write_report(settings)`, which reads the published marts read-only and
writes `reports/kpi-report.html` (the same as `attribution report`).
""",
)
def publish_report():
    @task(task_id="write_report")
    def write_report() -> str:
        from pipelines.orchestration.tasks import write_kpi_report

        return write_kpi_report()

    write_report()


publish_report()
