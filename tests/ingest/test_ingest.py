"""Ingestion: ledger, restatement order, quarantine, folder problems, lake layout."""

from __future__ import annotations

import datetime as dt
import sqlite3

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines import canonical, lake
from pipelines.errors import BadInputError
from pipelines.ingest import UnknownSourceError, ingest, rebuild_partition
from pipelines.ledger import Ledger

DAY = dt.date(2026, 3, 2)


def _rates(settings, name: str, body: str, day: dt.date = DAY):
    d = settings.paths.landing / "fx_rates" / day.isoformat()
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text("date,currency,rate\n" + body, encoding="utf-8")
    return d / name


def _partition(settings, day=DAY):
    return pq.read_table(lake.partition_path(settings, "fx_rates", "fx_rates", day)).to_pylist()


def test_files_of_one_day_add_up_and_carry_lineage(settings):
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    _rates(settings, "b.csv", f"{DAY},GBP,1.26\n")
    events = []
    result = ingest(settings, progress=lambda event, **info: events.append(event))
    assert result.exit_code == 0 and result.partitions == {"fx_rates": [DAY]}
    rows = _partition(settings)
    assert {(r["currency"], r["source_file"]) for r in rows} == {
        ("EUR", "fx_rates/2026-03-02/a.csv"),
        ("GBP", "fx_rates/2026-03-02/b.csv"),
    }
    assert all(len(r["file_hash"]) == 64 and r["delivered_at"].tzinfo for r in rows)
    assert events.count("file") == 2 and events.count("partition") == 1


def test_newer_delivery_replaces_same_key_even_under_the_same_name(settings):
    _rates(settings, "rates.csv", f"{DAY},EUR,1.08\n{DAY},GBP,1.26\n")
    ingest(settings)
    _rates(settings, "rates.csv", f"{DAY},EUR,1.10\n")  # overwritten in place, restated
    result = ingest(settings)
    assert len(result.loaded) == 1
    rows = {r["currency"]: r["rate"] for r in _partition(settings)}
    assert rows == {"EUR": 1.10, "GBP": 1.26}  # GBP kept from the first delivery
    with Ledger(settings.paths.ledger) as ledger:
        assert [f.rows for f in ledger.loaded_files("fx_rates", DAY)] == [2, 1]


def test_bad_file_is_moved_with_reason_and_rest_of_landing_untouched(settings):
    good = _rates(settings, "good.csv", f"{DAY},EUR,1.08\n")
    _rates(settings, "bad.csv", f"{DAY},EUR,abc\n")
    result = ingest(settings)
    assert result.exit_code == 2
    (q,) = result.quarantined
    assert "line 2, column 'rate'" in q.message and "not a number" in q.message
    err = (q.quarantined_to.parent / "bad.csv.error.txt").read_text()
    assert "How to fix" in err and "line 2, column 'rate'" in err
    assert good.exists() and not good.with_name("bad.csv").exists()
    with Ledger(settings.paths.ledger) as ledger:
        statuses = sorted(f.status for f in ledger.files("fx_rates"))
    assert statuses == ["loaded", "quarantined"]


def test_unexpected_parser_crash_is_wrapped_and_quarantined(settings):
    d = settings.paths.landing / "events" / DAY.isoformat()
    d.mkdir(parents=True)
    (d / "e.jsonl.gz").write_bytes(b"this is not gzip")
    result = ingest(settings, sources=["events"])
    (q,) = result.quarantined
    assert q.message.startswith("events/2026-03-02/e.jsonl.gz") and "JSON lines" in q.message


def test_folder_names_that_are_not_dates_are_reported(settings):
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    odd = settings.paths.landing / "fx_rates" / "march-2"
    odd.mkdir()
    (odd / "x.csv").write_text("date,currency,rate\n")
    (settings.paths.landing / "nosuch").mkdir()
    result = ingest(settings)
    assert result.exit_code == 2 and len(result.loaded) == 1
    assert any("fx_rates/march-2/ is not a date folder" in p for p in result.problems)
    assert any("landing/nosuch/ belongs to no registered source" in p for p in result.problems)
    assert (odd / "x.csv").exists()


def test_filters_and_unknown_source(settings):
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    _rates(settings, "b.csv", "2026-03-03,EUR,1.09\n", day=dt.date(2026, 3, 3))
    assert ingest(settings, dates=[dt.date(2026, 3, 3)]).partitions == {
        "fx_rates": [dt.date(2026, 3, 3)]
    }
    assert ingest(settings, sources=["events"]).loaded == []
    with pytest.raises(UnknownSourceError, match="known sources"):
        ingest(settings, sources=["nope"])


def test_dbt_style_glob_reads_empty_and_filled_tables(settings):
    lake.ensure_tables(settings)
    con = duckdb.connect()
    q = "select count(*), any_value(typeof(rate)) from read_parquet(?, hive_partitioning = true)"
    assert con.execute(q, [lake.table_glob(settings, "fx_rates")]).fetchall() == [(0, None)]
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    ingest(settings)
    q2 = (
        "select source, date, currency from read_parquet(?, hive_partitioning = true) "
        "where source <> ?"
    )
    assert con.execute(
        q2, [lake.table_glob(settings, "fx_rates"), lake.EMPTY_SOURCE]
    ).fetchall() == [("fx_rates", DAY, "EUR")]
    assert lake.list_partitions(settings, "fx_rates") == {"fx_rates": [DAY]}


def test_failed_partition_write_leaves_the_old_partition(settings, monkeypatch):
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    ingest(settings)
    path = lake.partition_path(settings, "fx_rates", "fx_rates", DAY)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(lake.os, "replace", boom)
    with Ledger(settings.paths.ledger) as ledger, pytest.raises(OSError, match="disk full"):
        from pipelines.sources import get_source

        rebuild_partition(settings, ledger, get_source("fx_rates"), DAY)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["data.parquet"]


def test_ledger_is_wal_and_shared(settings):
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    ingest(settings)
    con = sqlite3.connect(settings.paths.ledger)
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert con.execute("select status, rows from files").fetchall() == [("loaded", 1)]


def test_bad_input_error_names_the_file_as_landed(settings):
    _rates(settings, "bad.csv", "2026-03-01,EUR,1.0\n")
    (q,) = ingest(settings).quarantined
    err = BadInputError("fx_rates/2026-03-02/bad.csv", "x", "line 2, column 'date'")
    assert q.message.startswith(str(err).split(": ")[0])


def test_placeholder_sorts_last_so_duckdb_estimates_lake_reads_from_real_rows(settings):
    """DuckDB estimates a multi-file read from the first file of the sorted listing; the
    empty placeholder must not be that file, or every join over the lake is planned as if
    the lake were empty (the hash table then goes on the big side)."""
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n{DAY},GBP,1.27\n")
    ingest(settings)
    lake.ensure_tables(settings)
    files = sorted(str(p) for p in lake.table_dir(settings, "fx_rates").glob("*/*/*.parquet"))
    assert files[-1] == str(
        lake.partition_path(settings, "fx_rates", lake.EMPTY_SOURCE, lake.EMPTY_DATE)
    )
    plan = (
        duckdb.connect()
        .execute(
            "explain select * from read_parquet(?, hive_partitioning = true)",
            [lake.table_glob(settings, "fx_rates")],
        )
        .fetchall()[0][1]
    )
    assert "~0 rows" not in plan


def test_ensure_tables_replaces_an_older_lakes_placeholder(settings):
    legacy = lake.partition_path(settings, "events", "_none", lake.EMPTY_DATE)
    lake.write_parquet_atomic(legacy, canonical.TABLES["events"].schema.empty_table())
    lake.ensure_tables(settings)
    assert not legacy.exists() and not legacy.parent.parent.exists()
    assert lake.partition_path(settings, "events", lake.EMPTY_SOURCE, lake.EMPTY_DATE).exists()
    assert lake.list_partitions(settings, "events") == {}
