"""A small lake and a warehouse written directly (standing in for dbt's build).

``make_project(settings)`` writes ten days of ``ad_delivery`` (google_ads in USD, meta_ads
in EUR), ``fx_rates`` and ``events`` partitions, then builds a warehouse DuckDB with the
intermediate tables and published marts the gate reads (DESIGN.md's fixed columns), a
dbt-like manifest listing the published marts, and ``state/build.json``. The fault
helpers break one thing each, the way the tests need.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.canonical import TABLES, conform
from pipelines.config import Settings

START = date(2026, 3, 1)
DAYS = 10
EUR_RATE = 1.1  # USD for one EUR
MODELS_CREDITS = {"first_touch": (1.0, 0.0), "last_touch": (0.0, 1.0)}  # else linear 0.5/0.5
PUBLISHED = (
    "fct_ad_spend_daily",
    "fct_attributed_conversions",
    "fct_channel_performance_daily",
    "mart_kpi_daily",
    "mart_markov_channel_effects",
)


def partition_file(settings: Settings, table: str, source: str, day: date) -> Path:
    return settings.paths.lake_raw / table / f"source={source}" / f"date={day}" / "data.parquet"


def write_partition(
    settings: Settings, table: str, source: str, day: date, df: pd.DataFrame
) -> None:
    t = TABLES[table]
    arrow = conform(df, t)
    for f in t.schema:
        if f.name not in arrow.column_names:
            arrow = arrow.append_column(f, pa.nulls(len(arrow), type=f.type))
    path = partition_file(settings, table, source, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow, path)


def read_partition(settings: Settings, table: str, source: str, day: date) -> pd.DataFrame:
    return pq.read_table(partition_file(settings, table, source, day)).to_pandas()


def _delivery(platform: str, currency: str, day: date, scale: float) -> pd.DataFrame:
    rows = []
    for c in range(3):
        for a in range(2):
            rows.append(
                {
                    "platform": platform,
                    "account_id": "1001" if platform == "google_ads" else "2002",
                    "account_name": f"{platform} account",
                    "account_timezone": "UTC",
                    "account_currency": currency,
                    "spend_date": day,
                    "date_basis": "account_tz",
                    "campaign_id": f"{platform[:2]}c{c}",
                    "campaign_name": f"Campaign {c}",
                    "ad_group_id": f"{platform[:2]}g{c}",
                    "ad_group_name": f"Group {c}",
                    "ad_id": f"{platform[:2]}a{c}{a}",
                    "ad_name": f"Ad {c}{a}",
                    "impressions": 1000 + 10 * c + (day.day % 3),
                    "clicks": 50 + c,
                    "link_clicks": 40 + c,
                    "spend_micros": int((12_345_678 + 1_000_000 * c + 10_000 * day.day) * scale),
                    "platform_conversions": 1.5,
                    "platform_conversion_value": 30.0,
                    "conversion_definition": "purchase",
                }
            )
    return pd.DataFrame(rows)


def _events(day: date) -> pd.DataFrame:
    rows = []
    base = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    for i in range(30):
        name, order, revenue = "Page Viewed", None, None
        if i < 5:
            name, order, revenue = "Order Completed", f"o-{day}-{i}", 20.0 + i
        elif i < 7:
            name = "Lead Generated"
        rows.append(
            {
                "event_id": f"e-{day}-{i}",
                "event_type": "track",
                "event_name": name,
                "event_at": base + timedelta(minutes=i),
                "received_at": base + timedelta(minutes=i),
                "anonymous_id": f"anon-{i}",
                "order_id": order,
                "revenue": revenue,
                "currency": "USD" if revenue else None,
            }
        )
    return pd.DataFrame(rows)


def write_lake(settings: Settings, start: date = START, days: int = DAYS) -> None:
    for n in range(days):
        day = start + timedelta(days=n)
        write_partition(
            settings, "ad_delivery", "google_ads", day, _delivery("google_ads", "USD", day, 1)
        )
        write_partition(
            settings, "ad_delivery", "meta_ads", day, _delivery("meta_ads", "EUR", day, 0.8)
        )
        write_partition(
            settings,
            "fx_rates",
            "fx_rates",
            day,
            pd.DataFrame(
                [{"rate_date": day, "base_currency": "USD", "currency": "EUR", "rate": EUR_RATE}]
            ),
        )
        write_partition(settings, "events", "events", day, _events(day))


def _glob(settings: Settings, table: str) -> str:
    return str(settings.paths.lake_raw / table / "*" / "*" / "*.parquet")


def build_warehouse(settings: Settings, models: tuple[str, ...] | None = None) -> str:
    """(Re)build the warehouse from the lake; write the manifest and ``state/build.json``."""
    models = models or tuple(settings.attribution.models)
    path = settings.paths.warehouse
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".building")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        con.execute(
            f"""
            create table int_fx_rates_daily as
            select cast(rate_date as date) as rate_date, currency, rate
            from read_parquet('{_glob(settings, "fx_rates")}', hive_partitioning = true);

            create table fct_ad_spend_daily as
            select
                cast(d.spend_date as date) as spend_date, d.platform,
                case when d.platform = 'google_ads' then 'Paid Search' else 'Paid Social' end
                    as channel,
                d.account_id, d.campaign_id, d.campaign_name, d.ad_group_id, d.ad_group_name,
                d.ad_id, d.ad_name, d.account_currency,
                d.spend_micros / 1e6 as spend_account_currency,
                d.spend_micros / 1e6
                    * coalesce(case when d.account_currency = 'USD' then 1 end, f.rate) as spend,
                d.impressions, d.clicks, d.link_clicks, d.platform_conversions,
                d.platform_conversion_value
            from read_parquet('{_glob(settings, "ad_delivery")}', hive_partitioning = true) as d
            left join int_fx_rates_daily as f
                on f.currency = d.account_currency and f.rate_date = cast(d.spend_date as date);

            create table int_ad_spend_daily as select * from fct_ad_spend_daily;

            create table int_conversions as
            select
                coalesce(order_id, event_id) as conversion_id,
                case when event_name = 'Order Completed' then 'purchase' else 'lead' end
                    as conversion_type,
                event_at as converted_at,
                cast(event_at as date) as conversion_date,
                anonymous_id as person_key,
                coalesce(revenue, 0) as conversion_value
            from read_parquet('{_glob(settings, "events")}', hive_partitioning = true)
            where event_name in ('Order Completed', 'Lead Generated');

            create table int_conversion_paths as
            select conversion_id, 2 as path_length from int_conversions;
            """
        )
        credits = []
        for m in models:
            first, last = MODELS_CREDITS.get(m, (0.5, 0.5))
            credits.append(f"('{m}', 1, {first}), ('{m}', 2, {last})")
        con.execute(
            f"""
            create table fct_attributed_conversions as
            with credits as (
                select * from (values {", ".join(credits)}) as c(model, touch_position, credit)
            )
            select
                c.conversion_id, c.conversion_type, c.converted_at, c.conversion_date,
                c.person_key, c.conversion_value, k.model,
                c.conversion_id || '-t' || k.touch_position as touchpoint_id,
                c.converted_at - interval 1 hour * k.touch_position as touched_at,
                case when k.touch_position = 1 then 'Paid Search' else 'Paid Social' end as channel,
                case when k.touch_position = 1 then 'google_ads' else 'meta_ads' end as platform,
                case when k.touch_position = 1 then 'goc0' else 'mec0' end as campaign_id,
                null::varchar as ad_group_id, null::varchar as ad_id,
                k.touch_position, 2 as path_length, k.credit,
                k.credit * c.conversion_value as attributed_value
            from int_conversions as c
            cross join credits as k;

            create table fct_channel_performance_daily as
            with spend as (
                select spend_date as report_date, channel, platform, campaign_id,
                    sum(spend) as spend, sum(impressions) as impressions, sum(clicks) as clicks
                from fct_ad_spend_daily group by all
            ),
            attributed as (
                select conversion_date as report_date, model, channel, platform, campaign_id,
                    sum(credit) as attributed_conversions, sum(attributed_value) as attributed_value
                from fct_attributed_conversions group by all
            ),
            models as (select distinct model from fct_attributed_conversions),
            bases as (select * from (values ('conversion'), ('touch')) as b(date_basis))
            select
                s.report_date, b.date_basis, m.model, s.channel, s.platform, s.campaign_id,
                s.spend, s.impressions, s.clicks,
                coalesce(a.attributed_conversions, 0) as attributed_conversions,
                coalesce(a.attributed_value, 0) as attributed_value
            from spend as s
            cross join models as m
            cross join bases as b
            left join attributed as a
                on a.report_date = s.report_date and a.model = m.model
                and a.channel = s.channel and a.platform = s.platform
                and a.campaign_id = s.campaign_id;

            create table mart_kpi_daily as
            select *,
                spend / nullif(clicks, 0) as cpc,
                1000 * spend / nullif(impressions, 0) as cpm,
                clicks / nullif(impressions, 0) as ctr,
                attributed_conversions / nullif(clicks, 0) as cvr,
                null::double as cpl,
                spend / nullif(attributed_conversions, 0) as cpa,
                spend / nullif(attributed_conversions, 0) as cps,
                null::double as cpi,
                attributed_value / nullif(spend, 0) as roas
            from fct_channel_performance_daily;

            create table mart_markov_channel_effects as
            select * from (values
                ('Paid Search', 0.6, 0.6, 0.5, 35.0, 900.0),
                ('Paid Social', 0.6, 0.6, 0.5, 35.0, 900.0)
            ) as t(channel, removal_effect, value_removal_effect, share,
                attributed_conversions, attributed_value);
            """
        )
    os.replace(tmp, path)
    write_manifest(settings)
    build_id = uuid.uuid4().hex
    write_build(settings, build_id)
    return build_id


def write_manifest(settings: Settings, published: tuple[str, ...] = PUBLISHED) -> None:
    target = settings.paths.data_dir / "dbt" / "target"
    target.mkdir(parents=True, exist_ok=True)
    nodes = {
        f"model.attribution.{name}": {
            "resource_type": "model",
            "name": name,
            "alias": name,
            "tags": ["published"],
            "config": {"tags": ["published"]},
        }
        for name in published
    }
    nodes["model.attribution.int_conversions"] = {
        "resource_type": "model",
        "name": "int_conversions",
        "tags": [],
    }
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}), encoding="utf-8")


def write_build(settings: Settings, build_id: str) -> None:
    state = settings.paths.state
    state.mkdir(parents=True, exist_ok=True)
    (state / "build.json").write_text(
        json.dumps(
            {
                "build_id": build_id,
                "finished_at": datetime.now(UTC).isoformat(),
                "success": True,
                "models": [],
            }
        ),
        encoding="utf-8",
    )


def make_project(settings: Settings) -> str:
    """Lake + warehouse + manifest + build record; returns the build id."""
    write_lake(settings)
    return build_warehouse(settings)


def execute_on_warehouse(settings: Settings, sql: str) -> None:
    with duckdb.connect(str(settings.paths.warehouse)) as con:
        con.execute(sql)
