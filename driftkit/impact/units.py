"""Records kept in other units, converted to eaches before the count list compares them.

A system that records a SKU in packs (an ERP showing 0.12 where the 3PL shows 3 units in
packs of 24) disagrees with every other record by the pack ratio, not by units a count
would find.  The count list compares records with each other (the authority, or the record
standing in for it: :mod:`driftkit.impact.standin`), so such a record is converted to
eaches first (:func:`unit_factors`, :func:`in_eaches`), and skipped where the attribution
says its units differ (a ``unit_mismatch`` finding on the key) but no pack ratio converts
it.  The headline numbers keep DESIGN §2's rule (quantities in eaches after *declared*
conversions only) and read the records as exported.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from driftkit.causes.unit_detectors import HALF_EACH, evident_packs
from driftkit.drift.align import Grid
from driftkit.impact.stock import Stock
from driftkit.schema import LOCATION, PACK_SIZE, SKU, SYSTEM, Cause


def reference_values(grid: Grid, system: int) -> np.ndarray:
    """``[key, day]`` the values ``system`` is compared with: the authority's where it has
    one, else the first other system's (grid order) that has one (as the unit detector)."""
    order = [grid.index(grid.authority)] if grid.authority in grid.systems else []
    order += [i for i in range(len(grid.systems)) if i not in order and i != system]
    ref = np.full(grid.values.shape[1:], np.nan)
    for other in order:  # a handful of systems, not data rows
        ref = np.where(np.isnan(ref), grid.values[other], ref)
    return ref


def ratio_factor(mine: np.ndarray, ref: np.ndarray, pack: np.ndarray) -> np.ndarray:
    """Per key: the factor that turns ``mine`` into eaches, from the pack size ``pack``.

    ``p`` when ``mine`` × p is within half an each of ``ref`` (the record is in packs),
    ``1/p`` when ``mine`` is within half an each of ``ref`` × p (eaches counted as packs),
    each on at least half of the days where both are non-zero and at least two (the unit
    detector's rule, ``docs/causes.md``); else 1.
    """
    both = ~np.isnan(mine) & ~np.isnan(ref) & (mine != 0) & (ref != 0)
    p = pack[:, None]
    needed = np.maximum(2.0, 0.5 * both.sum(axis=1))
    in_packs = (both & (np.abs(mine * p - ref) <= HALF_EACH)).sum(axis=1) >= needed
    as_packs = (both & (np.abs(mine - ref * p) <= HALF_EACH)).sum(axis=1) >= needed
    usable = pack > 1
    factor = np.where(usable & as_packs, 1.0 / np.where(usable, pack, 1.0), 1.0)
    return np.where(usable & in_packs, pack, factor)


def unit_mismatched(grid: Grid, findings: pd.DataFrame | None) -> np.ndarray:
    """``[system, key]``: True where a ``unit_mismatch`` finding names the system and key."""
    flagged = np.zeros(grid.values.shape[:2], dtype=bool)
    if findings is None or findings.empty:
        return flagged
    found = findings[findings["cause"] == str(Cause.UNIT_MISMATCH)]
    keys = pd.MultiIndex.from_frame(grid.keys[[SKU, LOCATION]])
    key = keys.get_indexer(pd.MultiIndex.from_frame(found[[SKU, LOCATION]]))
    system = pd.Index(grid.systems).get_indexer(pd.Index(found[SYSTEM]))
    hit = (key >= 0) & (system >= 0)
    flagged[system[hit], key[hit]] = True
    return flagged


def unit_factors(grid: Grid, catalog: pd.DataFrame, findings: pd.DataFrame | None) -> np.ndarray:
    """``[system, key]``: the factor that turns each system's record of a key into eaches.

    A record in the catalog's pack ratio to its reference (:func:`reference_values`,
    :func:`ratio_factor`) is converted (× p in packs, ÷ p eaches counted as packs).  Where
    the catalog gives no pack size, a record with a ``unit_mismatch`` finding is converted
    by the steady integer ratio evident from the values
    (:func:`~driftkit.causes.unit_detectors.evident_packs`).  A record with a finding that
    no ratio converts is NaN: its units are unknown, so it is skipped.  The authority is 1.

    Returns
    -------
    numpy.ndarray
        float ``[system, key]``: 1 (eaches), p, 1/p or NaN (skipped).
    """
    packs = catalog.drop_duplicates(SKU).set_index(SKU)[PACK_SIZE]
    known = grid.keys[SKU].map(packs).astype(float).fillna(1.0).to_numpy()
    flagged = unit_mismatched(grid, findings)
    factor = np.ones(grid.values.shape[:2])
    for s in range(len(grid.systems)):  # a handful of systems, not data rows
        if grid.systems[s] == grid.authority:
            continue
        ref = reference_values(grid, s)
        evident = np.ones(len(known))  # only flagged keys are looked at: the rest stay 1
        evident[flagged[s]] = evident_packs(grid.values[s][flagged[s]], ref[flagged[s]])
        factor[s] = ratio_factor(grid.values[s], ref, np.where(known > 1, known, evident))
    return np.where(flagged & (factor == 1.0), np.nan, factor)


def in_eaches(stock: Stock, grid: Grid, factor: np.ndarray) -> tuple[Stock, Grid]:
    """``stock`` and ``grid`` with every record × its :func:`unit_factors` factor.

    A converted record is rounded to the nearest each (its pack count carries the export's
    rounding: 0.12 packs of 24 is 2.88 units); drift is re-taken against the authority.
    """
    if np.all(factor == 1.0):
        return stock, grid
    values = _scaled(grid.values, factor)
    rows = {name: i for i, name in enumerate(grid.systems)}
    authority = values[rows[grid.authority]]
    drift = values[[rows[s] for s in stock.drift_systems]] - authority[None]
    records = (
        _scaled(stock.records, factor[[rows[s] for s in stock.record_systems]])
        if stock.records is not None
        else None
    )
    return (
        replace(
            stock,
            selling=_scaled(stock.selling, factor[[rows[s] for s in stock.selling_systems]]),
            drift=drift,
            records=records,
            others=np.fmax.reduce(records, axis=0) if records is not None else stock.others,
        ),
        replace(grid, values=values),
    )


def _scaled(values: np.ndarray, factor: np.ndarray) -> np.ndarray:
    converted = values * factor[..., None]
    return np.where((factor != 1.0)[..., None], np.round(converted), converted)
