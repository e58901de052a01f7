"""The compared measure of every snapshot, as reported or derived by identity.

A client compares ``on_hand`` or ``available``; an export that lacks it gets it from the
other columns (``on_hand = available + committed + unavailable``, ``available = on_hand -
committed``).  :func:`measured_values` gives both, :func:`measure_notes` writes the grid's
notes about what had to be derived or stayed unknown.  See ``docs/metrics.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from driftkit.drift.asof import _Cells
from driftkit.schema import AVAILABLE, COMMITTED, ON_HAND, Measure

UNAVAILABLE = "unavailable"

#: The snapshot columns :func:`measured_values` reads.
MEASURED = [ON_HAND, AVAILABLE, COMMITTED, UNAVAILABLE]


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
    values[missing] = _derive(snapshots, measure)[missing]  # row-wise: no frame copy
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
    counts = measure_counts(cells.system_code, len(cells.systems), direct, values)
    return measure_notes(cells.systems, *counts, measure)


def measure_counts(
    system: np.ndarray, n: int, direct: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per system code ``0..n−1``: snapshot rows, rows whose measure was derived, rows whose
    measure stayed unknown (``direct, values`` from :func:`measured_values`).

    Returns
    -------
    tuple of numpy.ndarray
        ``(rows, derived, unknown)``, int64, ``n`` each.
    """
    rows = np.bincount(system, minlength=n)
    if values is direct and not np.isnan(direct).any():  # nothing derived, nothing unknown
        return rows, np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    derived = np.bincount(system[np.isnan(direct) & ~np.isnan(values)], minlength=n)
    unknown = np.bincount(system[np.isnan(values)], minlength=n)
    return rows, derived, unknown


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
