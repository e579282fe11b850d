"""People, devices, sessions and conversions: the vectorised core of the simulation.

Every step works on whole NumPy arrays (no loop per person or per event), so the same code
makes 3,000 people for the demo and a million for a benchmark. Times are integer
microseconds since the Unix epoch (UTC), rounded to milliseconds like a tracker's clock.

The causal model: a session of touch kind ``k`` (and so channel ``c``) converts with
probability ``BASE_RATE[type] x CHANNEL_LIFT[c] x intent`` (``intent`` is the person's
Gamma-distributed propensity). The firing session is the *cause* (the truth); the
conversion event may happen in a later session on another device (two-device buyers
browse on one device and buy on the other, in a direct visit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.synth import world

US_PER_SEC = 1_000_000
US_PER_HOUR = 3600 * US_PER_SEC
US_PER_DAY = 24 * US_PER_HOUR

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_HEX = "0123456789abcdef"
_FIRST = (
    "anna",
    "ben",
    "carla",
    "david",
    "emma",
    "felix",
    "greta",
    "hugo",
    "ida",
    "jonas",
    "kim",
    "lena",
    "max",
    "nina",
    "oskar",
    "paula",
    "quinn",
    "rosa",
    "sven",
    "tara",
)
_LAST = ("smith", "meyer", "garcia", "nguyen", "olsen", "rossi", "khan", "novak", "berg", "silva")
_DOMAINS = ("example.com", "mail.example.org", "inbox.example.net")


def rand_strings(rng: np.random.Generator, n: int, length: int, alphabet: str = _B64) -> np.ndarray:
    """``n`` random strings of ``length`` characters from ``alphabet`` (vectorised)."""
    if n == 0:
        return np.array([], dtype=object)
    table = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)
    codes = table[rng.integers(0, len(table), size=(n, length))]
    return np.ascontiguousarray(codes).view(f"S{length}").ravel().astype(str).astype(object)


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random version-4-shaped UUID strings (the draws of ``rand_strings(rng, n, 32, hex)``)."""
    if n == 0:
        return np.array([], dtype=object)
    table = np.frombuffer(_HEX.encode("ascii"), dtype=np.uint8)
    hexes = table[rng.integers(0, len(table), size=(n, 32))]
    out = np.empty((n, 36), dtype=np.uint8)
    out[:, [8, 13, 18, 23]] = ord("-")
    out[:, 0:8], out[:, 9:13], out[:, 24:36] = hexes[:, 0:8], hexes[:, 8:12], hexes[:, 20:32]
    out[:, 14], out[:, 15:18] = ord("4"), hexes[:, 13:16]
    out[:, 19], out[:, 20:23] = ord("a"), hexes[:, 17:20]
    return out.view("S36").ravel().astype("U36").astype(object)


def concat(*parts: object) -> np.ndarray:
    """Element-wise string concatenation of arrays and scalars (object arrays)."""
    out = None
    for p in parts:
        s = p if isinstance(p, str) else pd.Series(np.asarray(p, dtype=object), dtype=object)
        out = s if out is None else out + s
    return np.asarray(out, dtype=object)


def _group_first(keys: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal keys (keys sorted)."""
    m = np.ones(len(keys), dtype=bool)
    m[1:] = keys[1:] != keys[:-1]
    return m


def _diurnal_inverse() -> tuple[np.ndarray, np.ndarray]:
    """Grid for mapping activity time to clock time: busy in EU and US evenings (UTC)."""
    h = np.linspace(0.0, 24.0, 289)

    def bump(center: float, width: float) -> np.ndarray:
        d = np.minimum(np.abs(h - center), 24 - np.abs(h - center))
        return np.exp(-0.5 * (d / width) ** 2)

    lam = 0.35 + 0.8 * bump(19.0, 3.0) + 1.0 * bump(1.5, 3.5)
    cdf = np.concatenate([[0.0], np.cumsum((lam[1:] + lam[:-1]) / 2 * np.diff(h))])
    return cdf / cdf[-1], h / 24.0


def warp(activity_days: np.ndarray) -> np.ndarray:
    """Monotone map from uniform activity time to clock time with a daily rhythm."""
    cdf, frac = _diurnal_inverse()
    day = np.floor(activity_days)
    return day + np.interp(activity_days - day, cdf, frac)


@dataclass
class Simulation:
    """The simulated population; every frame is sorted by person then time."""

    start: dt.date
    days: int
    start_us: int
    catalog: pd.DataFrame
    people: (
        pd.DataFrame
    )  # person, person_id, user_id, region, intent, n_devices, has_app, has_account, email, phone
    devices: (
        pd.DataFrame
    )  # device, person, slot (web | web_second | app), anonymous_id, identified_at_us
    sessions: (
        pd.DataFrame
    )  # sid, person, device, t_us, kind, ad, sub, landing, dur_us, click_id, ...
    pages: pd.DataFrame  # sid, offset_us (internal page views after the landing)
    conversions: (
        pd.DataFrame
    )  # conv_type, person, device, host_sid, cause_sid, cause_kind, t_us, order fields
    identifies: pd.DataFrame  # person, device, t_us
    refunds: pd.DataFrame  # order_id, person, device, t_us, revenue, currency
    installs: pd.DataFrame  # AppsFlyer-level installs with the app device

    @property
    def end_us(self) -> int:
        return self.start_us + self.days * US_PER_DAY


def simulate(start: dt.date, days: int, seed: int, people: int) -> Simulation:
    """Run the whole simulation (deterministic for a seed)."""
    cat = world.catalog()
    start_us = int(pd.Timestamp(start, tz="UTC").value // 1000)
    end_us = start_us + days * US_PER_DAY
    ppl = _people(np.random.default_rng([seed, 1]), people)
    devices = _devices(np.random.default_rng([seed, 2]), ppl)
    sessions = _sessions(np.random.default_rng([seed, 3]), ppl, devices, cat, start, days, start_us)
    sessions, pages = _durations(np.random.default_rng([seed, 4]), sessions)
    conv, sessions, pages = _conversions(
        np.random.default_rng([seed, 5]), ppl, devices, sessions, pages, end_us
    )
    ppl, devices, identifies = _identities(
        np.random.default_rng([seed, 6]), ppl, devices, sessions, conv
    )
    conv = _orders(np.random.default_rng([seed, 7]), ppl, conv)
    installs, app_ids = _installs(
        np.random.default_rng([seed, 8]), ppl, devices, cat, start_us, days
    )
    identifies = pd.concat([identifies, app_ids], ignore_index=True).sort_values(
        ["person", "t_us", "device"], kind="stable", ignore_index=True
    )
    devices = _identified_at(devices, identifies)
    sim = Simulation(
        start,
        days,
        start_us,
        cat,
        ppl,
        devices,
        sessions,
        pages,
        conv,
        identifies,
        pd.DataFrame(),
        installs,
    )
    sim.refunds = _refunds(np.random.default_rng([seed, 9]), sim)
    return sim


# ----------------------------------------------------------------------------- people
def _people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    idx = np.arange(n)
    region = np.where(rng.random(n) < 0.2, "EU", "US")
    first = np.asarray(_FIRST, dtype=object)[rng.integers(0, len(_FIRST), n)]
    last = np.asarray(_LAST, dtype=object)[rng.integers(0, len(_LAST), n)]
    domain = np.asarray(_DOMAINS, dtype=object)[rng.integers(0, len(_DOMAINS), n)]
    email = concat(first, ".", last, pd.Series(idx).astype(str).to_numpy(dtype=object), "@", domain)
    # Real trackers deliver addresses un-normalised: mixed case and stray spaces.
    style = rng.random(n)
    email = np.where(
        style < 0.1, concat(" ", pd.Series(email).str.title().to_numpy(dtype=object), " "), email
    )
    phone_digits = rand_strings(rng, n, 7, "0123456789")
    phone = np.where(rng.random(n) < 0.4, concat("+1 555 ", phone_digits), None)
    return pd.DataFrame(
        {
            "person": idx,
            "person_id": concat("p", pd.Series(idx).map("{:07d}".format).to_numpy(dtype=object)),
            "user_id": concat("usr_", rand_strings(rng, n, 12, _HEX)),
            "region": region,
            "intent": rng.gamma(2.0, 0.5, n),
            "n_devices": np.where(rng.random(n) < 0.15, 2, 1),
            "has_app": rng.random(n) < 0.08,
            "email": email,
            "phone": phone,
        }
    )


def _devices(rng: np.random.Generator, ppl: pd.DataFrame) -> pd.DataFrame:
    p = ppl["person"].to_numpy()
    second = p[ppl["n_devices"].to_numpy() == 2]
    app = p[ppl["has_app"].to_numpy()]
    person = np.concatenate([p, second, app])
    slot = np.concatenate(
        [
            np.full(len(p), "web", dtype=object),
            np.full(len(second), "web_second", dtype=object),
            np.full(len(app), "app", dtype=object),
        ]
    )
    return pd.DataFrame(
        {
            "device": np.arange(len(person)),
            "person": person,
            "slot": slot,
            "anonymous_id": uuids(rng, len(person)),
        }
    )


# ----------------------------------------------------------------------------- sessions
def _sessions(
    rng: np.random.Generator,
    ppl: pd.DataFrame,
    devices: pd.DataFrame,
    cat: pd.DataFrame,
    start: dt.date,
    days: int,
    start_us: int,
) -> pd.DataFrame:
    n_people = len(ppl)
    n_sess = 1 + rng.negative_binomial(1.0, 1.0 / (1.0 + 1.3), n_people)
    person = np.repeat(np.arange(n_people), n_sess)
    total = len(person)
    first = np.concatenate([[0], np.cumsum(n_sess)[:-1]])
    pos = np.arange(total) - first[person]
    gaps = 0.07 + rng.exponential(3.0, total)
    gaps[pos == 0] = 0.0
    cs = np.cumsum(gaps)
    arrival = rng.uniform(-5.0, days, n_people)
    activity = arrival[person] + cs - cs[first[person]]
    t_days = warp(activity)
    t_us = start_us + np.round(t_days * US_PER_DAY / 1000).astype(np.int64) * 1000

    # touch kinds, with persistence (the same kind again: retargeting, habits)
    shares = np.array([world.KIND_SHARE[k] for k in world.KINDS])
    fresh = rng.choice(len(world.KINDS), total, p=shares / shares.sum())
    take_fresh = (pos == 0) | (rng.random(total) >= world.REPEAT_KIND)
    src = np.maximum.accumulate(np.where(take_fresh, np.arange(total), 0))
    kind = fresh[src]

    # device: two-device people use the second device for a quarter of their visits
    web_dev = devices[devices["slot"] == "web"].set_index("person")["device"]
    second_dev = devices[devices["slot"] == "web_second"].set_index("person")["device"]
    device = web_dev.reindex(person).to_numpy()
    sec = second_dev.reindex(person).to_numpy()
    use_second = ~np.isnan(sec) & (rng.random(total) < 0.25)
    device = np.where(use_second, np.nan_to_num(sec), device).astype(np.int64)

    region = ppl["region"].to_numpy()[person]
    ad = np.full(total, -1, dtype=np.int64)
    sub = np.full(total, -1, dtype=np.int64)
    u = rng.random(total)
    for platform in world.PAID_PLATFORMS:
        k = world.KIND[platform]
        web = cat[(cat["platform"] == platform) & ~cat["is_app"]]
        for reg in ("US", "EU"):
            m = (kind == k) & (region == reg)
            if not m.any():
                continue
            cands = web[web["region"] == reg]
            if cands.empty:
                cands = web
            w = cands["weight"].to_numpy()
            cum = np.cumsum(w / w.sum())
            ad[m] = cands["ad_index"].to_numpy()[
                np.minimum(np.searchsorted(cum, u[m]), len(cum) - 1)
            ]
    pubs = world.PUBLISHERS
    for reg in ("US", "EU"):
        m = (kind == world.KIND["affiliate"]) & (region == reg)
        w = np.array([(0.4 if p.region == reg else 0.05) for p in pubs])
        sub[m] = rng.choice(len(pubs), int(m.sum()), p=w / w.sum())
    m = kind == world.KIND["email"]
    sub[m] = rng.choice(len(world.EMAIL_CAMPAIGNS), int(m.sum()), p=[0.6, 0.25, 0.15])
    m = kind == world.KIND["organic_search"]
    ow = np.array([w for _, w in world.ORGANIC_REFERRERS])
    sub[m] = rng.choice(len(ow), int(m.sum()), p=ow / ow.sum())
    m = kind == world.KIND["referral"]
    sub[m] = rng.integers(0, len(world.REFERRAL_SITES), int(m.sum()))

    frame = pd.DataFrame(
        {
            "person": person,
            "device": device,
            "t_us": t_us,
            "kind": kind,
            "ad": ad,
            "sub": sub,
            "landing": rng.integers(0, len(world.LANDING_PATHS), total),
            "variant": rng.random(total),  # tags a few clicks with quirks (gbraid, no UTMs)
        }
    )
    # Paid clicks: the platform's day is the account's local day; keep clicks whose local
    # day is inside the window (so every landed click has a delivery row), and every
    # session inside the window in UTC.
    end_us = start_us + days * US_PER_DAY
    keep = (frame["t_us"].to_numpy() >= start_us) & (frame["t_us"].to_numpy() < end_us)
    local_day = np.full(total, -1, dtype=np.int64)
    tz_of_ad = cat["account_timezone"].to_numpy()
    paid = ad >= 0
    start_day = start.toordinal() - dt.date(1970, 1, 1).toordinal()
    for tz in np.unique(tz_of_ad):
        m = paid & (tz_of_ad[np.maximum(ad, 0)] == tz)
        if m.any():
            local = pd.DatetimeIndex(pd.to_datetime(t_us[m], unit="us", utc=True)).tz_convert(tz)
            naive = local.tz_localize(None).as_unit("us").asi8
            local_day[m] = naive // US_PER_DAY - start_day
    keep &= ~paid | ((local_day >= 0) & (local_day < days))
    frame["local_day"] = local_day
    frame = frame[keep].reset_index(drop=True)
    frame.insert(0, "sid", np.arange(len(frame), dtype=np.int64))
    frame["click_id"] = _click_ids(rng, frame, cat)
    return frame


def _click_ids(rng: np.random.Generator, s: pd.DataFrame, cat: pd.DataFrame) -> np.ndarray:
    n = len(s)
    out = np.full(n, None, dtype=object)
    kind = s["kind"].to_numpy()
    specs = {
        "google_ads": lambda m: concat("Cj0KCQjw", rand_strings(rng, m, 70), "_BwE"),
        "microsoft_ads": lambda m: rand_strings(rng, m, 32, _HEX),
        "meta_ads": lambda m: concat("IwAR", rand_strings(rng, m, 55)),
        "tiktok_ads": lambda m: concat("E.C.P.", rand_strings(rng, m, 60, _ALNUM)),
        "linkedin_ads": lambda m: uuids(rng, m),
        "taboola": lambda m: concat("GiB", rand_strings(rng, m, 44)),
    }
    for platform, make in specs.items():
        m = kind == world.KIND[platform]
        out[m] = make(int(m.sum()))
    m = kind == world.KIND["affiliate"]
    if m.any():
        pub = s["sub"].to_numpy()[m]
        network = np.asarray([p.network for p in world.PUBLISHERS], dtype=object)[pub]
        ids = np.empty(int(m.sum()), dtype=object)
        imp, awn, cj = network == "impact", network == "awin", network == "cj"
        ids[imp] = rand_strings(rng, int(imp.sum()), 22, _ALNUM)
        secs = (s["t_us"].to_numpy()[m][awn] // US_PER_SEC).astype(str).astype(object)
        ids[awn] = concat(
            world.AFFILIATE_NETWORKS["awin"][0],
            "_",
            secs,
            "_",
            rand_strings(rng, int(awn.sum()), 32, _HEX),
        )
        ids[cj] = rand_strings(rng, int(cj.sum()), 32, _HEX)
        out[m] = ids
    return out


def _durations(rng: np.random.Generator, s: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Internal page views after each landing, and each session's length."""
    n_pages = rng.poisson(1.3, len(s))
    sid = np.repeat(s["sid"].to_numpy(), n_pages)
    gaps = (2.0 + rng.exponential(45.0, len(sid))) * US_PER_SEC
    gaps = (np.round(gaps / 1000) * 1000).astype(np.int64)
    cs = np.cumsum(gaps)
    first = _group_first(sid)
    base = np.maximum.accumulate(np.where(first, np.arange(len(sid)), 0))
    offset = cs - cs[base] + gaps[base]
    pages = pd.DataFrame({"sid": sid, "offset_us": offset})
    dur = np.zeros(len(s), dtype=np.int64)
    if len(sid):
        last = np.append(sid[1:] != sid[:-1], True)
        dur[sid[last]] = offset[last]
    s = s.assign(dur_us=dur)
    return s, pages


# ----------------------------------------------------------------------------- conversions
_CONV_OFFSET_US = {"sign_up": 20 * US_PER_SEC, "lead": 30 * US_PER_SEC, "purchase": 40 * US_PER_SEC}


def _conversions(
    rng: np.random.Generator,
    ppl: pd.DataFrame,
    devices: pd.DataFrame,
    s: pd.DataFrame,
    pages: pd.DataFrame,
    end_us: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    lift = np.array([world.CHANNEL_LIFT[world.KIND_CHANNEL[k]] for k in world.KINDS])
    kind = s["kind"].to_numpy()
    person = s["person"].to_numpy()
    intent = ppl["intent"].to_numpy()[person]
    parts = []
    for ctype, base in world.BASE_RATE.items():
        p = np.minimum(base * lift[kind] * intent, 0.9)
        fired = rng.random(len(s)) < p
        idx = np.flatnonzero(fired)
        if ctype != "purchase":  # at most one sign-up and one lead per person
            idx = idx[_group_first(person[idx])]
        parts.append(pd.DataFrame({"conv_type": ctype, "cause_sid": s["sid"].to_numpy()[idx]}))
    conv = pd.concat(parts, ignore_index=True)
    cause = s.set_index("sid").loc[conv["cause_sid"]]
    conv["person"] = cause["person"].to_numpy()
    conv["cause_kind"] = cause["kind"].to_numpy()
    conv["host_sid"] = conv["cause_sid"]

    # Two-device buyers: a purchase caused on the first device happens later, in a direct
    # visit on the second device where the person logs in and buys.
    second = devices[devices["slot"] == "web_second"].set_index("person")["device"]
    nxt = s.groupby("person")["t_us"].shift(-1).fillna(end_us).to_numpy().astype(np.int64)
    s_idx = s.set_index("sid")
    cand = (
        (conv["conv_type"] == "purchase").to_numpy()
        & conv["person"].isin(second.index).to_numpy()
        & (
            s_idx.loc[conv["cause_sid"], "device"].to_numpy()
            != second.reindex(conv["person"]).to_numpy()
        )
    )
    t_cause = s_idx.loc[conv["cause_sid"], "t_us"].to_numpy()
    gap = nxt[conv["cause_sid"].to_numpy()] - t_cause
    cand &= gap >= 3 * US_PER_HOUR
    cand &= rng.random(len(conv)) < 0.85
    ci = np.flatnonzero(cand)
    if len(ci):
        room = np.minimum(gap[ci] - 2 * US_PER_HOUR, 20 * US_PER_HOUR)
        t_new = t_cause[ci] + US_PER_HOUR + (rng.random(len(ci)) * room).astype(np.int64)
        t_new = (t_new // 1000) * 1000
        new_sid = len(s) + np.arange(len(ci), dtype=np.int64)
        inserted = pd.DataFrame(
            {
                "sid": new_sid,
                "person": conv["person"].to_numpy()[ci],
                "device": second.reindex(conv["person"].to_numpy()[ci]).to_numpy().astype(np.int64),
                "t_us": t_new,
                "kind": world.KIND["direct"],
                "ad": -1,
                "sub": -1,
                "landing": 0,
                "variant": 1.0,
                "local_day": -1,
                "click_id": None,
                "dur_us": 0,
            }
        )
        n_pg = rng.integers(1, 3, len(ci))
        pg_sid = np.repeat(new_sid, n_pg)
        pg_off = (
            (np.arange(len(pg_sid)) - np.repeat(np.cumsum(n_pg) - n_pg, n_pg) + 1) * 35 * US_PER_SEC
        )
        inserted["dur_us"] = n_pg * 35 * US_PER_SEC
        pages = pd.concat(
            [pages, pd.DataFrame({"sid": pg_sid, "offset_us": pg_off})], ignore_index=True
        )
        s = pd.concat([s, inserted], ignore_index=True)
        s = s.sort_values(["person", "t_us", "sid"], kind="stable", ignore_index=True)
        conv.loc[conv.index[ci], "host_sid"] = new_sid
    host = s.set_index("sid").loc[conv["host_sid"]]
    conv["device"] = host["device"].to_numpy()
    offsets = conv["conv_type"].map(_CONV_OFFSET_US).to_numpy()
    conv["t_us"] = host["t_us"].to_numpy() + host["dur_us"].to_numpy() + offsets
    conv = conv[conv["t_us"] < end_us]
    conv = conv.sort_values(["person", "t_us", "conv_type"], kind="stable", ignore_index=True)
    return conv, s, pages


def _orders(rng: np.random.Generator, ppl: pd.DataFrame, conv: pd.DataFrame) -> pd.DataFrame:
    conv = conv.copy()
    is_order = (conv["conv_type"] == "purchase").to_numpy()
    n = int(is_order.sum())
    order_ids = np.full(len(conv), None, dtype=object)
    revenue = np.full(len(conv), np.nan)
    currency = np.full(len(conv), None, dtype=object)
    idx = np.flatnonzero(is_order)
    ranks = np.empty(n, dtype=np.int64)
    ranks[np.argsort(conv["t_us"].to_numpy()[idx], kind="stable")] = np.arange(n)
    order_ids[idx] = concat("ORD-", pd.Series(100001 + ranks).astype(str).to_numpy(dtype=object))
    revenue[idx] = np.round(rng.lognormal(np.log(65.0), 0.55, n), 2)
    region = ppl["region"].to_numpy()[conv["person"].to_numpy()[idx]]
    eur = np.where(region == "EU", rng.random(n) < 0.9, rng.random(n) < 0.03)
    currency[idx] = np.where(eur, "EUR", "USD")
    conv["order_id"] = order_ids
    conv["revenue"] = revenue
    conv["currency"] = currency
    return conv


# ----------------------------------------------------------------------------- identity
def _identities(
    rng: np.random.Generator,
    ppl: pd.DataFrame,
    devices: pd.DataFrame,
    s: pd.DataFrame,
    conv: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Who has an account, and when each device is identified (``identify`` calls)."""
    has_account = rng.random(len(ppl)) < 0.12
    has_account[conv["person"].to_numpy()] = True
    ppl = ppl.assign(has_account=has_account)
    # logins: a returning customer logs in on some visits
    login = has_account[s["person"].to_numpy()] & (rng.random(len(s)) < 0.2)
    logins = pd.DataFrame(
        {
            "person": s["person"].to_numpy()[login],
            "device": s["device"].to_numpy()[login],
            "t_us": s["t_us"].to_numpy()[login] + US_PER_SEC,
        }
    )
    # every session with a conversion identifies just before it (sign-up, log-in at checkout)
    host = s.set_index("sid").loc[conv["host_sid"]]
    at_conv = pd.DataFrame(
        {
            "person": conv["person"].to_numpy(),
            "device": conv["device"].to_numpy(),
            "t_us": host["t_us"].to_numpy() + host["dur_us"].to_numpy() + 5 * US_PER_SEC,
        }
    ).drop_duplicates()
    ids = pd.concat([logins, at_conv], ignore_index=True)
    ids = ids.sort_values(["person", "t_us", "device"], kind="stable", ignore_index=True)
    return ppl, devices, ids


def _identified_at(devices: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    first = ids.groupby("device")["t_us"].min()
    at = first.reindex(devices["device"]).to_numpy()
    return devices.assign(
        identified_at_us=pd.array(np.where(np.isnan(at), pd.NA, at), dtype="Int64")
    )


# ----------------------------------------------------------------------------- installs
def _installs(
    rng: np.random.Generator,
    ppl: pd.DataFrame,
    devices: pd.DataFrame,
    cat: pd.DataFrame,
    start_us: int,
    days: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    app = devices[devices["slot"] == "app"]
    n = len(app)
    t_days = warp(rng.uniform(0.0, days, n))
    install_us = start_us + (np.round(t_days * US_PER_DAY / 1000) * 1000).astype(np.int64)
    shares = np.array([w for _, w, _ in world.APP_MEDIA_SOURCES])
    src = rng.choice(len(shares), n, p=shares / shares.sum())
    media = np.array([m for m, _, _ in world.APP_MEDIA_SOURCES], dtype=object)[src]
    platform = np.array([p for _, _, p in world.APP_MEDIA_SOURCES], dtype=object)[src]
    ad = np.full(n, -1, dtype=np.int64)
    for p in sorted({p for _, _, p in world.APP_MEDIA_SOURCES if p}):
        m = platform == p
        cands = cat[(cat["platform"] == p) & cat["is_app"]]["ad_index"].to_numpy()
        ad[m] = cands[rng.integers(0, len(cands), int(m.sum()))]
    paid = ad >= 0
    touch_us = np.where(
        paid, install_us - (rng.exponential(3.0, n) * US_PER_HOUR).astype(np.int64), 0
    )
    touch_us = (touch_us // 1000) * 1000
    touch_type = np.where(paid, np.where(rng.random(n) < 0.85, "click", "impression"), None)
    ms = (install_us // 1000).astype(str).astype(object)
    install_id = concat(ms, "-", rand_strings(rng, n, 19, "0123456789"))
    person = app["person"].to_numpy()
    has_account = ppl["has_account"].to_numpy()[person] | (rng.random(n) < 0.5)
    logs_in = has_account & (rng.random(n) < 0.7)
    cost = np.where(paid, [world.APP_CPI.get(p, 0.0) if p else 0.0 for p in platform], np.nan)
    installs = pd.DataFrame(
        {
            "person": person,
            "device": app["device"].to_numpy(),
            "install_id": install_id,
            "install_us": install_us,
            "touch_us": np.where(paid, touch_us, -1),
            "touch_type": touch_type,
            "media_source": media,
            "platform": platform,
            "ad": ad,
            "cost_value": np.round(cost * (1 + rng.uniform(-0.15, 0.15, n)), 4),
            "customer_user_id": np.where(logs_in, ppl["user_id"].to_numpy()[person], None),
            "device_id": uuids(rng, n),
        }
    ).sort_values(["install_us", "install_id"], kind="stable", ignore_index=True)
    ids = pd.DataFrame(
        {
            "person": installs["person"].to_numpy()[
                installs["customer_user_id"].notna().to_numpy()
            ],
            "device": installs["device"].to_numpy()[
                installs["customer_user_id"].notna().to_numpy()
            ],
            "t_us": installs["install_us"].to_numpy()[
                installs["customer_user_id"].notna().to_numpy()
            ]
            + 60 * US_PER_SEC,
        }
    )
    return installs, ids


# ----------------------------------------------------------------------------- refunds
def _refunds(rng: np.random.Generator, sim: Simulation) -> pd.DataFrame:
    """About 1.5% of orders are refunded 1-10 days later (at least one when possible);
    an order an affiliate network claimed is preferred for the first one, so the
    network's report has a reversal to match."""
    orders = sim.conversions[sim.conversions["conv_type"] == "purchase"]
    eligible = orders[orders["t_us"] < sim.end_us - 3 * US_PER_DAY]
    if eligible.empty:
        return pd.DataFrame(columns=["order_id", "person", "device", "t_us", "revenue", "currency"])
    n = max(1, round(0.015 * len(orders)))
    claims = affiliate_claims(sim, eligible)
    impact = claims[claims["network"] == "impact"]["order_id"]
    chosen: list[str] = []
    if len(impact):
        chosen.append(str(impact.iloc[int(rng.integers(0, len(impact)))]))
    rest = eligible[~eligible["order_id"].isin(chosen)]["order_id"].to_numpy()
    k = min(len(rest), n - len(chosen))
    if k > 0:
        chosen.extend(str(x) for x in rng.choice(rest, k, replace=False))
    ref = eligible.set_index("order_id").loc[chosen].reset_index()
    room = (sim.end_us - ref["t_us"].to_numpy()) / US_PER_DAY - 0.5
    delay = rng.uniform(1.0, np.minimum(10.0, room))
    ref["t_us"] = ref["t_us"].to_numpy() + (np.round(delay * US_PER_DAY / 1000) * 1000).astype(
        np.int64
    )
    return ref[["order_id", "person", "device", "t_us", "revenue", "currency"]].sort_values(
        "t_us", kind="stable", ignore_index=True
    )


def affiliate_claims(sim: Simulation, orders: pd.DataFrame) -> pd.DataFrame:
    """Orders a network claims: the person's last affiliate click within the cookie window.

    Networks see their own click only, so an order also touched by other channels is still
    claimed (a known over-claim of affiliate reporting).
    """
    s = sim.sessions
    aff = s[s["kind"] == world.KIND["affiliate"]][["person", "t_us", "sub", "click_id", "sid"]]
    if aff.empty or orders.empty:
        return pd.DataFrame(columns=["order_id", "network", "publisher", "click_us", "click_id"])
    left = orders[["order_id", "person", "t_us"]].sort_values("t_us", kind="stable")
    right = aff.rename(columns={"t_us": "click_us"}).sort_values("click_us", kind="stable")
    m = pd.merge_asof(
        left,
        right,
        left_on="t_us",
        right_on="click_us",
        by="person",
        direction="backward",
        tolerance=world.AFFILIATE_COOKIE_DAYS * US_PER_DAY,
    )
    m = m[m["sub"].notna()].copy()
    m["publisher"] = m["sub"].astype(np.int64)
    m["network"] = np.asarray([p.network for p in world.PUBLISHERS], dtype=object)[m["publisher"]]
    return m[["order_id", "network", "publisher", "click_us", "click_id"]].reset_index(drop=True)
