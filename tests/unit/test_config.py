"""The settings object: YAML file, environment overrides, validation, paths, dbt vars."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.config import ConfigError, load_settings


def test_defaults_from_the_shipped_file(tmp_path: Path):
    s = load_settings(data_dir=tmp_path, environ={})
    assert s.reporting.currency == "USD"
    assert s.attribution.lookback_days == 30
    assert "markov" in s.attribution.models
    assert s.paths.published_db == tmp_path.resolve() / "published" / "marts.duckdb"
    assert s.conversion_types["purchase"].kpi == "cps"


def test_environment_overrides_any_key(tmp_path: Path):
    env = {
        "ATTRIBUTION__ATTRIBUTION__LOOKBACK_DAYS": "14",
        "ATTRIBUTION__REPORTING__CURRENCY": "eur",
        "ATTRIBUTION__ATTRIBUTION__MODELS": "[last_touch, linear]",
    }
    s = load_settings(data_dir=tmp_path, environ=env)
    assert s.attribution.lookback_days == 14
    assert s.reporting.currency == "EUR"
    assert s.attribution.models == ("last_touch", "linear")
    assert s.dbt_vars()["attribution_models"] == ["last_touch", "linear"]


def test_data_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    env_dir = tmp_path / "from-env"
    s = load_settings(environ={"ATTRIBUTION_DATA_DIR": str(env_dir)})
    assert s.data_dir == env_dir.resolve()
    explicit = tmp_path / "explicit"
    s = load_settings(data_dir=explicit, environ={"ATTRIBUTION_DATA_DIR": str(env_dir)})
    assert s.data_dir == explicit.resolve()


def test_relative_data_dir_in_file_is_relative_to_the_file(tmp_path: Path):
    cfg = tmp_path / "conf" / "a.yml"
    cfg.parent.mkdir()
    cfg.write_text("data_dir: ../warehouse-data\n")
    s = load_settings(config_file=cfg, environ={})
    assert s.data_dir == (tmp_path / "warehouse-data").resolve()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("reporting: {currency: DOLLARS}\n", "3-letter ISO code"),
        ("reporting: {timezone: Mars/Olympus}\n", "not an IANA time zone"),
        ("attribution: {path_transform: zigzag}\n", "path_transform"),
        ("attribution: {lookback_days: 0}\n", "lookback_days"),
        ("unknown_section: 1\n", "unknown_section"),
        ("- just\n- a list\n", "mapping"),
        ("a: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, text: str, needle: str):
    cfg = tmp_path / "bad.yml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=None) as info:
        load_settings(config_file=cfg, environ={})
    assert needle in str(info.value)
    assert str(cfg) in str(info.value)


def test_missing_explicit_config_file_is_an_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(config_file=tmp_path / "nope.yml", environ={})


def test_duckdb_settings_resolve_spill_dir_under_data_dir(tmp_path: Path):
    s = load_settings(data_dir=tmp_path, environ={})
    cfg = s.duckdb_config()
    assert cfg["threads"] == 2
    assert cfg["temp_directory"].startswith(str(tmp_path.resolve()))


def test_duckdb_connect_config_creates_the_spill_dir_and_keeps_set_values(tmp_path: Path):
    s = load_settings(data_dir=tmp_path, environ={"ATTRIBUTION__DUCKDB__MEMORY_LIMIT": "700MB"})
    spill = Path(s.duckdb_config()["temp_directory"])
    assert not spill.exists()
    cfg = s.duckdb_connect_config()
    assert spill.is_dir()
    assert cfg == {"threads": 2, "memory_limit": "700MB", "temp_directory": str(spill)}
    # what publish and compaction connect with: DuckDB takes it as given
    with duckdb.connect(config=cfg) as con:
        (limit,) = con.execute("select current_setting('memory_limit')").fetchone()
    assert limit in ("700.0 MB", "667.5 MiB"), limit
