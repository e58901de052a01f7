"""The explorer's filter and the drift ranking the worst-first list and the search follow.

Private: the public surface is :mod:`driftkit.explorer` (``drift_ranking`` is re-exported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.drift.align import Grid


@dataclass(frozen=True)
class _Filter:
    """What the explorer is filtered to: a cause, systems, a day range (grid positions) and
    a location (``ANY_LOCATION`` for all)."""

    cause: str
    systems: tuple[str, ...]
    days: tuple[int, int]
    location: str


def _local_days(
    frame: pd.DataFrame, columns: tuple[str, str], timezone: str
) -> tuple[np.ndarray, np.ndarray]:
    """Two timestamp columns as local calendar days (naive ``datetime64``); empty when absent."""
    if len(frame) == 0 or any(c not in frame.columns for c in columns):
        return np.empty(0, dtype="datetime64[us]"), np.empty(0, dtype="datetime64[us]")
    days = [_as_local(frame[c], timezone).dt.normalize().to_numpy() for c in columns]
    return days[0], days[1]


def _as_local(stamps: pd.Series, timezone: str) -> pd.Series:
    """Timestamps as naive local times of ``timezone`` (naive input is taken as local)."""
    stamps = pd.to_datetime(stamps)
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        return stamps.dt.tz_convert(timezone).dt.tz_localize(None)
    return stamps


def drift_ranking(
    grid: Grid,
    tolerance: float = 0.0,
    *,
    systems: tuple[str, ...] | None = None,
    days: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Every key's drift over the window (or the chosen systems and days), worst first.

    ``drift_units`` sums, over the days, the disagreement of the day's present values: where
    the authority is present, Σ over the other systems of |value − authority value|; where it
    is absent, the largest disagreement among the present systems (max − min), so a key the
    authority does not hold still ranks by how far its other systems are apart.
    ``drifted_days`` counts days with at least two systems present whose max − min exceeds
    ``tolerance``.

    Parameters
    ----------
    grid
        The aligned values.
    tolerance
        Units within which two systems agree.
    systems, days
        Only these systems (default all) and the days ``days[0]..days[1]`` (grid positions,
        both included; default the whole window).

    Returns
    -------
    pandas.DataFrame
        Columns ``code, sku, location, drift_units, drifted_days``; sorted by drift_units,
        then drifted_days (descending), then key code.
    """
    chosen = [grid.index(s) for s in grid.systems if systems is None or s in systems]
    lo, hi = days if days is not None else (0, len(grid.days) - 1)
    values = grid.values[chosen, :, lo : hi + 1]
    present = (~np.isnan(values)).sum(axis=0) >= 2
    with np.errstate(invalid="ignore"):
        spread = np.where(
            present, np.fmax.reduce(values, axis=0) - np.fmin.reduce(values, axis=0), 0
        )
    cells = spread
    if grid.authority in grid.systems and grid.index(grid.authority) in chosen:
        at = chosen.index(grid.index(grid.authority))
        authority = values[at]
        versus = np.nansum(np.abs(np.delete(values, at, axis=0) - authority), axis=0)
        cells = np.where(np.isnan(authority), spread, versus)
    units = cells.sum(axis=1)
    drifted = (present & (spread > tolerance)).sum(axis=1)
    code = np.lexsort((np.arange(len(units)), -drifted, -units))
    ranked = grid.keys.iloc[code].reset_index(drop=True)
    ranked.insert(0, "code", code)
    return ranked.assign(drift_units=units[code], drifted_days=drifted[code])
