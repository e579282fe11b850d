"""Taboola source: Backstage campaign-summary JSON at campaign grain."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from pipelines.errors import BadInputError
from pipelines.sources.base import ParseContext
from pipelines.sources.taboola.source import SOURCE

SAMPLES = SOURCE.folder / "samples"
DAY = dt.date(2026, 3, 2)


def ctx(**options) -> ParseContext:
    return ParseContext(folder_date=DAY, options=options)


def by_campaign(df: pd.DataFrame) -> dict[str, dict]:
    return {r["campaign_id"]: r for r in df.to_dict("records")}


def test_campaign_summary_maps_to_campaign_grain():
    df = SOURCE.parse(SAMPLES / "campaign_day_breakdown.json", ctx())
    assert len(df) == 3
    row = by_campaign(df)["26734112"]
    assert (
        row["spend_micros"] == 612_470_000
        and row["impressions"] == 184233
        and row["clicks"] == 1021
    )
    assert row["platform_conversions"] == pytest.approx(14.0) and row[
        "platform_conversion_value"
    ] == pytest.approx(1890.5)
    assert row["conversion_definition"] == "taboola:cpa_actions_num"
    assert row["account_id"] == "acmeoutdoor-sc" and row["account_timezone"] == "America/New_York"
    assert row["spend_date"] == DAY and row["date_basis"] == "account_tz"
    assert df["ad_group_id"].isna().all() and df["ad_id"].isna().all()


def test_string_numbers_and_dynamic_value_field():
    df = SOURCE.parse(SAMPLES / "campaign_day_breakdown_dynamic_value.json", ctx())
    row = by_campaign(df)["27110045"]
    assert row["clicks"] == 364 and row["impressions"] == 88213  # strings in the file
    assert row["platform_conversion_value"] == pytest.approx(
        2315.4
    )  # "2,315.40" from cpa_..._value
    assert row["account_currency"] == "EUR" and row["account_timezone"] == "Europe/Berlin"
    assert row["campaign_name"] == "Zelte Frühling - DE"


def test_options_choose_conversion_fields_and_account(tmp_path):
    doc = json.loads((SAMPLES / "campaign_day_breakdown_dynamic_value.json").read_text())
    doc.pop("account_id")
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(doc))
    df = SOURCE.parse(
        path,
        ctx(
            account_id="acme-de",
            conversions_field="cpa_actions_num_purchase_rule_77123",
            value_field="cpa_purchase_rule_77123_views_value",
        ),
    )
    row = by_campaign(df)["27110046"]
    assert row["account_id"] == "acme-de"
    assert row["platform_conversions"] == pytest.approx(4.0) and row[
        "platform_conversion_value"
    ] == pytest.approx(0.0)
    assert row["conversion_definition"] == "taboola:cpa_actions_num_purchase_rule_77123"


@pytest.mark.parametrize(
    ("file", "message", "where"),
    [
        ("missing_spent.json", "missing required field 'spent'", "results[1]"),
        ("non_numeric_clicks.json", "'ninety-six' is not a number", "results[2], field 'clicks'"),
        ("wrong_day.json", "date 2026-03-01 is not the landing folder's day", "results[0]"),
        ("unknown_currency.json", "unknown currency 'DOLLAR'", "field 'currency'"),
        ("no_account_id.json", "sources.taboola.account_id is not set", "results[0]"),
        ("error_response.json", "no 'results' list", None),
    ],
)
def test_malformed_reports_are_rejected(file, message, where):
    with pytest.raises(BadInputError) as err:
        SOURCE.parse(SAMPLES / "bad" / file, ctx())
    assert message in str(err.value)
    if where:
        assert where in (err.value.where or "")


def test_unknown_zone_is_rejected(tmp_path):
    doc = json.loads((SAMPLES / "campaign_day_breakdown.json").read_text())
    doc["timezone"] = "Mars/Olympus"
    path = tmp_path / "tz.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(BadInputError, match="not an IANA time zone"):
        SOURCE.parse(path, ctx())


def test_write_round_trips_with_exact_spend(tmp_path):
    rows = pd.concat(
        [
            SOURCE.parse(SAMPLES / "campaign_day_breakdown.json", ctx()),
            SOURCE.parse(SAMPLES / "campaign_day_breakdown_dynamic_value.json", ctx()),
        ],
        ignore_index=True,
    )
    rows.loc[0, "spend_micros"] = 1_224_940_001  # not whole cents
    rows.loc[1, "platform_conversions"] = None
    rows.loc[1, "platform_conversion_value"] = None
    paths = SOURCE.write(rows, tmp_path, ctx())
    assert len(paths) == 2  # one per account
    doc = json.loads(paths[0].read_text())
    assert doc["results"][0]["date"] == "2026-03-02 00:00:00.0" and doc["timezone"]
    back = pd.concat([SOURCE.parse(p, ctx()) for p in paths], ignore_index=True)
    key = ["account_id", "campaign_id"]
    pd.testing.assert_frame_equal(
        back.sort_values(key).reset_index(drop=True), rows.sort_values(key).reset_index(drop=True)
    )
