"""Microsoft Advertising source: ZIP/CSV reports with preamble, footer and thousands commas."""

from __future__ import annotations

import datetime as dt
import zipfile

import pandas as pd
import pytest

from pipelines.errors import BadInputError
from pipelines.sources.base import ParseContext
from pipelines.sources.microsoft_ads.source import SOURCE
from pipelines.sources.microsoft_ads.timezones import to_iana

SAMPLES = SOURCE.folder / "samples"
DAY = dt.date(2026, 3, 2)


def ctx(**options) -> ParseContext:
    return ParseContext(folder_date=DAY, options=options)


def by_ad(df: pd.DataFrame) -> dict[str, dict]:
    return {r["ad_id"]: r for r in df.to_dict("records")}


def test_zip_download_skips_preamble_and_footer_and_strips_thousands_commas():
    df = SOURCE.parse(SAMPLES / "ad_performance_report.zip", ctx())
    assert len(df) == 5  # Rows: 5, footer and blank lines not counted
    row = by_ad(df)["78718531268003"]
    assert row["spend_micros"] == 1_001_550_000  # "1,001.55"
    assert row["platform_conversion_value"] == pytest.approx(4210.0)  # "4,210.00"
    assert row["platform_conversions"] == pytest.approx(41.5)
    assert row["clicks"] == 1032 and row["link_clicks"] == 1032  # "1,032"
    assert row["account_id"] == "149002817" and row["account_currency"] == "USD"
    assert row["account_timezone"] == "America/Los_Angeles"
    assert row["conversion_definition"] == "microsoft:Conversions"
    assert row["ad_name"] == "Acme Outdoor - Official Site"
    empty = by_ad(df)["78718531269120"]
    assert pd.isna(empty["platform_conversions"]) and pd.isna(empty["platform_conversion_value"])
    assert set(df["spend_date"]) == {DAY}


def test_bare_csv_gives_the_same_rows_as_the_zip():
    a = SOURCE.parse(SAMPLES / "ad_performance_report.zip", ctx())
    b = SOURCE.parse(SAMPLES / "ad_performance_report_bare.csv", ctx())
    pd.testing.assert_frame_equal(a, b)


def test_hourly_rows_are_summed_to_the_day_and_eastern_zone_is_mapped():
    df = SOURCE.parse(SAMPLES / "ad_performance_hourly.csv", ctx())
    row = by_ad(df)["88110022"]
    assert row["impressions"] == 3000 and row["clicks"] == 100
    assert row["spend_micros"] == 1_100_000_000  # 52.40 + 1,047.60
    assert row["platform_conversions"] == pytest.approx(5.5)
    assert row["platform_conversion_value"] == pytest.approx(1200.5)
    assert row["account_timezone"] == "America/New_York" and row["account_currency"] == "CAD"
    dashes = by_ad(df)["88110023"]
    assert pd.isna(dashes["clicks"]) and dashes["spend_micros"] == 0


def test_tsv_without_preamble_has_no_zone_unless_configured():
    assert (
        SOURCE.parse(SAMPLES / "ad_performance_no_header.tsv", ctx())["account_timezone"]
        .isna()
        .all()
    )
    df = SOURCE.parse(
        SAMPLES / "ad_performance_no_header.tsv",
        ctx(account_timezones={"149002999": "AmsterdamBerlinBernRomeStockholmVienna"}),
    )
    assert df["account_timezone"].tolist() == ["Europe/Berlin"]


def test_option_overrides_the_preamble_zone():
    df = SOURCE.parse(
        SAMPLES / "ad_performance_report.zip", ctx(account_timezone="EasternTimeUSCanada")
    )
    assert set(df["account_timezone"]) == {"America/New_York"}


def test_all_conversions_option_changes_metric_and_definition():
    df = SOURCE.parse(
        SAMPLES / "ad_performance_report.zip", ctx(conversion_column="AllConversions")
    )
    row = by_ad(df)["78718531268003"]
    assert row["platform_conversions"] == pytest.approx(44.0) and row[
        "platform_conversion_value"
    ] == pytest.approx(4388.25)
    assert row["conversion_definition"] == "microsoft:AllConversions"


@pytest.mark.parametrize(
    ("text", "iana"),
    [
        ("PacificTimeUSCanadaTijuana", "America/Los_Angeles"),
        ("(GMT-08:00) Pacific Time (US & Canada); Tijuana", "America/Los_Angeles"),
        ("(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London", "Europe/London"),
        ("BrusselsCopenhagenMadridParis", "Europe/Paris"),
        ("Australia/Sydney", "Australia/Sydney"),
        ("(GMT+05:45) Kathmandu", None),
    ],
)
def test_time_zone_names_map_to_iana(text, iana):
    assert to_iana(text) == iana


@pytest.mark.parametrize(
    ("file", "message", "where"),
    [
        ("truncated_rows.csv", "Rows: 5 but the file holds 3 data rows", "preamble 'Rows'"),
        ("missing_spend.csv", "missing required column 'Spend'", None),
        ("non_numeric_clicks.csv", "'n/a clicks' is not a number", "line 13, column 'Clicks'"),
        ("wrong_day.csv", "TimePeriod 2026-03-01 is not the landing folder's day", "line 13"),
        ("unknown_timezone.csv", "sources.microsoft_ads.account_timezone", "preamble 'Time Zone'"),
        ("unknown_currency.csv", "unknown currency 'US$'", "column 'CurrencyCode'"),
        ("not_a_report.zip", "the ZIP download is damaged", None),
    ],
)
def test_malformed_reports_are_rejected_with_file_place_and_reason(file, message, where):
    with pytest.raises(BadInputError) as err:
        SOURCE.parse(SAMPLES / "bad" / file, ctx())
    assert message in str(err.value)
    assert file in err.value.file
    if where:
        assert where in (err.value.where or "")


def test_zip_with_two_csvs_is_rejected(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "x")
        zf.writestr("b.csv", "y")
    with pytest.raises(BadInputError, match="holds 2 CSV files"):
        SOURCE.parse(path, ctx())


def _rows() -> pd.DataFrame:
    base = SOURCE.parse(SAMPLES / "ad_performance_report.zip", ctx())
    base.loc[0, "spend_micros"] = 12_345_670_000  # 12,345.67
    base.loc[1, "platform_conversion_value"] = 1_234_567.5
    return base


@pytest.mark.parametrize("fmt", ["zip", "csv"])
def test_write_renders_the_real_layout_and_round_trips(tmp_path, fmt):
    rows = _rows()
    (path,) = SOURCE.write(rows, tmp_path, ctx(), fmt)
    if fmt == "zip":
        with zipfile.ZipFile(path) as zf:
            (name,) = zf.namelist()
            text = zf.read(name).decode("utf-8-sig")
    else:
        text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == '"Report Name: Ad Performance"'
    assert '"Time Zone: (GMT-08:00) Pacific Time (US & Canada); Tijuana"' in lines
    assert '"Rows: 5"' in lines
    assert lines[-1].startswith('"©2026 Microsoft Corporation')
    assert '"12,345.67"' in text and '"1,234,567.50"' in text
    pd.testing.assert_frame_equal(SOURCE.parse(path, ctx()), rows)


def test_unknown_extra_columns_never_break_a_load(tmp_path):
    (path,) = SOURCE.write(_rows(), tmp_path, ctx(), "csv")
    text = path.read_text(encoding="utf-8-sig").replace('"Revenue"', '"Revenue","BrandNewColumn"')
    lines = [
        ln + ',"surprise"' if ln.startswith('"2026-03-02"') else ln for ln in text.splitlines()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(SOURCE.parse(path, ctx())) == 5
