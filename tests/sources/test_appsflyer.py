"""AppsFlyer source: raw-data installs reports (Pull API and Data Locker headers)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pandas as pd
import pytest

from pipelines.canonical import APP_INSTALLS, conform
from pipelines.errors import BadInputError
from pipelines.sources.appsflyer.source import SOURCE, hash_device_id, platform_for_media_source
from pipelines.sources.base import ParseContext

SAMPLES = SOURCE.folder / "samples"
DAY = dt.date(2026, 3, 2)
SALT = "test-salt"


def ctx(**options) -> ParseContext:
    return ParseContext(folder_date=DAY, options=options, pii_salt=SALT)


def by_id(df: pd.DataFrame) -> dict[str, dict]:
    return {r["install_id"]: r for r in df.to_dict("records")}


def test_pull_report_values():
    rows = by_id(SOURCE.parse(SAMPLES / "installs_report.csv", ctx()))
    g = rows["1772445791234-5561209"]
    assert g["install_at"] == pd.Timestamp("2026-03-02T10:03:17Z")
    assert g["touch_at"] == pd.Timestamp("2026-03-02T09:58:41Z") and g["touch_type"] == "click"
    assert (g["media_source"], g["campaign_id"], g["adset_id"]) == (
        "googleadwords_int",
        "21477300915",
        "160332518771",
    )
    assert (
        g["cost_model"] == "cpi"
        and g["cost_value"] == pytest.approx(1.8725)
        and g["cost_currency"] == "USD"
    )
    assert g["is_primary_attribution"] is True and g["app_id"] == "com.acme.outdoor"
    meta = rows["1772411955000-0092211"]
    assert (
        meta["touch_type"] == "impression"
        and pd.isna(meta["cost_value"])
        and pd.isna(meta["cost_currency"])
    )
    assert meta["customer_user_id"] == "cust_88123"
    tiktok = rows["1772495999000-7711023"]
    assert tiktok["cost_value"] == pytest.approx(0.0412) and tiktok["cost_currency"] == "EUR"
    assert tiktok["is_primary_attribution"] is False
    organic = rows["1772461325000-1200456"]
    assert organic["media_source"] == "organic" and pd.isna(organic["touch_at"])
    assert organic["is_primary_attribution"] is None


def test_device_ids_are_salted_hashes_and_never_raw():
    df = SOURCE.parse(SAMPLES / "installs_report.csv", ctx())
    rows = by_id(df)
    gaid = "38400000-8cf0-11bd-b23e-10b96e40000d"
    expected = hashlib.sha256((SALT + gaid).encode()).hexdigest()
    assert rows["1772445791234-5561209"]["device_id_hash"] == expected
    idfa = "6D92078A-8246-4BA4-AE5B-76104861E7DC".lower()
    assert (
        rows["1772411955000-0092211"]["device_id_hash"]
        == hashlib.sha256((SALT + idfa).encode()).hexdigest()
    )
    assert pd.isna(rows["1772495999000-7711023"]["device_id_hash"])  # all-zero (LAT) id
    text = df.astype(str).to_csv()
    assert gaid not in text and "6D92078A" not in text and "203.0.113.54" not in text


def test_without_salt_device_ids_are_dropped_unless_dev_mode():
    bare = ParseContext(folder_date=DAY)
    assert SOURCE.parse(SAMPLES / "installs_report.csv", bare)["device_id_hash"].isna().all()
    dev = dataclasses.replace(bare, allow_unsalted_pii=True)
    got = SOURCE.parse(SAMPLES / "installs_report.csv", dev)["device_id_hash"].dropna().tolist()
    assert hash_device_id("38400000-8cf0-11bd-b23e-10b96e40000d", None) in got


def test_report_timezone_option_converts_to_utc():
    rows = by_id(SOURCE.parse(SAMPLES / "installs_report.csv", ctx(timezone="Europe/Berlin")))
    assert rows["1772445791234-5561209"]["install_at"] == pd.Timestamp("2026-03-02T09:03:17Z")


def test_install_day_is_checked_in_the_report_zone():
    # 00:40:55 Los Angeles is fine; the 23:59:59 row too; all on the folder's day
    df = SOURCE.parse(SAMPLES / "installs_report.csv", ctx(timezone="America/Los_Angeles"))
    assert by_id(df)["1772411955000-0092211"]["install_at"] == pd.Timestamp("2026-03-02T08:40:55Z")


def test_data_locker_snake_case_variant():
    rows = by_id(SOURCE.parse(SAMPLES / "datalocker_installs.csv", ctx()))
    g = rows["1772435999532-4410022"]
    assert g["install_at"] == pd.Timestamp("2026-03-02T07:20:01.532Z")
    assert (g["campaign_id"], g["adset_name"], g["channel"]) == (
        "21477300999",
        "Adgroup DE",
        "ACI_Youtube",
    )
    assert g["cost_value"] == pytest.approx(2.1) and g["cost_currency"] == "EUR"
    t = rows["1772474984020-5519003"]
    assert t["cost_value"] == pytest.approx(0.35) and t["is_primary_attribution"] is True  # "True"
    assert t["media_source"] == "taboola_int"


@pytest.mark.parametrize(
    ("media_source", "platform"),
    [
        ("googleadwords_int", "google_ads"),
        ("Facebook Ads", "meta_ads"),
        ("tiktokglobal_int", "tiktok_ads"),
        ("TIKTOKGLOBAL_INT", "tiktok_ads"),
        ("taboola_int", "taboola"),
        ("organic", None),
        ("someone_new_int", None),
        (None, None),
    ],
)
def test_media_source_to_platform(media_source, platform):
    assert platform_for_media_source(media_source) == platform


@pytest.mark.parametrize(
    ("file", "message", "where"),
    [
        ("non_numeric_cost.csv", "'1.87 USD' is not a number", "line 2, column 'Cost Value'"),
        ("unknown_cost_currency.csv", "unknown currency 'EURO'", "line 4, column 'Cost Currency'"),
        ("install_outside_day.csv", "install day 2026-03-03 (UTC) is not", "line 3"),
        ("missing_install_time.csv", "missing required column 'Install Time'", None),
        ("in_app_events_report.csv", "'af_purchase' is not an install", "column 'Event Name'"),
        ("not_appsflyer.csv", "not an AppsFlyer raw-data report", None),
    ],
)
def test_malformed_reports_are_rejected(file, message, where):
    with pytest.raises(BadInputError) as err:
        SOURCE.parse(SAMPLES / "bad" / file, ctx())
    assert message in str(err.value)
    if where:
        assert where in (err.value.where or "")


@pytest.mark.parametrize(("fmt", "tz"), [("pull", "America/New_York"), ("datalocker", None)])
def test_write_round_trips_except_the_device_hash_value(tmp_path, fmt, tz):
    options = {"timezone": tz} if tz else {}
    rows = pd.concat(
        [
            SOURCE.parse(SAMPLES / f, ctx())
            for f in ("installs_report.csv", "datalocker_installs.csv")
        ],
        ignore_index=True,
    )
    rows = rows[
        rows["install_id"] != "1772411955000-0092211"
    ].copy()  # 00:40 UTC is 3/1 in New York
    if fmt == "pull":  # the Pull API prints whole seconds
        for col in ("install_at", "touch_at"):
            rows[col] = [None if pd.isna(t) else t.floor("s") for t in rows[col]]
    (path,) = SOURCE.write(rows, tmp_path, ctx(**options), fmt)
    header = path.read_text().splitlines()[0]
    assert ("AppsFlyer ID" in header) == (fmt == "pull")
    back = SOURCE.parse(path, ctx(**options))
    assert back["device_id_hash"].isna().tolist() == rows["device_id_hash"].isna().tolist()

    def typed(df: pd.DataFrame) -> pd.DataFrame:
        return (
            conform(df.reset_index(drop=True), APP_INSTALLS)
            .to_pandas()
            .drop(columns="device_id_hash")
        )

    pd.testing.assert_frame_equal(typed(back), typed(rows))
