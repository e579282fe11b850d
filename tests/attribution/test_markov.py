"""Markov chain: absorption probabilities and removal effects worked out by hand."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from pipelines.attribution.journeys import attribute_journeys, markov_journeys
from pipelines.attribution.markov import build_chain, markov_attribution
from pipelines.attribution.paths import pathset_from_records

# Four distinct paths, one journey each (value only on the converting ones):
#   A > B      conversion (value 30)
#   B          null
#   A > B > A  conversion (value 10)
#   A          null
RECORDS = [
    (["A", "B"], 1, 30.0, 0),
    (["B"], 0, 0.0, 1),
    (["A", "B", "A"], 1, 10.0, 0),
    (["A"], 0, 0.0, 1),
]


def _close(x: float, fraction: F) -> bool:
    return x == pytest.approx(float(fraction), abs=1e-12)


def test_transition_counts_and_probabilities():
    # Counts: (start)->A 3 (paths 1, 3, 4), (start)->B 1; A->B 2, A->conv 1, A->null 1;
    # B->A 1, B->conv 1, B->null 1.
    chain = build_chain(pathset_from_records(RECORDS, "exposure"))
    m = chain.transition_matrix()
    assert list(m.loc["(start)", ["A", "B"]]) == pytest.approx([0.75, 0.25])
    assert list(m.loc["A", ["B", "(conversion)", "(null)"]]) == [0.5, 0.25, 0.25]
    assert np.allclose(m.loc["B", ["A", "(conversion)", "(null)"]], [1 / 3, 1 / 3, 1 / 3])
    assert np.allclose(m.sum(axis=1), 1.0)


def test_removal_effects_by_hand():
    # x_A = 1/4 + 1/2 x_B and x_B = 1/3 + 1/3 x_A  =>  x_A = 1/2, x_B = 1/2,
    # P = 3/4 * 1/2 + 1/4 * 1/2 = 1/2.
    # Without A: (start)->A and B->A go to (null): P = 1/4 * 1/3 = 1/12,
    #   RE(A) = 1 - (1/12)/(1/2) = 5/6.
    # Without B: (start)->B and A->B go to (null): P = 3/4 * 1/4 = 3/16, RE(B) = 1 - 3/8 = 5/8.
    # Totals (2 conversions): A = (5/6)/(35/24) * 2 = 8/7, B = (5/8)/(35/24) * 2 = 6/7.
    result = markov_attribution(pathset_from_records(RECORDS, "exposure"))
    assert result.channels == ("A", "B")
    assert _close(result.p_conversion, F(1, 2))
    assert _close(result.removal_effect[0], F(5, 6))
    assert _close(result.removal_effect[1], F(5, 8))
    assert _close(result.attributed_conversions[0], F(8, 7))
    assert _close(result.attributed_conversions[1], F(6, 7))


def test_value_removal_effects_by_hand():
    # Value chain: the conversion transition weighs the value of the paths ending there.
    # A: ->B 2, ->conv 10 (path 3), ->null 1 (out 13);
    # B: ->A 1, ->conv 30 (path 1), ->null 1 (out 32).
    # x_A = 10/13 + 2/13 x_B, x_B = 30/32 + 1/32 x_A  =>  x_A = 190/207, x_B = 200/207,
    # P = 3/4 * 190/207 + 1/4 * 200/207 = 385/414.
    # Without A: P = 1/4 * 30/32 = 15/64, RE_v(A) = 1 - (15/64)/(385/414) = 1843/2464.
    # Without B: P = 3/4 * 10/13 = 15/26, RE_v(B) = 1 - (15/26)/(385/414) = 380/1001.
    result = markov_attribution(pathset_from_records(RECORDS, "exposure"))
    assert _close(result.p_conversion_value, F(385, 414))
    re_a, re_b = F(1843, 2464), F(380, 1001)
    assert _close(result.value_removal_effect[0], re_a)
    assert _close(result.value_removal_effect[1], re_b)
    # Value totals: 40 split by RE_v.
    assert _close(result.attributed_value[0], re_a / (re_a + re_b) * 40)
    assert _close(result.attributed_value[1], re_b / (re_a + re_b) * 40)


def test_touchpoint_credit_is_removal_effect_share(make_journeys):
    # Path A > B: A = (5/6) / (5/6 + 5/8) = 4/7, B = 3/7.
    # Path A > B > A: each A = (5/6) / (2 * 5/6 + 5/8) = 4/11, B = 3/11.
    journeys = make_journeys(
        [
            (["A", "B"], True, 30.0),
            (["B"], False, 0),
            (["A", "B", "A"], True, 10.0),
            (["A"], False, 0),
        ]
    )
    credits = attribute_journeys(journeys, "markov")
    by_touch = dict(zip(credits["touchpoint_id"], credits["credit"], strict=True))
    assert by_touch["t0_1"] == pytest.approx(4 / 7) and by_touch["t0_2"] == pytest.approx(3 / 7)
    assert by_touch["t2_1"] == pytest.approx(4 / 11) and by_touch["t2_3"] == pytest.approx(4 / 11)
    assert by_touch["t2_2"] == pytest.approx(3 / 11)
    assert set(credits["model"]) == {"markov"}


def test_self_loops_do_not_change_removal_effects():
    # Under `none` the repeats stay as self-loops A->A; absorption is unchanged.
    records = [(["A", "A", "B"], 2, 20.0, 1), (["B", "B"], 1, 5.0, 3), (["A"], 0, 0.0, 2)]
    looped = markov_attribution(pathset_from_records(records, "none"))
    collapsed = markov_attribution(pathset_from_records(records, "exposure"))
    assert looped.chain.transition_matrix().loc["A", "A"] > 0
    np.testing.assert_allclose(looped.removal_effect, collapsed.removal_effect, atol=1e-12)
    np.testing.assert_allclose(
        looped.value_removal_effect, collapsed.value_removal_effect, atol=1e-12
    )


def test_identical_across_runs_and_row_orders(make_journeys):
    rng = np.random.default_rng(3)
    channels = ["Paid Search", "Email", "Direct", "Referral"]
    journeys = make_journeys(
        [
            (
                list(rng.choice(channels, size=rng.integers(1, 6))),
                bool(rng.random() < 0.4),
                float(rng.integers(1, 500)) / 7,
            )
            for _ in range(300)
        ]
    )
    first = markov_journeys(journeys)
    second = markov_journeys(journeys)
    shuffled = markov_journeys(journeys.sample(frac=1.0, random_state=5))
    for other in (second, shuffled):
        assert np.array_equal(first.removal_effect, other.removal_effect)
        assert np.array_equal(first.value_removal_effect, other.value_removal_effect)
        assert np.array_equal(first.attributed_value, other.attributed_value)
    a = attribute_journeys(journeys, "markov").sort_values(["conversion_id", "touchpoint_id"])
    b = attribute_journeys(journeys, "markov").sort_values(["conversion_id", "touchpoint_id"])
    assert a.reset_index(drop=True).equals(b.reset_index(drop=True))


def test_absorption_matches_power_series():
    # An independent computation: P = sum_n (Q^n r)[start], summed until it converges.
    rng = np.random.default_rng(11)
    channels = list("ABCDE")
    records = [
        (
            list(rng.choice(channels, size=rng.integers(1, 7))),
            int(rng.integers(0, 3)),
            1.0,
            int(rng.integers(0, 3)),
        )
        for _ in range(60)
    ]
    result = markov_attribution(pathset_from_records(records, "none"))
    m = result.chain.transition_matrix().to_numpy()
    q, r = m[:, :-2], m[:, -2]
    term, total = r.copy(), r.copy()
    for _ in range(5000):
        term = q @ term
        total += term
    assert result.p_conversion == pytest.approx(total[0], abs=1e-9)


def test_order_two_states_and_effects():
    # Order 2: states are the last two channels. A > B converts, B > A does not:
    # (start)->(A)->(A > B)->conv and (start)->(B)->(B > A)->null, so P = 1/2; removing
    # either channel removes every state with it, leaving no way to convert: RE = 1 each.
    records = [(["A", "B"], 1, 10.0, 0), (["B", "A"], 0, 0.0, 1)]
    result = markov_attribution(pathset_from_records(records, "exposure"), order=2)
    assert set(result.chain.state_labels) == {"(start)", "A", "B", "A > B", "B > A"}
    assert result.p_conversion == pytest.approx(0.5)
    np.testing.assert_allclose(result.removal_effect, [1.0, 1.0])
    assert result.attributed_conversions.sum() == pytest.approx(1.0)


def test_no_conversions_gives_zero_effects():
    result = markov_attribution(pathset_from_records([(["A", "B"], 0, 0.0, 4)], "exposure"))
    assert result.p_conversion == 0
    assert not result.removal_effect.any() and not result.attributed_conversions.any()
