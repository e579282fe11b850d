"""First-party events: the simulation rendered as canonical ``events`` rows, one day at a time.

Per session: a landing ``page`` (the landing URL carries the UTMs and click id; the
referrer is the search engine, social site, publisher or blog), internal page views,
``identify`` calls (log-ins, sign-ups, checkouts), and ``track`` events for conversions.
Apps send ``Application Installed``. At-least-once delivery duplicates a few messages
(same ``messageId``, later ``receivedAt``). Rows carry raw ``email``/``phone`` columns on
``identify`` calls, which the events writer turns into Segment traits.

Strings are built per day with vectorised concatenation, so memory stays bounded by one
day of events however long the run.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote_plus

import numpy as np
import pandas as pd

from pipelines.synth import world
from pipelines.synth.journeys import US_PER_DAY, US_PER_SEC, Simulation, concat, rand_strings, uuids

DUPLICATE_RATE = 0.004
_LANDING_NAMES = ("Home", "Widget Pro", "Widget Mini", "Sale", "How to choose a widget")
_INTERNAL_NAMES = ("Products", "Widget Pro", "Widget Mini", "Cart", "Checkout", "About")
_TRACK_NAMES = {
    "sign_up": "Signed Up",
    "lead": "Lead Generated",
    "purchase": "Order Completed",
}
COLUMNS = (
    "event_id", "event_type", "event_name", "event_at", "received_at", "anonymous_id", "user_id",
    "page_url", "referrer_url", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "utm_id", "click_id_type", "click_id", "order_id", "revenue", "currency",
    "properties_json", "email", "phone",
)  # fmt: skip


def landing_tags(sim: Simulation) -> pd.DataFrame:
    """Per session: landing URL, referrer, UTM columns and click id (as the tracker sees them)."""
    s = sim.sessions
    cat = sim.catalog
    n = len(s)
    kind = s["kind"].to_numpy()
    ad = s["ad"].to_numpy()
    sub = s["sub"].to_numpy()
    variant = s["variant"].to_numpy()
    click = s["click_id"].to_numpy(dtype=object)
    out = {c: np.full(n, None, dtype=object) for c in (
        "referrer_url", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
        "utm_id", "click_id_type", "click_id", "query",
    )}  # fmt: skip
    paid = ad >= 0
    # paid platforms, grouped by ad: one prefix per ad, click ids appended vectorised
    for a in np.unique(ad[paid]):
        m = ad == a
        row = cat.iloc[int(a)]
        src, med, param, ref = world.PLATFORM_TAGS[row["platform"]]
        utm = {
            "utm_source": src,
            "utm_medium": med,
            "utm_campaign": row["campaign_name"],
            "utm_id": row["campaign_id"],
            "utm_content": row["ad_id"],
            "utm_term": row["keyword"],
        }
        utm = {k: v for k, v in utm.items() if v is not None}
        prefix = "&".join(f"{k}={quote_plus(str(v))}" for k, v in utm.items())
        params = np.full(int(m.sum()), param, dtype=object)
        tagged = np.ones(int(m.sum()), dtype=bool)
        if row["platform"] == "google_ads":  # iOS clicks carry gbraid instead of gclid
            params[variant[m] < 0.03] = "gbraid"
        if row["platform"] == "tiktok_ads":  # some ads lack UTMs: only the click id tells
            tagged = variant[m] >= 0.05
        ids = click[m]
        out["query"][m] = np.where(
            tagged, concat(prefix, "&", params, "=", ids), concat(params, "=", ids)
        )
        for k, v in utm.items():
            out[k][m] = np.where(tagged, v, None)
        out["click_id_type"][m] = params
        out["click_id"][m] = ids
        out["referrer_url"][m] = ref
    # affiliates
    for i, pub in enumerate(world.PUBLISHERS):
        m = (kind == world.KIND["affiliate"]) & (sub == i)
        if not m.any():
            continue
        param = world.AFFILIATE_NETWORKS[pub.network][3]
        prefix = f"utm_source={pub.slug}&utm_medium=affiliate&utm_campaign={pub.network}&{param}="
        out["query"][m] = concat(prefix, click[m])
        out["utm_source"][m], out["utm_medium"][m], out["utm_campaign"][m] = (
            pub.slug,
            "affiliate",
            pub.network,
        )
        out["referrer_url"][m] = world.PUBLISHER_SITES[pub.slug]
        if param == "irclickid":  # the only affiliate click id the tracker knows
            out["click_id_type"][m] = param
            out["click_id"][m] = click[m]
    for i, name in enumerate(world.EMAIL_CAMPAIGNS):
        m = (kind == world.KIND["email"]) & (sub == i)
        out["query"][m] = f"utm_source=klaviyo&utm_medium=email&utm_campaign={name}"
        out["utm_source"][m], out["utm_medium"][m], out["utm_campaign"][m] = (
            "klaviyo",
            "email",
            name,
        )
    for i, (ref, _) in enumerate(world.ORGANIC_REFERRERS):
        out["referrer_url"][(kind == world.KIND["organic_search"]) & (sub == i)] = ref
    for i, ref in enumerate(world.REFERRAL_SITES):
        out["referrer_url"][(kind == world.KIND["referral"]) & (sub == i)] = ref
    path = np.asarray(world.LANDING_PATHS, dtype=object)[s["landing"].to_numpy()]
    url = concat(world.SITE, path)
    q = out.pop("query")
    has_q = pd.notna(pd.Series(q, dtype=object)).to_numpy()
    url = np.where(has_q, concat(url, "?", np.where(has_q, q, "")), url)
    return pd.DataFrame({"sid": s["sid"].to_numpy(), "page_url": url, **out})


def event_index(sim: Simulation) -> pd.DataFrame:
    """Every event as numbers: code, person, device, time and a pointer to its details."""
    s = sim.sessions
    pieces = []
    pieces.append(pd.DataFrame({
        "code": 0, "device": s["device"].to_numpy(), "person": s["person"].to_numpy(),
        "t_us": s["t_us"].to_numpy(), "ref": np.arange(len(s)),
    }))  # fmt: skip
    pg = sim.pages
    pos = pd.Index(s["sid"]).get_indexer(pg["sid"])
    pieces.append(pd.DataFrame({
        "code": 1, "device": s["device"].to_numpy()[pos], "person": s["person"].to_numpy()[pos],
        "t_us": s["t_us"].to_numpy()[pos] + pg["offset_us"].to_numpy(), "ref": pos,
    }))  # fmt: skip
    ids = sim.identifies
    pieces.append(pd.DataFrame({
        "code": 2, "device": ids["device"].to_numpy(), "person": ids["person"].to_numpy(),
        "t_us": ids["t_us"].to_numpy(), "ref": np.arange(len(ids)),
    }))  # fmt: skip
    c = sim.conversions
    pieces.append(pd.DataFrame({
        "code": 3, "device": c["device"].to_numpy(), "person": c["person"].to_numpy(),
        "t_us": c["t_us"].to_numpy(), "ref": np.arange(len(c)),
    }))  # fmt: skip
    r = sim.refunds
    pieces.append(pd.DataFrame({
        "code": 4, "device": r["device"].to_numpy(dtype=np.int64),
        "person": r["person"].to_numpy(dtype=np.int64),
        "t_us": r["t_us"].to_numpy(dtype=np.int64), "ref": np.arange(len(r)),
    }))  # fmt: skip
    ins = sim.installs
    pieces.append(pd.DataFrame({
        "code": 5, "device": ins["device"].to_numpy(), "person": ins["person"].to_numpy(),
        "t_us": ins["install_us"].to_numpy() + 5 * US_PER_SEC, "ref": np.arange(len(ins)),
    }))  # fmt: skip
    ev = pd.concat(pieces, ignore_index=True)
    ev = ev[(ev["t_us"] >= sim.start_us) & (ev["t_us"] < sim.end_us)]
    ev["day"] = (ev["t_us"].to_numpy() - sim.start_us) // US_PER_DAY
    return ev.sort_values(
        ["day", "t_us", "code", "device", "ref"], kind="stable", ignore_index=True
    )


def lookups(sim: Simulation, tags: pd.DataFrame) -> dict[str, np.ndarray]:
    """Plain NumPy copies of every column ``render_day`` reads (converted once per run)."""
    obj = {
        "anonymous_id": sim.devices["anonymous_id"],
        "user_id": sim.people["user_id"],
        "email": sim.people["email"],
        "phone": sim.people["phone"],
        "conv_type": sim.conversions["conv_type"],
        "order_id": sim.conversions["order_id"],
        "currency": sim.conversions["currency"],
        "refund_order_id": sim.refunds["order_id"],
        "refund_currency": sim.refunds["currency"],
        **{f"tag_{c}": tags[c] for c in _TAG_COLUMNS},
    }
    out = {k: v.to_numpy(dtype=object) for k, v in obj.items()}
    out["identified_at"] = sim.devices["identified_at_us"].to_numpy(
        dtype="float64", na_value=np.inf
    )
    out["landing"] = sim.sessions["landing"].to_numpy()
    out["revenue"] = sim.conversions["revenue"].to_numpy(dtype=float)
    out["refund_revenue"] = sim.refunds["revenue"].to_numpy(dtype=float)
    return out


_TAG_COLUMNS = (
    "page_url", "referrer_url", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content", "utm_id", "click_id_type", "click_id",
)  # fmt: skip


def render_day(
    look: dict[str, np.ndarray], ev: pd.DataFrame, seed: int, day_index: int
) -> pd.DataFrame:
    """Canonical ``events`` rows (plus raw ``email``/``phone``) of one UTC day.

    ``look`` comes from ``lookups``; ``ev`` is that day's slice of ``event_index``.
    """
    rng = np.random.default_rng([seed, 20, day_index])
    n = len(ev)
    code = ev["code"].to_numpy()
    ref = ev["ref"].to_numpy()
    device = ev["device"].to_numpy()
    person = ev["person"].to_numpy()
    t_us = ev["t_us"].to_numpy()
    cols = {c: np.full(n, None, dtype=object) for c in COLUMNS}
    cols["revenue"] = np.full(n, np.nan)
    cols["event_id"] = uuids(rng, n)
    ev_type = np.select([code <= 1, code == 2], ["page", "identify"], "track").astype(object)
    cols["event_type"] = ev_type
    cols["anonymous_id"] = look["anonymous_id"][device]
    known = t_us >= look["identified_at"][device]
    cols["user_id"] = np.where(known, look["user_id"][person], None)

    m = code == 0  # landing pages
    if m.any():
        for c in _TAG_COLUMNS:
            cols[c][m] = look[f"tag_{c}"][ref[m]]
        cols["event_name"][m] = np.asarray(_LANDING_NAMES, dtype=object)[look["landing"][ref[m]]]
    m = code == 1  # internal pages
    if m.any():
        k = rng.integers(0, len(world.INTERNAL_PATHS), int(m.sum()))
        cols["page_url"][m] = concat(world.SITE, np.asarray(world.INTERNAL_PATHS, dtype=object)[k])
        landing = look["landing"][ref[m]]
        cols["referrer_url"][m] = concat(
            world.SITE, np.asarray(world.LANDING_PATHS, dtype=object)[landing]
        )
        cols["event_name"][m] = np.asarray(_INTERNAL_NAMES, dtype=object)[k]
    m = code == 2  # identify
    if m.any():
        cols["email"][m] = look["email"][person[m]]
        cols["phone"][m] = look["phone"][person[m]]
        cols["user_id"][m] = look["user_id"][person[m]]
        cols["properties_json"][m] = '{"plan":"free"}'
    m = code == 3  # conversions
    if m.any():
        r = ref[m]
        ctype = look["conv_type"][r]
        cols["event_name"][m] = np.select(
            [ctype == k for k in _TRACK_NAMES], list(_TRACK_NAMES.values()), None
        ).astype(object)
        cols["user_id"][m] = look["user_id"][person[m]]
        cols["order_id"][m] = look["order_id"][r]
        rev = look["revenue"][r]
        cols["revenue"][m] = rev
        cols["currency"][m] = look["currency"][r]
        is_order = ctype == "purchase"
        tax = np.round(np.nan_to_num(rev) * 0.08, 2)
        total = np.round(np.nan_to_num(rev) + tax + 4.99, 2)
        order_props = concat(
            '{"checkout_id":"',
            rand_strings(rng, len(r), 12, "0123456789abcdef"),
            '","shipping":4.99,"tax":',
            np.char.mod("%.2f", tax).astype(object),
            ',"total":',
            np.char.mod("%.2f", total).astype(object),
            "}",
        )
        cols["properties_json"][m] = np.select(
            [is_order, ctype == "lead", ctype == "sign_up"],
            [order_props, '{"form":"demo_request"}', '{"method":"email"}'],
            None,
        ).astype(object)
    m = code == 4  # refunds
    if m.any():
        r = ref[m]
        cols["event_name"][m] = "Order Refunded"
        cols["user_id"][m] = look["user_id"][person[m]]
        cols["order_id"][m] = look["refund_order_id"][r]
        cols["revenue"][m] = look["refund_revenue"][r]
        cols["currency"][m] = look["refund_currency"][r]
        cols["properties_json"][m] = '{"reason":"returned"}'
    m = code == 5  # app installs
    if m.any():
        cols["event_name"][m] = "Application Installed"
        cols["properties_json"][m] = '{"version":"3.2.0","build":"3200"}'

    latency = (np.round(rng.exponential(0.8, n) * 1000) * 1000).astype(np.int64) + 50_000
    received = t_us + latency
    frame = pd.DataFrame(cols)
    frame["event_at"] = pd.to_datetime(t_us, unit="us", utc=True)
    frame["received_at"] = pd.to_datetime(received, unit="us", utc=True)
    # at-least-once delivery: a few messages arrive twice (same messageId, later receipt)
    dup = np.flatnonzero(rng.random(n) < DUPLICATE_RATE)
    if len(dup):
        copies = frame.iloc[dup].copy()
        extra = rng.integers(1, 300, len(dup)) * US_PER_SEC
        copies["received_at"] = pd.to_datetime(received[dup] + extra, unit="us", utc=True)
        frame = pd.concat([frame, copies], ignore_index=True)
        frame = frame.sort_values(["received_at", "event_at"], kind="stable", ignore_index=True)
    return frame


def day_of(sim: Simulation, index: int) -> dt.date:
    return sim.start + dt.timedelta(days=index)
