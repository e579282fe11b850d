"""Write-audit-publish: refusal, atomic swap, crash safety, readers, versions, rollback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import quality_fixtures as qf

from pipelines.errors import GateBlockedError
from pipelines.publish import PAUSE_ENV, current_version, list_versions, publish, rollback
from pipelines.quality import publication_log as plog
from pipelines.quality.gate import run_gate
from pipelines.status import format_status, status

ROOT = Path(__file__).resolve().parents[2]


def _rebuild_with_more_spend(settings, run_id: str) -> None:
    """A new build (one more Markov channel row), gated and passed."""
    qf.execute_on_warehouse(
        settings, "insert into mart_markov_channel_effects values ('Email', 0.1, 0.1, 0, 0, 0)"
    )
    qf.write_build(settings, f"build-{run_id}")
    assert run_gate(settings, run_id=run_id).passed


def test_publish_after_passed_gate(gated):
    result = publish(gated)
    db = gated.paths.published_db
    assert result.path == db and db.exists()
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {r[0] for r in con.execute("show tables").fetchall()}
        log = con.execute("select run_id, stage, result, version from publication_log").fetchall()
    assert tables == {*qf.PUBLISHED, "publication_log"}
    assert ("first", "publish", "published", result.version) in log
    assert ("first", "gate", "passed", None) in log
    assert result.tables["fct_ad_spend_daily"] == 2 * 6 * qf.DAYS
    parquet = gated.paths.published_parquet / "fct_ad_spend_daily"
    with duckdb.connect() as con:
        n = con.execute(f"select count(*) from read_parquet('{parquet}/*.parquet')").fetchall()[0][
            0
        ]
    assert n == result.tables["fct_ad_spend_daily"]
    assert current_version(gated) == result.version
    assert [v["version"] for v in list_versions(gated)] == [result.version]
    text = format_status(status(gated))
    assert result.version in text and "fct_ad_spend_daily: 120 rows" in text


def test_failed_gate_blocks_and_leaves_publication_byte_identical(gated):
    publish(gated)
    before = gated.paths.published_db.read_bytes()
    qf.execute_on_warehouse(gated, "update fct_ad_spend_daily set spend = -1 where ad_id = 'goa00'")
    qf.write_build(gated, "bad-build")
    assert not run_gate(gated, run_id="bad").passed
    with pytest.raises(GateBlockedError) as err:
        publish(gated)
    assert err.value.exit_code == 3
    assert "expect_non_negative on fct_ad_spend_daily" in str(err.value)
    assert gated.paths.published_db.read_bytes() == before
    last = plog.read_entries(gated)[-1]
    assert (last["run_id"], last["stage"], last["result"]) == ("bad", "publish", "blocked")


def test_warehouse_changed_after_gate_is_refused(gated):
    qf.execute_on_warehouse(
        gated, "insert into mart_markov_channel_effects values ('Email', 0, 0, 0, 0, 0)"
    )
    with pytest.raises(GateBlockedError, match="changed after the gate"):
        publish(gated)
    assert not gated.paths.published_db.exists()


def test_new_build_without_gate_is_refused(gated):
    qf.write_build(gated, "another-build")
    with pytest.raises(GateBlockedError, match="current build is another-build"):
        publish(gated)


def _publish_in_child(settings, pause_at: str) -> subprocess.Popen:
    code = (
        "from pipelines.config import load_settings; from pipelines.publish import publish; "
        f"publish(load_settings(data_dir={str(settings.paths.data_dir)!r}), run_id='crashed')"
    )
    env = {**os.environ, PAUSE_ENV: pause_at}
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize("pause_at", ["snapshot_written", "version_written", "db_swapped"])
def test_killed_publish_leaves_a_readable_publication_and_next_publish_cleans_up(gated, pause_at):
    first = publish(gated)
    _rebuild_with_more_spend(gated, "second")
    child = _publish_in_child(gated, pause_at)
    assert child.stdout.readline().strip() == f"paused at {pause_at}"
    child.send_signal(signal.SIGKILL)
    child.wait()
    # Whatever the moment, marts.duckdb opens and holds a whole publication.
    with duckdb.connect(str(gated.paths.published_db), read_only=True) as con:
        rows = con.execute("select count(*) from mart_markov_channel_effects").fetchall()[0][0]
    assert rows == (3 if pause_at == "db_swapped" else 2)
    leftovers = [
        p
        for folder in (gated.paths.published, gated.paths.published_versions)
        for p in folder.iterdir()
        if ".tmp-" in p.name
    ]
    if pause_at == "snapshot_written":
        assert leftovers
    result = publish(gated, run_id="after-crash")
    assert set(result.cleaned) == {str(p) for p in leftovers}
    assert not [p for p in gated.paths.published.rglob("*") if ".tmp-" in p.name]
    assert current_version(gated) == result.version != first.version


def test_open_reader_keeps_reading_during_publish(gated):
    publish(gated)
    reader = duckdb.connect(str(gated.paths.published_db), read_only=True)
    try:
        assert reader.execute("select count(*) from mart_markov_channel_effects").fetchall() == [
            (2,)
        ]
        _rebuild_with_more_spend(gated, "second")
        second = publish(gated)
        assert reader.execute("select count(*) from mart_markov_channel_effects").fetchall() == [
            (2,)
        ]
    finally:
        reader.close()
    # A new reader (another process: DuckDB caches open databases per process) sees the new one.
    code = (
        f"import duckdb; c = duckdb.connect({str(gated.paths.published_db)!r}, read_only=True); "
        "print(c.execute('select count(*) from mart_markov_channel_effects').fetchall()[0][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"
    assert current_version(gated) == second.version


def test_rollback_restores_previous_version(gated):
    first = publish(gated)
    _rebuild_with_more_spend(gated, "second")
    second = publish(gated)
    assert current_version(gated) == second.version
    assert rollback(gated) == first.version
    assert current_version(gated) == first.version
    with duckdb.connect(str(gated.paths.published_db), read_only=True) as con:
        assert con.execute("select count(*) from mart_markov_channel_effects").fetchall() == [(2,)]
    link = gated.paths.published_parquet
    assert link.resolve() == (gated.paths.published_versions / first.version / "parquet").resolve()
    assert rollback(gated, second.version) == second.version
    assert plog.read_entries(gated)[-1]["result"] == "rolled_back"


def test_keeps_only_the_last_versions(gated, monkeypatch):
    monkeypatch.setenv("ATTRIBUTION__PUBLISH__KEEP_VERSIONS", "2")
    from pipelines.config import load_settings

    settings = load_settings(data_dir=gated.paths.data_dir)
    versions = [publish(settings, run_id=f"r{i}").version for i in range(3)]
    assert [v["version"] for v in list_versions(settings)] == versions[1:]


def _uv() -> str:
    """The uv that `make` bootstrapped (.uv/bin/uv), else one on PATH."""
    import shutil

    from pipelines.config import PROJECT_ROOT

    local = PROJECT_ROOT / ".uv" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    assert found, "uv not found: run `make test` (it installs uv into .uv/) or put uv on PATH"
    return found


def test_published_file_opens_in_duckdb_1x(gated):
    publish(gated)
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "n = c.execute('select count(*) from fct_ad_spend_daily').fetchall()[0][0]; "
        "print(duckdb.__version__, n)"
    )
    out = subprocess.run(
        [
            _uv(),
            "run",
            "--no-project",
            "--isolated",
            "--with",
            "duckdb<2",
            "python",
            "-c",
            code,
            str(gated.paths.published_db),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    version, rows = out.stdout.split()
    assert version.startswith("1.") and rows == "120"
