"""A real Airflow 3 stack for tests: four processes on SQLite with the LocalExecutor.

``AirflowStack`` runs ``airflow db migrate``, then starts ``api-server``, ``scheduler``,
``dag-processor`` and ``triggerer`` as separate processes with a temporary
``AIRFLOW_HOME``, our ``dags/`` folder and a data dir of the test's own, talks to the
REST API (``/api/v2``; with ``SIMPLE_AUTH_MANAGER_ALL_ADMINS`` every request is an admin),
and stops every process it started by PID: SIGTERM to its process group, SIGKILL after
a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_sqlite import use_wal

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = PROJECT_ROOT / "dags"
AIRFLOW = Path(sys.executable).parent / "airflow"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
TERMINAL_RUN_STATES = {"success", "failed"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    what: str, check: Callable[[], Any], timeout: float, interval: float = 1.0, stack=None
) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            value, last_error = None, exc
        if value:
            return value
        if stack is not None:
            stack.assert_alive()
        time.sleep(interval)
    logs = stack.diagnostics() if stack is not None else ""
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what}"
        + (f" (last error: {last_error})" if last_error else "")
        + logs
    )


class AirflowStack:
    def __init__(self, home: Path, data_dir: Path, extra_env: dict[str, str] | None = None):
        self.home = home
        self.data_dir = data_dir
        self.port = free_port()
        self.base_url = f"http://localhost:{self.port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "airflow_sqlite.CONNECT_ARGS",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "airflow_sqlite.CONNECT_ARGS",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(96),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600",
                "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "ATTRIBUTION_DATA_DIR": str(data_dir),
                "PYTHONUNBUFFERED": "1",
                # airflow_sqlite (the connect args above) is found next to this file
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p
                ),
            }
        )
        env.update(extra_env or {})
        self.env = env

    # --- processes --------------------------------------------------------------------
    def airflow(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """Run one ``airflow`` CLI command to completion; fail with its output."""
        proc = subprocess.run(
            [str(AIRFLOW), *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(
                f"airflow {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n"
                f"{proc.stderr[-3000:]}"
            )
        return proc

    def create_backfill(self, dag_id: str, from_date: str, to_date: str, attempts: int = 5):
        """``airflow backfill create``, run again while SQLite refuses it a lock.

        Creating a backfill commits it, then adds its runs, each in a savepoint that reads
        before it writes. On SQLite such a transaction can get "database is locked" at once
        when another process commits (see ``airflow_sqlite``); Airflow then deletes the
        half-made backfill and tells the user to retry, which is what this does. Any other
        failure fails at once.
        """
        args = ("backfill", "create", "--dag-id", dag_id, "--from-date", from_date)
        args += ("--to-date", to_date)
        for attempt in range(1, attempts):
            try:
                return self.airflow(*args)
            except AssertionError as exc:
                if "database is locked" not in str(exc):
                    raise
                time.sleep(attempt)
        return self.airflow(*args)

    def start(self) -> None:
        self.airflow("db", "migrate", timeout=300)
        use_wal(self.home / "airflow.db")
        for name in COMPONENTS:
            args = [name, "--port", str(self.port)] if name == "api-server" else [name]
            log_path = self.home / f"{name}.log"
            self.logs[name] = log_path
            with open(log_path, "wb") as log:
                self.procs[name] = subprocess.Popen(
                    [str(AIRFLOW), *args],
                    env=self.env,
                    cwd=self.home,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: we stop it and its children
                )
        wait_for("the API server", lambda: self.get("/api/v2/monitor/health"), 120, stack=self)

    def assert_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(
                    f"airflow {name} exited with {proc.returncode}" + self.diagnostics()
                )

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM each started process group, SIGKILL whatever is left after ``timeout``."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group's leftover children too
            if proc.poll() is None:
                proc.wait(timeout=10)

    def diagnostics(self, tail: int = 4000) -> str:
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"\n----- {name} log (tail) -----\n{text[-tail:]}")
        logs_dir = self.home / "logs"
        task_logs = sorted(logs_dir.rglob("*.log"), key=lambda p: p.stat().st_mtime)
        for path in task_logs[-6:]:
            text = path.read_text(errors="replace")[-tail:]
            parts.append(f"\n----- {path.relative_to(self.home)} -----\n{text}")
        return "".join(parts)

    # --- REST API -----------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, params: dict | None = None) -> Any:
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.get("/api/v2/dags", limit=1000)["dags"]}

    def dag_runs(self, dag_id: str = "~") -> list[dict]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns", limit=1000, order_by="id")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        quoted = urllib.parse.quote(run_id, safe="")
        tis = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances")["task_instances"]
        return {t["task_id"]: t["state"] for t in tis}

    def asset_events(self, asset_name: str) -> list[dict]:
        assets = self.get("/api/v2/assets", name_pattern=asset_name)["assets"]
        ids = [a["id"] for a in assets if a["name"] == asset_name]
        if not ids:
            return []
        return self.get("/api/v2/assets/events", asset_id=ids[0], limit=1000)["asset_events"]

    def ensure_pool(self, name: str, slots: int, description: str) -> None:
        self.request(
            "POST", "/api/v2/pools", {"name": name, "slots": slots, "description": description}
        )
