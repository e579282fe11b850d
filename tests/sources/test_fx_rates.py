"""fx_rates beyond the generic contract: the ECB form's round trip and its day rule."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from contract_helpers import assert_same_rows

from pipelines.errors import BadInputError
from pipelines.sources.base import ParseContext
from pipelines.sources.fx_rates.source import SOURCE

DAY = dt.date(2026, 3, 2)


def test_ecb_form_round_trips_eur_based_rows(tmp_path):
    rows = pd.DataFrame(
        {
            "rate_date": [DAY, DAY, dt.date(2026, 2, 27)],
            "base_currency": ["EUR"] * 3,
            "currency": ["USD", "JPY", "USD"],
            "rate": [1 / 1.0815, 1 / 161.12, 1 / 1.079],
        }
    )
    ctx = ParseContext(folder_date=DAY)
    (path,) = SOURCE.write(rows, tmp_path, ctx, "ecb")
    assert path.read_text().splitlines()[0] == "Date,JPY,USD,"
    assert "N/A" in path.read_text()  # JPY has no quote on 2026-02-27
    assert_same_rows(SOURCE.parse(path, ctx), rows, SOURCE.table)


def test_ecb_day_after_the_folder_day_is_rejected(tmp_path):
    path = tmp_path / "eurofxref.csv"
    path.write_text("Date,USD,\n2026-03-03,1.08,\n2026-03-02,1.07,\n")
    with pytest.raises(BadInputError, match="after the folder day") as err:
        SOURCE.parse(path, ParseContext(folder_date=DAY))
    assert err.value.where == "line 2, column 'Date'"


def test_simple_form_uses_the_reporting_currency_as_base(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("currency,rate,date\nEUR,0.9,2026-03-02\n")
    out = SOURCE.parse(path, ParseContext(folder_date=DAY, reporting_currency="GBP"))
    assert out.to_dict("records") == [
        {"rate_date": DAY, "base_currency": "GBP", "currency": "EUR", "rate": 0.9}
    ]
