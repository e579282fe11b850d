"""The semantic layer parses (MetricFlow validation runs in dbt parse) and has the KPIs."""

from __future__ import annotations

import json

import pytest
from marts_lake import iso
from tiny_lake import query

from pipelines import warehouse

# one build of the marts lake (conftest.built) serves every module: keep them on one worker
pytestmark = pytest.mark.xdist_group("kpi_marts")


def test_semantic_manifest_has_models_metrics_and_a_time_spine(built):
    settings, _ = built
    warehouse.parse(settings)  # raises PipelineError when the semantic manifest is invalid
    semantic = json.loads((warehouse.target_path(settings) / "semantic_manifest.json").read_text())
    models = {m["name"]: m for m in semantic["semantic_models"]}
    assert {"ad_spend", "attributed_conversions", "channel_performance"} <= set(models)
    assert models["ad_spend"]["node_relation"]["alias"] == "fct_ad_spend_daily"
    metrics = {m["name"]: m for m in semantic["metrics"]}
    for name in ("spend", "impressions", "clicks", "conversions", "value"):
        assert metrics[name]["type"] == "simple", name
    for name in ("ctr", "cpc", "cpa", "roas", "cvr"):
        assert metrics[name]["type"] == "ratio", name
    assert metrics["cpm"]["type"] == "derived"
    assert metrics["ctr"]["type_params"]["numerator"]["name"] == "clicks"
    assert metrics["ctr"]["type_params"]["denominator"]["name"] == "impressions"
    spines = semantic["project_configuration"]["time_spines"]
    assert [s["primary_column"]["name"] for s in spines] == ["date_day"]


def test_the_time_spine_covers_the_data(built):
    settings, _ = built
    span = query(
        settings,
        "select min(date_day) as first, max(date_day) as last, count(*) as days "
        "from semantic.metricflow_time_spine",
    ).iloc[0]
    assert iso(span["first"]) == "2020-01-01"
    assert iso(span["last"]) == "2035-12-31"
    assert span["days"] == 5844
