"""mart_kpi_weekly / mart_kpi_monthly: KPIs of summed weeks and months, not means of days."""

from __future__ import annotations

import pandas as pd
import pytest
from marts_lake import iso
from tiny_lake import query

# one build of the marts lake (conftest.built) serves every module: keep them on one worker
pytestmark = pytest.mark.xdist_group("kpi_marts")

META_M1 = "platform = 'meta_ads' and campaign_id = 'M1'"
SLICE = "date_basis = 'conversion' and model = 'last_touch'"


def one_row(settings, table: str, where: str) -> pd.Series:
    rows = query(settings, f"select * from {table} where {where}")
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_weekly_kpis_are_ratios_of_the_weeks_sums(built):
    settings, _ = built
    # Meta M1, week of Monday 2026-01-05:
    #   01-05: 1000 impressions, 10 clicks, spend 30, m1's purchase of 60
    #   01-06:  100 impressions,  5 clicks, spend 10, nothing bought
    # week: spend 40, impressions 1100, clicks 15, 1 purchase worth 60
    week = one_row(settings, "mart_kpi_weekly", f"{META_M1} and {SLICE}")
    assert iso(week["week_start"]) == "2026-01-05"
    assert iso(week["week_end"]) == "2026-01-11"
    assert week["days_with_data"] == 2
    assert (week["spend"], week["impressions"], week["clicks"]) == (40.0, 1100, 15)
    assert week["purchase_conversions"] == pytest.approx(1)
    assert week["ctr"] == pytest.approx(15 / 1100)  # 0.013636
    assert week["cpc"] == pytest.approx(40 / 15)  # 2.6667
    assert week["cpm"] == pytest.approx(1000 * 40 / 1100)  # 36.36
    assert week["cvr"] == pytest.approx(1 / 15)
    assert week["cps"] == pytest.approx(40 / 1)
    assert week["cpa"] == pytest.approx(40 / 1)  # all conversion types
    assert week["roas"] == pytest.approx(60 / 40)  # 1.5
    # no lead or install: zero divisors give null
    for kpi in ("cpl", "cpi"):
        assert pd.isna(week[kpi]), kpi

    # The daily ratios differ from day to day, so their mean is another number:
    # ctr (10/1000 + 5/100) / 2 = 0.03, cpc (30/10 + 10/5) / 2 = 2.5, roas (60/30 + 0/10) / 2 = 1.
    daily = query(settings, f"select * from mart_kpi_daily where {META_M1} and {SLICE}")
    assert len(daily) == 2
    assert daily["ctr"].mean() == pytest.approx(0.03)
    assert daily["cpc"].mean() == pytest.approx(2.5)
    assert daily["roas"].mean() == pytest.approx(1.0)
    assert week["ctr"] != pytest.approx(daily["ctr"].mean())
    assert week["cpc"] != pytest.approx(daily["cpc"].mean())
    assert week["roas"] != pytest.approx(daily["roas"].mean())


def test_weeks_split_at_monday_and_months_sum_all_their_days(built):
    settings, _ = built
    c1 = f"platform = 'google_ads' and campaign_id = 'C1' and {SLICE}"
    weeks = query(settings, f"select * from mart_kpi_weekly where {c1} order by week_start")
    assert weeks["week_start"].map(iso).tolist() == ["2026-01-05", "2026-01-12"]
    # week 1: 7 days x (10 + 10 + 1) = 147 spend, 7 x (50 + 35 + 5) = 630 clicks,
    # purchases p1, p2 (01-05), p3 (01-08), p5 (01-10) worth 100 + 50 + 50 + 50
    first = weeks.iloc[0]
    assert (first["spend"], first["clicks"], first["impressions"]) == (147.0, 630, 14700)
    assert first["purchase_conversions"] == pytest.approx(4)
    assert first["cps"] == pytest.approx(147 / 4)
    assert first["roas"] == pytest.approx(250 / 147)
    # January: 294 spend, 1092 clicks (A1 560, A2 490, A3 42), 29400 impressions,
    # 5 purchases worth 300
    month = one_row(settings, "mart_kpi_monthly", c1)
    assert iso(month["month_start"]) == "2026-01-01"
    assert iso(month["month_end"]) == "2026-01-31"
    assert (month["spend"], month["clicks"], month["impressions"]) == (294.0, 1092, 29400)
    assert month["ctr"] == pytest.approx(1092 / 29400)
    assert month["cpc"] == pytest.approx(294 / 1092)
    assert month["cps"] == pytest.approx(294 / 5)
    assert month["roas"] == pytest.approx(300 / 294)


def test_rollups_keep_every_total_of_the_daily_mart(built):
    settings, _ = built
    totals = {}
    for table in ("mart_kpi_daily", "mart_kpi_weekly", "mart_kpi_monthly"):
        totals[table] = query(
            settings,
            f"""
            select date_basis, model, sum(spend) as spend, sum(clicks) as clicks,
                sum(attributed_conversions) as conversions, sum(attributed_value) as value
            from {table}
            group by all
            order by all
            """,
        )
    daily = totals["mart_kpi_daily"]
    assert len(daily) > 0
    for table in ("mart_kpi_weekly", "mart_kpi_monthly"):
        pd.testing.assert_frame_equal(daily, totals[table], check_dtype=False, obj=table)


def test_a_zero_divisor_in_a_rollup_is_null(built):
    settings, _ = built
    # Direct (p1's repeat orders, f1, r1) has no spend, clicks or impressions.
    march = one_row(
        settings,
        "mart_kpi_monthly",
        f"channel = 'Direct' and {SLICE} and month_start = '2026-03-01'",
    )
    assert march["spend"] == 0
    assert march["purchase_conversions"] == pytest.approx(2)  # p1's third order and r1
    # zero clicks, impressions, spend: null; cost per sale unknown without spend: null
    for kpi in ("cpc", "cpm", "ctr", "cvr", "roas", "cps", "cpa"):
        assert pd.isna(march[kpi]), kpi
