"""Ingestion in parallel and in per-folder transactions: same outcome, and crash repair."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pyarrow.parquet as pq
import pytest

from pipelines import ingest as ingest_module
from pipelines import lake
from pipelines.config import load_settings
from pipelines.ingest import _memory_share, ingest
from pipelines.ledger import Ledger
from pipelines.synth import generate

SALT = "batching-test-salt"
DAY = dt.date(2026, 3, 2)
NEXT = DAY + dt.timedelta(days=1)


def _rates(settings, name: str, body: str, day: dt.date = DAY):
    d = settings.paths.landing / "fx_rates" / day.isoformat()
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text("date,currency,rate\n" + body, encoding="utf-8")
    return d / name


def _rows(settings, source: str, day: dt.date = DAY) -> list[dict]:
    table = ingest_module.all_sources()[source].table.name
    return pq.read_table(lake.partition_path(settings, table, source, day)).to_pylist()


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    """Two days of every source, plus a restatement, a copy and a broken file."""
    root = tmp_path_factory.mktemp("synth")
    generate(root, DAY, days=2, seed=3, people=60)
    fx = root / "landing" / "fx_rates" / DAY.isoformat()
    (fx / "a-rates.csv").write_text(f"date,currency,rate\n{DAY},EUR,0.4\n{DAY},GBP,0.8\n")
    (fx / "late-restatement.csv").write_text(f"date,currency,rate\n{DAY},EUR,0.5\n")
    os.utime(fx / "a-rates.csv", (1_700_000_000, 1_700_000_000))
    os.utime(fx / "late-restatement.csv", (1_700_000_100, 1_700_000_100))
    first = sorted(p for p in fx.iterdir() if p.suffix == ".csv" and "rates" not in p.name)[0]
    shutil.copy(first, fx / f"zz-copy-of-{first.name}")
    (fx / "broken.csv").write_text(f"date,currency,rate\n{DAY},EUR,abc\n")
    return root / "landing", f"fx_rates/{DAY}/zz-copy-of-{first.name}"


def _ingest_copy(landing, data_dir, monkeypatch, workers: int):
    monkeypatch.setenv("ATTRIBUTION_PII_SALT", SALT)
    shutil.copytree(landing, data_dir / "landing")
    settings = load_settings(data_dir=data_dir)
    return settings, ingest(settings, workers=workers)


def _comparable(result) -> dict:
    def outcome(o):
        return (o.file, o.source, o.day, o.rows, o.file_hash, o.message)

    return {
        "loaded": [outcome(o) for o in result.loaded],
        "unchanged": [outcome(o) for o in result.unchanged],
        "quarantined": [outcome(o) for o in result.quarantined],
        "partitions": result.partitions,
        "problems": result.problems,
        "exit_code": result.exit_code,
    }


def _lake(settings) -> dict:
    """Every partition's rows (delivered_at left out: it is the time of the run)."""
    out = {}
    for path in sorted(settings.paths.lake_raw.glob("*/*/*/*.parquet")):
        rows = pq.read_table(path).drop_columns(["delivered_at"]).to_pylist()
        out[path.relative_to(settings.paths.lake_raw).as_posix()] = rows
    return out


def test_parallel_ingest_gives_what_one_file_after_the_other_gives(landing, tmp_path, monkeypatch):
    landing_dir, copy = landing
    serial, one = _ingest_copy(landing_dir, tmp_path / "serial", monkeypatch, workers=1)
    parallel, many = _ingest_copy(landing_dir, tmp_path / "parallel", monkeypatch, workers=3)
    assert _comparable(one) == _comparable(many)
    assert len(one.loaded) > 20
    assert {"events", "fx_rates", "google_ads", "appsflyer"} <= set(one.partitions)
    assert [o.file for o in one.unchanged] == [copy]
    assert [o.file.split("/")[-1] for o in one.quarantined] == ["broken.csv"]
    assert _lake(serial) == _lake(parallel)
    simple = {
        r["currency"]: r["rate"] for r in _rows(parallel, "fx_rates") if r["base_currency"] == "USD"
    }
    assert simple == {"EUR": 0.5, "GBP": 0.8}  # the later delivery restates EUR only
    for settings in (serial, parallel):
        with Ledger(settings.paths.ledger) as ledger:
            statuses = sorted((f.source_file, f.status) for f in ledger.files())
        assert statuses == sorted(
            [(o.file, "loaded") for o in one.loaded]
            + [(o.file, "quarantined") for o in one.quarantined]
        )
    again = ingest(parallel, workers=3)
    assert again.loaded == [] and again.partitions == {} and again.exit_code == 0
    assert len(again.unchanged) == len(one.loaded) + len(one.unchanged)


def test_same_bytes_twice_in_a_folder_load_once(settings):
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    _rates(settings, "b.csv", f"{DAY},EUR,1.08\n")
    _rates(settings, "bad1.csv", f"{DAY},EUR,x\n")
    _rates(settings, "bad2.csv", f"{DAY},EUR,x\n")
    result = ingest(settings, workers=2)
    assert [o.file for o in result.loaded] == [f"fx_rates/{DAY}/a.csv"]
    assert [(o.file, o.rows) for o in result.unchanged] == [(f"fx_rates/{DAY}/b.csv", 1)]
    assert [o.file for o in result.quarantined] == [
        f"fx_rates/{DAY}/bad1.csv",
        f"fx_rates/{DAY}/bad2.csv",
    ]
    assert all(o.quarantined_to.exists() for o in result.quarantined)
    assert len(_rows(settings, "fx_rates")) == 1


def _killed(*args, **kwargs):
    """Stands for the process dying at that point of the run."""
    raise RuntimeError("killed")


def test_crash_before_the_ledger_commit_is_repaired_by_the_next_ingest(settings, monkeypatch):
    """Cache files written, ledger transaction never committed (the run died): the next
    ingest parses the files again and loads them; nothing is lost or doubled."""
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    _rates(settings, "b.csv", f"{DAY},GBP,1.26\n")

    with monkeypatch.context() as m:
        m.setattr(Ledger, "record", _killed)
        with pytest.raises(RuntimeError, match="killed"):
            ingest(settings, workers=2)
    cache_dir = lake.file_cache_path(settings, "fx_rates", DAY, "x").parent
    assert len(list(cache_dir.glob("*.parquet"))) == 2
    with Ledger(settings.paths.ledger) as ledger:
        assert ledger.files() == []
    assert not lake.partition_path(settings, "fx_rates", "fx_rates", DAY).exists()

    result = ingest(settings, workers=2)
    assert len(result.loaded) == 2 and result.partitions == {"fx_rates": [DAY]}
    assert sorted(r["currency"] for r in _rows(settings, "fx_rates")) == ["EUR", "GBP"]


def test_crash_between_ledger_commit_and_rebuild_is_repaired_by_the_next_ingest(
    settings, monkeypatch
):
    """The ledger says a file is loaded but its partition was not rebuilt (the run died):
    the next ingest sees the partition was built from other files and rebuilds it."""
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    ingest(settings)
    _rates(settings, "b.csv", f"{DAY},EUR,1.10\n{DAY},GBP,1.26\n")

    with monkeypatch.context() as m:
        m.setattr(ingest_module, "rebuild_partition", _killed)
        with pytest.raises(RuntimeError, match="killed"):
            ingest(settings)
    with Ledger(settings.paths.ledger) as ledger:
        assert len(ledger.loaded_files("fx_rates", DAY)) == 2
    assert [r["currency"] for r in _rows(settings, "fx_rates")] == ["EUR"]  # stale

    result = ingest(settings)
    assert result.loaded == [] and len(result.unchanged) == 2
    assert result.partitions == {"fx_rates": [DAY]}
    rows = {r["currency"]: (r["rate"], r["source_file"]) for r in _rows(settings, "fx_rates")}
    assert rows == {
        "EUR": (1.10, f"fx_rates/{DAY}/b.csv"),
        "GBP": (1.26, f"fx_rates/{DAY}/b.csv"),
    }
    assert ingest(settings).partitions == {}  # and now it is current


def test_a_failure_that_is_not_the_files_fault_stops_the_run_but_keeps_earlier_folders(
    settings, monkeypatch
):
    _rates(settings, "a.csv", f"{DAY},EUR,1.08\n")
    _rates(settings, "a.csv", f"{NEXT},EUR,1.09\n", day=NEXT)
    real = ingest_module._parse_into_cache

    def out_of_memory(settings_, source, path, day, *args):
        if day == NEXT:
            raise ingest_module.PipelineError(f"{path}: DuckDB ran out of memory reading it")
        return real(settings_, source, path, day, *args)

    with monkeypatch.context() as m:
        m.setattr(ingest_module, "_parse_into_cache", out_of_memory)
        with pytest.raises(ingest_module.PipelineError, match="out of memory"):
            ingest(settings, workers=2)
    assert (settings.paths.landing / "fx_rates" / NEXT.isoformat() / "a.csv").exists()
    with Ledger(settings.paths.ledger) as ledger:
        assert [f.folder_date for f in ledger.files()] == [DAY]
    result = ingest(settings, workers=2)
    assert [o.day for o in result.loaded] == [NEXT] and [o.day for o in result.unchanged] == [DAY]


def test_parallel_parses_share_the_duckdb_memory_limit():
    assert _memory_share("4GB", 2) == f"{4 * 10**9 // 2 // 2**20}MiB"
    assert _memory_share("3 GiB", 3) == "1024MiB"
    assert _memory_share("80%", 2) == "40%"
    assert _memory_share("4GB", 1) == "4GB"
    assert _memory_share("lots", 2) == "lots"
    assert _memory_share(None, 2) is None
