"""linkedin_ads: adAnalytics parsing (URNs, entities, conversion metrics), errors, writer."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from contract_helpers import assert_same_rows, read_expected

from pipelines.canonical import AD_DELIVERY
from pipelines.errors import BadInputError
from pipelines.sources import get_source
from pipelines.sources.base import ParseContext

SRC = get_source("linkedin_ads")
SAMPLES = SRC.folder / "samples"
DAY = dt.date(2026, 3, 2)


def ctx(**options) -> ParseContext:
    return ParseContext(folder_date=DAY, options=options)


def test_creative_urns_resolve_through_entities():
    first, second = SRC.parse(SAMPLES / "analytics_creative.json", ctx()).to_dict(orient="records")
    assert first["ad_id"] == "412345678"  # urn:li:sponsoredCreative:412345678
    assert first["ad_group_id"] == "301234567"  # the creative's campaign
    assert first["campaign_id"] == "612000001"  # the campaign's campaign group
    assert first["account_id"] == "507123456"
    assert (first["campaign_name"], first["ad_group_name"]) == (
        "FY26 Q1 | Demand gen",
        "Webinar | IT decision makers",
    )
    assert first["account_currency"] == "USD"
    assert first["spend_micros"] == 412_870_000
    assert (first["clicks"], first["link_clicks"]) == (131, 118)  # landingPageClicks
    assert first["platform_conversions"] == pytest.approx(
        10.0
    )  # externalWebsiteConversions 6 + oneClickLeads 4
    assert first["conversion_definition"] == "linkedin:externalWebsiteConversions+oneClickLeads"
    assert first["date_basis"] == "unknown"
    assert pd.isna(second["link_clicks"]) and pd.isna(second["ad_name"])
    assert (second["spend_micros"], second["platform_conversion_value"]) == (30_100_000, 120.0)


def test_statistics_pivots_and_urn_keyed_entities():
    [row] = SRC.parse(SAMPLES / "statistics_pivots.json", ctx()).to_dict(orient="records")
    assert (row["campaign_id"], row["ad_group_id"], row["ad_id"]) == (
        "612000002",
        "301234600",
        "412349999",
    )
    assert (row["account_id"], row["account_currency"]) == ("507999888", "EUR")
    assert row["spend_micros"] == 1_234_567_800  # "1234.5678"
    assert row["platform_conversions"] == pytest.approx(2.5)


def test_conversion_metrics_option():
    df = SRC.parse(SAMPLES / "analytics_creative.json", ctx(conversion_metrics=["oneClickLeads"]))
    assert list(df["platform_conversions"]) == [4.0, 1.0]
    assert set(df["conversion_definition"]) == {"linkedin:oneClickLeads"}


def test_entities_and_currency_from_options(tmp_path):
    f = tmp_path / "a.json"
    date = {"year": 2026, "month": 3, "day": 2}
    el = {
        "dateRange": {"start": date, "end": date},
        "pivotValues": ["urn:li:sponsoredCreative:77"],
        "impressions": 5,
        "costInLocalCurrency": "2",
    }
    f.write_text(json.dumps({"elements": [el]}))
    entities = {
        "creatives": {"urn:li:sponsoredCreative:77": {"campaign": "urn:li:sponsoredCampaign:66"}},
        "campaigns": [{"id": 66, "name": "C", "campaignGroup": "urn:li:sponsoredCampaignGroup:55"}],
    }
    row = SRC.parse(
        f, ctx(entities=entities, account_id="urn:li:sponsoredAccount:44", currency="GBP")
    ).iloc[0]
    assert (row["account_id"], row["campaign_id"], row["ad_group_id"], row["ad_id"]) == (
        "44",
        "55",
        "66",
        "77",
    )
    assert (row["ad_group_name"], row["account_currency"], row["clicks"]) == ("C", "GBP", 0)


def test_empty_elements_is_an_empty_day(tmp_path):
    f = tmp_path / "empty.json"
    f.write_text('{"paging": {"start": 0, "count": 10, "links": []}, "elements": []}')
    assert SRC.parse(f, ctx()).empty


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_currency.json", "account currency unknown for account 507123456"),
        ("monthly.json", "covers 2026-03-01 to 2026-03-31, not one day"),
        ("missing_cost.json", "missing required field 'costInLocalCurrency'"),
        ("error_401.json", "LinkedIn API error (status 401): Invalid access token"),
    ],
)
def test_malformed_files_are_rejected(name, message):
    with pytest.raises(BadInputError) as err:
        SRC.parse(SAMPLES / "bad" / name, ctx())
    assert message in str(err.value)


@pytest.mark.parametrize("fmt", ["api", "statistics"])
def test_write_then_parse_round_trips(tmp_path, fmt):
    rows = read_expected(SAMPLES / "analytics_creative.expected.csv", AD_DELIVERY)
    [path] = SRC.write(rows, tmp_path, ctx(), fmt)
    doc = json.loads(path.read_text())
    assert doc["elements"][0]["pivotValues"][-1] == "urn:li:sponsoredCreative:412345678"
    assert doc["elements"][0]["costInLocalCurrency"] == "412.87"
    assert_same_rows(SRC.parse(path, ctx()), rows, AD_DELIVERY)
