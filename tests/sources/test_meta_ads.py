"""meta_ads: Insights JSON and Ads Manager CSV parsing, action-type selection, errors, writer."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from contract_helpers import assert_same_rows, read_expected

from pipelines.canonical import AD_DELIVERY
from pipelines.config import load_settings
from pipelines.errors import BadInputError
from pipelines.sources import get_source
from pipelines.sources.base import ParseContext

SRC = get_source("meta_ads")
SAMPLES = SRC.folder / "samples"
DAY = dt.date(2026, 3, 2)


def ctx(**options) -> ParseContext:
    return ParseContext(folder_date=DAY, options=options)


def test_overlapping_action_types_count_only_the_configured_list(tmp_path):
    settings = load_settings(data_dir=tmp_path)
    c = ParseContext.from_settings(settings, "meta_ads", DAY)
    types = settings.source_options("meta_ads")["conversion_action_types"]
    row = SRC.parse(SAMPLES / "insights_page1.json", c).iloc[0]
    # fb_pixel_lead 2 + fb_pixel_purchase 7 + lead_grouped 5; not lead, purchase, omni_purchase,
    # view_content (46787.82), link_click, ...
    assert row["platform_conversions"] == pytest.approx(14.0)
    assert row["platform_conversion_value"] == pytest.approx(1250.5)
    assert row["conversion_definition"] == "meta:" + "+".join(types)


def test_another_action_type_list_from_the_options():
    row = SRC.parse(SAMPLES / "insights_page1.json", ctx(conversion_action_types=["omni_purchase"]))
    assert row.loc[0, "platform_conversions"] == pytest.approx(7.0)
    assert row.loc[0, "platform_conversion_value"] == pytest.approx(1250.5)
    assert row.loc[0, "conversion_definition"] == "meta:omni_purchase"


def test_insights_numbers_clicks_and_ids():
    df = SRC.parse(SAMPLES / "insights_page1.json", ctx(timezone="Europe/Paris"))
    first, second = df.to_dict(orient="records")
    assert first["spend_micros"] == 5_339_500_000  # "5339.5" EUR
    assert (first["impressions"], first["clicks"], first["link_clicks"]) == (361324, 5873, 3107)
    assert first["ad_group_id"] == "120210000000000101"  # adset
    assert first["account_id"] == "1234567890123"
    assert first["account_timezone"] == "Europe/Paris"
    assert (second["platform_conversions"], second["spend_micros"]) == (0.0, 3_070_000)


def test_ads_manager_export_derives_stable_ids_and_skips_the_summary_row():
    df = SRC.parse(SAMPLES / "ads_manager_export.csv", ctx())
    assert len(df) == 3
    again = SRC.parse(SAMPLES / "ads_manager_export.csv", ctx())
    assert list(df["ad_id"]) == list(again["ad_id"])
    assert df["ad_id"].str.startswith("name-").all()
    assert df["ad_id"].nunique() == 3 and df["campaign_id"].nunique() == 2
    static = df[df["ad_name"] == "Static - 10% off"].iloc[0]
    assert static["account_currency"] == "USD"  # from "Amount spent (USD)"
    assert static["spend_micros"] == 1_250_500_000  # "1,250.50"
    assert static["impressions"] == 120_500
    assert (static["clicks"], static["link_clicks"]) == (2000, 1250)
    # Website purchases 18 (= Results); "Purchases" (omni_purchase, 21) is not configured
    assert static["platform_conversions"] == pytest.approx(18.0)
    assert static["platform_conversion_value"] == pytest.approx(2480.0)


def test_results_column_counts_only_a_configured_indicator():
    df = SRC.parse(SAMPLES / "ads_manager_export_fr.csv", ctx())
    assert list(df["platform_conversions"]) == [
        3.0,
        0.0,
    ]  # actions:offsite_conversion.fb_pixel_lead
    other = SRC.parse(SAMPLES / "ads_manager_export_fr.csv", ctx(conversion_action_types=["lead"]))
    assert list(other["platform_conversions"]) == [0.0, 0.0]


def test_localised_export_with_semicolons_and_decimal_commas():
    first = SRC.parse(SAMPLES / "ads_manager_export_fr.csv", ctx()).iloc[0]
    assert first["spend_micros"] == 1_234_560_000  # "1 234,56"
    assert first["impressions"] == 25_310
    assert first["account_currency"] == "EUR"
    assert first["ad_group_name"] == "Intérêts plein air"
    assert first["ad_id"] == "120210000000001009"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("api_error.json", "Meta API error instead of insights: (#17) User request limit reached"),
        ("weekly_rows.json", "covers 2026-02-24 to 2026-03-02, not one day"),
        ("wrong_date.json", "date 2026-03-03 is outside the landing folder's day 2026-03-02"),
        ("export_missing_spend.csv", "missing required column 'Amount spent (<currency>)'"),
    ],
)
def test_malformed_files_are_rejected(name, message):
    with pytest.raises(BadInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SRC.parse(SAMPLES / "bad" / name, ctx())


def test_non_numeric_spend_names_line_and_column():
    with pytest.raises(BadInputError) as err:
        SRC.parse(SAMPLES / "bad" / "export_bad_spend.csv", ctx())
    assert err.value.where == "line 3, column 'Amount spent (USD)'"


def test_export_without_currency_needs_the_option(tmp_path):
    f = tmp_path / "export.csv"
    f.write_text(
        "Reporting starts,Reporting ends,Account ID,Campaign name,Amount spent,Impressions\n"
        "2026-03-02,2026-03-02,act_42,Brand,10.5,100\n",
        encoding="utf-8",
    )
    with pytest.raises(BadInputError, match="account currency unknown for account 42"):
        SRC.parse(f, ctx())
    row = SRC.parse(f, ctx(accounts={"act_42": {"currency": "GBP"}})).iloc[0]
    assert (row["account_currency"], row["spend_micros"], row["account_id"]) == (
        "GBP",
        10_500_000,
        "42",
    )


@pytest.mark.parametrize("fmt", ["api", "ui"])
@pytest.mark.parametrize("types", [None, ["offsite_conversion.fb_pixel_lead", "omni_purchase"]])
def test_write_then_parse_round_trips(tmp_path, fmt, types):
    c = ctx() if types is None else ctx(conversion_action_types=types)
    rows = SRC.parse(SAMPLES / "insights_page1.json", c)
    [path] = SRC.write(rows, tmp_path, c, fmt)
    assert_same_rows(SRC.parse(path, c), rows, AD_DELIVERY)


def test_writer_emits_overlapping_action_types(tmp_path):
    rows = read_expected(SAMPLES / "insights_page1.expected.csv", AD_DELIVERY)
    [path] = SRC.write(rows, tmp_path, ctx(), "api")
    row = json.loads(path.read_text())["data"][0]
    types = {a["action_type"]: a["value"] for a in row["actions"]}
    assert types["offsite_conversion.fb_pixel_purchase"] == types["omni_purchase"] == "14"
    assert row["spend"] == "5339.5" and row["impressions"] == "361324"
