"""Generic contract tests, parametrised over the source registry and each source's manifest.

A new source folder (``attribution new-source``) is picked up with no edit here.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from contract_helpers import Case, all_cases, assert_same_rows, cases, manifest, read_expected

from pipelines import lake
from pipelines.errors import EXIT_BAD_INPUT, BadInputError
from pipelines.ingest import ingest
from pipelines.sources import all_sources, get_source
from pipelines.sources.base import ParseContext

SOURCES = sorted(all_sources())
GOOD = all_cases("good")
BAD = all_cases("bad")


def _ctx(settings, case: Case) -> ParseContext:
    return ParseContext.from_settings(settings, case.source, case.folder_date)


def _first_good(name: str) -> Case:
    return next(c for c in cases(get_source(name)) if c.expected is not None)


def _land(settings, case: Case, name: str | None = None) -> None:
    day_dir = settings.paths.landing / case.source / case.folder_date.isoformat()
    day_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(case.file, day_dir / (name or case.file.name))


@pytest.mark.parametrize("name", SOURCES)
def test_source_folder_is_complete(name):
    src = get_source(name)
    assert (src.folder / "samples" / "manifest.yml").exists(), f"{name}: samples/manifest.yml"
    assert (src.folder / "README.md").read_text(encoding="utf-8").strip()
    all_ = cases(src)
    assert any(c.expected for c in all_), f"{name}: the manifest needs a good sample"
    assert sum(1 for c in all_ if c.error) >= 3, f"{name}: the manifest needs 3 malformed samples"
    for c in all_:
        assert c.file.exists(), c.file
        assert c.expected is None or c.expected.exists(), c.expected


@pytest.mark.parametrize("case", GOOD, ids=[c.id for c in GOOD])
def test_sample_parses_to_expected_rows(settings, case):
    src = get_source(case.source)
    got = src.parse(case.file, _ctx(settings, case))
    assert_same_rows(got, read_expected(case.expected, src.table), src.table)


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_malformed_sample_is_rejected(settings, case):
    src = get_source(case.source)
    with pytest.raises(BadInputError) as err:
        src.parse(case.file, _ctx(settings, case))
    assert case.error in str(err.value)


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_malformed_file_is_quarantined_and_good_file_still_loads(settings, case):
    good = _first_good(case.source)
    _land(settings, case)
    _land(settings, good, name=f"good-{good.file.name}")
    result = ingest(settings, sources=[case.source])

    assert result.exit_code == EXIT_BAD_INPUT
    assert [q.file.split("/")[-1] for q in result.quarantined] == [case.file.name]
    assert case.error in result.quarantined[0].message
    qfile = settings.paths.quarantine / case.source / case.folder_date.isoformat() / case.file.name
    assert qfile.read_bytes() == case.file.read_bytes()
    assert case.error in qfile.with_name(qfile.name + ".error.txt").read_text(encoding="utf-8")
    landed = settings.paths.landing / case.source / case.folder_date.isoformat() / case.file.name
    assert not landed.exists()
    assert [o.file.split("/")[-1] for o in result.loaded] == [f"good-{good.file.name}"]
    src = get_source(case.source)
    part = lake.read_partition(settings, src.table, case.source, good.folder_date)
    assert_same_rows(part, read_expected(good.expected, src.table), src.table)


def _roundtrip_params():
    out = []
    for name in SOURCES:
        for fmt in manifest(get_source(name)).get("roundtrip_formats", [None]):
            out.append(pytest.param(name, fmt, id=f"{name}:{fmt or 'default'}"))
    return out


@pytest.mark.parametrize(("name", "fmt"), _roundtrip_params())
def test_write_then_parse_gives_the_same_rows(settings, tmp_path, name, fmt):
    src = get_source(name)
    good = _first_good(name)
    rows = read_expected(good.expected, src.table)
    ctx = _ctx(settings, good)
    paths = src.write(rows, tmp_path / "out", ctx, fmt)
    assert paths
    parsed = pd.concat([src.parse(p, ctx) for p in paths], ignore_index=True)
    ignore = tuple(manifest(src).get("roundtrip_ignore", ()))
    assert_same_rows(parsed, rows, src.table, ignore)


@pytest.mark.parametrize("name", SOURCES)
def test_reingesting_the_same_file_changes_nothing(settings, name):
    good = _first_good(name)
    _land(settings, good)
    first = ingest(settings, sources=[name])
    assert first.exit_code == 0 and len(first.loaded) == 1
    part = lake.partition_path(settings, get_source(name).table.name, name, good.folder_date)
    before = (part.read_bytes(), part.stat().st_mtime_ns)
    _land(settings, good, name=f"copy-of-{good.file.name}")  # same bytes, another name

    second = ingest(settings, sources=[name])

    assert second.loaded == [] and second.quarantined == [] and second.partitions == {}
    assert len(second.unchanged) == 2
    assert (part.read_bytes(), part.stat().st_mtime_ns) == before


def _restated(rows: pd.DataFrame, table) -> pd.DataFrame:
    out = rows.copy()
    changed = False
    for f in table.fields:
        if f.name in table.key or f.name not in out.columns:
            continue
        numeric = pa.types.is_floating(f.type) or pa.types.is_integer(f.type)
        if numeric and out[f.name].notna().any():
            out[f.name] = out[f.name] * 2 + 1
            changed = True
    assert changed, "the sample has no numeric column to restate"
    return out


@pytest.mark.parametrize("name", SOURCES)
def test_restated_delivery_replaces_the_earlier_one(settings, tmp_path, name):
    src = get_source(name)
    good = _first_good(name)
    ctx = _ctx(settings, good)
    fmt = manifest(src).get("roundtrip_formats", [None])[0]
    ignore = tuple(manifest(src).get("roundtrip_ignore", ()))
    rows = read_expected(good.expected, src.table)
    restated = _restated(rows, src.table)
    day_dir = settings.paths.landing / name / good.folder_date.isoformat()
    day_dir.mkdir(parents=True)
    for label, frame in (("v1", rows), ("v2", restated)):
        for p in src.write(frame, tmp_path / label, ctx, fmt):
            shutil.copy(p, day_dir / f"{label}-{p.name}")
        result = ingest(settings, sources=[name])
        assert result.exit_code == 0, result.quarantined

    part = pq.read_table(lake.partition_path(settings, src.table.name, name, good.folder_date))
    assert part.num_rows == len(rows)
    assert set(part.column("source_file").to_pylist()) == {
        f"{name}/{good.folder_date.isoformat()}/v2-{p.name}"
        for p in src.write(restated, tmp_path / "names", ctx, fmt)
    }
    assert_same_rows(part, restated, src.table, ignore)
