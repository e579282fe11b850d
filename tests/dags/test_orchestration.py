"""The Airflow glue without a scheduler: the landing trigger, the task bodies, the alerts.

The trigger and the task bodies run for real against a data dir under ``tmp_path`` (real
sample exports, the real ingest and ledger); the webhook is a real local HTTP server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

from pipelines.ingest import ingest
from pipelines.orchestration import alerts, tasks
from pipelines.orchestration.landing import pending_files
from pipelines.orchestration.triggers import LandingFileTrigger

SAMPLES = Path(__file__).resolve().parents[2] / "pipelines" / "sources" / "fx_rates" / "samples"
DAY = dt.date(2026, 3, 2)


def land(settings, name: str, source: str = "fx_rates", day: dt.date = DAY) -> Path:
    folder = settings.paths.landing / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(name).name
    shutil.copy(SAMPLES / name, target)
    return target


async def next_event(agen, timeout: float = 10.0):
    return await asyncio.wait_for(agen.__anext__(), timeout)


def test_trigger_announces_unseen_files_once_and_never_touches_them(settings):
    first = land(settings, "rates_simple.csv")
    (first.parent / "upload.csv.part").write_text("half a file", encoding="utf-8")
    stat, content = first.stat(), first.read_bytes()
    trigger = LandingFileTrigger(
        source="fx_rates", poll_interval=0.05, data_dir=str(settings.data_dir)
    )

    async def scenario():
        agen = trigger.run()
        try:
            event = await next_event(agen)
            assert event.payload == {
                "source": "fx_rates",
                "dates": ["2026-03-02"],
                "files": ["fx_rates/2026-03-02/rates_simple.csv"],
            }
            # Ingest it: the ledger now holds it; a second file is announced alone.
            assert ingest(settings, sources=["fx_rates"]).partitions == {"fx_rates": [DAY]}
            land(settings, "eurofxref-daily.csv", day=DAY + dt.timedelta(days=1))
            event = await next_event(agen)
            assert event.payload["files"] == ["fx_rates/2026-03-03/eurofxref-daily.csv"]
            assert event.payload["dates"] == ["2026-03-03"]
            # Nothing new: no further event within several polls.
            with pytest.raises(TimeoutError):
                await next_event(agen, timeout=0.5)
        finally:
            await agen.aclose()

    asyncio.run(scenario())
    assert first.read_bytes() == content
    assert first.stat().st_mtime_ns == stat.st_mtime_ns
    assert (first.parent / "upload.csv.part").exists()


def test_pending_files_follow_the_ledger(settings):
    path = land(settings, "rates_simple.csv")
    ledger, landing = settings.paths.ledger, settings.paths.landing
    assert [f.rel for f in pending_files(landing, ledger, "fx_rates")] == [
        "fx_rates/2026-03-02/rates_simple.csv"
    ]
    ingest(settings, sources=["fx_rates"])
    assert pending_files(landing, ledger, "fx_rates") == []
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # a restatement: new bytes
    assert [f.rel for f in pending_files(landing, ledger, "fx_rates")] == [
        "fx_rates/2026-03-02/rates_simple.csv"
    ]
    assert pending_files(landing, ledger, "google_ads") == []


def test_dates_come_from_trigger_payloads_and_posted_events():
    from_trigger = SimpleNamespace(
        extra={"from_trigger": True, "payload": {"dates": ["2026-03-02", "2026-03-01"]}}
    )
    posted = SimpleNamespace(extra={"dates": ["2026-03-04"]})
    no_dates = SimpleNamespace(extra={"note": "manual"})
    events = {"a": [from_trigger, no_dates], "b": [posted]}
    assert tasks.dates_from_events(events) == [
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 4),
    ]
    assert tasks.dates_from_events(None) == []


def test_interval_days_are_the_days_of_the_data_interval():
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert tasks.interval_dates(start, start + dt.timedelta(days=1)) == [dt.date(2026, 3, 1)]
    assert tasks.interval_dates(start, start + dt.timedelta(days=3)) == [
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 3),
    ]
    assert tasks.interval_dates(start, start) == [dt.date(2026, 3, 1)]
    assert tasks.interval_dates(None, None) == []


def test_ingest_task_loads_good_files_and_reports_the_quarantined(settings, monkeypatch):
    monkeypatch.setenv("ATTRIBUTION_DATA_DIR", str(settings.data_dir))
    land(settings, "rates_simple.csv")
    bad = land(settings, "bad/negative_rate.csv")
    events = {"landing_fx_rates": [SimpleNamespace(extra={"payload": {"dates": ["2026-03-02"]}})]}
    summary = tasks.ingest_for_run("fx_rates", triggering_asset_events=events)
    assert json.loads(json.dumps(summary)) == summary  # the XCom is plain JSON
    assert summary["rebuilt_dates"] == summary["event_dates"] == ["2026-03-02"]
    assert summary["loaded"] == ["fx_rates/2026-03-02/rates_simple.csv"]
    assert tasks.lake_event_extra(summary) == {
        "source": "fx_rates",
        "dates": ["2026-03-02"],
        "files": ["fx_rates/2026-03-02/rates_simple.csv"],
    }
    report = tasks.quarantine_report(summary)
    assert report is not None
    assert report.startswith("fx_rates: 1 file(s) quarantined; the other files were loaded.")
    assert "negative_rate.csv" in report and "is not a positive number" in report
    assert not bad.exists()  # ingest moved it to quarantine/ (the trigger never moves files)

    # Re-running the same run is a no-op: no partition changes, so no lake event.
    again = tasks.ingest_for_run("fx_rates", triggering_asset_events=events)
    assert again["rebuilt_dates"] == [] and again["quarantined"] == []
    assert tasks.lake_event_extra(again) is None
    assert tasks.quarantine_report(again) is None


def test_a_scheduled_run_catches_up_files_that_arrived_without_an_event(settings, monkeypatch):
    monkeypatch.setenv("ATTRIBUTION_DATA_DIR", str(settings.data_dir))
    land(settings, "rates_simple.csv")  # 2026-03-02, outside the run's interval
    start = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    scheduled = tasks.ingest_for_run(
        "fx_rates",
        data_interval_start=start,
        data_interval_end=start + dt.timedelta(days=1),
        run_type="scheduled",
    )
    assert scheduled["requested_dates"] == ["2026-03-02", "2026-03-10"]
    assert scheduled["rebuilt_dates"] == ["2026-03-02"]

    # A backfill of that day redoes only its interval, and announces it although unchanged.
    day = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    backfill = tasks.ingest_for_run(
        "fx_rates",
        data_interval_start=day,
        data_interval_end=day + dt.timedelta(days=1),
        run_type="backfill",
    )
    assert backfill["requested_dates"] == ["2026-03-02"]
    assert backfill["rebuilt_dates"] == []
    assert backfill["event_dates"] == ["2026-03-02"]


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_failure_callback_posts_to_the_webhook(monkeypatch, caplog):
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received.clear()
    try:
        monkeypatch.setenv(alerts.WEBHOOK_ENV, f"http://127.0.0.1:{server.server_port}/hook")
        ti = SimpleNamespace(dag_id="ingest_fx_rates", task_id="ingest", run_id="r1", try_number=2)
        alerts.on_failure_callback({"ti": ti, "exception": ValueError("disk full\nmore")})
    finally:
        server.shutdown()
    (body,) = _Hook.received
    assert body["title"] == "Airflow task failed: ingest_fx_rates.ingest"
    assert "run r1 (try 2) failed: disk full." in body["text"]
    assert body["details"]["task_id"] == "ingest"
    assert "ingest_fx_rates.ingest" in caplog.text


def test_an_unreachable_webhook_does_not_raise(monkeypatch):
    monkeypatch.setenv(alerts.WEBHOOK_ENV, "http://127.0.0.1:9/unreachable")
    assert alerts.notify("title", "text") is False
    monkeypatch.delenv(alerts.WEBHOOK_ENV)
    assert alerts.notify("title", "text") is False
