"""google_ads: GAQL JSON / GAQL CSV / UI download parsing, errors and the writer round trip."""

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

SRC = get_source("google_ads")
SAMPLES = SRC.folder / "samples"
DAY = dt.date(2026, 3, 2)


def ctx(**options) -> ParseContext:
    return ParseContext(folder_date=DAY, options=options)


def by_ad(df: pd.DataFrame) -> dict[str, dict]:
    return {r["ad_id"]: r for r in df.to_dict(orient="records")}


def test_search_stream_sums_segments_and_reads_omitted_metrics_as_zero():
    rows = by_ad(SRC.parse(SAMPLES / "api_search_stream.json", ctx()))
    brand = rows["690012345678"]  # MOBILE + DESKTOP rows of one ad-day
    assert brand["impressions"] == 1893 + 607
    assert brand["clicks"] == brand["link_clicks"] == 112 + 31
    assert brand["spend_micros"] == 20836690 + 9163310  # costMicros kept as micros
    assert brand["platform_conversions"] == pytest.approx(4.416667)
    assert brand["platform_conversion_value"] == pytest.approx(530.0)
    assert brand["account_id"] == "1234567890"
    assert brand["account_timezone"] == "America/New_York"
    assert brand["conversion_definition"] == "google:conversions"
    tents = rows["690012349999"]  # clicks, conversions, conversionsValue omitted
    assert (tents["clicks"], tents["platform_conversions"], tents["spend_micros"]) == (
        0,
        0.0,
        1500000,
    )
    assert tents["ad_name"] == "RSA tents 1"


def test_search_page_takes_ids_from_resource_names():
    [row] = SRC.parse(SAMPLES / "api_search_page.json", ctx()).to_dict(orient="records")
    assert row["account_id"] == "9876543210"
    assert row["campaign_id"] == "17000000001"
    assert row["account_currency"] == "EUR"
    assert row["platform_conversion_value"] == pytest.approx(0.0)


@pytest.mark.parametrize("name", ["gaql_export.csv", "ui_ad_report.csv", "ui_excel_utf16.csv"])
def test_csv_forms_give_the_api_numbers(name):
    rows = by_ad(SRC.parse(SAMPLES / name, ctx()))
    assert rows["690012345678"]["spend_micros"] == 30_000_000
    assert rows["690012345678"]["impressions"] == 2500
    assert rows["690012349999"]["platform_conversion_value"] == pytest.approx(0.0)  # " --" / empty


def test_ui_download_skips_preamble_and_totals_and_reads_thousands():
    df = SRC.parse(SAMPLES / "ui_ad_report.csv", ctx())
    assert len(df) == 3  # two "Total: ..." rows dropped
    big = by_ad(df)["690012340000"]
    assert big["impressions"] == 1_204_311
    assert big["spend_micros"] == 10_420_750_000  # "10,420.75" currency units -> micros
    assert big["platform_conversion_value"] == pytest.approx(18400.5)
    assert big["campaign_name"] == "Search | Competitors, broad"
    assert set(df["account_id"]) == {"1234567890"}  # "123-456-7890"
    assert df["account_timezone"].isna().all()  # the UI download has no time zone


def test_ui_download_without_day_uses_the_one_day_range_and_options(tmp_path):
    f = tmp_path / "report.csv"
    f.write_text(
        "Campaign report\nMarch 2, 2026 - March 2, 2026\n"
        'Campaign,Cost (EUR),Impr.,Clicks\nBrand,"1,000.10",10,1\n',
        encoding="utf-8",
    )
    [row] = SRC.parse(f, ctx(account_id="111-222-3333", timezone="Europe/Berlin")).to_dict(
        orient="records"
    )
    assert row["spend_date"] == DAY
    assert row["account_id"] == "1112223333"
    assert row["account_currency"] == "EUR"  # from the Cost header
    assert row["account_timezone"] == "Europe/Berlin"
    assert row["campaign_id"].startswith("name-")  # derived, see README
    assert row["spend_micros"] == 1_000_100_000
    assert row["platform_conversions"] == pytest.approx(0.0)


def test_ui_download_of_several_days_without_day_column_is_rejected(tmp_path):
    f = tmp_path / "report.csv"
    f.write_text(
        "Campaign report\nMarch 1, 2026 - March 7, 2026\nCampaign,Cost,Impr.\nBrand,1.00,10\n",
        encoding="utf-8",
    )
    with pytest.raises(
        BadInputError, match=r"missing required column 'Day'.*2026-03-01 to 2026-03-07"
    ):
        SRC.parse(f, ctx(account_id="1112223333", currency="USD"))


def test_currency_from_account_options_and_missing_currency(tmp_path):
    bad = SAMPLES / "bad" / "no_currency.json"
    with pytest.raises(BadInputError, match="account currency unknown for account 1234567890"):
        SRC.parse(bad, ctx())
    df = SRC.parse(bad, ctx(accounts={"123-456-7890": {"currency": "usd", "timezone": "UTC"}}))
    assert df.loc[0, "account_currency"] == "USD"
    assert df.loc[0, "account_timezone"] == "UTC"


def test_non_numeric_cost_names_line_and_column():
    with pytest.raises(BadInputError) as err:
        SRC.parse(SAMPLES / "bad" / "ui_bad_cost.csv", ctx())
    assert err.value.where == "line 5, column 'Cost'"
    assert "'thirty' is not a number" in str(err.value)


def test_unknown_fields_and_empty_stream_do_not_break(tmp_path):
    f = tmp_path / "stream.json"
    f.write_text(json.dumps([{"fieldMask": "segments.date", "requestId": "r1"}]))
    assert SRC.parse(f, ctx()).empty
    f.write_text(
        json.dumps(
            {
                "results": [
                    {
                        "customer": {"id": "1", "currencyCode": "USD", "newField": {"x": 1}},
                        "campaign": {"id": "5", "status": "ENABLED"},
                        "metrics": {"videoViews": "3"},
                        "segments": {"date": "2026-03-02", "adNetworkType": "SEARCH"},
                    }
                ]
            }
        )
    )
    [row] = SRC.parse(f, ctx()).to_dict(orient="records")
    assert (row["campaign_id"], row["impressions"], row["spend_micros"]) == ("5", 0, 0)


@pytest.mark.parametrize("fmt", ["api", "gaql_csv", "ui", "ui_excel"])
def test_write_then_parse_round_trips(tmp_path, fmt):
    rows = read_expected(SAMPLES / "ui_ad_report.expected.csv", AD_DELIVERY)
    rows["account_timezone"] = "America/New_York"
    c = ctx(accounts={"1234567890": {"timezone": "America/New_York"}})
    [path] = SRC.write(rows, tmp_path, c, fmt)
    assert_same_rows(SRC.parse(path, c), rows, AD_DELIVERY)


def test_writer_emits_the_real_quirks(tmp_path):
    rows = read_expected(SAMPLES / "api_search_stream.expected.csv", AD_DELIVERY)
    [api] = SRC.write(rows, tmp_path, ctx(), "api")
    doc = json.loads(api.read_text())
    tents = doc[0]["results"][1]
    assert tents["metrics"] == {"costMicros": "1500000", "impressions": "2400"}  # zeros omitted
    [ui] = SRC.write(rows, tmp_path, ctx(), "ui")
    raw = ui.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfAd report\n")
    assert b"Total: Account" in raw and b'"2,500"' in raw and b" --" in raw
