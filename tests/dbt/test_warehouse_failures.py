"""A build whose data breaks a rule fails with a message naming the node and the bad rows."""

from __future__ import annotations

import json

import duckdb
import pytest
from tiny_lake import D1, D2, ad_row, query, write_lake, write_next_day, write_table

from pipelines import canonical, warehouse
from pipelines.config import RULE_BASED_MODELS, load_settings
from pipelines.errors import PipelineError


def test_spend_in_a_currency_without_a_rate_names_currency_and_day(tmp_path):
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={"ATTRIBUTION__ATTRIBUTION__MODELS": "[" + ", ".join(RULE_BASED_MODELS) + "]"},
    )
    # Spend in JPY, and no rate for JPY at all.
    write_table(
        settings,
        canonical.AD_DELIVERY,
        "google_ads",
        D1,
        [ad_row("google_ads", "111", "JPY", D1, "C1", "Brand", "G1", "A1", 100, 5, 1200.0)],
    )
    write_table(
        settings,
        canonical.FX_RATES,
        "fx_rates",
        D1,
        [{"rate_date": D1, "base_currency": "EUR", "currency": "USD", "rate": 1 / 1.08}],
    )
    with pytest.raises(PipelineError) as caught:
        warehouse.build(settings)
    message = str(caught.value)
    assert "has_fx_rate" in message
    assert "no USD rate for JPY on 2026-03-02" in message
    state = json.loads(warehouse.build_state_path(settings).read_text())
    assert state["success"] is False
    assert any("has_fx_rate" in node["name"] for node in state["failed"])


def test_after_a_failed_build_the_next_one_rebuilds_every_table(tmp_path):
    """A failed build can have replaced some incremental tables and not the ones after
    them (whose record of changed people is then gone): the next build is a full one."""
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={"ATTRIBUTION__ATTRIBUTION__MODELS": "[" + ", ".join(RULE_BASED_MODELS) + "]"},
    )
    write_lake(settings)
    assert warehouse.build(settings).success
    write_table(
        settings,
        canonical.AD_DELIVERY,
        "tiktok_ads",
        D2,
        [ad_row("tiktok_ads", "444", "JPY", D2, "T1", "Launch", "TG1", "TA1", 10, 1, 500.0)],
    )
    with pytest.raises(PipelineError, match="no USD rate for JPY"):
        warehouse.build(settings)
    # the rate arrives: the next build must not trust what the failed one left
    write_table(
        settings,
        canonical.FX_RATES,
        "fx_rates",
        D2,
        [
            {"rate_date": D2, "base_currency": "EUR", "currency": "USD", "rate": 1 / 1.10},
            {"rate_date": D2, "base_currency": "EUR", "currency": "GBP", "rate": 1 / 0.86},
            {"rate_date": D2, "base_currency": "EUR", "currency": "JPY", "rate": 1 / 160.0},
        ],
    )
    said = []
    assert warehouse.build(settings, progress=lambda event, **info: said.append(info)).success
    assert any("did not finish" in info.get("message", "") for info in said)
    run_results = json.loads((warehouse.target_path(settings) / "run_results.json").read_text())
    compiled = {r["unique_id"]: r.get("compiled_code") or "" for r in run_results["results"]}
    assert "int_changed_people" not in compiled["model.attribution.int_touch_events"]
    # ... and after a complete build, nightly builds are incremental again
    assert warehouse.build(settings).success
    run_results = json.loads((warehouse.target_path(settings) / "run_results.json").read_text())
    compiled = {r["unique_id"]: r.get("compiled_code") or "" for r in run_results["results"]}
    assert "int_changed_people" in compiled["model.attribution.int_touch_events"]


def _key_tests(settings, model: str) -> dict[str, tuple[str, str]]:
    """Status and compiled SQL of `model`'s data tests, run by dbt."""
    res = warehouse.dbt_invoke(
        settings, ["test", "--select", model, "--exclude-resource-type", "unit_test"]
    )
    return {r.node.name: (str(r.status), r.node.compiled_code) for r in res.result.results}


def test_unique_in_latest_build_finds_a_key_written_twice(tmp_path):
    """The unique tests of the row-replaced tables read the latest build's keys only,
    yet find a duplicate among them, whether the other row is new or old; the facts'
    sums-to-one test reads the latest build's conversions."""
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={"ATTRIBUTION__ATTRIBUTION__MODELS": "[" + ", ".join(RULE_BASED_MODELS) + "]"},
    )
    write_lake(settings)
    assert warehouse.build(settings).success
    table = "intermediate.int_events_identified"
    name = "unique_in_latest_build_int_events_identified_event_id"

    def run(sql: str) -> None:
        with duckdb.connect(str(settings.paths.warehouse)) as con:
            con.execute(sql)

    # after a full build every row is the latest build's: the whole table is grouped
    status, sql = _key_tests(settings, "int_events_identified")[name]
    assert status == "pass" and "max(built_at)" not in sql
    run(f"insert into {table} select * from {table} where event_id = 'e1'")
    assert _key_tests(settings, "int_events_identified")[name][0] == "fail"
    run(f"delete from {table} where event_id = 'e1'")

    write_next_day(settings)
    assert warehouse.build(settings).success  # incremental: rows of two builds
    status, sql = _key_tests(settings, "int_events_identified")[name]
    assert status == "pass" and "max(built_at)" in sql  # the night's keys only
    latest = query(settings, f"select max(built_at) as t from {table}")["t"][0]
    old = query(settings, f"select event_id from {table} where built_at < '{latest}' limit 1")
    assert len(old) == 1
    # a row written again by the latest build while its old copy stayed
    run(
        f"insert into {table} select * replace (timestamp '{latest}' as built_at) "
        f"from {table} where event_id = '{old['event_id'][0]}'"
    )
    assert _key_tests(settings, "int_events_identified")[name][0] == "fail"

    # the facts: a conversion rewritten by the latest build whose credits no longer sum
    # to one is found
    tests = _key_tests(settings, "fct_attributed_conversions")
    (facts,) = [n for n in tests if n.startswith("sums_to_one_fct_attributed_conversions")]
    status, sql = tests[facts]
    assert status == "pass" and "max(built_at)" in sql
    run(
        "update fct_attributed_conversions set credit = credit / 2 "
        "where (conversion_id, model) = (select (conversion_id, model) "
        "from fct_attributed_conversions where built_at = "
        "(select max(built_at) from fct_attributed_conversions) limit 1)"
    )
    assert _key_tests(settings, "fct_attributed_conversions")[facts][0] == "fail"


def test_not_null_columns_names_each_column_holding_nulls(tmp_path):
    """One test per model checks its not-null columns (not_null_columns): it fails on a
    null in any of them, and its rows name each such column with its count of nulls."""
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={"ATTRIBUTION__ATTRIBUTION__MODELS": "[" + ", ".join(RULE_BASED_MODELS) + "]"},
    )
    write_lake(settings)
    assert warehouse.build(settings).success
    tests = _key_tests(settings, "fct_attributed_conversions")
    (name,) = [n for n in tests if n.startswith("not_null_columns_fct_attributed_conversions")]
    status, sql = tests[name]
    assert status == "pass"
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute(
            "update fct_attributed_conversions set channel = null "
            "where conversion_id = 'O1' and model = 'linear'"
        )
        con.execute("update fct_attributed_conversions set credit = null where model = 'linear'")
        linear_rows = con.execute(
            "select count(*) from fct_attributed_conversions where model = 'linear'"
        ).fetchone()[0]
        o1_rows = con.execute(
            "select count(*) from fct_attributed_conversions "
            "where conversion_id = 'O1' and model = 'linear'"
        ).fetchone()[0]
        failing = sorted(con.execute(sql).fetchall())
    assert o1_rows >= 1
    assert _key_tests(settings, "fct_attributed_conversions")[name][0] == "fail"
    assert failing == [("channel", o1_rows), ("credit", linear_rows)]
