"""Taboola Backstage campaign summary (``campaign_day_breakdown``) -> ``ad_delivery``.

The report is JSON: ``{"last-used-rawdata-update-time": ..., "timezone": ...,
"results": [{"date": "2026-03-02 00:00:00.0", "campaign": "123", "campaign_name": ...,
"impressions": ..., "clicks": ..., "spent": 12.34, "currency": "USD",
"cpa_actions_num": 3, ...}], "metadata": {"total": ..., "static_fields": [...],
"dynamic_fields": [...]}}``. Taboola has no ad groups and reports campaigns, so
``ad_group_*`` and ``ad_*`` stay null. See README.md for the account id and value rules.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from pipelines.canonical import AD_DELIVERY
from pipelines.errors import BadInputError
from pipelines.sources._formats import (
    check_currency,
    check_timezone,
    collapse_to_grain,
    decode_text,
    is_null,
    parse_decimal,
    parse_float,
    parse_int,
    to_micros,
)
from pipelines.sources.base import ParseContext, Source

REQUIRED = ("date", "campaign", "impressions", "clicks", "spent")
METRICS = (
    "impressions",
    "clicks",
    "link_clicks",
    "spend_micros",
    "platform_conversions",
    "platform_conversion_value",
)
# Zone abbreviations Backstage has been seen to print instead of IANA names.
_ZONE_ALIASES = {
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "GMT": "UTC",
    "UTC": "UTC",
}


def _day(raw: object, file: Path, where: str) -> dt.date:
    text = "" if raw is None else str(raw).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError as exc:
        raise BadInputError(
            file, f"date {raw!r} is not a date (expected 2026-03-02 00:00:00.0)", where
        ) from exc


def _text(raw: object) -> str | None:
    return None if is_null(raw) else (str(raw).strip() or None)


def _value_fields(doc: dict[str, Any], opts: dict[str, Any]) -> list[str]:
    """The conversion-value fields: the option, ``conversions_value``, else dynamic ``*value``."""
    if opts.get("value_field"):
        return [str(opts["value_field"])]
    meta = doc.get("metadata") or {}
    dynamic = [
        str(f.get("id"))
        for f in meta.get("dynamic_fields") or []
        if isinstance(f, dict) and f.get("id")
    ]
    overall = [
        f
        for f in dynamic
        if f.endswith("value") and not f.endswith(("_clicks_value", "_views_value"))
    ]
    return ["conversions_value", *overall]


class TaboolaSource(Source):
    name = "taboola"
    table = AD_DELIVERY
    description = "Taboola Backstage campaign summary (campaign_day_breakdown) JSON"
    patterns: ClassVar[tuple[str, ...]] = ("*.json",)

    # ------------------------------------------------------------------ parse
    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        path = Path(path)
        text = decode_text(path.read_bytes(), path)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInputError(
                path, f"not valid JSON ({exc.msg}); fetch the report again", f"line {exc.lineno}"
            ) from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
            raise BadInputError(
                path,
                "not a Backstage campaign-summary report: no 'results' list; request "
                "/reports/campaign-summary/dimensions/campaign_day_breakdown",
            )
        opts = ctx.options
        tz = self._timezone(doc, opts, path)
        conv_field = str(opts.get("conversions_field", "cpa_actions_num"))
        value_fields = _value_fields(doc, opts)
        out: list[dict[str, Any]] = []
        for i, row in enumerate(doc["results"]):
            where = f"results[{i}]"
            if not isinstance(row, dict):
                raise BadInputError(path, "each result must be an object", where)
            missing = [f for f in REQUIRED if f not in row]
            if missing:
                raise BadInputError(
                    path,
                    "missing required field"
                    + ("s " if len(missing) > 1 else " ")
                    + ", ".join(repr(m) for m in missing)
                    + "; use the campaign_day_breakdown dimension",
                    where,
                )
            day = _day(row["date"], path, f"{where}, field 'date'")
            if day != ctx.folder_date:
                raise BadInputError(
                    path,
                    f"date {day} is not the landing folder's day {ctx.folder_date}; "
                    "deliver one day per folder",
                    f"{where}, field 'date'",
                )
            account_id = (
                _text(row.get("account_id"))
                or _text(doc.get("account_id"))
                or _text(opts.get("account_id"))
            )
            if account_id is None:
                raise BadInputError(
                    path,
                    "no account id: the file has no 'account_id' and "
                    "sources.taboola.account_id is not set",
                    where,
                )
            currency = row.get("currency") or opts.get("currency")
            clicks = parse_int(row["clicks"], path, f"{where}, field 'clicks'")
            spent = parse_decimal(row["spent"], path, f"{where}, field 'spent'")
            value_field = next((f for f in value_fields if f in row), None)
            out.append(
                {
                    "platform": self.name,
                    "account_id": account_id,
                    "account_name": _text(row.get("content_provider_name"))
                    or _text(doc.get("account_name")),
                    "account_timezone": tz,
                    "account_currency": check_currency(
                        currency, path, f"{where}, field 'currency'"
                    ),
                    "spend_date": day,
                    "date_basis": "account_tz",
                    "campaign_id": _text(row["campaign"]),
                    "campaign_name": _text(row.get("campaign_name")),
                    "ad_group_id": None,
                    "ad_group_name": None,
                    "ad_id": None,
                    "ad_name": None,
                    "impressions": parse_int(
                        row["impressions"], path, f"{where}, field 'impressions'"
                    ),
                    "clicks": clicks,
                    "link_clicks": clicks,
                    "spend_micros": to_micros(spent) if spent is not None else 0,
                    "platform_conversions": parse_float(
                        row.get(conv_field), path, f"{where}, field {conv_field!r}"
                    ),
                    "platform_conversion_value": (
                        parse_float(row.get(value_field), path, f"{where}, field {value_field!r}")
                        if value_field
                        else None
                    ),
                    "conversion_definition": f"taboola:{conv_field}",
                }
            )
        df = pd.DataFrame(out, columns=self.table.columns)
        for col in ("impressions", "clicks", "link_clicks", "spend_micros"):
            df[col] = df[col].astype("Int64")
        for col in ("platform_conversions", "platform_conversion_value"):
            df[col] = df[col].astype("Float64")
        return collapse_to_grain(df, self.table, METRICS).reset_index(drop=True)

    @staticmethod
    def _timezone(doc: dict[str, Any], opts: dict[str, Any], path: Path) -> str | None:
        raw = opts.get("account_timezone") or doc.get("timezone")
        if is_null(raw) or raw == "":
            return None
        name = _ZONE_ALIASES.get(str(raw).strip().upper(), str(raw).strip())
        check_timezone(name, path, "field 'timezone'")
        return name

    # ------------------------------------------------------------------ write
    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """One campaign-summary JSON per account (``fmt`` is ignored: there is one form)."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        day = ctx.folder_date
        paths = []
        for account_id, group in rows.groupby("account_id", sort=True):
            tz = next((t for t in group["account_timezone"] if isinstance(t, str) and t), None)
            results = []
            for r in group.itertuples(index=False):
                spent = 0.0 if pd.isna(r.spend_micros) else int(r.spend_micros) / 1_000_000
                imps = 0 if pd.isna(r.impressions) else int(r.impressions)
                clicks = 0 if pd.isna(r.clicks) else int(r.clicks)
                conv = None if pd.isna(r.platform_conversions) else float(r.platform_conversions)
                value = (
                    None
                    if pd.isna(r.platform_conversion_value)
                    else float(r.platform_conversion_value)
                )
                item: dict[str, Any] = {
                    "date": f"{day.isoformat()} 00:00:00.0",
                    "date_end_period": f"{day.isoformat()} 00:00:00.0",
                    "campaign": str(r.campaign_id),
                    "campaign_name": r.campaign_name,
                    "clicks": clicks,
                    "impressions": imps,
                    "visible_impressions": int(imps * 0.62),
                    "spent": spent,
                    "conversions_value": value if value is not None else 0.0,
                    "roas": round(value / spent, 4) if value and spent else 0.0,
                    "ctr": round(clicks / imps * 100, 6) if imps else 0.0,
                    "vctr": round(clicks / (imps * 0.62) * 100, 6) if imps else 0.0,
                    "cpm": round(spent / imps * 1000, 6) if imps else 0.0,
                    "vcpm": round(spent / (imps * 0.62) * 1000, 6) if imps else 0.0,
                    "cpc": round(spent / clicks, 6) if clicks else 0.0,
                    "cpa": round(spent / conv, 6) if conv else 0.0,
                    "cpa_actions_num": conv if conv is not None and conv % 1 else int(conv or 0),
                    "cpa_conversion_rate": round(conv / clicks * 100, 6)
                    if conv and clicks
                    else 0.0,
                    "currency": r.account_currency,
                }
                if conv is None:
                    item.pop("cpa_actions_num")
                if value is None:
                    item.pop("conversions_value")
                    item.pop("roas")
                results.append(item)
            doc = {
                "last-used-rawdata-update-time": f"{day + dt.timedelta(days=1)} 05:00:00.0",
                "last-used-rawdata-update-time-gmt-millisec": int(
                    dt.datetime.combine(day + dt.timedelta(days=1), dt.time(5), dt.UTC).timestamp()
                    * 1000
                ),
                "timezone": tz,
                "account_id": str(account_id),
                "account_name": next(
                    (n for n in group["account_name"] if isinstance(n, str) and n), None
                ),
                "results": results,
                "recordCount": len(results),
                "metadata": {
                    "total": {},
                    "count": len(results),
                    "static_fields": [
                        {"id": k, "format": None, "data_type": None}
                        for k in (results[0].keys() if results else ())
                    ],
                    "static_total_fields": [],
                    "dynamic_fields": [],
                },
            }
            for key in ("timezone", "account_name"):
                if doc[key] is None:
                    doc.pop(key)
            path = out_dir / f"taboola_campaign_day_breakdown_{account_id}_{day:%Y-%m-%d}.json"
            path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            paths.append(path)
        return paths


SOURCE = TaboolaSource()
