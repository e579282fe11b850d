"""SQLite connection arguments for the test Airflow (``sql_alchemy_connect_args``).

The scheduler, the DAG processor, the API server and CLI commands share one SQLite file.
A writer waits up to ``timeout`` seconds for another's lock; sqlite3's default of 5 s was
too short on a 2-core machine busy with builds ("database is locked" in ``airflow
backfill create``).
"""

CONNECT_ARGS = {"timeout": 60}
