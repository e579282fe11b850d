"""Fixtures for the quality gate tests: a small lake and warehouse on ``tmp_path``."""

from __future__ import annotations

import pytest
import quality_fixtures as qf

from pipelines.config import Settings


@pytest.fixture
def project(settings: Settings) -> Settings:
    """Settings whose data dir holds a passing lake + warehouse + build record."""
    qf.make_project(settings)
    return settings
