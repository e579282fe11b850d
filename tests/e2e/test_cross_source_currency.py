"""Spend in the reporting currency across sources, currencies and rate files, by hand.

One day, 2026-03-02, delivered as the platforms deliver it:

- Google Ads SearchStream JSON, a USD account: 100,000,000 micros = 100.00 USD.
- Meta Insights JSON, an EUR account: spend "50.00" EUR.
- TikTok report JSON, a SEK account: spend "1,234.56" SEK.
- The ECB reference rates for the day (units per 1 EUR): USD 1.0850, SEK 11.4500.

By hand (cross rates through EUR):

- Meta: 50.00 EUR x 1.0850 = 54.25 USD.
- TikTok: 1,234.56 SEK / 11.4500 = 107.821834... EUR; x 1.0850 = 116.986690... USD.
- Day total: 100.00 + 54.25 + 116.99 = 271.24 USD (to the cent).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse
from pipelines.config import load_settings
from pipelines.ingest import ingest

GOLDEN = Path(__file__).parent / "golden" / "landing"
DAY = dt.date(2026, 3, 2)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("currency")]

TIKTOK_SEK = {
    "code": 0,
    "message": "OK",
    "request_id": "cross-currency-1",
    "data": {
        "list": [
            {
                "dimensions": {"ad_id": "1760000000000777", "stat_time_day": "2026-03-02 00:00:00"},
                "metrics": {
                    "spend": "1,234.56",
                    "impressions": "40000",
                    "clicks": "321",
                    "conversion": "4",
                    "total_purchase_value": "-",
                    "campaign_id": 1714125042500777,
                    "campaign_name": "Nordics | Spark",
                    "adgroup_id": "1714125042500778",
                    "adgroup_name": "SE 18-34",
                    "ad_name": "UGC 0302",
                    "currency": "SEK",
                    "advertiser_id": "7012345678900000777",
                },
            }
        ],
        "page_info": {"page": 1, "page_size": 1000, "total_number": 1, "total_page": 1},
    },
}

ECB_DAILY = "Date, USD, SEK, \n02 March 2026, 1.0850, 11.4500, \n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("currency")
    landing = data_dir / "landing"
    for source in ("google_ads", "meta_ads"):
        shutil.copytree(GOLDEN / source, landing / source)
    (landing / "tiktok_ads" / DAY.isoformat()).mkdir(parents=True)
    (landing / "tiktok_ads" / DAY.isoformat() / "report_sek.json").write_text(
        json.dumps(TIKTOK_SEK), encoding="utf-8"
    )
    (landing / "fx_rates" / DAY.isoformat()).mkdir(parents=True)
    (landing / "fx_rates" / DAY.isoformat() / "eurofxref.csv").write_text(ECB_DAILY)
    settings = load_settings(data_dir=data_dir)
    result = ingest(settings, dates=[DAY])
    assert result.exit_code == 0, result.quarantined
    warehouse.build(settings)
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "select platform, account_currency, spend_account_currency, spend "
            "from fct_ad_spend_daily where spend_date = ? order by platform",
            [DAY],
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_each_account_is_converted_with_the_days_cross_rate(built):
    assert built["google_ads"][0] == "USD"
    assert built["google_ads"][2] == pytest.approx(100.00, abs=0.005)
    assert built["meta_ads"][0] == "EUR"
    assert built["meta_ads"][1] == pytest.approx(50.00)
    assert built["meta_ads"][2] == pytest.approx(54.25, abs=0.005)
    assert built["tiktok_ads"][0] == "SEK"
    assert built["tiktok_ads"][1] == pytest.approx(1234.56)
    assert built["tiktok_ads"][2] == pytest.approx(116.99, abs=0.005)


def test_the_days_total_equals_the_hand_computation(built):
    total = sum(row[2] for row in built.values())
    assert total == pytest.approx(271.24, abs=0.005)
