"""Markov-chain attribution, computed exactly (reference: attribution-models.md, "Markov chain").

The chain is built from distinct paths (:class:`~pipelines.attribution.paths.PathSet`),
converting and not. States: ``(start)``, one per channel (or per tuple of the last *k*
tokens for order *k* > 1), and the absorbing ``(conversion)`` and ``(null)``. Transition
counts: ``(start) -> c_1``, ``c_i -> c_{i+1}`` (weight: the journeys that followed the path),
``c_n -> (conversion)`` (weight: conversions) and ``c_n -> (null)`` (weight: non-converting
journeys); probabilities are counts over each state's total out-count. Self-loops are kept.

P(conversion) is the absorption probability in ``(conversion)`` from ``(start)``, obtained
by solving the linear system ``(I - Q) x = r`` of the transient states (``Q``: transient to
transient, ``r``: transient to ``(conversion)``), never by simulation, so results are
identical from run to run.

Removal effect ``RE(c) = 1 - P_without_c / P``: removing ``c`` sends every transition into a
state of ``c`` to ``(null)`` (for order *k*: into every state whose tuple contains ``c``).
The value removal effect uses the same chain with each state's conversion transition weighted
by the conversion value of the paths ending there instead of their count (the state's
out-total is then taken with that weight, as the reference words it).

Channel totals: ``RE(c) / sum(RE) x total conversions`` (value: with ``RE_value`` and total
value). Only when every removal effect is 0 while there are conversions (impossible for a
chain built from data, kept as a guard) the totals fall back to last touch, so that totals
always equal the conversions and value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.attribution.paths import PathSet

START = "(start)"
CONVERSION = "(conversion)"
NULL = "(null)"

# Above this many transient states the solve uses scipy's sparse LU (higher orders).
DENSE_LIMIT = 800


@dataclass(frozen=True)
class MarkovChain:
    """Transition counts of the chain.

    Transient states are ``0`` (``(start)``) and ``1..S``; ``edge_from/edge_to/edge_count``
    are the transient-to-transient counts (one entry per distinct pair);
    ``conversion_count``, ``conversion_value`` and ``null_count`` are each state's
    transitions into the absorbing states. ``involves[s, c]`` says state ``s`` contains
    channel ``c``.
    """

    state_labels: tuple[str, ...]
    channels: tuple[str, ...]
    involves: np.ndarray
    edge_from: np.ndarray
    edge_to: np.ndarray
    edge_count: np.ndarray
    conversion_count: np.ndarray
    conversion_value: np.ndarray
    null_count: np.ndarray

    @property
    def n_states(self) -> int:
        return len(self.state_labels)

    def transition_matrix(self, value: bool = False) -> pd.DataFrame:
        """Transition probabilities, rows ``from`` and columns ``to`` (incl. absorbing states)."""
        conv = self.conversion_value if value else self.conversion_count
        out = _out_totals(self, conv)
        labels = [*self.state_labels, CONVERSION, NULL]
        m = np.zeros((self.n_states, self.n_states + 2))
        safe = np.where(out > 0, out, 1.0)
        m[self.edge_from, self.edge_to] = self.edge_count / safe[self.edge_from]
        m[:, -2] = conv / safe
        m[:, -1] = self.null_count / safe
        return pd.DataFrame(m, index=list(self.state_labels), columns=labels)


def _state_ids(pathset: PathSet, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Per flat position its state id (1-based), and per state its token tuple (lags).

    A state is the tuple of the last ``order`` tokens (fewer at the start of a path), coded
    as one integer with base ``tokens + 1`` (exact: orders are small), then numbered densely
    in the order of the codes.
    """
    tokens = pathset.tokens
    position = np.arange(len(tokens), dtype=np.int64)
    index_in_path = position - pathset.offsets[:-1][pathset.path_of_position]
    base = len(pathset.token_labels) + 1
    if base**order >= 2**62:
        raise ValueError(
            f"markov order {order} with {base - 1} distinct tokens is too large to encode; "
            "use a lower order or a path transform with fewer tokens"
        )
    code = np.zeros(len(tokens), dtype=np.int64)
    for lag in range(order):
        ok = index_in_path >= lag
        digit = np.zeros(len(tokens), dtype=np.int64)
        digit[ok] = tokens[position[ok] - lag] + 1
        code += digit * base**lag
    present = np.zeros(base**order, dtype=bool) if base**order <= 4 * len(tokens) + 1024 else None
    if present is not None:
        present[code] = True
        codes = np.flatnonzero(present)
        state = (np.cumsum(present) - 1)[code]
    else:
        codes, state = np.unique(code, return_inverse=True)
    tuples = np.stack([codes // base**lag % base - 1 for lag in range(order)], axis=1)
    return state.reshape(-1) + 1, tuples


def build_chain(pathset: PathSet, order: int = 1) -> MarkovChain:
    """Count the transitions of the order-``order`` chain of a path set."""
    if order < 1:
        raise ValueError(f"markov order must be >= 1, got {order}")
    state, tuples = _state_ids(pathset, order)
    n_states = len(tuples) + 1
    n_channels = len(pathset.channels)
    involves = np.zeros((n_states, n_channels), dtype=bool)
    for lag in range(order):
        col = tuples[:, lag]
        ok = col >= 0
        involves[np.flatnonzero(ok) + 1, pathset.token_channels[col[ok]]] = True
    labels = [START]
    for row in tuples:
        labels.append(" > ".join(pathset.token_labels[t] for t in row[::-1] if t >= 0))

    path = pathset.path_of_position
    journeys = pathset.conversions + pathset.nulls
    first = pathset.offsets[:-1]
    last = pathset.offsets[1:] - 1
    from_state = np.empty(len(state), dtype=np.int64)
    from_state[1:] = state[:-1]
    from_state[first] = 0
    weight = journeys[path]
    used = weight > 0
    key = from_state[used] * n_states + state[used]
    pairs, inverse = np.unique(key, return_inverse=True)
    counts = np.bincount(inverse.reshape(-1), weights=weight[used], minlength=len(pairs))
    end_state = state[last]
    return MarkovChain(
        state_labels=tuple(labels),
        channels=pathset.channels,
        involves=involves,
        edge_from=pairs // n_states,
        edge_to=pairs % n_states,
        edge_count=counts,
        conversion_count=np.bincount(end_state, pathset.conversions, minlength=n_states),
        conversion_value=np.bincount(end_state, pathset.value, minlength=n_states),
        null_count=np.bincount(end_state, pathset.nulls, minlength=n_states),
    )


def _out_totals(chain: MarkovChain, conversion_weight: np.ndarray) -> np.ndarray:
    out = np.bincount(chain.edge_from, chain.edge_count, minlength=chain.n_states)
    return out + conversion_weight + chain.null_count


def _absorption(
    chain: MarkovChain, conversion_weight: np.ndarray, removed: int | None = None
) -> float:
    """P(absorption in (conversion) from (start)), with channel ``removed`` taken out."""
    out = _out_totals(chain, conversion_weight)
    safe = np.where(out > 0, out, 1.0)
    keep = np.ones(chain.n_states, dtype=bool)
    if removed is not None:
        keep &= ~chain.involves[:, removed]
    new_index = np.cumsum(keep) - 1
    edge_ok = keep[chain.edge_from] & keep[chain.edge_to]
    rows = new_index[chain.edge_from[edge_ok]]
    cols = new_index[chain.edge_to[edge_ok]]
    prob = chain.edge_count[edge_ok] / safe[chain.edge_from[edge_ok]]
    r = (conversion_weight / safe)[keep]
    n = int(keep.sum())
    if not r.any():
        return 0.0
    # Decided by the graph, not by the solver: a state that cannot reach a converting one
    # absorbs in (conversion) with probability 0; one that can, but can reach neither
    # (null) nor such a dead state, with probability 1. Left to the solver, both can make
    # (I - Q) singular: a channel whose conversions are all worth 0 only loops on itself
    # in the value chain, and a conversion worth 1e-99 leaks less than a rounding error
    # from its loop. (null) is reached by non-converting journeys and by edges into a
    # removed channel.
    kept_out = np.bincount(rows, weights=chain.edge_count[edge_ok], minlength=n)
    to_null = (out - conversion_weight)[keep] - kept_out > 1e-9 * out[keep]
    converts = _reaches(n, rows, cols, r > 0)
    solve = converts & _reaches(n, rows, cols, to_null | ~converts)
    x = converts.astype(float)  # 1 where no failure is in reach, 0 where no conversion is
    if not solve[0]:
        return float(x[0])
    # the states left are solved for; edges into decided states move to the right side
    index = np.cumsum(solve) - 1
    from_solved = solve[rows]
    decided = from_solved & ~solve[cols]
    r = r[solve] + np.bincount(
        index[rows[decided]], weights=prob[decided] * x[cols[decided]], minlength=int(solve.sum())
    )
    inner = from_solved & solve[cols]
    rows, cols, prob = index[rows[inner]], index[cols[inner]], prob[inner]
    n = int(solve.sum())
    if n <= DENSE_LIMIT:
        a = np.eye(n)
        np.subtract.at(a, (rows, cols), prob)
        x = np.linalg.solve(a, r)
    else:
        from scipy.sparse import csc_matrix, identity
        from scipy.sparse.linalg import spsolve

        q = csc_matrix((prob, (rows, cols)), shape=(n, n))
        x = spsolve((identity(n, format="csc") - q).tocsc(), r)
    return float(x[0])


def _reaches(n: int, rows: np.ndarray, cols: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Which of ``n`` states reach a ``targets`` state along the edges ``rows -> cols``.

    Grows the set backwards one step at a time: as many passes over the edges as the
    longest shortest way to a target, a path's length at most.
    """
    live = np.zeros(n, dtype=bool)
    live[targets] = True
    while True:
        grown = live.copy()
        grown[rows[live[cols]]] = True
        if grown.sum() == live.sum():
            return live
        live = grown


def removal_effects(chain: MarkovChain, conversion_weight: np.ndarray) -> tuple[float, np.ndarray]:
    """``(P, RE)``: the absorption probability and each channel's removal effect."""
    p = _absorption(chain, conversion_weight)
    effects = np.zeros(len(chain.channels))
    if p <= 0:
        return p, effects
    for c in range(len(chain.channels)):
        effects[c] = min(max(1.0 - _absorption(chain, conversion_weight, c) / p, 0.0), 1.0)
    return p, effects


def _last_touch_totals(pathset: PathSet, weight: np.ndarray) -> np.ndarray:
    last_channel = pathset.token_channels[pathset.tokens[pathset.offsets[1:] - 1]]
    return np.bincount(last_channel, weight, minlength=len(pathset.channels))


def _shares_to_totals(effects: np.ndarray, total: float, fallback: np.ndarray) -> np.ndarray:
    s = effects.sum()
    if total == 0:
        return np.zeros_like(effects)
    if s <= 0:
        return fallback
    return effects / s * total


@dataclass(frozen=True)
class MarkovResult:
    """Removal effects and channel totals of one chain."""

    channels: tuple[str, ...]
    p_conversion: float
    p_conversion_value: float
    removal_effect: np.ndarray
    value_removal_effect: np.ndarray
    attributed_conversions: np.ndarray
    attributed_value: np.ndarray
    total_conversions: float
    total_value: float
    chain: MarkovChain

    def effect_of(self, channel: str) -> float:
        return float(self.removal_effect[self.channels.index(channel)])

    def to_frame(self) -> pd.DataFrame:
        """``channel, removal_effect, value_removal_effect, share, attributed_conversions,
        attributed_value``; ``share`` = attributed conversions / total conversions."""
        share = (
            self.attributed_conversions / self.total_conversions
            if self.total_conversions
            else np.zeros(len(self.channels))
        )
        return pd.DataFrame(
            {
                "channel": pd.array(list(self.channels), dtype="str"),
                "removal_effect": self.removal_effect,
                "value_removal_effect": self.value_removal_effect,
                "share": share,
                "attributed_conversions": self.attributed_conversions,
                "attributed_value": self.attributed_value,
            }
        )


def markov_attribution(pathset: PathSet, order: int = 1) -> MarkovResult:
    """Removal effects and channel totals of the order-``order`` chain of ``pathset``."""
    chain = build_chain(pathset, order)
    p, effects = removal_effects(chain, chain.conversion_count)
    p_value, value_effects = removal_effects(chain, chain.conversion_value)
    total_conversions = pathset.total_conversions
    total_value = pathset.total_value
    return MarkovResult(
        channels=pathset.channels,
        p_conversion=p,
        p_conversion_value=p_value,
        removal_effect=effects,
        value_removal_effect=value_effects,
        attributed_conversions=_shares_to_totals(
            effects, total_conversions, _last_touch_totals(pathset, pathset.conversions)
        ),
        attributed_value=_shares_to_totals(
            value_effects, total_value, _last_touch_totals(pathset, pathset.value)
        ),
        total_conversions=total_conversions,
        total_value=total_value,
        chain=chain,
    )
