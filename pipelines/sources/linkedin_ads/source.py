"""LinkedIn Ads delivery -> canonical ``ad_delivery`` rows.

The form is the ``/rest/adAnalytics`` response ``{"elements": [...]}`` (Analytics finder with
one pivot, or Statistics finder with up to three): each element has a ``dateRange`` of
``{year, month, day}`` objects and ``pivotValues`` URNs such as
``urn:li:sponsoredCreative:123``. adAnalytics returns no names and no hierarchy, so the file
(or the source options) may carry an ``entities`` block that maps creatives to campaigns,
campaigns to campaign groups and accounts, and gives names and the account currency; see
README.md. Canonical mapping: campaign group -> campaign, campaign -> ad group,
creative -> ad.
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
    load_json,
    micros_to_units,
    parse_number,
    plain_number,
    read_text,
    to_micros,
)
from pipelines.sources.base import ParseContext, Source

PLATFORM = "linkedin_ads"
# Mirrors attribution.yml (sources.linkedin_ads.conversion_metrics): Fivetran's default.
DEFAULT_CONVERSION_METRICS = ("externalWebsiteConversions", "oneClickLeads")
VALUE_METRIC = "conversionValueInLocalCurrency"

# URN entity type -> (entities block key, canonical level)
URN_TYPES = {
    "sponsoredAccount": ("accounts", "account"),
    "sponsoredCampaignGroup": ("campaignGroups", "campaign"),
    "sponsoredCampaign": ("campaigns", "ad_group"),
    "sponsoredCreative": ("creatives", "ad"),
}
_KIND_TYPE = {kind: t for t, (kind, _) in URN_TYPES.items()}


def conversion_metrics(options: dict[str, Any]) -> tuple[str, ...]:
    metrics = options.get("conversion_metrics")
    if metrics is None:
        return DEFAULT_CONVERSION_METRICS
    if isinstance(metrics, str):
        metrics = [metrics]
    return tuple(str(m) for m in metrics)


def _urn_type(value: Any) -> str | None:
    text = str(value)
    if text.startswith("urn:li:"):
        parts = text.split(":")
        return parts[2] if len(parts) >= 4 else None
    return None


def _entities(path: Path, *blocks: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """Entity blocks -> {kind: {numeric id: object}}; later blocks win.

    Each kind (``accounts``, ``campaignGroups``, ``campaigns``, ``creatives``) is a list of
    API objects with an ``id`` (number or URN) or a mapping keyed by URN / id.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in _KIND_TYPE}
    for block in blocks:
        if block is None:
            continue
        if not isinstance(block, dict):
            raise BadInputError(path, "'entities' must be an object of entity lists", "entities")
        for kind, items in block.items():
            if kind not in out:
                continue  # unknown extra entity kinds never break a load
            pairs: list[tuple[Any, Any]]
            if isinstance(items, dict):
                pairs = list(items.items())
            elif isinstance(items, list):
                pairs = [(o.get("id") if isinstance(o, dict) else None, o) for o in items]
            else:
                raise BadInputError(
                    path, f"entities.{kind} must be a list or an object", "entities"
                )
            for key, obj in pairs:
                ident = clean_id(key)
                if ident is None or not isinstance(obj, dict):
                    raise BadInputError(
                        path, f"an entities.{kind} entry has no id or is not an object", "entities"
                    )
                out[kind][ident] = obj
    return out


class LinkedInAdsSource(Source):
    name: ClassVar[str] = PLATFORM
    table = AD_DELIVERY
    description = "LinkedIn Ads: adAnalytics JSON (creative pivot) with optional entities block"
    patterns = ("*.json",)

    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        doc = load_json(path, read_text(path))
        pages = doc if isinstance(doc, list) else [doc]
        metrics = conversion_metrics(ctx.options)
        records = []
        for p, page in enumerate(pages):
            if not isinstance(page, dict) or not isinstance(page.get("elements"), list):
                msg = page.get("message") if isinstance(page, dict) else None
                if msg:
                    raise BadInputError(
                        path,
                        f"the file holds a LinkedIn API error (status {page.get('status')}): "
                        f"{msg}; fix the request and download the report again",
                    )
                raise BadInputError(
                    path,
                    "not a LinkedIn adAnalytics response (expected an object with an 'elements' "
                    "list); re-download the report",
                    f"page {p + 1}" if len(pages) > 1 else None,
                )
            ents = _entities(path, ctx.options.get("entities"), page.get("entities"))
            for i, el in enumerate(page["elements"]):
                where = f"page {p + 1}, elements[{i}]" if len(pages) > 1 else f"elements[{i}]"
                records.append(self._record(path, el, where, ents, ctx, metrics))
        return finish_ad_delivery(path, records, ctx.folder_date, AD_DELIVERY)

    def _record(
        self,
        path: Path,
        el: Any,
        where: str,
        ents: dict[str, dict[str, dict[str, Any]]],
        ctx: ParseContext,
        metrics: tuple[str, ...],
    ) -> dict[str, Any]:
        if not isinstance(el, dict):
            raise BadInputError(path, "an element is not an object", where)
        start, end = self._date_range(path, el, where)
        ids: dict[str, str | None] = {
            "account": None,
            "campaign": None,
            "ad_group": None,
            "ad": None,
        }
        pivots = el.get("pivotValues", el.get("pivotValue"))
        if isinstance(pivots, str):
            pivots = [pivots]
        if not isinstance(pivots, list) or not pivots:
            raise BadInputError(
                path,
                "missing required field 'pivotValues' (the creative/campaign URN); request the "
                "report with pivot=CREATIVE",
                where,
            )
        # URNs carried on the element itself (pivots, or an enrichment's inline keys).
        urns = [
            *pivots,
            el.get("creative"),
            el.get("campaign"),
            el.get("campaignGroup"),
            el.get("account"),
        ]
        for urn in urns:
            t = _urn_type(urn) if urn else None
            if t in URN_TYPES and ids[URN_TYPES[t][1]] is None:
                ids[URN_TYPES[t][1]] = clean_id(urn)
        # Walk up the hierarchy with the entities block.
        creative = ents["creatives"].get(ids["ad"] or "", {})
        if ids["ad_group"] is None and creative.get("campaign"):
            ids["ad_group"] = clean_id(creative["campaign"])
        campaign = ents["campaigns"].get(ids["ad_group"] or "", {})
        if ids["campaign"] is None and campaign.get("campaignGroup"):
            ids["campaign"] = clean_id(campaign["campaignGroup"])
        group = ents["campaignGroups"].get(ids["campaign"] or "", {})
        if ids["account"] is None:
            ids["account"] = account_digits(campaign.get("account") or group.get("account"))
        if ids["account"] is None and len(ents["accounts"]) == 1:
            ids["account"] = next(iter(ents["accounts"]))
        acct = account_digits(ids["account"]) or default_account_id(ctx.options)
        account = ents["accounts"].get(acct or "", {})
        opts = account_options(ctx.options, acct)
        currency = (
            clean_text(account.get("currency"))
            or opts.get("currency")
            or _budget_currency(campaign)
        )
        if not currency:
            raise BadInputError(
                path,
                f"account currency unknown for account {acct}: add entities.accounts with a "
                "currency to the file or set sources.linkedin_ads.accounts.<id>.currency",
                where,
            )

        def num(field: str) -> Decimal | None:
            return parse_number(el.get(field), path, f"{where}, field {field!r}")

        def count(field: str) -> int | None:
            v = num(field)
            if v is not None and v != v.to_integral_value():
                raise BadInputError(path, f"{field} {v} is not a whole number", where)
            return None if v is None else int(v)

        if el.get("costInLocalCurrency") is None:
            raise BadInputError(
                path,
                "missing required field 'costInLocalCurrency'; add it to the report's fields",
                where,
            )
        del end
        conversions = sum((num(m) or Decimal(0) for m in metrics), Decimal(0))
        return {
            "_where": where,
            "platform": PLATFORM,
            "account_id": acct,
            "account_name": clean_text(account.get("name")) or opts.get("name"),
            "account_timezone": opts.get("timezone"),
            "account_currency": currency,
            "spend_date": start,
            "date_basis": str(ctx.options.get("date_basis", "unknown")),
            "campaign_id": ids["campaign"],
            "campaign_name": clean_text(group.get("name")),
            "ad_group_id": ids["ad_group"],
            "ad_group_name": clean_text(campaign.get("name")),
            "ad_id": ids["ad"],
            "ad_name": clean_text(creative.get("name")),
            "impressions": count("impressions") or 0,
            "clicks": count("clicks") or 0,
            "link_clicks": count("landingPageClicks"),
            "spend_micros": to_micros(num("costInLocalCurrency")),
            "platform_conversions": float(conversions),
            "platform_conversion_value": float(num(VALUE_METRIC) or 0),
            "conversion_definition": "linkedin:" + "+".join(metrics),
        }

    def _date_range(self, path: Path, el: dict[str, Any], where: str) -> tuple[Any, Any]:
        import datetime as dt

        rng = el.get("dateRange")
        if not isinstance(rng, dict) or not isinstance(rng.get("start"), dict):
            raise BadInputError(
                path,
                "missing required field 'dateRange.start'; request the report with "
                "timeGranularity=DAILY",
                where,
            )
        days = []
        for part in ("start", "end"):
            d = rng.get(part) or rng["start"]
            try:
                days.append(dt.date(int(d["year"]), int(d["month"]), int(d["day"])))
            except (KeyError, TypeError, ValueError) as exc:
                raise BadInputError(
                    path, f"dateRange.{part} {d!r} is not a {{year, month, day}} date", where
                ) from exc
        if days[0] != days[1]:
            raise BadInputError(
                path,
                f"the element covers {days[0]} to {days[1]}, not one day; request the report "
                "with timeGranularity=DAILY",
                where,
            )
        return days[0], days[1]

    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """Write one day's canonical rows as adAnalytics JSON, one file per account.

        ``fmt``: ``api`` (default; Analytics finder, pivot CREATIVE, plus the ``entities``
        enrichment block) or ``statistics`` (Statistics finder, pivots CAMPAIGN_GROUP,
        CAMPAIGN, CREATIVE, entities only for names and currency). Conversions go to the
        first configured conversion metric; ``costInUsd`` is written for USD accounts only.
        """
        fmt = fmt or "api"
        if fmt not in ("api", "statistics"):
            raise ValueError(f"unknown linkedin_ads format {fmt!r}; use api or statistics")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        metrics = conversion_metrics(ctx.options)
        by_account: dict[str, list[dict[str, Any]]] = {}
        for r in canonical_records(rows):
            by_account.setdefault(str(r["account_id"]), []).append(r)
        paths = []
        for acct, items in by_account.items():
            day = pd.Timestamp(items[0]["spend_date"]).date()
            doc = _document(items, day, metrics, fmt == "statistics")
            p = out_dir / f"linkedin_ads_{acct}_{day:%Y%m%d}.json"
            p.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
            paths.append(p)
        return paths


def _budget_currency(campaign: dict[str, Any]) -> str | None:
    for key in ("dailyBudget", "totalBudget", "unitCost"):
        money = campaign.get(key)
        if isinstance(money, dict) and money.get("currencyCode"):
            return str(money["currencyCode"])
    return None


def _maybe_int(value: Any) -> Any:
    """Ids of adCampaigns / adCampaignGroups / adAccounts are JSON numbers in the API."""
    return int(value) if str(value).isdigit() else value


def _document(
    items: list[dict[str, Any]], day: Any, metrics: tuple[str, ...], statistics: bool
) -> dict[str, Any]:
    date = {"year": day.year, "month": day.month, "day": day.day}
    acct = str(items[0]["account_id"])
    acct_urn = f"urn:li:sponsoredAccount:{acct}"
    elements = []
    groups: dict[str, dict[str, Any]] = {}
    campaigns: dict[str, dict[str, Any]] = {}
    creatives: dict[str, dict[str, Any]] = {}
    for r in items:
        creative_urn = f"urn:li:sponsoredCreative:{r['ad_id']}"
        campaign_urn = f"urn:li:sponsoredCampaign:{r['ad_group_id']}"
        group_urn = f"urn:li:sponsoredCampaignGroup:{r['campaign_id']}"
        pivots = [group_urn, campaign_urn, creative_urn] if statistics else [creative_urn]
        el: dict[str, Any] = {
            "dateRange": {"start": date, "end": date},
            "pivotValues": pivots,
            "impressions": int(r.get("impressions") or 0),
            "clicks": int(r.get("clicks") or 0),
            "costInLocalCurrency": plain_number(micros_to_units(r.get("spend_micros") or 0)),
        }
        if r.get("link_clicks") is not None:
            el["landingPageClicks"] = int(r["link_clicks"])
        if r.get("account_currency") == "USD":
            el["costInUsd"] = el["costInLocalCurrency"]
        conv = r.get("platform_conversions") or 0
        for j, m in enumerate(metrics):
            v = conv if j == 0 else 0
            el[m] = int(v) if float(v).is_integer() else float(v)
        el[VALUE_METRIC] = plain_number(r.get("platform_conversion_value") or 0)
        elements.append(el)
        groups[group_urn] = {"id": _maybe_int(r["campaign_id"]), "account": acct_urn}
        if r.get("campaign_name"):
            groups[group_urn]["name"] = r["campaign_name"]
        campaigns[campaign_urn] = {
            "id": _maybe_int(r["ad_group_id"]),
            "campaignGroup": group_urn,
            "account": acct_urn,
        }
        if r.get("ad_group_name"):
            campaigns[campaign_urn]["name"] = r["ad_group_name"]
        creatives[creative_urn] = {"id": creative_urn, "campaign": campaign_urn}
        if r.get("ad_name"):
            creatives[creative_urn]["name"] = r["ad_name"]
    account: dict[str, Any] = {"id": _maybe_int(acct), "currency": items[0].get("account_currency")}
    if items[0].get("account_name"):
        account["name"] = items[0]["account_name"]
    return {
        "elements": elements,
        "entities": {
            "accounts": [account],
            "campaignGroups": list(groups.values()),
            "campaigns": list(campaigns.values()),
            "creatives": list(creatives.values()),
        },
    }


SOURCE = LinkedInAdsSource()
