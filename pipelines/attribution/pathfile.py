"""Attribute a path file (journeys already aggregated as paths) with every model.

The format (reference: attribution-models.md, "Path data format") is ``;``-separated with a
header ``path;total_conversions;total_conversion_value;total_null``, ``path`` being channel
names joined by `` > ``, one row per distinct path. Reading is tolerant: a UTF-8 byte-order
mark, spaces around ``>`` and around fields, blank lines, columns in any order, extra columns
and empty number fields (read as 0) are accepted; an empty path is a conversion without
touches and is credited to ``Direct``. Anything else (a missing column, a bad or negative
number, an empty channel name) raises :class:`~pipelines.errors.BadInputError` naming the
line and the column.

The result has one row per channel and model (DESIGN: "Path-file output"):
``channel, model, attributed_conversions, attributed_value, removal_effect,
value_removal_effect``, for ``first_touch, last_touch, linear`` (on the untransformed path,
as the dbt models), ``markov`` and ``shapley`` (on the transformed path); the removal effects
are filled for ``markov`` only.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.attribution.markov import markov_attribution
from pipelines.attribution.paths import pathset_from_records
from pipelines.attribution.rules import PATH_RULE_MODELS, rule_based_totals
from pipelines.attribution.shapley import shapley_attribution
from pipelines.attribution.transforms import DEFAULT_TRANSFORM, check_transform
from pipelines.errors import BadInputError

PATH_COLUMN = "path"
NUMBER_COLUMNS = ("total_conversions", "total_conversion_value", "total_null")
REQUIRED_COLUMNS = (PATH_COLUMN, *NUMBER_COLUMNS)
PATH_FILE_MODELS = (*PATH_RULE_MODELS, "markov", "shapley")
RESULT_COLUMNS = (
    "channel",
    "model",
    "attributed_conversions",
    "attributed_value",
    "removal_effect",
    "value_removal_effect",
)

PathRecord = tuple[list[str], float, float, float]


def _number(raw: str, file: Path, line: int, column: str) -> float:
    text = raw.strip()
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise BadInputError(
            file,
            f"{text!r} is not a number; write a plain number such as 12 or 3.5",
            _at(line, column),
        ) from None
    if not math.isfinite(value) or value < 0:
        raise BadInputError(
            file, f"{text!r} is not a finite number >= 0; fix the value", _at(line, column)
        )
    return value


def _at(line: int, column: str) -> str:
    return f"line {line}, column '{column}'"


def _channels(raw: str, file: Path, line: int) -> list[str]:
    text = raw.strip()
    if not text:
        return []
    parts = [part.strip() for part in text.split(">")]
    if any(not part for part in parts):
        raise BadInputError(
            file,
            f"path {text!r} has an empty channel name; join channel names with ' > '",
            _at(line, PATH_COLUMN),
        )
    return parts


def read_path_file(path: str | Path) -> list[PathRecord]:
    """Read a path file into ``(channels, conversions, value, nulls)`` records."""
    file = Path(path)
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise BadInputError(file, "file not found; pass an existing path file") from None
    except UnicodeDecodeError as exc:
        raise BadInputError(
            file, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header: list[str] | None = None
    index: dict[str, int] = {}
    records: list[PathRecord] = []
    for row in reader:
        line = reader.line_num
        if not any(field.strip() for field in row):
            continue
        if header is None:
            header = [name.strip().lower() for name in row]
            missing = [name for name in REQUIRED_COLUMNS if name not in header]
            if missing:
                raise BadInputError(
                    file,
                    f"missing required column(s) {', '.join(repr(m) for m in missing)} (found "
                    f"{';'.join(header)}); the header must be {';'.join(REQUIRED_COLUMNS)}",
                    f"line {line}",
                )
            index = {name: header.index(name) for name in REQUIRED_COLUMNS}
            continue
        while len(row) > len(header) and not row[-1].strip():
            row = row[:-1]
        if len(row) != len(header):
            raise BadInputError(
                file,
                f"expected {len(header)} ';'-separated fields, found {len(row)}; "
                "check for a stray ';' or a missing field",
                f"line {line}",
            )
        records.append(
            (
                _channels(row[index[PATH_COLUMN]], file, line),
                *(_number(row[index[c]], file, line, c) for c in NUMBER_COLUMNS),
            )
        )
    if header is None:
        raise BadInputError(
            file, f"the file is empty; it needs the header {';'.join(REQUIRED_COLUMNS)}"
        )
    return records


def attribute_paths(
    records: Sequence[PathRecord], transform: str = DEFAULT_TRANSFORM, order: int = 1
) -> pd.DataFrame:
    """Channel totals of every path-file model for ``(channels, conv, value, nulls)`` records."""
    check_transform(transform)
    records = [r for r in records if r[1] or r[2] or r[3]]
    if not records:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in RESULT_COLUMNS}).astype(
            {"channel": "str", "model": "str"}
        )
    raw = pathset_from_records(records, "none")
    transformed = pathset_from_records(records, transform)
    channels = raw.channels
    position = {c: i for i, c in enumerate(transformed.channels)}
    take = np.array([position[c] for c in channels], dtype=np.int64)
    n = len(channels)
    frames = []
    for model in PATH_RULE_MODELS:
        conv, value = rule_based_totals(raw, model)
        frames.append((model, conv, value, np.full(n, np.nan), np.full(n, np.nan)))
    markov = markov_attribution(transformed, order)
    frames.append(
        (
            "markov",
            markov.attributed_conversions[take],
            markov.attributed_value[take],
            markov.removal_effect[take],
            markov.value_removal_effect[take],
        )
    )
    shapley = shapley_attribution(transformed)
    frames.append(
        (
            "shapley",
            shapley.attributed_conversions[take],
            shapley.attributed_value[take],
            np.full(n, np.nan),
            np.full(n, np.nan),
        )
    )
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "channel": pd.array(list(channels), dtype="str"),
                    "model": pd.array([model] * n, dtype="str"),
                    "attributed_conversions": conv,
                    "attributed_value": value,
                    "removal_effect": re,
                    "value_removal_effect": value_re,
                }
            )
            for model, conv, value, re, value_re in frames
        ],
        ignore_index=True,
    )


def attribute_path_file(
    path: str | Path, transform: str = DEFAULT_TRANSFORM, order: int = 1
) -> pd.DataFrame:
    """Attribute a path file with every model; one row per channel and model."""
    return attribute_paths(read_path_file(path), transform=transform, order=order)


def write_path_results(df: pd.DataFrame, out: str | Path) -> Path:
    """Write the result of :func:`attribute_path_file` as CSV (parents created)."""
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    df.loc[:, list(RESULT_COLUMNS)].to_csv(target, index=False, float_format="%.12g")
    return target


def format_table(df: pd.DataFrame, metric: str = "attributed_conversions") -> str:
    """A plain-text table: one row per channel, one column per model, of ``metric``."""
    if df.empty:
        return "(no conversions or journeys in the path file)"
    models = [m for m in PATH_FILE_MODELS if m in set(df["model"])]
    wide = df.pivot(index="channel", columns="model", values=metric).loc[:, models]
    wide.loc["total"] = wide.sum()
    rows = [["channel", *models]] + [
        [str(channel), *(f"{v:,.2f}" for v in values)]
        for channel, values in zip(wide.index, wide.to_numpy(), strict=True)
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(r)
        )
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(len(lines) - 1, "  ".join("-" * w for w in widths))
    return f"{metric}\n" + "\n".join(lines)


def attribute_paths_command(
    file: str | Path,
    out: str | Path | None = None,
    transform: str = DEFAULT_TRANSFORM,
    order: int = 1,
) -> pd.DataFrame:
    """What ``attribution attribute-paths FILE [--out F]`` does: attribute, write if asked."""
    df = attribute_path_file(file, transform=transform, order=order)
    if out is not None:
        write_path_results(df, out)
    return df
