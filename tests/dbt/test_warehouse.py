"""The warehouse built from the tiny lake (tiny_lake.py): spend, identity, paths, models, KPIs."""

from __future__ import annotations

import hashlib
import json

import duckdb
import pandas as pd
import pytest
from tiny_lake import enabled_models, query, snapshot, uncompressed_columns, write_next_day

from pipelines import warehouse
from pipelines.config import RULE_BASED_MODELS, load_settings
from pipelines.parity import BUILD_COLUMNS

EUR_USD_D1 = 1.08
EUR_USD_D2 = 1.10
GBP_USD_D2 = 1.10 / 0.86
O1_VALUE = 50 * EUR_USD_D1 - 10 * EUR_USD_D2  # the refund is converted at its own day's rate
O2_VALUE = 20.0
O3_VALUE = 30 * GBP_USD_D2
O0_VALUE = 40.0
TOTAL_VALUE = O0_VALUE + O1_VALUE + O2_VALUE + O3_VALUE
CONVERSIONS = 5  # O0, O1, O2, O3 (purchases) and the lead of b1


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # the warehouse's stable hash


def test_build_succeeds_and_records_the_build(built):
    settings, result = built
    assert result.success
    state = json.loads(warehouse.build_state_path(settings).read_text())
    assert state["success"] is True
    assert state["build_id"] == result.build_id != ""
    # The inputs of this build are remembered, so a later change forces a full rebuild.
    recorded = (settings.paths.state / "build_inputs.sha256").read_text().strip()
    assert recorded == warehouse.inputs_fingerprint(settings)
    built_models = {m["name"] for m in state["models"]}
    assert {
        "fct_ad_spend_daily",
        "fct_attributed_conversions",
        "fct_channel_performance_daily",
        "mart_kpi_daily",
    } <= built_models
    # dbt built two nodes at once (warehouse.threads), sharing one DuckDB instance
    log = (warehouse.log_path(settings) / "dbt.log").read_text()
    assert "Concurrency: 2 threads (target='duckdb')" in log
    unit_tests = [n for n in result.nodes if n.resource_type == "unit_test"]
    assert len(unit_tests) >= 9
    assert all(n.status == "pass" for n in unit_tests)
    # The manifest Cosmos reads is in the data dir's dbt target.
    manifest = json.loads(warehouse.manifest_path(settings).read_text())
    assert "model.attribution.fct_attributed_conversions" in manifest["nodes"]


def spend(settings, platform: str, day: str, campaign: str | None = None) -> pd.Series:
    sql = (
        "select * from fct_ad_spend_daily "
        f"where platform = '{platform}' and spend_date = date '{day}'"
    )
    if campaign:
        sql += f" and campaign_id = '{campaign}'"
    rows = query(settings, sql)
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.mark.parametrize(
    ("platform", "day", "account_amount", "rate"),
    [
        ("google_ads", "2026-03-02", 25.0, 1.0),
        ("meta_ads", "2026-03-02", 30.5, EUR_USD_D1),
        # no rates published for 2026-03-04: the 2026-03-03 rate is carried forward
        ("meta_ads", "2026-03-04", 10.0, EUR_USD_D2),
        ("linkedin_ads", "2026-03-03", 12.34, GBP_USD_D2),
    ],
)
def test_spend_is_converted_with_the_rate_of_its_day(built, platform, day, account_amount, rate):
    settings, _ = built
    row = spend(settings, platform, day)
    assert row["spend_account_currency"] == pytest.approx(account_amount)
    assert round(row["spend"], 2) == round(account_amount * rate, 2)
    assert row["fx_rate"] == pytest.approx(rate, rel=1e-12)


def test_affiliate_cost_nets_corrections_and_drops_reversals(built):
    settings, _ = built
    assert spend(settings, "affiliate", "2026-03-02", "P1")["spend"] == pytest.approx(10.0)
    assert spend(settings, "affiliate", "2026-03-03", "P2")["spend"] == pytest.approx(12.0)
    # AppsFlyer cost only for media sources that are not an ingested ad platform
    installs = query(settings, "select * from fct_ad_spend_daily where platform = 'appsflyer'")
    assert installs["spend"].tolist() == [pytest.approx(3.0)]
    assert installs["account_name"].tolist() == ["unity_int"]


def test_every_model_conserves_conversions_and_value(built):
    settings, _ = built
    facts = query(settings, "select * from fct_attributed_conversions")
    assert set(facts["model"]) == set(enabled_models())
    per_conversion = facts.groupby(["model", "conversion_id"])["credit"].sum()
    assert (per_conversion - 1).abs().max() <= 1e-9
    totals = facts.groupby("model").agg(credit=("credit", "sum"), value=("attributed_value", "sum"))
    for model, row in totals.iterrows():
        assert row["credit"] == pytest.approx(CONVERSIONS, abs=1e-9), model
        assert row["value"] == pytest.approx(TOTAL_VALUE, rel=1e-12), model


def test_conversions_are_deduplicated_refunded_and_valued(built):
    settings, _ = built
    conv = query(settings, "select * from intermediate.int_conversions").set_index("conversion_id")
    assert sorted(conv.index) == ["O0", "O1", "O2", "O3", "e9"]
    assert conv.loc["O1", "event_id"] == "e4"  # the retry e5 is the same order
    assert conv.loc["O1", "conversion_value"] == pytest.approx(O1_VALUE)
    assert conv.loc["O3", "conversion_value"] == pytest.approx(O3_VALUE)
    assert conv.loc["e9", "conversion_type"] == "lead"
    assert conv.loc["e9", "conversion_value"] == 0


def test_identity_stitching_joins_both_devices_in_one_path(built):
    settings, _ = built
    path = query(
        settings,
        "select * from fct_attributed_conversions "
        "where conversion_id = 'O1' and model = 'linear' order by touch_position",
    )
    # device 1 browsed anonymously and logged in only after the purchase on device 2
    assert path["touchpoint_id"].tolist() == [md5("e1"), md5("e2")]
    assert path["channel"].tolist() == ["Paid Search", "Paid Social"]
    assert path["platform"].tolist() == ["google_ads", "meta_ads"]
    assert path["campaign_id"].tolist() == ["C1", "M1"]  # by utm_id and by campaign name
    assert path["person_key"].nunique() == 1
    assert path["person_key"].iloc[0] == md5("user:u1")
    assert path["credit"].tolist() == [pytest.approx(0.5), pytest.approx(0.5)]


def test_previous_conversion_and_empty_paths(built):
    settings, _ = built
    facts = query(settings, "select * from fct_attributed_conversions where model = 'first_touch'")
    o2 = facts[facts["conversion_id"] == "O2"]
    assert o2["touchpoint_id"].tolist() == [md5("e11")]  # O1's touches are not reused
    o3 = facts[facts["conversion_id"] == "O3"]
    assert len(o3) == 1
    assert o3["touchpoint_id"].isna().all()
    assert o3["channel"].tolist() == ["Direct"]
    assert o3["credit"].tolist() == [1.0]
    lead = facts[facts["conversion_id"] == "e9"].sort_values("touch_position")
    assert lead["channel"].tolist() == ["Direct", "Organic Search"]  # two sessions


def test_non_converting_journeys_end_in_null(built):
    settings, _ = built
    journeys = query(settings, "select * from intermediate.int_journeys where not is_conversion")
    assert journeys["channel"].tolist() == ["Email"]
    assert journeys["conversion_id"].isna().all()


def kpi_row(settings, where: str) -> pd.Series:
    rows = query(settings, f"select * from mart_kpi_daily where {where}")
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_kpis_are_ratios_of_sums(built):
    settings, _ = built
    row = kpi_row(
        settings,
        "report_date = date '2026-03-02' and date_basis = 'conversion' "
        "and model = 'first_touch' and platform = 'google_ads' and campaign_id = 'C1'",
    )
    assert row["channel"] == "Paid Search"
    assert (row["spend"], row["clicks"], row["impressions"]) == (25.0, 50, 1000)
    assert row["purchase_conversions"] == pytest.approx(1)  # O1's first touch
    assert row["cpc"] == pytest.approx(25 / 50)
    assert row["cpm"] == pytest.approx(1000 * 25 / 1000)
    assert row["ctr"] == pytest.approx(50 / 1000)
    assert row["cvr"] == pytest.approx(1 / 50)
    assert row["cps"] == pytest.approx(25 / 1)
    assert row["roas"] == pytest.approx(O1_VALUE / 25)
    assert row["cpa"] == pytest.approx(25 / 1)  # all conversion types
    assert pd.isna(row["cpl"]) and pd.isna(row["cpi"])  # no leads, no installs


def test_kpis_are_null_where_the_divisor_is_zero(built):
    settings, _ = built
    tiktok = kpi_row(
        settings,
        "platform = 'tiktok_ads' and date_basis = 'conversion' and model = 'linear'",
    )
    assert tiktok["spend"] == pytest.approx(5)
    for kpi in ("cpc", "cpm", "ctr", "cvr", "cps", "cpa"):
        assert pd.isna(tiktok[kpi]), kpi
    assert tiktok["roas"] == pytest.approx(0)
    direct = kpi_row(
        settings,
        "report_date = date '2026-03-03' and date_basis = 'conversion' "
        "and model = 'linear' and channel = 'Direct' and platform is null",
    )
    assert direct["spend"] == pytest.approx(0)
    assert direct["purchase_conversions"] == pytest.approx(1)  # O3, empty path
    # no spend on the row: its cost per sale is unknown, not 0
    assert pd.isna(direct["roas"]) and pd.isna(direct["cps"]) and pd.isna(direct["cpa"])


def test_both_date_bases_hold_every_model_and_all_spend(built):
    settings, _ = built
    perf = query(settings, "select * from fct_channel_performance_daily")
    total_spend = query(settings, "select sum(spend) as s from fct_ad_spend_daily")["s"].iloc[0]
    sums = perf.groupby(["date_basis", "model"]).agg(
        spend=("spend", "sum"),
        conversions=("attributed_conversions", "sum"),
        purchases=("purchase_conversions", "sum"),
        leads=("lead_conversions", "sum"),
        value=("attributed_value", "sum"),
    )
    assert set(sums.index.get_level_values("date_basis")) == {"conversion", "touch"}
    assert len(sums) == 2 * len(enabled_models())
    for key, row in sums.iterrows():
        assert row["spend"] == pytest.approx(total_spend), key
        assert row["conversions"] == pytest.approx(CONVERSIONS), key
        assert (row["purchases"], row["leads"]) == (pytest.approx(4), pytest.approx(1)), key
        assert row["value"] == pytest.approx(TOTAL_VALUE), key
    # O1 converted on 2026-03-02; its first touch (device 1) was on 2026-03-01
    first = perf[
        (perf["model"] == "first_touch")
        & (perf["platform"] == "google_ads")
        & (perf["purchase_conversions"] > 0)
    ]
    by_basis = dict(zip(first["date_basis"], first["report_date"].astype(str), strict=True))
    assert by_basis == {"conversion": "2026-03-02", "touch": "2026-03-01"}


def test_docs_site_documents_the_published_marts(built):
    settings, _ = built
    page = warehouse.generate_docs(settings)
    assert page == settings.paths.reports / "dbt-docs" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "fct_attributed_conversions" in html
    assert "Share of the conversion credited to the touch by the model" in html


def declared_uncompressed(settings) -> dict[str, set[str]]:
    """Per stored model (schema.table), the columns its config's meta.uncompressed_columns
    lists (macros/column_storage.sql), from the manifest of the last build."""
    manifest = json.loads((warehouse.target_path(settings) / "manifest.json").read_text())
    return {
        f"{node['schema']}.{node['alias']}": set(node["config"]["meta"]["uncompressed_columns"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] in ("table", "incremental")
        and node["config"].get("meta", {}).get("uncompressed_columns")
    }


def test_random_ids_are_stored_uncompressed(built):
    settings, _ = built
    declared = declared_uncompressed(settings)
    # the widest tables' random ids are declared ...
    assert {"event_id", "person_key", "anonymous_id"} <= declared[
        "intermediate.int_events_identified"
    ]
    assert "attribution_key" in declared["main.fct_attributed_conversions"]
    # ... and exactly those columns are created uncompressed, in every table that declares
    # them (fct_attributed_conversions through its enforced contract)
    assert uncompressed_columns(settings) == declared
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        stored = con.execute(
            "select column_name, list(distinct compression order by compression) "
            "from pragma_storage_info('intermediate.int_events_identified') "
            "where segment_type = 'VARCHAR' and column_name in ('event_id', 'event_type') "
            "group by column_name order by column_name"
        ).fetchall()
    assert stored[0] == ("event_id", ["Uncompressed"])
    assert stored[1][0] == "event_type" and stored[1][1] != ["Uncompressed"]


def test_a_second_build_gives_identical_marts(built):
    settings, _ = built
    before = snapshot(settings)
    events = []
    again = warehouse.build(settings, progress=lambda event, **info: events.append((event, info)))
    assert again.success
    assert again.build_id != built[1].build_id
    # a nightly build runs the data tests but not the SQL's unit tests
    assert any(n.resource_type == "test" for n in again.nodes)
    assert not any(n.resource_type == "unit_test" for n in again.nodes)
    done = {info["name"] for event, info in events if event == "node_done"}
    assert {"fct_ad_spend_daily", "fct_attributed_conversions", "mart_kpi_daily"} <= done
    assert events[-1] == ("build_done", {"success": True, "build_id": again.build_id})
    # the incremental models took their incremental path
    run_results = json.loads((warehouse.target_path(settings) / "run_results.json").read_text())
    compiled = {
        r["unique_id"]: r.get("compiled_code") or ""
        for r in run_results["results"]
        if r["unique_id"].startswith("model.attribution.fct_")
    }
    assert "changed_slices" in compiled["model.attribution.fct_attributed_conversions"]
    # ... and replaced their slices by a semi-join on the distinct slices (dbt's
    # delete+insert joined every target row with every new row of its slice)
    log = (warehouse.log_path(settings) / "dbt.log").read_text(encoding="utf-8")
    assert log.count("as target_rows") >= 2  # both incremental facts
    assert "select distinct conversion_id, model" in log
    after = snapshot(settings)
    for mart, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[mart], check_exact=True, obj=mart)


# What a stored fact row keeps of its conversion's path (fct_attributed_conversions).
PATH_COLUMNS = (
    "conversion_id, conversion_type, person_key, converted_at, conversion_date, "
    "conversion_value, touchpoint_id, touched_at, touch_date, touch_type, channel, platform, "
    "campaign_id, ad_group_id, ad_id, is_tied_to_campaign, touch_position, path_length"
)


def mark_stored_facts(settings) -> None:
    """Prefix every stored fact's key with 'kept:': a row the next build rewrites loses it.

    The key is the one column no path, credit or conservation test reads (its unique test
    still holds), so the build runs as it would on the untouched table.
    """
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute(
            "update fct_attributed_conversions set attribution_key = 'kept:' || attribution_key"
        )


def unmark_stored_facts(settings) -> None:
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute(
            "update fct_attributed_conversions set attribution_key = substr(attribution_key, 6) "
            "where attribution_key like 'kept:%'"
        )


def test_an_incremental_build_of_new_data_equals_a_full_refresh(built):
    """Runs last: it adds a day to the module's lake."""
    settings, _ = built
    paths_sql = f"select {PATH_COLUMNS} from intermediate.int_conversion_paths"
    paths_before = query(settings, paths_sql)
    mark_stored_facts(settings)
    write_next_day(settings)
    # the same settings, but every table the build leaves with a deleted row is compacted
    compacting = load_settings(
        data_dir=settings.data_dir,
        environ={
            "ATTRIBUTION__ATTRIBUTION__MODELS": "[" + ", ".join(enabled_models()) + "]",
            "ATTRIBUTION__WAREHOUSE__COMPACT_DEAD_SHARE": "0.000001",
            "ATTRIBUTION__WAREHOUSE__COMPACT_MIN_ROWS": "0",
        },
    )
    result = warehouse.build(compacting)  # incremental
    assert result.success
    # ... the tables it deleted rows from were rewritten (the identity map merges the
    # delivery, the touch events replace their people's rows, the facts their conversions'),
    # and none keeps a deleted row
    compacted = {c.table for c in result.compacted}
    assert {
        "intermediate.int_identity_map",
        "intermediate.int_touch_events",
        "main.fct_attributed_conversions",
    } <= compacted, compacted
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        assert [t for t in warehouse.dead_rows(con) if t[3]] == []
    # ... from their own DDL: the random ids stay uncompressed
    assert uncompressed_columns(settings) == declared_uncompressed(settings)
    state = json.loads(warehouse.build_state_path(settings).read_text())
    assert {c["table"] for c in state["compacted"]} == compacted
    # the rule-based facts (the models this lake enables) were rewritten exactly for the
    # conversions whose paths changed, whole, and for no other conversion of their days
    paths_after = query(settings, paths_sql)
    changed = pd.concat([paths_before, paths_after]).drop_duplicates(keep=False)
    changed_ids = set(changed["conversion_id"]) & set(paths_after["conversion_id"])
    facts = query(
        settings,
        "select model, conversion_id, cast(conversion_date as varchar) as day, "
        "bool_and(attribution_key like 'kept:%') as kept, "
        "bool_or(attribution_key like 'kept:%') as partly_kept "
        "from fct_attributed_conversions group by all",
    )
    assert not facts["partly_kept"].ne(facts["kept"]).any()  # whole conversions replaced
    rewritten = facts[~facts["kept"]].groupby("model")["conversion_id"].agg(set)
    assert set(facts["model"]) == set(RULE_BASED_MODELS)
    for model in RULE_BASED_MODELS:
        assert rewritten.get(model, set()) == changed_ids, model
    days = facts.groupby("day")["kept"].agg(set)
    assert changed_ids and (days == {True, False}).any()  # a changed day kept some rows
    unmark_stored_facts(settings)
    incremental = snapshot(settings)
    facts = incremental["fct_attributed_conversions"]
    assert "O4" in set(facts["conversion_id"])
    # O2's corrected event no longer converts: its rows went with it
    assert "O2" not in set(facts["conversion_id"])
    # O5 arrived late, dated weeks before the last day: its day is reprocessed too
    assert set(facts.loc[facts["conversion_id"] == "O5", "channel"]) == {"Email"}
    # O0 (2026-01-15), weeks before the last day, was cancelled: its day is reprocessed
    o0 = facts[facts["conversion_id"] == "O0"]
    assert (o0["conversion_value"] == 0).all() and (o0["attributed_value"] == 0).all()
    # the restated Meta day (inside the restatement window) replaced the old numbers
    spend_rows = incremental["fct_ad_spend_daily"]
    meta = spend_rows[(spend_rows["platform"] == "meta_ads") & (spend_rows["clicks"] == 42)]
    assert meta["spend"].round(2).tolist() == [round(31.0 * EUR_USD_D1, 2)]
    # the events table recomputed only what the delivery can have changed ...
    run_results = json.loads((warehouse.target_path(settings) / "run_results.json").read_text())
    compiled = {r["unique_id"]: r.get("compiled_code") or "" for r in run_results["results"]}
    assert "touched_anonymous_ids" in compiled["model.attribution.int_event_changes"]
    assert "int_event_changes" in compiled["model.attribution.int_events_identified"]
    # ... and the sessions and touches of the people whose events changed
    for model in ("int_touch_events", "int_touchpoints"):
        assert "int_changed_people" in compiled[f"model.attribution.{model}"], model
    changed = set(
        query(settings, "select person_key from intermediate.int_changed_people")["person_key"]
    )
    # c1's history moved from its own key to u1's: both lose or gain sessions
    assert {md5("anonymous:c1"), md5("user:u1")} <= changed
    # d1 has no new event, but the new Meta campaign ties its old landing now
    assert md5("anonymous:d1") not in changed
    d1 = query(
        settings,
        "select campaign_id, tie_method from intermediate.int_touchpoints where event_id = 'e14'",
    )
    assert d1.values.tolist() == [["M2", "utm_campaign_name"]]
    # ... and wrote only their touches that differ: the others keep the build that wrote them
    for model in ("int_touch_events", "int_touchpoints"):
        kept = query(
            settings,
            f"select count(*) as n from intermediate.{model} where person_key in "
            "(select person_key from intermediate.int_changed_people) "
            f"and built_at < (select max(built_at) from intermediate.{model})",
        )
        assert kept["n"].item() > 0, model
    # ... and the late identify re-keyed c1's history: its order O3 is now u1's
    people = query(
        settings,
        "select conversion_id, person_key from intermediate.int_conversions "
        "where conversion_id in ('O1', 'O3')",
    ).set_index("conversion_id")["person_key"]
    assert people["O3"] == people["O1"]
    # the identity rows merged with the delivery (a1, c1) or recomputed (a2, now shared)
    identity = query(
        settings,
        "select anonymous_id, user_id, cast(linked_at as varchar) as linked_at, "
        "linked_user_ids from intermediate.int_identity_map "
        "where anonymous_id in ('a1', 'a2', 'c1') order by anonymous_id",
    )
    assert identity.values.tolist() == [
        ["a1", "u1", "2026-03-03 09:00:00", 1],
        ["a2", "u1", "2026-03-02 20:05:00", 2],
        ["c1", "u1", "2026-03-05 11:00:00", 1],
    ]
    # o1's first event was corrected in place: its first sighting is the new copy's
    first_seen = query(
        settings,
        "select cast(first_seen_at as varchar) as t from intermediate.int_identity_map "
        "where anonymous_id = 'o1'",
    )
    assert first_seen["t"].tolist() == ["2026-01-14 10:30:00"]
    keys = {
        "int_identity_map": ["anonymous_id"],
        "int_events_identified": ["event_id"],
        "int_touch_events": ["event_id"],
        "int_touchpoints": ["event_id"],
    }
    # every column but when the row was written
    everything = f"select * exclude ({', '.join(BUILD_COLUMNS)}) from intermediate.{{}}"
    intermediate = {name: query(settings, everything.format(name)) for name in keys}
    # dbt builds incrementally on the compacted tables: with nothing new, the same marts
    assert warehouse.build(settings).success
    for mart, frame in snapshot(settings).items():
        pd.testing.assert_frame_equal(frame, incremental[mart], check_exact=True, obj=mart)
    assert warehouse.build(settings, full_refresh=True).success
    full = snapshot(settings)
    for mart, frame in full.items():
        pd.testing.assert_frame_equal(frame, incremental[mart], check_exact=False, obj=mart)
    for name, frame in intermediate.items():
        rebuilt = query(settings, everything.format(name))
        key = keys[name]
        pd.testing.assert_frame_equal(
            rebuilt.sort_values(key).reset_index(drop=True),
            frame.sort_values(key).reset_index(drop=True),
            check_exact=True,
            obj=name,
        )
