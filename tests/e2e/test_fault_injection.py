"""Fault injection on the real pipeline: one fault at a time, the publication untouched.

A module fixture makes a good published state once: 28 days of synthetic landing data
from every source (600 people; 28 days so the volume check has three earlier same-weekday
days to compare the last days with), ``run()`` over all of it, exit 0, published. Each
test copies that data dir, injects ONE fault the way it happens in production, runs the
pipeline again (``run()`` for faults that arrive as landed files, ``validate`` +
``publish`` for damage done to the lake or the warehouse after the build) and asserts
the exit code, the failed expectation named on its table, and
``published/marts.duckdb`` byte-identical to the good publication.

Duplicated event ids (trackers deliver at least once) are not a fault: they are removed
and the run publishes with unchanged conversion counts. The last tests kill a publish
half-way, read during a publish, and roll back.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from fault_tools import (
    cli,
    find_failure,
    land_export,
    landed_rows,
    publish_killed_at,
    redeliver_events,
    rewrite_partition,
    sha256,
)

from pipelines.config import Settings, load_settings
from pipelines.errors import EXIT_GATE_BLOCKED, GateBlockedError
from pipelines.publish import current_version, list_versions, publish, rollback
from pipelines.quality import lake_scope
from pipelines.quality.gate import format_gate_summary, run_gate
from pipelines.quality.result import GateResult, read_gate
from pipelines.run import RunResult, run
from pipelines.synth import generate

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("faults")]

START = dt.date(2026, 3, 2)  # a Monday
DAYS = 28
LAST = START + dt.timedelta(days=DAYS - 1)
MIDDLE = START + dt.timedelta(days=22)  # a Tuesday with three earlier Tuesdays
PEOPLE = 600
SEED = 11
SALT = "fault-injection-salt"


@dataclass(frozen=True)
class Good:
    """The good published state every test starts from (a copy of it)."""

    data_dir: Path
    sha: str  # of published/marts.duckdb
    version: str
    conversions: dict[str, int]  # per conversion type, as published


def _published_conversions(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select conversion_type, count(distinct conversion_id) "
            "from fct_attributed_conversions group by all"
        ).fetchall()
    return dict(rows)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Good:
    data_dir = tmp_path_factory.mktemp("faults") / "good"
    generate(data_dir, START, days=DAYS, people=PEOPLE, seed=SEED)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTRIBUTION_PII_SALT", SALT)
        settings = load_settings(data_dir=data_dir)
        result = run(settings, START, LAST)
    assert result.exit_code == 0, format_gate_summary(result.gate)
    assert result.published
    db = settings.paths.published_db
    return Good(
        data_dir=data_dir,
        sha=sha256(db),
        version=result.publication.version,
        conversions=_published_conversions(db),
    )


@pytest.fixture
def project(good: Good, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on a private copy of the good published state."""
    monkeypatch.setenv("ATTRIBUTION_PII_SALT", SALT)
    shutil.copytree(good.data_dir, tmp_path / "data", symlinks=True)
    settings = load_settings(data_dir=tmp_path / "data")
    assert sha256(settings.paths.published_db) == good.sha
    return settings


def _validate_and_publish(settings: Settings) -> tuple[GateResult, int]:
    """``attribution validate`` then ``attribution publish``: the gate and publish's exit."""
    gate = run_gate(settings, run_date=LAST)
    try:
        publish(settings)
    except GateBlockedError as exc:
        return gate, exc.exit_code
    return gate, 0


def _assert_blocked(result: RunResult, good: Good, settings: Settings) -> None:
    assert result.exit_code == EXIT_GATE_BLOCKED, result.messages
    assert not result.published
    assert sha256(settings.paths.published_db) == good.sha
    assert current_version(settings) == good.version


# Faults in the lake (validate + publish) -----------------------------------------------


def test_negative_spend_in_a_lake_partition(project, good):
    def negative(df):
        df.loc[0, "spend_micros"] = -5_000_000
        return df

    rewrite_partition(project, "ad_delivery", "google_ads", MIDDLE, negative)
    gate, code = _validate_and_publish(project)
    assert code == EXIT_GATE_BLOCKED
    failure = find_failure(gate, "expect_non_negative", "lake.ad_delivery")
    assert "spend_micros" in failure.detail
    assert failure.sample_rows[0]["spend_micros"] == -5_000_000
    assert failure.sample_rows[0]["source"] == "google_ads"
    assert sha256(project.paths.published_db) == good.sha


def test_a_full_refresh_run_trusts_no_gate_record(project, good):
    # A partition the gate's record calls validated although its rows changed (a file put
    # back with its old size and times, a record copied from elsewhere): a plain gate
    # trusts the record and does not read it (the spend reconciliation still catches the
    # mart built before the change); `run --full-refresh` validates every partition again.
    def negative(df):
        df.loc[0, "spend_micros"] = -5_000_000
        return df

    assert run_gate(project, run_date=LAST).passed
    rewrite_partition(project, "ad_delivery", "google_ads", MIDDLE, negative)
    record = json.loads(lake_scope.record_path(project).read_text())
    part = f"source=google_ads/date={MIDDLE}"
    current = lake_scope.partition_files(project, "ad_delivery")[part]
    record["tables"]["ad_delivery"]["partitions"][part] = [entry for entry, _ in current]
    lake_scope.record_path(project).write_text(json.dumps(record))
    trusted = run_gate(project, run_date=LAST)
    assert trusted.lake_partitions["ad_delivery"][0] == 0
    assert {f.expectation for f in trusted.failures} == {"expect_spend_matches_lake"}

    result = run(project, LAST, LAST, full_refresh=True)
    _assert_blocked(result, good, project)
    assert find_failure(result.gate, "expect_non_negative", "lake.ad_delivery")
    assert all(read == total for read, total in result.gate.lake_partitions.values())


def test_duplicated_spend_rows_break_the_grain(project, good):
    rewrite_partition(
        project, "ad_delivery", "meta_ads", MIDDLE, lambda df: pd.concat([df, df.head(3)])
    )
    gate, code = _validate_and_publish(project)
    assert code == EXIT_GATE_BLOCKED
    failure = find_failure(gate, "expect_grain_unique", "lake.ad_delivery")
    assert failure.severity == "error"
    assert {r["source"] for r in failure.sample_rows} == {"meta_ads"}
    assert sha256(project.paths.published_db) == good.sha


def test_null_campaign_ids_in_spend(project, good):
    def null_campaigns(df):
        df.loc[[0, 1], "campaign_id"] = None
        return df

    rewrite_partition(project, "ad_delivery", "tiktok_ads", MIDDLE, null_campaigns)
    gate, code = _validate_and_publish(project)
    assert code == EXIT_GATE_BLOCKED
    failure = find_failure(gate, "expect_key_not_null", "lake.ad_delivery")
    assert "campaign_id" in failure.detail and "2 of" in failure.detail
    assert sha256(project.paths.published_db) == good.sha


def test_missing_day_of_a_spend_source(project, good):
    # Google Ads never delivered MIDDLE: no landing folder, no partition; later days are there.
    shutil.rmtree(project.paths.landing / "google_ads" / MIDDLE.isoformat())
    (project.paths.lake_raw / "ad_delivery" / "source=google_ads" / f"date={MIDDLE}").rename(
        project.paths.data_dir / "removed-partition"
    )
    gate, code = _validate_and_publish(project)
    assert code == EXIT_GATE_BLOCKED
    failure = find_failure(gate, "expect_daily_rows_near_trailing_median", "lake.ad_delivery")
    assert f"google_ads on {MIDDLE}: 0 rows" in failure.detail
    assert sha256(project.paths.published_db) == good.sha


# Faults in the warehouse after the build (validate + publish) --------------------------


def test_credits_that_do_not_sum_to_one(project, good):
    with duckdb.connect(str(project.paths.warehouse)) as con:
        # the data-driven models' credits are tables (the rule-based ones are views)
        con.execute("update attribution.attr_markov set credit = credit * 0.9")
    gate, code = _validate_and_publish(project)
    assert code == EXIT_GATE_BLOCKED
    failure = find_failure(gate, "expect_credits_sum_to_one", "attr_markov")
    assert failure.sample_rows[0]["model"] == "markov"
    assert failure.sample_rows[0]["credit_sum"] == pytest.approx(0.9)
    assert sha256(project.paths.published_db) == good.sha


def test_cli_publish_after_a_failed_gate_exits_3(project, good):
    with duckdb.connect(str(project.paths.warehouse)) as con:
        con.execute(
            "update fct_ad_spend_daily set spend = spend * 2 "
            f"where platform = 'meta_ads' and spend_date = date '{LAST}'"
        )
    validated = cli(project, "validate", "--run-date", LAST.isoformat())
    assert validated.exit_code == EXIT_GATE_BLOCKED, validated.output
    assert "expect_spend_matches_lake on fct_ad_spend_daily" in validated.output
    published = cli(project, "publish")
    assert published.exit_code == EXIT_GATE_BLOCKED, published.output
    assert "Publication refused" in published.output
    assert "expect_spend_matches_lake on fct_ad_spend_daily" in published.output
    assert sha256(project.paths.published_db) == good.sha
    assert not read_gate(project).passed


# Faults that arrive as landed files (run) ----------------------------------------------


def test_tenfold_spend_spike_in_a_restated_export(project, good):
    # LinkedIn's Sunday spend (the last day) is well above quality.volume_min_baseline_spend,
    # so the volume check judges it; smaller sources' noise is below the baseline.
    rows = landed_rows(project, "linkedin_ads", LAST)
    rows["spend_micros"] = rows["spend_micros"] * 10
    land_export(project, "linkedin_ads", LAST, rows, "restated")
    result = run(project, LAST, LAST)
    _assert_blocked(result, good, project)
    failure = find_failure(
        result.gate, "expect_daily_spend_near_trailing_median", "lake.ad_delivery"
    )
    assert f"linkedin_ads on {LAST}" in failure.detail
    assert failure.sample_rows[0]["spend_ratio"] > 5
    names = {(f.expectation, f.table) for f in result.gate.failures}
    assert ("expect_daily_rows_near_trailing_median", "lake.ad_delivery") not in names
    # The restatement replaced the first delivery: the warehouse agrees with the lake.
    assert ("expect_spend_matches_lake", "fct_ad_spend_daily") not in names


def test_currency_without_a_rate(project, good):
    rows = landed_rows(project, "meta_ads", LAST)
    rows = rows[rows["account_id"] == rows["account_id"].iloc[0]].copy()
    rows["account_id"] = "10150009999999"  # a new ad account billed in AUD
    rows["account_currency"] = "AUD"
    land_export(project, "meta_ads", LAST, rows, "aud")
    # dbt's has_fx_rate data test fails the build: bad data, not a broken build, so the
    # run goes on to the gate, which names the currency and the day and blocks (exit 3).
    result = run(project, LAST, LAST)
    assert result.exit_code == EXIT_GATE_BLOCKED
    assert not result.published
    assert any(f"no USD rate for AUD on {LAST}" in m for m in result.messages)
    failure = find_failure(result.gate, "expect_fx_rate_available", "lake.fx_rates")
    assert f"no rate for AUD on {LAST}" in failure.detail
    assert "has_fx_rate" in find_failure(result.gate, "expect_build_succeeded", "warehouse").detail
    assert sha256(project.paths.published_db) == good.sha
    # The CLI's validate + publish on that build say the same and refuse too.
    gate, code = _validate_and_publish(project)
    assert code == EXIT_GATE_BLOCKED
    assert find_failure(gate, "expect_fx_rate_available", "lake.fx_rates")
    assert sha256(project.paths.published_db) == good.sha


def test_duplicated_event_ids_are_removed_not_counted(project, good):
    _, repeated = redeliver_events(project, LAST, [LAST - dt.timedelta(days=1), LAST], every=3)
    assert len(repeated) > 20
    result = run(project, LAST, LAST)
    assert result.exit_code == 0, format_gate_summary(result.gate)
    assert [f.file for f in result.ingest.loaded] == [f"events/{LAST}/events-redelivery.jsonl"]
    assert result.published
    db = project.paths.published_db
    assert _published_conversions(db) == good.conversions
    with duckdb.connect(str(db), read_only=True) as con:
        per_model = con.execute(
            "select model, count(distinct conversion_id), sum(credit) "
            "from fct_attributed_conversions group by model"
        ).fetchall()
    total = sum(good.conversions.values())
    for model, conversions, credits in per_model:
        assert conversions == total, model
        assert float(credits) == pytest.approx(total, abs=1e-6), model


# Publication under stress ---------------------------------------------------------------


def test_killed_publish_leaves_the_old_publication_and_the_next_run_publishes(project, good):
    publish_killed_at(project, "version_written")
    assert sha256(project.paths.published_db) == good.sha
    with duckdb.connect(str(project.paths.published_db), read_only=True) as con:
        assert con.execute("select count(*) from mart_kpi_daily").fetchone()[0] > 0
    result = run(project, LAST, LAST)
    assert result.exit_code == 0, result.messages
    assert current_version(project) == result.publication.version
    assert not [p for p in project.paths.published.rglob("*") if ".tmp-" in p.name]
    never_live = [v["version"] for v in list_versions(project) if not v["published"]]
    assert len(never_live) == 1 and never_live[0].endswith("-killed")
    # Rolling back goes to the publication readers had before, not to the killed attempt.
    assert rollback(project) == good.version
    assert sha256(project.paths.published_db) == good.sha


def test_open_reader_during_publish_and_rollback(project, good):
    reader = duckdb.connect(str(project.paths.published_db), read_only=True)
    try:
        before = reader.execute("select count(*), sum(spend) from fct_ad_spend_daily").fetchall()
        second = publish(project, run_id="second")
        assert sha256(project.paths.published_db) != good.sha
        assert (
            reader.execute("select count(*), sum(spend) from fct_ad_spend_daily").fetchall()
            == before
        )
    finally:
        reader.close()
    assert current_version(project) == second.version
    assert [v["version"] for v in list_versions(project)] == [good.version, second.version]
    assert rollback(project) == good.version
    assert sha256(project.paths.published_db) == good.sha
    link = project.paths.published_parquet.resolve()
    assert link == (project.paths.published_versions / good.version / "parquet").resolve()
