"""Helpers of the source contract tests: manifests, expected files, frame comparison."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import yaml

from pipelines.canonical import Table, conform
from pipelines.sources import Source, all_sources


@dataclass(frozen=True)
class Case:
    source: str
    file: Path
    folder_date: dt.date
    expected: Path | None
    error: str | None

    @property
    def id(self) -> str:
        return f"{self.source}:{self.file.name}"


def manifest(source: Source) -> dict[str, Any]:
    path = source.folder / "samples" / "manifest.yml"
    if not path.exists():  # test_source_folder_is_complete reports it
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def cases(source: Source) -> list[Case]:
    samples = source.folder / "samples"
    out = []
    for c in manifest(source).get("cases", []):
        day = c["folder_date"]
        out.append(
            Case(
                source=source.name,
                file=samples / c["file"],
                folder_date=day if isinstance(day, dt.date) else dt.date.fromisoformat(day),
                expected=samples / c["expected"] if c.get("expected") else None,
                error=c.get("error"),
            )
        )
    return out


def all_cases(kind: str) -> list[Case]:
    found = []
    for src in all_sources().values():
        for c in cases(src):
            if (kind == "good") == (c.expected is not None):
                found.append(c)
    return found


def read_expected(path: Path, table: Table) -> pd.DataFrame:
    """An expected-rows CSV as a DataFrame typed for ``conform`` ('' is null)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = {}
    for f in table.fields:
        if f.name not in raw.columns:
            continue
        col = raw[f.name].astype(object).where(raw[f.name] != "", None)
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type):
            col = pd.to_numeric(col)
        elif pa.types.is_boolean(f.type):
            col = col.map({"true": True, "false": False, "True": True, "False": False, None: None})
        out[f.name] = col
    return pd.DataFrame(out, index=raw.index)


def canonical(
    frame: pd.DataFrame | pa.Table, table: Table, ignore: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Conformed, sorted, comparable rows."""
    arrow = frame if isinstance(frame, pa.Table) else conform(frame, table)
    arrow = arrow.select(table.columns)
    df = arrow.to_pandas().drop(columns=list(ignore))
    order = [c for c in table.key if c in df.columns] + [
        c for c in df.columns if c not in table.key
    ]
    return df.sort_values(order, na_position="first", kind="stable").reset_index(drop=True)


def assert_same_rows(actual, expected, table: Table, ignore: tuple[str, ...] = ()) -> None:
    pd.testing.assert_frame_equal(
        canonical(actual, table, ignore),
        canonical(expected, table, ignore),
        check_exact=False,
        rtol=1e-9,
    )
