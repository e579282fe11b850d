"""The new marts in the manifest: published, contracts enforced, grain declared; unit tests ran."""

from __future__ import annotations

import json

import pytest

from pipelines import warehouse

# one build of the marts lake (conftest.built) serves every module: keep them on one worker
pytestmark = pytest.mark.xdist_group("kpi_marts")

NEW_MARTS = (
    "mart_platform_reconciliation",
    "mart_model_comparison",
    "mart_customer_ltv",
    "mart_creative_performance",
    "mart_creative_tests",
    "mart_target_pacing",
    "mart_kpi_weekly",
    "mart_kpi_monthly",
)


def test_the_whole_project_builds_with_the_new_unit_tests(built):
    _, result = built
    assert result.success
    statuses = {n.name: n.status for n in result.nodes}
    for mart in NEW_MARTS:
        assert statuses[mart] == "success", mart
    for unit_test in (
        "creative_fatigue_needs_the_drop_both_volumes_and_disjoint_windows",
        "creative_z_tests_against_the_rest_of_the_ad_group",
        "target_pacing_is_empty_without_targets",
    ):
        assert statuses[unit_test] == "pass", unit_test


@pytest.mark.parametrize("mart", NEW_MARTS)
def test_each_new_mart_is_published_with_contract_and_grain(built, mart):
    settings, _ = built
    manifest = json.loads(warehouse.manifest_path(settings).read_text())
    node = manifest["nodes"][f"model.attribution.{mart}"]
    assert "published" in node["tags"]
    assert node["config"]["materialized"] == "table"
    assert node["config"]["contract"]["enforced"] is True
    grain = node["config"]["meta"]["grain"]
    assert grain and all(column in node["columns"] for column in grain)
    for name, column in node["columns"].items():
        assert column["description"], (mart, name)
        assert column["data_type"], (mart, name)
