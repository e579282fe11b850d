"""Google Ads delivery -> canonical ``ad_delivery`` rows.

Three forms, told apart by content (see README.md):

* GAQL ``Search`` / ``SearchStream`` REST JSON (``results[]``, or a top-level list of
  stream batches), lowerCamelCase keys, int64 values as JSON strings, zero fields omitted;
* a flat CSV whose headers are GAQL field names (``segments.date``, ``metrics.cost_micros``);
* the Google Ads UI download: report-name and date-range lines above display-name headers
  (``Day``, ``Campaign ID``, ``Impr.``, ``Cost``, ``Conv. value``), ``--`` for empty,
  thousands separators, totals rows, maybe a BOM or UTF-16 tab-separated text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from pipelines.canonical import AD_DELIVERY
from pipelines.errors import BadInputError
from pipelines.sources._formats import (
    account_digits,
    account_options,
    canonical_records,
    clean_id,
    clean_text,
    currency_from_header,
    default_account_id,
    derived_id,
    finish_ad_delivery,
    format_units,
    is_totals_row,
    load_json,
    looks_like_json,
    micros_to_units,
    normalise_label,
    parse_day,
    parse_number,
    plain_number,
    read_report,
    read_text,
    to_micros,
)
from pipelines.sources.base import ParseContext, Source

PLATFORM = "google_ads"
DEFINITION = "google:conversions"

# GAQL fields (snake_case dotted, as in the query) -> canonical columns.
DIMENSIONS = {
    "segments.date": "spend_date",
    "customer.id": "account_id",
    "customer.descriptive_name": "account_name",
    "customer.currency_code": "account_currency",
    "customer.time_zone": "account_timezone",
    "campaign.id": "campaign_id",
    "campaign.name": "campaign_name",
    "ad_group.id": "ad_group_id",
    "ad_group.name": "ad_group_name",
    "ad_group_ad.ad.id": "ad_id",
    "ad_group_ad.ad.name": "ad_name",
}
METRICS = {
    "metrics.impressions": "impressions",
    "metrics.clicks": "clicks",
    "metrics.cost_micros": "spend_micros",
    "metrics.conversions": "platform_conversions",
    "metrics.conversions_value": "platform_conversion_value",
}

# UI display names (lower-cased) -> canonical columns; "spend" is Cost in currency units.
UI_COLUMNS = {
    "day": "spend_date",
    "date": "spend_date",
    "customer id": "account_id",
    "account": "account_name",
    "account name": "account_name",
    "currency code": "account_currency",
    "currency": "account_currency",
    "time zone": "account_timezone",
    "campaign": "campaign_name",
    "campaign id": "campaign_id",
    "ad group": "ad_group_name",
    "ad group id": "ad_group_id",
    "ad id": "ad_id",
    "ad name": "ad_name",
    "impr.": "impressions",
    "impressions": "impressions",
    "clicks": "clicks",
    "cost": "spend",
    "conversions": "platform_conversions",
    "conv. value": "platform_conversion_value",
    "conversion value": "platform_conversion_value",
    "conversions value": "platform_conversion_value",
}
_GAQL_NAME = re.compile(r"^[A-Za-z_]+(\.[A-Za-z_]+)+$")
_RANGE = re.compile(r"^\s*(?P<a>.+?)\s+[-–]\s+(?P<b>.+?)\s*$")


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()


def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"adGroupAd": {"ad": {"id": "1"}}}`` -> ``{"ad_group_ad.ad.id": "1"}``."""
    out: dict[str, Any] = {}
    for key, val in obj.items():
        name = f"{prefix}{_snake(key)}"
        if isinstance(val, dict):
            out.update(_flatten(val, name + "."))
        else:
            out[name] = val
    return out


class GoogleAdsSource(Source):
    name: ClassVar[str] = PLATFORM
    table = AD_DELIVERY
    description = "Google Ads: GAQL REST JSON, GAQL-header CSV, UI CSV download"
    patterns = ("*.json", "*.csv", "*.tsv")

    # ------------------------------------------------------------------------- parse

    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        text = read_text(path)
        if looks_like_json(text):
            rows = self._json_rows(path, load_json(path, text))
            records = [self._gaql_record(path, flat, where, ctx) for flat, where in rows]
        else:
            header, body, delim = read_report(
                path, text, [*DIMENSIONS, *METRICS, *UI_COLUMNS], min_hits=2
            )
            if any(_GAQL_NAME.match(h.strip()) for h in header):
                records = self._gaql_csv(path, header, body, ctx)
            else:
                records = self._ui_csv(path, text, header, body, delim, ctx)
        return finish_ad_delivery(path, records, ctx.folder_date, AD_DELIVERY)

    def _json_rows(self, path: Path, doc: Any) -> list[tuple[dict[str, Any], str]]:
        batches = doc if isinstance(doc, list) else [doc]
        rows = []
        for b, batch in enumerate(batches):
            if not isinstance(batch, dict):
                raise BadInputError(
                    path,
                    "not a Google Ads Search/SearchStream response (expected objects with "
                    "'results'); re-download the API response",
                    f"batch {b + 1}",
                )
            if "error" in batch:
                err = batch["error"]
                msg = err.get("message") if isinstance(err, dict) else err
                raise BadInputError(path, f"the file holds an API error: {msg}; re-run the query")
            results = batch.get("results", [])
            if not isinstance(results, list):
                raise BadInputError(path, "'results' is not a list", f"batch {b + 1}")
            for i, res in enumerate(results):
                where = f"batch {b + 1}, results[{i}]" if len(batches) > 1 else f"results[{i}]"
                if not isinstance(res, dict):
                    raise BadInputError(path, "a result is not an object", where)
                rows.append((_flatten(res), where))
        return rows

    def _gaql_record(
        self, path: Path, flat: dict[str, Any], where: str, ctx: ParseContext
    ) -> dict[str, Any]:
        """One GAQL row (flattened, snake_case) -> a canonical record."""
        if "segments.date" not in flat or flat["segments.date"] in (None, ""):
            raise BadInputError(
                path,
                "missing required field segments.date; add segments.date to the query so "
                "each row is one day",
                where,
            )
        rec: dict[str, Any] = {"_where": where, "platform": PLATFORM, "date_basis": "account_tz"}
        rec["spend_date"] = parse_day(flat["segments.date"], path, where)
        acct = account_digits(flat.get("customer.id"))
        if acct is None:
            for key, val in flat.items():
                if key.endswith("resource_name") and str(val).startswith("customers/"):
                    acct = account_digits(val)
                    break
        rec["account_id"] = acct or default_account_id(ctx.options)
        rec["account_name"] = clean_text(flat.get("customer.descriptive_name"))
        rec["account_currency"] = clean_text(flat.get("customer.currency_code"))
        rec["account_timezone"] = clean_text(flat.get("customer.time_zone"))
        for entity, col in (("campaign", "campaign"), ("ad_group", "ad_group")):
            rec[f"{col}_id"] = clean_id(flat.get(f"{entity}.id")) or clean_id(
                flat.get(f"{entity}.resource_name")
            )
            rec[f"{col}_name"] = clean_text(flat.get(f"{entity}.name"))
        ad_id = clean_id(flat.get("ad_group_ad.ad.id")) or clean_id(
            flat.get("ad_group_ad.ad.resource_name")
        )
        if ad_id is None and flat.get("ad_group_ad.resource_name"):
            ad_id = str(flat["ad_group_ad.resource_name"]).rsplit("~", 1)[-1]
        rec["ad_id"] = ad_id
        rec["ad_name"] = clean_text(flat.get("ad_group_ad.ad.name"))
        for field, col in METRICS.items():
            raw = flat.get(field)
            value = parse_number(raw, path, f"{where}, field {field!r}")
            if value is None:
                value = Decimal(0)  # proto3 JSON omits zero values; so do GAQL CSV exports
            if col in ("impressions", "clicks", "spend_micros"):
                if value != value.to_integral_value():
                    raise BadInputError(path, f"{field} value {raw!r} is not a whole number", where)
                rec[col] = int(value)
            else:
                rec[col] = float(value)
        rec["link_clicks"] = rec["clicks"]
        rec["conversion_definition"] = DEFINITION
        self._account_defaults(path, rec, ctx, where)
        return rec

    def _account_defaults(
        self, path: Path, rec: dict[str, Any], ctx: ParseContext, where: str
    ) -> None:
        opts = account_options(ctx.options, rec.get("account_id"))
        rec["account_currency"] = rec.get("account_currency") or opts.get("currency")
        rec["account_timezone"] = rec.get("account_timezone") or opts.get("timezone")
        rec["account_name"] = rec.get("account_name") or opts.get("name")
        if not rec["account_currency"]:
            raise BadInputError(
                path,
                f"account currency unknown for account {rec.get('account_id')}: select "
                "customer.currency_code (API) or add the 'Currency code' column (UI), or set "
                "sources.google_ads.accounts.<id>.currency",
                where,
            )

    def _gaql_csv(
        self, path: Path, header: list[str], body: list[tuple[int, list[str]]], ctx: ParseContext
    ) -> list[dict[str, Any]]:
        names = [".".join(_snake(p) for p in h.strip().split(".")) for h in header]
        for need in ("segments.date", "metrics.cost_micros"):
            if need not in names:
                raise BadInputError(
                    path,
                    f"missing required column {need!r}; add it to the query's SELECT",
                    "the header",
                )
        records = []
        for line, cells in body:
            if is_totals_row(cells):
                continue
            flat = {n: c for n, c in zip(names, cells, strict=False) if c.strip() != ""}
            records.append(self._gaql_record(path, flat, f"line {line}", ctx))
        return records

    def _ui_csv(
        self,
        path: Path,
        text: str,
        header: list[str],
        body: list[tuple[int, list[str]]],
        delim: str,
        ctx: ParseContext,
    ) -> list[dict[str, Any]]:
        decimal_comma = str(ctx.options.get("decimal", "," if delim == ";" else ".")) == ","
        cols: dict[str, int] = {}
        header_currency = None
        for i, label in enumerate(header):
            base, code = currency_from_header(label)
            col = UI_COLUMNS.get(normalise_label(base))
            if col and col not in cols:
                cols[col] = i
                if col == "spend" and code:
                    header_currency = code
        if "spend" not in cols:
            raise BadInputError(
                path, "missing required column 'Cost'; add the Cost column to the report", "header"
            )
        if "campaign_id" not in cols and "campaign_name" not in cols:
            raise BadInputError(
                path,
                "missing required column 'Campaign ID' (or 'Campaign'); add it to the report",
                "header",
            )
        range_day = None
        if "spend_date" not in cols:
            range_day = self._single_day_range(path, text)
        records = []
        for line, cells in body:
            if is_totals_row(cells):
                continue

            def cell(col: str, cells: list[str] = cells) -> str | None:
                return cells[cols[col]] if col in cols else None

            where = f"line {line}"
            rec: dict[str, Any] = {
                "_where": where,
                "platform": PLATFORM,
                "date_basis": "account_tz",
            }
            rec["spend_date"] = (
                parse_day(
                    cell("spend_date"), path, f"{where}, column {header[cols['spend_date']]!r}"
                )
                if range_day is None
                else range_day
            )
            rec["account_id"] = account_digits(cell("account_id")) or default_account_id(
                ctx.options
            )
            rec["account_name"] = clean_text(cell("account_name"))
            rec["account_currency"] = clean_text(cell("account_currency")) or header_currency
            rec["account_timezone"] = clean_text(cell("account_timezone"))
            for level in ("campaign", "ad_group", "ad"):
                rec[f"{level}_id"] = clean_id(cell(f"{level}_id"))
                rec[f"{level}_name"] = clean_text(cell(f"{level}_name"))
            # UI downloads without id columns: a stable id from the names (see README).
            if rec["campaign_id"] is None and rec["campaign_name"] is not None:
                rec["campaign_id"] = derived_id(rec["account_id"], rec["campaign_name"])
            if rec["ad_group_id"] is None and rec["ad_group_name"] is not None:
                rec["ad_group_id"] = derived_id(rec["campaign_id"], rec["ad_group_name"])
            for col in (
                "impressions",
                "clicks",
                "spend",
                "platform_conversions",
                "platform_conversion_value",
            ):
                label = header[cols[col]] if col in cols else col
                value = parse_number(
                    cell(col), path, f"{where}, column {label!r}", decimal_comma=decimal_comma
                )
                value = Decimal(0) if value is None else value  # "--": nothing to report
                if col == "spend":
                    rec["spend_micros"] = to_micros(value)
                elif col in ("impressions", "clicks"):
                    if value != value.to_integral_value():
                        raise BadInputError(
                            path,
                            f"{cell(col)!r} is not a whole number; counts must be integers",
                            f"{where}, column {label!r}",
                        )
                    rec[col] = int(value)
                else:
                    rec[col] = float(value)
            rec["link_clicks"] = rec["clicks"]
            rec["conversion_definition"] = DEFINITION
            self._account_defaults(path, rec, ctx, where)
            records.append(rec)
        return records

    def _single_day_range(self, path: Path, text: str) -> dt.date:
        """The day of a one-day report from its date-range preamble line."""
        for line in text.splitlines()[:5]:
            m = _RANGE.match(line.strip().strip('"'))
            if not m:
                continue
            try:
                a = parse_day(m.group("a"), path, "")
                b = parse_day(m.group("b"), path, "")
            except BadInputError:
                continue
            if a == b:
                return a
            raise BadInputError(
                path,
                f"missing required column 'Day': the report covers {a} to {b}; add the Day "
                "segment so each row is one day",
                "header",
            )
        raise BadInputError(
            path, "missing required column 'Day'; add the Day segment to the report", "header"
        )

    # ------------------------------------------------------------------------- write

    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """Write one day's canonical rows as Google Ads files, one per account.

        ``fmt``: ``api`` (default; SearchStream REST JSON), ``gaql_csv``, ``ui`` (UI
        download: BOM, preamble, totals row) or ``ui_excel`` (UTF-16, tab-separated).
        """
        fmt = fmt or "api"
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        recs = canonical_records(rows)
        by_account: dict[str, list[dict[str, Any]]] = {}
        for r in recs:
            by_account.setdefault(str(r["account_id"]), []).append(r)
        paths = []
        for acct, items in by_account.items():
            day = pd.Timestamp(items[0]["spend_date"]).date()
            stem = f"google_ads_{acct}_{day:%Y%m%d}"
            if fmt == "api":
                p = out_dir / f"{stem}.json"
                p.write_text(json.dumps(_search_stream(items, day), indent=2), encoding="utf-8")
            elif fmt == "gaql_csv":
                p = out_dir / f"{stem}_gaql.csv"
                p.write_text(_gaql_csv_text(items), encoding="utf-8")
            elif fmt in ("ui", "ui_excel"):
                p = out_dir / f"{stem}_ui.csv"
                if fmt == "ui":
                    p.write_text("\ufeff" + _ui_text(items, day, ","), encoding="utf-8")
                else:
                    p.write_text(_ui_text(items, day, "\t"), encoding="utf-16")
            else:
                raise ValueError(
                    f"unknown google_ads format {fmt!r}; use api, gaql_csv, ui or ui_excel"
                )
            paths.append(p)
        return paths


FIELD_MASK = (
    "customer.id,customer.descriptiveName,customer.currencyCode,customer.timeZone,campaign.id,"
    "campaign.name,adGroup.id,adGroup.name,adGroupAd.ad.id,adGroupAd.ad.name,metrics.impressions,"
    "metrics.clicks,metrics.costMicros,metrics.conversions,metrics.conversionsValue,segments.date"
)


def _search_stream(items: list[dict[str, Any]], day: dt.date) -> list[dict[str, Any]]:
    """SearchStream REST JSON: int64 as strings, zero and empty fields omitted."""
    results = []
    for r in items:
        acct = str(r["account_id"])
        customer = {"resourceName": f"customers/{acct}", "id": acct}
        for key, col in (
            ("descriptiveName", "account_name"),
            ("currencyCode", "account_currency"),
            ("timeZone", "account_timezone"),
        ):
            if r.get(col):
                customer[key] = r[col]
        res: dict[str, Any] = {"customer": customer}
        if r.get("campaign_id"):
            res["campaign"] = {
                "resourceName": f"customers/{acct}/campaigns/{r['campaign_id']}",
                "id": str(r["campaign_id"]),
            }
            if r.get("campaign_name"):
                res["campaign"]["name"] = r["campaign_name"]
        if r.get("ad_group_id"):
            res["adGroup"] = {
                "resourceName": f"customers/{acct}/adGroups/{r['ad_group_id']}",
                "id": str(r["ad_group_id"]),
            }
            if r.get("ad_group_name"):
                res["adGroup"]["name"] = r["ad_group_name"]
        if r.get("ad_id"):
            ad: dict[str, Any] = {
                "resourceName": f"customers/{acct}/ads/{r['ad_id']}",
                "id": str(r["ad_id"]),
            }
            if r.get("ad_name"):
                ad["name"] = r["ad_name"]
            res["adGroupAd"] = {
                "resourceName": f"customers/{acct}/adGroupAds/{r.get('ad_group_id')}~{r['ad_id']}",
                "ad": ad,
            }
        metrics: dict[str, Any] = {}
        for key, col, kind in (
            ("clicks", "clicks", "int64"),
            ("conversions", "platform_conversions", "double"),
            ("conversionsValue", "platform_conversion_value", "double"),
            ("costMicros", "spend_micros", "int64"),
            ("impressions", "impressions", "int64"),
        ):
            v = r.get(col)
            if v is None or v == 0:
                continue  # proto3 JSON mapping: default values are omitted
            metrics[key] = str(int(v)) if kind == "int64" else float(v)
        if metrics:
            res["metrics"] = metrics
        res["segments"] = {"date": day.isoformat()}
        results.append(res)
    return [{"results": results, "fieldMask": FIELD_MASK, "requestId": f"synth{day:%Y%m%d}"}]


_GAQL_HEADER = [
    "segments.date",
    "customer.id",
    "customer.descriptive_name",
    "customer.currency_code",
    "customer.time_zone",
    "campaign.id",
    "campaign.name",
    "ad_group.id",
    "ad_group.name",
    "ad_group_ad.ad.id",
    "ad_group_ad.ad.name",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "metrics.conversions",
    "metrics.conversions_value",
]


def _gaql_csv_text(items: list[dict[str, Any]]) -> str:
    import csv
    import io

    cols = {**{v: k for k, v in DIMENSIONS.items()}, **{v: k for k, v in METRICS.items()}}
    inverse = {field: col for col, field in cols.items()}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_GAQL_HEADER)
    for r in items:
        row = []
        for field in _GAQL_HEADER:
            v = r.get(inverse[field])
            if field == "segments.date":
                v = pd.Timestamp(v).date().isoformat()
            elif field in ("metrics.conversions", "metrics.conversions_value"):
                v = plain_number(v or 0)
            row.append("" if v is None else v)
        w.writerow(row)
    return buf.getvalue()


_UI_HEADER = [
    "Day",
    "Customer ID",
    "Account",
    "Currency code",
    "Campaign",
    "Campaign ID",
    "Ad group",
    "Ad group ID",
    "Ad ID",
    "Impr.",
    "Clicks",
    "Cost",
    "Conversions",
    "Conv. value",
]


def _dashed(acct: str) -> str:
    return f"{acct[:3]}-{acct[3:6]}-{acct[6:]}" if len(acct) == 10 else acct


def _ui_text(items: list[dict[str, Any]], day: dt.date, delim: str) -> str:
    """The UI download: report name, date range, header, rows, then totals rows."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator="\n")
    w.writerow(["Ad report"])
    w.writerow([f"{day:%B} {day.day}, {day.year} - {day:%B} {day.day}, {day.year}"])
    w.writerow(_UI_HEADER)
    totals = {
        "impressions": 0,
        "clicks": 0,
        "spend": Decimal(0),
        "conv": Decimal(0),
        "value": Decimal(0),
    }
    for r in items:
        spend = micros_to_units(r.get("spend_micros") or 0)
        conv = Decimal(str(r.get("platform_conversions") or 0))
        value = Decimal(str(r.get("platform_conversion_value") or 0))
        totals["impressions"] += int(r.get("impressions") or 0)
        totals["clicks"] += int(r.get("clicks") or 0)
        totals["spend"] += spend
        totals["conv"] += conv
        totals["value"] += value
        w.writerow(
            [
                day.isoformat(),
                _dashed(str(r["account_id"])),
                r.get("account_name") or " --",
                r.get("account_currency") or "",
                r.get("campaign_name") or " --",
                r.get("campaign_id") or " --",
                r.get("ad_group_name") or " --",
                r.get("ad_group_id") or " --",
                r.get("ad_id") or " --",
                f"{int(r.get('impressions') or 0):,}",
                f"{int(r.get('clicks') or 0):,}",
                format_units(spend, thousands=True),
                format_units(conv),
                format_units(value, thousands=True) if value else " --",
            ]
        )
    w.writerow(
        [
            "Total: Account",
            " --",
            " --",
            items[0].get("account_currency") or "",
            " --",
            " --",
            " --",
            " --",
            " --",
            f"{totals['impressions']:,}",
            f"{totals['clicks']:,}",
            format_units(totals["spend"], thousands=True),
            format_units(totals["conv"]),
            format_units(totals["value"], thousands=True),
        ]
    )
    return buf.getvalue()


SOURCE = GoogleAdsSource()
