"""Stock records on the grid and what they show: phantom stockouts, lost sales, oversells.

Every array is ``[..., key, day]`` on the grid of :func:`driftkit.drift.align.align`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import Grid, require_snapshots
from driftkit.drift.asof import asof_cells
from driftkit.drift.measures import measured_values
from driftkit.schema import AVAILABLE, COMMITTED, LOCATION, SELLING_KINDS, SKU, Measure, SystemKind

#: System kinds that hold the stock of their location (a warehouse, a third-party logistics
#: provider): their shipments count first for demand, their records stand in first for an
#: absent authority in the count list.
HOLDER_KINDS = frozenset({SystemKind.WMS, SystemKind.THREE_PL})


@dataclass(frozen=True)
class Stock:
    """Stock records on the grid that the cost model compares, all ``[..., key, day]``.

    Attributes
    ----------
    authority
        The authority's sellable stock: its ``available`` where known, else its ``on_hand``.
    selling
        ``[selling system, key, day]``: each storefront/marketplace's ``available`` (its
        compared measure where available is unknown); NaN = absent.
    selling_systems
        Names of the first axis of ``selling``.
    drift
        ``[non-authority system, key, day]``: v_s − v_authority of the grid's measure.
    drift_systems
        Names of the first axis of ``drift``.
    others
        ``[key, day]``: the largest sellable stock recorded by a non-authority system that
        does not sell (ERP, 3PL); NaN where none records the key.
    records
        ``[record, key, day]``: the sellable stock of each non-authority system that does
        not sell, stock holders (:data:`HOLDER_KINDS`: WMS, 3PL) first; what may stand in
        for the authority in the count list where it does not record a key
        (:mod:`driftkit.impact.standin`).
    record_systems
        Names of the first axis of ``records``.
    """

    authority: np.ndarray
    selling: np.ndarray
    selling_systems: tuple[str, ...]
    drift: np.ndarray
    drift_systems: tuple[str, ...]
    others: np.ndarray | None = None
    records: np.ndarray | None = None
    record_systems: tuple[str, ...] = ()


def stock_records(snapshots: pd.DataFrame, grid: Grid, config: ClientConfig) -> Stock:
    """The authority's sellable stock, the selling systems' available and drift vs authority.

    ``available`` is aligned with the same as-of rule as ``grid`` (align on a config copy
    whose measure is ``available``); where a system's available is unknown its grid value
    (the compared measure) stands in.
    """
    available = _measure_on(grid, snapshots, config, Measure.AVAILABLE)
    sellable = np.where(np.isnan(available), grid.values, available)
    authority = grid.index(grid.authority)
    kinds = {s: c.kind for s, c in config.systems.items()}
    selling = tuple(s for s in grid.systems if kinds.get(s) in SELLING_KINDS)
    others = tuple(s for s in grid.systems if s != grid.authority)
    rows = [grid.index(s) for s in others]
    planning = [grid.index(s) for s in others if s not in selling]
    records = sorted(
        set(others) - set(selling), key=lambda s: (kinds.get(s) not in HOLDER_KINDS, grid.index(s))
    )
    return Stock(
        authority=sellable[authority],
        selling=sellable[[grid.index(s) for s in selling]],
        selling_systems=selling,
        drift=grid.values[rows] - grid.values[authority][None],
        drift_systems=others,
        others=_fmax(sellable[planning]) if planning else None,
        records=sellable[[grid.index(s) for s in records]] if records else None,
        record_systems=tuple(records),
    )


def _fmax(values: np.ndarray) -> np.ndarray:
    """Max over the first axis ignoring NaN (NaN where all are NaN), without warnings."""
    return np.asarray(np.fmax.reduce(values, axis=0))


def _measure_on(
    grid: Grid, snapshots: pd.DataFrame, config: ClientConfig, measure: Measure
) -> np.ndarray:
    """``measure`` aligned on ``grid``'s systems, keys and days (NaN where absent).

    The rows deciding each cell are the grid's own (:func:`~driftkit.drift.asof.asof_cells`
    keeps them for the audit), so only the measure is read again: what ``align`` on a config
    copy whose measure is ``measure`` gives, without its notes.
    """
    if config.measure == measure:
        return grid.values
    if _unknown(snapshots, measure):
        return np.full(grid.values.shape, np.nan)
    require_snapshots(snapshots)
    start, end = grid.days[0].date(), grid.days[-1].date()
    cells = asof_cells(
        snapshots, dataclasses.replace(config, measure=measure), start=start, end=end
    )
    values = measured_values(snapshots, measure)[1]
    out = np.full(grid.values.shape, np.nan)
    key_at = _key_at(grid.keys, cells.keys)
    found = key_at >= 0
    for position, system in enumerate(cells.systems):  # a handful of systems, not data rows
        if system in grid.systems:
            chosen = values[np.maximum(cells.row[position], 0)]
            chosen[cells.row[position] < 0] = np.nan
            out[grid.index(system), key_at[found]] = chosen[found]
    return out


def _unknown(snapshots: pd.DataFrame, measure: Measure) -> bool:
    """Whether ``measure`` is taken as unknown on every row: a frame without its column nor
    ``available``, or one where no row gives it, as reported or derived
    (:func:`~driftkit.drift.measures.measured_values`: every derivation adds or subtracts
    ``committed``, so with it and ``measure`` empty on every row nothing is derived)."""
    if measure not in snapshots.columns and AVAILABLE not in snapshots.columns:
        return True
    empty = [c not in snapshots.columns or snapshots[c].isna().all() for c in (measure, COMMITTED)]
    return all(empty)


def _key_at(keys: pd.DataFrame, other: pd.DataFrame) -> np.ndarray:
    """Each of ``other``'s keys' position in ``keys`` (−1 where absent); no lookup when
    they are the same table (the grid's keys are its as-of cells' keys)."""
    if other is keys:
        return np.arange(len(keys))
    return np.asarray(_key_index(keys).get_indexer(_key_index(other)))


def _key_index(keys: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([keys[SKU].to_numpy(), keys[LOCATION].to_numpy()])


def phantom_stockouts(stock: Stock, tolerance: float) -> np.ndarray:
    """``[key, day]``: a selling system shows ≤ 0 available while the authority holds stock.

    The authority holds stock when its sellable stock (available, else on_hand) exceeds
    ``tolerance``.  Absent cells are never phantom.
    """
    shows_none = (stock.selling <= 0).any(axis=0) if len(stock.selling_systems) else False
    return np.asarray(shows_none & (stock.authority > tolerance))


def censored_days(stock: Stock, tolerance: float) -> np.ndarray:
    """``[key, day]``: the key could not sell — a recorded stockout (authority stock ≤
    ``tolerance``) or a phantom stockout; its sales there say nothing about demand."""
    return phantom_stockouts(stock, tolerance) | (stock.authority <= tolerance)


def suspected_phantom_stockouts(stock: Stock, tolerance: float) -> np.ndarray:
    """``[key, day]``: a selling system and the authority show ≤ 0, another record holds stock.

    The authority itself may be wrong (a receipt that reached the ERP but not the WMS):
    when a non-selling, non-authority record (ERP, 3PL) shows more than ``tolerance`` while
    the authority and a selling system show none, the day is a *suspected* phantom
    stockout.  Reported apart from the DESIGN §7 count.
    """
    if stock.others is None or not stock.selling_systems:
        return np.zeros(stock.authority.shape, dtype=bool)
    shows_none = (stock.selling <= 0).any(axis=0)
    return np.asarray(shows_none & (stock.authority <= tolerance) & (stock.others > tolerance))


def lost_demand(days: np.ndarray, unmet: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """``[key, day]`` units of demand a stockout turned away: min(unmet demand, stock held).

    ``unmet`` is the day's expected demand beyond what it sold
    (:func:`driftkit.impact.theory.unmet_demand`); a sale the stock could not have filled is
    not lost to the phantom stockout, so it is capped at the stock the holding record shows.
    0 outside ``days``.
    """
    served = np.fmin(unmet, np.maximum(np.nan_to_num(stock), 0.0))
    return np.where(days, served, 0.0)


def lost_units(
    days: np.ndarray, unmet: np.ndarray, stock: np.ndarray, walk_away: float
) -> np.ndarray:
    """Per key: walk-away share × Σ over ``days`` of :func:`lost_demand`."""
    return walk_away * lost_demand(days, unmet, stock).sum(axis=1)


def oversold_units(stock: Stock, expected: np.ndarray) -> np.ndarray:
    """``[key, day]`` expected units sold beyond the authority's available.

    Per selling system: max(0, min(demand of the day, its available) − max(authority, 0)),
    i.e. the part of the day's sales that the selling system lets through but the
    authority cannot fill; the largest over selling systems (they share one demand).
    """
    if not stock.selling_systems:
        return np.zeros_like(expected)
    allowed = np.fmin(expected[None], np.maximum(stock.selling, 0.0))
    beyond = allowed - np.maximum(stock.authority, 0.0)[None]
    return np.nan_to_num(np.nanmax(np.maximum(beyond, 0.0), axis=0, initial=0.0))


def held_stock(stock: Stock, phantom: np.ndarray) -> np.ndarray:
    """``[key, day]`` units the holding record shows: authority if phantom, else ERP/3PL."""
    return np.where(phantom, stock.authority, stock.others if stock.others is not None else 0)
