"""Read what the report shows from the PUBLISHED marts (read-only) and the run state.

Everything here returns plain JSON-ready structures (str, int, float, None, lists,
dicts): the page's script draws the charts from them. Each chart's data is either a
dict with ``"available": True`` and its series, or ``{"available": False, "reason": ...}``
naming the mart that is missing from this publication, so a mart still being built by
the warehouse never breaks the report.

Ratios (CPA, ROAS, CTR) are always ratios of sums, computed after aggregation; a zero
divisor gives ``None`` (shown as a dash), never infinity.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.config import Settings

DEFAULT_MODEL = "last_touch"
MAX_FATIGUED_ADS = 8
MAX_LOG_ROWS = 10
MAX_GATE_FAILURES = 10
ROLLING_DAYS = 7

# Marts the report reads; the optional ones may be missing from a publication.
KPI_MART = "mart_kpi_daily"
SPEND_MART = "fct_ad_spend_daily"
PERFORMANCE_MART = "fct_channel_performance_daily"
CONVERSIONS_MART = "fct_attributed_conversions"
RECONCILIATION_MART = "mart_platform_reconciliation"
CREATIVE_MART = "mart_creative_performance"
LTV_MART = "mart_customer_ltv"
MODEL_COMPARISON_MART = "mart_model_comparison"
PUBLICATION_LOG = "publication_log"


def _plain(value: Any) -> Any:
    """A DuckDB value as a JSON-ready one (dates as ISO strings, NaN as None)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _ratio(numerator: Any, denominator: Any) -> float | None:
    n, d = _plain(numerator), _plain(denominator)
    if n is None or not d:
        return None
    return float(n) / float(d)


def _unavailable(mart: str, detail: str | None = None) -> dict[str, Any]:
    reason = detail or f"{mart} is not available in this publication."
    return {"available": False, "reason": reason}


class _Marts:
    """A read-only connection to the published database and the columns of its tables."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        rows = con.execute(
            """
            select table_name, column_name
            from information_schema.columns
            where table_schema = 'main'
            order by table_name, ordinal_position
            """
        ).fetchall()
        self.columns: dict[str, list[str]] = {}
        for table, column in rows:
            self.columns.setdefault(table, []).append(column)

    def has(self, table: str, *columns: str) -> bool:
        cols = self.columns.get(table)
        return cols is not None and all(c in cols for c in columns)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        result = self.con.execute(sql, params or []).fetchall()
        return [tuple(_plain(v) for v in row) for row in result]


def _kpi_filter(marts: _Marts, table: str) -> str:
    """One date basis only: spend is repeated under both bases (DESIGN: mart_kpi_daily)."""
    return "where date_basis = 'conversion'" if marts.has(table, "date_basis") else ""


def _models(marts: _Marts, configured: tuple[str, ...]) -> list[str]:
    """The models in the publication, in the settings' order, then any others by name."""
    if not marts.has(KPI_MART, "model"):
        return []
    found = [r[0] for r in marts.rows(f"select distinct model from {KPI_MART} order by model")]
    order = {m: i for i, m in enumerate(configured)}
    return sorted(found, key=lambda m: (order.get(m, len(order)), m))


def _channel_model(marts: _Marts) -> dict[str, Any]:
    needed = ("model", "channel", "spend", "attributed_conversions", "attributed_value")
    if not marts.has(KPI_MART, *needed):
        return _unavailable(KPI_MART)
    rows = marts.rows(
        f"""
        select
            model,
            coalesce(channel, '(none)') as channel,
            sum(spend),
            sum(impressions),
            sum(clicks),
            sum(attributed_conversions),
            sum(attributed_value),
        from {KPI_MART}
        {_kpi_filter(marts, KPI_MART)}
        group by all
        order by model, sum(spend) desc nulls last, sum(attributed_conversions) desc, channel
        """
    )
    out = []
    for model, channel, spend, impressions, clicks, conversions, value in rows:
        out.append(
            {
                "model": model,
                "channel": channel,
                "spend": spend or 0.0,
                "impressions": impressions or 0,
                "clicks": clicks or 0,
                "conversions": conversions or 0.0,
                "value": value or 0.0,
                "cpa": _ratio(spend, conversions) if spend else None,
                "roas": _ratio(value, spend),
            }
        )
    channels: list[str] = []
    for r in sorted(out, key=lambda r: (-(r["spend"] or 0), -(r["conversions"] or 0))):
        if r["channel"] not in channels:
            channels.append(r["channel"])
    return {"available": bool(out), "rows": out, "channels": channels} | (
        {} if out else {"reason": f"{KPI_MART} has no rows in this publication."}
    )


def _daily(marts: _Marts) -> dict[str, Any]:
    if not marts.has(KPI_MART, "report_date", "model", "spend", "attributed_conversions"):
        return _unavailable(KPI_MART)
    rows = marts.rows(
        f"""
        select
            model,
            report_date,
            sum(spend),
            sum(attributed_conversions),
            sum(attributed_value),
        from {KPI_MART}
        {_kpi_filter(marts, KPI_MART)}
        group by all
        order by model, report_date
        """
    )
    per_model: dict[str, list[tuple[Any, ...]]] = {}
    for model, *rest in rows:
        per_model.setdefault(model, []).append(tuple(rest))
    by_model: dict[str, dict[str, list[Any]]] = {}
    for model, days in per_model.items():
        series: dict[str, list[Any]] = {
            k: [] for k in ("dates", "cpa", "roas", "cpa_7d", "roas_7d")
        }
        for i, (day, spend, conversions, value) in enumerate(days):
            series["dates"].append(day)
            series["cpa"].append(_ratio(spend, conversions) if spend else None)
            series["roas"].append(_ratio(value, spend))
            # Trailing 7 calendar days (this day and the 6 before), as ratios of sums.
            start = date.fromisoformat(day) - timedelta(days=ROLLING_DAYS - 1)
            window = [d for d in days[: i + 1] if date.fromisoformat(d[0]) >= start]
            w_spend = sum(d[1] or 0 for d in window)
            w_conv = sum(d[2] or 0 for d in window)
            w_value = sum(d[3] or 0 for d in window)
            series["cpa_7d"].append(_ratio(w_spend, w_conv) if w_spend else None)
            series["roas_7d"].append(_ratio(w_value, w_spend))
        by_model[model] = series
    if not by_model:
        return _unavailable(KPI_MART, f"{KPI_MART} has no rows in this publication.")
    return {"available": True, "models": by_model}


def _funnel(marts: _Marts, channel_model: dict[str, Any]) -> dict[str, Any]:
    if not marts.has(SPEND_MART, "impressions", "clicks") or not channel_model["available"]:
        return _unavailable(SPEND_MART if not marts.has(SPEND_MART) else KPI_MART)
    ((impressions, clicks),) = marts.rows(
        f"select coalesce(sum(impressions), 0), coalesce(sum(clicks), 0) from {SPEND_MART}"
    )
    paid = {r["channel"] for r in channel_model["rows"] if (r["spend"] or 0) > 0}
    conversions: dict[str, float] = {}
    for r in channel_model["rows"]:
        if r["channel"] in paid:
            conversions[r["model"]] = conversions.get(r["model"], 0.0) + (r["conversions"] or 0)
    total = None
    if marts.has(CONVERSIONS_MART, "conversion_id"):
        ((total,),) = marts.rows(f"select count(distinct conversion_id) from {CONVERSIONS_MART}")
    return {
        "available": True,
        "impressions": impressions,
        "clicks": clicks,
        "paid_conversions": conversions,
        "all_conversions": total,
    }


def _reconciliation(marts: _Marts, models: list[str]) -> dict[str, Any]:
    """Platform-reported vs first-party attributed conversions per platform (and model)."""
    cols = marts.columns.get(RECONCILIATION_MART, [])
    reported = next((c for c in cols if c == "platform_conversions"), None) or next(
        (c for c in cols if "platform" in c and "conversions" in c and "value" not in c), None
    )
    first_party = next(
        (
            c
            for c in ("attributed_conversions", "first_party_conversions")
            if c in cols and c != reported
        ),
        None,
    )
    if "platform" in cols and reported and first_party:
        group = "model" if "model" in cols else None
        rows = marts.rows(
            f"""
            select {group or "null"}, platform, sum({reported}), sum({first_party}),
            from {RECONCILIATION_MART}
            where platform is not null
            group by all
            order by platform
            """
        )
        by_model: dict[str, dict[str, Any]] = {}
        for model, platform, rep, fp in rows:
            for m in [model] if group else models or ["all"]:
                entry = by_model.setdefault(m, {"platforms": [], "reported": [], "first_party": []})
                entry["platforms"].append(platform)
                entry["reported"].append(rep or 0.0)
                entry["first_party"].append(fp or 0.0)
        return {
            "available": bool(by_model),
            "source": RECONCILIATION_MART,
            "models": by_model,
            "reason": f"{RECONCILIATION_MART} has no rows in this publication.",
        }

    perf = PERFORMANCE_MART if marts.has(PERFORMANCE_MART, "platform", "model") else KPI_MART
    if not marts.has(SPEND_MART, "platform", "platform_conversions") or not marts.has(
        perf, "platform", "model", "attributed_conversions"
    ):
        return _unavailable(
            RECONCILIATION_MART,
            f"{RECONCILIATION_MART} is not available in this publication, and neither are the "
            f"{SPEND_MART}.platform_conversions it could be derived from.",
        )
    reported_rows = marts.rows(
        f"""
        select platform, sum(platform_conversions)
        from {SPEND_MART}
        where platform is not null
        group by all
        order by platform
        """
    )
    fp_rows = marts.rows(
        f"""
        select model, platform, sum(attributed_conversions)
        from {perf}
        {_kpi_filter(marts, perf)} {"and" if marts.has(perf, "date_basis") else "where"}
            platform is not null
        group by all
        """
    )
    platforms = [p for p, _ in reported_rows]
    reported_by = {p: v or 0.0 for p, v in reported_rows}
    fp_by: dict[tuple[str, str], float] = {(m, p): v or 0.0 for m, p, v in fp_rows}
    by_model = {
        m: {
            "platforms": platforms,
            "reported": [reported_by[p] for p in platforms],
            "first_party": [fp_by.get((m, p), 0.0) for p in platforms],
        }
        for m in models
    }
    return {
        "available": bool(platforms and by_model),
        "source": f"derived from {SPEND_MART} and {perf}",
        "models": by_model,
        "reason": f"{SPEND_MART} has no platform rows in this publication.",
    }


def _creative(marts: _Marts) -> dict[str, Any]:
    cols = marts.columns.get(CREATIVE_MART)
    if cols is None:
        return _unavailable(CREATIVE_MART)
    day = next((c for c in ("performance_date", "report_date", "spend_date") if c in cols), None)
    day = day or next((c for c in cols if c.endswith("_date")), None)
    flag = next((c for c in cols if c.startswith("is_") and "fatig" in c), None)
    if "ad_id" not in cols or day is None or flag is None:
        return _unavailable(
            CREATIVE_MART,
            f"{CREATIVE_MART} has no ad_id, date or is_*fatigue* column the report can read.",
        )
    if {"impressions", "clicks"} <= set(cols):
        ctr = "sum(clicks) / nullif(sum(impressions), 0)"
    elif "ctr" in cols:
        ctr = "avg(ctr)"
    else:
        return _unavailable(CREATIVE_MART, f"{CREATIVE_MART} has neither ctr nor clicks.")
    name = "any_value(ad_name)" if "ad_name" in cols else "null"
    platform = "any_value(platform)" if "platform" in cols else "null"
    weight = "sum(impressions)" if "impressions" in cols else "count(*)"
    # Days since launch: the mart's own column, else days since the ad's first row.
    since = "min(days_since_launch)" if "days_since_launch" in cols else "null"
    rows = marts.rows(
        f"""
        with fatigued as (
            select ad_id, {weight} as weight
            from {CREATIVE_MART}
            group by ad_id
            having bool_or(coalesce({flag}, false))
            order by weight desc, ad_id
            limit {MAX_FATIGUED_ADS}
        ),
        daily as (
            select
                ad_id,
                {day} as day,
                {name} as ad_name,
                {platform} as platform,
                {since} as days_since_launch,
                {ctr} as ctr,
            from {CREATIVE_MART}
            where ad_id in (select ad_id from fatigued)
            group by ad_id, {day}
        ),
        final as (
            select
                ad_id,
                ad_name,
                platform,
                coalesce(
                    days_since_launch,
                    date_diff('day', min(day) over (partition by ad_id), day)
                ) as days_since_launch,
                ctr,
            from daily
        )
        select * from final order by ad_id, days_since_launch
        """
    )
    ads: dict[str, dict[str, Any]] = {}
    for ad_id, ad_name, plat, since_days, value in rows:
        label = ad_name or ad_id
        if plat:
            label = f"{label} ({plat})"
        ad = ads.setdefault(str(ad_id), {"label": label, "points": []})
        ad["points"].append([since_days, value])
    if not ads:
        return _unavailable(CREATIVE_MART, "No ad is flagged as fatigued in this publication.")
    return {"available": True, "ads": list(ads.values()), "flag": flag}


def _ltv(marts: _Marts) -> dict[str, Any]:
    cols = marts.columns.get(LTV_MART)
    if cols is None:
        return _unavailable(LTV_MART)
    channel = next((c for c in ("first_channel", "channel") if c in cols), None)
    ratio = next((c for c in cols if "ltv" in c and "cac" in c), None)
    if channel is None or ratio is None:
        return _unavailable(LTV_MART, f"{LTV_MART} has no channel or LTV:CAC column.")
    mean = (
        f"sum({ratio} * customers) / nullif(sum(case when {ratio} is not null "
        "then customers end), 0)"
        if "customers" in cols
        else f"avg({ratio})"
    )
    rows = marts.rows(
        f"""
        select {channel}, {mean}
        from {LTV_MART}
        group by all
        having {mean} is not null
        order by 2 desc
        """
    )
    if not rows:
        return _unavailable(LTV_MART, f"{LTV_MART} has no LTV:CAC values in this publication.")
    return {
        "available": True,
        "column": ratio,
        "channels": [r[0] for r in rows],
        "values": [r[1] for r in rows],
    }


def _data_dates(marts: _Marts) -> dict[str, Any]:
    spans = []
    if marts.has(SPEND_MART, "spend_date"):
        spans += marts.rows(f"select min(spend_date), max(spend_date) from {SPEND_MART}")
    if marts.has(KPI_MART, "report_date"):
        spans += marts.rows(f"select min(report_date), max(report_date) from {KPI_MART}")
    firsts = [a for a, _ in spans if a]
    lasts = [b for _, b in spans if b]
    return {"first": min(firsts) if firsts else None, "last": max(lasts) if lasts else None}


def _freshness(marts: _Marts) -> list[dict[str, Any]]:
    """The latest day per source: each ad platform's spend, and the first-party events."""
    out = []
    if marts.has(SPEND_MART, "platform", "spend_date"):
        for platform, latest, days in marts.rows(
            f"""
            select platform, max(spend_date), count(distinct spend_date)
            from {SPEND_MART}
            group by all
            order by platform
            """
        ):
            out.append({"source": platform, "what": "ad spend", "latest": latest, "days": days})
    if marts.has(CONVERSIONS_MART, "conversion_date"):
        ((latest, days),) = marts.rows(
            f"select max(conversion_date), count(distinct conversion_date) from {CONVERSIONS_MART}"
        )
        out.append({"source": "events", "what": "conversions", "latest": latest, "days": days})
    if marts.has(CONVERSIONS_MART, "touched_at"):
        ((latest, days),) = marts.rows(
            f"""
            select max(cast(touched_at as date)), count(distinct cast(touched_at as date))
            from {CONVERSIONS_MART}
            """
        )
        out.append({"source": "events", "what": "touchpoints", "latest": latest, "days": days})
    newest = max((f["latest"] for f in out if f["latest"]), default=None)
    for f in out:
        f["lag_days"] = (
            (date.fromisoformat(newest[:10]) - date.fromisoformat(f["latest"][:10])).days
            if newest and f["latest"]
            else None
        )
    return out


def _publication_log(marts: _Marts) -> list[dict[str, Any]]:
    cols = marts.columns.get(PUBLICATION_LOG)
    if not cols:
        return []
    order = next((c for c in ("attempted_at", "logged_at", "published_at") if c in cols), None)
    order_by = f"order by {order} desc" if order else ""
    quoted = ", ".join(f'"{c}"' for c in cols)
    rows = marts.rows(f"select {quoted} from {PUBLICATION_LOG} {order_by} limit {MAX_LOG_ROWS}")
    return [dict(zip(cols, r, strict=True)) for r in rows]


def read_gate_state(settings: Settings) -> dict[str, Any] | None:
    """The last gate result from ``state/gate.json``, tolerant of its exact shape."""
    path = settings.paths.state / "gate.json"
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"passed": None, "problem": f"{path.name} could not be read ({exc})."}
    if not isinstance(raw, dict):
        return {"passed": None, "problem": f"{path.name} is not a JSON object."}
    failures = raw.get("failures") or []
    if not isinstance(failures, list):
        failures = [failures]
    items = []
    for f in failures[:MAX_GATE_FAILURES]:
        if isinstance(f, dict):
            where = f.get("table") or ""
            what = f.get("expectation") or f.get("name") or "failed expectation"
            items.append(f"{what}{' on ' + str(where) if where else ''}: {f.get('detail') or ''}")
        else:
            items.append(str(f))
    passed = raw.get("passed")
    return {
        "passed": passed if isinstance(passed, bool) else None,
        "run_id": _plain(raw.get("run_id")),
        "checked_at": _plain(raw.get("checked_at")),
        "build_id": _plain(raw.get("build_id")),
        "failure_count": len(failures),
        "failures": [s.rstrip(": ") for s in items],
        "warning_count": len(raw["warnings"]) if isinstance(raw.get("warnings"), list) else None,
    }


def collect(settings: Settings) -> dict[str, Any]:
    """Everything the report shows, as one JSON-ready dict."""
    reports = settings.paths.reports
    payload: dict[str, Any] = {
        "currency": settings.reporting.currency,
        "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "gate": read_gate_state(settings),
        "links": {
            "data_docs": (reports / "data-docs" / "index.html").exists(),
            "dbt_docs": (reports / "dbt-docs" / "index.html").exists(),
        },
    }
    db: Path = settings.paths.published_db
    if not db.exists():
        reason = "Nothing is published yet: run `attribution run` or `attribution demo`."
        return payload | {
            "published": False,
            "reason": reason,
            "models": [],
            "default_model": None,
            "tables": [],
            "data_dates": {"first": None, "last": None},
            "freshness": [],
            "publication_log": [],
            "charts": {
                name: {"available": False, "reason": reason}
                for name in (
                    "channel_model",
                    "daily",
                    "funnel",
                    "reconciliation",
                    "creative",
                    "ltv",
                )
            },
        }
    with duckdb.connect(str(db), read_only=True) as con:
        marts = _Marts(con)
        models = _models(marts, tuple(settings.attribution.models))
        channel_model = _channel_model(marts)
        charts = {
            "channel_model": channel_model,
            "daily": _daily(marts),
            "funnel": _funnel(marts, channel_model),
            "reconciliation": _reconciliation(marts, models),
            "creative": _creative(marts),
            "ltv": _ltv(marts),
        }
        return payload | {
            "published": True,
            "models": models,
            "default_model": DEFAULT_MODEL if DEFAULT_MODEL in models else next(iter(models), None),
            "tables": sorted(marts.columns),
            "data_dates": _data_dates(marts),
            "freshness": _freshness(marts),
            "publication_log": _publication_log(marts),
            "charts": charts,
        }
