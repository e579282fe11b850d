"""Path outcomes (the engine-agnostic input of Markov and Shapley) give the journeys' credits.

``int_path_outcomes`` aggregates journeys to distinct raw paths in SQL; these tests do the
same aggregation in pandas and check that the credits joined back to the touches, and the
channel effects, equal what :mod:`pipelines.attribution.journeys` computes on the journeys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.attribution.journeys import attribute_journeys, markov_channel_effects
from pipelines.attribution.outcomes import (
    CREDIT_COLUMNS,
    PATH_SEPARATOR,
    path_channel_effects,
    path_credits,
)
from pipelines.attribution.transforms import PATH_TRANSFORMS
from pipelines.errors import PipelineError

JOURNEYS = [
    (["Paid Search", "Email", "Email"], True, 40.5),
    (["Paid Search", "Email"], False, 0),
    (["Paid Search", "Email", "Email"], True, 12.25),
    (["Email", "Direct", "Email"], True, 15.0),
    (["Display"], False, 0),
    (["Display", "Paid Search", "Email"], True, 60.0),
    (["Display", "Paid Search", "Email"], False, 0),
    (["Paid Search"], True, 9.99),
    (["Organic Search", "Organic Search", "Direct", "Organic Search"], True, 20.0),
    ([], True, 5.0),
]


def _with_paths(journeys: pd.DataFrame) -> pd.DataFrame:
    """Each touch with its journey's raw path and its position in it (as int_path_positions)."""
    ordered = journeys.sort_values(["journey_id", "touch_position"]).copy()
    ordered["path_position"] = ordered.groupby("journey_id").cumcount() + 1
    ordered["path"] = ordered.groupby("journey_id")["channel"].transform(PATH_SEPARATOR.join)
    return ordered


def _outcomes(touches: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct raw path, as int_path_outcomes."""
    per_journey = touches.groupby("journey_id").agg(
        path=("path", "first"),
        path_length=("path_position", "max"),
        is_conversion=("is_conversion", "max"),
        conversion_value=("conversion_value", "max"),
    )
    per_journey["conversion_value"] = per_journey["conversion_value"].fillna(0.0)
    per_journey["nulls"] = (~per_journey["is_conversion"]).astype(int)
    per_journey["conversions"] = per_journey["is_conversion"].astype(int)
    per_journey.loc[~per_journey["is_conversion"], "conversion_value"] = 0.0
    return (
        per_journey.groupby(["path", "path_length"], as_index=False)[
            ["conversions", "conversion_value", "nulls"]
        ]
        .sum()
        .sample(frac=1.0, random_state=3)  # the engine returns rows in any order
    )


@pytest.mark.parametrize("transform", PATH_TRANSFORMS)
@pytest.mark.parametrize("order", [1, 2])
def test_credits_from_outcomes_equal_the_journey_credits(make_journeys, transform, order):
    journeys = make_journeys(JOURNEYS)
    touches = _with_paths(journeys)
    credits = path_credits(_outcomes(touches), transform=transform, order=order)
    assert list(credits.columns) == list(CREDIT_COLUMNS)
    joined = touches[touches["is_conversion"]].merge(
        credits, on=["path", "path_position"], how="left", validate="many_to_one"
    )
    assert joined["markov_credit"].notna().all()
    for model, column, value_column in (
        ("markov", "markov_credit", "markov_value_credit"),
        ("shapley", "shapley_credit", "shapley_credit"),
    ):
        expected = attribute_journeys(journeys, model, transform=transform, order=order)
        got = joined[["conversion_id", "touchpoint_id"]].assign(
            credit_got=joined[column], value_got=joined[value_column]
        )
        both = expected.merge(
            got,
            on=["conversion_id", "touchpoint_id"],
            how="outer",
            validate="one_to_one",
        )
        assert len(both) == len(expected)
        np.testing.assert_allclose(both["credit_got"], both["credit"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(both["value_got"], both["value_credit"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("transform", ["exposure", "frequency"])
def test_channel_effects_from_outcomes_equal_the_journey_effects(make_journeys, transform):
    journeys = make_journeys(JOURNEYS)
    got = path_channel_effects(_outcomes(_with_paths(journeys)), transform=transform, order=2)
    expected = markov_channel_effects(journeys, transform=transform, order=2)
    pd.testing.assert_frame_equal(
        got.sort_values("channel").reset_index(drop=True),
        expected.sort_values("channel").reset_index(drop=True),
        check_exact=False,
        rtol=0,
        atol=1e-12,
    )


def test_no_outcomes_give_typed_empty_tables():
    empty = pd.DataFrame(
        {c: [] for c in ("path", "path_length", "conversions", "conversion_value", "nulls")}
    )
    assert list(path_credits(empty).columns) == list(CREDIT_COLUMNS)
    assert path_credits(empty).empty
    assert path_channel_effects(empty).empty


def test_a_channel_name_holding_the_separator_is_refused():
    outcomes = pd.DataFrame(
        {
            "path": [f"Paid{PATH_SEPARATOR}Search"],
            "path_length": [1],
            "conversions": [1],
            "conversion_value": [1.0],
            "nulls": [0],
        }
    )
    with pytest.raises(PipelineError, match="path_length 1"):
        path_credits(outcomes)
