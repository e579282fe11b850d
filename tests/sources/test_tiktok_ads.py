"""tiktok_ads: report/integrated/get parsing ("-" as null, mixed types), errors, writer."""

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

SRC = get_source("tiktok_ads")
SAMPLES = SRC.folder / "samples"
DAY = dt.date(2026, 3, 2)


def ctx(**options) -> ParseContext:
    return ParseContext(folder_date=DAY, options=options)


def test_report_values_and_dash_as_null():
    first, second = SRC.parse(SAMPLES / "report_page1.json", ctx()).to_dict(orient="records")
    assert first["spend_micros"] == 20_000_000  # "20.00"
    assert (first["impressions"], first["clicks"], first["link_clicks"]) == (5830, 69, 69)
    assert (first["platform_conversions"], first["platform_conversion_value"]) == (3.0, 149.7)
    assert first["campaign_id"] == "1714125042508817"  # a JSON number, every digit kept
    assert first["account_id"] == "7012345678901234567"
    assert first["conversion_definition"] == "tiktok:conversion"
    assert second["spend_micros"] == 1_204_370_000  # "1,204.37"
    assert second["impressions"] == 180442  # a JSON number
    assert pd.isna(second["platform_conversions"])  # "-": not available, not 0
    assert pd.isna(second["platform_conversion_value"])
    assert pd.isna(second["ad_name"])  # null


def test_hourly_rows_are_summed_to_the_day():
    [row] = SRC.parse(SAMPLES / "report_hourly.json", ctx()).to_dict(orient="records")
    assert row["spend_micros"] == 3_800_000
    assert row["impressions"] == 1022
    assert row["platform_conversions"] == pytest.approx(1.0)  # 0 + 1 + "-"
    assert row["account_currency"] == "EUR"


def test_time_zone_from_options_is_kept_as_iana_and_utc_reports():
    opts = {"accounts": {"7012345678901234567": {"timezone": "Etc/GMT+5"}}}
    df = SRC.parse(SAMPLES / "report_page1.json", ctx(**opts))
    assert set(df["account_timezone"]) == {"Etc/GMT+5"}
    assert set(df["date_basis"]) == {"account_tz"}
    utc = SRC.parse(SAMPLES / "report_page1.json", ctx(report_in_utc=True))
    assert set(utc["date_basis"]) == {"utc"}


def test_conversion_metric_option():
    df = SRC.parse(SAMPLES / "report_page1.json", ctx(conversion_metric="clicks"))
    assert list(df["platform_conversions"]) == [69.0, 2311.0]
    assert set(df["conversion_definition"]) == {"tiktok:clicks"}


@pytest.mark.parametrize(
    ("name", "message", "where"),
    [
        ("code_40105.json", "(code 40105): Access token is incorrect", None),
        ("bad_spend.json", "'twenty' is not a number", "data.list[0], metric 'spend'"),
        ("missing_day.json", "missing required dimension 'stat_time_day'", "data.list[0]"),
        ("wrong_date.json", "date 2026-03-01 is outside the landing folder's day", "data.list[0]"),
    ],
)
def test_malformed_files_are_rejected(name, message, where):
    with pytest.raises(BadInputError) as err:
        SRC.parse(SAMPLES / "bad" / name, ctx())
    assert message in err.value.problem
    assert err.value.where == where


def test_missing_currency_and_unknown_metrics(tmp_path):
    f = tmp_path / "r.json"
    item = {
        "dimensions": {"ad_id": "9", "stat_time_day": "2026-03-02 00:00:00"},
        "metrics": {"spend": "1.00", "advertiser_id": "5", "real_time_conversion": "2", "x": None},
    }
    f.write_text(json.dumps({"code": 0, "message": "OK", "data": {"list": [item]}}))
    with pytest.raises(BadInputError, match="account currency unknown for advertiser 5"):
        SRC.parse(f, ctx())
    row = SRC.parse(f, ctx(currency="JPY")).iloc[0]
    assert (row["account_currency"], row["spend_micros"]) == ("JPY", 1_000_000)
    assert pd.isna(row["impressions"])  # not requested: unknown, not 0


def test_write_then_parse_round_trips(tmp_path):
    rows = read_expected(SAMPLES / "report_page1.expected.csv", AD_DELIVERY)
    [path] = SRC.write(rows, tmp_path, ctx(), None)
    doc = json.loads(path.read_text())
    metrics = doc["data"]["list"][1]["metrics"]
    assert metrics["conversion"] == "-" and metrics["ad_name"] is None
    assert isinstance(metrics["campaign_id"], int) and metrics["spend"] == "1204.37"
    assert_same_rows(SRC.parse(path, ctx()), rows, AD_DELIVERY)
