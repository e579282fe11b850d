"""TikTok Ads delivery -> canonical ``ad_delivery`` rows.

The form is the Reporting API's ``/open_api/v1.3/report/integrated/get/`` response
``{"code": 0, "message": "OK", "data": {"list": [{"dimensions": {...}, "metrics": {...}}],
"page_info": {...}}}`` (see README.md): numbers as strings, mixed JSON types in one object,
``"-"`` for "not available" (read as null), entity names returned as *metrics*, and
``code != 0`` for a failed request (rejected with TikTok's message).
"""

from __future__ import annotations

import json
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
    default_account_id,
    finish_ad_delivery,
    format_units,
    load_json,
    micros_to_units,
    parse_day,
    parse_number,
    plain_number,
    read_text,
    to_micros,
)
from pipelines.sources.base import ParseContext, Source

PLATFORM = "tiktok_ads"
DEFAULT_CONVERSION_METRIC = "conversion"
DEFAULT_VALUE_METRIC = "total_purchase_value"


class TikTokAdsSource(Source):
    name: ClassVar[str] = PLATFORM
    table = AD_DELIVERY
    description = "TikTok Ads: Reporting API report/integrated/get JSON"
    patterns = ("*.json",)

    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        doc = load_json(path, read_text(path))
        pages = doc if isinstance(doc, list) else [doc]
        conv_metric = str(ctx.options.get("conversion_metric", DEFAULT_CONVERSION_METRIC))
        value_metric = str(ctx.options.get("conversion_value_metric", DEFAULT_VALUE_METRIC))
        records = []
        for p, page in enumerate(pages):
            if not isinstance(page, dict):
                raise BadInputError(
                    path, "not a TikTok report response (expected an object)", f"page {p + 1}"
                )
            code = page.get("code", 0)
            if str(code) != "0":
                raise BadInputError(
                    path,
                    f"the file holds a failed TikTok API response (code {code}): "
                    f"{page.get('message')!s}; fix the request and download the report again",
                )
            data = page.get("data")
            rows = data.get("list") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise BadInputError(
                    path,
                    "not a TikTok report response (no data.list); re-download the report",
                    f"page {p + 1}" if len(pages) > 1 else None,
                )
            for i, item in enumerate(rows):
                where = f"page {p + 1}, data.list[{i}]" if len(pages) > 1 else f"data.list[{i}]"
                records.append(self._record(path, item, where, ctx, conv_metric, value_metric))
        return finish_ad_delivery(path, records, ctx.folder_date, AD_DELIVERY)

    def _record(
        self,
        path: Path,
        item: Any,
        where: str,
        ctx: ParseContext,
        conv_metric: str,
        value_metric: str,
    ) -> dict[str, Any]:
        if not isinstance(item, dict) or not isinstance(item.get("metrics"), dict):
            raise BadInputError(path, "a report row has no 'metrics' object", where)
        dims = item.get("dimensions") if isinstance(item.get("dimensions"), dict) else {}
        metrics = item["metrics"]

        def get(key: str) -> Any:
            val = dims.get(key)
            return metrics.get(key) if val is None else val

        stamp = dims.get("stat_time_day") or dims.get("stat_time_hour")
        if not stamp:
            raise BadInputError(
                path,
                "missing required dimension 'stat_time_day'; request the report with "
                'dimensions ["ad_id", "stat_time_day"]',
                where,
            )
        if "spend" not in metrics:
            raise BadInputError(
                path, "missing required metric 'spend'; add spend to the report's metrics", where
            )

        def num(key: str) -> Decimal | None:
            return parse_number(metrics.get(key), path, f"{where}, metric {key!r}")

        def count(key: str) -> int | None:
            v = num(key)
            if v is not None and v != v.to_integral_value():
                raise BadInputError(path, f"{key} {v} is not a whole number", where)
            return None if v is None else int(v)

        acct = account_digits(get("advertiser_id")) or default_account_id(ctx.options)
        opts = account_options(ctx.options, acct)
        in_utc = bool(ctx.options.get("report_in_utc"))
        conv = num(conv_metric)
        value = num(value_metric)
        rec: dict[str, Any] = {
            "_where": where,
            "platform": PLATFORM,
            "account_id": acct,
            "account_name": clean_text(get("advertiser_name")) or opts.get("name"),
            "account_timezone": clean_text(get("timezone")) or opts.get("timezone"),
            "account_currency": clean_text(get("currency")) or opts.get("currency"),
            "spend_date": parse_day(stamp, path, f"{where}, dimension 'stat_time_day'"),
            "date_basis": "utc" if in_utc else "account_tz",
            "campaign_id": clean_id(get("campaign_id")),
            "campaign_name": clean_text(get("campaign_name")),
            "ad_group_id": clean_id(get("adgroup_id")),
            "ad_group_name": clean_text(get("adgroup_name")),
            "ad_id": clean_id(get("ad_id")),
            "ad_name": clean_text(get("ad_name")),
            "impressions": count("impressions"),
            "clicks": count("clicks"),
            "spend_micros": to_micros(num("spend")),
            "platform_conversions": None if conv is None else float(conv),
            "platform_conversion_value": None if value is None else float(value),
            "conversion_definition": f"tiktok:{conv_metric}",
        }
        rec["link_clicks"] = rec["clicks"]
        if not rec["account_currency"]:
            raise BadInputError(
                path,
                f"account currency unknown for advertiser {acct}: add the 'currency' metric to "
                "the report or set sources.tiktok_ads.accounts.<advertiser_id>.currency",
                where,
            )
        return rec

    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """Write one day's rows as ``report/integrated/get`` responses, one per advertiser.

        Numbers are strings except ``campaign_id`` (a JSON number, as TikTok mixes types);
        null metrics are written as ``"-"``.
        """
        if fmt not in (None, "api"):
            raise ValueError(f"unknown tiktok_ads format {fmt!r}; use api")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        by_account: dict[str, list[dict[str, Any]]] = {}
        for r in canonical_records(rows):
            by_account.setdefault(str(r["account_id"]), []).append(r)
        paths = []
        for acct, items in by_account.items():
            day = pd.Timestamp(items[0]["spend_date"]).date()
            rows_out = [_api_row(r, day) for r in items]
            doc = {
                "code": 0,
                "message": "OK",
                "request_id": f"{day:%Y%m%d}0000{acct}",
                "data": {
                    "list": rows_out,
                    "page_info": {
                        "page": 1,
                        "page_size": 1000,
                        "total_number": len(rows_out),
                        "total_page": 1,
                    },
                },
            }
            p = out_dir / f"tiktok_ads_{acct}_{day:%Y%m%d}.json"
            p.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
            paths.append(p)
        return paths


def _api_row(r: dict[str, Any], day: Any) -> dict[str, Any]:
    def s(value: Any, money: bool = False) -> str:
        if value is None:
            return "-"
        return format_units(value) if money else plain_number(value)

    spend = None if r.get("spend_micros") is None else micros_to_units(r["spend_micros"])
    cid = r.get("campaign_id")
    metrics: dict[str, Any] = {
        "spend": s(spend, money=True),
        "impressions": s(r.get("impressions")),
        "clicks": s(r.get("clicks")),
        "conversion": s(r.get("platform_conversions")),
        "total_purchase_value": s(r.get("platform_conversion_value"), money=True),
        "campaign_id": int(cid) if cid is not None and str(cid).isdigit() else cid,
        "campaign_name": r.get("campaign_name"),
        "adgroup_id": r.get("ad_group_id"),
        "adgroup_name": r.get("ad_group_name"),
        "ad_name": r.get("ad_name"),
        "currency": r.get("account_currency"),
        "advertiser_id": str(r["account_id"]),
    }
    if r.get("account_name"):
        metrics["advertiser_name"] = r["account_name"]
    if r.get("account_timezone"):
        metrics["timezone"] = r["account_timezone"]
    return {
        "dimensions": {"ad_id": r.get("ad_id"), "stat_time_day": f"{day.isoformat()} 00:00:00"},
        "metrics": metrics,
    }


SOURCE = TikTokAdsSource()
