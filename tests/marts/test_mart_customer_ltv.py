"""mart_customer_ltv: cohorts, windows that stay null until complete, CAC and LTV:CAC."""

from __future__ import annotations

import pandas as pd
import pytest
from marts_lake import iso
from tiny_lake import query

# one build of the marts lake (conftest.built) serves every module: keep them on one worker
pytestmark = pytest.mark.xdist_group("kpi_marts")


def cohorts(settings) -> pd.DataFrame:
    frame = query(settings, "select * from mart_customer_ltv")
    frame["cohort_month"] = frame["cohort_month"].map(iso)
    return frame.set_index(["cohort_month", "first_channel"])


def test_january_paid_search_cohort(built):
    settings, _ = built
    row = cohorts(settings).loc["2026-01-01", "Paid Search"]
    assert iso(row["last_data_date"]) == "2026-03-10"
    # p1-p5 bought first after Google clicks: 100 + 4 x 50 = 300; p1 again on 01-25
    # (day 20, inside 30 days) for 40 and on 03-01 (day 55) for 30.
    assert row["customers"] == 5
    assert row["value_to_date"] == pytest.approx(370)
    # 30 days: complete, as 01-31 + 29 days = 03-01 <= 03-10 -> 300 + 40
    assert row["value_30d"] == pytest.approx(340)
    # 90 and 365 days: 01-31 + 89 days = 04-30 > 03-10 -> null
    assert pd.isna(row["value_90d"]) and pd.isna(row["value_365d"])
    # CAC: January Paid Search spend 14 days x 21 = 294 over 5 customers
    assert row["spend"] == pytest.approx(294)
    assert row["cac"] == pytest.approx(58.8)
    # LTV:CAC on the longest complete window (30 days): 340 / 294 = (340 / 5) / 58.8
    assert row["ltv_window_days"] == 30
    assert row["ltv_per_customer"] == pytest.approx(68)
    assert row["ltv_to_cac"] == pytest.approx(340 / 294)


def test_first_touch_channel_and_young_cohorts(built):
    settings, _ = built
    table = cohorts(settings)
    assert sorted(table.index) == [
        ("2026-01-01", "Paid Search"),
        ("2026-01-01", "Paid Social"),
        ("2026-02-01", "Direct"),
        ("2026-03-01", "Direct"),
    ]
    social = table.loc["2026-01-01", "Paid Social"]  # m1 (60) and q1 (20); spend 30 + 10
    assert (social["customers"], social["value_30d"], social["cac"]) == (2, 80.0, 20.0)
    assert social["ltv_to_cac"] == pytest.approx(2)
    # February: f1 bought on 02-20; 02-28 + 29 days = 03-29 > 03-10, so even the 30-day
    # window is not complete (f1 has been observed for 19 days only).
    february = table.loc["2026-02-01", "Direct"]
    assert february["customers"] == 1 and february["value_to_date"] == pytest.approx(70)
    for col in ("value_30d", "value_90d", "value_365d", "ltv_window_days", "ltv_to_cac"):
        assert pd.isna(february[col]), col
    # no spend on Direct: CAC 0, LTV:CAC null (zero divisor)
    assert february["cac"] == 0
    march = table.loc["2026-03-01", "Direct"]
    assert pd.isna(march["value_30d"])
