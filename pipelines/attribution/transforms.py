"""Path transforms applied before the data-driven models (Markov, Shapley).

A transform turns a path (the ordered channels of a journey's touchpoints) into a sequence
of *positions*. Each position has a *token* (what the models see) and the group of
original touchpoints it stands for (how credit of a position flows back to touchpoints):

| transform   | tokens                                           | touchpoints of a position      |
|-------------|--------------------------------------------------|--------------------------------|
| `exposure`  | consecutive repeats collapsed: A A B A -> A B A  | the run of repeats it collapsed |
| `unique`    | first occurrence of each channel: A B A -> A B   | every touch of that channel    |
| `first`     | first touch of each channel: A B A -> A B        | only that first touch          |
| `frequency` | like `unique`, with counts: A B A -> A(2) B(1)   | every touch of that channel    |
| `none`      | the path unchanged                               | the touch itself               |

`unique` and `first` give the same token sequence; they differ only in where a position's
credit goes at touchpoint grain: `unique` treats the later repeats as part of the channel's
position (they share its credit equally), `first` drops them (they get no credit).

With `frequency` a token is the pair (channel, count): paths that differ only in how often
a channel occurs are distinct paths, and a Markov state is a channel-with-count; removing a
channel removes all of its tokens.

Two implementations with identical results: :func:`transform_path` for one path (path
files, tests, documentation) and :func:`transform_touches`, vectorised over millions of
touch rows (journeys from the warehouse).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.config import PATH_TRANSFORMS

DEFAULT_TRANSFORM = "exposure"

# A token is a channel name, or (channel, count) under the `frequency` transform.
Token = str | tuple[str, int]


def check_transform(how: str) -> str:
    """Return ``how`` if it names a path transform, else raise a ValueError saying the options."""
    if how not in PATH_TRANSFORMS:
        raise ValueError(f"unknown path transform {how!r}; use one of {', '.join(PATH_TRANSFORMS)}")
    return how


def token_channel(token: Token) -> str:
    """The channel a token belongs to."""
    return token[0] if isinstance(token, tuple) else token


def token_label(token: Token) -> str:
    """A readable label: ``Email`` or, under `frequency`, ``Email(2)``."""
    return f"{token[0]}({token[1]})" if isinstance(token, tuple) else token


def transform_groups(
    path: Sequence[str], how: str = DEFAULT_TRANSFORM
) -> list[tuple[Token, list[int]]]:
    """Transform one path; return ``(token, [original indices])`` per position, in order."""
    check_transform(how)
    out: list[tuple[Token, list[int]]] = []
    if how == "none":
        return [(c, [i]) for i, c in enumerate(path)]
    if how == "exposure":
        for i, c in enumerate(path):
            if out and out[-1][0] == c:
                out[-1][1].append(i)
            else:
                out.append((c, [i]))
        return out
    slot: dict[str, int] = {}
    for i, c in enumerate(path):
        if c in slot:
            if how != "first":
                out[slot[c]][1].append(i)
        else:
            slot[c] = len(out)
            out.append((c, [i]))
    if how == "frequency":
        return [((c, len(idx)), idx) for c, idx in out]
    return out


def transform_path(path: Sequence[str], how: str = DEFAULT_TRANSFORM) -> tuple[Token, ...]:
    """The transformed path (its tokens), e.g. ``exposure``: (A, A, B, A) -> (A, B, A)."""
    return tuple(token for token, _ in transform_groups(path, how))


@dataclass(frozen=True)
class TransformedTouches:
    """Result of :func:`transform_touches` over touch rows sorted by journey then position.

    ``position_of_row``: per touch row, the global index of the transformed position it
    belongs to (-1: it belongs to none, which only happens under `first`).
    ``position_token``: per position, its token id; ``position_journey``: its journey.
    ``token_channel``: per token id, its channel code; ``token_count``: the count (under
    `frequency`, else 0). Token ids are ordered by (channel code, count).
    """

    position_of_row: np.ndarray
    position_token: np.ndarray
    position_journey: np.ndarray
    token_channel: np.ndarray
    token_count: np.ndarray


def transform_touches(
    journey: np.ndarray, channel: np.ndarray, n_channels: int, how: str = DEFAULT_TRANSFORM
) -> TransformedTouches:
    """Vectorised :func:`transform_groups` over many journeys.

    ``journey`` (non-decreasing journey index) and ``channel`` (channel code in
    ``range(n_channels)``) are aligned per touch row, rows sorted by journey then touch
    order.
    """
    check_transform(how)
    journey = np.asarray(journey, dtype=np.int64)
    channel = np.asarray(channel, dtype=np.int64)
    n = len(journey)
    rows = np.arange(n, dtype=np.int64)
    first_row = np.ones(n, dtype=bool)
    if n:
        first_row[1:] = journey[1:] != journey[:-1]
    identity_tokens = np.arange(n_channels, dtype=np.int64)
    no_counts = np.zeros(n_channels, dtype=np.int64)

    if how == "none":
        return TransformedTouches(rows, channel, journey, identity_tokens, no_counts)
    if how == "exposure":
        new_run = first_row.copy()
        if n:
            new_run[1:] |= channel[1:] != channel[:-1]
        position_of_row = np.cumsum(new_run) - 1
        return TransformedTouches(
            position_of_row, channel[new_run], journey[new_run], identity_tokens, no_counts
        )

    key = journey * max(n_channels, 1) + channel
    _, first_index, inverse = np.unique(key, return_index=True, return_inverse=True)
    kept = np.zeros(n, dtype=bool)
    kept[first_index] = True
    position_of_kept = np.cumsum(kept) - 1
    if how == "first":
        position_of_row = np.where(kept, position_of_kept, -1)
    else:
        position_of_row = position_of_kept[first_index[inverse]]
    position_channel = channel[kept]
    position_journey = journey[kept]
    if how != "frequency":
        return TransformedTouches(
            position_of_row, position_channel, position_journey, identity_tokens, no_counts
        )
    counts = np.bincount(inverse, minlength=len(first_index))
    position_count = counts[inverse[kept]]
    width = int(position_count.max()) + 1 if n else 1
    pair = position_channel * width + position_count
    pairs, position_token = np.unique(pair, return_inverse=True)
    return TransformedTouches(
        position_of_row,
        position_token.astype(np.int64),
        position_journey,
        pairs // width,
        pairs % width,
    )
