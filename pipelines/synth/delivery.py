"""Ad-platform daily delivery (canonical ``ad_delivery`` rows) consistent with the clicks.

For every ad and every day of the window: clicks = landed clicks (sessions carrying that
ad's click id, counted on the account's local day) + clicks that never landed;
impressions = clicks / CTR (so impressions >> clicks); spend = clicks x CPC with noise,
in cents of the account currency. Platform conversions are what the platform claims: the
person's last click on that platform within its click window, whatever else they touched,
plus a view-through surplus, so platforms over-claim against first-party data. App
campaigns have no landings; their clicks cover the AppsFlyer installs they drove.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.synth import world
from pipelines.synth.fx import Rates
from pipelines.synth.journeys import US_PER_DAY, Simulation

AD_COLUMNS = (
    "platform", "account_id", "account_name", "account_timezone", "account_currency",
    "spend_date", "date_basis", "campaign_id", "campaign_name", "ad_group_id", "ad_group_name",
    "ad_id", "ad_name", "impressions", "clicks", "link_clicks", "spend_micros",
    "platform_conversions", "platform_conversion_value", "conversion_definition",
)  # fmt: skip


def _local_day(t_us: np.ndarray, tz: str, start: dt.date) -> np.ndarray:
    local = pd.DatetimeIndex(pd.to_datetime(t_us, unit="us", utc=True)).tz_convert(tz)
    start_day = start.toordinal() - dt.date(1970, 1, 1).toordinal()
    return local.tz_localize(None).as_unit("us").asi8 // US_PER_DAY - start_day


def landed_clicks(sim: Simulation) -> pd.DataFrame:
    """Landed clicks per ad and local day (the consistency floor of platform clicks)."""
    s = sim.sessions
    paid = s[s["ad"] >= 0]
    return paid.groupby(["ad", "local_day"]).size().rename("landed").reset_index()


def _claims(sim: Simulation, rates: Rates) -> pd.DataFrame:
    """Platform-claimed conversions per ad and local day (before the over-claim factor)."""
    cat = sim.catalog
    s = sim.sessions
    conv = sim.conversions
    rate = rates.lookup()
    out = []
    for platform, (ctype, window, _) in world.PLATFORM_CLAIM.items():
        clicks = s[
            (s["ad"] >= 0)
            & (cat["platform"].to_numpy()[np.maximum(s["ad"].to_numpy(), 0)] == platform)
        ]
        events = conv[conv["conv_type"] == ctype]
        if clicks.empty or events.empty:
            continue
        m = pd.merge_asof(
            events[["person", "t_us", "revenue", "currency"]].sort_values("t_us", kind="stable"),
            clicks[["person", "t_us", "ad"]]
            .rename(columns={"t_us": "click_us"})
            .sort_values("click_us", kind="stable"),
            left_on="t_us",
            right_on="click_us",
            by="person",
            direction="backward",
            tolerance=window * US_PER_DAY,
        )
        m = m[m["ad"].notna()].copy()
        if m.empty:
            continue
        m["ad"] = m["ad"].astype(np.int64)
        ads = cat.iloc[m["ad"].to_numpy()]
        m["account_currency"] = ads["account_currency"].to_numpy()
        m["local_day"] = 0
        for tz in ads["account_timezone"].unique():
            sel = (ads["account_timezone"] == tz).to_numpy()
            m.loc[m.index[sel], "local_day"] = _local_day(m["t_us"].to_numpy()[sel], tz, sim.start)
        m = m[(m["local_day"] >= 0) & (m["local_day"] < sim.days)]
        if ctype == "purchase":
            day = [sim.start + dt.timedelta(days=int(d)) for d in m["local_day"]]
            to_rep = np.array([rate[d, c] for d, c in zip(day, m["currency"], strict=True)])
            acct = np.array([rate[d, c] for d, c in zip(day, m["account_currency"], strict=True)])
            m["value"] = m["revenue"].to_numpy() * to_rep / acct
        else:
            m["value"] = 0.0
        out.append(
            m.groupby(["ad", "local_day"])
            .agg(claimed=("t_us", "size"), value=("value", "sum"))
            .reset_index()
        )
    if not out:
        return pd.DataFrame(columns=["ad", "local_day", "claimed", "value"])
    return pd.concat(out, ignore_index=True)


def _app_installs(sim: Simulation) -> pd.DataFrame:
    ins = sim.installs
    paid = ins[ins["ad"] >= 0].copy()
    if paid.empty:
        return pd.DataFrame(columns=["ad", "local_day", "installs", "install_clicks"])
    cat = sim.catalog
    paid["local_day"] = 0
    tzs = cat["account_timezone"].to_numpy()[paid["ad"].to_numpy()]
    for tz in np.unique(tzs):
        sel = tzs == tz
        paid.loc[paid.index[sel], "local_day"] = _local_day(
            paid["touch_us"].to_numpy()[sel], tz, sim.start
        )
    paid["is_click"] = (paid["touch_type"] == "click").astype(int)
    return (
        paid.groupby(["ad", "local_day"])
        .agg(installs=("install_id", "size"), install_clicks=("is_click", "sum"))
        .reset_index()
    )


def build_delivery(sim: Simulation, rates: Rates, seed: int) -> pd.DataFrame:
    """Canonical ``ad_delivery`` rows for every ad and day.

    Extra columns (not canonical, dropped before writing): ``landed`` and
    ``first_party_claimable``.
    """
    rng = np.random.default_rng([seed, 30])
    cat = sim.catalog
    n_ads, days = len(cat), sim.days
    grid = pd.DataFrame(
        {
            "ad": np.repeat(np.arange(n_ads), days),
            "local_day": np.tile(np.arange(days), n_ads),
        }
    )
    grid = grid.merge(landed_clicks(sim), on=["ad", "local_day"], how="left")
    grid = grid.merge(_app_installs(sim), on=["ad", "local_day"], how="left")
    grid = grid.merge(_claims(sim, rates), on=["ad", "local_day"], how="left")
    grid = grid.fillna(
        {"landed": 0, "installs": 0, "install_clicks": 0, "claimed": 0, "value": 0.0}
    )
    n = len(grid)
    ads = cat.iloc[grid["ad"].to_numpy()].reset_index(drop=True)
    platform = ads["platform"].to_numpy()
    landed = grid["landed"].to_numpy().astype(np.int64)
    install_clicks = grid["install_clicks"].to_numpy().astype(np.int64)
    is_app = ads["is_app"].to_numpy().astype(bool)
    # app campaigns: about one install per four clicks
    floor = landed + np.where(is_app, install_clicks, 0)
    unlanded = rng.poisson(
        world.UNLANDED_CLICK_RATE * floor + np.where(is_app, 3.0 * install_clicks + 2.0, 0.4)
    )
    link_clicks = floor + unlanded
    social = np.isin(platform, ["meta_ads", "linkedin_ads"])
    other_clicks = np.where(social, rng.poisson(0.6 * link_clicks + 0.5), 0)
    clicks = link_clicks + other_clicks
    ctr = ads["ctr"].to_numpy() * rng.lognormal(0.0, 0.15, n)
    impressions = np.round((clicks + 1) / ctr * rng.lognormal(0.0, 0.1, n)).astype(
        np.int64
    ) + rng.integers(5, 50, n)
    cpc = ads["cpc"].to_numpy() * rng.lognormal(0.0, 0.12, n)
    spend_units = np.round(clicks * cpc + impressions * cpc * ctr * 0.02, 2)
    spend_micros = (np.round(spend_units * 100).astype(np.int64)) * 10_000
    # platform conversions: claims x over-claim factor + view-through surplus
    claimed = grid["claimed"].to_numpy(dtype=np.float64)
    factor = rng.uniform(1.05, 1.35, n)
    view = rng.poisson(
        np.where(np.isin(platform, ["meta_ads", "tiktok_ads"]), impressions * 2e-5, 0.0)
    )
    installs = grid["installs"].to_numpy(dtype=np.float64)
    conv = np.where(is_app, installs * rng.uniform(1.05, 1.3, n), claimed * factor + view)
    value = np.where(is_app, 0.0, grid["value"].to_numpy(dtype=np.float64) * factor + view * 55.0)
    whole = np.isin(platform, ["meta_ads", "tiktok_ads", "linkedin_ads", "taboola"])
    conv = np.where(whole, np.round(conv), np.round(conv, 2))
    value = np.round(value, 2)
    spend_date = [sim.start + dt.timedelta(days=int(d)) for d in grid["local_day"]]
    definition = np.array([world.PLATFORM_CLAIM[p][2] for p in platform], dtype=object)
    definition[is_app & (platform == "meta_ads")] = "meta:mobile_app_install"
    out = pd.DataFrame(
        {
            "platform": platform,
            "account_id": ads["account_id"].to_numpy(),
            "account_name": ads["account_name"].to_numpy(),
            "account_timezone": ads["account_timezone"].to_numpy(),
            "account_currency": ads["account_currency"].to_numpy(),
            "spend_date": spend_date,
            "date_basis": "account_tz",
            "campaign_id": ads["campaign_id"].to_numpy(),
            "campaign_name": ads["campaign_name"].to_numpy(),
            "ad_group_id": ads["ad_group_id"].to_numpy(),
            "ad_group_name": ads["ad_group_name"].to_numpy(),
            "ad_id": ads["ad_id"].to_numpy(),
            "ad_name": ads["ad_name"].to_numpy(),
            "impressions": impressions,
            "clicks": clicks,
            "link_clicks": link_clicks,
            "spend_micros": spend_micros,
            "platform_conversions": conv.astype(float),
            "platform_conversion_value": value,
            "conversion_definition": definition,
            "landed": landed,
            "first_party_claimable": claimed,
        }
    )
    return out.sort_values(
        ["platform", "account_id", "spend_date", "campaign_id", "ad_group_id", "ad_id"],
        kind="stable",
        ignore_index=True,
    )


def restate(rows: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A later re-delivery of the same day: invalid clicks credited, late conversions added."""
    rng = np.random.default_rng([seed, 31])
    out = rows.copy()
    n = len(out)
    clicks = out["clicks"].to_numpy()
    floor = out["landed"].to_numpy()
    invalid = np.minimum(rng.binomial(clicks, 0.04), clicks - floor)
    out["clicks"] = clicks - invalid
    out["link_clicks"] = out["link_clicks"].to_numpy() - invalid
    cents = out["spend_micros"].to_numpy() // 10_000
    credit = np.round(cents * rng.uniform(0.01, 0.05, n)).astype(np.int64)
    out["spend_micros"] = (cents - credit) * 10_000
    late = rng.poisson(0.4, n)
    out["platform_conversions"] = np.round(out["platform_conversions"].to_numpy() * 1.06 + late, 2)
    out["platform_conversion_value"] = np.round(
        out["platform_conversion_value"].to_numpy() * 1.06 + late * 60.0, 2
    )
    return out
