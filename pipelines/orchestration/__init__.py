"""Airflow-specific glue: assets, the landing-folder event trigger, alerts and task bodies.

The DAG files under ``dags/`` stay thin: they declare DAGs and call into this package,
which calls the same pipeline functions as the CLI (``pipelines.ingest.ingest``,
``pipelines.warehouse.build``, ``pipelines.quality.gate.run_gate``,
``pipelines.publish.publish``, ``pipelines.report.write_report``).

Nothing here imports pandas, pyarrow, DuckDB, dbt, cosmos or Great Expectations at module
level: DAG files are parsed by every Airflow component and by every task, so the heavy
libraries are imported inside the task bodies only (``tasks.py``).
"""
