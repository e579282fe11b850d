"""mart_target_pacing against the two targets of marts_lake.TARGETS_YAML."""

from __future__ import annotations

import pandas as pd
import pytest
from marts_lake import iso
from tiny_lake import query

# one build of the marts lake (conftest.built) serves every module: keep them on one worker
pytestmark = pytest.mark.xdist_group("kpi_marts")


def pacing(settings, target_id: str, day: str) -> pd.Series:
    rows = query(
        settings,
        f"select * from mart_target_pacing where target_id = '{target_id}' "
        f"and report_date = '{day}'",
    )
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_every_day_of_data_for_every_target(built):
    settings, _ = built
    frame = query(settings, "select target_id, report_date from mart_target_pacing")
    # 2026-01-05 (first spend) to 2026-03-10 (last conversion) = 65 days, 2 targets
    assert sorted(frame["target_id"].unique()) == ["channel:Paid Social", "google_ads:C1"]
    assert len(frame) == 2 * 65
    assert iso(frame["report_date"].min()) == "2026-01-05"
    assert iso(frame["report_date"].max()) == "2026-03-10"


def test_campaign_target_pacing_and_cpa_roas_status(built):
    settings, _ = built
    # C1: budget 15 a day, spend 21 a day from 01-05 to 01-18.
    # 01-05: month to date 21 of 5 x 15 = 75 -> 0.28: under. p1, p2 bought: CPA 21 / 2 =
    # 10.5 <= 50 on target; ROAS 150 / 21 = 7.1 >= 1.0 on target.
    first = pacing(settings, "google_ads:C1", "2026-01-05")
    assert first["target_level"] == "campaign"
    assert first["budget_pacing"] == pytest.approx(21 / 15)
    assert first["mtd_pacing"] == pytest.approx(21 / 75)
    assert first["pacing_status"] == "under"
    assert first["cpa"] == pytest.approx(10.5)
    assert (first["cpa_status"], first["roas_status"]) == ("on_target", "on_target")
    # 01-18: 14 x 21 = 294 of 18 x 15 = 270 -> 1.089, within 10%: on track. 5 conversions
    # (p1-p5) worth 300: CPA 58.8 > 50 over target; ROAS 300 / 294 = 1.02 >= 1 on target.
    last = pacing(settings, "google_ads:C1", "2026-01-18")
    assert (last["mtd_spend"], last["mtd_budget"]) == (294.0, 270.0)
    assert last["mtd_pacing"] == pytest.approx(294 / 270)
    assert last["pacing_status"] == "on_track"
    assert last["mtd_cpa"] == pytest.approx(58.8)
    assert last["cpa_status"] == "over_target"
    assert last["mtd_roas"] == pytest.approx(300 / 294)
    assert last["roas_status"] == "on_target"
    # February: no spend: pacing 0 (under), no CPA / ROAS verdict without spend
    february = pacing(settings, "google_ads:C1", "2026-02-10")
    assert february["mtd_pacing"] == 0
    assert february["pacing_status"] == "under"
    assert pd.isna(february["cpa_status"]) and pd.isna(february["roas_status"])


def test_channel_target_over_pacing(built):
    settings, _ = built
    # Paid Social: budget 5 a day; Meta spent 30 on 01-05: 30 of 25 -> 1.2, over.
    # m1 bought 60: CPA 30 <= 100 on target, ROAS 2.0 < 2.5 under target.
    day = pacing(settings, "channel:Paid Social", "2026-01-05")
    assert day["target_level"] == "channel" and day["channel"] == "Paid Social"
    assert pd.isna(day["platform"]) and pd.isna(day["campaign_id"])
    assert day["mtd_pacing"] == pytest.approx(1.2)
    assert day["pacing_status"] == "over"
    assert (day["cpa_status"], day["roas_status"]) == ("on_target", "under_target")
    # 01-06: 40 of 30 -> 1.33 over; q1 (bare fbclid, still Paid Social) bought 20:
    # 2 conversions, CPA 20, ROAS 80 / 40 = 2.0
    second = pacing(settings, "channel:Paid Social", "2026-01-06")
    assert second["mtd_pacing"] == pytest.approx(40 / 30)
    assert second["mtd_attributed_conversions"] == pytest.approx(2)
    assert second["mtd_roas"] == pytest.approx(2.0)
