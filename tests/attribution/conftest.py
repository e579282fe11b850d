"""Fixtures of the attribution tests: small journey frames shaped like int_journeys."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pytest


def journeys_frame(journeys: Sequence[tuple[Sequence[str], bool, float]]) -> pd.DataFrame:
    """One row per touch of each ``(channels, converted, value)`` journey.

    A converting journey with no channels becomes one ``Direct`` row with a null touchpoint
    id, as int_journeys delivers an empty path.
    """
    rows = []
    for j, (channels, converted, value) in enumerate(journeys):
        journey_id = f"c{j}" if converted else f"n{j}"
        touches = list(channels) if channels else ["Direct"]
        for k, channel in enumerate(touches, start=1):
            rows.append(
                {
                    "journey_id": journey_id,
                    "person_key": f"p{j}",
                    "touch_position": k,
                    "touchpoint_id": f"t{j}_{k}" if channels else None,
                    "channel": channel,
                    "touched_at": pd.Timestamp("2026-03-01") + pd.Timedelta(hours=k),
                    "is_conversion": converted,
                    "conversion_id": journey_id if converted else None,
                    "conversion_value": value if converted else None,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def make_journeys():
    """The :func:`journeys_frame` builder (session scope: usable inside hypothesis tests)."""
    return journeys_frame
