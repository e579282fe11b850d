"""The hand-written alternative: last-touch and linear attribution in plain pandas.

This is what an analyst would write instead of the pipeline: read the lake's ``events``
Parquet with pandas, deduplicate, stitch identities, sessionise, keep the touches, classify
their channel, find the conversions and their value, cut each conversion's path and
assign credit. The benchmark times it against the pipeline on the same data, and the
tests check that its channel totals equal the published ``fct_attributed_conversions``
totals, which is what makes the time comparison honest: both do the same work.

It follows the warehouse's documented rules (``dbt_project/models/intermediate``), in
pandas idioms and nothing more:

- events deduplicated by ``event_id`` (the latest delivery wins);
- person: the event's user id; else the user its anonymous id was first linked to; else
  the anonymous id; else the event itself;
- a touch is an event with campaign signal (a UTM or a click id) or the start of a session
  (a page/screen or signal event after ``session_timeout_minutes`` of inactivity);
- source/medium: UTMs, else the click id's platform defaults, else an external referrer,
  else ``(direct) / (none)``; the channel is the first matching rule of the seeds
  ``channel_rules.csv`` and ``source_categories.csv`` (read from the dbt project: the
  rules are data, shared, not re-typed here);
- conversions: the configured event names, one per order id (else event id), the value
  converted at the day's currency rate (carried over up to four days) and reduced by
  refunds;
- the path: the person's touches in the ``lookback_days`` before the conversion and after
  their previous conversion of the same type; an empty path is credited to ``Direct``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipelines.config import DBT_PROJECT_DIR
from pipelines.lake import EMPTY_SOURCE, table_dir

if TYPE_CHECKING:
    from pipelines.config import Settings

SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
MODELS = ("last_touch", "linear")
EMPTY_PATH_CHANNEL = "Direct"
SESSION_EVENT_TYPES = ("page", "screen")
FX_MAX_FILL_DAYS = 4
SIGNAL_COLUMNS = ("utm_source", "utm_medium", "utm_campaign", "utm_id", "click_id")
EVENT_COLUMNS = [
    "event_id",
    "event_type",
    "event_name",
    "event_at",
    "received_at",
    "anonymous_id",
    "user_id",
    "page_url",
    "referrer_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_id",
    "click_id_type",
    "click_id",
    "order_id",
    "revenue",
    "currency",
    "delivered_at",
]


@dataclass(frozen=True)
class PandasAttribution:
    """Channel totals per model (``model, channel, conversions, value``) and counts."""

    totals: pd.DataFrame
    events: int
    touches: int
    conversions: int
    path_rows: int


def _partitions(settings: Settings, table: str) -> list[Path]:
    root = table_dir(settings, table)
    return sorted(
        p
        for p in root.glob("source=*/date=*/data.parquet")
        if f"source={EMPTY_SOURCE}" not in str(p)
    )


def read_lake(settings: Settings, table: str, columns: list[str]) -> pd.DataFrame:
    """One lake table with pandas, with the partition day as ``lake_date``."""
    frames = []
    for path in _partitions(settings, table):
        df = pd.read_parquet(path, columns=columns)
        df["lake_date"] = path.parent.name.removeprefix("date=")
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=[*columns, "lake_date"])
    return pd.concat(frames, ignore_index=True)


def _host(url: pd.Series) -> pd.Series:
    """The lower-cased host of a URL, without port and leading ``www.`` (null if no scheme)."""
    has_scheme = url.str.contains("://", regex=False).fillna(False).astype(bool)
    host = url.str.split("/", n=3).str[2].str.split("?").str[0].str.split(":").str[0]
    host = host.str.lower().str.replace(r"^www[.]", "", regex=True)
    return host.where(has_scheme)


def _seed(name: str) -> pd.DataFrame:
    df = pd.read_csv(SEEDS_DIR / f"{name}.csv", dtype=str, keep_default_na=False)
    return df.replace({"": None})


def classify_channels(touches: pd.DataFrame) -> pd.Series:
    """The first matching channel rule per touch (``Unassigned`` when none matches).

    Rules are applied to the distinct (source, medium, campaign, click id type) combinations,
    which are few, then mapped back to the touches.
    """
    rules = _seed("channel_rules")
    rules["priority"] = rules["priority"].astype(int)
    rules = rules.sort_values(["priority", "channel"], kind="stable")
    categories = dict(
        _seed("source_categories")[["source", "source_category"]].itertuples(index=False)
    )
    keys = ["source", "medium", "campaign", "click_id_type"]
    combos = touches[keys].drop_duplicates()
    out = []
    for source, medium, campaign, click_type in combos.itertuples(index=False, name=None):
        values = {
            "source_regex": _text(source),
            "medium_regex": _text(medium),
            "campaign_regex": _text(campaign),
            "click_id_type_regex": _text(click_type),
        }
        category = categories.get(source) if isinstance(source, str) else None
        channel = "Unassigned"
        for rule in rules.itertuples(index=False):
            if all(
                getattr(rule, col) is None or re.search(getattr(rule, col), value)
                for col, value in values.items()
            ) and (rule.source_category is None or rule.source_category == category):
                channel = rule.channel
                break
        out.append(channel)
    combos = combos.assign(channel=out)
    merged = touches[keys].merge(combos, on=keys, how="left")
    return pd.Series(merged["channel"].to_numpy(), index=touches.index)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _fx_rates(settings: Settings) -> pd.DataFrame:
    """Published rates to the reporting currency per (rate_date, currency)."""
    reporting = settings.reporting.currency
    fx = read_lake(
        settings, "fx_rates", ["rate_date", "base_currency", "currency", "rate", "delivered_at"]
    )
    fx = fx[fx["rate"] > 0].copy()
    fx["base_currency"] = fx["base_currency"].str.upper()
    fx["currency"] = fx["currency"].str.upper()
    fx = fx.sort_values("delivered_at", ascending=False, kind="stable").drop_duplicates(
        ["rate_date", "base_currency", "currency"]
    )
    direct = fx[(fx["base_currency"] == reporting) & (fx["currency"] != reporting)]
    direct = direct.assign(
        rank=1, derived_from=direct["base_currency"], to_reporting=direct["rate"]
    )
    in_base = fx[(fx["currency"] == reporting) & (fx["base_currency"] != reporting)][
        ["rate_date", "base_currency", "rate"]
    ].rename(columns={"rate": "reporting_rate"})
    cross = fx[fx["currency"] != reporting].merge(in_base, on=["rate_date", "base_currency"])
    cross = cross.assign(
        rank=2,
        derived_from=cross["base_currency"],
        to_reporting=cross["rate"] / cross["reporting_rate"],
    )
    base_itself = in_base.assign(
        currency=in_base["base_currency"],
        rank=2,
        derived_from=in_base["base_currency"],
        to_reporting=1.0 / in_base["reporting_rate"],
    )
    cols = ["rate_date", "currency", "rank", "derived_from", "to_reporting"]
    rates = pd.concat([direct[cols], cross[cols], base_itself[cols]], ignore_index=True)
    rates = rates.sort_values(["rank", "derived_from"], kind="stable").drop_duplicates(
        ["rate_date", "currency"]
    )
    rates["rate_date"] = pd.to_datetime(rates["rate_date"]).astype("datetime64[ns]")
    rates["currency"] = rates["currency"].astype("str")
    return rates[["rate_date", "currency", "to_reporting"]]


def _rate_for(
    rates: pd.DataFrame, day: pd.Series, currency: pd.Series, reporting: str
) -> np.ndarray:
    """The rate of each (day, currency), carried over up to ``FX_MAX_FILL_DAYS`` days."""
    if not len(day):
        return np.zeros(0)
    want = pd.DataFrame(
        {
            "day": pd.to_datetime(day).astype("datetime64[ns]").to_numpy(),
            "currency": pd.array(currency.astype("str").to_numpy(), dtype="str"),
            "i": np.arange(len(day)),
        }
    )
    found = pd.merge_asof(
        want.sort_values("day"),
        rates.sort_values("rate_date"),
        left_on="day",
        right_on="rate_date",
        by="currency",
        direction="backward",
        tolerance=pd.Timedelta(days=FX_MAX_FILL_DAYS),
    ).sort_values("i")
    rate = found["to_reporting"].to_numpy(dtype=float)
    return np.where(want["currency"].to_numpy() == reporting, 1.0, rate)


def pandas_attribution(settings: Settings) -> PandasAttribution:
    """Last-touch and linear channel totals, computed from the lake with pandas alone."""
    a = settings.attribution
    reporting = settings.reporting.currency
    tz = settings.reporting.timezone

    # 1. read and deduplicate (the latest delivery of an event id wins)
    ev = read_lake(settings, "events", EVENT_COLUMNS)
    ev = ev.sort_values(
        ["event_id", "delivered_at", "lake_date", "received_at"],
        ascending=[True, False, False, False],
        kind="stable",
    ).drop_duplicates("event_id")

    # 2. identity stitching: an anonymous id belongs to the first user id seen with it
    linked = ev[ev["anonymous_id"].notna() & ev["user_id"].notna()]
    links = linked.sort_values(["event_at", "event_id"], kind="stable").drop_duplicates(
        "anonymous_id"
    )
    link = dict(zip(links["anonymous_id"], links["user_id"], strict=True))
    stitched = ev["anonymous_id"].map(link)
    ev["person"] = np.where(
        ev["user_id"].notna(),
        "user:" + ev["user_id"].astype(str),
        np.where(
            stitched.notna(),
            "user:" + stitched.astype(str),
            np.where(
                ev["anonymous_id"].notna(),
                "anonymous:" + ev["anonymous_id"].astype(str),
                "event:" + ev["event_id"].astype(str),
            ),
        ),
    )

    # 3. sessions and touches
    signal = ev[list(SIGNAL_COLUMNS)].notna().any(axis=1)
    candidate = ev["event_type"].isin(SESSION_EVENT_TYPES) | signal
    sess = ev.loc[candidate, ["person", "event_at", "event_id"]].sort_values(
        ["person", "event_at", "event_id"], kind="stable"
    )
    previous = sess.groupby("person", sort=False)["event_at"].shift()
    timeout = pd.Timedelta(minutes=a.session_timeout_minutes)
    starts = sess.loc[previous.isna() | (sess["event_at"] > previous + timeout), "event_id"]
    is_touch = signal | ev["event_id"].isin(starts)
    t = ev.loc[is_touch].copy()

    # 4. source / medium / channel
    platforms = _seed("platform_channels")
    platforms = platforms[platforms["click_id_type_regex"].notna()].sort_values("platform")
    t["click_id_type"] = t["click_id_type"].str.lower()
    # the click id type's platform (the first by name whose pattern matches)
    by_type = {}
    for click_type in t["click_id_type"].dropna().unique():
        for row in platforms.itertuples(index=False):
            if re.search(row.click_id_type_regex, click_type):
                by_type[click_type] = (row.platform, row.default_source, row.default_medium)
                break
    has_click = t["click_id"].notna()
    for i, column in enumerate(("click_platform", "click_source", "click_medium")):
        part = {k: v[i] for k, v in by_type.items()}
        t[column] = t["click_id_type"].map(part).where(has_click).astype(object)
    ref_host, page_host = _host(t["referrer_url"]), _host(t["page_url"])
    external = ref_host.where(
        ref_host.notna() & (ref_host != "") & (page_host.isna() | (ref_host != page_host))
    )
    utm = t["utm_source"].notna() | t["utm_medium"].notna()
    clicked = t["click_platform"].notna()
    t["source"] = np.select(
        [utm, clicked, external.notna()],
        [
            t["utm_source"].fillna("(not set)").str.lower(),
            t["click_source"].str.lower(),
            external,
        ],
        "(direct)",
    )
    t["medium"] = np.select(
        [utm, clicked, external.notna()],
        [
            t["utm_medium"].fillna("(not set)").str.lower(),
            t["click_medium"].str.lower(),
            "referral",
        ],
        "(none)",
    )
    t["campaign"] = t["utm_campaign"].str.lower()
    t["channel"] = classify_channels(t)

    # 5. conversions, their value and refunds
    types = []
    for order, (name, ct) in enumerate(settings.conversion_types.items(), start=1):
        types += [(event, name, order, ct.has_value) for event in ct.events]
    type_map = pd.DataFrame(
        types, columns=["event_name", "conversion_type", "type_order", "has_value"]
    )
    conv = ev.merge(type_map, on="event_name")
    conv["conversion_id"] = conv["order_id"].fillna(conv["event_id"])
    conv = conv.sort_values(
        ["conversion_id", "type_order", "event_at", "event_id"], kind="stable"
    ).drop_duplicates("conversion_id")
    local_day = lambda s: s.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()  # ruff: ignore[lambda-assignment]
    rates = _fx_rates(settings)
    conv_currency = conv["currency"].fillna(reporting)
    conv_rate = _rate_for(rates, local_day(conv["event_at"]), conv_currency, reporting)
    gross = np.where(
        conv["has_value"], conv["revenue"].fillna(0.0).to_numpy(dtype=float) * conv_rate, 0.0
    )
    refunds = ev[ev["event_name"].isin(settings.refunds.events) & ev["order_id"].notna()].copy()
    refunds["rate"] = _rate_for(
        rates, local_day(refunds["event_at"]), refunds["currency"].fillna(reporting), reporting
    )
    refunds["amount"] = refunds["revenue"].abs() * refunds["rate"]
    refunds["full"] = refunds["revenue"].isna()
    by_order = refunds.groupby("order_id").agg(amount=("amount", "sum"), full=("full", "any"))
    refund_amount = conv["order_id"].map(by_order["amount"]).to_numpy(dtype=float)
    full = conv["order_id"].map(by_order["full"]).fillna(False).to_numpy(dtype=bool)
    refunded = conv["order_id"].isin(by_order.index).to_numpy()
    if settings.refunds.reduce_value:
        reduced = np.where(full, 0.0, np.maximum(gross - np.nan_to_num(refund_amount), 0.0))
        value = np.where(refunded, reduced, gross)
    else:
        value = gross
    conv["conversion_value"] = np.where(conv["has_value"], value, 0.0)
    conv = conv.sort_values(
        ["person", "conversion_type", "event_at", "conversion_id"], kind="stable"
    )
    conv["previous_at"] = conv.groupby(["person", "conversion_type"], sort=False)[
        "event_at"
    ].shift()

    # 6. paths: the person's touches in the lookback window, after their previous conversion
    paths = conv[["conversion_id", "person", "event_at", "previous_at", "conversion_value"]].merge(
        t[["person", "event_id", "event_at", "channel"]].rename(
            columns={"event_at": "touched_at", "event_id": "touch_event_id"}
        ),
        on="person",
    )
    keep = (paths["touched_at"] <= paths["event_at"]) & (
        paths["touched_at"] >= paths["event_at"] - pd.Timedelta(days=a.lookback_days)
    )
    if not a.reuse_touches:
        keep &= paths["previous_at"].isna() | (paths["touched_at"] > paths["previous_at"])
    paths = paths.loc[keep].copy()
    # ties in time are ordered by touchpoint id (the md5 of the event id), as the warehouse does
    paths["touchpoint_id"] = [hashlib.md5(e.encode()).hexdigest() for e in paths["touch_event_id"]]
    paths = paths.sort_values(["conversion_id", "touched_at", "touchpoint_id"], kind="stable")
    empty = conv.loc[
        ~conv["conversion_id"].isin(paths["conversion_id"]), ["conversion_id", "conversion_value"]
    ]
    paths = pd.concat(
        [
            paths[["conversion_id", "conversion_value", "channel"]],
            empty.assign(channel=EMPTY_PATH_CHANNEL),
        ],
        ignore_index=True,
    )

    # 7. credit
    n = paths.groupby("conversion_id", sort=False)["channel"].transform("size")
    last = ~paths["conversion_id"].duplicated(keep="last")
    credit = {"last_touch": last.astype(float), "linear": 1.0 / n}
    totals = []
    for model in MODELS:
        c = credit[model]
        frame = pd.DataFrame(
            {"channel": paths["channel"], "conversions": c, "value": c * paths["conversion_value"]}
        )
        agg = frame.groupby("channel", as_index=False).sum()
        totals.append(agg.assign(model=model))
    out = pd.concat(totals, ignore_index=True)[["model", "channel", "conversions", "value"]]
    return PandasAttribution(
        totals=out.sort_values(["model", "channel"], ignore_index=True),
        events=len(ev),
        touches=len(t),
        conversions=len(conv),
        path_rows=len(paths),
    )


def pipeline_totals(published_db: Path) -> pd.DataFrame:
    """The same totals from the published ``fct_attributed_conversions``."""
    import duckdb

    with duckdb.connect(str(published_db), read_only=True) as con:
        return con.execute(
            f"""
            select model, channel, sum(credit) as conversions, sum(attributed_value) as value
            from fct_attributed_conversions
            where model in ({", ".join(repr(m) for m in MODELS)})
            group by model, channel
            order by model, channel
            """
        ).df()
