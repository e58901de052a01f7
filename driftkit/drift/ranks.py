"""Ranks in a sort without a binary search per value: where each value's run of equal values
starts or ends in the sorted array (:func:`run_starts`, :func:`sorted_ranks`)."""

from __future__ import annotations

import numpy as np


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Per position of a sorted array, where its run of equal values starts (int64)."""
    n = len(ordered)
    starts = np.ones(n, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    index = np.arange(n, dtype=np.int64)
    return np.maximum.accumulate(np.where(starts, index, 0)) if n else index


def sorted_ranks(values: np.ndarray, *, side: str = "left") -> tuple[np.ndarray, np.ndarray]:
    """``(np.sort(values), np.searchsorted(np.sort(values), values, side=side))`` by one
    argsort: each value's rank is where its run of equal values starts (``left``) or ends
    (``right``) in the sort, without a binary search per value.

    Returns
    -------
    tuple of numpy.ndarray
        ``(sorted values, int64 rank of each value in input order)``.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    n = len(values)
    if side == "left":
        run = run_starts(ordered)
    else:
        ends = np.append(ordered[1:] != ordered[:-1], True) if n else np.ones(0, dtype=bool)
        index = np.arange(n, dtype=np.int64)
        run = np.minimum.accumulate(np.where(ends, index + 1, n)[::-1])[::-1] if n else index
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = run
    return ordered, ranks
