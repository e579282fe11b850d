"""Path transforms: the one-path and the vectorised implementations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.attribution.transforms import (
    transform_groups,
    transform_path,
    transform_touches,
)
from pipelines.config import PATH_TRANSFORMS

# The example of Google's Fractribution documentation.
PATH = ["D", "A", "B", "B", "C", "D", "C", "C"]


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("none", ("D", "A", "B", "B", "C", "D", "C", "C")),
        ("exposure", ("D", "A", "B", "C", "D", "C")),
        ("unique", ("D", "A", "B", "C")),
        ("first", ("D", "A", "B", "C")),
        ("frequency", (("D", 2), ("A", 1), ("B", 2), ("C", 3))),
    ],
)
def test_tokens(how, expected):
    assert transform_path(PATH, how) == expected


@pytest.mark.parametrize(
    ("how", "groups"),
    [
        ("none", [[0], [1], [2], [3], [4], [5], [6], [7]]),
        ("exposure", [[0], [1], [2, 3], [4], [5], [6, 7]]),
        ("unique", [[0, 5], [1], [2, 3], [4, 6, 7]]),
        ("first", [[0], [1], [2], [4]]),
        ("frequency", [[0, 5], [1], [2, 3], [4, 6, 7]]),
    ],
)
def test_groups_map_positions_to_touches(how, groups):
    assert [g for _, g in transform_groups(PATH, how)] == groups


def test_unknown_transform_names_the_options():
    with pytest.raises(ValueError, match="exposure"):
        transform_path(PATH, "dedupe")


def _vectorised(paths: list[list[int]], how: str, n_channels: int):
    journey = np.repeat(np.arange(len(paths)), [len(p) for p in paths])
    channel = np.array([c for p in paths for c in p], dtype=np.int64)
    t = transform_touches(journey, channel, n_channels, how)
    out = []
    for j in range(len(paths)):
        positions = np.flatnonzero(t.position_journey == j)
        rows = np.flatnonzero(journey == j)
        tokens = []
        for pos in positions:
            c, k = t.token_channel[t.position_token[pos]], t.token_count[t.position_token[pos]]
            token = (int(c), int(k)) if how == "frequency" else int(c)
            touches = [int(r - rows[0]) for r in rows if t.position_of_row[r] == pos]
            tokens.append((token, touches))
        out.append(tokens)
    return out


@settings(max_examples=60, deadline=None)
@given(
    paths=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=7), min_size=1, max_size=8),
    how=st.sampled_from(PATH_TRANSFORMS),
)
def test_vectorised_equals_one_path(paths, how):
    expected = [
        [(tuple(t) if isinstance(t, tuple) else t, g) for t, g in transform_groups(p, how)]
        for p in paths
    ]
    assert _vectorised(paths, how, 4) == expected
