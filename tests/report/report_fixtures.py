"""Helpers for the report tests: a small published ``marts.duckdb`` and headless Chromium.

``build_marts`` writes the published marts with the fixed columns of DESIGN.md
("Published marts"), from a few days of made-up spend and conversions; ``full=True`` adds
the optional marts (platform reconciliation, creative performance with fatigued ads,
customer LTV, publication log). One channel name is hostile HTML, so every test also
checks escaping.

``render_in_chromium`` opens the written report in Debian's headless Chromium with name
resolution disabled (the page must work offline) and returns the DOM after the scripts
ran; ``screenshot`` saves a PNG. A missing Chromium FAILS the test (CI installs it).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

FIRST_DAY = date(2026, 9, 1)
DAYS = 14
MODELS = ("first_touch", "last_touch", "linear", "markov")
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"></script><b>Paid Other</b>"

# platform, channel, campaign, daily spend, impressions per unit of spend, ctr, cvr, value
PLATFORMS = (
    ("google_ads", "Paid Search", "g-100", 120.0, 90, 0.040, 0.060, 80.0),
    ("meta_ads", "Paid Social", "m-200", 90.0, 160, 0.012, 0.030, 65.0),
    ("tiktok_ads", "Paid Social", "t-300", 40.0, 220, 0.008, 0.015, 40.0),
    ("affiliate", "Affiliates", "a-400", 25.0, 30, 0.050, 0.080, 55.0),
    ("taboola", HOSTILE, "tb-500", 15.0, 300, 0.004, 0.010, 30.0),
)
# How much each model shifts credit to a platform (first-party view differs per model).
MODEL_FACTOR = {"first_touch": 0.8, "last_touch": 1.0, "linear": 0.9, "markov": 0.85}
ORGANIC_CONVERSIONS = 6.0  # per day, Organic Search, no spend, no platform


def _spend_rows() -> list[tuple[Any, ...]]:
    rows = []
    for d in range(DAYS):
        day = date.fromordinal(FIRST_DAY.toordinal() + d)
        wave = 1.0 + 0.15 * ((d % 5) - 2) / 2
        for platform, channel, campaign, spend, ipu, ctr, cvr, _value in PLATFORMS:
            s = round(spend * wave, 2)
            impressions = int(s * ipu)
            clicks = int(impressions * ctr * (1.0 - 0.02 * d))
            rows.append(
                (
                    day,
                    platform,
                    channel,
                    f"acct-{platform}",
                    campaign,
                    f"Campaign {campaign}",
                    f"{campaign}-ag",
                    "Ad group",
                    f"{campaign}-ad",
                    f"Ad {campaign}",
                    "USD",
                    s,
                    s,
                    impressions,
                    clicks,
                    clicks,
                    round(clicks * cvr * 1.3, 2),
                    round(clicks * cvr * 1.3 * 70.0, 2),
                )
            )
    return rows


def build_marts(db: Path, *, full: bool) -> None:
    """Write a published marts database at ``db`` (see the module docstring)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db)) as con:
        con.execute(
            """
            create table fct_ad_spend_daily (
                spend_date date, platform varchar, channel varchar, account_id varchar,
                campaign_id varchar, campaign_name varchar, ad_group_id varchar,
                ad_group_name varchar, ad_id varchar, ad_name varchar,
                account_currency varchar, spend_account_currency double, spend double,
                impressions bigint, clicks bigint, link_clicks bigint,
                platform_conversions double, platform_conversion_value double
            )
            """
        )
        con.executemany(
            "insert into fct_ad_spend_daily values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _spend_rows(),
        )
        con.execute("create table models as select unnest(?::varchar[]) as model", [list(MODELS)])
        con.execute(
            "create table factors as select * from (values "
            + ", ".join(f"('{m}', {f})" for m, f in MODEL_FACTOR.items())
            + ") as t(model, factor)"
        )
        con.execute(
            "create table platform_cvr as select * from (values "
            + ", ".join(f"('{p[0]}', {p[6]}, {p[7]})" for p in PLATFORMS)
            + ") as t(platform, cvr, value_per_conversion)"
        )
        con.execute(
            """
            create table fct_attributed_conversions as
            with days as (
                select cast(range as date) as conversion_date
                from range(date '2026-09-01', date '2026-09-15', interval 1 day)
            ),
            per_day as (
                select conversion_date, unnest(range(8)) as n from days
            )
            select
                'c-' || strftime(conversion_date, '%Y%m%d') || '-' || n as conversion_id,
                'purchase' as conversion_type,
                cast(conversion_date as timestamp) + interval 15 hour as converted_at,
                conversion_date,
                'p-' || n as person_key,
                50.0 + n as conversion_value,
                models.model,
                't-' || n as touchpoint_id,
                cast(conversion_date as timestamp) - interval 1 day as touched_at,
                case when n < 4 then 'Paid Search' else 'Organic Search' end as channel,
                case when n < 4 then 'google_ads' end as platform,
                case when n < 4 then 'g-100' end as campaign_id,
                case when n < 4 then 'g-100-ag' end as ad_group_id,
                case when n < 4 then 'g-100-ad' end as ad_id,
                'last' as touch_position,
                1 as path_length,
                1.0 as credit,
                50.0 + n as attributed_value,
            from per_day
            cross join models
            """
        )
        con.execute(
            """
            create table fct_channel_performance_daily as
            with bases as (
                select unnest(['conversion', 'touch']) as date_basis
            ),
            paid as (
                select
                    s.spend_date as report_date,
                    s.channel,
                    s.platform,
                    s.campaign_id,
                    s.spend,
                    s.impressions,
                    s.clicks,
                    s.link_clicks,
                    s.platform_conversions,
                    s.clicks * c.cvr as base_conversions,
                    c.value_per_conversion,
                from fct_ad_spend_daily as s
                inner join platform_cvr as c on c.platform = s.platform
            ),
            organic as (
                select
                    cast(range as date) as report_date,
                    'Organic Search' as channel,
                    cast(null as varchar) as platform,
                    cast(null as varchar) as campaign_id,
                    0.0 as spend,
                    cast(0 as bigint) as impressions,
                    cast(0 as bigint) as clicks,
                    cast(0 as bigint) as link_clicks,
                    0.0 as platform_conversions,
                    6.0 as base_conversions,
                    45.0 as value_per_conversion,
                from range(date '2026-09-01', date '2026-09-15', interval 1 day)
            ),
            unioned as (
                select * from paid
                union all
                select * from organic
            ),
            final as (
                select
                    u.report_date,
                    b.date_basis,
                    f.model,
                    u.channel,
                    u.platform,
                    u.campaign_id,
                    u.spend,
                    u.impressions,
                    u.clicks,
                    u.link_clicks,
                    u.platform_conversions,
                    u.base_conversions * f.factor as attributed_conversions,
                    u.base_conversions * f.factor * u.value_per_conversion as attributed_value,
                    u.base_conversions * f.factor as purchase_conversions,
                from unioned as u
                cross join bases as b
                cross join factors as f
            )
            select * from final
            """
        )
        con.execute(
            """
            create table mart_kpi_daily as
            select
                *,
                spend / nullif(clicks, 0) as cpc,
                1000 * spend / nullif(impressions, 0) as cpm,
                clicks / nullif(impressions, 0) as ctr,
                attributed_conversions / nullif(clicks, 0) as cvr,
                cast(null as double) as cpl,
                cast(null as double) as cpa,
                spend / nullif(purchase_conversions, 0) as cps,
                cast(null as double) as cpi,
                attributed_value / nullif(spend, 0) as roas,
            from fct_channel_performance_daily
            """
        )
        if full:
            _optional_marts(con)
        con.execute("drop table models")
        con.execute("drop table factors")
        con.execute("drop table platform_cvr")


def _optional_marts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        create table mart_platform_reconciliation as
        select
            k.report_date,
            k.model,
            k.platform,
            k.campaign_id,
            k.platform_conversions,
            k.attributed_conversions,
            k.platform_conversions - k.attributed_conversions as conversion_gap,
        from mart_kpi_daily as k
        where k.date_basis = 'conversion' and k.platform is not null
        """
    )
    # Two ads per platform; the second of google and meta loses CTR day by day (fatigued).
    con.execute(
        """
        create table mart_creative_performance as
        with ads as (
            select * from (values
                ('google_ads', 'g-ad-1', 'Search ad A', 0.040, 0.0),
                ('google_ads', 'g-ad-2', 'Search ad B', 0.050, 0.05),
                ('meta_ads', 'm-ad-1', 'Video 15s', 0.015, 0.0),
                ('meta_ads', 'm-ad-2', 'Carousel', 0.020, 0.06)
            ) as t(platform, ad_id, ad_name, launch_ctr, daily_decay)
        ),
        days as (
            select cast(range as date) as performance_date,
                row_number() over (order by range) - 1 as day_index,
            from range(date '2026-09-01', date '2026-09-15', interval 1 day)
        )
        select
            days.performance_date,
            ads.platform,
            ads.ad_id,
            ads.ad_name,
            cast(5000 as bigint) as impressions,
            cast(round(5000 * ads.launch_ctr * (1 - ads.daily_decay * days.day_index)) as bigint)
                as clicks,
            round(5000 * ads.launch_ctr * (1 - ads.daily_decay * days.day_index)) / 5000 as ctr,
            ads.daily_decay > 0 and days.day_index >= 6 as is_fatigued,
        from ads
        cross join days
        """
    )
    con.execute(
        """
        create table mart_customer_ltv as
        select * from (values
            ('2026-09', 'Paid Search', 120, 80.0, 95.0, 110.0, 40.0, 2.75),
            ('2026-09', 'Paid Social', 90, 60.0, 70.0, 85.0, 55.0, 1.55),
            ('2026-09', 'Affiliates', 30, 70.0, 90.0, 100.0, 30.0, 3.33),
            ('2026-09', 'Organic Search', 200, 75.0, 85.0, 95.0, null, null)
        ) as t(cohort_month, first_channel, customers, value_30d, value_90d, value_365d,
               cac, ltv_to_cac)
        """
    )
    con.execute(
        """
        create table publication_log (
            attempted_at varchar, run_id varchar, stage varchar, result varchar,
            data_dates varchar, build_id varchar, version varchar,
            failed_expectations varchar, message varchar
        )
        """
    )
    con.execute(
        """
        insert into publication_log values
        ('2026-09-15T06:00:00+00:00', 'run-a', 'gate', 'passed', '2026-09-14', 'b-1', null,
         '', '0 errors, 0 warnings'),
        ('2026-09-15T06:01:00+00:00', 'run-a', 'publish', 'published', '2026-09-14', 'b-1',
         '20260915T060100Z-run-a', '', 'published 10 marts'),
        ('2026-09-16T06:00:00+00:00', 'run-b', 'gate', 'blocked', '2026-09-15', 'b-2', null,
         'expect_spend_matches_lake on fct_ad_spend_daily', '<script>alert(1)</script>')
        """
    )


def write_gate(state: Path, *, passed: bool) -> None:
    state.mkdir(parents=True, exist_ok=True)
    failures = (
        []
        if passed
        else [
            {
                "expectation": "expect_spend_matches_lake",
                "table": "fct_ad_spend_daily",
                "severity": "error",
                "detail": "spend differs from the lake by 12.5 on 2026-09-15 <b>google_ads</b>",
                "sample_rows": [],
            },
            "a failure written as a plain string",
        ]
    )
    (state / "gate.json").write_text(
        json.dumps(
            {
                "run_id": "run-b",
                "passed": passed,
                "checked_at": "2026-09-16T06:00:00+00:00",
                "build_id": "b-2",
                "failures": failures,
                "warnings": [],
            }
        ),
        encoding="utf-8",
    )


def embedded_data(page: str) -> dict[str, Any]:
    """The JSON the report embeds for its script."""
    m = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page, flags=re.S
    )
    assert m, "the report has no embedded JSON data block"
    return json.loads(m.group(1))


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "headless Chromium is not installed, so the report cannot be checked in a browser; "
        "install it with `apt-get install -y chromium` (CI's .ci/run does)."
    )


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    cmd = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        # Offline: no host name resolves, so any external fetch would fail.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc


def render_in_chromium(tmp_path: Path, page: Path, fragment: str = "") -> str:
    """The DOM of ``page`` after its scripts ran, as serialized by headless Chromium."""
    url = page.resolve().as_uri() + fragment
    return _chromium(tmp_path, "--window-size=1400,2400", "--dump-dom", url).stdout


def screenshot(tmp_path: Path, page: Path, png: Path, height: int = 3600) -> Path:
    _chromium(
        tmp_path,
        "--hide-scrollbars",
        f"--window-size=1400,{height}",
        f"--screenshot={png}",
        page.resolve().as_uri(),
    )
    return png


def render_status(dom: str) -> dict[str, Any]:
    """The JSON summary the page's script leaves in ``<pre id="render-status">``."""
    m = re.search(r'<pre id="render-status"[^>]*>(.*?)</pre>', dom, flags=re.S)
    assert m, "the rendered page has no render-status element"
    text = html.unescape(m.group(1))
    assert text, "the page's script did not write its render status (it did not run)"
    return json.loads(text)
