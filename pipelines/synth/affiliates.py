"""Affiliate transaction reports (canonical ``affiliate_transactions``) and app installs.

A network reports an order when the buyer clicked one of its publishers' links within the
cookie window (last affiliate click wins), whatever else they touched. Quirks: the first
refunded order claimed by Impact is re-delivered as ``REVERSED`` on the refund day; one
Awin sale is declined a few days later; one CJ sale gets a separate negative correction.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd

from pipelines.synth import world
from pipelines.synth.fx import Rates
from pipelines.synth.journeys import US_PER_DAY, Simulation, affiliate_claims


def _ts(us: np.ndarray | int) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(us, dtype=np.int64), unit="us", utc=True)


def _day(sim: Simulation, us: int) -> dt.date:
    return sim.start + dt.timedelta(days=int((us - sim.start_us) // US_PER_DAY))


def build_transactions(sim: Simulation, rates: Rates, seed: int) -> tuple[pd.DataFrame, dict]:
    """Rows to deliver (with a ``deliver_day`` column) and the quirks produced."""
    rng = np.random.default_rng([seed, 40])
    orders = sim.conversions[sim.conversions["conv_type"] == "purchase"]
    claims = affiliate_claims(sim, orders)
    quirks: dict = {}
    if claims.empty:
        return pd.DataFrame(), quirks
    o = orders.set_index("order_id").loc[claims["order_id"]]
    rate = rates.lookup()
    n = len(claims)
    day = [_day(sim, int(t)) for t in o["t_us"]]
    net_cur = np.array([world.AFFILIATE_NETWORKS[x][1] for x in claims["network"]], dtype=object)
    sale = np.round(
        o["revenue"].to_numpy()
        * np.array([rate[d, c] for d, c in zip(day, o["currency"], strict=True)])
        / np.array([rate[d, c] for d, c in zip(day, net_cur, strict=True)]),
        2,
    )
    commission = np.round(
        sale * np.array([world.AFFILIATE_NETWORKS[x][2] for x in claims["network"]]), 2
    )
    pubs = [world.PUBLISHERS[int(i)] for i in claims["publisher"]]
    seq = np.arange(n)
    tid = np.where(
        claims["network"] == "impact",
        [f"1000.4636.{158133 + i}" for i in seq],
        np.where(
            claims["network"] == "awin",
            [str(310000000 + i) for i in seq],
            [str(3300000000 + i) for i in seq],
        ),
    )
    event_us = o["t_us"].to_numpy()
    base = pd.DataFrame(
        {
            "network": claims["network"].to_numpy(),
            "transaction_id": tid,
            "order_id": claims["order_id"].to_numpy(),
            "advertiser_id": [world.AFFILIATE_NETWORKS[x][0] for x in claims["network"]],
            "publisher_id": [p.publisher_id for p in pubs],
            "publisher_name": [p.publisher_name for p in pubs],
            "sub_id": claims["click_id"].to_numpy(),
            "event_at": _ts(event_us),
            "click_at": _ts(claims["click_us"].to_numpy()),
            "transaction_date": day,
            "status": "pending",
            "raw_status": None,
            "sale_amount": sale,
            "commission_amount": commission,
            "currency": net_cur,
            "is_correction": False,
            "original_transaction_id": None,
            "updated_at": _ts(event_us),
            "deliver_day": day,
        }
    )
    extra = []
    refunds = sim.refunds.set_index("order_id")
    # Impact: a refunded order is re-delivered as reversed on the refund day
    imp = base[(base["network"] == "impact") & base["order_id"].isin(refunds.index)]
    if len(imp):
        r = imp.iloc[[0]].copy()
        t = int(refunds.loc[r["order_id"].iloc[0], "t_us"])
        r["status"], r["raw_status"], r["updated_at"], r["deliver_day"] = (
            "reversed",
            "REVERSED",
            _ts([t]),
            [_day(sim, t)],
        )
        extra.append(r)
        quirks["impact_reversed"] = r["transaction_id"].iloc[0]
    late = event_us < sim.end_us - 2 * 3_600_000_000
    # Awin: one sale declined a few days later
    aw = base[
        (base["network"] == "awin").to_numpy()
        & late
        & ~base["order_id"].isin(refunds.index).to_numpy()
    ]
    if len(aw):
        r = aw.iloc[[int(rng.integers(0, len(aw)))]].copy()
        t0 = int(r["updated_at"].iloc[0].value // 1000)
        t = t0 + min(3 * US_PER_DAY, (sim.end_us - t0) // 2)
        r["status"], r["raw_status"], r["updated_at"], r["deliver_day"] = (
            "reversed",
            "declined",
            _ts([t]),
            [_day(sim, t)],
        )
        extra.append(r)
        quirks["awin_declined"] = r["transaction_id"].iloc[0]
    # CJ: a separate negative correction record (returned merchandise)
    cj = base[(base["network"] == "cj").to_numpy() & late]
    if len(cj):
        r = cj.iloc[[int(rng.integers(0, len(cj)))]].copy()
        t0 = int(r["updated_at"].iloc[0].value // 1000)
        t = t0 + min(4 * US_PER_DAY, (sim.end_us - t0) // 2)
        r["original_transaction_id"] = r["transaction_id"]
        r["transaction_id"] = str(int(r["transaction_id"].iloc[0]) + 50_000_000)
        r["sale_amount"], r["commission_amount"] = -r["sale_amount"], -r["commission_amount"]
        r["status"], r["is_correction"], r["updated_at"], r["deliver_day"] = (
            "reversed",
            True,
            _ts([t]),
            [_day(sim, t)],
        )
        extra.append(r)
        quirks["cj_correction"] = r["transaction_id"].iloc[0]
    out = pd.concat([base, *extra], ignore_index=True)
    return out.sort_values(
        ["deliver_day", "network", "event_at", "transaction_id"], kind="stable", ignore_index=True
    ), quirks


def build_installs(sim: Simulation) -> pd.DataFrame:
    """Canonical ``app_installs`` rows (AppsFlyer raw installs), with ``deliver_day``."""
    ins = sim.installs
    cat = sim.catalog
    ad = ins["ad"].to_numpy()
    paid = ad >= 0
    rows = cat.iloc[np.maximum(ad, 0)].reset_index(drop=True)

    def pick(col: str) -> np.ndarray:
        return np.where(paid, rows[col].to_numpy(dtype=object), None)

    channel = {
        "Facebook Ads": "Facebook",
        "googleadwords_int": "ACI_Search",
        "tiktokglobal_int": "TikTok",
    }
    device_hash = [hashlib.sha256(d.encode()).hexdigest() for d in ins["device_id"]]
    return pd.DataFrame(
        {
            "mmp": "appsflyer",
            "install_id": ins["install_id"].to_numpy(),
            "app_id": world.APP_ID,
            "install_at": _ts(ins["install_us"].to_numpy()),
            "touch_at": pd.Series(_ts(np.where(paid, ins["touch_us"].to_numpy(), 0))).where(
                paid, pd.NaT
            ),
            "touch_type": ins["touch_type"].to_numpy(),
            "media_source": ins["media_source"].to_numpy(),
            "channel": [channel.get(m) for m in ins["media_source"]],
            "campaign_id": pick("campaign_id"),
            "campaign_name": pick("campaign_name"),
            "adset_id": pick("ad_group_id"),
            "adset_name": pick("ad_group_name"),
            "ad_id": pick("ad_id"),
            "ad_name": pick("ad_name"),
            "cost_model": np.where(paid, "CPI", None),
            "cost_value": np.where(paid, ins["cost_value"].to_numpy(), np.nan),
            "cost_currency": np.where(paid, "USD", None),
            "customer_user_id": ins["customer_user_id"].to_numpy(),
            "device_id_hash": device_hash,
            "is_primary_attribution": True,
            "device_id": ins["device_id"].to_numpy(),
            "deliver_day": [_day(sim, int(t)) for t in ins["install_us"]],
        }
    )
