"""Path-level Shapley (Fractribution) worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.attribution.journeys import attribute_journeys
from pipelines.attribution.paths import pathset_from_records
from pipelines.attribution.shapley import shapley_attribution

# P(p) = conv / (conv + null):
#   A        1 conv, 1 null  -> 1/2
#   B        1 conv, 3 null  -> 1/4
#   A > B    3 conv, 1 null  -> 3/4
#   B > A    1 conv, 1 null  -> 1/2
#   A > B > C  1 conv        -> 1
#   C > A    1 conv, 3 null  -> 1/4
#   D > E    1 conv, 9 null  -> 1/10;  D, E: 1 conv, 1 null each -> 1/2
RECORDS = [
    (["A"], 1, 10.0, 1),
    (["B"], 1, 10.0, 3),
    (["A", "B"], 3, 30.0, 1),
    (["B", "A"], 1, 10.0, 1),
    (["A", "B", "C"], 1, 90.0, 0),
    (["C", "A"], 1, 10.0, 3),
    (["D", "E"], 1, 10.0, 9),
    (["D"], 1, 10.0, 1),
    (["E"], 1, 10.0, 1),
]


def _credits_by_path(result, pathset) -> dict[tuple[str, ...], list[float]]:
    out = {}
    for p in range(pathset.n_paths):
        start, end = pathset.offsets[p], pathset.offsets[p + 1]
        out[pathset.labels(p)] = result.credits[start:end].tolist()
    return out


def test_path_credits_by_hand():
    pathset = pathset_from_records(RECORDS, "exposure")
    credits = _credits_by_path(shapley_attribution(pathset), pathset)
    # One position: all credit.
    assert credits["A",] == [1.0]
    # A > B: m_A = 3/4 - P(B) = 1/2, m_B = 3/4 - P(A) = 1/4 -> 2/3, 1/3.
    assert credits["A", "B"] == pytest.approx([2 / 3, 1 / 3])
    # B > A: m_B = max(1/2 - P(A), 0) = 0, m_A = 1/2 - P(B) = 1/4 -> 0, 1.
    assert credits["B", "A"] == pytest.approx([0.0, 1.0])
    # A > B > C: B > C and A > C never seen (P = 0): m_A = m_B = 1; m_C = 1 - P(A > B) = 1/4.
    assert credits["A", "B", "C"] == pytest.approx([4 / 9, 4 / 9, 1 / 9])
    # C > A: m_C = max(1/4 - 1/2, 0) = 0, m_A = 1/4 - P(C) = 1/4 (C alone never seen) -> 0, 1.
    assert credits["C", "A"] == pytest.approx([0.0, 1.0])
    # D > E: m_D = max(1/10 - 1/2, 0) = 0 = m_E: the last position gets all.
    assert credits["D", "E"] == [0.0, 1.0]


def test_channel_totals_by_hand():
    result = shapley_attribution(pathset_from_records(RECORDS, "exposure"))
    totals = dict(zip(result.channels, result.attributed_conversions, strict=True))
    # A: 1 (A) + 3 * 2/3 (A > B) + 1 (B > A) + 4/9 (A > B > C) + 1 (C > A)
    assert totals["A"] == pytest.approx(1 + 2 + 1 + 4 / 9 + 1)
    # B: 1 (B) + 3 * 1/3 + 4/9;  C: 1/9;  D: 1 (D);  E: 1 (D > E) + 1 (E)
    assert totals["B"] == pytest.approx(1 + 1 + 4 / 9)
    assert totals["C"] == pytest.approx(1 / 9)
    assert totals["D"] == pytest.approx(1.0) and totals["E"] == pytest.approx(2.0)
    values = dict(zip(result.channels, result.attributed_value, strict=True))
    assert values["C"] == pytest.approx(90 / 9)
    assert sum(values.values()) == pytest.approx(sum(r[2] for r in RECORDS))


def test_position_credit_is_split_over_collapsed_touches(make_journeys):
    # exposure: A A B -> A > B; P(A > B) = 1 (one converting journey), A and B unseen ->
    # m = 1, 1 -> A's 1/2 is split over its two touches (1/4 each), B gets 1/2.
    journeys = make_journeys([(["A", "A", "B"], True, 8.0)])
    credits = attribute_journeys(journeys, "shapley", transform="exposure")
    assert credits["credit"].tolist() == pytest.approx([0.25, 0.25, 0.5])
    assert credits["value_credit"].tolist() == credits["credit"].tolist()
    # first: only the first touch of a channel stands for its position.
    journeys = make_journeys([(["A", "B", "A"], True, 8.0)])
    credits = attribute_journeys(journeys, "shapley", transform="first")
    assert credits["credit"].tolist() == pytest.approx([0.5, 0.5, 0.0])
    # unique: every touch of the channel shares its position's credit.
    credits = attribute_journeys(journeys, "shapley", transform="unique")
    assert credits["credit"].tolist() == pytest.approx([0.25, 0.5, 0.25])


def test_empty_path_conversion_credits_direct(make_journeys):
    journeys = make_journeys([([], True, 12.0), (["Email"], False, 0)])
    for model in ("shapley", "markov"):
        credits = attribute_journeys(journeys, model)
        assert len(credits) == 1
        row = credits.iloc[0]
        assert row["conversion_id"] == "c0"
        assert [row["credit"], row["value_credit"]] == pytest.approx([1.0, 1.0])
        assert pd.isna(row["touchpoint_id"])
