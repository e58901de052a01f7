"""Alignment (DESIGN §5): every system's value per (sku, location, day) on one daily grid.

The value of system *s* for key *k* on local day *D* is the measure of *s*'s last snapshot
with ``as_of <= end of D`` and ``as_of > end of D - staleness_hours``; otherwise it is
*absent* (NaN, never 0).  *End of D* is the last microsecond before local midnight of D+1
in the client time zone, so day lengths follow DST (23 h / 25 h days).

:func:`align` reads as its two steps: :mod:`driftkit.drift.asof` picks the snapshot that
decides each (system, key, day) cell, :mod:`driftkit.drift.measures` gives each snapshot
its measure (derived by identity where the export lacks it).  See ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from driftkit import schema
from driftkit.config import ClientConfig
from driftkit.drift.asof import asof_cells
from driftkit.drift.measures import _measure_notes, measured_values
from driftkit.errors import InputError
from driftkit.schema import AS_OF, LOCATION, SKU, SYSTEM, Measure

DAY = "day"


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
                SYSTEM: take_text(pd.Series(self.systems, dtype="str"), s),
                "value": block[s, k, d],
            }
        )

    def index(self, system: str) -> int:
        """Position of ``system`` on the first axis of ``values``."""
        return self.systems.index(system)


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


def require_snapshots(snapshots: pd.DataFrame) -> None:
    """Raise InputError when ``snapshots`` lacks a canonical column align needs."""
    missing = [c for c in (SYSTEM, SKU, LOCATION, AS_OF) if c not in snapshots.columns]
    if missing:
        raise InputError(
            f"snapshots table lacks columns {missing}; found {list(snapshots.columns)}; "
            f"expected the canonical columns {list(schema.SNAPSHOTS.names)}"
        )


def take_text(names: pd.Series, codes: np.ndarray) -> pd.Series:
    """``names[codes]`` as a text column (one Arrow take, no Python strings in between).

    Returns
    -------
    pandas.Series
        ``str`` dtype, one value per code, index 0..n−1.
    """
    return pd.Series(names.astype("str").array.take(np.asarray(codes, dtype=np.int64)))
