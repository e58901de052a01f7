"""``stale_overwrite`` detectors: a value set from a reading older than a count already applied.

Two ways to see it: :func:`stale_syncs` finds the ``sync`` events whose ``source_as_of``
predates a count the system had applied (the events show it), :func:`reverted_counts` finds
the values that jump back to their pre-count level with no event at all (only the daily grid
and the roll-forward residuals show it).  Rules in ``docs/causes.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.context import (
    APPLIED_AT,
    CONFIDENCE,
    _Context,
    _day_text,
    _empty,
    _findings,
    _not_near,
    _num,
    _units_text,
)
from driftkit.causes.match import micros
from driftkit.causes.unrecorded import diverging
from driftkit.drift.align import Grid
from driftkit.drift.codes import (
    column_codes,
    key_positions,
    named_codes,
    shared_codes,
)
from driftkit.drift.pairs import SLACK
from driftkit.schema import (
    COMMIT_DELTA,
    COUNTED_AT,
    COUNTED_QTY,
    EVENT_ID,
    KIND,
    LOCATION,
    QTY_DELTA,
    REFERENCE,
    SET_QTY,
    SKU,
    SOURCE_AS_OF,
    SYSTEM,
    Cause,
    EventKind,
)


def _keys(matches: pd.DataFrame, counts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer (system, sku, location) keys: one per event, one per count and system.

    Returns
    -------
    tuple
        ``(key of each event, key of each count row for each system — count-major, in the
        order of the events' systems —, number of systems)``.
    """
    system, names = named_codes(matches[SYSTEM])
    pair, counted = shared_codes(matches, counts, [SKU, LOCATION])
    span = max(int(pair.max(initial=-1)), int(counted.max(initial=-1))) + 1
    each = np.arange(len(names), dtype=np.int64) * span
    return system * span + pair, (counted[:, None] + each[None, :]).ravel(), len(names)


def _count_times(
    matches: pd.DataFrame, ctx: _Context, keys: tuple[np.ndarray, np.ndarray, int]
) -> pd.DataFrame:
    """Counts applied per (system, key): count events, plus the counts table in every system.

    Returns
    -------
    pandas.DataFrame
        ``key, count_at, count_qty`` (``key`` as :func:`_keys`), one row per key and time.
    """
    key, table_key, n = keys
    is_count = (matches[KIND] == str(EventKind.COUNT)).to_numpy()
    own = matches.loc[is_count, [APPLIED_AT, SET_QTY]].set_axis(["count_at", "count_qty"], axis=1)
    table = ctx.counts[[COUNTED_AT, COUNTED_QTY]].set_axis(["count_at", "count_qty"], axis=1)
    both = pd.concat(
        [
            own.assign(key=key[is_count]),
            table.iloc[np.arange(len(table)).repeat(n)].assign(key=table_key),
        ],
        ignore_index=True,
    )
    return both.sort_values("count_at", kind="stable").drop_duplicates(["key", "count_at"])


#: What the stale-sync test and its findings read of a sync (``reference`` is a finding column).
_SYNC_COLUMNS = [SYSTEM, SKU, LOCATION, APPLIED_AT, SOURCE_AS_OF, SET_QTY, EVENT_ID, REFERENCE]


def stale_syncs(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``stale_overwrite``: a sync whose ``source_as_of`` predates a count already applied.

    ``units`` = the synced value − the value the system held just before the sync
    (the count plus the system's own movements since).  Events and counts meet on integer
    keys (:func:`_keys`), not on three text columns.
    """
    is_sync = (matches[KIND] == str(EventKind.SYNC)) & matches[SOURCE_AS_OF].notna()
    sync = matches.loc[is_sync, _SYNC_COLUMNS]  # a take of only the columns read below
    if sync.empty:
        return _empty(Cause.STALE_OVERWRITE)
    keys = _keys(matches, ctx.counts)
    key = keys[0]
    synced = key[is_sync.to_numpy()]
    moves = _moves(matches, ctx, key, np.flatnonzero(np.isin(key, synced)))  # synced keys only
    counts = _count_times(matches, ctx, keys).sort_values("count_at")
    counts = counts[np.isin(counts["key"].to_numpy(), synced)]
    counts = pd.merge_asof(counts, moves, left_on="count_at", right_on=APPLIED_AT, by="key").drop(
        columns=APPLIED_AT
    )
    sync = sync.assign(key=synced, moved=moves["moved"])
    paired = pd.merge_asof(
        sync.sort_values(APPLIED_AT),
        counts.rename(columns={"moved": "moved_at_count"}),
        left_on=APPLIED_AT,
        right_on="count_at",
        by="key",
        allow_exact_matches=False,
    )
    stale = paired[paired[SOURCE_AS_OF] < paired["count_at"]]
    if stale.empty:
        return _empty(Cause.STALE_OVERWRITE)
    held = stale["count_qty"] + stale["moved"] - stale["moved_at_count"].fillna(0.0)
    units = stale[SET_QTY] - held
    evidence = (
        "sync at "
        + ctx.clock(stale[APPLIED_AT])
        + " set "
        + stale[SYSTEM]
        + " to "
        + _num(stale[SET_QTY])
        + " from a reading taken "
        + ctx.clock(stale[SOURCE_AS_OF])
        + ", before the count of "
        + ctx.clock(stale["count_at"])
        + " (counted "
        + _num(stale["count_qty"])
        + "); "
        + _units_text(units)
    )
    out = stale.assign(
        counterpart=ctx.versus_authority(stale[SYSTEM]),
        first_seen=stale[APPLIED_AT],
        last_seen=stale[APPLIED_AT],
        units=units,
        confidence=CONFIDENCE["stale_sync"],
        evidence=evidence,
        event_ids=stale[EVENT_ID],
    )
    return _findings(out, Cause.STALE_OVERWRITE)


def _moves(matches: pd.DataFrame, ctx: _Context, key: np.ndarray, rows: np.ndarray) -> pd.DataFrame:
    """The events at positions ``rows`` (every event of their keys) in applied order with
    ``moved``, the running effect of its system's events on its key (``key`` as
    :func:`_keys`, one per event of ``matches``; no text column is taken).

    Returns
    -------
    pandas.DataFrame
        ``key, applied_at, moved``, indexed as ``matches``.
    """
    at = micros(matches[APPLIED_AT])[rows]
    last = np.where(at == np.iinfo(np.int64).min, np.iinfo(np.int64).max, at)  # NaT last
    order = rows[np.argsort(last, kind="stable")]
    moves = matches[[APPLIED_AT, QTY_DELTA, COMMIT_DELTA]].iloc[order]  # no text column
    moved = ctx.effect(moves).groupby(key[order]).cumsum()
    codes = [column_codes(matches[c])[0][order] for c in (SYSTEM, SKU, LOCATION)]
    moved = moved.where(np.minimum(np.minimum(codes[0], codes[1]), codes[2]) >= 0)  # NaN key
    return moves[[APPLIED_AT]].assign(key=key[order], moved=moved)[["key", APPLIED_AT, "moved"]]


def _residual_array(ctx: _Context) -> np.ndarray:
    """Roll-forward residuals on the grid's shape (NaN where unknown)."""
    out = np.full(ctx.grid.values.shape, np.nan)
    s, k, d = ctx.residual_cells
    ok = (s >= 0) & (k >= 0) & (d >= 0)
    out[s[ok], k[ok], d[ok]] = ctx.residuals["residual"].to_numpy(dtype=float)[ok]
    return out


def _count_days(ctx: _Context, matches: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(key index, day index) of every counted key and local day on the grid, each once
    (in order of first appearance: the counts table, then the count events)."""
    is_count = matches[KIND] == str(EventKind.COUNT)
    counted = pd.concat(
        [
            ctx.counts[[SKU, LOCATION]].assign(day=ctx.day(ctx.counts[COUNTED_AT])),
            matches.loc[is_count, [SKU, LOCATION]].assign(
                day=ctx.day(matches.loc[is_count, APPLIED_AT])
            ),
        ]
    )
    key = key_positions(counted, ctx.grid.keys)
    day = ctx.grid.days.get_indexer(pd.DatetimeIndex(counted["day"]))
    ok = (key >= 0) & (day >= 1)  # on the grid, distinct keys and days have distinct indices
    key, day = key[ok], day[ok]
    once = ~pd.Index(key * (len(ctx.grid.days) + 1) + day).duplicated()
    return key[once], day[once]


def reverted_counts(ctx: _Context, stale: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """``stale_overwrite``: a value jumps back to its pre-count level with no event.

    After a count on day c changed system *s*'s value (pre = day c−1, post = day c), a
    later day within ``revert_days`` whose value — or its value before that day's own
    events (the day before + the residual: an overwrite followed by sales) — equals pre
    again, moved from the day before, with a non-zero residual, while the system
    disagrees with another system (a level every system returns to is not stale).  Days
    already explained by a stale sync are skipped, and so is the authority (syncs flow
    out of it, not into it).
    """
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    key, day = _count_days(ctx, matches)
    if not len(key):  # no count on the grid: nothing to revert to (skips the residual grid)
        return _empty(Cause.STALE_OVERWRITE)
    values, residual = grid.values, _residual_array(ctx)
    n_days = values.shape[2]
    offsets = np.arange(1, ctx.rules.revert_days + 1)
    later = day[:, None] + offsets[None, :]
    inside = later < n_days
    later = np.minimum(later, n_days - 1)
    k2 = np.broadcast_to(key[:, None], later.shape)
    pre, post = values[:, key, day - 1][:, :, None], values[:, key, day][:, :, None]
    now, before = values[:, k2, later], values[:, k2, later - 1]
    moved = residual[:, k2, later]
    level = (np.abs(now - pre) <= tol) | (np.abs(before + moved - pre) <= tol)
    hit = inside[None] & (np.abs(pre - post) > tol) & level
    hit &= (np.abs(now - before) > tol) & (np.abs(moved) > tol + ctx.rules.residual_slack)
    hit &= _off_authority(grid, tol)[:, k2, later]
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
        + _day_text(found["day"])
        + ", its level before the count of "
        + _day_text(found["count_day"])
        + " (which set it to "
        + _num(found["post"])
        + "), with no event; "
        + _units_text(found["units"])
    )
    seen = ctx.start_of(found["day"])
    out = found.assign(
        counterpart=ctx.versus_authority(found[SYSTEM]),
        first_seen=seen,
        last_seen=seen,
        confidence=CONFIDENCE["stale_revert"],
        evidence=evidence,
    )
    return _findings(out, Cause.STALE_OVERWRITE)


def _off_authority(grid: Grid, tol: float) -> np.ndarray:
    """bool ``[system, key, day]``: the value disagrees with the authority's, or, where the
    authority has none, with any other system's."""
    values = grid.values
    if grid.authority not in grid.systems:
        return diverging(grid, tol)
    auth = values[grid.systems.index(grid.authority)][None]
    held = ~np.isnan(auth)
    return np.where(held, np.abs(values - auth) > tol, diverging(grid, tol))
