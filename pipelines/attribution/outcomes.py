"""Data-driven attribution from path outcomes: the engine-agnostic form of the journeys.

A warehouse engine (DuckDB, Spark, ...) aggregates its journeys in SQL to one row per
distinct *raw* channel path (``int_path_outcomes``): ``path`` (the channels in touch order,
joined by :data:`PATH_SEPARATOR`), ``path_length``, ``conversions`` and ``conversion_value``
(converting journeys with that path, and their value) and ``nulls`` (journeys with that path
that did not convert). That table is small (distinct paths, not journeys), so the exact
math runs here, in one place, whichever engine holds the data:

- :func:`path_credits`: per raw path and touch position (``path_position``, from 1) the
  Markov credit and value credit and the Shapley credit of the touch at that position;
  joined back to the touches in SQL (``attr_markov``, ``attr_shapley``);
- :func:`path_channel_effects`: the Markov removal effects and channel totals
  (``int_markov_channel_effects``).

Both apply the path transform to the raw paths first (the transforms, the chain and the
Shapley values are those of :mod:`~pipelines.attribution.journeys`, which they reuse), so
the credits equal :func:`~pipelines.attribution.journeys.attribute_journeys` on the
journeys themselves (up to the order of floating sums of conversion values).
On DuckDB the dbt Python models ``int_path_credits`` and ``int_markov_channel_effects``
call these functions; on engines without Python models (Spark) ``pipelines.warehouse``
reads ``int_path_outcomes`` between two dbt invocations, calls them, and writes the two
tables back through the adapter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.attribution.journeys import (
    EFFECT_COLUMNS,
    PreparedJourneys,
    _markov_touch_credit,
    _shapley_touch_credit,
)
from pipelines.attribution.markov import markov_attribution
from pipelines.attribution.paths import PathSet, encode_distinct
from pipelines.attribution.transforms import DEFAULT_TRANSFORM, check_transform, transform_touches
from pipelines.errors import PipelineError

PATH_SEPARATOR = " > "
OUTCOME_COLUMNS = ("path", "path_length", "conversions", "conversion_value", "nulls")
CREDIT_COLUMNS = (
    "path",
    "path_position",
    "markov_credit",
    "markov_value_credit",
    "shapley_credit",
)


def _prepare(outcomes: pd.DataFrame, transform: str) -> PreparedJourneys:
    """The distinct raw paths as weighted 'journeys', transformed and aggregated."""
    check_transform(transform)
    missing = [c for c in OUTCOME_COLUMNS if c not in outcomes.columns]
    if missing:
        raise PipelineError(
            f"path outcomes are missing the column(s) {', '.join(missing)}; int_path_outcomes "
            f"must provide {', '.join(OUTCOME_COLUMNS)}."
        )
    paths = outcomes["path"].astype("str").tolist()
    split = [p.split(PATH_SEPARATOR) for p in paths]
    lengths = np.array([len(s) for s in split], dtype=np.int64)
    declared = pd.to_numeric(outcomes["path_length"]).astype("int64").to_numpy()
    bad = np.flatnonzero(lengths != declared)
    if len(bad):
        raise PipelineError(
            f"int_path_outcomes path {paths[bad[0]]!r} has {lengths[bad[0]]} channels but "
            f"path_length {declared[bad[0]]}: a channel name contains {PATH_SEPARATOR!r}; "
            f"rename that channel in the channel_rules seed."
        )
    names = pd.Series([c for s in split for c in s], dtype="str").str.strip()
    channel_code, channel_names = pd.factorize(names, sort=True)
    channels = tuple(str(c) for c in channel_names)
    n_paths = len(paths)
    journey = np.repeat(np.arange(n_paths, dtype=np.int64), lengths)
    channel = channel_code.astype(np.int64)

    conversions = pd.to_numeric(outcomes["conversions"]).astype("float64").fillna(0.0).to_numpy()
    value = pd.to_numeric(outcomes["conversion_value"]).astype("float64").fillna(0.0).to_numpy()
    nulls = pd.to_numeric(outcomes["nulls"]).astype("float64").fillna(0.0).to_numpy()

    transformed = transform_touches(journey, channel, len(channels), transform)
    t_lengths = np.bincount(transformed.position_journey, minlength=n_paths)
    if transform == "frequency":
        labels = [
            f"{channels[c]}({k})"
            for c, k in zip(transformed.token_channel, transformed.token_count, strict=True)
        ]
    else:
        labels = list(channels)
    sequence_path, tokens, offsets = encode_distinct(transformed.position_token, t_lengths)
    n_sequences = len(offsets) - 1
    # Values summed per transformed path in a canonical order (by path, then value), so the
    # floating sums do not depend on the order in which the engine returned the rows.
    by_value = np.lexsort((value, sequence_path))
    pathset = PathSet(
        tokens=tokens,
        offsets=offsets,
        conversions=np.bincount(sequence_path, conversions, minlength=n_sequences),
        value=np.bincount(sequence_path[by_value], value[by_value], minlength=n_sequences),
        nulls=np.bincount(sequence_path, nulls, minlength=n_sequences),
        token_channels=np.asarray(transformed.token_channel, dtype=np.int64),
        channels=channels,
        token_labels=tuple(labels),
    )
    return PreparedJourneys(
        journey=journey,
        channel=channel,
        row=np.arange(len(journey), dtype=np.int64),
        converting=conversions > 0,
        transformed=transformed,
        pathset=pathset,
        path=sequence_path,
        first_position=np.concatenate([[0], np.cumsum(t_lengths)[:-1]]).astype(np.int64),
    )


def path_credits(
    outcomes: pd.DataFrame, transform: str = DEFAULT_TRANSFORM, order: int = 1
) -> pd.DataFrame:
    """``path, path_position, markov_credit, markov_value_credit, shapley_credit``: one row
    per touch position of every raw path that converted at least once."""
    if outcomes.empty:
        return _empty_credits()
    outcomes = _canonical(outcomes)
    prep = _prepare(outcomes, transform)
    markov = markov_attribution(prep.pathset, order)
    lengths = np.bincount(prep.journey, minlength=len(outcomes))
    start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    frame = pd.DataFrame(
        {
            "path": pd.array(np.repeat(outcomes["path"].astype("str").to_numpy(), lengths)),
            "path_position": (np.arange(len(prep.journey)) - start[prep.journey] + 1).astype(
                np.int64
            ),
            "markov_credit": _markov_touch_credit(prep, markov.removal_effect),
            "markov_value_credit": _markov_touch_credit(prep, markov.value_removal_effect),
            "shapley_credit": _shapley_touch_credit(prep),
        }
    )
    return frame[prep.converting[prep.journey]].reset_index(drop=True)


def path_channel_effects(
    outcomes: pd.DataFrame, transform: str = DEFAULT_TRANSFORM, order: int = 1
) -> pd.DataFrame:
    """``channel, removal_effect, value_removal_effect, share, attributed_conversions,
    attributed_value``: one row per channel of the Markov chain."""
    if outcomes.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="str" if c == "channel" else "float64") for c in EFFECT_COLUMNS}
        )
    return markov_attribution(_prepare(_canonical(outcomes), transform).pathset, order).to_frame()


def _canonical(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The paths in one order (by path), whatever order the engine returned them in, so
    that floating sums over paths give the same bits on every engine and every run."""
    return outcomes.sort_values("path", kind="stable").reset_index(drop=True)


def _empty_credits() -> pd.DataFrame:
    types = {"path": "str", "path_position": "int64"}
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "float64")) for c in CREDIT_COLUMNS})
