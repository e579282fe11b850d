"""Meta Ads delivery -> canonical ``ad_delivery`` rows.

Two forms, told apart by content (see README.md):

* Marketing API Insights pages ``{"data": [...], "paging": {...}}`` at ``level=ad`` with
  ``time_increment=1``: numbers as strings, ``actions`` / ``action_values`` arrays whose
  action types overlap (``lead`` = ``offsite_conversion.fb_pixel_lead``), so conversions are
  the sum over the configured ``conversion_action_types`` only, never over all types;
  an ``{"error": {...}}`` body is rejected with Meta's message;
* the Ads Manager "Export table data" CSV: ``Reporting starts``, ``Amount spent (USD)``
  (currency in the header), quoted thousands ``"1,250.50"``, ids often absent; the
  localised variants use ``;`` and ``1 234,56``.
"""

from __future__ import annotations

import csv
import io
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

PLATFORM = "meta_ads"
# Mirrors attribution.yml (sources.meta_ads.conversion_action_types), used when the
# options carry no list (Fivetran's default selection).
DEFAULT_ACTION_TYPES = (
    "offsite_conversion.fb_pixel_purchase",
    "offsite_conversion.fb_pixel_lead",
    "offsite_conversion.fb_pixel_custom",
    "onsite_conversion.lead_grouped",
    "onsite_conversion.purchase",
)

# Ads Manager column labels (normalised: lower case) -> field; English, German and French
# exports (the translations are from public fixtures, see README).
UI_COLUMNS = {
    "reporting starts": "date_start",
    "reporting ends": "date_stop",
    "day": "date_start",
    "account id": "account_id",
    "account name": "account_name",
    "currency": "account_currency",
    "campaign name": "campaign_name",
    "campaign id": "campaign_id",
    "ad set name": "adset_name",
    "ad set id": "adset_id",
    "ad name": "ad_name",
    "ad id": "ad_id",
    "amount spent": "spend",
    "impressions": "impressions",
    "clicks (all)": "clicks",
    "link clicks": "link_clicks",
    "results": "results",
    "result indicator": "result_indicator",
    "result type": "result_indicator",
    # German
    "beginn des berichtszeitraums": "date_start",
    "ende des berichtszeitraums": "date_stop",
    "tag": "date_start",
    "konto-id": "account_id",
    "kontoname": "account_name",
    "währung": "account_currency",
    "name der kampagne": "campaign_name",
    "kampagnen-id": "campaign_id",
    "name der anzeigengruppe": "adset_name",
    "anzeigengruppen-id": "adset_id",
    "name der anzeige": "ad_name",
    "anzeigen-id": "ad_id",
    "ausgegebener betrag": "spend",
    "impressionen": "impressions",
    "klicks (alle)": "clicks",
    "link-klicks": "link_clicks",
    "ergebnisse": "results",
    "ergebnisindikator": "result_indicator",
    # French
    "début des rapports": "date_start",
    "fin des rapports": "date_stop",
    "jour": "date_start",
    "identifiant du compte": "account_id",
    "nom du compte": "account_name",
    "devise": "account_currency",
    "nom de la campagne": "campaign_name",
    "identifiant de la campagne": "campaign_id",
    "nom de l’ensemble de publicités": "adset_name",
    "nom de l'ensemble de publicités": "adset_name",
    "identifiant de l’ensemble de publicités": "adset_id",
    "identifiant de l'ensemble de publicités": "adset_id",
    "nom de la publicité": "ad_name",
    "identifiant de la publicité": "ad_id",
    "montant dépensé": "spend",
    "clics (tous)": "clicks",
    "clics sur un lien": "link_clicks",
    "résultats": "results",
    "indicateur de résultats": "result_indicator",
}

# Ads Manager columns that report one action type: label -> (action type, count|value).
UI_ACTION_COLUMNS = {
    "website purchases": ("offsite_conversion.fb_pixel_purchase", "count"),
    "website purchases conversion value": ("offsite_conversion.fb_pixel_purchase", "value"),
    "website leads": ("offsite_conversion.fb_pixel_lead", "count"),
    "website custom conversions": ("offsite_conversion.fb_pixel_custom", "count"),
    "on-facebook leads": ("onsite_conversion.lead_grouped", "count"),
    "meta leads": ("onsite_conversion.lead_grouped", "count"),
    "on-facebook purchases": ("onsite_conversion.purchase", "count"),
    "on-facebook purchases conversion value": ("onsite_conversion.purchase", "value"),
    "purchases": ("omni_purchase", "count"),
    "purchases conversion value": ("omni_purchase", "value"),
    "leads": ("lead", "count"),
}


def action_types(options: dict[str, Any]) -> tuple[str, ...]:
    """The action types that count as conversions (``conversion_action_types`` option)."""
    types = options.get("conversion_action_types")
    if types is None:
        return DEFAULT_ACTION_TYPES
    if isinstance(types, str):
        types = [types]
    return tuple(str(t) for t in types)


class MetaAdsSource(Source):
    name: ClassVar[str] = PLATFORM
    table = AD_DELIVERY
    description = "Meta Ads: Insights API JSON pages, Ads Manager CSV export"

    # ------------------------------------------------------------------------- parse

    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        text = read_text(path)
        types = action_types(ctx.options)
        if looks_like_json(text):
            records = self._json(path, load_json(path, text), ctx, types)
        else:
            records = self._csv(path, text, ctx, types)
        return finish_ad_delivery(path, records, ctx.folder_date, AD_DELIVERY)

    def _json(
        self, path: Path, doc: Any, ctx: ParseContext, types: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        pages = doc if isinstance(doc, list) else [doc]
        records = []
        for p, page in enumerate(pages):
            if isinstance(page, dict) and "error" in page:
                err = (
                    page["error"] if isinstance(page["error"], dict) else {"message": page["error"]}
                )
                raise BadInputError(
                    path,
                    f"the file holds a Meta API error instead of insights: {err.get('message')} "
                    f"(type {err.get('type')}, code {err.get('code')}); fix the request and "
                    "download the report again",
                )
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise BadInputError(
                    path,
                    "not a Meta Insights response (expected an object with a 'data' list); "
                    "re-download the report",
                    f"page {p + 1}" if len(pages) > 1 else None,
                )
            for i, row in enumerate(page["data"]):
                where = f"page {p + 1}, data[{i}]" if len(pages) > 1 else f"data[{i}]"
                if not isinstance(row, dict):
                    raise BadInputError(path, "an insights row is not an object", where)
                records.append(self._json_record(path, row, where, ctx, types))
        return records

    def _json_record(
        self,
        path: Path,
        row: dict[str, Any],
        where: str,
        ctx: ParseContext,
        types: tuple[str, ...],
    ) -> dict[str, Any]:
        if not row.get("date_start"):
            raise BadInputError(
                path,
                "missing required field 'date_start'; request the insights with time_increment=1",
                where,
            )
        start = parse_day(row["date_start"], path, f"{where}, field 'date_start'")
        stop = parse_day(row.get("date_stop") or row["date_start"], path, f"{where}, 'date_stop'")
        if stop != start:
            raise BadInputError(
                path,
                f"the row covers {start} to {stop}, not one day; request the insights with "
                "time_increment=1",
                where,
            )

        def num(field: str) -> Decimal | None:
            return parse_number(row.get(field), path, f"{where}, field {field!r}")

        rec: dict[str, Any] = {
            "_where": where,
            "platform": PLATFORM,
            "spend_date": start,
            "date_basis": "account_tz",
            "account_id": account_digits(row.get("account_id")) or default_account_id(ctx.options),
            "account_name": clean_text(row.get("account_name")),
            "account_currency": clean_text(row.get("account_currency")),
            "account_timezone": clean_text(row.get("timezone_name")),
            "campaign_id": clean_id(row.get("campaign_id")),
            "campaign_name": clean_text(row.get("campaign_name")),
            "ad_group_id": clean_id(row.get("adset_id")),
            "ad_group_name": clean_text(row.get("adset_name")),
            "ad_id": clean_id(row.get("ad_id")),
            "ad_name": clean_text(row.get("ad_name")),
        }
        rec["impressions"] = _count(path, num("impressions"), where, "impressions") or 0
        rec["clicks"] = _count(path, num("clicks"), where, "clicks") or 0
        link = num("inline_link_clicks")
        rec["link_clicks"] = (
            None
            if "inline_link_clicks" not in row
            else _count(path, link or Decimal(0), where, "inline_link_clicks")
        )
        rec["spend_micros"] = to_micros(num("spend") or Decimal(0))
        counts = _action_sums(path, row.get("actions"), f"{where}, field 'actions'")
        values = _action_sums(path, row.get("action_values"), f"{where}, field 'action_values'")
        rec["platform_conversions"] = float(
            sum((counts.get(t, Decimal(0)) for t in types), Decimal(0))
        )
        rec["platform_conversion_value"] = float(
            sum((values.get(t, Decimal(0)) for t in types), Decimal(0))
        )
        rec["conversion_definition"] = "meta:" + "+".join(types)
        _account_defaults(path, rec, ctx, where)
        return rec

    def _csv(
        self, path: Path, text: str, ctx: ParseContext, types: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        labels = [*UI_COLUMNS, *UI_ACTION_COLUMNS, "amount spent (usd)"]
        header, body, delim = read_report(path, text, labels, min_hits=2)
        decimal_comma = str(ctx.options.get("decimal", "," if delim == ";" else ".")) == ","
        cols: dict[str, int] = {}
        action_cols: dict[int, tuple[str, str]] = {}
        header_currency = None
        for i, label in enumerate(header):
            base, code = currency_from_header(label)
            key = normalise_label(base)
            field = UI_COLUMNS.get(key)
            if field and field not in cols:
                cols[field] = i
                if field == "spend":
                    header_currency = code
            elif key in UI_ACTION_COLUMNS:
                action_cols[i] = UI_ACTION_COLUMNS[key]
        for field, label in (
            ("date_start", "Reporting starts"),
            ("spend", "Amount spent (<currency>)"),
            ("impressions", "Impressions"),
        ):
            if field not in cols:
                raise BadInputError(
                    path,
                    f"missing required column {label!r}; add it to the Ads Manager export "
                    "(with the Day breakdown)",
                    "header",
                )
        if not {"campaign_id", "campaign_name", "adset_id", "adset_name", "ad_id", "ad_name"} & set(
            cols
        ):
            raise BadInputError(
                path,
                "missing required column 'Campaign name' (or an ad set / ad column); export at "
                "campaign, ad set or ad level",
                "header",
            )
        records = []
        for line, cells in body:
            if is_totals_row(cells):
                continue

            def cell(field: str, cells: list[str] = cells) -> str | None:
                return cells[cols[field]] if field in cols else None

            names = [
                cell(f)
                for f in (
                    "campaign_id",
                    "campaign_name",
                    "adset_id",
                    "adset_name",
                    "ad_id",
                    "ad_name",
                )
            ]
            if all(clean_text(n) is None for n in names):
                continue  # Ads Manager's summary row: no entity, only totals
            where = f"line {line}"

            def num(field: str, where: str = where, cells: list[str] = cells) -> Decimal | None:
                label = header[cols[field]] if field in cols else field
                return parse_number(
                    cell(field, cells),
                    path,
                    f"{where}, column {label!r}",
                    decimal_comma=decimal_comma,
                )

            start = parse_day(
                cell("date_start"), path, f"{where}, column {header[cols['date_start']]!r}"
            )
            if "date_stop" in cols and clean_text(cell("date_stop")):
                stop = parse_day(cell("date_stop"), path, f"{where}, column 'Reporting ends'")
                if stop != start:
                    raise BadInputError(
                        path,
                        f"the row covers {start} to {stop}, not one day; export with the Day "
                        "breakdown",
                        where,
                    )
            rec: dict[str, Any] = {
                "_where": where,
                "platform": PLATFORM,
                "spend_date": start,
                "date_basis": "account_tz",
                "account_id": account_digits(cell("account_id")) or default_account_id(ctx.options),
                "account_name": clean_text(cell("account_name")),
                "account_currency": clean_text(cell("account_currency")) or header_currency,
                "account_timezone": None,
                "campaign_name": clean_text(cell("campaign_name")),
                "ad_group_name": clean_text(cell("adset_name")),
                "ad_name": clean_text(cell("ad_name")),
            }
            # Exports without id columns: stable ids from the names under their parent.
            rec["campaign_id"] = clean_id(cell("campaign_id")) or (
                derived_id(rec["account_id"], rec["campaign_name"])
                if rec["campaign_name"]
                else None
            )
            rec["ad_group_id"] = clean_id(cell("adset_id")) or (
                derived_id(rec["campaign_id"], rec["ad_group_name"])
                if rec["ad_group_name"]
                else None
            )
            rec["ad_id"] = clean_id(cell("ad_id")) or (
                derived_id(rec["ad_group_id"], rec["ad_name"]) if rec["ad_name"] else None
            )
            rec["impressions"] = _count(path, num("impressions"), where, "Impressions") or 0
            link = num("link_clicks") if "link_clicks" in cols else None
            rec["link_clicks"] = _count(path, link, where, "Link clicks")
            if "clicks" in cols:
                rec["clicks"] = _count(path, num("clicks"), where, "Clicks (all)") or 0
            else:
                rec["clicks"] = rec["link_clicks"] or 0  # no "Clicks (all)": see README
            rec["spend_micros"] = to_micros(num("spend") or Decimal(0))
            counts: dict[str, Decimal] = {}
            values: dict[str, Decimal] = {}
            for i, (atype, kind) in action_cols.items():
                v = parse_number(
                    cells[i], path, f"{where}, column {header[i]!r}", decimal_comma=decimal_comma
                ) or Decimal(0)
                target = counts if kind == "count" else values
                target[atype] = target.get(atype, Decimal(0)) + v
            indicator = clean_text(cell("result_indicator"))
            if indicator and "results" in cols:
                atype = indicator.split(":", 1)[1] if ":" in indicator else indicator
                if atype not in counts:
                    counts[atype] = num("results") or Decimal(0)
            rec["platform_conversions"] = float(
                sum((counts.get(t, Decimal(0)) for t in types), Decimal(0))
            )
            rec["platform_conversion_value"] = float(
                sum((values.get(t, Decimal(0)) for t in types), Decimal(0))
            )
            rec["conversion_definition"] = "meta:" + "+".join(types)
            _account_defaults(path, rec, ctx, where)
            records.append(rec)
        return records

    # ------------------------------------------------------------------------- write

    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """Write one day's canonical rows as Meta files, one per ad account.

        ``fmt``: ``api`` (default; an Insights page with overlapping action types) or
        ``ui`` (Ads Manager CSV export with ids, currency in the header, thousands commas).
        Conversions are written under the first action type of the row's
        ``conversion_definition`` (else of the configured list), duplicated under the
        overlapping ``omni_*`` / plain types a real response carries.
        """
        fmt = fmt or "api"
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        by_account: dict[str, list[dict[str, Any]]] = {}
        for r in canonical_records(rows):
            by_account.setdefault(str(r["account_id"]), []).append(r)
        paths = []
        for acct, items in by_account.items():
            day = pd.Timestamp(items[0]["spend_date"]).date()
            stem = f"meta_ads_act_{acct}_{day:%Y%m%d}"
            if fmt == "api":
                p = out_dir / f"{stem}.json"
                page = {
                    "data": [_api_row(r, day, action_types(ctx.options)) for r in items],
                    "paging": {"cursors": {"before": "MAZDZD", "after": f"M{len(items)}ZD"}},
                }
                p.write_text(json.dumps(page, indent=2, ensure_ascii=False), encoding="utf-8")
            elif fmt == "ui":
                p = out_dir / f"{stem}_export.csv"
                p.write_text(_ui_text(items, day, action_types(ctx.options)), encoding="utf-8")
            else:
                raise ValueError(f"unknown meta_ads format {fmt!r}; use api or ui")
            paths.append(p)
        return paths


def _count(path: Path, value: Decimal | None, where: str, what: str) -> int | None:
    if value is None:
        return None
    if value != value.to_integral_value():
        raise BadInputError(path, f"{what} {value} is not a whole number", where)
    return int(value)


def _action_sums(path: Path, actions: Any, where: str) -> dict[str, Decimal]:
    """``[{action_type, value, 7d_click, ...}]`` -> {action_type: value} (the default window)."""
    if actions is None:
        return {}
    if not isinstance(actions, list):
        raise BadInputError(path, "expected a list of {action_type, value} objects", where)
    out: dict[str, Decimal] = {}
    for j, act in enumerate(actions):
        if not isinstance(act, dict) or "action_type" not in act:
            raise BadInputError(path, "an action has no 'action_type'", f"{where}[{j}]")
        v = parse_number(act.get("value"), path, f"{where}[{j}], 'value'") or Decimal(0)
        out[str(act["action_type"])] = out.get(str(act["action_type"]), Decimal(0)) + v
    return out


def _account_defaults(path: Path, rec: dict[str, Any], ctx: ParseContext, where: str) -> None:
    opts = account_options(ctx.options, rec.get("account_id"))
    rec["account_currency"] = rec.get("account_currency") or opts.get("currency")
    rec["account_timezone"] = rec.get("account_timezone") or opts.get("timezone")
    rec["account_name"] = rec.get("account_name") or opts.get("name")
    if not rec["account_currency"]:
        raise BadInputError(
            path,
            f"account currency unknown for account {rec.get('account_id')}: request the "
            "account_currency field (API), keep the currency in the 'Amount spent' header (UI), "
            "or set sources.meta_ads.accounts.<id>.currency",
            where,
        )


_OVERLAPS = {
    "offsite_conversion.fb_pixel_purchase": ("purchase", "omni_purchase"),
    "offsite_conversion.fb_pixel_lead": ("lead",),
    "onsite_conversion.purchase": ("omni_purchase",),
    "onsite_conversion.lead_grouped": ("lead",),
}


def _row_type(r: dict[str, Any], configured: tuple[str, ...]) -> str:
    definition = str(r.get("conversion_definition") or "")
    if definition.startswith("meta:") and definition[5:]:
        return definition[5:].split("+")[0]
    return configured[0] if configured else DEFAULT_ACTION_TYPES[0]


def _api_row(r: dict[str, Any], day: Any, configured: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "account_id": str(r["account_id"]),
        "account_name": r.get("account_name"),
        "account_currency": r.get("account_currency"),
        "campaign_id": r.get("campaign_id"),
        "campaign_name": r.get("campaign_name"),
        "adset_id": r.get("ad_group_id"),
        "adset_name": r.get("ad_group_name"),
        "ad_id": r.get("ad_id"),
        "ad_name": r.get("ad_name"),
        "impressions": str(int(r.get("impressions") or 0)),
        "clicks": str(int(r.get("clicks") or 0)),
        "spend": plain_number(micros_to_units(r.get("spend_micros") or 0)),
    }
    if r.get("link_clicks") is not None:
        row["inline_link_clicks"] = str(int(r["link_clicks"]))
    if r.get("account_timezone"):
        row["timezone_name"] = r["account_timezone"]
    row = {k: v for k, v in row.items() if v is not None}
    atype = _row_type(r, configured)
    conv = r.get("platform_conversions") or 0
    value = r.get("platform_conversion_value") or 0
    actions = []
    if r.get("link_clicks"):
        actions.append({"action_type": "link_click", "value": str(int(r["link_clicks"]))})
    values = []
    if conv:
        for t in (atype, *_OVERLAPS.get(atype, ())):
            n = plain_number(conv)
            actions.append({"action_type": t, "value": n, "7d_click": n})
    if value:
        for t in (atype, *_OVERLAPS.get(atype, ())):
            n = plain_number(value)
            values.append({"action_type": t, "value": n, "7d_click": n})
    if actions:
        row["actions"] = actions
    if values:
        row["action_values"] = values
    row["date_start"] = row["date_stop"] = day.isoformat()
    return row


def _ui_label_for(atype: str, kind: str) -> str | None:
    for label, (t, k) in UI_ACTION_COLUMNS.items():
        if t == atype and k == kind and label not in ("meta leads",):
            return label.capitalize().replace("facebook", "Facebook")
    return None


def _ui_text(items: list[dict[str, Any]], day: Any, configured: tuple[str, ...]) -> str:
    """Ads Manager export: currency in the spend header, quoted thousands, a summary row."""
    currency = items[0].get("account_currency") or "USD"
    atype = _row_type(items[0], configured)
    if any(r.get("platform_conversion_value") for r in items):
        # Only some action types have a value column: report under the first one that does.
        definition = str(items[0].get("conversion_definition") or "")
        types = definition[5:].split("+") if definition.startswith("meta:") else configured
        atype = next((t for t in types if _ui_label_for(t, "value")), atype)
    value_label = _ui_label_for(atype, "value")
    header = [
        "Reporting starts",
        "Reporting ends",
        "Account ID",
        "Account name",
        "Campaign name",
        "Campaign ID",
        "Ad set name",
        "Ad set ID",
        "Ad name",
        "Ad ID",
        f"Amount spent ({currency})",
        "Impressions",
        "Clicks (all)",
        "Link clicks",
        "Results",
        "Result indicator",
    ]
    if value_label:
        header.append(value_label)
    header.append("Attribution setting")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    body = []
    for r in items:
        spend = micros_to_units(r.get("spend_micros") or 0)
        row = [
            day.isoformat(),
            day.isoformat(),
            str(r["account_id"]),
            r.get("account_name") or "",
            r.get("campaign_name") or "",
            r.get("campaign_id") or "",
            r.get("ad_group_name") or "",
            r.get("ad_group_id") or "",
            r.get("ad_name") or "",
            r.get("ad_id") or "",
            format_units(spend, thousands=True),
            f"{int(r.get('impressions') or 0):,}",
            f"{int(r.get('clicks') or 0):,}",
            "" if r.get("link_clicks") is None else f"{int(r['link_clicks']):,}",
            plain_number(r.get("platform_conversions") or 0),
            f"actions:{atype}",
        ]
        if value_label:
            row.append(format_units(r.get("platform_conversion_value") or 0, thousands=True))
        row.append("7-day click or 1-day view")
        body.append(row)
    for row in body:
        w.writerow(row)
    total = sum(micros_to_units(r.get("spend_micros") or 0) for r in items)
    summary = ["" for _ in header]
    summary[0] = summary[1] = day.isoformat()
    summary[10] = format_units(total, thousands=True)
    summary[11] = f"{sum(int(r.get('impressions') or 0) for r in items):,}"
    w.writerow(summary)  # Ads Manager's total row: no entity columns
    return buf.getvalue()


SOURCE = MetaAdsSource()
