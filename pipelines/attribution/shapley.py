"""Path-level Shapley attribution as in Google's Fractribution.

Reference: attribution-models.md, "Shapley". For every distinct (transformed) path ``p``,
``P(p) = conv(p) / (conv(p) + null(p))``, and ``P(p) = 0`` for a path never seen. A path of
one position gives that position all credit. Otherwise position ``i`` has the marginal
contribution ``m_i = max(P(p) - P(p without position i), 0)`` and the credit
``m_i / sum(m)``; if ``sum(m) = 0`` the last position gets all credit. ``p without position
i`` is the token sequence with that one element removed, not transformed again (as in
Fractribution: under `exposure`, A > B > A without B is A > A, a path never seen).

The credits of a path apply to every conversion with that path; value likewise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.attribution.paths import PathSet


def position_credits(pathset: PathSet) -> np.ndarray:
    """Credit of each position of each converting path, aligned with ``pathset.tokens``.

    Positions of paths without conversions get 0 (their credits are never used).
    """
    tokens = pathset.tokens.tolist()
    offsets = pathset.offsets.tolist()
    conversions = pathset.conversions
    journeys = conversions + pathset.nulls
    probability = np.divide(
        conversions, journeys, out=np.zeros_like(conversions), where=journeys > 0
    ).tolist()
    seen: dict[tuple[int, ...], float] = {
        tuple(tokens[offsets[p] : offsets[p + 1]]): probability[p] for p in range(pathset.n_paths)
    }
    credits = np.zeros(len(tokens))
    for p in np.flatnonzero(conversions > 0).tolist():
        start, end = offsets[p], offsets[p + 1]
        n = end - start
        if n == 1:
            credits[start] = 1.0
            continue
        path = tokens[start:end]
        p_path = probability[p]
        margins = [
            max(p_path - seen.get(tuple(path[:i] + path[i + 1 :]), 0.0), 0.0) for i in range(n)
        ]
        total = sum(margins)
        if total > 0:
            credits[start:end] = np.asarray(margins) / total
        else:
            credits[end - 1] = 1.0
    return credits


@dataclass(frozen=True)
class ShapleyResult:
    """Per-position credits and channel totals."""

    channels: tuple[str, ...]
    credits: np.ndarray
    attributed_conversions: np.ndarray
    attributed_value: np.ndarray


def shapley_attribution(pathset: PathSet) -> ShapleyResult:
    """Position credits of every converting path and the channel totals they imply."""
    credits = position_credits(pathset)
    path = pathset.path_of_position
    channel = pathset.token_channels[pathset.tokens]
    n = len(pathset.channels)
    return ShapleyResult(
        channels=pathset.channels,
        credits=credits,
        attributed_conversions=np.bincount(
            channel, credits * pathset.conversions[path], minlength=n
        ),
        attributed_value=np.bincount(channel, credits * pathset.value[path], minlength=n),
    )
