"""Rule-based channel totals over aggregated paths (path files).

The same definitions as the dbt models ``attr_first_touch``, ``attr_last_touch`` and
``attr_linear`` (reference: attribution-models.md, "Rule-based models"), applied to the
untransformed path: per path of n touches, ``first_touch`` gives the first touch 1,
``last_touch`` the last touch 1, ``linear`` each touch 1/n (a channel touched twice gets
2/n). Each path's credits are multiplied by its conversions and its conversion value.
"""

from __future__ import annotations

import numpy as np

from pipelines.attribution.paths import PathSet

PATH_RULE_MODELS = ("first_touch", "last_touch", "linear")


def rule_position_credits(pathset: PathSet, model: str) -> np.ndarray:
    """Credit of each position of each path, aligned with ``pathset.tokens``."""
    credits = np.zeros(len(pathset.tokens))
    if model == "first_touch":
        credits[pathset.offsets[:-1]] = 1.0
    elif model == "last_touch":
        credits[pathset.offsets[1:] - 1] = 1.0
    elif model == "linear":
        credits = 1.0 / pathset.lengths[pathset.path_of_position]
    else:
        raise ValueError(f"unknown path rule model {model!r}; use one of {PATH_RULE_MODELS}")
    return credits


def rule_based_totals(pathset: PathSet, model: str) -> tuple[np.ndarray, np.ndarray]:
    """``(attributed_conversions, attributed_value)`` per channel of ``pathset.channels``.

    ``pathset`` must be built with the ``none`` transform (the rules see every touch).
    """
    credits = rule_position_credits(pathset, model)
    path = pathset.path_of_position
    channel = pathset.token_channels[pathset.tokens]
    n = len(pathset.channels)
    return (
        np.bincount(channel, credits * pathset.conversions[path], minlength=n),
        np.bincount(channel, credits * pathset.value[path], minlength=n),
    )
