"""``unrecorded_change``: changes with no event that make a system disagree with the others.

A roll-forward residual is a change no event of the system explains.  It is a finding
only where it makes the system *diverge*: the system disagrees with at least one other
present system on that day, and the others do not mirror the change within
``AttributionRules.mirror_days``.  Residuals are grouped by divergence run (per system and
key, a maximal run of diverging days): one finding per run, with the days it covers.
A system without an event feed has a residual every day its count changes, so its
residuals say nothing; its drift episodes get the episode-level fallback
(:func:`driftkit.causes.episodes.episode_fallback`) and one note
(:func:`feed_notes`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.checked import grid_keys
from driftkit.causes.context import (
    CONFIDENCE,
    TARGET,
    _Context,
    _day_text,
    _empty,
    _findings,
    _not_near,
    _num,
    _units_text,
)
from driftkit.causes.spans import every_day, span_days
from driftkit.drift.align import Grid
from driftkit.drift.codes import column_codes, key_positions, positions_in, shared_codes
from driftkit.drift.pairs import COUNTERPART, SLACK
from driftkit.schema import COMMIT_DELTA, LOCATION, QTY_DELTA, SKU, SYSTEM, Cause

DAY = "day"


def diverging(grid: Grid, tol: float) -> np.ndarray:
    """Whether each system disagrees with at least one other present system.

    Returns
    -------
    numpy.ndarray
        bool ``[system, key, day]`` (False where the system is absent).
    """
    values = grid.values
    out = np.zeros(values.shape, dtype=bool)
    for s in range(values.shape[0]):  # a handful of systems, not data rows
        for o in range(values.shape[0]):
            if o != s:
                out[s] |= np.abs(values[s] - values[o]) > tol  # NaN compares False
    return out


def run_bounds(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last day index of the run of True each cell belongs to (last axis).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        int ``start`` and ``end`` with the shape of ``flags`` (meaningless where False).
    """
    n = flags.shape[-1]
    index = np.broadcast_to(np.arange(n), flags.shape)
    start = np.maximum.accumulate(np.where(flags, -1, index), axis=-1) + 1
    after = np.where(flags, n, index)[..., ::-1]
    end = np.minimum.accumulate(after, axis=-1)[..., ::-1] - 1
    return start, end


def mirrored(
    values: np.ndarray,
    div: np.ndarray,
    cell: tuple[np.ndarray, np.ndarray, np.ndarray],
    end: np.ndarray,
    days: int,
) -> np.ndarray:
    """Whether a system's divergence run ending at ``end`` was mirrored by the others.

    Mirrored = the run lasts at most ``days`` days, the system keeps the value of its
    last diverging day on the next day, and on that day it agrees with every system: the
    others took its change over with their usual latency.

    Returns
    -------
    numpy.ndarray
        bool, one per cell of ``cell`` (system, key and run-start day indexes).
    """
    s, k, start = cell
    nxt = np.minimum(end + 1, values.shape[2] - 1)
    inside = end + 1 < values.shape[2]
    kept = np.abs(values[s, k, nxt] - values[s, k, end]) <= SLACK
    return inside & (end - start + 1 <= days) & kept & ~div[s, k, nxt]


def unexplained_residuals(
    ctx: _Context, found: pd.DataFrame, delivered: pd.DataFrame
) -> pd.DataFrame:
    """``unrecorded_change``: residuals no event explains, one finding per divergence run.

    Skipped: systems without an event feed (``ctx.fed``), residuals within rounding
    (``residual_slack``), days a stale-overwrite or unit-mismatch finding of the same
    system and key explains, residuals equal to the effect of a business event another
    system recorded that day and this one did not (the change arrived without an event
    record of its own), and residuals on days the system does not diverge or whose
    divergence the others mirror within ``mirror_days``.
    """
    res = ctx.residuals
    limit = ctx.config.tolerance + SLACK + ctx.rules.residual_slack
    res = res[(res["residual"].abs() > limit) & fed_rows(res[SYSTEM], ctx.fed_systems)]
    if res.empty:
        return _empty(Cause.UNRECORDED_CHANGE)
    res = _not_near(res.assign(day=pd.DatetimeIndex(res[DAY])), found, ctx)
    res = _diverging_runs(_not_absorbed(res, delivered, ctx), ctx)
    if res.empty:
        return _empty(Cause.UNRECORDED_CHANGE)
    return _run_findings(res, ctx)


def fed_rows(systems: pd.Series, fed: frozenset[str]) -> np.ndarray:
    """``systems.isin(fed)``, looked up once per distinct system (:func:`column_codes`).

    Returns
    -------
    numpy.ndarray
        bool, one per row.
    """
    if not fed:
        return np.zeros(len(systems), dtype=bool)
    codes, names = column_codes(systems)
    known = np.append(pd.Index(names).isin(list(fed)), False)  # code −1 (missing): not fed
    return known[codes]


def _not_absorbed(res: pd.DataFrame, delivered: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """Residuals that are not a business event another system recorded that day (the rows
    of ``res``, renumbered 0..n−1, with ``units``: the residual rounded to 2 places).

    Only the lost deliveries whose rounded effect equals some residual's are coded (a
    numeric filter: the five-key match needs equal units, and residuals are never NaN)."""
    res = res.assign(units=res["residual"].round(2)).reset_index(drop=True)
    columns = [SKU, LOCATION, TARGET, "sent_at", QTY_DELTA, COMMIT_DELTA]
    lost = delivered.loc[~delivered["received"], columns]
    units = ctx.effect(lost).round(2)
    near = np.isin(units.to_numpy(dtype=float), res["units"].to_numpy(dtype=float))
    lost, units = lost[near], units[near]
    absorbed = lost[[SKU, LOCATION]].assign(
        **{SYSTEM: lost[TARGET], DAY: ctx.day(lost["sent_at"]), "units": units}
    )
    mine, theirs = shared_codes(res, absorbed, [SYSTEM, SKU, LOCATION, DAY, "units"])
    return res[~np.isin(mine, theirs)]  # one integer per row stands in for the five keys


def _diverging_runs(res: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """Residuals on diverging, unmirrored days, with their run's ``run_start``/``run_end``."""
    grid = ctx.grid
    div = diverging(grid, ctx.config.tolerance + SLACK)
    start, end = run_bounds(div)
    s = positions_in(res[SYSTEM], pd.Index(grid.systems))
    k = key_positions(res, grid.keys)
    d = grid.days.get_indexer(pd.DatetimeIndex(res[DAY]))
    ok = (s >= 0) & (k >= 0) & (d >= 0)
    s, k, d = np.where(ok, s, 0), np.where(ok, k, 0), np.where(ok, d, 0)
    first, last = start[s, k, d], end[s, k, d]
    echo = mirrored(grid.values, div, (s, k, first), last, ctx.rules.mirror_days)
    keep = ok & div[s, k, d] & ~echo
    return res[keep].assign(run_start=grid.days[first[keep]], run_end=grid.days[last[keep]])


def _run_findings(res: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """One finding per (system, key, divergence run): its residuals summed."""
    runs = res.groupby([SYSTEM, SKU, LOCATION, "run_start"], as_index=False).agg(
        run_end=("run_end", "first"),
        first_day=(DAY, "min"),
        units=("residual", "sum"),
        changes=("residual", "size"),
        previous=("previous", "first"),
        snapshot=("snapshot", "last"),
    )
    days = (runs["run_end"] - runs["run_start"]).dt.days + 1
    evidence = (
        runs[SYSTEM]
        + " changed "
        + runs["changes"].astype(str)
        + "× with no event in any system (from "
        + _num(runs["previous"])
        + " to "
        + _num(runs["snapshot"])
        + "), first on "
        + _day_text(runs["first_day"])
        + ", and disagreed with the other systems from "
        + _day_text(runs["run_start"])
        + " to "
        + _day_text(runs["run_end"])
        + " ("
        + days.astype(str)
        + " days); "
        + _units_text(runs["units"])
    )
    out = runs.assign(
        counterpart=ctx.versus_authority(runs[SYSTEM]),
        first_seen=ctx.start_of(runs["first_day"]),
        last_seen=ctx.start_of(runs["run_end"]),
        confidence=CONFIDENCE["residual"],
        evidence=evidence,
    )
    return _findings(out, Cause.UNRECORDED_CHANGE)


def feed_notes(systems: tuple[str, ...], fed: frozenset[str]) -> list[str]:
    """One sentence per system without an event feed (causes not separable)."""
    return [
        f"{s} exports no events: the causes of its drift cannot be separated from its "
        "snapshots alone, so each of its drift episodes is reported once as "
        "unrecorded_change (add its transaction export to tell them apart)"
        for s in systems
        if s not in fed
    ]


def mirrored_episodes(episodes: pd.DataFrame, ctx: _Context) -> np.ndarray:
    """Whether each pair episode is one side showing the other's values late.

    Only judged where a side has no event feed (with events, ``timing_drift`` judges).
    Mirrored = on every day of the episode one side (the lagger) shows what the other
    showed 1 to ``mirror_days`` days before, and the day after the episode it shows the
    other's last value (unless the episode is open): a snapshot pipeline's usual latency.

    Returns
    -------
    numpy.ndarray
        bool, one per episode row.
    """
    if episodes.empty:
        return np.zeros(0, dtype=bool)
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    n_days = episodes["days"].to_numpy()
    ep, offset = span_days(n_days)
    index = pd.Index(grid.systems)  # each looked up per episode, then repeated per day
    a = index.get_indexer(pd.Index(episodes[SYSTEM]))[ep]
    b = index.get_indexer(pd.Index(episodes[COUNTERPART]))[ep]
    k = grid_keys(episodes, grid)[ep]
    d = grid.days.get_indexer(pd.DatetimeIndex(episodes["start"]))[ep] + offset
    a_lags = np.zeros(len(ep), dtype=bool)
    b_lags = np.zeros(len(ep), dtype=bool)
    for lag in range(1, ctx.rules.mirror_days + 1):  # a day or two, not data rows
        before = np.maximum(d - lag, 0)
        ok = d - lag >= 0
        a_lags |= ok & (np.abs(grid.values[a, k, d] - grid.values[b, k, before]) <= tol)
        b_lags |= ok & (np.abs(grid.values[b, k, d] - grid.values[a, k, before]) <= tol)
    caught = _caught_up(episodes, grid, (a[offset == 0], b[offset == 0], k[offset == 0]), tol)
    fed = ctx.fed_systems
    unfed = ~episodes[SYSTEM].isin(fed) | ~episodes[COUNTERPART].isin(fed)
    a_late = every_day(a_lags, n_days) & caught[0]
    b_late = every_day(b_lags, n_days) & caught[1]
    return np.asarray(unfed) & (a_late | b_late)


def _caught_up(
    episodes: pd.DataFrame,
    grid: Grid,
    where: tuple[np.ndarray, np.ndarray, np.ndarray],
    tol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per episode, whether side a (then side b) shows, the day after the episode, the
    other side's value of its last day (True for episodes open at the window's end)."""
    a, b, k = where
    last = grid.days.get_indexer(pd.DatetimeIndex(episodes["end"]))
    n = grid.values.shape[2]
    after, open_ = np.minimum(last + 1, n - 1), last + 1 >= n
    values = grid.values
    a_up = np.abs(values[a, k, after] - values[b, k, last]) <= tol
    b_up = np.abs(values[b, k, after] - values[a, k, last]) <= tol
    return open_ | a_up, open_ | b_up
