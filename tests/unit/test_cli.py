"""The command line's usage errors and exit codes (the steps are tested in their own suites)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


def invoke(tmp_path: Path, *args: str):
    return runner.invoke(app, ["--data-dir", str(tmp_path), *args])


def test_help_lists_every_design_command():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for command in (
        "demo",
        "run",
        "ingest",
        "build",
        "validate",
        "publish",
        "status",
        "attribute-paths",
        "synth",
        "new-source",
        "report",
    ):
        assert command in res.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run"], "--date"),
        (["run", "--date", "2026-13-01"], "YYYY-MM-DD"),
        (["run", "--date", "2026-03-01", "--start", "2026-03-01"], "either --date"),
        (["run", "--start", "2026-03-05", "--end", "2026-03-01"], "before --start"),
        (["publish", "v1"], "only taken with --rollback"),
        (["no-such-command"], "No such command"),
    ],
)
def test_bad_usage_exits_2_with_one_clear_line(tmp_path: Path, args: list[str], needle: str):
    res = invoke(tmp_path, *args)
    assert res.exit_code == 2, res.output
    assert needle in res.output


def test_attribute_paths_on_a_missing_file_exits_2(tmp_path: Path):
    res = invoke(tmp_path, "attribute-paths", str(tmp_path / "nope.csv"))
    assert res.exit_code == 2
    assert "no such file" in res.output


def test_bad_config_file_exits_2(tmp_path: Path):
    cfg = tmp_path / "bad.yml"
    cfg.write_text("reporting: {currency: DOLLARS}\n")
    res = runner.invoke(app, ["--config", str(cfg), "status"])
    assert res.exit_code == 2
    assert "3-letter ISO code" in res.output
