"""The gate's lake row checks read the partitions a passed gate has not validated unchanged."""

from __future__ import annotations

import json
from datetime import timedelta

import pyarrow.parquet as pq
import quality_fixtures as qf
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.quality import expectations as ex
from pipelines.quality import lake_scope
from pipelines.quality.gate import format_gate_summary, run_gate
from pipelines.quality.result import read_gate


def _errors(result) -> set[tuple[str, str]]:
    return {(f.expectation, f.table) for f in result.failures}


def _all(result) -> dict[str, int]:
    return {table: total for table, (_, total) in result.lake_partitions.items()}


def _partition_key(day) -> str:
    return f"source=google_ads/date={day}"


def test_unchanged_partitions_are_not_validated_again(project):
    first = run_gate(project)
    assert first.passed, format_gate_summary(first)
    totals = _all(first)
    assert {"ad_delivery", "events", "fx_rates"} <= set(totals)
    assert first.lake_partitions == {t: [n, n] for t, n in totals.items()}

    again = run_gate(project)
    assert again.passed, format_gate_summary(again)
    assert again.lake_partitions == {t: [0, n] for t, n in totals.items()}
    # the lake's row suites did not run; everything else did
    assert again.expectations_evaluated < first.expectations_evaluated
    assert f"ad_delivery 0 of {totals['ad_delivery']}" in format_gate_summary(again)

    full = run_gate(project, full=True)
    assert full.lake_partitions == first.lake_partitions
    assert full.expectations_evaluated == first.expectations_evaluated


def test_a_changed_partition_is_validated_and_blocks_until_it_is_fixed(project):
    assert run_gate(project).passed
    day = qf.START + timedelta(days=4)
    good = qf.read_partition(project, "ad_delivery", "google_ads", day)
    bad = good.copy()
    bad.loc[0, "spend_micros"] = -5_000_000
    qf.write_partition(project, "ad_delivery", "google_ads", day, bad)

    blocked = run_gate(project)
    assert not blocked.passed
    assert blocked.lake_partitions["ad_delivery"][0] == 1
    assert blocked.lake_partitions["events"][0] == 0
    assert ("expect_non_negative", "lake.ad_delivery") in _errors(blocked)
    failure = next(f for f in blocked.failures if f.table == "lake.ad_delivery")
    assert failure.sample_rows[0]["spend_micros"] == -5_000_000

    # a blocked gate records nothing: the partition is read again, and blocks again
    still = run_gate(project)
    assert ("expect_non_negative", "lake.ad_delivery") in _errors(still)

    qf.write_partition(project, "ad_delivery", "google_ads", day, good)
    fixed = run_gate(project)
    assert fixed.passed, format_gate_summary(fixed)
    assert fixed.lake_partitions["ad_delivery"][0] == 1
    assert run_gate(project).lake_partitions["ad_delivery"][0] == 0


def test_a_file_added_next_to_a_partition_is_validated_with_it(project):
    # a copy of one row in a file of its own, named to sort before data.parquet: the
    # partition changed, and its grain is checked over both files
    assert run_gate(project).passed
    day = qf.START + timedelta(days=3)
    path = qf.partition_file(project, "ad_delivery", "meta_ads", day)
    pq.write_table(pq.read_table(path).slice(0, 1), path.with_name("a-copy.parquet"))
    blocked = run_gate(project)
    assert blocked.lake_partitions["ad_delivery"][0] == 1
    assert ("expect_grain_unique", "lake.ad_delivery") in _errors(blocked)


def test_a_gate_blocked_by_the_warehouse_keeps_the_earlier_record(project):
    assert run_gate(project).passed
    day = qf.START + timedelta(days=2)
    before = json.loads(lake_scope.record_path(project).read_text())
    # the same rows written again: a new file, validated once more
    rows = qf.read_partition(project, "ad_delivery", "google_ads", day)
    qf.write_partition(project, "ad_delivery", "google_ads", day, rows)
    qf.execute_on_warehouse(project, "alter table mart_kpi_daily drop column roas")
    blocked = run_gate(project)
    assert not blocked.passed
    assert blocked.lake_partitions["ad_delivery"][0] == 1
    assert json.loads(lake_scope.record_path(project).read_text()) == before
    assert run_gate(project).lake_partitions["ad_delivery"][0] == 1


def test_other_expectations_validate_a_table_in_full(project):
    assert run_gate(project).passed
    record = lake_scope.read_record(project)
    partitions = record["ad_delivery"]["partitions"]
    assert _partition_key(qf.START) in partitions
    # the partitions as the gate recorded them; a suite other than the recorded one (here
    # none, then another) reads every partition
    empty = lake_scope.plan(project, "ad_delivery", [], record=record)
    assert empty.current == partitions
    assert record["ad_delivery"]["suite"] != empty.suite_hash and empty.complete
    other = [ex.ExpectKeyNotNull(column="campaign_id", severity="critical")]
    scope = lake_scope.plan(project, "ad_delivery", other, record=record)
    assert scope.complete and len(scope.files) == len(partitions)
    # a record of another format is no record
    lake_scope.record_path(project).write_text(json.dumps({"version": 0, "tables": record}))
    assert lake_scope.read_record(project) == {}
    assert run_gate(project).lake_partitions["ad_delivery"][0] == len(partitions)


def test_validate_full_on_the_command_line(project):
    def validate(*args: str) -> dict[str, list[int]]:
        out = CliRunner().invoke(app, ["--data-dir", str(project.data_dir), "validate", *args])
        assert out.exit_code == 0, out.output
        return read_gate(project).lake_partitions

    first = validate()
    assert all(read == total for read, total in first.values())
    assert all(read == 0 for read, _ in validate().values())
    assert validate("--full") == first
