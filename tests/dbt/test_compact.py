"""warehouse.compact: tables that incremental builds left full of deleted rows are rewritten
without them, keeping their definition, rows and order (the build's own use is tested in
test_warehouse.py's incremental build)."""

from __future__ import annotations

import duckdb
import pytest

from pipelines import warehouse
from pipelines.config import load_settings


@pytest.fixture
def settings(tmp_path):
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={
            "ATTRIBUTION__WAREHOUSE__COMPACT_DEAD_SHARE": "0.2",
            "ATTRIBUTION__WAREHOUSE__COMPACT_MIN_ROWS": "1000",
        },
    )
    settings.paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute("create schema intermediate")
        for name, rows in (("a", 10_000), ("b", 10_000), ("small", 900)):
            con.execute(
                f"create table intermediate.{name} (id bigint not null, tag varchar, "
                f"check (id >= 0))"
            )
            # stored in descending order: a rewrite must keep it
            con.execute(
                f"insert into intermediate.{name} "
                f"select {rows} - range, 't' || range from range({rows})"
            )
        con.execute("create view intermediate.a_view as select count(*) as n from intermediate.a")
        con.execute("checkpoint")
        # a: 30% deleted, spread over every row group; b: 10%; small: 50%, but under min_rows
        con.execute("delete from intermediate.a where id % 10 in (1, 4, 7)")
        con.execute("delete from intermediate.b where id % 10 = 3")
        con.execute("delete from intermediate.small where id % 2 = 0")
        con.execute("checkpoint")
    return settings


def read(settings, sql):
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def table_rows(settings):
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return {t: (rows, deleted) for _, t, rows, deleted in warehouse.dead_rows(con)}


def test_dead_rows_counts_what_deletes_left_behind(settings):
    assert table_rows(settings) == {"a": (7_000, 3_000), "b": (9_000, 1_000), "small": (450, 450)}


def test_compact_rewrites_only_tables_past_the_share(settings):
    before = {t: read(settings, f"select * from intermediate.{t}") for t in ("a", "b", "small")}
    ddl = read(settings, "select table_name, sql from duckdb_tables() order by 1")
    messages = []

    done = warehouse.compact(settings, progress=lambda event, **info: messages.append(info))

    assert [(c.table, c.rows, c.deleted_rows) for c in done] == [("intermediate.a", 7_000, 3_000)]
    assert messages[0]["message"].startswith(
        "compacted intermediate.a: dropped 3,000 deleted rows (30% of 10,000)"
    )
    assert table_rows(settings) == {"a": (7_000, 0), "b": (9_000, 1_000), "small": (450, 450)}
    # same rows in the same order, same definition (NOT NULL and CHECK included)
    for table, rows in before.items():
        assert read(settings, f"select * from intermediate.{table}") == rows, table
    assert read(settings, "select table_name, sql from duckdb_tables() order by 1") == ddl
    with duckdb.connect(str(settings.paths.warehouse)) as con, pytest.raises(duckdb.Error):
        con.execute("insert into intermediate.a values (null, 'x')")
    # a view on the table reads the new one
    assert read(settings, "select n from intermediate.a_view") == [(7_000,)]


def test_a_lower_share_rewrites_more(settings):
    done = warehouse.compact(settings, dead_share=0.05)
    assert sorted(c.table for c in done) == ["intermediate.a", "intermediate.b"]
    assert warehouse.compact(settings, dead_share=0.05) == []  # nothing left to drop


def test_a_failed_rewrite_leaves_the_table_as_it_was(settings):
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        # the name the rewrite moves the table aside to is taken: the rename fails
        con.execute("create table intermediate.a__compacting (x int)")
    before = read(settings, "select * from intermediate.a")
    with pytest.raises(duckdb.Error, match="a__compacting"):
        warehouse.compact(settings)
    assert read(settings, "select * from intermediate.a") == before
    assert table_rows(settings)["a"] == (7_000, 3_000)


def test_keep_going_reports_the_failure_and_compacts_the_others(settings):
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute("create table intermediate.a__compacting (x int)")
    before = read(settings, "select * from intermediate.a")
    messages = []
    done = warehouse.compact(
        settings,
        dead_share=0.05,
        keep_going=True,
        progress=lambda event, **info: messages.append(info["message"]),
    )
    assert [c.table for c in done] == ["intermediate.b"]
    assert messages[0].startswith("compacting intermediate.a failed, the table is unchanged:")
    assert read(settings, "select * from intermediate.a") == before
    assert table_rows(settings)["b"] == (9_000, 0)
