"""Failure and quarantine alerts: a log line always, a webhook POST when configured.

Set ``ATTRIBUTION_ALERT_WEBHOOK_URL`` (for example a Slack or Teams incoming webhook, or
any endpoint accepting JSON) in the environment of the Airflow components to be notified.
The body is ``{"text": "...", "title": "...", "details": {...}}``. A webhook that cannot be
reached is logged and never fails the task or the callback. Stdlib only, so DAG files can
import the callback at parse time.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from typing import Any

WEBHOOK_ENV = "ATTRIBUTION_ALERT_WEBHOOK_URL"

log = logging.getLogger("pipelines.orchestration.alerts")


def notify(title: str, text: str, details: dict[str, Any] | None = None) -> bool:
    """Log the alert and POST it to the webhook if one is set; True if the POST succeeded."""
    log.error("%s: %s", title, text)
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return False
    body = json.dumps(
        {"title": title, "text": f"{title}: {text}", "details": details or {}}, default=str
    ).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return 200 <= response.status < 300
    except Exception as exc:  # an alert channel that is down must not hide the failure
        log.warning("Could not POST the alert to %s: %s", WEBHOOK_ENV, exc)
        return False


def on_failure_callback(context: Any) -> None:
    """``on_failure_callback`` of every task: says which task failed, why, and where to look."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(ti, "run_id", None) or context.get("run_id", "?")
    try_number = getattr(ti, "try_number", None)
    exception = context.get("exception")
    reason = str(exception).strip().splitlines()[0] if exception else "no exception recorded"
    notify(
        f"Airflow task failed: {dag_id}.{task_id}",
        f"run {run_id} (try {try_number}) failed: {reason}. See the task log in Airflow.",
        {
            "dag_id": dag_id,
            "task_id": task_id,
            "run_id": run_id,
            "try_number": try_number,
            "exception": str(exception) if exception else None,
        },
    )
