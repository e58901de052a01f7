"""Cause detectors on the daily grid of values: reverted counts, unit mismatches, residuals.

They read the aligned values and the roll-forward residuals rather than single events and
return findings of one cause each (rules in ``docs/causes.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.context import _Context, _empty, _findings, _num, _units_text
from driftkit.causes.match import APPLIED_AT
from driftkit.drift.align import Grid
from driftkit.drift.compare import SLACK
from driftkit.schema import COUNTED_AT, KIND, LOCATION, SKU, SYSTEM, Cause, EventKind


def _grid_index(ctx: _Context, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(system index, key index) in the grid of each row; −1 where not on the grid."""
    grid = ctx.grid
    key = pd.MultiIndex.from_frame(grid.keys[[SKU, LOCATION]]).get_indexer(
        pd.MultiIndex.from_frame(frame[[SKU, LOCATION]])
    )
    return pd.Index(grid.systems).get_indexer(pd.Index(frame[SYSTEM])), key


def _residual_array(ctx: _Context) -> np.ndarray:
    """Roll-forward residuals on the grid's shape (NaN where unknown)."""
    grid, res = ctx.grid, ctx.residuals
    out = np.full(grid.values.shape, np.nan)
    s, k = _grid_index(ctx, res)
    d = grid.days.get_indexer(pd.DatetimeIndex(res["day"]))
    ok = (s >= 0) & (k >= 0) & (d >= 0)
    out[s[ok], k[ok], d[ok]] = res["residual"].to_numpy(dtype=float)[ok]
    return out


def _count_days(ctx: _Context, matches: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(key index, day index) of every counted key and local day on the grid."""
    counted = pd.concat(
        [
            ctx.counts[[SKU, LOCATION]].assign(day=ctx.day(ctx.counts[COUNTED_AT])),
            matches.loc[matches[KIND] == str(EventKind.COUNT), [SKU, LOCATION]].assign(
                day=ctx.day(matches.loc[matches[KIND] == str(EventKind.COUNT), APPLIED_AT])
            ),
        ]
    ).drop_duplicates()
    _, key = _grid_index(ctx, counted.assign(**{SYSTEM: ctx.authority}))
    day = ctx.grid.days.get_indexer(pd.DatetimeIndex(counted["day"]))
    ok = (key >= 0) & (day >= 1)
    return key[ok], day[ok]


def reverted_counts(ctx: _Context, stale: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """``stale_overwrite``: a value jumps back to its pre-count level with no event.

    After a count on day c changed system *s*'s value (pre = day c−1, post = day c), a
    later day within ``revert_days`` whose value equals pre again, moved from the day
    before, with a non-zero residual.  Days already explained by a stale sync are skipped,
    and so is the authority (syncs flow out of it, not into it).
    """
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    key, day = _count_days(ctx, matches)
    values, residual = grid.values, _residual_array(ctx)
    n_days = values.shape[2]
    offsets = np.arange(1, ctx.rules.revert_days + 1)
    later = day[:, None] + offsets[None, :]
    inside = later < n_days
    later = np.minimum(later, n_days - 1)
    k2 = np.broadcast_to(key[:, None], later.shape)
    pre, post = values[:, key, day - 1][:, :, None], values[:, key, day][:, :, None]
    now, before = values[:, k2, later], values[:, k2, later - 1]
    hit = inside[None] & (np.abs(pre - post) > tol) & (np.abs(now - pre) <= tol)
    hit &= (np.abs(now - before) > tol) & (
        np.abs(residual[:, k2, later]) > tol + ctx.rules.residual_slack
    )
    if grid.authority in grid.systems:  # the authority is the source of syncs, not a target
        hit[grid.systems.index(grid.authority)] = False
    s, i, r = np.nonzero(hit)
    found = pd.DataFrame(
        {
            SKU: grid.keys[SKU].to_numpy()[key[i]],
            LOCATION: grid.keys[LOCATION].to_numpy()[key[i]],
            SYSTEM: np.asarray(grid.systems, dtype=object)[s],
            "count_day": grid.days[day[i]],
            "day": grid.days[later[i, r]],
            "pre": pre[s, i, 0],
            "post": post[s, i, 0],
            "units": residual[s, key[i], later[i, r]],
        }
    ).drop_duplicates([SYSTEM, SKU, LOCATION, "day"])
    found = _not_near(found, stale, ctx)
    if found.empty:
        return _empty(Cause.STALE_OVERWRITE)
    evidence = (
        found[SYSTEM]
        + " went back to "
        + _num(found["pre"])
        + " on "
        + found["day"].dt.strftime("%Y-%m-%d").astype("str")
        + ", its level before the count of "
        + found["count_day"].dt.strftime("%Y-%m-%d").astype("str")
        + " (which set it to "
        + _num(found["post"])
        + "), with no event; "
        + _units_text(found["units"])
    )
    seen = ctx.start_of(found["day"])
    out = found.assign(
        counterpart=ctx.counterpart(
            found[SYSTEM].astype("str"), pd.Series(ctx.authority, index=found.index)
        ),
        first_seen=seen,
        last_seen=seen,
        confidence=0.7,
        evidence=evidence,
    )
    return _findings(out, Cause.STALE_OVERWRITE)


def _not_near(found: pd.DataFrame, other: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """Rows of ``found`` (with a ``day``) with no ``other`` finding of the same system and
    key within a day."""
    if other.empty or found.empty:
        return found
    near = found.reset_index().merge(
        other[[SYSTEM, SKU, LOCATION, "first_seen"]].assign(
            other_day=lambda f: ctx.day(f["first_seen"])
        ),
        on=[SYSTEM, SKU, LOCATION],
    )
    close = (near["other_day"] - near["day"]).abs() <= pd.Timedelta(days=1)
    return found.drop(index=list(near.loc[close, "index"].unique()))


def unit_ratios(ctx: _Context) -> pd.DataFrame:
    """``unit_mismatch``: a system's value ≈ the reference ÷ or × the pack size.

    A (system, key) is flagged when, against the authority (or, on keys the authority
    does not hold, against every other system: the odd one out), at least half of the
    days with a non-zero reference, and at least two, disagree by the pack-size ratio
    (within half a unit) or by a sub-unit rounding residue of a fractional value.
    """
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    values = grid.values
    pack = ctx.pack(grid.keys[SKU]).to_numpy()[None, :, None]
    auth = grid.systems.index(grid.authority) if grid.authority in grid.systems else None
    flagged = np.zeros(values.shape[:2], dtype=bool)
    cells = np.zeros(values.shape, dtype=bool)
    for s in range(len(grid.systems)):  # a handful of systems, not data rows
        if s == auth:
            continue
        odd, hits = _odd_units(values, s, auth, pack, tol)
        flagged[s], cells[s] = odd, hits
    ref = np.stack([_reference_for(values, s, grid) for s in range(len(grid.systems))])
    return _unit_findings(ctx, flagged, cells, values, ref, pack[0, :, 0])


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
    for o in ([auth] if auth is not None else []) + others:
        if auth is not None and o != auth:
            use = ~(~np.isnan(values[auth])).any(axis=1)  # keys the authority does not hold
        else:
            use = np.ones(values.shape[1], dtype=bool)
        both, odd, _ = _ratio_cells(values[s], values[o], pack2, tol)
        n_both, n_odd = both.sum(axis=1), odd.sum(axis=1)
        present = use & (n_both > 0)
        verdict &= ~present | (n_odd >= np.maximum(2, 0.5 * n_both))
        evidence |= odd & present[:, None]
        seen |= present
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
    pack: np.ndarray,
) -> pd.DataFrame:
    """One ``unit_mismatch`` finding per flagged (system, key), from its matching cells."""
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
            "pack": pack[k],
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
        + found["last_day"].dt.strftime("%Y-%m-%d").astype("str")
        + " (pack size "
        + _num(found["pack"])
        + "); the same ratio or rounding on "
        + found["n"].astype(str)
        + " of "
        + found["of"].astype(str)
        + " days; "
        + _units_text(found["units"])
    )
    out = found.assign(
        counterpart=ctx.counterpart(
            found[SYSTEM].astype("str"), pd.Series(ctx.authority, index=found.index)
        ),
        first_seen=ctx.start_of(found["first_day"]),
        last_seen=ctx.start_of(found["last_day"]),
        confidence=np.round(np.clip(found["n"] / found["of"].clip(lower=1), 0.5, 0.95), 2),
        evidence=evidence,
    )
    return _findings(out, Cause.UNIT_MISMATCH)


def unexplained_residuals(
    ctx: _Context, found: pd.DataFrame, delivered: pd.DataFrame
) -> pd.DataFrame:
    """``unrecorded_change``: a roll-forward residual that no event in any system explains.

    Skipped: residuals within rounding (``residual_slack``), days a stale-overwrite or
    unit-mismatch finding of the same system and key explains (the causes that move a
    snapshot without an event), and residuals equal to the effect of a business event
    another system recorded that day and this one did not (the change arrived without an
    event record of its own).
    """
    res = ctx.residuals
    res = res[res["residual"].abs() > ctx.config.tolerance + SLACK + ctx.rules.residual_slack]
    res = _not_near(res.assign(day=pd.DatetimeIndex(res["day"])), found, ctx)
    lost = delivered[~delivered["received"]]
    absorbed = lost.assign(
        **{
            SYSTEM: lost["target"],
            "day": ctx.day(lost["sent_at"]),
            "units": ctx.effect(lost).round(2),
        }
    )
    res = res.assign(units=res["residual"].round(2)).merge(
        absorbed[[SYSTEM, SKU, LOCATION, "day", "units"]].drop_duplicates().assign(absorbed=True),
        on=[SYSTEM, SKU, LOCATION, "day", "units"],
        how="left",
    )
    res = res[res["absorbed"].isna()]
    if res.empty:
        return _empty(Cause.UNRECORDED_CHANGE)
    evidence = (
        res[SYSTEM]
        + " went from "
        + _num(res["previous"])
        + " to "
        + _num(res["snapshot"])
        + " on "
        + res["day"].dt.strftime("%Y-%m-%d").astype("str")
        + " while its "
        + res["events"].astype(str)
        + " events account for "
        + _num(res["events_delta"].round(2), "{:+g}")
        + "; "
        + _units_text(res["residual"])
        + " with no event in any system"
    )
    seen = ctx.start_of(res["day"])
    out = res.assign(
        counterpart=ctx.counterpart(
            res[SYSTEM].astype("str"), pd.Series(ctx.authority, index=res.index)
        ),
        first_seen=seen,
        last_seen=seen,
        units=res["residual"],
        confidence=0.8,
        evidence=evidence,
    )
    return _findings(out, Cause.UNRECORDED_CHANGE)
