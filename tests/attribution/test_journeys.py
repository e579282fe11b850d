"""Journey input handling: ordering, nulls, types and clear errors."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from pipelines.attribution.journeys import (
    ATTRIBUTION_COLUMNS,
    EFFECT_COLUMNS,
    attribute_journeys,
    markov_channel_effects,
)
from pipelines.errors import PipelineError


def test_output_columns_and_order_by_touch_position(make_journeys):
    frame = make_journeys([(["A", "B"], True, 10.0), (["B"], False, 0)])
    # Rows arrive in any order; touch_position decides the path (B > A would differ).
    shuffled = frame.iloc[::-1].reset_index(drop=True)
    credits = attribute_journeys(shuffled, "shapley", transform="none")
    assert list(credits.columns) == list(ATTRIBUTION_COLUMNS)
    # P(A > B) = 1, P(B) = 0, P(A) unseen = 0: m = 1, 1 -> 1/2 each.
    assert dict(zip(credits["touchpoint_id"], credits["credit"], strict=True)) == {
        "t0_1": 0.5,
        "t0_2": 0.5,
    }


def test_ties_in_position_are_broken_by_touchpoint_id(make_journeys):
    frame = make_journeys([(["A", "B", "C"], True, 1.0), (["C"], False, 0), (["B", "C"], False, 0)])
    frame.loc[frame["touchpoint_id"].isin(["t0_1", "t0_2"]), "touch_position"] = 1
    a = attribute_journeys(frame, "shapley", transform="none")
    b = attribute_journeys(frame.sample(frac=1.0, random_state=1), "shapley", transform="none")
    key = ["conversion_id", "touchpoint_id"]
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    )


def test_null_channel_is_unassigned_and_decimals_are_read(make_journeys):
    frame = make_journeys([(["A", "B"], True, 10.0), (["A"], False, 0)])
    frame["channel"] = frame["channel"].astype(object)
    frame.loc[1, "channel"] = None
    frame["conversion_value"] = [Decimal("10.25"), Decimal("10.25"), None]
    effects = markov_channel_effects(frame)
    assert list(effects.columns) == list(EFFECT_COLUMNS)
    assert set(effects["channel"]) == {"A", "Unassigned"}
    assert effects["attributed_value"].sum() == pytest.approx(10.25)


def test_missing_column_is_named(make_journeys):
    frame = make_journeys([(["A"], True, 1.0)]).drop(columns=["touch_position"])
    with pytest.raises(PipelineError, match="touch_position"):
        attribute_journeys(frame, "markov")


def test_unknown_model_and_transform_are_refused(make_journeys):
    frame = make_journeys([(["A"], True, 1.0)])
    with pytest.raises(ValueError, match="shapley"):
        attribute_journeys(frame, "linear")
    with pytest.raises(ValueError, match="exposure"):
        attribute_journeys(frame, "markov", transform="dedupe")


def test_no_journeys_gives_typed_empty_frames(make_journeys):
    frame = make_journeys([(["A"], True, 1.0)]).iloc[0:0]
    assert list(attribute_journeys(frame, "markov").columns) == list(ATTRIBUTION_COLUMNS)
    assert markov_channel_effects(frame).empty
