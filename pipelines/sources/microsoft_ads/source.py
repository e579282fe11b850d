"""Microsoft Advertising: the Reporting API's ad performance report -> ``ad_delivery``.

The API's download is a ZIP holding one CSV (a bare CSV or TSV is accepted too). The CSV
has a quoted preamble (``"Report Name: ..."``, ``"Time Zone: ..."``, ``"Rows: 5"``), a
blank line, the quoted column header, the data, a blank line and a copyright footer.
FormatVersion 1.0 puts thousands commas in money columns. See README.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from pipelines.canonical import AD_DELIVERY
from pipelines.errors import BadInputError
from pipelines.sources._formats import (
    check_currency,
    collapse_to_grain,
    csv_rows,
    decode_text,
    find_header,
    format_amount,
    is_blank,
    parse_decimal,
    parse_float,
    parse_int,
    require_columns,
    to_micros,
)
from pipelines.sources.base import ParseContext, Source
from pipelines.sources.microsoft_ads.timezones import display_text, to_iana

REQUIRED = ("TimePeriod", "AccountId", "CampaignId", "Impressions", "Clicks", "Spend")
METRICS = (
    "impressions",
    "clicks",
    "link_clicks",
    "spend_micros",
    "platform_conversions",
    "platform_conversion_value",
)
WRITE_COLUMNS = (
    "TimePeriod",
    "AccountId",
    "AccountName",
    "AccountNumber",
    "CampaignId",
    "CampaignName",
    "AdGroupId",
    "AdGroupName",
    "AdId",
    "AdTitle",
    "CurrencyCode",
    "Impressions",
    "Clicks",
    "Ctr",
    "AverageCpc",
    "Spend",
    "Conversions",
    "Revenue",
)
FOOTER = "©{year} Microsoft Corporation. All rights reserved. "
_PREAMBLE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s?(.*)$")


def read_report_text(path: Path) -> str:
    """The report's text: the single CSV/TSV inside a ZIP download, or the bare file."""
    data = Path(path).read_bytes()
    if data[:4] != b"PK\x03\x04":
        return decode_text(data, path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [
                n
                for n in zf.namelist()
                if not n.endswith("/") and n.lower().endswith((".csv", ".tsv"))
            ]
            if len(names) != 1:
                raise BadInputError(
                    path,
                    f"the ZIP holds {len(names)} CSV files ({', '.join(names) or 'none'}); "
                    "deliver the report download with exactly one CSV inside",
                )
            return decode_text(zf.read(names[0]), f"{path}!{names[0]}")
    except zipfile.BadZipFile as exc:
        raise BadInputError(
            path, f"the ZIP download is damaged ({exc}); download it again"
        ) from exc


def _preamble(rows: list[list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in rows:
        cells = [c for c in row if c.strip()]
        if len(cells) != 1:
            continue
        m = _PREAMBLE.match(cells[0])
        if m:
            out[m.group(1).strip().lower()] = m.group(2).strip()
    return out


def _is_footer(row: list[str]) -> bool:
    cells = [c.strip() for c in row if c.strip()]
    return len(cells) == 1 and (
        cells[0].startswith(("©", "@", "(c)")) or "microsoft corporation" in cells[0].lower()
    )


def _time_period(raw: str, file: Path, where: str) -> dt.date:
    """``2026-03-02``, ``3/2/2026``, hourly ``2026-03-02|7`` or ``3/2/2026 12:00:00 AM|7``."""
    text = (raw or "").strip().split("|")[0].strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%Y %I:%M:%S %p"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise BadInputError(
        file, f"TimePeriod {raw!r} is not a date (expected 2026-03-02 or 3/2/2026)", where
    )


def _digits(raw: object) -> str | None:
    text = "" if raw is None else str(raw).strip()
    return re.sub(r"\D", "", text) or None


def _text(raw: object) -> str | None:
    text = "" if raw is None else str(raw).strip()
    return text or None


class MicrosoftAdsSource(Source):
    name = "microsoft_ads"
    table = AD_DELIVERY
    description = "Microsoft Advertising ad performance report (Reporting API ZIP/CSV)"
    patterns: ClassVar[tuple[str, ...]] = ("*.zip", "*.csv", "*.tsv")

    # ------------------------------------------------------------------ parse
    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        path = Path(path)
        rows = csv_rows(read_report_text(path))
        hdr = find_header(rows, ("TimePeriod",))
        if hdr is None:
            hdr = find_header(rows, ("AccountId", "Spend"))
        if hdr is None:
            raise BadInputError(
                path,
                "no column header found (expected a row with TimePeriod, AccountId, CampaignId, "
                "Impressions, Clicks, Spend); request the report with ExcludeColumnHeaders=false",
            )
        pre = _preamble(rows[:hdr])
        header = [c.strip() for c in rows[hdr]]
        require_columns(
            header,
            REQUIRED,
            path,
            "add it to the report's Columns (Aggregation Daily) and download it again",
        )
        aggregation = pre.get("report aggregation", "").lower()
        if aggregation and aggregation not in ("daily", "hourly"):
            raise BadInputError(
                path,
                f"the report aggregation is {pre['report aggregation']!r}; "
                "request Daily (or Hourly) "
                "reports, one day per landing folder",
                "preamble 'Report Aggregation'",
            )

        data: list[tuple[int, list[str]]] = []
        for idx in range(hdr + 1, len(rows)):
            row = rows[idx]
            if is_blank(row):
                continue
            if _is_footer(row):
                break
            data.append((idx + 1, row))

        if "rows" in pre:
            try:
                declared = int(pre["rows"].replace(",", ""))
            except ValueError:
                declared = None
            if declared is not None and declared != len(data):
                raise BadInputError(
                    path,
                    f"the preamble says Rows: {declared} but the file holds {len(data)} data rows; "
                    "the download looks truncated - download the report again",
                    "preamble 'Rows'",
                )

        opts = ctx.options
        conv_col = str(opts.get("conversion_column", "Conversions"))
        value_col = str(
            opts.get("value_column", "Revenue" if conv_col == "Conversions" else "AllRevenue")
        )
        tz_for = self._timezone_resolver(path, pre, opts)
        default_currency = opts.get("currency")
        if "CurrencyCode" not in header and not default_currency:
            raise BadInputError(
                path,
                "missing required column 'CurrencyCode'; add it to the report or set "
                "sources.microsoft_ads.currency in attribution.yml",
            )
        date_basis = str(opts.get("date_basis", "account_tz"))

        out: list[dict[str, Any]] = []
        for line, row in data:
            if len(row) < len(header):
                raise BadInputError(
                    path,
                    f"the row has {len(row)} fields but the header has {len(header)}; "
                    "the file looks truncated - download the report again",
                    f"line {line}",
                )
            rec = dict(zip(header, row, strict=False))

            def where(col: str, _line: int = line) -> str:
                return f"line {_line}, column {col!r}"

            day = _time_period(rec["TimePeriod"], path, where("TimePeriod"))
            if day != ctx.folder_date:
                raise BadInputError(
                    path,
                    f"TimePeriod {day} is not the landing folder's day {ctx.folder_date}; "
                    "deliver one day per folder",
                    where("TimePeriod"),
                )
            account_id = _digits(rec["AccountId"])
            if account_id is None:
                raise BadInputError(path, "AccountId is empty", where("AccountId"))
            currency = rec.get("CurrencyCode") or default_currency
            clicks = parse_int(rec["Clicks"], path, where("Clicks"))
            spend = parse_decimal(rec["Spend"], path, where("Spend"))
            out.append(
                {
                    "platform": self.name,
                    "account_id": account_id,
                    "account_name": _text(rec.get("AccountName")),
                    "account_timezone": tz_for(account_id),
                    "account_currency": check_currency(currency, path, where("CurrencyCode")),
                    "spend_date": day,
                    "date_basis": date_basis,
                    "campaign_id": _digits(rec["CampaignId"]),
                    "campaign_name": _text(rec.get("CampaignName")),
                    "ad_group_id": _digits(rec.get("AdGroupId")),
                    "ad_group_name": _text(rec.get("AdGroupName")),
                    "ad_id": _digits(rec.get("AdId")),
                    "ad_name": _text(rec.get("AdTitle")),
                    "impressions": parse_int(rec["Impressions"], path, where("Impressions")),
                    "clicks": clicks,
                    "link_clicks": clicks,
                    "spend_micros": to_micros(spend) if spend is not None else 0,
                    "platform_conversions": parse_float(rec.get(conv_col), path, where(conv_col)),
                    "platform_conversion_value": parse_float(
                        rec.get(value_col), path, where(value_col)
                    ),
                    "conversion_definition": f"microsoft:{conv_col}",
                }
            )
        return self._frame(out)

    def _timezone_resolver(self, path: Path, pre: dict[str, str], opts: dict[str, Any]):
        """account id -> IANA zone: per-account option, file-wide option, preamble, else None."""
        per_account = {str(k): v for k, v in (opts.get("account_timezones") or {}).items()}
        fixed = opts.get("account_timezone")
        candidates: list[tuple[str, str]] = [
            (f"sources.microsoft_ads.account_timezones.{k}", v) for k, v in per_account.items()
        ]
        if fixed:
            candidates.append(("sources.microsoft_ads.account_timezone", fixed))
        resolved: dict[str, str] = {}
        for label, value in candidates:
            iana = to_iana(str(value))
            if iana is None:
                raise BadInputError(
                    path, f"{label} = {value!r} is not a known time zone; use an IANA name"
                )
            resolved[label] = iana
        from_file: str | None = None
        if not fixed and "time zone" in pre and pre["time zone"]:
            from_file = to_iana(pre["time zone"])
            if from_file is None:
                raise BadInputError(
                    path,
                    f"unknown time zone {pre['time zone']!r}; "
                    "set sources.microsoft_ads.account_timezone "
                    "to the account's IANA zone (e.g. America/Los_Angeles)",
                    "preamble 'Time Zone'",
                )

        def tz_for(account_id: str) -> str | None:
            key = f"sources.microsoft_ads.account_timezones.{account_id}"
            if key in resolved:
                return resolved[key]
            if fixed:
                return resolved["sources.microsoft_ads.account_timezone"]
            return from_file

        return tz_for

    def _frame(self, records: list[dict[str, Any]]) -> pd.DataFrame:
        df = pd.DataFrame(records, columns=self.table.columns)
        for col in ("impressions", "clicks", "link_clicks", "spend_micros"):
            df[col] = df[col].astype("Int64")
        for col in ("platform_conversions", "platform_conversion_value"):
            df[col] = df[col].astype("Float64")
        return collapse_to_grain(df, self.table, METRICS).reset_index(drop=True)

    # ------------------------------------------------------------------ write
    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """One report per account: ``fmt='zip'`` (default, the API download) or ``'csv'``."""
        fmt = fmt or "zip"
        if fmt not in ("zip", "csv"):
            raise ValueError(f"microsoft_ads.write: fmt must be 'zip' or 'csv', not {fmt!r}")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths: list[Path] = []
        day = ctx.folder_date
        for account_id, group in rows.groupby("account_id", sort=True):
            stem = f"AdPerformanceReport_{account_id}_{day:%Y%m%d}"
            text = self._render(group, day)
            if fmt == "csv":
                path = out_dir / f"{stem}.csv"
                path.write_text(text, encoding="utf-8-sig", newline="")
            else:
                path = out_dir / f"{stem}.zip"
                # The member's time is the report day, so the same rows give the same bytes.
                member = zipfile.ZipInfo(
                    f"{stem}.csv", date_time=(day.year, day.month, day.day, 0, 0, 0)
                )
                member.compress_type = zipfile.ZIP_DEFLATED
                with zipfile.ZipFile(path, "w") as zf:
                    zf.writestr(member, "\ufeff" + text)
            paths.append(path)
        return paths

    def _render(self, group: pd.DataFrame, day: dt.date) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        tz = next((t for t in group["account_timezone"] if isinstance(t, str) and t), None)
        report_time = day + dt.timedelta(days=1)
        stamp = f"{report_time.month}/{report_time.day}/{report_time.year}"
        preamble = [
            "Report Name: Ad Performance",
            f"Report Time: {stamp}",
            *([f"Time Zone: {display_text(tz)}"] if tz else []),
            f"Last Completed Available Day: {stamp} 3:40:00 AM (GMT)",
            f"Last Completed Available Hour: {stamp} 3:40:00 AM (GMT)",
            "Report Aggregation: Daily",
            "Report Filter: ",
            "Potential Incomplete Data: true",
            f"Rows: {len(group)}",
        ]
        for line in preamble:
            w.writerow([line])
        buf.write("\r\n")
        w.writerow(WRITE_COLUMNS)
        for r in group.itertuples(index=False):
            spend = None if pd.isna(r.spend_micros) else int(r.spend_micros) / 1_000_000
            imps = 0 if pd.isna(r.impressions) else int(r.impressions)
            clicks = 0 if pd.isna(r.clicks) else int(r.clicks)
            w.writerow(
                [
                    day.isoformat(),
                    r.account_id,
                    r.account_name or "",
                    f"F{str(r.account_id)[-6:]}",
                    r.campaign_id or "",
                    r.campaign_name or "",
                    r.ad_group_id or "",
                    r.ad_group_name or "",
                    r.ad_id or "",
                    r.ad_name or "",
                    r.account_currency,
                    str(imps),
                    str(clicks),
                    f"{(clicks / imps * 100):.2f}%" if imps else "0.00%",
                    format_amount(spend / clicks if spend and clicks else 0, 2, thousands=True),
                    _money(spend),
                    _conversions(r.platform_conversions),
                    _money(
                        None
                        if pd.isna(r.platform_conversion_value)
                        else r.platform_conversion_value
                    ),
                ]
            )
        buf.write("\r\n")
        w.writerow([FOOTER.format(year=day.year)])
        return buf.getvalue()


def _money(value: object) -> str:
    """FormatVersion 1.0 money: thousands commas, cents (more places only if the value has them)."""
    if value is None or pd.isna(value):
        return ""
    d = Decimal(str(value))
    places = 2 if d == d.quantize(Decimal("0.01")) else min(6, -d.normalize().as_tuple().exponent)
    return format_amount(d, places, thousands=True)


def _conversions(value: object) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{float(value):.6f}".rstrip("0").rstrip(".") if float(value) % 1 else str(int(value))


SOURCE = MicrosoftAdsSource()
