"""One full dbt build of the KPI-mart lake (marts_lake.py) for all tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from marts_lake import TARGETS_YAML, enabled_models, write_lake

from pipelines import warehouse
from pipelines.config import Settings, load_settings


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Iterator[tuple[Settings, warehouse.BuildResult]]:
    """Settings (every model, two pacing targets) on a fresh data dir, built once."""
    data_dir = tmp_path_factory.mktemp("kpi_marts") / "data"
    settings = load_settings(
        data_dir=data_dir,
        environ={
            "ATTRIBUTION__ATTRIBUTION__MODELS": "[" + ", ".join(enabled_models()) + "]",
            "ATTRIBUTION__TARGETS": TARGETS_YAML,
        },
    )
    write_lake(settings)
    yield settings, warehouse.build(settings, unit_tests=True)
