"""Fixtures for the publish tests: a gated project (the quality tests' builders)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "quality"))

import quality_fixtures as qf  # noqa: E402

from pipelines.config import Settings  # noqa: E402
from pipelines.quality.gate import run_gate  # noqa: E402


@pytest.fixture
def gated(settings: Settings) -> Settings:
    """A project whose current build passed the gate."""
    qf.make_project(settings)
    assert run_gate(settings, run_id="first").passed
    return settings
