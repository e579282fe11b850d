"""Currency rates: a simple ``date,currency,rate`` CSV or the ECB reference-rate CSV.

See README.md for both forms, the rate convention and the checks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from pathlib import Path

import pandas as pd

from pipelines.canonical import FX_RATES
from pipelines.errors import BadInputError
from pipelines.sources.base import ParseContext, Source

_CODE = re.compile(r"^[A-Z]{3}$")
_MISSING = {"", "N/A", "NA", "#N/A", "-"}


def _read_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(path, "is not UTF-8 text; export the rates as a UTF-8 CSV") from exc
    rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    return [r for r in rows if any(r)]


def _parse_date(text: str, path: Path, where: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise BadInputError(path, f"date {text!r} is not a date like 2026-03-02", where)


def _parse_rate(text: str, path: Path, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadInputError(
            path, f"rate {text!r} is not a number; fix or remove the value", where
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise BadInputError(path, f"rate {text!r} is not a positive number", where)
    return value


def _check_code(code: str, path: Path, where: str) -> str:
    if not _CODE.match(code.upper()):
        raise BadInputError(
            path, f"currency code {code!r} is not a 3-letter ISO 4217 code (e.g. EUR)", where
        )
    return code.upper()


class FxRatesSource(Source):
    name = "fx_rates"
    table = FX_RATES
    description = "Daily currency rates (simple CSV or ECB reference rates)"
    patterns = ("*.csv",)

    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        rows = _read_rows(path)
        if not rows:
            raise BadInputError(path, "is empty; deliver a CSV with a header row", "line 1")
        header = [h.lower() for h in rows[0]]
        if {"date", "currency", "rate"} <= set(header):
            out = self._simple(path, rows, header, ctx)
        elif header and header[0] == "date" and len(header) > 1:
            out = self._ecb(path, rows, ctx)
        else:
            raise BadInputError(
                path,
                "missing required column: the header must be 'date,currency,rate' or the ECB "
                "form 'Date,USD,JPY,...'",
                "line 1",
            )
        frame = pd.DataFrame(out, columns=["rate_date", "base_currency", "currency", "rate"])
        dupes = frame.duplicated(["rate_date", "currency"], keep=False)
        if dupes.any():
            first = frame[dupes].iloc[0]
            raise BadInputError(
                path,
                f"currency {first.currency} has two rates for {first.rate_date}; keep one",
            )
        return frame

    def _simple(
        self, path: Path, rows: list[list[str]], header: list[str], ctx: ParseContext
    ) -> list:
        idx = {h: header.index(h) for h in ("date", "currency", "rate")}
        base = ctx.reporting_currency.upper()
        out = []
        for n, row in enumerate(rows[1:], start=2):
            if len(row) < len(header):
                row = row + [""] * (len(header) - len(row))
            where = f"line {n}"
            day = _parse_date(row[idx["date"]], path, f"{where}, column 'date'")
            if day != ctx.folder_date:
                raise BadInputError(
                    path,
                    f"date {day} is not the folder day {ctx.folder_date}; put each day's rates "
                    "in the landing folder of that day",
                    f"{where}, column 'date'",
                )
            code = _check_code(row[idx["currency"]], path, f"{where}, column 'currency'")
            rate = _parse_rate(row[idx["rate"]], path, f"{where}, column 'rate'")
            out.append((day, base, code, rate))
        return out

    def _ecb(self, path: Path, rows: list[list[str]], ctx: ParseContext) -> list:
        header = rows[0]
        columns = []
        for i, name in enumerate(header[1:], start=1):
            if name == "" and all(len(r) <= i or r[i] == "" for r in rows[1:]):
                continue  # the ECB files end every line with a comma
            columns.append((i, _check_code(name, path, f"line 1, column {name!r}")))
        out = []
        for n, row in enumerate(rows[1:], start=2):
            day = _parse_date(row[0], path, f"line {n}, column 'Date'")
            if day > ctx.folder_date:
                raise BadInputError(
                    path,
                    f"date {day} is after the folder day {ctx.folder_date}; a rates file may "
                    "only hold days up to the day it was delivered for",
                    f"line {n}, column 'Date'",
                )
            for i, code in columns:
                text = row[i] if i < len(row) else ""
                if text.upper() in _MISSING:
                    continue
                value = _parse_rate(text, path, f"line {n}, column {code!r}")
                out.append((day, "EUR", code, 1.0 / value))
        return out

    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """``fmt="simple"`` (default): ``date,currency,rate``, base = the reporting currency.
        ``fmt="ecb"``: the ECB history form, rows must have base EUR; values = 1 / rate."""
        fmt = fmt or "simple"
        out_dir.mkdir(parents=True, exist_ok=True)
        frame = rows.copy()
        frame["rate_date"] = pd.to_datetime(frame["rate_date"]).dt.date
        if fmt == "simple":
            path = out_dir / f"fx_rates-{ctx.folder_date.isoformat()}.csv"
            simple = frame.rename(columns={"rate_date": "date"})[["date", "currency", "rate"]]
            simple.to_csv(path, index=False)
            return [path]
        if fmt == "ecb":
            if (frame["base_currency"] != "EUR").any():
                raise ValueError("fx_rates: the ECB form holds EUR-based rates only")
            frame["value"] = 1.0 / frame["rate"]
            wide = frame.pivot(index="rate_date", columns="currency", values="value")
            wide = wide.sort_index(ascending=False)
            path = out_dir / "eurofxref-hist.csv"
            lines = ["Date," + ",".join(wide.columns) + ","]
            for day, values in wide.iterrows():
                cells = ["N/A" if pd.isna(v) else repr(float(v)) for v in values]
                lines.append(f"{day.isoformat()}," + ",".join(cells) + ",")
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return [path]
        raise ValueError(f"fx_rates: unknown format {fmt!r}; use 'simple' or 'ecb'")


SOURCE = FxRatesSource()
