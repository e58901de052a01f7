"""Which day spans overlap which, by sorted arrays (no pairwise join, no per-key loop).

Spans belong to groups (a key and a cause, coded as one integer).  Sorted by (group, first
day), the running maximum of the last day within a group tells how far the spans of a group
that start on or before day D reach; a query span [start, end] of a group overlaps one of
them exactly when that reach, at the last span starting on or before ``end``, is ≥ ``start``.
One sort and one binary search per query: O((spans + queries) log spans).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.drift.ranks import run_starts

_DAY_BITS = 20  # a day number fills the low bits of a packed (group, day) key
_DAY_SHIFT = 1 << 18  # days since 1970 shifted to be ≥ 0 (pandas' range fits in 2**19)


def day_numbers(days: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 plus ``_DAY_SHIFT`` (int64); -1 where the day is unknown."""
    values = np.asarray(days.to_numpy(), dtype="datetime64[D]")
    return np.where(np.isnat(values), -1, values.astype(np.int64) + _DAY_SHIFT)


@dataclass(frozen=True)
class Spans:
    """Day spans sorted by (group, first day) with each group's running reach.

    Attributes
    ----------
    key
        Packed (group, first day), ascending.
    group
        The group of each sorted span.
    reach
        The largest last day of the group's spans up to this one.
    """

    key: np.ndarray
    group: np.ndarray
    reach: np.ndarray

    @classmethod
    def of(cls, group: np.ndarray, first: np.ndarray, last: np.ndarray) -> Spans:
        """Spans from int64 arrays (groups ≥ 0, day numbers); unknown days are dropped."""
        known = (first >= 0) & (last >= 0) & (group >= 0)
        group, first, last = group[known], first[known], last[known]
        order = np.argsort((group << _DAY_BITS) | first, kind="stable")
        base = group[order] << _DAY_BITS  # later groups pack larger: the max stays in-group
        running = np.maximum.accumulate(base | last[order]) if len(order) else base
        return cls(base | first[order], group[order], running - base)

    def overlap(self, group: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Per query: whether a span of its ``group`` overlaps [``start``, ``end``]."""
        known = (start >= 0) & (end >= 0)
        if not len(self.key):
            return np.zeros(len(group), dtype=bool)
        at = np.searchsorted(self.key, (group << _DAY_BITS) | np.maximum(end, 0), side="right")
        at = at - 1
        safe = np.maximum(at, 0)
        return known & (at >= 0) & (self.group[safe] == group) & (self.reach[safe] >= start)


def next_day(counted: np.ndarray, days: pd.Series, key: np.ndarray, last: pd.Series) -> np.ndarray:
    """Each (``key``, ``last``)'s first day of ``days`` strictly after ``last`` among the rows
    of its key (``counted``), else ``Timestamp.max`` (a forward ``merge_asof`` without exact
    matches, by one ``searchsorted`` over (key, day) as one int64)."""
    day, at = day_numbers(days), day_numbers(last)
    lo = min(day.min(), at.min())
    width = max(day.max(), at.max()) - lo + 2
    order = np.lexsort((day, counted))
    combined = counted[order] * width + (day[order] - lo)
    found = np.searchsorted(combined, key * width + (at - lo), side="right")
    hit = found < len(combined)
    hit[hit] = counted[order][found[hit]] == key[hit]
    values = days.to_numpy()[order]
    ceiling = np.datetime64(pd.Timestamp.max.normalize()).astype(values.dtype)
    return np.where(hit, values[np.minimum(found, len(values) - 1)], ceiling)


def span_days(n_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row per span day, spans in order: each row's span and its day within the span.

    Returns
    -------
    tuple of numpy.ndarray
        ``(span, offset)``: ``np.repeat(arange(n), n_days)`` and 0..n_days[i]−1 per span.
    """
    span = np.repeat(np.arange(len(n_days)), n_days)
    offset = np.arange(len(span)) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    return span, offset


def every_day(flags: np.ndarray, n_days: np.ndarray) -> np.ndarray:
    """Per span, whether ``flags`` holds on every one of its days.

    ``flags`` has one entry per span day, spans in order, ``n_days[i]`` entries for span
    *i* (``np.repeat(arange(n), n_days)`` order): ``Series(flags).groupby(span).all()``,
    False for a span without days.

    Returns
    -------
    numpy.ndarray
        bool, one per span.
    """
    span = span_days(n_days)[0]
    failed = np.bincount(span, weights=~np.asarray(flags, dtype=bool), minlength=len(n_days))
    return (failed == 0) & (np.asarray(n_days) > 0)


def group_time_order(
    group: np.ndarray, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by (group, time), ties in row order, by a time sort and a group sort.

    The same order as ``np.argsort(group * (n + 1) + rank, kind="stable")`` with ``rank``
    from :func:`~driftkit.drift.ranks.sorted_ranks`, but the second sort runs on the group
    codes alone, as 16-bit integers (numpy's radix sort) when they fit.

    Returns
    -------
    tuple of numpy.ndarray
        ``(order, times, rank)``: the row order, ``np.sort(at)`` and, per ordered row, the
        number of times before its own (its run's start in ``times``), int64.
    """
    by_time = np.argsort(at, kind="stable")
    times = at[by_time]
    n = len(times)
    run = run_starts(times)
    grouped = group[by_time]
    small = n and grouped.min() >= 0 and grouped.max() < 1 << 16
    by_group = np.argsort(grouped.astype(np.uint16) if small else grouped, kind="stable")
    return by_time[by_group], times, run[by_group]
