"""The fixed world the simulation runs in: accounts, campaigns, ads, channels and their lifts.

Everything here is static (the same for every seed), so ids in the landing files are
stable across runs and documented in one place. The random parts live in
``journeys.py``.

Touch kinds are where a session comes from (a platform, or an unpaid channel); each maps
to one GA4 default channel group. ``CHANNEL_LIFT`` is the causal ground truth: a session
of channel ``c`` converts with probability ``base_rate[type] x CHANNEL_LIFT[c] x intent``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

SITE = "https://www.acme-shop.example"
LANDING_PATHS = (
    "/",
    "/products/widget-pro",
    "/products/widget-mini",
    "/sale",
    "/blog/how-to-choose",
)
INTERNAL_PATHS = (
    "/products",
    "/products/widget-pro",
    "/products/widget-mini",
    "/cart",
    "/checkout",
    "/about",
)

# Touch kinds (index = code used in the simulation arrays).
KINDS = (
    "google_ads",
    "microsoft_ads",
    "meta_ads",
    "tiktok_ads",
    "linkedin_ads",
    "taboola",
    "affiliate",
    "email",
    "organic_search",
    "direct",
    "referral",
)
KIND = {k: i for i, k in enumerate(KINDS)}
PAID_PLATFORMS = (
    "google_ads",
    "microsoft_ads",
    "meta_ads",
    "tiktok_ads",
    "linkedin_ads",
    "taboola",
)

# Share of sessions by touch kind (sums to 1).
KIND_SHARE = {
    "google_ads": 0.13,
    "microsoft_ads": 0.04,
    "meta_ads": 0.09,
    "tiktok_ads": 0.04,
    "linkedin_ads": 0.02,
    "taboola": 0.10,
    "affiliate": 0.08,
    "email": 0.10,
    "organic_search": 0.15,
    "direct": 0.17,
    "referral": 0.08,
}

# GA4 default channel group of each touch kind (what a correct classifier must find).
KIND_CHANNEL = {
    "google_ads": "Paid Search",
    "microsoft_ads": "Paid Search",
    "meta_ads": "Paid Social",
    "tiktok_ads": "Paid Social",
    "linkedin_ads": "Paid Social",
    "taboola": "Paid Other",
    "affiliate": "Affiliates",
    "email": "Email",
    "organic_search": "Organic Search",
    "direct": "Direct",
    "referral": "Referral",
}
CHANNELS = tuple(dict.fromkeys(KIND_CHANNEL.values()))

# Causal lift of one session of each channel on the conversion probability (multiplier of
# the base rate). The ground truth the data-driven models should recover in order.
CHANNEL_LIFT = {
    "Paid Search": 5.0,
    "Email": 5.5,
    "Paid Social": 3.0,
    "Affiliates": 2.0,
    "Organic Search": 1.0,
    "Direct": 0.2,
    "Referral": 0.4,
    "Paid Other": 0.15,
}
# The ordering the Markov model's removal effects follow on the true journeys (default
# settings, a few thousand people): every channel of a tier above beats every channel of a
# tier below; inside a tier the order is noise. Lift times reach decides it, so frequent
# low-lift Direct (also the last visit of every two-device buyer) sits in the third tier.
MARKOV_TIERS = (
    ("Paid Search",),
    ("Email", "Paid Social"),
    ("Direct", "Organic Search", "Affiliates"),
    ("Referral", "Paid Other"),
)
# Per-session base conversion probabilities (before lift and the person's intent).
BASE_RATE = {"purchase": 0.018, "lead": 0.008, "sign_up": 0.015}
# Probability that a session repeats the previous session's touch kind (retargeting,
# habits); the rest draw afresh from KIND_SHARE.
REPEAT_KIND = 0.35

# Paid-platform conventions: UTM source/medium, click-id parameter, referrer.
PLATFORM_TAGS = {
    "google_ads": ("google", "cpc", "gclid", "https://www.google.com/"),
    "microsoft_ads": ("bing", "cpc", "msclkid", "https://www.bing.com/"),
    "meta_ads": ("facebook", "paid_social", "fbclid", "https://l.facebook.com/"),
    "tiktok_ads": ("tiktok", "paid_social", "ttclid", None),
    "linkedin_ads": ("linkedin", "paid_social", "li_fat_id", "https://www.linkedin.com/"),
    "taboola": ("taboola", "cpc", "tblci", None),
}
# Platform-side attribution: conversion type claimed and click window (days).
PLATFORM_CLAIM = {
    "google_ads": ("purchase", 30, "google:conversions"),
    "microsoft_ads": ("purchase", 30, "microsoft:Conversions"),
    "meta_ads": ("purchase", 7, "meta:offsite_conversion.fb_pixel_purchase"),
    "tiktok_ads": ("purchase", 7, "tiktok:conversion"),
    "linkedin_ads": ("lead", 30, "linkedin:externalWebsiteConversions+oneClickLeads"),
    "taboola": ("purchase", 30, "taboola:cpa_actions_num"),
}
# Share of clicks that never land (closed tab before the tag fired, bots).
UNLANDED_CLICK_RATE = 0.2

EMAIL_CAMPAIGNS = ("weekly_newsletter", "cart_abandonment", "winback_30d")
ORGANIC_REFERRERS = (
    ("https://www.google.com/", 0.8),
    ("https://www.bing.com/", 0.15),
    ("https://duckduckgo.com/", 0.05),
)
REFERRAL_SITES = (
    "https://www.gadgetguide.example/reviews/acme-widget",
    "https://news.example.net/tech/acme-launch",
    "https://blog.homeoffice.example/best-widgets-2026",
)


@dataclass(frozen=True)
class Account:
    platform: str
    account_id: str
    account_name: str
    timezone: str
    currency: str
    region: str  # US | EU: which visitors its campaigns reach


ACCOUNTS = (
    Account("google_ads", "1234567890", "Acme US Search", "America/New_York", "USD", "US"),
    Account("google_ads", "2345678901", "Acme West Search", "America/Los_Angeles", "USD", "US"),
    Account("microsoft_ads", "187654321", "Acme Bing", "America/Los_Angeles", "USD", "US"),
    Account("meta_ads", "10150001234567", "Acme US Social", "America/New_York", "USD", "US"),
    Account("meta_ads", "10150007654321", "Acme EU Social", "Europe/Berlin", "EUR", "EU"),
    Account("tiktok_ads", "7012345678901234567", "Acme TikTok", "America/Los_Angeles", "USD", "US"),
    Account("linkedin_ads", "508123456", "Acme B2B", "America/New_York", "USD", "US"),
    Account("linkedin_ads", "508654321", "Acme Nordics", "Europe/Stockholm", "SEK", "EU"),
    Account("taboola", "1187654", "acme-native", "America/New_York", "USD", "US"),
)

# (platform, account_id, campaign_id, campaign_name, weight within platform, cpc, ctr, is_app)
# cpc is in the account's currency.
_CAMPAIGNS = (
    ("google_ads", "1234567890", "20512345671", "Brand | Search | US", 0.35, 0.85, 0.12, False),
    ("google_ads", "1234567890", "20512345672", "Generic | Search | US", 0.35, 2.40, 0.045, False),
    ("google_ads", "1234567890", "20512345673", "Shopping | PMax | US", 0.20, 1.10, 0.02, False),
    ("google_ads", "1234567890", "20512345679", "App | Installs | UAC", 0.0, 0.45, 0.015, True),
    ("google_ads", "2345678901", "20598765431", "Generic | Search | West", 0.10, 2.10, 0.04, False),
    ("microsoft_ads", "187654321", "412345001", "Brand - Bing", 0.5, 0.70, 0.10, False),
    ("microsoft_ads", "187654321", "412345002", "Generic - Bing", 0.5, 1.60, 0.035, False),
    (
        "meta_ads",
        "10150001234567",
        "120210000000000001",
        "Prospecting | Advantage+ | US",
        0.55,
        0.90,
        0.011,
        False,
    ),
    (
        "meta_ads",
        "10150001234567",
        "120210000000000002",
        "Retargeting | DPA | US",
        0.45,
        0.60,
        0.018,
        False,
    ),
    (
        "meta_ads",
        "10150001234567",
        "120210000000000003",
        "App Installs | iOS",
        0.0,
        0.50,
        0.009,
        True,
    ),
    (
        "meta_ads",
        "10150007654321",
        "120210000000000011",
        "Prospecting | EU",
        1.0,
        0.80,
        0.012,
        False,
    ),
    (
        "tiktok_ads",
        "7012345678901234567",
        "1790000000000001",
        "TT | Spark Ads | US",
        1.0,
        0.50,
        0.008,
        False,
    ),
    (
        "tiktok_ads",
        "7012345678901234567",
        "1790000000000002",
        "TT | App Install",
        0.0,
        0.35,
        0.007,
        True,
    ),
    ("linkedin_ads", "508123456", "612345001", "B2B | Demo Requests", 1.0, 6.50, 0.005, False),
    ("linkedin_ads", "508654321", "612345011", "Nordics | Lead Gen", 1.0, 62.0, 0.006, False),
    ("taboola", "1187654", "31234567", "Native | Content | US", 0.6, 0.40, 0.002, False),
    ("taboola", "1187654", "31234568", "Native | Retarget | US", 0.4, 0.55, 0.003, False),
)
_AD_GROUP_NAMES = ("Core", "Lookalike")
_AD_NAMES = ("Video A", "Static B")
# Id ranges of ad groups and ads per platform (real-looking lengths; Meta and TikTok ids
# exceed 2^53, so they must stay strings everywhere).
_ID_BASES = {
    "google_ads": (141234560000, 689012340000),
    "microsoft_ads": (1311000000, 83000000000),
    "meta_ads": (120210000000001000, 120210000000002000),
    "tiktok_ads": (1790000000001000, 1790000000002000),
    "linkedin_ads": (712345000, 912345000),
}
_KEYWORDS = ("acme widgets", "buy widget pro", "best widgets 2026", "widget mini price")


def catalog() -> pd.DataFrame:
    """One row per ad (Taboola: per campaign; it reports no ad groups or ads).

    Columns: the account and hierarchy columns of ``ad_delivery`` plus ``region``,
    ``weight`` (share of the platform's landed clicks), ``cpc``, ``ctr``, ``is_app``,
    ``keyword`` (search campaigns' ``utm_term``).
    """
    accounts = {(a.platform, a.account_id): a for a in ACCOUNTS}
    counters: dict[str, int] = {}
    rows = []
    for platform, acct_id, cid, cname, weight, cpc, ctr, is_app in _CAMPAIGNS:
        a = accounts[platform, acct_id]
        base = dict(
            platform=platform,
            account_id=acct_id,
            account_name=a.account_name,
            account_timezone=a.timezone,
            account_currency=a.currency,
            region=a.region,
            campaign_id=cid,
            campaign_name=cname,
            cpc=cpc,
            ctr=ctr,
            is_app=is_app,
        )
        if platform == "taboola":
            rows.append(
                {
                    **base,
                    "ad_group_id": None,
                    "ad_group_name": None,
                    "ad_id": None,
                    "ad_name": None,
                    "weight": weight,
                    "keyword": None,
                }
            )
            continue
        group_base, ad_base = _ID_BASES[platform]
        for g, gname in enumerate(_AD_GROUP_NAMES):
            n_group = counters.setdefault(f"{platform}/g", 0) + 1
            counters[f"{platform}/g"] = n_group
            gid = str(group_base + n_group)
            for k, aname in enumerate(_AD_NAMES):
                n_ad = counters.setdefault(f"{platform}/a", 0) + 1
                counters[f"{platform}/a"] = n_ad
                if platform == "linkedin_ads":  # LinkedIn: campaign group > campaign > creative
                    gname_full, aname_full = f"{cname} - {gname}", f"Creative {aname}"
                else:
                    gname_full, aname_full = gname, f"{aname} | {cname.split(' |')[0]}"
                search = platform in ("google_ads", "microsoft_ads")
                rows.append(
                    {
                        **base,
                        "ad_group_id": gid,
                        "ad_group_name": gname_full,
                        "ad_id": str(ad_base + n_ad),
                        "ad_name": aname_full,
                        "weight": weight * (0.6 if g == 0 else 0.4) * (0.55 if k == 0 else 0.45),
                        "keyword": _KEYWORDS[(g * 2 + k) % 4] if search else None,
                    }
                )
    df = pd.DataFrame(rows)
    df.insert(0, "ad_index", range(len(df)))
    return df


@dataclass(frozen=True)
class Publisher:
    network: str  # impact | awin | cj
    publisher_id: str
    publisher_name: str
    slug: str  # utm_source
    region: str


AFFILIATE_NETWORKS = {
    # network: (advertiser id, report currency, commission rate, click-id parameter)
    "impact": ("1234567", "USD", 0.08, "irclickid"),
    "awin": ("45678", "GBP", 0.06, "awc"),
    "cj": ("5566778", "USD", 0.05, "cjevent"),
}
PUBLISHERS = (
    Publisher("impact", "3001", "CouponHub", "couponhub", "US"),
    Publisher("impact", "3002", "TechReviewDaily", "techreviewdaily", "US"),
    Publisher("awin", "88001", "VoucherCodes UK", "vouchercodes", "EU"),
    Publisher("awin", "88002", "Quidco", "quidco", "EU"),
    Publisher("cj", "7100001", "Rakuten Rewards", "rakutenrewards", "US"),
    Publisher("cj", "7100002", "Slickdeals", "slickdeals", "US"),
)
PUBLISHER_SITES = {
    "couponhub": "https://www.couponhub.example/acme",
    "techreviewdaily": "https://techreviewdaily.example/widgets",
    "vouchercodes": "https://www.vouchercodes.example/acme",
    "quidco": "https://www.quidco.example/acme",
    "rakutenrewards": "https://www.rakuten.example/acme",
    "slickdeals": "https://slickdeals.example/f/acme-widget",
}
AFFILIATE_COOKIE_DAYS = 30

# AppsFlyer media sources of installs (share), with the app campaign they come from.
APP_ID = "id1234567890"
APP_MEDIA_SOURCES = (
    ("organic", 0.35, None),
    ("Facebook Ads", 0.30, "meta_ads"),
    ("googleadwords_int", 0.25, "google_ads"),
    ("tiktokglobal_int", 0.10, "tiktok_ads"),
)
APP_CPI = {"meta_ads": 2.10, "google_ads": 1.80, "tiktok_ads": 1.40}

# Currencies and their reference rates (units per 1 EUR), ECB style; JPY and CHF only
# decorate the ECB files.
ECB_CURRENCIES = ("USD", "JPY", "GBP", "SEK", "CHF")
ECB_START = {"USD": 1.0823, "JPY": 161.52, "GBP": 0.8541, "SEK": 11.2345, "CHF": 0.9478}
ECB_DECIMALS = {"JPY": 2}
