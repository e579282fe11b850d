"""Shared parsing helpers for the source folders (one implementation of each format chore).

Every platform export has the same small chores: numbers written as ``"1,234.50"``,
``"--"`` or ``"-"`` for "no value", a UTF-8 byte-order mark, report preambles above the
column header and footers below the data, ISO currency codes to check, and timestamps
with or without an offset. Each chore is done here once; a source's ``source.py`` calls
these helpers and keeps only what is specific to its platform.

Every helper that can fail raises ``BadInputError(file, problem, where)`` so the message
names the file, the row/column and what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import pyarrow as pa

from pipelines.canonical import Table, conform
from pipelines.errors import BadInputError

# Strings that platforms use for "no value" in numeric cells.
NULL_TOKENS = frozenset({"", "--", "-", " --", "null", "NULL", "None", "N/A", "n/a"})

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

# Active ISO 4217 codes (fund and precious-metal codes left out: no ad platform bills in them).
_ISO_4217 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN",
    "BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD",
    "FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY",
    "KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP",
    "MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR",
    "RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS",
    "TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF",
    "YER ZAR ZMW ZWG ZWL",
)
ISO_CURRENCIES = frozenset(code for row in _ISO_4217 for code in row.split())


# ---------------------------------------------------------------------------- text and CSV


def decode_text(data: bytes, file: str | Path) -> str:
    """Bytes -> text: UTF-8 with or without a byte-order mark (UTF-16 with a BOM too)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            problem = f"the file is not valid UTF-16 text ({exc}); re-export it"
            raise BadInputError(file, problem) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(
            file,
            f"the file is not UTF-8 text (byte {exc.start}); re-export it as UTF-8 CSV or JSON",
        ) from exc


def read_text(path: Path) -> str:
    """Read a delivered text file, BOM-safe."""
    return decode_text(Path(path).read_bytes(), path)


def sniff_delimiter(line: str) -> str:
    """The delimiter of a header line: tab, semicolon or comma (the most frequent wins)."""
    counts = {d: line.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_rows(text: str, delimiter: str | None = None) -> list[list[str]]:
    """All rows of a CSV text (quoted fields, embedded newlines); delimiter sniffed if None."""
    if delimiter is None:
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        delimiter = sniff_delimiter(first)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def is_blank(row: Sequence[str]) -> bool:
    return all(not (c or "").strip() for c in row)


def find_header(
    rows: Sequence[Sequence[str]], required: Iterable[str], limit: int = 60
) -> int | None:
    """Index of the first row holding every ``required`` column name (case-insensitive).

    Rows above it are a report preamble; ``None`` when no row in the first ``limit``
    rows qualifies.
    """
    need = {r.strip().lower() for r in required}
    for i, row in enumerate(rows[:limit]):
        names = {(c or "").strip().lower() for c in row}
        if need <= names:
            return i
    return None


def require_columns(
    columns: Iterable[str], required: Iterable[str], file: str | Path, hint: str = ""
) -> None:
    """Raise naming every missing required column."""
    have = {c.strip().lower() for c in columns}
    missing = [r for r in required if r.strip().lower() not in have]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        plural = "s" if len(missing) > 1 else ""
        raise BadInputError(
            file,
            f"missing required column{plural} {names}"
            + (f"; {hint}" if hint else "; add it to the export and deliver the file again"),
        )


# ---------------------------------------------------------------------------- numbers


def is_null(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and raw != raw:  # NaN
        return True
    return isinstance(raw, str) and raw.strip() in NULL_TOKENS


def parse_decimal(raw: object, file: str | Path, where: str) -> Decimal | None:
    """A number as the platforms write it -> ``Decimal`` (``None`` for empty/``--``/``-``).

    Accepts JSON numbers, numeric strings (``"-51.826"``) and thousands separators
    (``"1,234.50"``); anything else raises naming ``where``.
    """
    if is_null(raw):
        return None
    if isinstance(raw, bool):
        raise BadInputError(file, f"{raw!r} is not a number; fix the value", where)
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    if isinstance(raw, Decimal):
        return raw
    text = str(raw).strip().strip('"').strip()
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _PLAIN.match(text):
        problem = f"{str(raw)!r} is not a number; fix the value or re-export"
        raise BadInputError(file, problem, where)
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already filtered
        raise BadInputError(file, f"{str(raw)!r} is not a number", where) from exc


def parse_float(raw: object, file: str | Path, where: str) -> float | None:
    d = parse_decimal(raw, file, where)
    return None if d is None else float(d)


def parse_int(raw: object, file: str | Path, where: str) -> int | None:
    """A count (impressions, clicks); ``"1,234"`` accepted, ``"1.5"`` rejected."""
    d = parse_decimal(raw, file, where)
    if d is None:
        return None
    if d != d.to_integral_value():
        problem = f"{str(raw)!r} is not a whole number; counts must be integers"
        raise BadInputError(file, problem, where)
    return int(d)


def to_micros(amount: Decimal | None) -> int | None:
    """Currency units -> micros (x 1,000,000), rounded half-even, exactly."""
    if amount is None:
        return None
    return int((amount * 1_000_000).to_integral_value())


def format_amount(value: float | Decimal | None, decimals: int = 2, thousands: bool = False) -> str:
    """Render money as the platforms do: fixed decimals, optional thousands commas."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    q = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals))
    return f"{q:,.{decimals}f}" if thousands else f"{q:.{decimals}f}"


# ---------------------------------------------------------------------------- codes, zones, times


def check_currency(raw: object, file: str | Path, where: str) -> str:
    """An ISO 4217 code, upper-cased; anything else raises."""
    code = "" if raw is None else str(raw).strip().upper()
    if code not in ISO_CURRENCIES:
        raise BadInputError(
            file,
            f"unknown currency {str(raw)!r}; expected an ISO 4217 code such as USD or EUR",
            where,
        )
    return code


def check_timezone(name: str, file: str | Path, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        problem = f"{name!r} is not an IANA time zone (e.g. America/New_York)"
        raise BadInputError(file, problem, where) from exc


def parse_timestamp(
    raw: object, file: str | Path, where: str, default_tz: str | ZoneInfo = "UTC"
) -> pd.Timestamp | None:
    """An ISO-like timestamp -> UTC ``Timestamp``; naive values are read in ``default_tz``.

    Accepts ``2026-03-02T10:15:00-07:00``, ``2026-03-02T17:15:00Z``, ``2026-03-02 10:15:00``,
    ``2026-03-02 10:15:00.123`` and a bare date.
    """
    if is_null(raw):
        return None
    text = str(raw).strip()
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        problem = f"{text!r} is not a date-time (expected ISO 8601)"
        raise BadInputError(file, problem, where) from exc
    if ts is pd.NaT:
        return None
    if ts.tzinfo is None:
        tz = default_tz if isinstance(default_tz, ZoneInfo) else ZoneInfo(default_tz)
        ts = ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return ts.tz_convert("UTC")


def local_date(ts: pd.Timestamp | None, tz: str) -> dt.date | None:
    return None if ts is None else ts.tz_convert(tz).date()


# ---------------------------------------------------------------------------- canonical CSVs


def write_canonical_csv(df: pd.DataFrame, path: Path, table: Table) -> Path:
    """Write canonical rows as the samples' ``*.expected.csv`` (ISO times, true/false)."""
    arrow = conform(df, table)
    out = arrow.to_pandas()
    for field in table.fields:
        col = out[field.name]
        if pa.types.is_timestamp(field.type):
            frac = any(pd.Timestamp(v).microsecond for v in col if v is not None and not pd.isna(v))
            out[field.name] = [_iso_utc(v, frac) for v in col]
        elif pa.types.is_boolean(field.type):
            out[field.name] = col.map({True: "true", False: "false"}).where(col.notna(), None)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, lineterminator="\n")
    return path


def _iso_utc(value: object, fraction: bool) -> str | None:
    """One format per column (fractions everywhere or nowhere) so any ISO reader copes."""
    if value is None or pd.isna(value):
        return None
    ts = pd.Timestamp(value).tz_convert("UTC")
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ"
    return ts.strftime(fmt)


def read_canonical_csv(path: Path, table: Table) -> pa.Table:
    """Read a samples' ``*.expected.csv`` typed as ``table`` (empty cell = null)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    data: dict[str, object] = {}
    for field in table.fields:
        if field.name not in raw.columns:
            continue
        col = raw[field.name].replace("", None)
        if pa.types.is_boolean(field.type):
            flags = {"true": True, "false": False, "True": True, "False": False}
            col = col.map(flags).astype("boolean")
        elif pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
            col = pd.to_numeric(col)
        elif pa.types.is_timestamp(field.type):
            col = pd.to_datetime(col, utc=True, format="ISO8601")
        data[field.name] = col
    return conform(pd.DataFrame(data, index=raw.index), table)


def collapse_to_grain(df: pd.DataFrame, table: Table, metrics: Sequence[str]) -> pd.DataFrame:
    """Sum rows that share the table's key (hourly rows, device or network splits).

    Metric columns add up (all-null stays null); every other column keeps its first value.
    """
    if df.empty:
        return df
    key = [k for k in table.key if k in df.columns]
    others = [c for c in df.columns if c not in key and c not in metrics]
    agg: dict[str, object] = {m: (lambda s: s.sum(min_count=1)) for m in metrics if m in df.columns}
    agg.update({c: "first" for c in others})
    out = df.groupby(key, dropna=False, sort=False, as_index=False).agg(agg)
    return out[list(df.columns)]


# ---------------------------------------------------------------------------- ad-delivery helpers
# (google_ads, meta_ads, tiktok_ads, linkedin_ads; usable by any source feeding ad_delivery)

_CURRENCY_SYMBOLS = "$€£¥₹₩₽₺₪฿₫₴₦"
_SPACES = "\u00a0\u202f\u2009\u2007 "
_CURRENCY_IN_HEADER = re.compile(r"^(?P<label>.*?)\s*\((?P<code>[A-Z]{3})\)\s*$")


def load_json(path: Path, text: str | None = None) -> object:
    """Parse a JSON file (BOM-safe); a syntax error names the line and column."""
    import json

    text = read_text(path) if text is None else text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(
            path,
            f"not valid JSON ({exc.msg}); re-download the API response",
            f"line {exc.lineno}, column {exc.colno}",
        ) from exc


def looks_like_json(text: str) -> bool:
    """True when the content (not the extension) is JSON: it starts with ``{`` or ``[``."""
    return text.lstrip().startswith(("{", "["))


def normalise_label(label: object) -> str:
    """A header label for matching: BOM, quotes and repeated spaces removed, lower case."""
    return " ".join(str(label).replace("\ufeff", "").strip().strip('"').split()).lower()


def read_report(
    path: Path,
    text: str,
    known_labels: Iterable[str],
    *,
    min_hits: int = 2,
    max_preamble: int = 15,
) -> tuple[list[str], list[tuple[int, list[str]]], str]:
    """Read a delimited UI export whose header may sit below preamble lines.

    Preamble lines may themselves hold commas (``March 2, 2026 - March 2, 2026``), so the
    delimiter is not sniffed from the first line: each of ``,``, tab and ``;`` is tried
    and the one whose first row holding at least ``min_hits`` of ``known_labels``
    (compared with ``normalise_label``) matches most labels wins. Returns ``(header,
    rows, delimiter)``; each row is ``(line_number, cells)`` (1-based physical line of
    the row's end) padded to the header's width; blank rows are dropped.
    """
    known = {normalise_label(k) for k in known_labels}
    best: tuple[int, int, str] | None = None
    for delim in (",", "\t", ";"):
        try:
            parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
        except csv.Error as exc:
            raise BadInputError(path, f"not a readable CSV file ({exc}); re-export it") from exc
        for i, row in enumerate(parsed[: max_preamble + 1]):
            hits = sum(normalise_label(c) in known for c in row)
            if hits >= min_hits:
                if best is None or hits > best[0]:
                    best = (hits, i, delim)
                break
    if best is None:
        sample = ", ".join(repr(k) for k in sorted(known)[:5])
        raise BadInputError(
            path,
            f"missing required columns: no header row with columns such as {sample} in the "
            f"first {max_preamble + 1} lines; export the report with its column headers",
        )
    _, idx, delim = best
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    for n, row in enumerate(reader):
        if n < idx:
            continue
        if n == idx:
            header = [str(c).replace("\ufeff", "").strip() for c in row]
            continue
        if is_blank(row):
            continue
        rows.append((reader.line_num, [*row, *[""] * (len(header) - len(row))]))
    return header, rows, delim


def is_totals_row(cells: Sequence[str]) -> bool:
    """A summary row: its first non-empty cell starts with ``Total`` (``Total: Account``)."""
    for c in cells:
        s = (c or "").strip().lower()
        if s:
            return s == "total" or s.startswith(("total:", "total ", "totals", "gesamt", "summe"))
    return False


def currency_from_header(label: str) -> tuple[str, str | None]:
    """Split ``Amount spent (USD)`` into (``Amount spent``, ``USD``); no code -> None."""
    m = _CURRENCY_IN_HEADER.match(label.strip())
    if m:
        return m.group("label"), m.group("code")
    return label.strip(), None


def parse_number(
    raw: object, file: str | Path, where: str, *, decimal_comma: bool = False
) -> Decimal | None:
    """``parse_decimal`` for UI cells: also currency symbols, spaces, ``(12.00)``, ``4.5%``.

    With ``decimal_comma`` (localised exports, ``;``-delimited) ``1 234,56`` and
    ``1.234,56`` read as 1234.56.
    """
    if is_null(raw) or not isinstance(raw, str):
        return parse_decimal(raw, file, where)
    text = raw.strip().strip('"').strip()
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    for ch in _CURRENCY_SYMBOLS + _SPACES + "'%":
        text = text.replace(ch, "")
    text = re.sub(r"^[A-Z]{3}(?=[\d.,-])|(?<=[\d.,])[A-Z]{3}$", "", text)
    text = text.replace(".", "").replace(",", ".") if decimal_comma else text.replace(",", "")
    if is_null(text):
        return None
    try:
        value = parse_decimal(text, file, where)
    except BadInputError:
        problem = f"{raw!r} is not a number; fix the value or re-export"
        raise BadInputError(file, problem, where) from None
    return None if value is None else (-value if negative else value)


def plain_number(value: object) -> str:
    """A number the way JSON APIs send numeric strings: ``5339.5``, ``20``, ``0.25``."""
    d = Decimal(str(value))
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def format_units(
    value: object, min_places: int = 2, max_places: int = 6, thousands: bool = False
) -> str:
    """A number as UIs show it: at least ``min_places`` decimals, more only when needed."""
    d = Decimal(str(value))
    places = min_places
    while places < max_places and d != d.quantize(Decimal(1).scaleb(-places)):
        places += 1
    return format_amount(d, places, thousands)


def micros_to_units(micros: object) -> Decimal:
    return Decimal(int(micros)) / Decimal(1_000_000)


def clean_id(value: object) -> str | None:
    """An entity id as a string: JSON ints kept exact, URN / resource-name prefixes dropped.

    ``urn:li:sponsoredCreative:123`` -> ``123``; ``customers/1/campaigns/456`` -> ``456``.
    """
    if is_null(value):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    if text.startswith("urn:"):
        text = text.rsplit(":", 1)[-1]
    elif "/" in text:
        text = text.rsplit("/", 1)[-1]
    return text or None


def account_digits(value: object) -> str | None:
    """An account id as digits only: strips ``act_``, dashes, ``customers/``, URN prefixes."""
    if isinstance(value, str) and value.strip().startswith("customers/"):
        value = value.strip().split("/")[1]
    text = clean_id(value)
    if text is None:
        return None
    text = re.sub(r"^act_", "", text, flags=re.IGNORECASE).replace("-", "").replace(" ", "")
    return text or None


def clean_text(value: object) -> str | None:
    """A name cell: ``None`` for empty / ``--`` / ``-``, else the trimmed text."""
    return None if is_null(value) else str(value).strip()


def parse_day(raw: object, file: str | Path, where: str) -> dt.date:
    """A day from ``2026-03-02``, ``2026-03-02 00:00:00``, ``20260302`` or ``Mar 2, 2026``."""
    text = "" if raw is None else str(raw).strip()
    candidates = (
        (text[:10], "%Y-%m-%d"),
        (text, "%Y%m%d"),
        (text, "%b %d, %Y"),
        (text, "%B %d, %Y"),
    )
    for value, fmt in candidates:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise BadInputError(file, f"{text!r} is not a date (expected YYYY-MM-DD)", where)


def account_options(options: dict, account_id: str | None) -> dict:
    """Per-account settings from a source's options.

    ``accounts.<id>`` (any spelling of the id, compared as digits) with keys
    ``currency``, ``timezone``, ``name`` overrides the source-wide ``currency`` and
    ``timezone``.
    """
    merged = {k: options[k] for k in ("currency", "timezone") if options.get(k) is not None}
    accounts = options.get("accounts") or {}
    if isinstance(accounts, dict) and account_id is not None:
        for key, val in accounts.items():
            if account_digits(key) == account_id and isinstance(val, dict):
                merged.update({k: v for k, v in val.items() if v is not None})
    return merged


def default_account_id(options: dict) -> str | None:
    """The account a file without ids belongs to: ``account_id``, else a sole ``accounts`` key."""
    if options.get("account_id") is not None:
        return account_digits(options["account_id"])
    accounts = options.get("accounts") or {}
    if isinstance(accounts, dict) and len(accounts) == 1:
        return account_digits(next(iter(accounts)))
    return None


_AD_SUMS = (
    "impressions",
    "clicks",
    "link_clicks",
    "spend_micros",
    "platform_conversions",
    "platform_conversion_value",
)


def finish_ad_delivery(
    path: Path, records: list[dict], folder_date: dt.date, table: Table
) -> pd.DataFrame:
    """Check parsed ``ad_delivery`` records and return them as canonical rows.

    Each record holds canonical columns plus ``_where`` (its place in the file, used in
    errors). Checks: ``spend_date`` is the landing folder's day, ``account_id`` is digits,
    ``account_currency`` an ISO code. Records sharing the table key (a breakdown such as
    device or hour) are summed; a sum stays null only when all its parts are null.
    """
    for rec in records:
        where = rec.get("_where")
        day = rec.get("spend_date")
        if day != folder_date:
            raise BadInputError(
                path,
                f"date {day} is outside the landing folder's day {folder_date}; move the file "
                "to the folder of its date or export one day per file",
                where,
            )
        acct = rec.get("account_id")
        if not acct or not str(acct).isdigit():
            raise BadInputError(
                path,
                f"account id {acct!r} is missing or not numeric; add the account id to the "
                "export or set account_id in the source options",
                where,
            )
        rec["account_currency"] = check_currency(rec.get("account_currency"), path, where)
    columns = table.columns
    df = pd.DataFrame([{c: rec.get(c) for c in columns} for rec in records], columns=columns)
    key = list(table.key)
    if len(df) and df.duplicated(subset=key).any():
        agg: dict[str, object] = {c: "first" for c in columns if c not in key and c not in _AD_SUMS}
        agg.update({c: (lambda s: s.sum(min_count=1)) for c in _AD_SUMS})
        df = df.groupby(key, dropna=False, sort=False).agg(agg).reset_index()[columns]
    for c in columns:
        if c in ("impressions", "clicks", "link_clicks", "spend_micros"):
            df[c] = df[c].astype("Int64")
        elif c in ("platform_conversions", "platform_conversion_value"):
            df[c] = df[c].astype("Float64")
    return df.reset_index(drop=True)


def derived_id(*parts: object) -> str:
    """A stable id for an entity a UI export names but does not number.

    ``name-`` + the first 16 hex digits of the SHA-256 of the parts (parent ids and the
    entity's name), so the same name under another parent gets another id and reruns
    give the same id. Never collides with a platform's numeric ids.
    """
    import hashlib

    raw = "\x1f".join("" if p is None else str(p) for p in parts)
    return "name-" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def canonical_records(rows: pd.DataFrame) -> list[dict]:
    """Canonical rows as plain dicts, pandas/NumPy nulls turned into ``None`` (for writers)."""

    def plain(v: object) -> object:
        return None if pd.api.types.is_scalar(v) and pd.isna(v) else v

    return [{k: plain(v) for k, v in rec.items()} for rec in rows.to_dict(orient="records")]
