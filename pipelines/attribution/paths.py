"""Distinct paths with their outcomes: the input of every path-level model.

A :class:`PathSet` holds each distinct (transformed) path once, as integer token ids in one
flat array, with the number of converting journeys, their conversion value and the number
of non-converting journeys that followed it. Aggregating millions of journeys to a few
thousand distinct paths first is what makes the exact models fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.attribution.transforms import (
    DEFAULT_TRANSFORM,
    Token,
    token_channel,
    token_label,
    transform_path,
)

# The channel that gets the credit of a conversion with an empty path (the contract).
EMPTY_PATH_CHANNEL = "Direct"


@dataclass(frozen=True)
class PathSet:
    """Distinct paths and their outcomes.

    ``tokens[offsets[p]:offsets[p + 1]]`` are the token ids of path ``p``;
    ``token_channels[t]`` is the channel index (into ``channels``) of token ``t`` and
    ``token_labels[t]`` its readable name. ``conversions``, ``value`` and ``nulls`` are per
    path: converting journeys, their total conversion value, non-converting journeys.
    """

    tokens: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    value: np.ndarray
    nulls: np.ndarray
    token_channels: np.ndarray
    channels: tuple[str, ...]
    token_labels: tuple[str, ...]

    @property
    def n_paths(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def path_of_position(self) -> np.ndarray:
        """Per flat position, the index of its path."""
        return np.repeat(np.arange(self.n_paths, dtype=np.int64), self.lengths)

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        return float(self.value.sum())

    def path(self, p: int) -> tuple[int, ...]:
        """Token ids of path ``p``."""
        return tuple(self.tokens[self.offsets[p] : self.offsets[p + 1]].tolist())

    def labels(self, p: int) -> tuple[str, ...]:
        """Readable tokens of path ``p``."""
        return tuple(self.token_labels[t] for t in self.path(p))


def _fits_int64(base: int) -> int:
    """The longest sequence whose base-``base`` number fits in an int64."""
    length, power = 0, 1
    while power * base < 2**62:
        power *= base
        length += 1
    return length


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated ``range(start, start + length)`` for each pair, vectorised."""
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(
        int(ends[-1]) if len(ends) else 0
    )


def encode_distinct(
    flat: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Find the distinct sequences among many, exactly (no hashing).

    ``flat`` holds the sequences (non-negative token ids) one after another, ``lengths``
    their lengths (each >= 1). Returns ``(sequence_path, path_tokens, path_offsets)``: the
    distinct-path index of each sequence and the distinct paths in the same flat layout.
    Sequences short enough are encoded as one base-(tokens + 1) integer each (an exact,
    invertible key); longer ones are compared row-wise per length. The order of the distinct
    paths depends only on their content, so it is deterministic.
    """
    flat = np.asarray(flat, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    sequence_path = np.empty(len(lengths), dtype=np.int64)
    if not len(lengths):
        return sequence_path, np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    base = int(flat.max()) + 2 if len(flat) else 2
    short = lengths <= _fits_int64(base)
    blocks: list[np.ndarray] = []
    block_lengths: list[np.ndarray] = []
    n_found = 0

    seqs = np.flatnonzero(short)
    if len(seqs):
        lens = lengths[seqs]
        index = np.arange(len(flat)) if len(seqs) == len(lengths) else _ranges(starts[seqs], lens)
        exponent = np.repeat(starts[seqs] + lens, lens) - 1 - index
        digits = (flat[index] + 1) * base**exponent
        keys = np.add.reduceat(digits, np.concatenate([[0], np.cumsum(lens)[:-1]]))
        distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        sequence_path[seqs] = inverse.reshape(-1)
        n_found = len(distinct)
        rep = seqs[first]
        rep_lengths = lengths[rep]
        blocks.append(flat[_ranges(starts[rep], rep_lengths)])
        block_lengths.append(rep_lengths)

    for length in np.unique(lengths[~short]):
        seqs = np.flatnonzero(lengths == length)
        matrix = flat[starts[seqs][:, None] + np.arange(length)]
        distinct, inverse = np.unique(matrix, axis=0, return_inverse=True)
        sequence_path[seqs] = n_found + inverse.reshape(-1)
        n_found += len(distinct)
        blocks.append(distinct.reshape(-1))
        block_lengths.append(np.full(len(distinct), length, dtype=np.int64))
    path_lengths = np.concatenate(block_lengths)
    offsets = np.concatenate([[0], np.cumsum(path_lengths)]).astype(np.int64)
    return sequence_path, np.concatenate(blocks), offsets


def _sum_by(index: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(index, weights=np.asarray(weights, dtype=np.float64), minlength=n)


def build_pathset(
    flat_tokens: np.ndarray,
    lengths: np.ndarray,
    conversions: np.ndarray,
    value: np.ndarray,
    nulls: np.ndarray,
    token_channels: np.ndarray,
    channels: Sequence[str],
    token_labels: Sequence[str],
) -> tuple[PathSet, np.ndarray]:
    """Aggregate sequences (journeys, or rows of a path file) into a :class:`PathSet`.

    Returns the path set and, per input sequence, the index of its distinct path.
    """
    sequence_path, tokens, offsets = encode_distinct(flat_tokens, lengths)
    n = len(offsets) - 1
    pathset = PathSet(
        tokens=tokens,
        offsets=offsets,
        conversions=_sum_by(sequence_path, conversions, n),
        value=_sum_by(sequence_path, value, n),
        nulls=_sum_by(sequence_path, nulls, n),
        token_channels=np.asarray(token_channels, dtype=np.int64),
        channels=tuple(channels),
        token_labels=tuple(token_labels),
    )
    return pathset, sequence_path


def pathset_from_records(
    records: Iterable[tuple[Sequence[str], float, float, float]],
    transform: str = DEFAULT_TRANSFORM,
) -> PathSet:
    """Build a :class:`PathSet` from ``(channels, conversions, value, nulls)`` records.

    Each path is transformed first; an empty path counts as ``(Direct,)``. Records with the
    same transformed path are summed.
    """
    transformed: list[tuple[Token, ...]] = []
    conv: list[float] = []
    val: list[float] = []
    nul: list[float] = []
    for channels, c, v, n in records:
        transformed.append(transform_path(list(channels) or [EMPTY_PATH_CHANNEL], transform))
        conv.append(c)
        val.append(v)
        nul.append(n)
    distinct_tokens = sorted(
        {t for path in transformed for t in path},
        key=lambda t: (token_channel(t), t[1] if isinstance(t, tuple) else 0),
    )
    channel_names = sorted({token_channel(t) for t in distinct_tokens})
    channel_index = {c: i for i, c in enumerate(channel_names)}
    token_index = {t: i for i, t in enumerate(distinct_tokens)}
    flat = np.fromiter(
        (token_index[t] for path in transformed for t in path),
        dtype=np.int64,
        count=sum(len(p) for p in transformed),
    )
    lengths = np.fromiter((len(p) for p in transformed), dtype=np.int64, count=len(transformed))
    pathset, _ = build_pathset(
        flat,
        lengths,
        np.asarray(conv, dtype=np.float64),
        np.asarray(val, dtype=np.float64),
        np.asarray(nul, dtype=np.float64),
        np.array([channel_index[token_channel(t)] for t in distinct_tokens], dtype=np.int64),
        channel_names,
        [token_label(t) for t in distinct_tokens],
    )
    return pathset
