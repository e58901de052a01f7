"""Record accuracy: roll-forward residuals and physical-count errors (DESIGN §5).

* :func:`rollforward` — per system, key and day: how much of the change between two
  consecutive snapshots no recorded event explains.
* :func:`count_accuracy` — each system's record vs the physical cycle counts, the only
  ground truth a client has.

Both work in **on_hand** whatever ``config.measure`` is: events (``qty_delta``,
``set_qty``) and counts describe on_hand.  Exact rules: ``docs/metrics.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import DAY, Grid
from driftkit.drift.asof import asof_cells
from driftkit.drift.codes import (
    column_codes,
    frame_keeping_codes,
    positions_in,
    shared_codes,
    take_coded,
)
from driftkit.drift.measures import MEASURED, measured_values
from driftkit.drift.pairs import SLACK
from driftkit.drift.replay import Replay, consecutive_cells, event_ranks, positions_after
from driftkit.schema import (
    AS_OF,
    COUNTED_AT,
    COUNTED_QTY,
    LOCATION,
    SKU,
    SYSTEM,
    Measure,
)

US_PER_HOUR = 3_600_000_000


def rollforward(
    snapshots: pd.DataFrame, events: pd.DataFrame, config: ClientConfig, grid: Grid
) -> pd.DataFrame:
    """Roll-forward residual per system, key and day of ``grid``'s window.

    For day D with a present snapshot on D and on D−1 (the as-of snapshots of the grid,
    taken at ``t_prev`` and ``t``), the system's events applied in ``(t_prev, t]`` are
    replayed on ``previous`` in time order (``recorded_at``, else ``occurred_at``; ties
    in input order): ``qty_delta`` adds; a ``count``/``sync`` event with ``set_qty``
    resets the running value to ``set_qty`` (its own ``qty_delta`` is ignored).  Then
    ``events_delta = replayed − previous`` and ``residual = snapshot − replayed``.

    Returns
    -------
    pandas.DataFrame
        ``sku, location, system, day, snapshot, previous, events, events_delta, residual``
        (``events`` = number of events replayed); one row per (key, system, day) with
        both snapshots known, the window's first day excluded.
    """
    cells = asof_cells(snapshots, config, start=grid.days[0].date(), end=grid.days[-1].date())
    _, on_hand = measured_values(snapshots, Measure.ON_HAND)
    group, d, prev_row, cur_row = consecutive_cells(cells.row, on_hand)
    replay = Replay.build(events, cells.keys, cells.systems)
    previous, snapshot = on_hand[prev_row], on_hand[cur_row]
    count, replayed = replay.apply(group, cells.as_of, (prev_row, cur_row), previous)
    del prev_row, cur_row  # 12M-row clients: free each index as soon as it is read
    s, k = np.divmod(group, max(len(cells.keys), 1))
    del group
    d += 1  # the current day of each pair
    return frame_keeping_codes(
        {
            SKU: take_coded(cells.keys[SKU], k),
            LOCATION: take_coded(cells.keys[LOCATION], k),
            SYSTEM: take_coded(pd.Series(cells.systems, dtype="str"), s),
            DAY: cells.days[d],
            "snapshot": snapshot,
            "previous": previous,
            "events": count,
            "events_delta": replayed - previous,
            "residual": snapshot - replayed,
        }
    )


def count_accuracy(
    snapshots: pd.DataFrame, counts: pd.DataFrame, config: ClientConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each system's on_hand vs each physical count, and record accuracy per system.

    A system's value for a count is the on_hand of its latest snapshot with
    ``as_of <= counted_at`` and ``as_of > counted_at − staleness_hours`` (derived by
    identity where needed); otherwise it has no value for that count.

    Returns
    -------
    tuple of pandas.DataFrame
        ``errors``: ``sku, location, counted_at, counted_qty, system, as_of, system_qty,
        error, exact`` with ``error = system_qty − counted_qty`` and ``exact`` = |error| ≤
        tolerance; one row per count row and system, counts in input order.
        ``accuracy``: ``system, counts, counted, exact, record_accuracy, mean_error,
        mean_abs_error``; ``counted`` = counts where the system had a value,
        ``record_accuracy = exact / counted`` (NaN when nothing was counted).
    """
    systems = _systems(snapshots, config)
    row = _latest_snapshots(snapshots, counts, systems)
    picked = snapshots[[c for c in MEASURED if c in snapshots.columns]].iloc[np.maximum(row, 0)]
    system_qty = np.where(row >= 0, measured_values(picked, Measure.ON_HAND)[1], np.nan)
    columns = [SKU, LOCATION, COUNTED_AT, COUNTED_QTY]
    joined = counts[columns].iloc[np.repeat(np.arange(len(counts)), len(systems))]
    joined = joined.reset_index(drop=True).assign(
        **{SYSTEM: pd.Series(np.tile(np.asarray(systems, dtype=object), len(counts)), dtype="str")}
    )
    as_of = pd.Series(snapshots[AS_OF].array.take(row, allow_fill=True))
    stale = joined[COUNTED_AT] - as_of >= pd.Timedelta(hours=config.staleness_hours)
    joined[AS_OF] = as_of.mask(stale)
    joined["system_qty"] = pd.Series(system_qty).mask(stale)
    joined["error"] = joined["system_qty"] - joined[COUNTED_QTY]
    joined["exact"] = joined["error"].abs() <= config.tolerance + SLACK
    return joined, _accuracy(joined, systems)


def _latest_snapshots(
    snapshots: pd.DataFrame, counts: pd.DataFrame, systems: list[str]
) -> np.ndarray:
    """Per count row and system of ``systems`` (count-major): the row of that system's last
    snapshot of the count's key with ``as_of <= counted_at`` (the last in input order among
    equal times, as ``merge_asof``), −1 where there is none.  Keys and systems are compared
    as integer codes (:func:`~driftkit.drift.codes.shared_codes`), not as text."""
    key, wanted = shared_codes(snapshots, counts, [SKU, LOCATION])
    system = positions_in(snapshots[SYSTEM], pd.Index(systems))
    width = int(max(key.max(initial=-1), wanted.max(initial=-1))) + 1
    keep = np.flatnonzero((system >= 0) & np.isin(key, wanted))
    group, at = system[keep] * width + key[keep], _micros(snapshots[AS_OF])[keep]
    order = np.lexsort((at, group))  # stable: equal times stay in input order
    ranks = event_ranks(group[order], at[order])
    asked = (np.arange(len(systems)) * width + wanted[:, None]).ravel()
    after = positions_after(ranks, asked, np.repeat(_micros(counts[COUNTED_AT]), len(systems)))
    last = np.maximum(after - 1, 0)
    hit = (after > 0) & (group[order][last] == asked) if len(order) else np.zeros(len(asked), bool)
    return np.where(hit, keep[order][last] if len(order) else -1, -1)


def _micros(stamps: pd.Series) -> np.ndarray:
    """UTC microseconds of a timestamp column."""
    return np.asarray(stamps.dt.as_unit("us").array.asi8, dtype=np.int64)


def _systems(snapshots: pd.DataFrame, config: ClientConfig) -> list[str]:
    found = set(column_codes(snapshots[SYSTEM])[1])
    return [s for s in config.systems if s in found] + sorted(found - set(config.systems))


def _accuracy(errors: pd.DataFrame, systems: list[str]) -> pd.DataFrame:
    return accuracy_from_sums([accuracy_sums(errors)], systems)


ACCURACY_SUMS = ("counts", "counted", "exact", "error_sum", "abs_error_sum")


def accuracy_sums(errors: pd.DataFrame) -> pd.DataFrame:
    """Per system, the summable parts of record accuracy over ``count_accuracy`` errors.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``system`` (first-seen order): ``counts`` (rows), ``counted`` (rows with
        an error), ``exact`` (counted and exact), ``error_sum``, ``abs_error_sum``.
    """
    counted = errors["error"].notna()
    table = pd.DataFrame(
        {
            SYSTEM: errors[SYSTEM],
            "counts": 1,
            "counted": counted,
            "exact": errors["exact"] & counted,
            "error_sum": errors["error"],
            "abs_error_sum": errors["error"].abs(),
        }
    )
    return table.groupby(SYSTEM, sort=False)[list(ACCURACY_SUMS)].sum()


def accuracy_from_sums(parts: list[pd.DataFrame], systems: list[str]) -> pd.DataFrame:
    """Record accuracy per system from every part's :func:`accuracy_sums`.

    Returns
    -------
    pandas.DataFrame
        ``system, counts, counted, exact, record_accuracy, mean_error, mean_abs_error`` in
        ``systems`` order; ``record_accuracy = exact / counted`` and the means Σ ÷ ``counted``
        (NaN when nothing was counted).
    """
    sums = pd.concat(parts).groupby(level=0, sort=False).sum()
    out = sums.reindex(pd.Index(systems, name=SYSTEM)).reset_index()
    integers = ["counts", "counted", "exact"]
    out[integers] = out[integers].fillna(0).astype(np.int64)
    counted_n = out["counted"].where(out["counted"] > 0)
    out["record_accuracy"] = out["exact"] / counted_n
    out["mean_error"] = out["error_sum"] / counted_n
    out["mean_abs_error"] = out["abs_error_sum"] / counted_n
    order = [SYSTEM, *integers, "record_accuracy", "mean_error", "mean_abs_error"]
    return out[order].astype({SYSTEM: "str"})
