"""A tiny canonical lake, written straight to Parquet, for the warehouse tests.

The lake is written with ``pipelines.lake.replace_partition`` (the ingestion's own writer)
in the canonical shapes of ``pipelines.canonical``; no landing files, no parsers. Each
scenario below exists for one assertion of ``test_warehouse.py``.

Rates (ECB style, base EUR, rate = EUR per unit): 2026-03-02 1 EUR = 1.08 USD and
0.85 GBP; 2026-03-03 1 EUR = 1.10 USD and 0.86 GBP; 2026-03-04 none (carried forward).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines import canonical, lake
from pipelines.config import DBT_PROJECT_DIR, RULE_BASED_MODELS, Settings
from pipelines.parity import BUILD_COLUMNS

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)
D4 = dt.date(2026, 3, 5)
OLD_DAY = dt.date(2026, 1, 15)
ATTRIBUTION_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "attribution"
MARTS = (
    "fct_ad_spend_daily",
    "fct_attributed_conversions",
    "fct_channel_performance_daily",
    "mart_kpi_daily",
)


def enabled_models() -> list[str]:
    """The rule-based models plus every data-driven model whose dbt file exists."""
    extra = [
        p.stem.removeprefix("attr_")
        for p in sorted(ATTRIBUTION_DIR.glob("attr_*.py"))
        if p.stem.removeprefix("attr_") not in RULE_BASED_MODELS
    ]
    return [*RULE_BASED_MODELS, *extra]


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


FIRST_DELIVERY = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
NEXT_DELIVERY = dt.datetime(2026, 3, 6, tzinfo=dt.UTC)


def write_table(
    settings: Settings,
    table: canonical.Table,
    source: str,
    day,
    rows,
    delivered_at: dt.datetime = FIRST_DELIVERY,
) -> None:
    """Conform ``rows`` to ``table`` and replace the (source, day) partition with them.

    A row's own ``delivered_at`` key, if any, is its delivery (a partition rebuilt from
    several files keeps each file's); the others get ``delivered_at``.
    """
    rows = [dict(r) for r in rows]
    delivered = [r.pop("delivered_at", delivered_at) for r in rows]
    frame = pd.DataFrame(rows)
    data = canonical.conform(frame, table)
    n = data.num_rows
    data = data.append_column("source_file", pa.array([f"{source}/{day}/test.json"] * n))
    data = data.append_column("file_hash", pa.array(["0" * 64] * n))
    data = data.append_column(
        "delivered_at", pa.array(delivered, type=pa.timestamp("us", tz="UTC"))
    )
    lake.replace_partition(settings, table, source, day, data)


def ad_row(platform, account, currency, day, campaign, name, group, ad, imp, clicks, spend):
    return {
        "platform": platform,
        "account_id": account,
        "account_name": f"{platform} account",
        "account_timezone": "UTC",
        "account_currency": currency,
        "spend_date": day,
        "date_basis": "account_tz",
        "campaign_id": campaign,
        "campaign_name": name,
        "ad_group_id": group,
        "ad_group_name": f"group {group}",
        "ad_id": ad,
        "ad_name": f"ad {ad}",
        "impressions": imp,
        "clicks": clicks,
        "link_clicks": clicks,
        "spend_micros": round(spend * 1_000_000),
        "platform_conversions": 1.0,
        "platform_conversion_value": 10.0,
        "conversion_definition": f"{platform}:conversions",
    }


def event(event_id, at, anonymous_id, event_type="page", name=None, user_id=None, **extra):
    row = {
        "event_id": event_id,
        "event_type": event_type,
        "event_name": name,
        "event_at": ts(at),
        "received_at": ts(at),
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "page_url": "https://shop.example.com/",
    }
    row.update(extra)
    return row


def write_lake(settings: Settings) -> None:
    """The scenarios (see the module docstring for the rates)."""
    fx = canonical.FX_RATES
    write_table(
        settings,
        fx,
        "fx_rates",
        D1,
        [
            {"rate_date": D1, "base_currency": "EUR", "currency": "USD", "rate": 1 / 1.08},
            {"rate_date": D1, "base_currency": "EUR", "currency": "GBP", "rate": 1 / 0.85},
        ],
    )
    write_table(
        settings,
        fx,
        "fx_rates",
        D2,
        [
            {"rate_date": D2, "base_currency": "EUR", "currency": "USD", "rate": 1 / 1.10},
            {"rate_date": D2, "base_currency": "EUR", "currency": "GBP", "rate": 1 / 0.86},
        ],
    )

    ad = canonical.AD_DELIVERY
    write_table(
        settings,
        ad,
        "google_ads",
        D1,
        [ad_row("google_ads", "111", "USD", D1, "C1", "Brand Search", "G1", "A1", 1000, 50, 25.0)],
    )
    write_table(
        settings,
        ad,
        "meta_ads",
        D1,
        [ad_row("meta_ads", "222", "EUR", D1, "M1", "Spring Sale", "S1", "AD1", 2000, 40, 30.5)],
    )
    write_table(
        settings,
        ad,
        "meta_ads",
        D3,
        [ad_row("meta_ads", "222", "EUR", D3, "M1", "Spring Sale", "S1", "AD1", 500, 5, 10.0)],
    )
    write_table(
        settings,
        ad,
        "linkedin_ads",
        D2,
        [ad_row("linkedin_ads", "333", "GBP", D2, "L1", "B2B", "LG1", "LA1", 300, 3, 12.34)],
    )
    # Zero divisors: spend without impressions or clicks.
    write_table(
        settings,
        ad,
        "tiktok_ads",
        D2,
        [ad_row("tiktok_ads", "444", "USD", D2, "T1", "Launch", "TG1", "TA1", 0, 0, 5.0)],
    )

    aff = canonical.AFFILIATE_TRANSACTIONS

    def txn(network, tid, status, commission, publisher, day, correction=False, original=None):
        return {
            "network": network,
            "transaction_id": tid,
            "order_id": f"order-{tid}",
            "advertiser_id": "adv1",
            "publisher_id": publisher,
            "publisher_name": f"publisher {publisher}",
            "event_at": ts(f"{day}T12:00:00"),
            "transaction_date": day,
            "status": status,
            "raw_status": status,
            "sale_amount": commission * 10,
            "commission_amount": commission,
            "currency": "USD",
            "is_correction": correction,
            "original_transaction_id": original,
            "updated_at": ts(f"{day}T13:00:00"),
        }

    write_table(
        settings,
        aff,
        "affiliate",
        D1,
        [
            txn("impact", "t1", "approved", 10.0, "P1", D1),
            txn("impact", "t2", "reversed", 5.0, "P1", D1),
        ],
    )
    write_table(
        settings,
        aff,
        "affiliate",
        D2,
        [
            txn("cj", "t3", "approved", 20.0, "P2", D2),
            txn("cj", "t4", "reversed", -8.0, "P2", D2, correction=True, original="t3"),
        ],
    )

    installs = canonical.APP_INSTALLS

    def install(iid, media_source, cost):
        return {
            "mmp": "appsflyer",
            "install_id": iid,
            "app_id": "app1",
            "install_at": ts("2026-03-03T10:00:00"),
            "touch_at": ts("2026-03-03T09:00:00"),
            "touch_type": "click",
            "media_source": media_source,
            "campaign_id": "U1",
            "campaign_name": "Unity CPI",
            "cost_model": "cpi",
            "cost_value": cost,
            "cost_currency": "USD",
            "is_primary_attribution": True,
        }

    write_table(
        settings,
        installs,
        "appsflyer",
        D2,
        [install("i1", "googleadwords_int", 2.0), install("i2", "unity_int", 3.0)],
    )

    events = canonical.EVENTS
    day1 = [
        # Person u1, device 1 (anonymous a1), the day before: a Google Ads click, tied by
        # utm_id to C1.
        event(
            "e1", "2026-03-01T10:00:00", "a1", click_id_type="gclid", click_id="Cj0K", utm_id="C1"
        ),
        # Person u1, device 2 (a2): a Meta landing, tied by campaign name; login; purchase.
        event(
            "e2",
            "2026-03-02T20:00:00",
            "a2",
            utm_source="facebook",
            utm_medium="paid_social",
            utm_campaign="Spring Sale",
        ),
        event("e3", "2026-03-02T20:05:00", "a2", event_type="identify", user_id="u1"),
        event(
            "e4",
            "2026-03-02T20:10:00",
            "a2",
            event_type="track",
            name="Order Completed",
            user_id="u1",
            order_id="O1",
            revenue=50.0,
            currency="EUR",
        ),
        # The same order sent twice (a retry with a new event id): counted once.
        event(
            "e5",
            "2026-03-02T20:11:00",
            "a2",
            event_type="track",
            name="Order Completed",
            user_id="u1",
            order_id="O1",
            revenue=50.0,
            currency="EUR",
        ),
    ]
    day2 = [
        # Device 1 logs in only after the purchase: its earlier browsing is still u1's.
        event("e6", "2026-03-03T09:00:00", "a1", event_type="identify", user_id="u1"),
        # Person b1: a direct session, then an organic search session, then a lead.
        event("e7", "2026-03-03T08:00:00", "b1"),
        event("e8", "2026-03-03T09:00:00", "b1", referrer_url="https://www.google.com/search?q=x"),
        event("e9", "2026-03-03T09:05:00", "b1", event_type="track", name="Form Submitted"),
        # Person d1: an e-mail landing, no conversion (a non-converting journey). Its
        # campaign is in no spend yet (write_next_day adds it).
        event(
            "e14",
            "2026-03-03T11:00:00",
            "d1",
            utm_source="newsletter",
            utm_medium="email",
            utm_campaign="Autumn Launch",
        ),
        # Person c1: a purchase with no touch at all (server-side): empty path -> Direct.
        event(
            "e10",
            "2026-03-03T12:00:00",
            "c1",
            event_type="track",
            name="Order Completed",
            order_id="O3",
            revenue=30.0,
            currency="GBP",
        ),
    ]
    day3 = [
        # u1 again: a Meta click (fbclid only), then a second order; the touches before
        # the first order do not count again.
        event("e11", "2026-03-04T08:00:00", "a1", click_id_type="fbclid", click_id="IwAR"),
        event(
            "e12",
            "2026-03-04T08:30:00",
            "a1",
            event_type="track",
            name="Order Completed",
            user_id="u1",
            order_id="O2",
            revenue=20.0,
            currency="USD",
        ),
        # A partial refund of O1 (10 EUR at the 2026-03-04 rate, carried from 03-03).
        event(
            "e13",
            "2026-03-04T10:00:00",
            "a2",
            event_type="track",
            name="Order Refunded",
            user_id="u1",
            order_id="O1",
            revenue=10.0,
            currency="EUR",
        ),
        # e8 delivered again in a later file: deduplicated by event id.
        event("e8", "2026-03-03T09:00:00", "b1", referrer_url="https://www.google.com/search?q=x"),
    ]
    # each day's events delivered the day after (the last, day 3's, on FIRST_DELIVERY)
    for day, rows in ((OLD_DAY, old_day_events()), (D1, day1), (D2, day2), (D3, day3)):
        write_table(settings, events, "events", day, rows, delivered_at=_day_after(day))


def _day_after(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)


def old_day_events(landing_at: str = "2026-01-14T10:00:00") -> list[dict]:
    """Person o1, long before: an e-mail landing and an order weeks before the later days
    (an incremental build keeps its facts unless its path changes)."""
    return [
        event("e0a", landing_at, "o1", utm_source="newsletter", utm_medium="email"),
        event(
            "e0b",
            "2026-01-15T10:00:00",
            "o1",
            event_type="track",
            name="Order Completed",
            order_id="O0",
            revenue=40.0,
            currency="USD",
        ),
    ]


def write_next_day(settings: Settings) -> None:
    """A later delivery: a new order, the cancellation of the old order O0 (weeks before
    the last day), a restated Meta spend day inside the restatement window, a late
    identify that links device c1 (whose order O3 had no touch) to u1, re-keying its
    history, a late copy of b1's lead in another day's partition, a Meta campaign that
    ties d1's old landing (whose person has no new event), a late old order O5 (dated
    weeks before the last day), a second user id on device a2 (linked to u1: a shared
    device, whose identity row is recomputed), another identify of a1 by its own user
    (merged into its stored row), a corrected copy of O2's order event that no longer
    converts (O2 is gone), and a later file of the old day that corrects the time of o1's
    first event: the partition is rebuilt with it, as ingest does, so the old copy is gone
    from the lake."""
    write_table(
        settings,
        canonical.EVENTS,
        "events",
        D4,
        [
            event("e15", "2026-03-05T09:00:00", "b1", utm_source="google", utm_medium="cpc"),
            event(
                "e16",
                "2026-03-05T09:10:00",
                "b1",
                event_type="track",
                name="Order Completed",
                order_id="O4",
                revenue=15.0,
                currency="USD",
            ),
            event(
                "e17",
                "2026-03-05T10:00:00",
                "o1",
                event_type="track",
                name="Order Cancelled",
                order_id="O0",
            ),
            event("e18", "2026-03-05T11:00:00", "c1", event_type="identify", user_id="u1"),
            # a late delivery of an old journey (weeks before the last day)
            event("e19", "2026-01-16T10:00:00", "o2", utm_source="newsletter", utm_medium="email"),
            event(
                "e20",
                "2026-01-16T10:05:00",
                "o2",
                event_type="track",
                name="Order Completed",
                order_id="O5",
                revenue=25.0,
                currency="USD",
            ),
            event("e9", "2026-03-03T09:05:00", "b1", event_type="track", name="Form Submitted"),
            event("e21", "2026-03-05T12:00:00", "a2", event_type="identify", user_id="u9"),
            event("e22", "2026-03-05T12:30:00", "a1", event_type="identify", user_id="u1"),
            event(
                "e12",
                "2026-03-04T08:30:00",
                "a1",
                event_type="track",
                name="Checkout Started",
                user_id="u1",
            ),
        ],
        delivered_at=NEXT_DELIVERY,
    )
    # o1's landing corrected by a later file of its day (the order keeps its own delivery)
    landing, order = old_day_events(landing_at="2026-01-14T10:30:00")
    write_table(
        settings,
        canonical.EVENTS,
        "events",
        OLD_DAY,
        [
            {**landing, "delivered_at": NEXT_DELIVERY},
            {**order, "delivered_at": _day_after(OLD_DAY)},
        ],
    )
    write_table(
        settings,
        canonical.AD_DELIVERY,
        "meta_ads",
        D1,
        [ad_row("meta_ads", "222", "EUR", D1, "M1", "Spring Sale", "S1", "AD1", 2100, 42, 31.0)],
        delivered_at=NEXT_DELIVERY,
    )
    write_table(
        settings,
        canonical.AD_DELIVERY,
        "meta_ads",
        D3,
        [
            ad_row("meta_ads", "222", "EUR", D3, "M1", "Spring Sale", "S1", "AD1", 500, 5, 10.0),
            ad_row("meta_ads", "222", "EUR", D3, "M2", "Autumn Launch", "S2", "AD2", 300, 3, 4.0),
        ],
        delivered_at=NEXT_DELIVERY,
    )


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        return con.execute(sql).df()


def snapshot(settings: Settings) -> dict[str, pd.DataFrame]:
    """Every mart, sorted on all columns, for comparisons between builds (without when
    each row was written: BUILD_COLUMNS)."""
    out = {}
    for mart in MARTS:
        frame = query(settings, f"select * from {mart}").drop(
            columns=list(BUILD_COLUMNS), errors="ignore"
        )
        out[mart] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def copy_project(target: Path) -> Path:
    """A copy of the dbt project without dbt's working folders."""
    shutil.copytree(
        DBT_PROJECT_DIR,
        target,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
    )
    return target


def uncompressed_columns(settings: Settings) -> dict[str, set[str]]:
    """Per table (schema.table) of the warehouse, the columns its DDL stores uncompressed."""
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        tables = con.execute(
            "select schema_name || '.' || table_name, sql from duckdb_tables() "
            "where database_name = current_database()"
        ).fetchall()
    found = {
        table: set(re.findall(r'"?(\w+)"? \w+ USING COMPRESSION Uncompressed', ddl))
        for table, ddl in tables
    }
    return {table: columns for table, columns in found.items() if columns}
