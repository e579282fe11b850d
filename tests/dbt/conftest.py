"""One dbt build of the tiny lake (tiny_lake.py) per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tiny_lake import enabled_models, write_lake

from pipelines import warehouse
from pipelines.config import Settings, load_settings


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Iterator[tuple[Settings, warehouse.BuildResult]]:
    """Settings on a fresh data dir with the tiny lake, built once."""
    data_dir = tmp_path_factory.mktemp("warehouse") / "data"
    models = "[" + ", ".join(enabled_models()) + "]"
    settings = load_settings(
        data_dir=data_dir,
        environ={"ATTRIBUTION__ATTRIBUTION__MODELS": models},
    )
    write_lake(settings)
    result = warehouse.build(settings, unit_tests=True)
    yield settings, result
