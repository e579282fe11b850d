"""Volume anomalies under the default weekday seasonality and baselines."""

from __future__ import annotations

from datetime import timedelta

import pytest
import quality_fixtures as qf

from pipelines.config import Settings, load_settings
from pipelines.quality.frames import volume
from pipelines.quality.gate import run_gate

DAYS = 29  # four earlier weeks before the last day


@pytest.fixture
def quiet_weekends(settings: Settings) -> Settings:
    """29 days where every Saturday and Sunday spends 15% of a weekday (a B2B pattern)."""
    qf.write_lake(settings, days=DAYS)
    for n in range(DAYS):
        day = qf.START + timedelta(days=n)
        if day.isoweekday() >= 6:
            for platform in ("google_ads", "meta_ads"):
                df = qf.read_partition(settings, "ad_delivery", platform, day)
                df["spend_micros"] = (df["spend_micros"] * 0.15).astype("int64")
                qf.write_partition(settings, "ad_delivery", platform, day, df)
    qf.build_warehouse(settings)
    return settings


def _spend_ratios(settings: Settings):
    import duckdb

    with duckdb.connect() as con:
        v = volume(con, settings, "ad_delivery")
    return v.dropna(subset=["spend_ratio"])


def test_weekday_seasonality_compares_weekends_with_weekends(quiet_weekends, monkeypatch):
    monkeypatch.setenv("ATTRIBUTION__QUALITY__VOLUME_MIN_BASELINE_SPEND", "0")
    seasonal = load_settings(data_dir=quiet_weekends.data_dir)
    ratios = _spend_ratios(seasonal)
    assert not ratios.empty  # days 22+ have three earlier same weekdays
    assert ratios["spend_ratio"].between(0.9, 1.1).all()

    monkeypatch.setenv("ATTRIBUTION__QUALITY__VOLUME_SEASONALITY", "none")
    flat = load_settings(data_dir=quiet_weekends.data_dir)
    flat_ratios = _spend_ratios(flat)
    weekend = flat_ratios[flat_ratios["date"].dt.dayofweek >= 5]
    assert (weekend["spend_ratio"] < 0.2).all()  # a flat median would call them anomalies


def test_quiet_weekends_pass_the_default_gate(quiet_weekends, monkeypatch):
    monkeypatch.setenv("ATTRIBUTION__QUALITY__VOLUME_MIN_BASELINE_SPEND", "0")
    seasonal = load_settings(data_dir=quiet_weekends.data_dir)
    result = run_gate(seasonal)
    names = {f.expectation for f in result.failures}
    assert "expect_daily_spend_near_trailing_median" not in names


def test_tiny_baselines_are_not_judged(quiet_weekends, monkeypatch):
    monkeypatch.setenv("ATTRIBUTION__QUALITY__VOLUME_SEASONALITY", "none")
    monkeypatch.setenv("ATTRIBUTION__QUALITY__VOLUME_MIN_BASELINE_SPEND", "1000000")
    s = load_settings(data_dir=quiet_weekends.data_dir)
    assert _spend_ratios(s).empty
