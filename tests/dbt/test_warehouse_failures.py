"""A build whose data breaks a rule fails with a message naming the node and the bad rows."""

from __future__ import annotations

import json

import pytest
from tiny_lake import D1, ad_row, write_table

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
