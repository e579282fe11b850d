"""mart_platform_reconciliation and mart_model_comparison on the hand-made lake."""

from __future__ import annotations

import pandas as pd
import pytest
from marts_lake import iso
from tiny_lake import enabled_models, query

# one build of the marts lake (conftest.built) serves every module: keep them on one worker
pytestmark = pytest.mark.xdist_group("kpi_marts")


def reconciliation(settings, where: str) -> pd.DataFrame:
    return query(settings, f"select * from mart_platform_reconciliation where {where}")


def test_platform_claims_against_first_party_credit(built):
    settings, _ = built
    models = enabled_models()
    # Google reports 4 conversions worth 200 for C1 on 01-05; first-party data has p1
    # (100) and p2 (50) clicking A1 that day: ratio 4 / 2 = 2 (Google over-claims 2x),
    # value ratio 200 / 150. One-touch paths: the same under every model.
    day = reconciliation(
        settings, "report_date = '2026-01-05' and platform = 'google_ads' and campaign_id = 'C1'"
    )
    assert sorted(day["model"]) == sorted(models)
    assert day["campaign_name"].unique().tolist() == ["Brand Search"]
    assert day["platform_conversions"].tolist() == [4.0] * len(models)
    assert day["spend"].tolist() == [21.0] * len(models)
    assert day["attributed_conversions"].tolist() == [pytest.approx(2)] * len(models)
    assert day["platform_to_first_party_conversion_ratio"].tolist() == (
        [pytest.approx(2)] * len(models)
    )
    assert day["platform_to_first_party_value_ratio"].tolist() == (
        [pytest.approx(200 / 150)] * len(models)
    )
    assert day["conversion_difference"].tolist() == [pytest.approx(2)] * len(models)


def test_ratio_is_null_without_first_party_conversions_and_zero_without_claims(built):
    settings, _ = built
    last_touch = "model = 'last_touch' and platform = 'google_ads' and campaign_id = 'C1'"
    nothing = reconciliation(settings, f"{last_touch} and report_date = '2026-01-06'").iloc[0]
    assert nothing["platform_conversions"] == 0 and nothing["attributed_conversions"] == 0
    assert pd.isna(nothing["platform_to_first_party_conversion_ratio"])
    claimed_nothing = reconciliation(settings, f"{last_touch} and report_date = '2026-01-08'")
    assert claimed_nothing["attributed_conversions"].tolist() == [pytest.approx(1)]  # p3
    assert claimed_nothing["platform_to_first_party_conversion_ratio"].tolist() == [0.0]
    # q1's bare fbclid: a meta_ads touch tied to no campaign
    untied = reconciliation(settings, "model = 'last_touch' and platform = 'meta_ads'")
    untied = untied[untied["campaign_id"].isna()]
    assert untied["report_date"].map(iso).tolist() == ["2026-01-06"]
    assert untied["attributed_value"].tolist() == [pytest.approx(20)]
    # over all days Meta claims 1 conversion, first-party data gives it m1 and q1
    meta = reconciliation(settings, "model = 'last_touch' and platform = 'meta_ads'")
    assert meta["platform_conversions"].sum() == 1
    assert meta["attributed_conversions"].sum() == pytest.approx(2)


def test_model_comparison_long_and_wide(built):
    settings, _ = built
    comparison = query(settings, "select * from mart_model_comparison")
    assert len(comparison) == 3 * len(enabled_models())  # Paid Search, Paid Social, Direct
    search = comparison[
        (comparison["channel"] == "Paid Search") & (comparison["model"] == "last_touch")
    ].iloc[0]
    # 11 conversions worth 535 in all: Paid Search p1-p5 (5, worth 300), Paid Social m1, q1
    # (2, worth 80), Direct p1's two repeats, f1, r1 (4, worth 155)
    assert search["attributed_conversions"] == pytest.approx(5)
    assert search["conversion_share"] == pytest.approx(5 / 11)
    assert search["value_share"] == pytest.approx(300 / 535)
    assert search["spend"] == pytest.approx(294)
    assert search["cost_per_conversion"] == pytest.approx(294 / 5)
    assert search["roas"] == pytest.approx(300 / 294)
    for model in enabled_models():
        assert search[f"{model}_conversions"] == pytest.approx(5), model
        assert search[f"{model}_conversion_share"] == pytest.approx(5 / 11), model
    shares = comparison.groupby("model")["conversion_share"].sum()
    assert shares.tolist() == [pytest.approx(1)] * len(shares)
    direct = comparison[comparison["channel"] == "Direct"].iloc[0]
    assert direct["attributed_value"] == pytest.approx(155)
    assert pd.isna(direct["roas"])  # no spend
