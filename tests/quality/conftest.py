"""Fixtures for the quality gate tests: a small lake and warehouse on ``tmp_path``."""

from __future__ import annotations

import pytest
import quality_fixtures as qf

from pipelines.config import Settings, load_settings

# The fixture lake is ten days of two ad rows a day: too short for the default weekday
# seasonality (three earlier same weekdays) and below the default baselines. The fault
# tests judge every day against all earlier days instead; the seasonal default has its
# own test (test_volume_seasonality.py).
FLAT_VOLUME = {
    "ATTRIBUTION__QUALITY__VOLUME_SEASONALITY": "none",
    "ATTRIBUTION__QUALITY__VOLUME_MIN_BASELINE_ROWS": "0",
    "ATTRIBUTION__QUALITY__VOLUME_MIN_BASELINE_SPEND": "0",
}


@pytest.fixture
def project(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose data dir holds a passing lake + warehouse + build record."""
    for key, value in FLAT_VOLUME.items():
        monkeypatch.setenv(key, value)
    flat = load_settings(data_dir=settings.data_dir)
    qf.make_project(flat)
    return flat
