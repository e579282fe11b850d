"""Data-driven attribution of journeys at touchpoint grain (called by the dbt Python models).

Input: the rows of ``int_journeys``, one per touch of each journey, with at least
``journey_id, touch_position, touchpoint_id, channel, is_conversion, conversion_id,
conversion_value``. A converting journey has ``is_conversion`` true and its
``conversion_id``; a non-converting journey (ends in ``(null)``) has ``is_conversion`` false.
A conversion with an empty path comes as one row with channel ``Direct`` and a null
touchpoint id: it is the one-touch path ``Direct`` for the models and gets credit 1 with a
null touchpoint id, as the contract requires. A null channel is read as ``Unassigned``.
Touches are ordered by ``touch_position`` (then touchpoint id, so ties are deterministic).

The journeys are aggregated to distinct transformed paths first (exact, vectorised), so a
million journeys take seconds.

Touchpoint credit:

- ``markov``: ``credit_i = RE(channel_i) / sum_j RE(channel_j)`` over the journey's touches
  (every touch, untransformed); if that sum is 0, last touch. ``value_credit`` the same with
  the value removal effects. The chain itself is built on the transformed paths.
- ``shapley``: each position of the transformed path gets its Fractribution credit; a
  position's credit is split equally over the touchpoints it stands for (under `exposure`
  the run of repeats it collapsed; `unique`/`frequency` every touch of that channel; `first`
  only the first touch of the channel, later repeats get 0; `none` the touch itself).
  ``value_credit = credit``.

Per conversion the credits sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.attribution.markov import MarkovResult, markov_attribution
from pipelines.attribution.paths import PathSet, encode_distinct
from pipelines.attribution.shapley import shapley_attribution
from pipelines.attribution.transforms import (
    DEFAULT_TRANSFORM,
    TransformedTouches,
    check_transform,
    transform_touches,
)
from pipelines.errors import PipelineError

JOURNEY_COLUMNS = (
    "journey_id",
    "touch_position",
    "touchpoint_id",
    "channel",
    "is_conversion",
    "conversion_id",
    "conversion_value",
)
ATTRIBUTION_COLUMNS = ("conversion_id", "touchpoint_id", "model", "credit", "value_credit")
EFFECT_COLUMNS = (
    "channel",
    "removal_effect",
    "value_removal_effect",
    "share",
    "attributed_conversions",
    "attributed_value",
)
JOURNEY_MODELS = ("markov", "shapley")
UNASSIGNED_CHANNEL = "Unassigned"


@dataclass(frozen=True)
class PreparedJourneys:
    """Touch rows sorted by journey and position, and their distinct transformed paths.

    Per sorted row: ``journey`` index, ``channel`` code and ``row`` (its index in the input
    frame); per journey: ``converting``, ``path`` (index into ``pathset``) and
    ``first_position`` (its first global transformed position).
    """

    journey: np.ndarray
    channel: np.ndarray
    row: np.ndarray
    converting: np.ndarray
    transformed: TransformedTouches
    pathset: PathSet
    path: np.ndarray
    first_position: np.ndarray


def _sort_touches(journeys: pd.DataFrame, journey: np.ndarray) -> np.ndarray:
    """Row order: by journey, then touch position, then touchpoint id (ties only)."""
    position = pd.to_numeric(journeys["touch_position"]).astype("float64").fillna(0).to_numpy()
    if len(position) and position.min() >= 0 and np.array_equal(position, np.floor(position)):
        rank = position.astype(np.int64)
    else:
        rank = np.unique(position, return_inverse=True)[1].reshape(-1).astype(np.int64)
    order = np.argsort(journey * (int(rank.max()) + 1 if len(rank) else 1) + rank)
    same = (journey[order][1:] == journey[order][:-1]) & (rank[order][1:] == rank[order][:-1])
    if same.any():
        tie, _ = pd.factorize(journeys["touchpoint_id"], sort=True, use_na_sentinel=True)
        return np.lexsort((tie, rank, journey))
    # No ties: the keys are distinct, so any sort algorithm gives this same order.
    return order


def prepare_journeys(
    journeys: pd.DataFrame, transform: str = DEFAULT_TRANSFORM
) -> PreparedJourneys:
    """Sort, encode and aggregate journeys (see the module docstring for the input)."""
    check_transform(transform)
    missing = [c for c in JOURNEY_COLUMNS if c not in journeys.columns]
    if missing:
        raise PipelineError(
            f"journeys are missing the column(s) {', '.join(missing)}; int_journeys must "
            f"provide {', '.join(JOURNEY_COLUMNS)}."
        )
    journey_code, _ = pd.factorize(journeys["journey_id"], use_na_sentinel=True)
    if (journey_code < 0).any():
        raise PipelineError("journeys have a null journey_id; every touch row needs its journey.")
    journey_code = journey_code.astype(np.int64)
    names = journeys["channel"].astype("str").fillna(UNASSIGNED_CHANNEL).str.strip()
    channel_code, channel_names = pd.factorize(names, sort=True)
    channels = tuple(str(c) for c in channel_names)
    is_conversion = journeys["is_conversion"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    value = pd.to_numeric(journeys["conversion_value"]).astype("float64").fillna(0.0).to_numpy()

    order = _sort_touches(journeys, journey_code)
    journey = journey_code[order]
    channel = channel_code.astype(np.int64)[order]
    n_journeys = int(journey.max()) + 1 if len(journey) else 0
    converting = np.bincount(journey, is_conversion[order], minlength=n_journeys) > 0
    last_row = np.ones(len(journey), dtype=bool)
    last_row[:-1] = journey[1:] != journey[:-1]
    journey_value = np.zeros(n_journeys)
    journey_value[journey[last_row]] = value[order][last_row]

    transformed = transform_touches(journey, channel, len(channels), transform)
    lengths = np.bincount(transformed.position_journey, minlength=n_journeys)
    if transform == "frequency":
        labels = [
            f"{channels[c]}({k})"
            for c, k in zip(transformed.token_channel, transformed.token_count, strict=True)
        ]
    else:
        labels = list(channels)
    flat = transformed.position_token
    sequence_path, tokens, offsets = encode_distinct(flat, lengths)
    n_paths = len(offsets) - 1
    # Sum values per path in a canonical order (by path, then value), so that the floating
    # sums do not depend on the order in which the warehouse returned the rows.
    by_value = np.lexsort((journey_value, sequence_path))
    pathset = PathSet(
        tokens=tokens,
        offsets=offsets,
        conversions=np.bincount(sequence_path, converting, minlength=n_paths).astype(np.float64),
        value=np.bincount(
            sequence_path[by_value],
            np.where(converting, journey_value, 0.0)[by_value],
            minlength=n_paths,
        ),
        nulls=np.bincount(sequence_path, ~converting, minlength=n_paths).astype(np.float64),
        token_channels=np.asarray(transformed.token_channel, dtype=np.int64),
        channels=channels,
        token_labels=tuple(labels),
    )
    first_position = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return PreparedJourneys(
        journey=journey,
        channel=channel,
        row=order,
        converting=converting,
        transformed=transformed,
        pathset=pathset,
        path=sequence_path,
        first_position=first_position,
    )


def _markov_touch_credit(prep: PreparedJourneys, effects: np.ndarray) -> np.ndarray:
    per_touch = effects[prep.channel]
    n_journeys = len(prep.converting)
    total = np.bincount(prep.journey, per_touch, minlength=n_journeys)[prep.journey]
    last_row = np.ones(len(prep.journey), dtype=bool)
    last_row[:-1] = prep.journey[1:] != prep.journey[:-1]
    fallback = last_row.astype(np.float64)
    return np.where(total > 0, per_touch / np.where(total > 0, total, 1.0), fallback)


def _shapley_touch_credit(prep: PreparedJourneys) -> np.ndarray:
    credits = shapley_attribution(prep.pathset).credits
    t = prep.transformed
    n_positions = len(t.position_journey)
    journey_of_position = t.position_journey
    index_in_path = np.arange(n_positions) - prep.first_position[journey_of_position]
    position_credit = credits[prep.pathset.offsets[prep.path[journey_of_position]] + index_in_path]
    mapped = t.position_of_row >= 0
    touches = np.bincount(t.position_of_row[mapped], minlength=n_positions)
    credit = np.zeros(len(prep.journey))
    pos = t.position_of_row[mapped]
    credit[mapped] = position_credit[pos] / touches[pos]
    return credit


def _frame(
    journeys: pd.DataFrame,
    prep: PreparedJourneys,
    model: str,
    credit: np.ndarray,
    value_credit: np.ndarray,
) -> pd.DataFrame:
    rows = prep.converting[prep.journey]
    source = prep.row[rows]
    return pd.DataFrame(
        {
            "conversion_id": journeys["conversion_id"].iloc[source].reset_index(drop=True),
            "touchpoint_id": journeys["touchpoint_id"].iloc[source].reset_index(drop=True),
            "model": pd.array([model] * len(source), dtype="str"),
            "credit": credit[rows],
            "value_credit": value_credit[rows],
        }
    )


def attribute_journeys(
    journeys: pd.DataFrame,
    model: str = "markov",
    transform: str = DEFAULT_TRANSFORM,
    order: int = 1,
) -> pd.DataFrame:
    """Touchpoint credits of every conversion: ``conversion_id, touchpoint_id, model,
    credit, value_credit`` (one row per touch of each converting journey)."""
    if model not in JOURNEY_MODELS:
        raise ValueError(f"unknown data-driven model {model!r}; use one of {JOURNEY_MODELS}")
    if journeys.empty:
        return _empty(journeys, ATTRIBUTION_COLUMNS)
    prep = prepare_journeys(journeys, transform)
    if model == "markov":
        result = markov_attribution(prep.pathset, order)
        credit = _markov_touch_credit(prep, result.removal_effect)
        value_credit = _markov_touch_credit(prep, result.value_removal_effect)
    else:
        credit = _shapley_touch_credit(prep)
        value_credit = credit
    return _frame(journeys, prep, model, credit, value_credit)


def markov_journeys(
    journeys: pd.DataFrame, transform: str = DEFAULT_TRANSFORM, order: int = 1
) -> MarkovResult:
    """The Markov result (chain, removal effects, channel totals) of journeys."""
    return markov_attribution(prepare_journeys(journeys, transform).pathset, order)


def markov_channel_effects(
    journeys: pd.DataFrame, transform: str = DEFAULT_TRANSFORM, order: int = 1
) -> pd.DataFrame:
    """``channel, removal_effect, value_removal_effect, share, attributed_conversions,
    attributed_value``: one row per channel of the chain."""
    if journeys.empty:
        return _empty(journeys, EFFECT_COLUMNS)
    return markov_journeys(journeys, transform, order).to_frame()


def _empty(journeys: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame without rows, typed as the non-empty result would be."""
    types = {"model": "str", "channel": "str"}
    for key in ("conversion_id", "touchpoint_id"):
        if key in journeys.columns:
            types[key] = journeys[key].dtype
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "float64")) for c in columns})
