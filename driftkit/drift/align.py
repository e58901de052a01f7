"""Alignment (DESIGN §5): every system's value per (sku, location, day) on one daily grid.

The value of system *s* for key *k* on local day *D* is the measure of *s*'s last snapshot
with ``as_of <= end of D`` and ``as_of > end of D - staleness_hours``; otherwise it is
*absent* (NaN, never 0).  *End of D* is the last microsecond before local midnight of D+1
in the client time zone, so day lengths follow DST (23 h / 25 h days).

Implementation (no per-key Python loops): keys and systems are factorized once, each
snapshot is placed in a local-day bucket by a binary search over the UTC instants of the
local midnights, the last snapshot per (system, key, day) is chosen with one ``maximum.at``
pass, and the as-of rule is a forward fill of "last bucket index" along the day axis
followed by one vectorized staleness test.  See ``docs/metrics.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from driftkit import schema
from driftkit.config import ClientConfig
from driftkit.errors import InputError
from driftkit.schema import AS_OF, AVAILABLE, COMMITTED, LOCATION, ON_HAND, SKU, SYSTEM, Measure

UNAVAILABLE = "unavailable"
DAY = "day"
US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000
NO_ROW = -1
DENSE_KEYS = 1 << 20  # sku × location combinations coded with a dense table up to this size


@dataclass(frozen=True)
class Grid:
    """Per-system values on a common daily grid.

    Attributes
    ----------
    keys
        Columns ``sku, location``; row *i* is key code *i*.  Every key with at least one
        snapshot in the window (any system, known measure or not).
    systems
        System ids; index *s* of ``values`` is ``systems[s]``.  Config order, authority
        always included, systems found only in the data appended in sorted order.
    days
        Local calendar days of the window (tz-naive midnights).
    values
        float64 ``[len(systems), len(keys), len(days)]``; NaN = absent.
    authority
        The system that owns quantity truth.
    notes
        Human-readable notes, at most one per system, about derived or missing measures.
    """

    keys: pd.DataFrame
    systems: tuple[str, ...]
    days: pd.DatetimeIndex
    values: np.ndarray
    authority: str
    notes: tuple[str, ...] = ()

    def frame(self, keys: np.ndarray | None = None) -> pd.DataFrame:
        """The grid in long form for the given key codes (all keys when None).

        Returns
        -------
        pandas.DataFrame
            Columns ``sku, location, day, system, value``; only present (non-absent) cells,
            ordered by key code, system, day.
        """
        codes = np.arange(len(self.keys)) if keys is None else np.asarray(keys, dtype=np.int64)
        block = self.values[:, codes, :]
        s, k, d = np.nonzero(~np.isnan(block))
        order = np.lexsort((d, s, k))
        s, k, d = s[order], k[order], d[order]
        picked = self.keys.iloc[codes[k]].reset_index(drop=True)
        return pd.DataFrame(
            {
                SKU: picked[SKU],
                LOCATION: picked[LOCATION],
                DAY: self.days[d],
                SYSTEM: pd.Series(np.asarray(self.systems, dtype=object)[s], dtype="str"),
                "value": block[s, k, d],
            }
        )

    def index(self, system: str) -> int:
        """Position of ``system`` on the first axis of ``values``."""
        return self.systems.index(system)


@dataclass(frozen=True)
class _Cells:
    """As-of result on the internal grid: chosen snapshot row per (system, key, day)."""

    keys: pd.DataFrame
    systems: tuple[str, ...]
    days: pd.DatetimeIndex
    row: np.ndarray  # int64 [S, K, D] (a view): deciding snapshot row, NO_ROW = absent
    as_of: np.ndarray  # int64 µs UTC per snapshot row
    system_code: np.ndarray  # int64 per snapshot row: index into ``systems``


def align(
    snapshots: pd.DataFrame,
    config: ClientConfig,
    *,
    start: date | None = None,
    end: date | None = None,
) -> Grid:
    """Place every system's ``config.measure`` on the daily grid by the as-of rule.

    Parameters
    ----------
    snapshots
        Canonical snapshots (DESIGN §2); an extra ``unavailable`` column is used when present.
    config
        Client config: ``timezone``, ``measure``, ``staleness_hours``, ``authority``, systems.
    start, end
        First and last local day of the window; default the first and last local day on
        which any system has a snapshot.

    Returns
    -------
    Grid
        ``values[system, key, day]`` (NaN = absent), the keys, systems, days and notes.
    """
    require_snapshots(snapshots)
    cells = asof_cells(snapshots, config, start=start, end=end)
    measure = Measure(config.measure)
    direct, values = measured_values(snapshots, measure)
    notes = _measure_notes(cells, direct, values, measure)
    chosen = np.ascontiguousarray(values[np.maximum(cells.row, 0)])
    chosen[cells.row < 0] = np.nan
    return Grid(cells.keys, cells.systems, cells.days, chosen, config.authority, notes)


def measured_values(snapshots: pd.DataFrame, measure: Measure) -> tuple[np.ndarray, np.ndarray]:
    """``measure`` of every snapshot row as reported, and derived by identity where missing.

    ``on_hand = available + committed + unavailable`` (only when an ``unavailable`` column
    is present and known); ``available = on_hand - committed`` (``- unavailable`` when
    known).  Returns ``(direct, values)``, both float64 with NaN = unknown.
    """
    direct = _column(snapshots, measure)
    missing = np.isnan(direct)
    if not missing.any():
        return direct, direct
    values = direct.copy()
    values[missing] = _derive(snapshots[missing], measure)
    return direct, values


def _column(snapshots: pd.DataFrame, name: str) -> np.ndarray:
    if name not in snapshots.columns:
        return np.full(len(snapshots), np.nan)
    return snapshots[name].to_numpy(dtype=np.float64, na_value=np.nan)


def _derive(snapshots: pd.DataFrame, measure: Measure) -> np.ndarray:
    committed = _column(snapshots, COMMITTED)
    unavailable = _column(snapshots, UNAVAILABLE)
    if measure == Measure.ON_HAND:
        return _column(snapshots, AVAILABLE) + committed + unavailable
    return _column(snapshots, ON_HAND) - committed - np.nan_to_num(unavailable)


def _measure_notes(
    cells: _Cells, direct: np.ndarray, values: np.ndarray, measure: Measure
) -> tuple[str, ...]:
    """One note per system whose measure had to be derived or stayed unknown."""
    n = len(cells.systems)
    rows = np.bincount(cells.system_code, minlength=n)
    derived = np.bincount(
        cells.system_code, weights=np.isnan(direct) & ~np.isnan(values), minlength=n
    )
    missing = np.bincount(cells.system_code, weights=np.isnan(values), minlength=n)
    return measure_notes(cells.systems, rows, derived.astype(int), missing.astype(int), measure)


def measure_notes(
    systems: Sequence[str],
    rows: np.ndarray,
    derived: np.ndarray,
    unknown: np.ndarray,
    measure: Measure,
) -> tuple[str, ...]:
    """The grid's notes about derived or unknown measures, from per-system row counts.

    Parameters
    ----------
    systems
        System names.
    rows, derived, unknown
        Per system (same order): snapshot rows, rows whose measure was derived, rows whose
        measure stayed unknown.
    measure
        The client's measure.

    Returns
    -------
    tuple[str, ...]
        One note per system with derived or unknown values.
    """
    identity = {
        Measure.ON_HAND: "available + committed + unavailable",
        Measure.AVAILABLE: "on_hand - committed",
    }[measure]
    notes = []
    for system, total, made, lost in zip(systems, rows, derived, unknown, strict=True):
        parts = []
        if made:
            parts.append(f"{measure} derived as {identity} for {made} of {total} snapshots")
        if lost:
            parts.append(
                f"{measure} unknown and not derivable for {lost} of {total} snapshots "
                "(absent on the days they decide)"
            )
        if parts:
            notes.append(f"{system}: " + "; ".join(parts))
    return tuple(notes)


def asof_cells(
    snapshots: pd.DataFrame,
    config: ClientConfig,
    *,
    start: date | None = None,
    end: date | None = None,
) -> _Cells:
    """The snapshot row deciding each (system, key, day) cell of the window (as-of rule)."""
    as_of = _micros(snapshots[AS_OF])
    first, last = _window(as_of, config.timezone, start, end)
    lookback = math.ceil(config.staleness_hours / 24) + 1
    days = pd.date_range(first, last, freq="D")
    midnights = _local_midnights(
        first - pd.Timedelta(days=lookback), len(days) + lookback, config.timezone
    )
    n_buckets = len(midnights) - 1
    bucket = np.searchsorted(midnights, as_of, side="right") - 1
    keys, key_code = _factorize_keys(snapshots, (bucket >= lookback) & (bucket < n_buckets))
    systems, system_code = _factorize_systems(snapshots[SYSTEM], config)
    rows = np.flatnonzero((bucket >= 0) & (bucket < n_buckets) & (key_code >= 0))
    shape = (n_buckets, len(systems), len(keys))
    cell = (bucket[rows] * shape[1] + system_code[rows]) * shape[2] + key_code[rows]
    offset = as_of[rows] - midnights[bucket[rows]]
    del bucket, key_code
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
    pair = sku_code * n_loc + loc_code
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
    codes, uniques = pd.factorize(column)
    if len(codes) and codes.min() < 0:
        raise InputError(
            f"snapshots column {column.name!r} has empty values; every snapshot needs a "
            f"{column.name}; pass the frame through driftkit.schema.conform(df, 'snapshots')"
        )
    names = np.asarray(uniques, dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], names[order]


def _factorize_systems(
    column: pd.Series, config: ClientConfig
) -> tuple[tuple[str, ...], np.ndarray]:
    code, found = pd.factorize(column, sort=True)
    seen = [str(s) for s in found]
    ordered = [s for s in config.systems if s in seen or s == config.authority]
    if config.authority and config.authority not in ordered:
        ordered.append(config.authority)
    ordered += [s for s in seen if s not in ordered]
    position = np.array([ordered.index(s) for s in seen], dtype=np.int64)
    return tuple(ordered), position[code]


def _last_per_cell(
    cell: np.ndarray, rows: np.ndarray, offset: np.ndarray, shape: tuple[int, int, int]
) -> np.ndarray:
    """Row of the latest snapshot per cell (ties: the later row in input order)."""
    row_bits = max(int(rows.max(initial=0)).bit_length(), 1)
    best = np.full(int(np.prod(shape)), -1, dtype=np.int64)
    if offset.size and offset.max() < 2 ** (62 - row_bits):
        np.maximum.at(best, cell, (offset << row_bits) | rows)
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


def require_snapshots(snapshots: pd.DataFrame) -> None:
    """Raise InputError when ``snapshots`` lacks a canonical column align needs."""
    missing = [c for c in (SYSTEM, SKU, LOCATION, AS_OF) if c not in snapshots.columns]
    if missing:
        raise InputError(
            f"snapshots table lacks columns {missing}; found {list(snapshots.columns)}; "
            f"expected the canonical columns {list(schema.SNAPSHOTS.names)}"
        )
