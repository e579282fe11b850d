"""Daily currency rates: ECB reference rates on weekdays, a simple feed at weekends.

The ECB publishes EUR-based rates on business days only; the pipeline still needs a rate
for every day, so weekends come from a treasury feed in the simple ``date,currency,rate``
form (reporting-currency based, Friday's rates carried). The truth keeps, per day and
currency, the rate to the reporting currency exactly as the pipeline derives it from the
files written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.synth import world


@dataclass
class Rates:
    ecb: dict[dt.date, pd.DataFrame]  # canonical rows (base EUR) of weekdays
    simple: dict[dt.date, pd.DataFrame]  # canonical rows (base = reporting currency) of weekends
    to_reporting: pd.DataFrame  # rate_date, currency, rate (reporting units per 1 unit)

    def lookup(self) -> dict[tuple[dt.date, str], float]:
        return {
            (d, c): float(r)
            for d, c, r in self.to_reporting[["rate_date", "currency", "rate"]].itertuples(
                index=False
            )
        }


def _exact(q: float, decimals: int) -> float:
    """A quote whose canonical form (1 / q) turns back into exactly q in the ECB file."""
    step = 10.0**-decimals
    while format(1.0 / (1.0 / q), ".17g") != format(q, ".17g"):
        q = round(q + step, decimals)
    return q


def make_rates(rng: np.random.Generator, start: dt.date, days: int, reporting: str) -> Rates:
    reporting = reporting.upper()
    codes = list(world.ECB_CURRENCIES)
    if reporting not in codes and reporting != "EUR":
        raise ValueError(
            f"synth: reporting currency {reporting} has no synthetic rate; use one of EUR, {codes}"
        )
    steps = rng.normal(0.0, 0.003, size=(days, len(codes)))
    level = np.exp(np.cumsum(steps, axis=0))
    used = ("EUR", "USD", "GBP", "SEK")
    ecb: dict[dt.date, pd.DataFrame] = {}
    simple: dict[dt.date, pd.DataFrame] = {}
    truth = []
    quotes: dict[str, float] = {}
    for i in range(days):
        day = start + dt.timedelta(days=i)
        weekday = day.weekday() < 5
        if weekday or not quotes:
            quotes = {"EUR": 1.0}
            for j, c in enumerate(codes):
                dec = world.ECB_DECIMALS.get(c, 4)
                quotes[c] = _exact(round(world.ECB_START[c] * level[i, j], dec), dec)
        if weekday:
            ecb[day] = pd.DataFrame(
                {
                    "rate_date": day,
                    "base_currency": "EUR",
                    "currency": codes,
                    "rate": [1.0 / quotes[c] for c in codes],
                }
            )
            # what the parser derives: EUR per unit = 1 / (value in the file)
            eur_per = {c: 1.0 / (1.0 / (1.0 / quotes[c])) for c in codes} | {"EUR": 1.0}
            for c in used:
                truth.append((day, c, eur_per[c] / eur_per[reporting]))
        else:
            rows = []
            for c in used:
                rate = 1.0 if c == reporting else round(quotes[reporting] / quotes[c], 6)
                rows.append((day, reporting, c, rate))
                truth.append((day, c, rate))
            if reporting not in used:
                rows.append((day, reporting, reporting, 1.0))
            simple[day] = pd.DataFrame(
                rows, columns=["rate_date", "base_currency", "currency", "rate"]
            )
    to_rep = pd.DataFrame(truth, columns=["rate_date", "currency", "rate"])
    if reporting not in used:
        extra = pd.DataFrame(
            {"rate_date": sorted({d for d, _, _ in truth}), "currency": reporting, "rate": 1.0}
        )
        to_rep = pd.concat([to_rep, extra], ignore_index=True)
    return Rates(ecb, simple, to_rep.sort_values(["rate_date", "currency"], ignore_index=True))
