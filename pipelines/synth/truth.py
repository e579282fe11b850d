"""The ground truth of a synthetic run: what a correct pipeline must find in the files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.synth import world
from pipelines.synth.fx import Rates
from pipelines.synth.journeys import US_PER_DAY, Simulation

LOOKBACK_DAYS = 30


@dataclass
class Truth:
    """Ground truth; money in the reporting currency unless a column says otherwise.

    - ``spend``: per platform, account and day (account's local day, after restatement):
      ``spend_account_currency``, ``rate`` and ``spend`` (reporting currency, with the
      rates written to ``landing/fx_rates``); ``spend_daily``: per platform and day.
    - ``delivery``: the canonical ``ad_delivery`` rows as finally valid (after restatement),
      with ``landed`` (sessions carrying the ad's click id on that local day).
    - ``conversions``: first-party conversions per UTC day and type (duplicates removed).
    - ``revenue``: orders, gross, refunded and net revenue in the reporting currency.
    - ``channel_lift``, ``base_rates``: the causal model; ``incremental_conversions``:
      purchases caused by each channel's sessions; ``markov_tiers``: the tier order the
      Markov removal effects follow on the true journeys.
    - ``people``, ``devices`` (anonymous ids, kind, when identified), ``touches`` (one row
      per session start, its channel, platform, campaign, ad and click id), ``paths``
      (true stitched purchase journeys in the path-file layout).
    - ``rates``: per day and currency, the rate to the reporting currency.
    - ``platform_conversions``: per platform and day, what the platform claims next to the
      first-party purchases (leads for LinkedIn) its last click could claim.
    - ``quirks``: what exotic cases this run contains (restated file, duplicated message
      ids, refunded orders, affiliate reversal/decline/correction).
    """

    reporting_currency: str
    start: dt.date
    days: int
    spend: pd.DataFrame
    spend_daily: pd.DataFrame
    delivery: pd.DataFrame
    conversions: pd.DataFrame
    revenue: dict
    channel_lift: dict
    base_rates: dict
    incremental_conversions: dict
    markov_tiers: tuple
    people: pd.DataFrame
    devices: pd.DataFrame
    touches: pd.DataFrame
    paths: pd.DataFrame
    rates: pd.DataFrame
    platform_conversions: pd.DataFrame
    campaigns: pd.DataFrame
    quirks: dict = field(default_factory=dict)

    def write_path_file(self, path: str | Path) -> Path:
        """Write ``paths`` as a ``;``-separated path file (``attribution attribute-paths``)."""
        out = Path(path)
        self.paths.to_csv(out, sep=";", index=False, float_format="%.2f")
        return out


def _to_reporting(
    amount: np.ndarray, days: list[dt.date], cur: np.ndarray, rates: Rates
) -> np.ndarray:
    look = rates.lookup()
    return amount * np.array([look[d, c] for d, c in zip(days, cur, strict=True)])


def _utc_days(sim: Simulation, t_us: np.ndarray) -> list[dt.date]:
    idx = (np.asarray(t_us, dtype=np.int64) - sim.start_us) // US_PER_DAY
    return [sim.start + dt.timedelta(days=int(i)) for i in idx]


def build_truth(
    sim: Simulation, rates: Rates, delivery: pd.DataFrame, reporting: str, quirks: dict
) -> Truth:
    look = rates.lookup()
    spend = (
        delivery.groupby(["platform", "account_id", "account_currency", "spend_date"], sort=True)[
            "spend_micros"
        ]
        .sum()
        .reset_index()
    )
    spend["spend_account_currency"] = spend.pop("spend_micros") / 1e6
    spend["rate"] = [
        look[d, c] for d, c in zip(spend["spend_date"], spend["account_currency"], strict=True)
    ]
    spend["spend"] = spend["spend_account_currency"] * spend["rate"]
    spend_daily = spend.groupby(["platform", "spend_date"], sort=True)["spend"].sum().reset_index()

    conv = sim.conversions
    conv_days = pd.DataFrame(
        {
            "conversion_date": _utc_days(sim, conv["t_us"].to_numpy()),
            "conversion_type": conv["conv_type"].to_numpy(),
        }
    )
    ins = sim.installs[
        (sim.installs["install_us"] >= sim.start_us) & (sim.installs["install_us"] < sim.end_us)
    ]
    ins_days = pd.DataFrame(
        {
            "conversion_date": _utc_days(sim, ins["install_us"].to_numpy() + 5_000_000),
            "conversion_type": "install",
        }
    )
    conversions = (
        pd.concat([conv_days, ins_days], ignore_index=True)
        .groupby(["conversion_date", "conversion_type"], sort=True)
        .size()
        .rename("conversions")
        .reset_index()
    )

    orders = conv[conv["conv_type"] == "purchase"]
    order_days = _utc_days(sim, orders["t_us"].to_numpy())
    gross = _to_reporting(
        orders["revenue"].to_numpy(dtype=float), order_days, orders["currency"].to_numpy(), rates
    )
    ref = sim.refunds
    refunded = _to_reporting(
        ref["revenue"].to_numpy(dtype=float),
        _utc_days(sim, ref["t_us"].to_numpy()),
        ref["currency"].to_numpy(),
        rates,
    )
    revenue = {
        "orders": len(orders),
        "gross": float(gross.sum()),
        "refunded": float(refunded.sum()),
        "net": float(gross.sum() - refunded.sum()),
        "by_currency": orders.groupby("currency")["revenue"].sum().round(2).to_dict(),
        "refunded_orders": ref["order_id"].tolist(),
    }

    channel_of_kind = np.array([world.KIND_CHANNEL[k] for k in world.KINDS], dtype=object)
    caused = orders["cause_kind"].map(lambda k: world.KIND_CHANNEL[world.KINDS[k]]).value_counts()
    incremental = {c: int(caused.get(c, 0)) for c in world.CHANNELS}

    ppl = sim.people[
        ["person_id", "user_id", "region", "n_devices", "has_app", "has_account"]
    ].copy()
    dev = sim.devices
    devices = pd.DataFrame(
        {
            "person_id": sim.people["person_id"].to_numpy()[dev["person"].to_numpy()],
            "anonymous_id": dev["anonymous_id"].to_numpy(),
            "device_kind": dev["slot"].to_numpy(),
            "identified_at": pd.to_datetime(
                dev["identified_at_us"].astype("float64"), unit="us", utc=True
            ),
        }
    )
    devices["is_identified"] = devices["identified_at"].notna()

    s = sim.sessions
    cat = sim.catalog
    ad = s["ad"].to_numpy()
    paid = ad >= 0
    pick = cat.iloc[np.maximum(ad, 0)].reset_index(drop=True)

    def paid_col(col: str) -> np.ndarray:
        return np.where(paid, pick[col].to_numpy(dtype=object), None)

    touches = pd.DataFrame(
        {
            "session_id": s["sid"].to_numpy(),
            "person_id": sim.people["person_id"].to_numpy()[s["person"].to_numpy()],
            "anonymous_id": dev["anonymous_id"].to_numpy()[s["device"].to_numpy()],
            "touched_at": pd.to_datetime(s["t_us"].to_numpy(), unit="us", utc=True),
            "kind": np.asarray(world.KINDS, dtype=object)[s["kind"].to_numpy()],
            "channel": channel_of_kind[s["kind"].to_numpy()],
            "platform": paid_col("platform"),
            "account_id": paid_col("account_id"),
            "campaign_id": paid_col("campaign_id"),
            "ad_group_id": paid_col("ad_group_id"),
            "ad_id": paid_col("ad_id"),
            "local_date": [
                sim.start + dt.timedelta(days=int(d)) if d >= 0 else None for d in s["local_day"]
            ],
            "click_id": s["click_id"].to_numpy(),
        }
    )

    paths = _paths(sim, orders, gross, channel_of_kind)
    pc = (
        delivery.groupby(["platform", "spend_date"], sort=True)[
            ["platform_conversions", "first_party_claimable"]
        ]
        .sum()
        .reset_index()
    )
    return Truth(
        reporting_currency=reporting,
        start=sim.start,
        days=sim.days,
        spend=spend,
        spend_daily=spend_daily,
        delivery=delivery.reset_index(drop=True),
        conversions=conversions,
        revenue=revenue,
        channel_lift=dict(world.CHANNEL_LIFT),
        base_rates=dict(world.BASE_RATE),
        incremental_conversions=incremental,
        markov_tiers=world.MARKOV_TIERS,
        people=ppl,
        devices=devices,
        touches=touches,
        paths=paths,
        rates=rates.to_reporting.copy(),
        platform_conversions=pc,
        campaigns=cat.drop(columns=["ad_index"]).copy(),
        quirks=quirks,
    )


def _paths(
    sim: Simulation, orders: pd.DataFrame, value: np.ndarray, channel_of_kind: np.ndarray
) -> pd.DataFrame:
    """True purchase journeys (all of a person's devices), 30-day lookback, path-file layout."""
    s = sim.sessions[["person", "t_us", "kind"]].sort_values("t_us", kind="stable")
    o = pd.DataFrame(
        {
            "person": orders["person"].to_numpy(),
            "conv_us": orders["t_us"].to_numpy(),
            "value": value,
        }
    )
    o = o.sort_values("conv_us", kind="stable").reset_index(drop=True)
    o["journey"] = np.arange(len(o))
    m = pd.merge_asof(s, o, left_on="t_us", right_on="conv_us", by="person", direction="forward")
    in_window = m["journey"].notna() & (m["conv_us"] - m["t_us"] <= LOOKBACK_DAYS * US_PER_DAY)
    m["channel"] = channel_of_kind[m["kind"].to_numpy()]
    conv_paths = _joined_by(m[in_window], "journey")
    null_paths = _joined_by(m[m["journey"].isna()], "person")
    conv_df = pd.DataFrame(
        {
            "path": conv_paths.to_numpy(),
            "conv": 1,
            "value": o.set_index("journey").loc[conv_paths.index, "value"].to_numpy(),
            "null": 0,
        }
    )
    empty = len(o) - len(conv_paths)
    null_df = pd.DataFrame({"path": null_paths.to_numpy(), "conv": 0, "value": 0.0, "null": 1})
    out = (
        pd.concat([conv_df, null_df], ignore_index=True)
        .groupby("path", sort=True)
        .sum()
        .reset_index()
    )
    out = out.rename(
        columns={
            "conv": "total_conversions",
            "value": "total_conversion_value",
            "null": "total_null",
        }
    )
    out.attrs["conversions_without_touches"] = int(empty)
    return out


def _joined_by(rows: pd.DataFrame, key: str) -> pd.Series:
    """``rows.groupby(key, sort=True)["channel"].agg(" > ".join)``, column-wise in Arrow."""
    keys = rows[key].to_numpy()
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    uniq, starts = np.unique(keys, return_index=True)
    offsets = pa.array(np.append(starts, len(keys)), pa.int64())
    channels = pa.array(rows["channel"].to_numpy(dtype=object)[order], pa.large_string())
    lists = pa.LargeListArray.from_arrays(offsets, channels)
    joined = pc.binary_join(lists, pa.scalar(" > ", pa.large_string()))
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=pd.Index(uniq, name=key))
