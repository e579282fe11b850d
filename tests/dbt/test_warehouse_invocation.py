"""How dbt is invoked: settings as vars, per-data-dir target and logs, profile environment."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from pipelines import warehouse
from pipelines.config import DBT_PROJECT_DIR, load_settings
from pipelines.errors import PipelineError


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_dbt_args_carry_the_settings_and_data_dir_paths(tmp_path):
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={"ATTRIBUTION__ATTRIBUTION__LOOKBACK_DAYS": "14"},
    )
    args = warehouse.dbt_args(settings, ["build", "--select", "tag:published"])
    assert args[:3] == ["build", "--select", "tag:published"]
    assert option(args, "--project-dir") == str(DBT_PROJECT_DIR)
    assert option(args, "--profiles-dir") == str(DBT_PROJECT_DIR)
    assert option(args, "--target-path") == str(tmp_path / "data" / "dbt" / "target")
    assert option(args, "--log-path") == str(tmp_path / "data" / "logs" / "dbt")
    dbt_vars = json.loads(option(args, "--vars"))
    assert dbt_vars == json.loads(json.dumps(settings.dbt_vars()))
    assert dbt_vars["lookback_days"] == 14
    assert dbt_vars["lake_dir"] == str(tmp_path / "data" / "lake" / "raw")


def test_two_data_dirs_never_share_dbt_files(tmp_path):
    a = load_settings(data_dir=tmp_path / "a", environ={})
    b = load_settings(data_dir=tmp_path / "b", environ={})
    assert warehouse.target_path(a) != warehouse.target_path(b)
    assert warehouse.log_path(a) != warehouse.log_path(b)
    warehouse_path = warehouse.dbt_env(a)["ATTRIBUTION_WAREHOUSE_PATH"]
    assert warehouse_path == str(tmp_path / "a" / "warehouse.duckdb")


def test_profile_environment_comes_from_duckdb_settings(tmp_path):
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={
            "ATTRIBUTION__DUCKDB__THREADS": "3",
            "ATTRIBUTION__DUCKDB__MEMORY_LIMIT": "1GB",
            "ATTRIBUTION__WAREHOUSE__THREADS": "1",
        },
    )
    env = warehouse.dbt_env(settings)
    assert env["ATTRIBUTION_DUCKDB_THREADS"] == "3"
    assert env["ATTRIBUTION_DUCKDB_MEMORY_LIMIT"] == "1GB"
    assert env["ATTRIBUTION_DUCKDB_TEMP_DIRECTORY"] == str(tmp_path / "data" / "tmp" / "duckdb")
    assert env["ATTRIBUTION_DBT_THREADS"] == "1"  # dbt nodes at once (warehouse.threads)
    default = load_settings(data_dir=tmp_path / "data", environ={})
    assert warehouse.dbt_env(default)["ATTRIBUTION_DBT_THREADS"] == "2"


def test_a_listed_model_without_a_dbt_model_is_refused_before_dbt_runs(tmp_path):
    settings = load_settings(
        data_dir=tmp_path / "data",
        environ={"ATTRIBUTION__ATTRIBUTION__MODELS": "[first_touch, u_shaped_custom]"},
    )
    with pytest.raises(PipelineError, match=r"'u_shaped_custom'.*attr_<name>"):
        warehouse.build(settings)
    assert not settings.paths.warehouse.exists()


def test_inputs_fingerprint_follows_settings_and_seeds(tmp_path):
    """A changed rule, setting or model must force a full rebuild; an unchanged one must not."""
    base = load_settings(data_dir=tmp_path / "data", environ={})
    same = load_settings(data_dir=tmp_path / "other", environ={})
    changed = load_settings(
        data_dir=tmp_path / "data", environ={"ATTRIBUTION__ATTRIBUTION__LOOKBACK_DAYS": "7"}
    )
    assert warehouse.inputs_fingerprint(base) == warehouse.inputs_fingerprint(same)
    assert warehouse.inputs_fingerprint(base) != warehouse.inputs_fingerprint(changed)

    import shutil

    project = tmp_path / "project"
    for folder in ("seeds", "models", "macros"):
        shutil.copytree(DBT_PROJECT_DIR / folder, project / folder)
    shutil.copy(DBT_PROJECT_DIR / "dbt_project.yml", project / "dbt_project.yml")
    copy = load_settings(data_dir=tmp_path / "data", dbt_project_dir=project, environ={})
    assert warehouse.inputs_fingerprint(copy) == warehouse.inputs_fingerprint(base)
    rules = project / "seeds" / "channel_rules.csv"
    original_rules = rules.read_text()
    rules.write_text(original_rules + "1,Connected TV,ctv,,,,,connected tv\n")
    assert warehouse.inputs_fingerprint(copy) != warehouse.inputs_fingerprint(base)
    # an upgraded model (new code for the same tables) also forces a full rebuild
    rules.write_text(original_rules)
    assert warehouse.inputs_fingerprint(copy) == warehouse.inputs_fingerprint(base)
    model = project / "models" / "intermediate" / "int_events_identified.sql"
    model.write_text(model.read_text() + "\n")
    assert warehouse.inputs_fingerprint(copy) != warehouse.inputs_fingerprint(base)


def test_dbt_loads_in_the_background_while_a_run_ingests():
    """What `run` (and the bench's nightly day) calls before ingesting: in a fresh
    interpreter, the thread it starts leaves dbt imported."""
    script = textwrap.dedent(
        """
        import sys
        from pipelines import warehouse
        assert "dbt.cli.main" not in sys.modules
        thread = warehouse.start_dbt_import()
        assert thread.daemon and thread.name == "dbt-import"
        thread.join(timeout=120)
        assert not thread.is_alive()
        print("loaded" if "dbt.cli.main" in sys.modules else "not loaded")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=180
    )
    assert out.stdout.strip() == "loaded"
