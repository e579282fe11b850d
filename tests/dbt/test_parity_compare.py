"""The engine parity report (pipelines.parity.compare): what counts as the same mart."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.parity import attribution_models, compare, environ


def _mart() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "report_date": [dt.date(2026, 3, 1), dt.date(2026, 3, 2)],
            "channel": ["Email", "Paid Search"],
            "clicks": [3, 4],
            "spend": [10.25, 20.5],
            "credit": [0.25, 0.75],
            "is_fatigued": [True, None],
        }
    )


def test_the_same_rows_in_another_order_with_other_dtypes_are_equal():
    spark = _mart().iloc[::-1][
        ["spend", "credit", "channel", "clicks", "is_fatigued", "report_date"]
    ]
    spark = spark.assign(clicks=spark["clicks"].astype("int32"), credit=spark["credit"] + 1e-12)
    assert compare("mart", _mart(), spark) == []


def test_money_to_the_cent_and_other_numbers_to_1e_9():
    cent = _mart().assign(spend=[10.25, 20.52])
    tiny = _mart().assign(credit=[0.25, 0.75 + 1e-6])
    assert [p.split(" (")[0] for p in compare("mart", _mart(), cent)] == ["mart.spend"]
    assert [p.split(" (")[0] for p in compare("mart", _mart(), tiny)] == ["mart.credit"]
    assert compare("mart", _mart(), _mart().assign(spend=[10.251, 20.5])) == []


def test_when_a_row_was_built_is_not_compared():
    duck = _mart().assign(built_at=pd.Timestamp("2026-11-29 01:00:00"))
    spark = _mart().assign(built_at=pd.Timestamp("2026-11-29 02:30:00"))
    assert compare("mart", duck, spark) == []
    assert compare("mart", duck, _mart()) == []
    assert compare("mart", duck, spark.assign(channel=["Email", "Display"])) != []


def test_missing_rows_columns_and_changed_text_are_reported():
    fewer = _mart().iloc[:1]
    problems = compare("mart", _mart(), fewer)
    assert problems[0] == "mart: 2 rows on DuckDB, 1 on Spark"
    assert any("only on DuckDB" in p and "Paid Search" in p for p in problems)
    renamed = _mart().rename(columns={"clicks": "click_count"})
    assert any("columns differ" in p for p in compare("mart", _mart(), renamed))
    other = _mart().assign(channel=["Email", "Display"])
    assert any(p.startswith("mart.channel (text)") for p in compare("mart", _mart(), other))


def test_both_engines_build_every_attribution_model():
    models = attribution_models()
    assert {"first_touch", "last_touch", "linear", "markov", "shapley"} <= set(models)
    assert environ()["ATTRIBUTION__ATTRIBUTION__MODELS"] == "[" + ", ".join(models) + "]"
