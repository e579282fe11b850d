"""Shared fixtures: a settings object on a fresh data dir under ``tmp_path``."""

from __future__ import annotations

import pytest

from pipelines.config import Settings, load_settings

PII_SALT = "contract-test-salt"  # the salt the sample files' expected hashes use


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """Project settings with the data dir at ``tmp_path / "data"`` and a test PII salt."""
    monkeypatch.setenv("ATTRIBUTION_PII_SALT", PII_SALT)
    return load_settings(data_dir=tmp_path / "data")
