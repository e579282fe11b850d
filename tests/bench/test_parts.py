"""The benchmark's parts on hand-made inputs: the floor, the journey resample, the peer's
path file, the table. Fast; no pipeline run."""

from __future__ import annotations

import gzip
import json
import shutil

import pandas as pd
import pytest

from pipelines.attribution.journeys import prepare_journeys
from pipelines.bench import harness, run_bench
from pipelines.bench.floor import floor
from pipelines.bench.harness import _fingerprint_diff, distinct_path_journeys, resample_journeys
from pipelines.bench.peer import PEER_PYTHON_ENV, compare_peer, path_frame
from pipelines.bench.report import format_bench_table
from pipelines.config import load_settings
from pipelines.errors import PipelineError


def _line(i: int, anon: str | None) -> str:
    msg = {"type": "page", "messageId": f"m{i}", "timestamp": f"2026-03-02T10:00:0{i % 10}Z"}
    if anon is not None:
        msg["anonymousId"] = anon
    return json.dumps(msg)


def test_floor_reads_plain_and_gzipped_files_and_groups_by_person(settings) -> None:
    day1 = settings.paths.landing / "events" / "2026-03-02"
    day2 = settings.paths.landing / "events" / "2026-03-03"
    day1.mkdir(parents=True)
    day2.mkdir(parents=True)
    (day1 / "events.jsonl").write_text(
        "\n".join(_line(i, a) for i, a in enumerate(["a", "a", "b", None])) + "\n",
        encoding="utf-8",
    )
    with gzip.open(day2 / "events.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("\n".join(_line(i, a) for i, a in enumerate(["b", "c"])) + "\n")
    (day2 / "upload.jsonl.part").write_text(_line(9, "z") + "\n", encoding="utf-8")

    res = floor(settings)

    assert res.files == 2  # the unfinished upload is not read
    assert res.events == 6
    assert res.people == 4  # a, b, c and the events without an anonymous id
    assert res.seconds > 0


def test_floor_without_event_files_says_so(settings) -> None:
    with pytest.raises(FileNotFoundError, match="holds no event files"):
        floor(settings)


def _journeys() -> pd.DataFrame:
    rows = []
    specs = [("j1", ["Email", "Direct"], True, 10.0), ("j2", ["Paid Search"], False, None)]
    specs.append(("j3", ["Paid Search", "Email"], True, 5.0))
    for jid, channels, converted, value in specs:
        for k, ch in enumerate(channels, start=1):
            rows.append(
                {
                    "journey_id": jid,
                    "touch_position": k,
                    "touchpoint_id": f"{jid}-{k}",
                    "channel": ch,
                    "is_conversion": converted,
                    "conversion_id": jid if converted else None,
                    "conversion_value": value,
                }
            )
    return pd.DataFrame(rows)


def test_resample_keeps_whole_journeys() -> None:
    src = _journeys()
    big = resample_journeys(src, 1000, seed=3)
    assert big["journey_id"].nunique() == 1000
    originals = {tuple(g["touchpoint_id"]) for _, g in src.groupby("journey_id", sort=False)}
    for _, g in big.groupby("journey_id"):
        assert tuple(g["touchpoint_id"]) in originals
    converting = big.groupby("journey_id")["is_conversion"].first()
    assert (
        big.loc[big["is_conversion"], "conversion_id"]
        == big.loc[big["is_conversion"], "journey_id"]
    ).all()
    assert 0 < converting.mean() < 1


def test_distinct_path_journeys_hold_that_many_paths() -> None:
    journeys = distinct_path_journeys(5_000, channels=6, max_length=6, seed=1)
    paths = journeys.groupby("journey_id", sort=False).agg(
        path=("channel", " > ".join),
        length=("channel", "size"),
        converts=("is_conversion", "first"),
    )
    assert paths["path"].nunique() == 5_000
    assert paths["length"].between(1, 6).all()
    assert journeys["channel"].nunique() == 6
    # no channel twice in a row, so the exposure transform keeps every path
    same = journeys.groupby("journey_id")["channel"].shift() == journeys["channel"]
    assert not same.any()
    assert prepare_journeys(journeys, "exposure").pathset.n_paths == 5_000
    # each path is taken by a converting journey, a non-converting one, or both
    per_path = paths.groupby("path")["converts"].agg(["size", "sum"])
    assert per_path["size"].between(1, 2).all()
    assert (per_path.loc[per_path["size"] == 2, "sum"] == 1).all()
    assert 0 < paths["converts"].mean() < 1
    converting = journeys[journeys["is_conversion"]]
    assert (converting["conversion_id"] == converting["journey_id"]).all()
    assert (journeys.groupby("journey_id")["touch_position"].min() == 1).all()


def test_distinct_path_journeys_refuse_more_paths_than_exist() -> None:
    # 2 channels, no repeats: 2 paths of each length, 6 of lengths 1..3
    with pytest.raises(ValueError, match="only 6 distinct paths"):
        distinct_path_journeys(7, channels=2, max_length=3)


def test_path_frame_and_peer_note_without_the_package(monkeypatch) -> None:
    pathset = prepare_journeys(_journeys(), "exposure").pathset
    frame = path_frame(pathset)
    assert sorted(frame["path"]) == ["Email > Direct", "Paid Search", "Paid Search > Email"]
    assert frame["conv"].sum() == 2 and frame["nulls"].sum() == 1
    assert frame["value"].sum() == pytest.approx(15.0)
    monkeypatch.delenv(PEER_PYTHON_ENV, raising=False)
    try:
        import ChannelAttribution  # ruff: ignore[unused-import]
    except ImportError:
        peer, note = compare_peer(pathset)
        assert peer is None
        assert "not importable" in note and PEER_PYTHON_ENV in note


def test_fingerprint_diff_names_the_differences() -> None:
    a = {"fct": {"rows": 10.0, "credit": 5.0}, "mart": {"rows": 1.0}}
    b = {"fct": {"rows": 10.0, "credit": 5.5}}
    diffs = _fingerprint_diff(a, b)
    assert any("fct.credit" in d for d in diffs)
    assert any(d.startswith("mart: only in incremental") for d in diffs)
    assert _fingerprint_diff(a, a) == []


def test_table_has_one_column_per_size() -> None:
    base = {
        "events": 100,
        "days": 3,
        "stage_seconds": {"ingest": 1.0, "build": 2.0, "gate": 0.5, "publish": 0.1},
        "total_seconds": 3.6,
        "ratio_to_floor": 36.0,
        "peer": None,
        "incremental_ratio": 0.25,
    }
    table = format_bench_table(
        [{**base, "events_target": 100}, {**base, "events_target": 1_000_000}]
    )
    header = table.splitlines()[0]
    assert "100 events" in header and "1,000,000 events" in header
    assert "36.0x" in table and "25%" in table
    assert format_bench_table([]) == "no benchmark results"


def test_a_run_the_disk_cannot_hold_is_refused_before_it_starts(tmp_path) -> None:
    """Every size keeps its data on disk; a run needing more than the data dir's disk has
    free stops at once, naming the need, the free space and the folder, and writes nothing."""
    data_dir = tmp_path / "data"
    free = shutil.disk_usage(tmp_path).free
    too_many = free // harness.DISK_BYTES_PER_EVENT + 1
    with pytest.raises(PipelineError) as info:
        run_bench(data_dir, [1_000, too_many], days=3)
    message = str(info.value)
    assert f"{too_many:,} events need about" in message
    assert str(data_dir) in message and "GB is free" in message
    assert not data_dir.exists()
    harness.check_disk_space(load_settings(data_dir=data_dir), [1_000])  # a small run fits
