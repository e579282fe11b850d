"""mart_creative_performance (fatigue) and mart_creative_tests (z-tests), worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from marts_lake import iso
from tiny_lake import query

# one build of the marts lake (conftest.built) serves every module: keep them on one worker
pytestmark = pytest.mark.xdist_group("kpi_marts")


def creative(settings, ad_id: str) -> pd.DataFrame:
    return query(
        settings,
        f"select * from mart_creative_performance where ad_id = '{ad_id}' order by report_date",
    )


def test_an_ad_whose_ctr_fell_40_percent_is_fatigued_once_the_windows_part(built):
    settings, _ = built
    a1 = creative(settings, "A1")
    assert len(a1) == 14
    assert a1["days_since_first_impression"].tolist() == list(range(14))
    assert set(a1["model"]) == {"last_touch"}
    # Launch window, days 0-6: 7 x 50 = 350 clicks of 7 x 1000 = 7000 impressions = 5%.
    assert a1["launch_ctr"].tolist() == [pytest.approx(0.05)] * 14
    # Day 13 (2026-01-18): trailing days 7-13 = 7 x 30 = 210 of 7000 = 3%;
    # 3% / 5% - 1 = -40%, a drop beyond 30%, and 7000 >= 1000 impressions in both windows.
    last = a1.iloc[13]
    assert iso(last["report_date"]) == "2026-01-18"
    assert (last["trailing_7d_clicks"], last["trailing_7d_impressions"]) == (210, 7000)
    assert last["trailing_7d_ctr"] == pytest.approx(0.03)
    assert last["ctr_change_vs_launch"] == pytest.approx(-0.4)
    assert bool(last["is_fatigued"])
    # Day 12: trailing days 6-12 = 50 + 6 x 30 = 230 of 7000 = 3.29% (34% below launch),
    # but that window still holds launch day 6: no verdict before day 13.
    day12 = a1.iloc[12]
    assert day12["trailing_7d_ctr"] == pytest.approx(230 / 7000)
    assert pd.isna(day12["ctr_change_vs_launch"])
    assert a1["is_fatigued"].tolist() == [False] * 13 + [True]


def test_steady_or_small_ads_are_not_fatigued(built):
    settings, _ = built
    a2 = creative(settings, "A2")  # 35 of 1000 every day: change 0
    assert a2.iloc[13]["ctr_change_vs_launch"] == pytest.approx(0)
    assert not a2["is_fatigued"].any()
    # A3: 5 -> 1 clicks of 100 a day is an 80% drop, but each window has 700 < 1000 impressions.
    a3 = creative(settings, "A3")
    assert a3.iloc[13]["trailing_7d_ctr"] == pytest.approx(7 / 700)
    assert pd.isna(a3.iloc[13]["ctr_change_vs_launch"])
    assert not a3["is_fatigued"].any()


def test_creative_day_kpis(built):
    settings, _ = built
    day0 = creative(settings, "A1").iloc[0]
    # 01-05: spend 10, 1000 impressions, 50 clicks, p1 (100) and p2 (50) bought after A1 clicks
    assert day0["attributed_conversions"] == pytest.approx(2)
    assert day0["ctr"] == pytest.approx(50 / 1000)
    assert day0["cvr"] == pytest.approx(2 / 50)
    assert day0["cpc"] == pytest.approx(10 / 50)
    assert day0["cpa"] == pytest.approx(10 / 2)
    assert day0["roas"] == pytest.approx(150 / 10)
    assert pd.isna(creative(settings, "A1").iloc[1]["cpa"])  # no conversion: null CPA


def normal_two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def test_ctr_and_cvr_z_tests_of_each_ad_against_the_rest_of_its_ad_group(built):
    settings, _ = built
    tests = query(settings, "select * from mart_creative_tests").set_index("ad_id")
    a1, a2 = tests.loc["A1"], tests.loc["A2"]
    assert (a1["test_group_id"], a1["ads_in_group"]) == ("G1", 2)
    # CTR, A1 against A2 (the rest of G1):
    #   A1 560 clicks of 14000 (7 x 50 + 7 x 30) = 0.04; A2 490 of 14000 = 0.035
    #   pooled p = 1050 / 28000 = 0.0375
    #   se = sqrt(0.0375 x 0.9625 x (1/14000 + 1/14000)) = sqrt(5.15625e-6) = 0.0022707
    #   z = (0.04 - 0.035) / 0.0022707 = 2.2019
    #   p = 2 (1 - Phi(2.2019)) = erfc(2.2019 / sqrt 2) = 0.02767
    assert (a1["clicks"], a1["impressions"], a1["rest_clicks"]) == (560, 14000, 490)
    assert a1["ctr_z"] == pytest.approx(2.2019, abs=1e-4)
    assert a1["ctr_p_value"] == pytest.approx(0.027670, abs=2e-6)
    assert a1["ctr_p_value"] == pytest.approx(normal_two_sided_p(2.2019275), abs=1e-6)
    assert bool(a1["is_ctr_significant"])
    assert a2["ctr_z"] == pytest.approx(-2.2019, abs=1e-4)
    assert a2["ctr_p_value"] == pytest.approx(a1["ctr_p_value"])
    # CVR (last_touch conversions of clicks), A1 4 of 560 (p1, p2, p3, p4) against A2 1 of
    # 490 (p5): pooled p = 5 / 1050 = 0.0047619
    #   se = sqrt(0.0047619 x 0.9952381 x (1/560 + 1/490)) = 0.0042585
    #   z = (0.0071429 - 0.0020408) / 0.0042585 = 1.1981, p = 0.2309: not significant
    assert (a1["attributed_conversions"], a1["rest_attributed_conversions"]) == (4.0, 1.0)
    assert a1["cvr_z"] == pytest.approx(1.1981, abs=1e-4)
    assert a1["cvr_p_value"] == pytest.approx(normal_two_sided_p(1.1980846), abs=1e-6)
    assert not bool(a1["is_cvr_significant"])


def test_an_ad_alone_in_its_group_has_no_test(built):
    settings, _ = built
    tests = query(settings, "select * from mart_creative_tests").set_index("ad_id")
    for ad in ("A3", "MA1"):
        row = tests.loc[ad]
        assert row["ads_in_group"] == 1
        assert row["rest_impressions"] == 0
        for col in ("ctr_z", "ctr_p_value", "cvr_z", "cvr_p_value"):
            assert pd.isna(row[col]), (ad, col)
        assert pd.isna(row["is_ctr_significant"])
