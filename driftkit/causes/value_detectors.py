"""Cause detectors on the daily grid of values: unit mismatches.

They read the aligned values and the roll-forward residuals rather than single events and
return findings of one cause each (rules in ``docs/causes.md``).  Values that revert after
a count are in :mod:`driftkit.causes.stale_detectors`; changes with no event in
:mod:`driftkit.causes.unrecorded`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.context import (
    CONFIDENCE,
    _Context,
    _day_text,
    _empty,
    _findings,
    _num,
    _units_text,
)
from driftkit.causes.unit_detectors import evident_packs
from driftkit.drift.align import Grid
from driftkit.drift.pairs import SLACK
from driftkit.schema import LOCATION, SKU, SYSTEM, Cause


def unit_ratios(ctx: _Context) -> pd.DataFrame:
    """``unit_mismatch``: a system's value ≈ the reference ÷ or × the pack size.

    A (system, key) is flagged when, against the authority (or, on keys the authority
    does not hold, against every other system: the odd one out), at least half of the
    days with a non-zero reference, and at least two, disagree by the pack-size ratio
    (within half a unit) or by a sub-unit rounding residue of a fractional value.  Where
    the catalog gives no pack size, a steady integer ratio to the reference on every
    day is taken as the pack size (:func:`~driftkit.causes.unit_detectors.evident_packs`),
    and the evidence says so.
    """
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    values = grid.values
    known = ctx.pack(grid.keys[SKU]).to_numpy()
    ref = np.stack([_reference_for(values, s, grid) for s in range(len(grid.systems))])
    auth = grid.systems.index(grid.authority) if grid.authority in grid.systems else None
    packs = _packs(values, ref, known, auth)
    flagged = np.zeros(values.shape[:2], dtype=bool)
    cells = np.zeros(values.shape, dtype=bool)
    for s in range(len(grid.systems)):  # a handful of systems, not data rows
        if s == auth:
            continue
        odd, hits = _odd_units(values, s, auth, packs[s][None, :, None], tol)
        flagged[s], cells[s] = odd, hits
    return _unit_findings(ctx, flagged, cells, values, ref, (packs, packs > known[None, :]))


def _packs(values: np.ndarray, ref: np.ndarray, known: np.ndarray, auth: int | None) -> np.ndarray:
    """``[system, key]``: the catalog's pack size, else the one evident from the values.

    The authority is never in other units, so its row keeps the catalog's sizes; only
    keys without a catalog size (≤ 1) are searched for an evident one.
    """
    packs = np.repeat(known[None, :].astype(float), values.shape[0], axis=0)
    unknown = np.flatnonzero(known <= 1)
    rows: slice | np.ndarray = slice(None) if len(unknown) == len(known) else unknown
    for s in range(values.shape[0]):  # a handful of systems, not data rows
        if s != auth and len(unknown):
            packs[s, rows] = evident_packs(values[s, rows], ref[s, rows])
    return packs


def _ratio_cells(
    mine: np.ndarray, other: np.ndarray, pack: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: (compared, pack-ratio or rounding residue, disagreeing)."""
    both = ~np.isnan(mine) & ~np.isnan(other) & (other != 0)
    differ = both & (np.abs(mine - other) > tol)
    ratio = (pack > 1) & (
        (np.abs(mine * pack - other) <= 0.5) | (np.abs(mine - other * pack) <= 0.5)
    )
    residue = (np.abs(mine - other) < 1) & (mine % 1 != 0)
    return both, differ & (ratio | residue), differ


def _odd_units(
    values: np.ndarray, s: int, auth: int | None, pack: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Whether system ``s`` is in other units than the authority (on keys where it has
    values) or else than every other system, per key; and the cells that show it."""
    pack2 = pack[0]
    verdict = np.ones(values.shape[1], dtype=bool)
    evidence = np.zeros(values.shape[1:], dtype=bool)
    seen = np.zeros(values.shape[1], dtype=bool)
    others = [o for o in range(values.shape[0]) if o != s and o != auth]
    every: slice | np.ndarray = slice(None)
    unheld = every if auth is None else np.flatnonzero(np.isnan(values[auth]).all(axis=1))
    for o in ([auth] if auth is not None else []) + others:
        use = every if o == auth else unheld  # others judge the keys the authority lacks
        both, odd, _ = _ratio_cells(values[s, use], values[o, use], pack2[use], tol)
        n_both, n_odd = both.sum(axis=1), odd.sum(axis=1)
        present = n_both > 0
        verdict[use] &= ~present | (n_odd >= np.maximum(2, 0.5 * n_both))
        evidence[use] |= odd & present[:, None]
        seen[use] |= present
    return verdict & seen, evidence


def _reference_for(values: np.ndarray, s: int, grid: Grid) -> np.ndarray:
    """The values system ``s`` is compared with in evidence: the authority where it has a
    value, else the first other system (grid order) that has one."""
    order = [grid.systems.index(grid.authority)] if grid.authority in grid.systems else []
    order += [i for i in range(len(grid.systems)) if i not in order]
    ref = np.full(values.shape[1:], np.nan)
    for other in (i for i in order if i != s):  # a handful of systems, not data rows
        ref = np.where(np.isnan(ref), values[other], ref)
    return ref


def _unit_findings(
    ctx: _Context,
    flagged: np.ndarray,
    cells: np.ndarray,
    values: np.ndarray,
    ref: np.ndarray,
    packs: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame:
    """One ``unit_mismatch`` finding per flagged (system, key), from its matching cells.

    ``packs``: the pack size per (system, key) and whether it was inferred (not in the
    catalog).
    """
    grid = ctx.grid
    s, k = np.nonzero(flagged)
    if len(s) == 0:
        return _empty(Cause.UNIT_MISMATCH)
    hits = cells[s, k]
    first = hits.argmax(axis=1)
    last = hits.shape[1] - 1 - hits[:, ::-1].argmax(axis=1)
    found = pd.DataFrame(
        {
            SKU: grid.keys[SKU].to_numpy()[k],
            LOCATION: grid.keys[LOCATION].to_numpy()[k],
            SYSTEM: np.asarray(grid.systems, dtype=object)[s],
            "first_day": grid.days[first],
            "last_day": grid.days[last],
            "shown": values[s, k, last],
            "ref": ref[s, k, last],
            "pack": packs[0][s, k],
            "inferred": packs[1][s, k],
            "n": hits.sum(axis=1),
            "of": (~np.isnan(values[s, k]) & ~np.isnan(ref[s, k])).sum(axis=1),
        }
    )
    found["units"] = found["shown"] - found["ref"]
    evidence = (
        found[SYSTEM]
        + " shows "
        + _num(found["shown"])
        + " where the reference shows "
        + _num(found["ref"])
        + " on "
        + _day_text(found["last_day"])
        + " (pack size "
        + _num(found["pack"])
        + np.where(found["inferred"], ", not in the catalog but evident from the ratio", "")
        + "); the same ratio or rounding on "
        + found["n"].astype(str)
        + " of "
        + found["of"].astype(str)
        + " days; "
        + _units_text(found["units"])
    )
    out = found.assign(
        counterpart=ctx.versus_authority(found[SYSTEM]),
        first_seen=ctx.start_of(found["first_day"]),
        last_seen=ctx.start_of(found["last_day"]),
        confidence=CONFIDENCE["unit_ratio"],
        evidence=evidence,
    )
    return _findings(out, Cause.UNIT_MISMATCH)
