"""``status`` reports landed files, the ledger, the build, the publication and the gate."""

from __future__ import annotations

import sqlite3

from pipelines.status import format_status, status


def test_status_of_an_empty_data_dir(settings):
    d = status(settings)
    assert d["landed"] == {} and d["ingested"]["files"] == 0
    assert d["built"] is None and d["gate"] is None and d["published"]["version"] is None
    text = format_status(d)
    assert "Published: nothing yet" in text and "Last gate: never run" in text


def test_status_counts_landing_files_and_ledger_rows(settings):
    for source, day, name in [
        ("google_ads", "2026-03-01", "a.json"),
        ("google_ads", "2026-03-01", "b.json"),
        ("google_ads", "2026-03-02", "a.json"),
        ("events", "2026-03-01", "log.jsonl"),
    ]:
        folder = settings.paths.landing / source / day
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")
    settings.paths.ledger.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.paths.ledger) as con:
        con.execute("create table files (path text, source text, status text)")
        con.executemany(
            "insert into files values (?, ?, ?)",
            [
                ("a", "google_ads", "loaded"),
                ("b", "google_ads", "quarantined"),
                ("c", "events", "loaded"),
            ],
        )
    d = status(settings)
    assert d["landed"] == {
        "events": {"2026-03-01": 1},
        "google_ads": {"2026-03-01": 2, "2026-03-02": 1},
    }
    assert d["ingested"]["files"] == 3
    assert d["ingested"]["by_source"]["google_ads"] == {"files": 2, "loaded": 1, "quarantined": 1}
    assert "google_ads: 3 files over 2 days" in format_status(d)
