"""The gate passes on good data and names the right expectation for each fault."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pandas as pd
import quality_fixtures as qf

from pipelines.config import load_settings
from pipelines.quality import frames
from pipelines.quality import publication_log as plog
from pipelines.quality.gate import format_gate_summary, run_gate
from pipelines.quality.result import read_gate


def _errors(result) -> dict[tuple[str, str], object]:
    return {(f.expectation, f.table): f for f in result.failures}


def test_gate_passes_on_good_data_and_records_the_build(project):
    result = run_gate(project, run_id="r1")
    assert result.passed, format_gate_summary(result)
    assert result.expectations_evaluated > 50
    build = json.loads((project.paths.state / "build.json").read_text())
    stored = read_gate(project)
    assert stored.passed and stored.build_id == build["build_id"]
    assert stored.warehouse_fingerprint["size"] == project.paths.warehouse.stat().st_size
    assert set(stored.tables) == set(qf.PUBLISHED)
    assert (project.paths.reports / "data-docs" / "index.html").exists()
    entries = plog.read_entries(project)
    assert entries[-1]["run_id"] == "r1" and entries[-1]["result"] == "passed"


def test_negative_spend_in_a_lake_partition(project):
    day = qf.START + timedelta(days=4)
    df = qf.read_partition(project, "ad_delivery", "google_ads", day)
    df.loc[0, "spend_micros"] = -5_000_000
    qf.write_partition(project, "ad_delivery", "google_ads", day, df)
    result = run_gate(project)
    assert not result.passed
    failure = _errors(result)["expect_non_negative", "lake.ad_delivery"]
    assert "spend_micros" in failure.detail
    assert failure.sample_rows[0]["spend_micros"] == -5_000_000
    assert "expect_non_negative" in format_gate_summary(result)


def test_duplicated_spend_rows_break_the_grain(project):
    day = qf.START + timedelta(days=3)
    df = qf.read_partition(project, "ad_delivery", "meta_ads", day)
    qf.write_partition(project, "ad_delivery", "meta_ads", day, pd.concat([df, df.head(2)]))
    result = run_gate(project)
    failure = _errors(result)["expect_grain_unique", "lake.ad_delivery"]
    assert failure.severity == "error"
    assert {r["campaign_id"] for r in failure.sample_rows} == {"mec0"}


def test_missing_day_fails_volume(project):
    day = qf.START + timedelta(days=6)
    qf.partition_file(project, "ad_delivery", "google_ads", day).unlink()
    result = run_gate(project)
    failure = _errors(result)["expect_daily_rows_near_trailing_median", "lake.ad_delivery"]
    assert str(day) in failure.detail and "google_ads" in failure.detail


def test_stale_source_fails_freshness(project):
    for n in range(qf.DAYS - 3, qf.DAYS):
        qf.partition_file(project, "ad_delivery", "meta_ads", qf.START + timedelta(days=n)).unlink()
    result = run_gate(project)
    failure = _errors(result)["expect_source_fresh", "lake.ad_delivery"]
    assert "meta_ads" in failure.detail and "3 days" in failure.detail


def test_tenfold_spend_spike_fails_volume(project):
    day = qf.START + timedelta(days=8)
    df = qf.read_partition(project, "ad_delivery", "google_ads", day)
    df["spend_micros"] = df["spend_micros"] * 10
    qf.write_partition(project, "ad_delivery", "google_ads", day, df)
    result = run_gate(project)
    failure = _errors(result)["expect_daily_spend_near_trailing_median", "lake.ad_delivery"]
    assert str(day) in failure.detail
    assert ("expect_daily_rows_near_trailing_median", "lake.ad_delivery") not in _errors(result)


def test_currency_without_rate_names_currency_and_date(project):
    day = qf.START + timedelta(days=5)
    df = qf.read_partition(project, "ad_delivery", "meta_ads", day)
    df["account_currency"] = "GBP"
    qf.write_partition(project, "ad_delivery", "meta_ads", day, df)
    result = run_gate(project)
    failure = _errors(result)["expect_fx_rate_available", "lake.fx_rates"]
    assert f"no rate for GBP on {day}" in failure.detail


def test_null_campaign_ids_in_spend(project):
    day = qf.START + timedelta(days=2)
    df = qf.read_partition(project, "ad_delivery", "google_ads", day)
    df.loc[[0, 1], "campaign_id"] = None
    qf.write_partition(project, "ad_delivery", "google_ads", day, df)
    result = run_gate(project)
    failure = _errors(result)["expect_key_not_null", "lake.ad_delivery"]
    assert "campaign_id" in failure.detail and "2 of" in failure.detail


def _break_one_conversions_linear_credits(project):
    """One conversion's linear credits then sum to 1.2 (its first touch gets 0.7)."""
    qf.execute_on_warehouse(
        project,
        "update fct_attributed_conversions set credit = 0.7 "
        "where model = 'linear' and touch_position = 1 "
        "and conversion_id = (select min(conversion_id) from int_conversions)",
    )
    qf.write_build(project, "rebuilt")


def test_credits_not_summing_to_one(project):
    _break_one_conversions_linear_credits(project)
    result = run_gate(project)
    errors = _errors(result)
    failure = errors["expect_credits_sum_to_one", "fct_attributed_conversions"]
    assert failure.sample_rows[0]["model"] == "linear"
    assert abs(failure.sample_rows[0]["credit_sum"] - 1.2) < 1e-9
    assert (
        "expect_attributed_conversions_match_conversions",
        "fct_attributed_conversions",
    ) in errors


def test_mart_spend_differs_from_lake(project):
    qf.execute_on_warehouse(
        project,
        "update fct_ad_spend_daily set spend = spend + 0.05 "
        "where platform = 'meta_ads' and spend_date = date '2026-03-04' and ad_id = 'mea00'",
    )
    result = run_gate(project)
    failure = _errors(result)["expect_spend_matches_lake", "fct_ad_spend_daily"]
    assert "meta_ads on 2026-03-04" in failure.detail
    assert len(failure.sample_rows) == 1


def test_missing_mart_column_and_bad_accepted_values(project):
    qf.execute_on_warehouse(
        project,
        "alter table mart_kpi_daily drop column roas; "
        "update fct_channel_performance_daily set date_basis = 'click' where model = 'linear'",
    )
    result = run_gate(project)
    errors = _errors(result)
    assert "mart_kpi_daily.roas" in errors["expect_fixed_column_present", "mart_kpi_daily"].detail
    assert ("expect_accepted_values", "fct_channel_performance_daily") in errors


def test_warnings_do_not_block(project):
    qf.execute_on_warehouse(project, "update mart_kpi_daily set roas = 1000 where model = 'linear'")
    result = run_gate(project)
    assert result.passed
    assert [w.expectation for w in result.warnings] == ["expect_roas_within_sanity_bound"]


def test_missing_warehouse_fails_clearly(settings):
    result = run_gate(settings)
    assert not result.passed
    assert result.failures[0].expectation == "expect_warehouse_exists"
    assert read_gate(settings).passed is False


def test_big_tables_validated_in_parts_find_what_the_whole_table_finds(project, monkeypatch):
    # Faults on a lake table, a mart and the credits; then the same gate with parts of 7
    # rows: every copy of a duplicated key must meet in one part (split by a hash of the
    # key), and the counts of the parts add up to those of the whole.
    day = qf.START + timedelta(days=3)
    df = qf.read_partition(project, "ad_delivery", "meta_ads", day)
    df.loc[0, "spend_micros"] = -1
    qf.write_partition(project, "ad_delivery", "meta_ads", day, pd.concat([df, df.head(2)]))
    _break_one_conversions_linear_credits(project)
    whole = run_gate(project)
    monkeypatch.setenv("ATTRIBUTION__QUALITY__GATE_PART_ROWS", "7")
    parted_settings = load_settings(data_dir=project.data_dir)
    assert parted_settings.quality.gate_part_rows == 7
    parted = run_gate(parted_settings)

    def found(result):
        return {(f.expectation, f.table): f.detail.split(", e.g.")[0] for f in result.failures}

    assert found(parted) == found(whole)
    errors = found(whole)
    assert ("expect_grain_unique", "lake.ad_delivery") in errors
    assert ("expect_non_negative", "lake.ad_delivery") in errors
    assert ("expect_credits_sum_to_one", "fct_attributed_conversions") in errors
    assert parted.expectations_evaluated == whole.expectations_evaluated
    docs = "".join(p.read_text() for p in (project.paths.reports / "data-docs").rglob("*.html"))
    assert "part 1 of" in docs


def _conversions_match(relative_differences: list[float]) -> bool:
    import great_expectations as gx

    from pipelines.quality.expectations import ExpectAttributedConversionsMatchConversions

    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("totals").add_dataframe_asset("totals")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={
            "dataframe": pd.DataFrame({"conversions_relative_difference": relative_differences})
        }
    )
    return batch.validate(ExpectAttributedConversionsMatchConversions()).success


def test_attributed_conversions_tolerate_float_drift_not_a_missing_conversion():
    # 860k fractional credits of 497,300 conversions summed to 497300.000001 at 10M events
    assert _conversions_match([1e-6 / 497_300, 0.0])
    # one conversion without credit, among fifty million
    assert not _conversions_match([1 / 50_000_000])


def test_model_credit_sums_are_computed_once_and_read_in_parts(settings):
    # one model a table, one a view (as the rule-based models are): the parts, read from
    # one temporary table of the sums, add up to the whole, and a part holds every row
    # of its conversions
    con = duckdb.connect()
    con.execute("create schema attribution")
    con.execute(
        "create table attribution.attr_markov as select 'c' || (i // 3) as conversion_id, "
        "'markov' as model, case when i = 4 then 0.5 else 1 / 3 end as credit "
        "from range(30) as t(i)"
    )
    con.execute(
        "create view attribution.attr_linear as select conversion_id, 'linear' as model, "
        "credit from attribution.attr_markov"
    )
    whole = frames.attribution_credit_sums(con, settings)
    assert len(whole) == 20 and set(whole["table_name"]) == {"attr_markov", "attr_linear"}
    parts = pd.concat([frames.attribution_credit_sums(con, settings, p, 3) for p in range(3)])
    assert sorted(map(tuple, parts.values.tolist())) == sorted(map(tuple, whole.values.tolist()))
    off = whole[(whole["credit_sum"] - 1).abs() > 1e-9]
    assert set(off["conversion_id"]) == {"c1"} and len(off) == 2
    (temporary,) = con.execute(
        "select count(*) from duckdb_tables() where temporary "
        "and table_name = 'gate_attribution_credit_sums'"
    ).fetchone()
    assert temporary == 1
