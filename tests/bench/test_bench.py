"""The benchmark harness at a tiny size: the shape and honesty of its output, never timings.

One run of ``run_bench`` (2,000 events over 3 days, plus the incremental fourth day and a
full refresh) is shared by the tests of this module. The tests check that the JSON has
every required field with sane values, that the incremental run published and built the
same marts as a full refresh, and that the hand-written pandas alternative computes the
same last-touch and linear channel totals as the published ``fct_attributed_conversions``
(which is what makes the time comparison honest).
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from pipelines.bench import format_bench_table, run_bench
from pipelines.bench.pandas_alternative import MODELS, pandas_attribution, pipeline_totals
from pipelines.config import load_settings
from pipelines.quality.result import read_gate

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("bench")]

EVENTS, DAYS = 2_000, 3
REQUIRED = (
    "events",
    "days",
    "stage_seconds",
    "total_seconds",
    "floor_seconds",
    "ratio_to_floor",
    "pandas_seconds",
    "incremental_seconds",
    "peak_rss_mb",
    "markov_seconds",
    "events_per_second",
    "shapley_seconds",
    "shapley_many_paths_seconds",
    "peer",
    "machine",
)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("bench")
    out = data_dir / "reports" / "bench.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTRIBUTION_PII_SALT", "bench-test-salt")
        mp.delenv("ATTRIBUTION_BENCH_PEER_PYTHON", raising=False)
        results = run_bench(data_dir, [EVENTS], days=DAYS)
        yield data_dir, out, results


def test_json_is_written_and_equals_the_returned_results(bench) -> None:
    _, out, results = bench
    assert out.exists()
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(
        json.dumps(results, default=str)
    )
    assert len(results) == 1


def test_every_required_key_with_sane_values(bench) -> None:
    _, _, [r] = bench
    missing = [k for k in REQUIRED if k not in r]
    assert not missing, missing
    assert r["days"] == DAYS
    assert r["events_target"] == EVENTS
    assert r["complete"] and "error" not in r
    # the generator scales people to the target; the landed lines are near it
    assert 0.5 * EVENTS <= r["events"] <= 1.5 * EVENTS
    assert set(r["stage_seconds"]) == {"ingest", "build", "gate", "publish"}
    assert all(v > 0 for v in r["stage_seconds"].values())
    assert r["total_seconds"] == pytest.approx(sum(r["stage_seconds"].values()), abs=0.01)
    for key in ("floor_seconds", "pandas_seconds", "incremental_seconds", "markov_seconds"):
        assert r[key] > 0, key
    assert r["shapley_seconds"] > 0
    assert r["ratio_to_floor"] == pytest.approx(r["total_seconds"] / r["floor_seconds"], rel=0.02)
    assert r["build_ratio_to_floor"] == pytest.approx(
        r["stage_seconds"]["build"] / r["floor_seconds"], rel=0.02
    )
    assert r["events_per_second"] == pytest.approx(
        r["events"] / r["total_seconds"], rel=0.01, abs=0.1
    )
    assert 10 < r["peak_rss_mb"] < 64_000
    assert r["journeys"] > 0
    assert 0 < r["distinct_paths"] <= r["journeys"]
    assert r["markov_1m_journeys_seconds"] > 0
    # Shapley timed on 100,000 distinct paths whatever the size (the default transform
    # keeps them all)
    assert r["shapley_many_paths_seconds"] > 0
    assert r["shapley_many_paths"] == 100_000
    m = r["machine"]
    assert m["cores"] >= 1 and m["memory_gb"] > 0
    assert m["versions"]["duckdb"].startswith("2.")
    assert set(m["duckdb_settings"]) == {"threads", "memory_limit", "temp_directory"}


def test_the_full_run_passed_the_gate_and_published(bench) -> None:
    _, _, [r] = bench
    assert r["gate_passed"], r["gate_failures"]
    assert r["published"]


def test_peer_is_compared_or_explained(bench) -> None:
    _, _, [r] = bench
    if r["peer"] is None:
        assert "channelattribution" in r["peer_note"]
    else:
        assert r["peer"]["max_abs_removal_effect_diff"] >= 0
        assert r["peer"]["peer_seconds"] > 0


def test_incremental_day_published_and_equals_a_full_refresh(bench) -> None:
    data_dir, _, [r] = bench
    assert r["incremental_days"] == ["2026-01-08"]
    assert r["incremental_files"] > 0
    assert r["incremental_published"]
    assert r["incremental_matches_full_refresh"], r["incremental_differences"]
    assert r["incremental_ratio"] > 0
    # the whole night, gate and publish included, against the first run's four stages
    stages = r["incremental_stage_seconds"]
    assert set(stages) == {"ingest", "build", "gate", "publish"}
    assert r["incremental_run_seconds"] == pytest.approx(sum(stages.values()), abs=0.01)
    assert r["incremental_run_ratio"] == pytest.approx(
        r["incremental_run_seconds"] / r["total_seconds"], abs=0.01
    )
    # the night's gate read the lake's new partitions, not the history a gate passed
    night_gate = read_gate(load_settings(data_dir=data_dir / "bench" / f"events-{EVENTS}"))
    assert night_gate.passed
    checked, partitions = night_gate.lake_partitions["events"]
    assert 0 < checked < partitions
    # the night replaced slices: it left deleted rows, whose upkeep is measured
    shares = r["incremental_deleted_row_shares"]
    assert "intermediate.int_touchpoints" in shares
    assert all(0 < share <= 1 for share in shares.values())
    assert r["compaction_seconds_per_night"] <= r["compaction_seconds"]
    assert r["incremental_with_compaction_ratio"] >= r["incremental_ratio"]
    # the nightly ran in a process of its own, which measured its memory
    nightly = r["peak_rss_mb_by_phase"]["incremental_build"]
    assert 10 < nightly <= r["peak_rss_mb"]


def test_pandas_alternative_equals_the_published_attribution(bench) -> None:
    data_dir, _, [r] = bench
    # on the first `days` days, against the publication of the full run
    assert r["pandas_matches_pipeline"], r["pandas_max_abs_diff"]
    # and again now, on every day, against the publication of the incremental run
    settings = load_settings(data_dir=data_dir / "bench" / f"events-{EVENTS}")
    ours = pandas_attribution(settings).totals
    published = pipeline_totals(settings.paths.published_db)
    assert set(published["model"]) == set(MODELS)
    merged = ours.merge(published, on=["model", "channel"], how="outer", suffixes=("_pd", "_pub"))
    assert not merged.isna().any().any(), merged
    for model in MODELS:
        rows = merged[merged["model"] == model]
        pd.testing.assert_series_equal(
            rows["conversions_pd"], rows["conversions_pub"], check_names=False, atol=1e-9
        )
        pd.testing.assert_series_equal(
            rows["value_pd"], rows["value_pub"], check_names=False, atol=1e-6
        )
    # every conversion is credited exactly once per model
    per_model = ours.groupby("model")["conversions"].sum()
    assert all(math.isclose(v, per_model.iloc[0]) for v in per_model)


def test_table_lists_the_measures(bench) -> None:
    _, _, results = bench
    table = format_bench_table(results)
    assert f"{EVENTS:,} events" in table
    for label in ("ingest s", "total / floor", "pandas last+linear s", "markov s", "peak RSS MB"):
        assert label in table
    assert "cores" in table
