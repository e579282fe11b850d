"""A build whose data breaks a rule fails with a message naming the node and the bad rows."""

from __future__ import annotations

import json

import pytest
from tiny_lake import D1, D2, ad_row, write_lake, write_table

from pipelines import canonical, warehouse
from pipelines.config import RULE_BASED_MODELS, load_settings
from pipelines.errors import PipelineError


def test_spend_in_a_currency_without_a_rate_names_currency_and_day(tmp_path):
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={"ATTRIBUTION__ATTRIBUTION__MODELS": "[" + ", ".join(RULE_BASED_MODELS) + "]"},
    )
    # Spend in JPY, and no rate for JPY at all.
    write_table(
        settings,
        canonical.AD_DELIVERY,
        "google_ads",
        D1,
        [ad_row("google_ads", "111", "JPY", D1, "C1", "Brand", "G1", "A1", 100, 5, 1200.0)],
    )
    write_table(
        settings,
        canonical.FX_RATES,
        "fx_rates",
        D1,
        [{"rate_date": D1, "base_currency": "EUR", "currency": "USD", "rate": 1 / 1.08}],
    )
    with pytest.raises(PipelineError) as caught:
        warehouse.build(settings)
    message = str(caught.value)
    assert "has_fx_rate" in message
    assert "no USD rate for JPY on 2026-03-02" in message
    state = json.loads(warehouse.build_state_path(settings).read_text())
    assert state["success"] is False
    assert any("has_fx_rate" in node["name"] for node in state["failed"])


def test_after_a_failed_build_the_next_one_rebuilds_every_table(tmp_path):
    """A failed build can have replaced some incremental tables and not the ones after
    them (whose record of changed people is then gone): the next build is a full one."""
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={"ATTRIBUTION__ATTRIBUTION__MODELS": "[" + ", ".join(RULE_BASED_MODELS) + "]"},
    )
    write_lake(settings)
    assert warehouse.build(settings).success
    write_table(
        settings,
        canonical.AD_DELIVERY,
        "tiktok_ads",
        D2,
        [ad_row("tiktok_ads", "444", "JPY", D2, "T1", "Launch", "TG1", "TA1", 10, 1, 500.0)],
    )
    with pytest.raises(PipelineError, match="no USD rate for JPY"):
        warehouse.build(settings)
    # the rate arrives: the next build must not trust what the failed one left
    write_table(
        settings,
        canonical.FX_RATES,
        "fx_rates",
        D2,
        [
            {"rate_date": D2, "base_currency": "EUR", "currency": "USD", "rate": 1 / 1.10},
            {"rate_date": D2, "base_currency": "EUR", "currency": "GBP", "rate": 1 / 0.86},
            {"rate_date": D2, "base_currency": "EUR", "currency": "JPY", "rate": 1 / 160.0},
        ],
    )
    said = []
    assert warehouse.build(settings, progress=lambda event, **info: said.append(info)).success
    assert any("did not finish" in info.get("message", "") for info in said)
    run_results = json.loads((warehouse.target_path(settings) / "run_results.json").read_text())
    compiled = {r["unique_id"]: r.get("compiled_code") or "" for r in run_results["results"]}
    assert "int_changed_people" not in compiled["model.attribution.int_touch_events"]
    # ... and after a complete build, nightly builds are incremental again
    assert warehouse.build(settings).success
    run_results = json.loads((warehouse.target_path(settings) / "run_results.json").read_text())
    compiled = {r["unique_id"]: r.get("compiled_code") or "" for r in run_results["results"]}
    assert "int_changed_people" in compiled["model.attribution.int_touch_events"]
