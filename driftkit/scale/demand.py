"""Demand over all buckets: the client's shipment days and its pooled weekday profile.

``impact.daily_shipments`` observes demand from the client's first to its last shipment
day and ``impact.weekday_index`` pools every key: both are decided here from per-bucket
parts, then every bucket's demand uses them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import Grid
from driftkit.impact.demand import _deduplicated, _source_per_key
from driftkit.impact.estimate import (
    HOLDER_KINDS,
    phantom_stockouts,
    snapshot_declines,
    stock_records,
)
from driftkit.impact.stock import _key_index
from driftkit.load.client import ClientData
from driftkit.scale.plan import DaySpan, Plan, Profile
from driftkit.schema import (
    KIND,
    LOCATION,
    OCCURRED_AT,
    QTY_DELTA,
    SKU,
    SYSTEM,
    EventKind,
)


def shipped_days(profiles: list[Profile]) -> DaySpan:
    """The client's first and last shipment day, over every bucket's (NaT when none)."""
    firsts = [p.shipped[0] for p in profiles if not pd.isna(p.shipped[0])]
    lasts = [p.shipped[1] for p in profiles if not pd.isna(p.shipped[1])]
    return (min(firsts), max(lasts)) if firsts else (pd.NaT, pd.NaT)


def shipments(
    events: pd.DataFrame, grid: Grid, config: ClientConfig
) -> tuple[np.ndarray, Any, Any]:
    """``impact.daily_shipments`` of one bucket: units per [key, day] and the first and last
    local shipment day (the observed days are decided over all buckets)."""
    out = np.zeros(grid.values.shape[1:])
    ships = events[events[KIND] == str(EventKind.SHIPMENT)]
    if ships.empty:
        return out, pd.NaT, pd.NaT
    holders = [s for s, c in config.systems.items() if c.kind in HOLDER_KINDS]
    preferred = (grid.authority, *[s for s in holders if s != grid.authority])
    key = _key_index(grid.keys).get_indexer(pd.MultiIndex.from_frame(ships[[SKU, LOCATION]]))
    ships = _deduplicated(ships.assign(_key=key)[key >= 0])
    source = _source_per_key(ships, preferred).reindex(ships["_key"]).to_numpy()
    ships = ships[ships[SYSTEM] == source]
    local = ships[OCCURRED_AT].dt.tz_convert(config.timezone).dt.tz_localize(None).dt.normalize()
    day = grid.days.get_indexer(pd.DatetimeIndex(local))
    units = np.abs(ships[QTY_DELTA].to_numpy(dtype=np.float64, na_value=np.nan))
    keep = (day >= 0) & ~np.isnan(units)
    np.add.at(out, (ships["_key"].to_numpy()[keep], day[keep]), units[keep])
    return out, local.min(), local.max()


def observed_units(
    events: pd.DataFrame, grid: Grid, plan: Plan, *, shipped: DaySpan
) -> tuple[np.ndarray, np.ndarray]:
    """``impact.observed_demand`` of one bucket with the client's shipment days."""
    if not plan.shipments:
        return snapshot_declines(grid.values[grid.index(grid.authority)])
    units, _, _ = shipments(events, grid, plan.config)
    observed = (grid.days >= shipped[0]) & (grid.days <= shipped[1])
    return units, np.broadcast_to(np.asarray(observed), units.shape)


def weekday_parts(data: ClientData, grid: Grid, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Per day, Σ over the bucket's keys of sellable observed units and key-days.

    With shipments the observed days are the client's first..last shipment day, not yet
    known: every day counts here and the combined sums are masked afterwards.
    """
    tolerance = plan.config.tolerance
    stock = stock_records(data.snapshots, grid, plan.config)
    censored = phantom_stockouts(stock, tolerance) | (stock.authority <= tolerance)
    everything = (pd.Timestamp.min, pd.Timestamp.max)
    units, observed = observed_units(data.events, grid, plan, shipped=everything)
    use = observed & ~censored
    return np.where(use, units, 0.0).sum(axis=0), use.sum(axis=0).astype(np.float64)


def weekday_profile(profiles: list[Profile], plan: Plan, shipped: DaySpan) -> np.ndarray:
    """``impact.weekday_index`` pooled over every bucket's keys."""
    days = plan.days
    units = np.sum([p.day_units for p in profiles if p.day_units is not None], axis=0)
    cells = np.sum([p.day_cells for p in profiles if p.day_cells is not None], axis=0)
    if plan.shipments:
        observed = np.asarray((days >= shipped[0]) & (days <= shipped[1]))
        units, cells = np.where(observed, units, 0.0), np.where(observed, cells, 0.0)
    weekday = days.day_of_week.to_numpy()
    sums = np.bincount(weekday, weights=units, minlength=7)
    counts = np.bincount(weekday, weights=cells, minlength=7)
    overall = sums.sum() / max(counts.sum(), 1)
    if overall <= 0 or (counts == 0).any():
        return np.ones(7)
    return np.asarray((sums / counts) / overall)
