"""Fixtures for the publish tests: a gated project (the quality tests' builders)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "quality"))

import quality_fixtures as qf

from pipelines.config import Settings
from pipelines.quality.gate import run_gate


@pytest.fixture
def gated(settings: Settings) -> Settings:
    """A project whose current build passed the gate."""
    qf.make_project(settings)
    assert run_gate(settings, run_id="first").passed
    return settings
