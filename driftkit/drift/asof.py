"""The as-of rule (DESIGN §5): which snapshot decides each (system, key, day) cell.

Implementation (no per-key Python loops): keys and systems are factorized once, each
snapshot is placed in a local-day bucket by a binary search over the UTC instants of the
local midnights, the last snapshot per (system, key, day) is chosen with one ``maximum.at``
pass, and the as-of rule is a forward fill of "last bucket index" along the day axis
followed by one vectorized staleness test.  :func:`driftkit.drift.align.align` reads the
measure of the chosen rows; the roll-forward (:mod:`driftkit.drift.accuracy`) and the
snapshot-timing test of the causes read the rows themselves.  See ``docs/metrics.md``.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.codes import sorted_codes
from driftkit.errors import InputError
from driftkit.schema import AS_OF, LOCATION, SKU, SYSTEM

US_PER_DAY = 86_400_000_000

US_PER_HOUR = 3_600_000_000

NO_ROW = -1

DENSE_KEYS = 1 << 20  # sku × location combinations coded with a dense table up to this size


@dataclass(frozen=True)
class _Cells:
    """As-of result on the internal grid: chosen snapshot row per (system, key, day)."""

    keys: pd.DataFrame
    systems: tuple[str, ...]
    days: pd.DatetimeIndex
    row: np.ndarray  # int64 [S, K, D] (a view): deciding snapshot row, NO_ROW = absent
    as_of: np.ndarray  # int64 µs UTC per snapshot row
    system_code: np.ndarray  # int8 (int64 past 127 systems) per snapshot row: into ``systems``


_LAST: list[tuple[weakref.ref[pd.DataFrame], tuple[object, ...], _Cells]] = []


def asof_cells(
    snapshots: pd.DataFrame,
    config: ClientConfig,
    *,
    start: date | None = None,
    end: date | None = None,
) -> _Cells:
    """The snapshot row deciding each (system, key, day) cell of the window (as-of rule).

    The last result is kept for as long as its snapshots frame lives: the grid, the other
    measures' grids, the roll-forward and the timing test of one audit ask for the same
    cells, and the snapshots are never modified in place (tables in, tables out).
    """
    rule = (config.timezone, config.staleness_hours, tuple(config.systems), config.authority)
    asked = (*rule, *(None if d is None else pd.Timestamp(d) for d in (start, end)))
    if _LAST and _LAST[0][0]() is snapshots and _LAST[0][1] == asked:
        return _LAST[0][2]
    cells = _asof_cells(snapshots, config, start=start, end=end)
    _LAST[:] = [(weakref.ref(snapshots, lambda _: _LAST.clear()), asked, cells)]
    return cells


def _asof_cells(
    snapshots: pd.DataFrame,
    config: ClientConfig,
    *,
    start: date | None,
    end: date | None,
) -> _Cells:
    as_of = _micros(snapshots[AS_OF])
    first, last = _window(as_of, config.timezone, start, end)
    lookback = math.ceil(config.staleness_hours / 24) + 1
    days = pd.date_range(first, last, freq="D")
    midnights = _local_midnights(
        first - pd.Timedelta(days=lookback), len(days) + lookback, config.timezone
    )
    n_buckets = len(midnights) - 1
    bucket = np.searchsorted(midnights, as_of, side="right")
    bucket -= 1  # in place, as below: each 12M-row temporary is memory to fault in
    keys, key_code = _factorize_keys(snapshots, (bucket >= lookback) & (bucket < n_buckets))
    systems, system_code = _factorize_systems(snapshots[SYSTEM], config)
    rows = np.flatnonzero((bucket >= 0) & (bucket < n_buckets) & (key_code >= 0))
    shape = (n_buckets, len(systems), len(keys))
    offset = as_of[rows]
    offset -= midnights[bucket[rows]]
    cell = bucket if len(rows) == len(bucket) else bucket[rows]  # every row in: no copy
    del bucket
    cell *= shape[1]
    cell += system_code[rows]
    cell *= shape[2]
    cell += key_code[rows]
    del key_code
    row = _last_per_cell(cell, rows, offset, shape)
    del cell, offset, rows
    _forward_fill(row, as_of, midnights[1:] - 1, config.staleness_hours)
    return _Cells(keys, systems, days, row[lookback:].transpose(1, 2, 0), as_of, system_code)


def _micros(stamps: pd.Series) -> np.ndarray:
    if not isinstance(stamps.dtype, pd.DatetimeTZDtype):
        raise InputError(
            f"snapshots column {AS_OF!r} has dtype {stamps.dtype}; expected a UTC timestamp "
            "(datetime64[us, UTC]); pass the frame through driftkit.schema.conform(df, 'snapshots')"
        )
    if stamps.dtype.unit != "us":
        stamps = stamps.dt.as_unit("us")
    return np.asarray(stamps.array.asi8)


def _window(
    as_of: np.ndarray, tz: str, start: date | None, end: date | None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    if (start is None or end is None) and len(as_of) == 0:
        raise InputError(
            "snapshots table is empty: no day to align on; load snapshots or pass start and end"
        )
    local = pd.to_datetime([as_of.min(), as_of.max()] if len(as_of) else [0, 0], unit="us")
    local = local.tz_localize("UTC").tz_convert(tz).tz_localize(None).normalize()
    first = pd.Timestamp(start) if start is not None else local[0]
    last = pd.Timestamp(end) if end is not None else local[1]
    if last < first:
        raise InputError(f"window end {last.date()} is before its start {first.date()}; swap them")
    return first, last


def _local_midnights(first: pd.Timestamp, count: int, tz: str) -> np.ndarray:
    """UTC µs of local midnight for ``count + 1`` consecutive days from ``first`` (DST-aware)."""
    naive = pd.date_range(first, periods=count + 1, freq="D")
    local = naive.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return np.asarray(local.tz_convert("UTC").as_unit("us").asi8)


def _factorize_keys(
    snapshots: pd.DataFrame, in_window: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Key codes sorted by (sku, location) for keys with a snapshot in the window (else −1)."""
    sku_code, skus = _sorted_codes(snapshots[SKU])
    loc_code, locations = _sorted_codes(snapshots[LOCATION])
    n_loc = max(len(locations), 1)
    pair = sku_code * n_loc  # a new array: the cached codes stay untouched
    pair += loc_code
    del sku_code, loc_code
    n_pairs = len(skus) * n_loc
    if n_pairs <= max(8 * len(pair), DENSE_KEYS):
        keep = np.bincount(pair[in_window], minlength=n_pairs) > 0
        remap = np.full(n_pairs, -1, dtype=np.int64)
        remap[keep] = np.arange(int(keep.sum()))
        code, pairs = remap[pair], np.flatnonzero(keep)
    else:  # too many sku × location combinations for a dense table: sort instead
        pairs = np.unique(pair[in_window])
        code = np.searchsorted(pairs, pair)
        found = pairs[np.minimum(code, len(pairs) - 1)] == pair if len(pairs) else False
        code = np.where(found, code, -1)
    keys = pd.DataFrame(
        {
            SKU: pd.Series(skus[pairs // n_loc], dtype="str"),
            LOCATION: pd.Series(locations[pairs % n_loc], dtype="str"),
        }
    )
    return keys, code


def _sorted_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``column`` whose order follows the sorted unique values."""
    codes, names = sorted_codes(column)
    if len(codes) and codes.min() < 0:
        raise InputError(
            f"snapshots column {column.name!r} has empty values; every snapshot needs a "
            f"{column.name}; pass the frame through driftkit.schema.conform(df, 'snapshots')"
        )
    return codes, names


def _factorize_systems(
    column: pd.Series, config: ClientConfig
) -> tuple[tuple[str, ...], np.ndarray]:
    code, found = sorted_codes(column)
    seen = [str(s) for s in found]
    ordered = [s for s in config.systems if s in seen or s == config.authority]
    if config.authority and config.authority not in ordered:
        ordered.append(config.authority)
    ordered += [s for s in seen if s not in ordered]
    small = np.int8 if len(ordered) < 128 else np.int64  # one per snapshot row: keep it small
    position = np.array([ordered.index(s) for s in seen], dtype=small)
    return tuple(ordered), position[code]


def _last_per_cell(
    cell: np.ndarray, rows: np.ndarray, offset: np.ndarray, shape: tuple[int, int, int]
) -> np.ndarray:
    """Row of the latest snapshot per cell (ties: the later row in input order); ``offset``
    is overwritten."""
    row_bits = max(int(rows.max(initial=0)).bit_length(), 1)
    best = np.full(int(np.prod(shape)), -1, dtype=np.int64)
    if offset.size and offset.max() < 2 ** (62 - row_bits):
        offset <<= row_bits
        offset |= rows
        np.maximum.at(best, cell, offset)
        found = best >= 0
        best[found] &= (1 << row_bits) - 1
    else:
        order = np.lexsort((rows, offset, cell))
        tail = np.r_[cell[order][1:] != cell[order][:-1], True] if len(order) else order
        best[cell[order][tail]] = rows[order][tail]
    return best.reshape(shape)


def _forward_fill(
    row: np.ndarray, as_of: np.ndarray, day_end: np.ndarray, staleness_hours: float
) -> None:
    """In place along days (axis 0): carry each snapshot forward while younger than staleness.

    A carried snapshot that turns stale stays stale on later days, so absent days carry NO_ROW.
    """
    oldest = day_end - round(staleness_hours * US_PER_HOUR)
    for day in range(row.shape[0]):  # days, not keys: each step is vectorized over all keys
        today = row[day]
        if day:
            empty = today < 0
            today[empty] = row[day - 1][empty]
        present = today >= 0
        stale = present.copy()
        stale[present] = as_of[today[present]] <= oldest[day]
        today[stale] = NO_ROW
