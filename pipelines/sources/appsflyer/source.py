"""AppsFlyer raw-data installs report -> ``app_installs`` (one row per attributed install).

Two header styles exist for the same data: the Pull API / export CSV uses display names
(``Install Time``, ``Media Source``, ``Campaign ID``, ``AppsFlyer ID``) and Data Locker /
Push use snake case (``install_time``, ``media_source``, ``af_c_id``, ``appsflyer_id``).
Both are read; device ids are hashed, never stored raw. See README.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from pipelines.canonical import APP_INSTALLS
from pipelines.errors import BadInputError
from pipelines.sources._formats import (
    check_currency,
    check_timezone,
    csv_rows,
    decode_text,
    find_header,
    is_blank,
    is_null,
    parse_float,
    parse_timestamp,
    require_columns,
)
from pipelines.sources.base import ParseContext, Source

# canonical column -> (Pull API display header, Data Locker / Push snake-case header)
COLUMNS: dict[str, tuple[str, str]] = {
    "install_id": ("AppsFlyer ID", "appsflyer_id"),
    "app_id": ("App ID", "app_id"),
    "install_at": ("Install Time", "install_time"),
    "touch_at": ("Attributed Touch Time", "attributed_touch_time"),
    "touch_type": ("Attributed Touch Type", "attributed_touch_type"),
    "media_source": ("Media Source", "media_source"),
    "channel": ("Channel", "af_channel"),
    "campaign_id": ("Campaign ID", "af_c_id"),
    "campaign_name": ("Campaign", "campaign"),
    "adset_id": ("Adset ID", "af_adset_id"),
    "adset_name": ("Adset", "af_adset"),
    "ad_id": ("Ad ID", "af_ad_id"),
    "ad_name": ("Ad", "af_ad"),
    "cost_model": ("Cost Model", "af_cost_model"),
    "cost_value": ("Cost Value", "af_cost_value"),
    "cost_currency": ("Cost Currency", "af_cost_currency"),
    "customer_user_id": ("Customer User ID", "customer_user_id"),
    "is_primary_attribution": ("Is Primary Attribution", "is_primary_attribution"),
    "event_name": ("Event Name", "event_name"),
}
DEVICE_IDS = (
    ("Advertising ID", "advertising_id"),
    ("IDFA", "idfa"),
    ("OAID", "oaid"),
    ("Android ID", "android_id"),
    ("IMEI", "imei"),
    ("IDFV", "idfv"),
)
REQUIRED = ("install_id", "install_at", "media_source")
INSTALL_EVENTS = {"install", "re-attribution", "reinstall", ""}
_ZERO_ID = "00000000-0000-0000-0000-000000000000"
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}

PULL_HEADER = (
    "Attributed Touch Type",
    "Attributed Touch Time",
    "Install Time",
    "Event Time",
    "Event Name",
    "Event Value",
    "Event Revenue",
    "Event Revenue Currency",
    "Event Revenue USD",
    "Event Source",
    "Is Receipt Validated",
    "Partner",
    "Media Source",
    "Channel",
    "Keywords",
    "Campaign",
    "Campaign ID",
    "Adset",
    "Adset ID",
    "Ad",
    "Ad ID",
    "Ad Type",
    "Site ID",
    "Sub Site ID",
    "Sub Param 1",
    "Cost Model",
    "Cost Value",
    "Cost Currency",
    "Region",
    "Country Code",
    "State",
    "City",
    "IP",
    "WIFI",
    "Operator",
    "Language",
    "AppsFlyer ID",
    "Advertising ID",
    "IDFA",
    "Android ID",
    "Customer User ID",
    "IMEI",
    "IDFV",
    "Platform",
    "Device Type",
    "OS Version",
    "App Version",
    "SDK Version",
    "App ID",
    "App Name",
    "Bundle ID",
    "Is Retargeting",
    "Attribution Lookback",
    "Is Primary Attribution",
    "User Agent",
    "HTTP Referrer",
    "Original URL",
)


@cache
def media_source_platforms() -> dict[str, str | None]:
    """``media_sources.csv``: AppsFlyer media source -> our platform name (None: not paid)."""
    path = Path(__file__).with_name("media_sources.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["media_source"]: (r["platform"] or None) for r in csv.DictReader(fh)}


def platform_for_media_source(media_source: str | None) -> str | None:
    """AppsFlyer media source -> platform (``googleadwords_int`` -> ``google_ads``).

    Exact match first, then case-insensitive; unknown -> None.
    """
    if not media_source:
        return None
    table = media_source_platforms()
    if media_source in table:
        return table[media_source]
    folded = {k.lower(): v for k, v in table.items()}
    return folded.get(media_source.strip().lower())


def hash_device_id(raw: str, salt: str | None) -> str | None:
    """Salted SHA-256 of a lower-cased device id; empty or all-zero ids (LAT) -> None."""
    text = (raw or "").strip().lower()
    if not text or text == _ZERO_ID:
        return None
    return hashlib.sha256(((salt or "") + text).encode("utf-8")).hexdigest()


def _bool(raw: object, file: Path, where: str) -> bool | None:
    if is_null(raw):
        return None
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadInputError(file, f"{raw!r} is not true or false", where)


def _text(raw: object) -> str | None:
    return None if is_null(raw) else (str(raw).strip() or None)


class AppsFlyerSource(Source):
    name = "appsflyer"
    table = APP_INSTALLS
    description = "AppsFlyer raw-data installs report (Pull API CSV or Data Locker CSV)"
    patterns: ClassVar[tuple[str, ...]] = ("*.csv",)

    # ------------------------------------------------------------------ parse
    def parse(self, path: Path, ctx: ParseContext) -> pd.DataFrame:
        path = Path(path)
        rows = csv_rows(decode_text(path.read_bytes(), path), delimiter=",")
        hdr = find_header(rows, ("AppsFlyer ID",))
        style = 0
        if hdr is None:
            hdr = find_header(rows, ("appsflyer_id",))
            style = 1
        if hdr is None:
            raise BadInputError(
                path,
                "not an AppsFlyer raw-data report: no 'AppsFlyer ID' (or 'appsflyer_id') column; "
                "missing required column 'AppsFlyer ID'",
            )
        header = [c.strip() for c in rows[hdr]]
        names = {canon: pair[style] for canon, pair in COLUMNS.items()}
        require_columns(header, [names[c] for c in REQUIRED], path)
        index = {h.lower(): i for i, h in enumerate(header)}
        # Data Locker is always UTC; the Pull API uses the report's timezone parameter.
        tz_name = "UTC" if style == 1 else str(ctx.options.get("timezone") or "UTC")
        tz = check_timezone(tz_name, path, "option sources.appsflyer.timezone")
        device_cols = [index[p[style].lower()] for p in DEVICE_IDS if p[style].lower() in index]
        # Device ids are hashed with the PII salt; without one they are dropped (unless the
        # unsalted development mode is on). Raw ids never leave this function.
        hashing = bool(ctx.pii_salt) or ctx.allow_unsalted_pii

        out: list[dict[str, Any]] = []
        for n in range(hdr + 1, len(rows)):
            row = rows[n]
            if is_blank(row):
                continue
            line = n + 1

            def get(canon: str, _row: list[str] = row) -> str | None:
                i = index.get(names[canon].lower())
                return _row[i] if i is not None and i < len(_row) else None

            def where(canon: str, _line: int = line) -> str:
                return f"line {_line}, column {names[canon]!r}"

            event = (get("event_name") or "").strip().lower()
            if event not in INSTALL_EVENTS:
                raise BadInputError(
                    path,
                    f"event {get('event_name')!r} is not an install; land only installs_report "
                    "files here (in-app events belong elsewhere)",
                    where("event_name"),
                )
            install_id = _text(get("install_id"))
            if install_id is None:
                raise BadInputError(path, "the AppsFlyer ID is empty", where("install_id"))
            install_at = parse_timestamp(get("install_at"), path, where("install_at"), tz)
            if install_at is None:
                raise BadInputError(path, "the install time is empty", where("install_at"))
            local_day = install_at.tz_convert(tz).date()
            if local_day != ctx.folder_date:
                raise BadInputError(
                    path,
                    f"install day {local_day} ({tz_name}) is not the landing folder's day "
                    f"{ctx.folder_date}; deliver one day of installs per folder",
                    where("install_at"),
                )
            cost = parse_float(get("cost_value"), path, where("cost_value"))
            cur_raw = _text(get("cost_currency"))
            currency = None
            if cur_raw is not None:
                currency = check_currency(cur_raw, path, where("cost_currency"))
            elif cost is not None:
                currency = "USD"  # AppsFlyer's documented default
            device = None
            if hashing:
                device = next(
                    (
                        h
                        for i in device_cols
                        if i < len(row) and (h := hash_device_id(row[i], ctx.pii_salt))
                    ),
                    None,
                )
            touch_type = _text(get("touch_type"))
            out.append(
                {
                    "mmp": "appsflyer",
                    "install_id": install_id,
                    "app_id": _text(get("app_id")),
                    "install_at": install_at,
                    "touch_at": parse_timestamp(get("touch_at"), path, where("touch_at"), tz),
                    "touch_type": touch_type.lower() if touch_type else None,
                    "media_source": _text(get("media_source")),
                    "channel": _text(get("channel")),
                    "campaign_id": _text(get("campaign_id")),
                    "campaign_name": _text(get("campaign_name")),
                    "adset_id": _text(get("adset_id")),
                    "adset_name": _text(get("adset_name")),
                    "ad_id": _text(get("ad_id")),
                    "ad_name": _text(get("ad_name")),
                    "cost_model": _text(get("cost_model")),
                    "cost_value": cost,
                    "cost_currency": currency,
                    "customer_user_id": _text(get("customer_user_id")),
                    "device_id_hash": device,
                    "is_primary_attribution": _bool(
                        get("is_primary_attribution"), path, where("is_primary_attribution")
                    ),
                }
            )
        df = pd.DataFrame(out, columns=self.table.columns)
        df["cost_value"] = df["cost_value"].astype("Float64")
        return df

    # ------------------------------------------------------------------ write
    def write(
        self, rows: pd.DataFrame, out_dir: Path, ctx: ParseContext, fmt: str | None = None
    ) -> list[Path]:
        """``fmt='pull'`` (default; display headers, times in ``sources.appsflyer.timezone``)
        or ``'datalocker'`` (snake case, UTC). Device ids are stand-ins derived from the
        install id (the canonical rows only hold hashes)."""
        fmt = fmt or "pull"
        if fmt not in ("pull", "datalocker"):
            raise ValueError(f"appsflyer.write: fmt must be 'pull' or 'datalocker', not {fmt!r}")
        style = 0 if fmt == "pull" else 1
        tz = "UTC" if style == 1 else str(ctx.options.get("timezone") or "UTC")
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        day = ctx.folder_date
        if style == 0:
            header = list(PULL_HEADER)
        else:
            header = (
                [p[1] for p in COLUMNS.values()]
                + [p[1] for p in DEVICE_IDS]
                + [
                    "event_time",
                    "platform",
                    "country_code",
                ]
            )
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for r in rows.itertuples(index=False):
            rec: dict[str, Any] = {}
            for canon, pair in COLUMNS.items():
                value = getattr(r, canon, None) if canon != "event_name" else "install"
                rec[pair[style]] = _render_value(canon, value, tz, millis=style == 1)
            rec["Event Time" if style == 0 else "event_time"] = rec[COLUMNS["install_at"][style]]
            ios = str(getattr(r, "app_id", "") or "").startswith("id")
            if isinstance(r.device_id_hash, str) and r.device_id_hash:
                stand_in = str(uuid.uuid5(uuid.NAMESPACE_URL, f"appsflyer:{r.install_id}")).upper()
                rec[DEVICE_IDS[1][style] if ios else DEVICE_IDS[0][style]] = stand_in
            if style == 0:
                rec.update(
                    {"Platform": "ios" if ios else "android", "Country Code": "US", "Partner": ""}
                )
            else:
                rec.update({"platform": "ios" if ios else "android", "country_code": "US"})
            w.writerow(rec)
        path = out_dir / (
            f"installs_report_{day:%Y-%m-%d}.csv"
            if style == 0
            else f"datalocker_installs_{day:%Y-%m-%d}.csv"
        )
        path.write_text(buf.getvalue(), encoding="utf-8")
        return [path]


def _render_value(canon: str, value: object, tz: str, millis: bool = False) -> str:
    """One cell; Pull API times have seconds, Data Locker times milliseconds."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if canon in ("install_at", "touch_at"):
        text = pd.Timestamp(value).tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S.%f")
        return text[:-3] if millis else text[:-7]
    if canon == "cost_value":
        return (
            f"{float(value):.4f}".rstrip("0").rstrip(".")
            if float(value) % 1
            else f"{float(value):.2f}"
        )
    if canon == "is_primary_attribution":
        return "true" if bool(value) else "false"
    return str(value)


SOURCE = AppsFlyerSource()
