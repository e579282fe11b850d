"""Affiliate transactions: Impact, Awin and CJ reports -> ``affiliate_transactions``.

One landing folder (``landing/affiliate/<day>/``) takes any of the three networks' files;
the form is detected from the content, not the file name:

- Impact Brand API ``Actions`` JSON (``{"@page": ..., "Actions": [...]}``), or the same
  fields as CSV (``Actions.csv``);
- Awin transactions JSON (a list of ``{id, orderRef, transactionDate, commissionStatus,
  saleAmount{amount,currency}, commissionAmount{...}, ...}``);
- CJ Commission Detail GraphQL response (``{"data": {"advertiserCommissions": {"records":
  [...]}}}``; ``publisherCommissions`` too).

Rows stay at transaction grain; CJ corrections stay separate negative rows
(``is_correction``) so the warehouse nets them. See README.md for the date rule and the
cost rule.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from pipelines.canonical import AFFILIATE_TRANSACTIONS
from pipelines.errors import BadInputError
from pipelines.sources._formats import decode_text, require_columns
from pipelines.sources.affiliate import networks
from pipelines.sources.base import ParseContext, Source

NETWORKS = ("impact", "awin", "cj")
FORMATS = ("impact", "impact_csv", "awin", "cj")


def _network_tz(ctx: ParseContext, network: str) -> str:
    """Zone for timestamps written without an offset (Awin's ``timezone`` parameter)."""
    opts = ctx.options
    return networks.zone(opts.get(f"{network}_timezone") or opts.get("timezone"), "UTC")


def detect(doc: object) -> str | None:
    """Which network's JSON this is: ``impact``, ``awin``, ``cj`` or ``None``."""
    if isinstance(doc, dict):
        if isinstance(doc.get("Actions"), list):
            return "impact"
        data = doc.get("data")
        if isinstance(data, dict) and any(
            k in data for k in ("advertiserCommissions", "publisherCommissions")
        ):
            return "cj"
        return None
    if isinstance(doc, list):
        if not doc:
            return "awin"
        first = doc[0]
        if isinstance(first, dict) and ("commissionStatus" in first or "saleAmount" in first):
            return "awin"
    return None


class AffiliateSource(Source):
    name = "affiliate"
    table = AFFILIATE_TRANSACTIONS
    description = "Affiliate transactions: Impact Actions, Awin transactions, CJ commissions"
    patterns: ClassVar[tuple[str, ...]] = ("*.json", "*.csv")

    # ------------------------------------------------------------------ parse
    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        path = Path(path)
        text = decode_text(path.read_bytes(), path)
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadInputError(
                    path,
                    f"not valid JSON ({exc.msg}); the download was probably cut off - "
                    "fetch it again",
                    f"line {exc.lineno}",
                ) from exc
            rows = self._parse_json(doc, path, ctx)
        elif stripped:
            rows = self._parse_impact_csv(text, path, ctx)
        else:
            raise BadInputError(path, "the file is empty; deliver the network's transaction report")
        df = pd.DataFrame(rows, columns=self.table.columns)
        self._check_dates(df, path, ctx)
        return df

    def _parse_json(self, doc: object, path: Path, ctx: ParseContext) -> list[dict[str, Any]]:
        if isinstance(doc, dict) and doc.get("errors") and not doc.get("data"):
            msgs = "; ".join(str(e.get("message", e)) for e in doc["errors"] if isinstance(e, dict))
            raise BadInputError(
                path, f"the CJ query returned errors instead of data: {msgs}; fix the query"
            )
        network = detect(doc)
        if network == "impact":
            tz = _network_tz(ctx, "impact")
            return [
                networks.read_impact(self._obj(a, path, f"Actions[{i}]"), path, f"Actions[{i}]", tz)
                for i, a in enumerate(doc["Actions"])  # type: ignore[index]
            ]
        if network == "awin":
            tz = _network_tz(ctx, "awin")
            return [
                networks.read_awin(
                    self._obj(t, path, f"transaction [{i}]"), path, f"transaction [{i}]", tz
                )
                for i, t in enumerate(doc)  # type: ignore[arg-type]
            ]
        if network == "cj":
            data = doc["data"]  # type: ignore[index]
            block = data.get("advertiserCommissions") or data.get("publisherCommissions") or {}
            records = block.get("records")
            if not isinstance(records, list):
                raise BadInputError(
                    path, "the CJ response has no 'records' list; request records { ... }"
                )
            tz = _network_tz(ctx, "cj")
            cur = ctx.options.get("cj_advertiser_currency")
            return [
                networks.read_cj(
                    self._obj(r, path, f"records[{i}]"), path, f"records[{i}]", tz, cur
                )
                for i, r in enumerate(records)
            ]
        raise BadInputError(
            path,
            "not an Impact Actions, Awin transactions or CJ commissions response "
            "(no 'Actions', 'data.advertiserCommissions' or list of transactions found)",
        )

    @staticmethod
    def _obj(item: object, path: Path, where: str) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise BadInputError(path, f"expected an object, got {type(item).__name__}", where)
        return item

    def _parse_impact_csv(self, text: str, path: Path, ctx: ParseContext) -> list[dict[str, Any]]:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [h.strip() for h in (reader.fieldnames or [])]
        if not {"Id", "State"} <= set(header):
            raise BadInputError(
                path,
                "not a recognised transaction report: a CSV must be Impact's Actions export "
                "(columns Id, EventDate, State, Payout, Currency, ...)",
            )
        require_columns(header, networks.IMPACT_REQUIRED, path)
        tz = _network_tz(ctx, "impact")
        rows = []
        for line, rec in enumerate(reader, start=2):
            clean = {(k or "").strip(): v for k, v in rec.items()}
            rows.append(networks.read_impact(clean, path, f"line {line}", tz))
        return rows

    def _check_dates(self, df: pd.DataFrame, path: Path, ctx: ParseContext) -> None:
        """Date rule: no event and no status update may be later than the folder's day.

        ``transaction_date`` is the event's day in the reporting time zone. Older events are
        expected (status updates of earlier sales arrive later); the folder's day bounds
        the latest change the file may know about.
        """
        tz = ctx.reporting_timezone
        dates = []
        for _, r in df.iterrows():
            if r["event_at"] is None or pd.isna(r["event_at"]):
                raise BadInputError(
                    path, "the transaction has no event date", f"transaction {r['transaction_id']}"
                )
            day = networks.day_in(r["event_at"], tz)
            if day > ctx.folder_date:
                raise BadInputError(
                    path,
                    f"event date {day} is after the landing folder's day {ctx.folder_date}; "
                    "land the file under the day it was exported for",
                    f"transaction {r['transaction_id']}",
                )
            upd = r["updated_at"]
            if upd is not None and not pd.isna(upd) and networks.day_in(upd, tz) > ctx.folder_date:
                raise BadInputError(
                    path,
                    f"last update {networks.day_in(upd, tz)} is after the landing folder's day "
                    f"{ctx.folder_date}; land the file under the day it was exported for",
                    f"transaction {r['transaction_id']}",
                )
            dates.append(day)
        df["transaction_date"] = dates
        if not df.empty and df["transaction_id"].isna().any():
            raise BadInputError(path, "a transaction has an empty id")

    # ------------------------------------------------------------------ write
    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """One file per network in ``rows['network']`` (or all rows as ``fmt``).

        ``fmt``: ``impact`` (Actions JSON), ``impact_csv``, ``awin`` or ``cj``.
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        if fmt is not None and fmt not in FORMATS:
            raise ValueError(f"affiliate.write: fmt must be one of {FORMATS}, not {fmt!r}")
        day = ctx.folder_date
        if fmt is not None:
            groups = [(fmt, rows)]
        else:
            groups = [(str(n), g) for n, g in rows.groupby("network", sort=True)]
        paths = []
        for form, group in groups:
            if form not in FORMATS:
                raise ValueError(f"affiliate.write: unknown network {form!r}; expected {NETWORKS}")
            if form == "impact":
                doc: object = networks.render_impact(group, _impact_write_tz(ctx))
                path = out_dir / f"impact_actions_{day:%Y-%m-%d}.json"
            elif form == "impact_csv":
                path = out_dir / f"impact_actions_{day:%Y-%m-%d}.csv"
                recs = networks.impact_records(group, _impact_write_tz(ctx))
                buf = io.StringIO()
                w = csv.DictWriter(
                    buf, fieldnames=list(networks.IMPACT_FIELDS), lineterminator="\r\n"
                )
                w.writeheader()
                w.writerows(recs)
                path.write_text(buf.getvalue(), encoding="utf-8")
                paths.append(path)
                continue
            elif form == "awin":
                doc = networks.render_awin(group, _network_tz(ctx, "awin"))
                path = out_dir / f"awin_transactions_{day:%Y-%m-%d}.json"
            else:
                doc = networks.render_cj(group)
                path = out_dir / f"cj_commissions_{day:%Y-%m-%d}.json"
            path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            paths.append(path)
        return paths


def _impact_write_tz(ctx: ParseContext) -> str:
    """Impact writes local times with their offset (the program's zone, Pacific by default)."""
    return networks.zone(ctx.options.get("impact_timezone"), "America/Los_Angeles")


SOURCE = AffiliateSource()
