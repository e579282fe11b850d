"""A small canonical lake for the KPI mart tests, with answers worked out by hand.

Written with the warehouse tests' helpers (``tests/dbt/tiny_lake.py``: ``write_table``
= ``pipelines.lake.replace_partition`` of ``pipelines.canonical`` shapes). Everything is
in USD (the reporting currency), so no rate enters the arithmetic.

Spend (14 days, Monday 2026-01-05 to Sunday 2026-01-18, day i = 0..13):

- google_ads, campaign C1 "Brand Search":
  ad group G1: ad A1 1000 impressions/day, 50 clicks on days 0-6 then 30, spend 10/day;
  ad A2 1000 impressions/day, 35 clicks, spend 10/day. Ad group G2: ad A3 100
  impressions/day, 5 clicks on days 0-6 then 1, spend 1/day. Google reports 4
  conversions worth 200 for A1 on day 0 and none otherwise.
- meta_ads, campaign M1 "Spring Sale", ad set S1, ad MA1: 2026-01-05 1000 impressions,
  10 clicks, spend 30, 1 platform conversion worth 60; 2026-01-06 100 impressions,
  5 clicks, spend 10, none reported.

People (every path has at most one touch, so every model gives the same credit):

- p1, p2 click A1 on 01-05 and buy (100, 50); p3 on 01-08 and p4 on 01-12 click A1 and
  buy 50 each; p5 clicks A2 on 01-10 and buys 50. p1 buys again on 01-25 (40, day 20)
  and 03-01 (30, day 55), with no new touch (Direct).
- m1 clicks MA1 (UTMs of M1, utm_content MA1) on 01-05 and buys 60; q1 arrives with a
  bare fbclid on 01-06 (meta_ads, no campaign) and buys 20.
- f1 buys 70 on 02-20 and r1 15 on 03-10 with no touch (Direct); 03-10 is the last day
  of first-party data.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dbt"))

from tiny_lake import ad_row, enabled_models, event, write_table

from pipelines import canonical
from pipelines.config import Settings

__all__ = ["DAYS", "TARGETS_YAML", "enabled_models", "iso", "write_lake"]

FIRST_DAY = dt.date(2026, 1, 5)
DAYS = [FIRST_DAY + dt.timedelta(days=i) for i in range(14)]
LAST_DATA_DAY = dt.date(2026, 3, 10)

# (ad group, ad, impressions a day, clicks on days 0-6, clicks on days 7-13, spend a day)
GOOGLE_ADS = (
    ("G1", "A1", 1000, 50, 30, 10.0),
    ("G1", "A2", 1000, 35, 35, 10.0),
    ("G2", "A3", 100, 5, 1, 1.0),
)

# Pacing targets, as the settings' `targets` (YAML for the environment override).
TARGETS_YAML = (
    "[{platform: google_ads, campaign_id: C1, target_cpa: 50, target_roas: 1.0,"
    " daily_budget: 15}, {channel: Paid Social, target_cpa: 100, target_roas: 2.5,"
    " daily_budget: 5}]"
)


def iso(value) -> str:
    """A date read back from DuckDB (date, Timestamp or string) as YYYY-MM-DD."""
    return pd.Timestamp(value).date().isoformat()


def _ad(platform, account, day, campaign, name, group, ad, imp, clicks, spend, conv, value):
    row = ad_row(platform, account, "USD", day, campaign, name, group, ad, imp, clicks, spend)
    row["platform_conversions"] = conv
    row["platform_conversion_value"] = value
    return row


def _click_and_buy(person, at, order_value, **touch):
    """A landing with ``touch`` parameters and an order five minutes later."""
    day, clock = at.split("T")
    hour, minute = clock.split(":")[:2]
    bought = f"{day}T{hour}:{int(minute) + 5:02d}:00"
    return [
        event(f"{person}-touch", at, f"anon-{person}", user_id=person, **touch),
        _order(person, f"{person}-order", bought, order_value),
    ]


def _order(person, order_id, at, value):
    return event(
        f"{order_id}-event",
        at,
        f"anon-{person}",
        event_type="track",
        name="Order Completed",
        user_id=person,
        order_id=order_id,
        revenue=value,
        currency="USD",
    )


def google_click(ad):
    return {"click_id_type": "gclid", "click_id": f"gclid-{ad}", "utm_id": "C1", "utm_content": ad}


def write_lake(settings: Settings) -> None:
    """Write the scenario of the module docstring."""
    write_table(
        settings,
        canonical.FX_RATES,
        "fx_rates",
        FIRST_DAY,
        [{"rate_date": FIRST_DAY, "base_currency": "EUR", "currency": "USD", "rate": 1 / 1.08}],
    )
    for i, day in enumerate(DAYS):
        rows = []
        for group, ad, imp, early, late, spend in GOOGLE_ADS:
            conv, value = (4.0, 200.0) if (ad == "A1" and i == 0) else (0.0, 0.0)
            clicks = early if i < 7 else late
            rows.append(
                _ad(
                    "google_ads",
                    "111",
                    day,
                    "C1",
                    "Brand Search",
                    group,
                    ad,
                    imp,
                    clicks,
                    spend,
                    conv,
                    value,
                )
            )
        write_table(settings, canonical.AD_DELIVERY, "google_ads", day, rows)
    meta = (
        (DAYS[0], 1000, 10, 30.0, 1.0, 60.0),
        (DAYS[1], 100, 5, 10.0, 0.0, 0.0),
    )
    for day, imp, clicks, spend, conv, value in meta:
        write_table(
            settings,
            canonical.AD_DELIVERY,
            "meta_ads",
            day,
            [
                _ad(
                    "meta_ads",
                    "222",
                    day,
                    "M1",
                    "Spring Sale",
                    "S1",
                    "MA1",
                    imp,
                    clicks,
                    spend,
                    conv,
                    value,
                )
            ],
        )

    meta_utm = {
        "click_id_type": "fbclid",
        "click_id": "fbclid-m1",
        "utm_source": "facebook",
        "utm_medium": "paid_social",
        "utm_campaign": "Spring Sale",
        "utm_content": "MA1",
    }
    by_day: dict[dt.date, list] = {}

    def add(rows):
        for row in rows:
            by_day.setdefault(row["event_at"].date(), []).append(row)

    add(_click_and_buy("p1", "2026-01-05T10:00", 100.0, **google_click("A1")))
    add(_click_and_buy("p2", "2026-01-05T11:00", 50.0, **google_click("A1")))
    add(_click_and_buy("p3", "2026-01-08T10:00", 50.0, **google_click("A1")))
    add(_click_and_buy("p4", "2026-01-12T10:00", 50.0, **google_click("A1")))
    add(_click_and_buy("p5", "2026-01-10T10:00", 50.0, **google_click("A2")))
    add([_order("p1", "p1-order-2", "2026-01-25T09:00:00", 40.0)])
    add([_order("p1", "p1-order-3", "2026-03-01T09:00:00", 30.0)])
    add(_click_and_buy("m1", "2026-01-05T12:00", 60.0, **meta_utm))
    add(
        _click_and_buy("q1", "2026-01-06T12:00", 20.0, click_id_type="fbclid", click_id="fbclid-q1")
    )
    add([_order("f1", "f1-order", "2026-02-20T09:00:00", 70.0)])
    add([_order("r1", "r1-order", "2026-03-10T09:00:00", 15.0)])
    for day, rows in sorted(by_day.items()):
        write_table(settings, canonical.EVENTS, "events", day, rows)
