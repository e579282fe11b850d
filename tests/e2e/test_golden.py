"""End-to-end on a hand-made golden dataset: landing files -> published marts.

The dataset (``golden/landing``) is one day, 2026-03-02, in the platforms' real shapes:

- Google Ads (SearchStream JSON, USD): campaign 111 "Search Brand": 1,000 impressions,
  50 clicks, cost 100,000,000 micros = 100.00 USD, 3 platform conversions worth 180.
- Meta (Insights JSON, EUR): campaign 222 "Prospecting": 2,000 impressions, 80 clicks,
  40 link clicks, spend 50.00 EUR; actions overlap (fb_pixel_purchase = purchase =
  omni_purchase = 2): only the configured type counts, so 2 conversions worth 150 EUR.
- FX: 1 EUR = 1.10 USD, so Meta's spend is 55.00 USD and its claimed value 165.00 USD.
- Events (Segment JSON lines):
  * person A (anon a1 -> user u1): Google click 09:00, Meta click 10:00, order O1 100 USD.
  * person B (anon b1): Google click 11:00, order O2 50 USD, delivered twice (same
    messageId), counted once.
  * person C: device 1 (anon c1) arrives from google.com organically at 08:00 and logs in
    as u3; device 2 (anon c2) arrives directly at 12:00, logs in as u3, orders O3 200 USD.
    Identity stitching makes one path: Organic Search -> Direct.
  * person D (anon d1): Meta click 13:00, no order (a non-converting journey).

Worked by hand (conversion-date basis, 2026-03-02):

| model | channel / campaign | conversions | value | spend | CPA | ROAS |
|---|---|---|---|---|---|---|
| last_touch | Paid Search google 111 | 1 (O2) | 50 | 100 | 100 | 0.5 |
| last_touch | Paid Social meta 222 | 1 (O1) | 100 | 55 | 55 | 1.8182 |
| last_touch | Direct | 1 (O3) | 200 | 0 | null | null |
| linear | Paid Search google 111 | 0.5 (O1) + 1 (O2) = 1.5 | 50 + 50 = 100 | 100 | 66.667 | 1.0 |
| linear | Paid Social meta 222 | 0.5 (O1) | 50 | 55 | 110 | 0.9091 |
| linear | Organic Search | 0.5 (O3) | 100 | 0 | null | null |
| linear | Direct | 0.5 (O3) | 100 | 0 | null | null |
| first_touch | Paid Search google 111 | 2 (O1, O2) | 150 | 100 | 50 | 1.5 |
| last_non_direct | Organic Search | 1 (O3) | 200 | 0 | null | null |

CPC google = 100 / 50 = 2.00; CPM = 100 / 1000 * 1000 = 100.00; CTR = 50 / 1000 = 0.05.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.config import load_settings
from pipelines.parity import BUILD_COLUMNS
from pipelines.run import run

GOLDEN = Path(__file__).parent / "golden" / "landing"
DAY = dt.date(2026, 3, 2)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("golden")]


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("golden")
    shutil.copytree(GOLDEN, data_dir / "landing")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTRIBUTION_PII_SALT", "golden-test-salt")
        settings = load_settings(data_dir=data_dir)
        result = run(settings, DAY, DAY)
        yield settings, result


def _kpi(con: duckdb.DuckDBPyConnection, model: str, channel: str) -> dict:
    rows = con.execute(
        """
        select sum(spend), sum(clicks), sum(impressions),
               sum(attributed_conversions), sum(attributed_value),
               min(cpa), min(roas), min(cpc), min(cpm), min(ctr), count(*)
        from mart_kpi_daily
        where date_basis = 'conversion' and report_date = ? and model = ? and channel = ?
        """,
        [DAY, model, channel],
    ).fetchone()
    keys = (
        "spend",
        "clicks",
        "impressions",
        "conv",
        "value",
        "cpa",
        "roas",
        "cpc",
        "cpm",
        "ctr",
        "n",
    )
    return dict(zip(keys, rows, strict=True))


def test_run_publishes_with_exit_code_zero(golden):
    settings, result = golden
    assert result.exit_code == 0, result.messages
    assert result.published
    assert settings.paths.published_db.exists()


def test_spend_is_converted_with_the_days_rate(golden):
    settings, _ = golden
    with duckdb.connect(str(settings.paths.published_db), read_only=True) as con:
        rows = con.execute(
            """
            select platform, campaign_id, account_currency, spend_account_currency, spend,
                   impressions, clicks, link_clicks, platform_conversions, platform_conversion_value
            from fct_ad_spend_daily where spend_date = ? order by platform
            """,
            [DAY],
        ).fetchall()
    assert len(rows) == 2
    google, meta = rows
    assert google[:3] == ("google_ads", "111", "USD")
    assert float(google[3]) == pytest.approx(100.0) and float(google[4]) == pytest.approx(100.0)
    assert (google[5], google[6]) == (1000, 50)
    assert float(google[8]) == pytest.approx(3.0)
    assert meta[:3] == ("meta_ads", "222", "EUR")
    assert float(meta[3]) == pytest.approx(50.0)
    assert float(meta[4]) == pytest.approx(55.0, abs=0.005)
    assert (meta[5], meta[6], meta[7]) == (2000, 80, 40)
    # Overlapping action types: only the configured fb_pixel_purchase counts (2, not 6).
    assert float(meta[8]) == pytest.approx(2.0)
    assert float(meta[9]) == pytest.approx(165.0, abs=0.005)


@pytest.mark.parametrize(
    ("model", "channel", "conv", "value", "spend", "cpa", "roas"),
    [
        ("last_touch", "Paid Search", 1.0, 50.0, 100.0, 100.0, 0.5),
        ("last_touch", "Paid Social", 1.0, 100.0, 55.0, 55.0, 100 / 55),
        ("last_touch", "Direct", 1.0, 200.0, 0.0, None, None),
        ("linear", "Paid Search", 1.5, 100.0, 100.0, 100 / 1.5, 1.0),
        ("linear", "Paid Social", 0.5, 50.0, 55.0, 110.0, 50 / 55),
        ("linear", "Organic Search", 0.5, 100.0, 0.0, None, None),
        ("linear", "Direct", 0.5, 100.0, 0.0, None, None),
        ("first_touch", "Paid Search", 2.0, 150.0, 100.0, 50.0, 1.5),
        ("last_non_direct", "Organic Search", 1.0, 200.0, 0.0, None, None),
    ],
)
def test_attributed_kpis_match_the_hand_computation(
    golden, model, channel, conv, value, spend, cpa, roas
):
    settings, _ = golden
    with duckdb.connect(str(settings.paths.published_db), read_only=True) as con:
        k = _kpi(con, model, channel)
    assert k["n"] >= 1, f"no {model}/{channel} row"
    assert float(k["conv"]) == pytest.approx(conv)
    assert float(k["value"]) == pytest.approx(value)
    assert float(k["spend"] or 0) == pytest.approx(spend, abs=0.005)
    if cpa is None:
        assert k["cpa"] is None and k["roas"] is None
    else:
        assert float(k["cpa"]) == pytest.approx(cpa, rel=1e-6)
        assert float(k["roas"]) == pytest.approx(roas, rel=1e-6)


def test_delivery_ratios(golden):
    settings, _ = golden
    with duckdb.connect(str(settings.paths.published_db), read_only=True) as con:
        k = _kpi(con, "last_touch", "Paid Search")
    assert float(k["cpc"]) == pytest.approx(2.0)
    assert float(k["cpm"]) == pytest.approx(100.0)
    assert float(k["ctr"]) == pytest.approx(0.05)


def test_every_model_conserves_conversions_and_value(golden):
    settings, _ = golden
    with duckdb.connect(str(settings.paths.published_db), read_only=True) as con:
        rows = con.execute(
            """
            select model, count(distinct conversion_id), sum(credit), sum(attributed_value)
            from fct_attributed_conversions group by model order by model
            """
        ).fetchall()
    models = {r[0] for r in rows}
    assert {"first_touch", "last_touch", "linear", "last_non_direct"} <= models
    for model, n, credits, value in rows:
        assert n == 3, model  # O1, O2 (deduplicated), O3
        assert float(credits) == pytest.approx(3.0, abs=1e-9), model
        assert float(value) == pytest.approx(350.0, abs=1e-6), model


def test_identity_stitching_joins_both_devices(golden):
    settings, _ = golden
    with duckdb.connect(str(settings.paths.published_db), read_only=True) as con:
        rows = con.execute(
            """
            select channel, touch_position, path_length from fct_attributed_conversions
            where model = 'linear' and conversion_id = 'O3' order by touch_position
            """
        ).fetchall()
    assert rows == [("Organic Search", 1, 2), ("Direct", 2, 2)]


def test_no_raw_pii_reaches_lake_or_marts(golden):
    settings, _ = golden
    for f in [*list(settings.paths.lake.rglob("*.parquet")), settings.paths.published_db]:
        blob = f.read_bytes().lower()
        assert b"alice@example.com" not in blob, f
        assert b"203.0.113.9" not in blob, f


def _snapshot(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_name <> 'publication_log' order by 1"
            ).fetchall()
        ]
        # every column but when the row was written (BUILD_COLUMNS), which a rerun changes
        out = {}
        for t in tables:
            rel = con.sql(f'select * from "{t}"')
            keep = [i for i, c in enumerate(rel.columns) if c not in BUILD_COLUMNS]
            out[t] = sorted(repr(tuple(_stable(row[i]) for i in keep)) for row in rel.fetchall())
        return out


def _stable(value: object) -> object:
    """Floats to 9 decimals: parallel sums of doubles may differ in their last bits."""
    return round(value, 9) if isinstance(value, float) else value


def test_running_the_same_date_twice_gives_identical_marts(golden):
    settings, _ = golden
    before = _snapshot(settings.paths.published_db)
    again = run(settings, DAY, DAY)
    assert again.exit_code == 0, again.messages
    assert _snapshot(settings.paths.published_db) == before
