"""The roll-forward's replay (:func:`driftkit.drift.accuracy.rollforward`): which cells have
two consecutive known snapshots, and each system's events replayed between them.

Events are sorted once by (system·key group, applied time) with running sums, so a query
interval is two binary searches (:func:`positions_after`), never a loop over keys.  The same
positions find count accuracy's latest snapshots.  Exact rules: ``docs/metrics.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.drift.codes import key_positions, positions_in
from driftkit.drift.ranks import sorted_ranks
from driftkit.schema import (
    ABSOLUTE_KINDS,
    KIND,
    OCCURRED_AT,
    QTY_DELTA,
    RECORDED_AT,
    SET_QTY,
    SYSTEM,
)


def consecutive_cells(
    row: np.ndarray, on_hand: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(system × key group ``s·K + k``, day − 1, previous row, current row) of every cell
    whose as-of snapshot and the day before's both have a known on_hand, in (system, key,
    day) order.

    One contiguous copy of ``row`` (a transposed view); the cells are then found by flat
    positions, not by a three-axis ``nonzero`` and fancy index.
    """
    rows = np.ascontiguousarray(row)
    width = rows.shape[2] - 1  # day pairs per (system, key)
    known = np.append(~np.isnan(on_hand), False)  # row −1 (no snapshot) reads False
    at = np.flatnonzero(known[rows[:, :, :-1]] & known[rows[:, :, 1:]])
    group, d = np.divmod(at, max(width, 1))
    flat = rows.reshape(-1)
    at += group  # position of the previous day's cell in ``rows``: group·(width+1) + d
    previous = flat[at]
    at += 1
    return group, d, previous, flat[at]


class Replay:
    """Events sorted by (system·key group, applied time) with running sums for replay."""

    def __init__(self, group: np.ndarray, at: np.ndarray, delta: np.ndarray, reset: np.ndarray):
        order = np.lexsort((at, group))
        self.group, self.at = group[order], at[order]
        self.reset_to = reset[order]
        is_reset = ~np.isnan(self.reset_to)
        self.cum = np.concatenate(([0.0], np.cumsum(np.where(is_reset, 0.0, delta[order]))))
        marks = np.where(is_reset, np.arange(len(order)), -1)
        self.last_reset = np.maximum.accumulate(marks) if len(marks) else marks
        self.ranks = event_ranks(self.group, self.at)  # once for both ends of every query

    @classmethod
    def build(cls, events: pd.DataFrame, keys: pd.DataFrame, systems: tuple[str, ...]) -> Replay:
        key = key_positions(events, keys)
        system = positions_in(events[SYSTEM], pd.Index(systems))
        known = (key >= 0) & (system >= 0)
        applied = events[RECORDED_AT].fillna(events[OCCURRED_AT])
        at = applied.dt.as_unit("us").array.asi8
        delta = np.nan_to_num(events[QTY_DELTA].to_numpy(dtype=np.float64, na_value=np.nan))
        set_qty = events[SET_QTY].to_numpy(dtype=np.float64, na_value=np.nan)
        absolute = events[KIND].isin([str(k) for k in ABSOLUTE_KINDS]).to_numpy()
        reset = np.where(absolute, set_qty, np.nan)
        group = system.astype(np.int64) * len(keys) + key
        return cls(group[known], at[known], delta[known], reset[known])

    def apply(
        self,
        group: np.ndarray,
        as_of: np.ndarray,
        rows: tuple[np.ndarray, np.ndarray],
        start: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Replay each group's events in ``(as_of[rows[0]], as_of[rows[1]]]`` on ``start``:
        (count, value)."""
        if not len(self.at):  # no event at all (a snapshots-only client): the same sums
            return np.zeros(len(group), dtype=np.intp), start + 0.0 - 0.0
        after, until = as_of[rows[0]], as_of[rows[1]]
        lo, hi = (
            positions_after(self.ranks, group, after),
            positions_after(self.ranks, group, until),
        )
        reset = self.last_reset[np.maximum(hi - 1, 0)]
        has_reset = (hi > lo) & (reset >= lo)
        base = np.where(has_reset, self.reset_to[np.maximum(reset, 0)], start)
        since = np.where(has_reset, reset + 1, lo)
        return hi - lo, base + self.cum[hi] - self.cum[since]


def _position(
    sorted_group: np.ndarray, sorted_at: np.ndarray, group: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """Index of the first sorted event after (group, at) in (group, time) order.

    Times are ranked by the distinct event times at or before them, so an event comes
    after a query exactly when its rank is higher; one sort of the events, none of the
    queries.
    """
    return positions_after(event_ranks(sorted_group, sorted_at), group, at)


def event_ranks(sorted_group: np.ndarray, sorted_at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(every event time sorted, group × (len(times) + 1) + rank of each event's time).

    A time's rank is the number of event times at or before it: an event is later than a
    query exactly when its rank is higher, whether or not equal times repeat (a sort,
    cheaper than ``np.unique``'s hashing).
    """
    times, rank = sorted_ranks(sorted_at, side="right")
    return times, sorted_group * (len(times) + 1) + rank


def positions_after(
    ranks: tuple[np.ndarray, np.ndarray], group: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """:func:`_position` with the events' :func:`event_ranks` already computed."""
    times, composite = ranks
    query = group * (len(times) + 1) + np.searchsorted(times, at, side="right")
    return np.searchsorted(composite, query, side="right")
