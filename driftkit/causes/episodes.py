"""Drift episodes and findings: snapshot timing, the ``unrecorded_change`` fallback, coverage.

Decides which episodes are only snapshot timing, gives every other episode that no finding
covers an honest ``unrecorded_change`` and says which causes cover each episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.causes.checked import grid_keys, unchecked
from driftkit.causes.context import _Context, _day_text, _empty, _findings, _num, _units_text
from driftkit.causes.match import micros
from driftkit.causes.spans import (
    Spans,
    day_numbers,
    every_day,
    group_time_order,
    next_day,
    span_days,
)
from driftkit.drift.align import Grid
from driftkit.drift.asof import asof_cells
from driftkit.drift.codes import key_positions, positions_in, shared_codes
from driftkit.drift.pairs import COUNTERPART, SLACK
from driftkit.load.client import ClientData
from driftkit.schema import (
    COMMIT_DELTA,
    COUNTED_AT,
    LOCATION,
    OCCURRED_AT,
    QTY_DELTA,
    RECORDED_AT,
    SKU,
    SYSTEM,
    Cause,
    Measure,
)


def timing_drift(data: ClientData, grid: Grid, episodes: pd.DataFrame) -> np.ndarray:
    """Whether each episode is only snapshot timing (no record is wrong).

    Two systems that snapshot at different hours, or apply the same event with their
    usual latency, disagree for a while although neither record is wrong.  For each
    episode day both values are brought to the later snapshot time T with each system's
    own events: value + Σ events that occurred by T − Σ events applied by the snapshot
    (i.e. the events that occurred by T but were applied after the snapshot).  An
    episode is timing when the two agree on every one of its days.

    Returns
    -------
    numpy.ndarray
        bool, one per episode row.
    """
    if episodes.empty:
        return np.zeros(0, dtype=bool)
    cells = asof_cells(
        data.snapshots, data.config, start=grid.days[0].date(), end=grid.days[-1].date()
    )
    n_days = episodes["days"].to_numpy()
    ep, offset = span_days(n_days)  # one row per episode day
    day = grid.days.get_indexer(pd.DatetimeIndex(episodes["start"]))[ep] + offset
    key = key_positions(episodes, cells.keys)[ep]  # looked up per episode, not per day
    gkey = grid_keys(episodes, grid)[ep]
    cday = cells.days.get_indexer(grid.days)[day]  # looked up per grid day
    sides = []
    for column in (SYSTEM, COUNTERPART):
        s_cell = pd.Index(cells.systems).get_indexer(pd.Index(episodes[column]))[ep]
        s_grid = pd.Index(grid.systems).get_indexer(pd.Index(episodes[column]))[ep]
        row = cells.row[s_cell, key, cday]
        at = np.where(row >= 0, cells.as_of[np.maximum(row, 0)], np.iinfo(np.int64).max)
        sides.append((s_cell, at, grid.values[s_grid, gkey, day]))
    until = np.maximum(sides[0][1], sides[1][1])
    applied, occurred = _Movements.build(data, cells.keys, cells.systems)
    rolled = [
        v + occurred.upto(g, until) - applied.upto(g, at)
        for g, at, v in ((s * len(cells.keys) + key, at, v) for s, at, v in sides)
    ]
    agree = np.abs(rolled[0] - rolled[1]) <= data.config.tolerance + SLACK
    return every_day(agree, n_days)


@dataclass(frozen=True)
class _Movements:
    """Each (system, key)'s cumulative event effect, sorted for interval sums.

    ``position`` orders the events by (group, time) as one int64: the group times one more
    than the number of events, plus the number of event times (``times``, sorted, repeats
    kept) before the event's.
    """

    group: np.ndarray
    times: np.ndarray
    position: np.ndarray
    cum: np.ndarray

    @classmethod
    def build(
        cls, data: ClientData, keys: pd.DataFrame, systems: tuple[str, ...]
    ) -> tuple[_Movements, _Movements]:
        """(by applied time, by occurrence time): the events' keys are looked up once."""
        events = data.events
        key = key_positions(events, keys)
        system = positions_in(events[SYSTEM], pd.Index(systems))
        ok = (key >= 0) & (system >= 0)
        qty = events[QTY_DELTA].fillna(0.0)
        if data.config.measure == Measure.AVAILABLE:
            qty = qty - events[COMMIT_DELTA].fillna(0.0)
        occurred = micros(events[OCCURRED_AT])
        recorded = micros(events[RECORDED_AT])
        applied = np.where(recorded == np.iinfo(np.int64).min, occurred, recorded)
        group, effect = (system.astype(np.int64) * len(keys) + key)[ok], qty.to_numpy(float)[ok]
        return cls.sorted(group, applied[ok], effect), cls.sorted(group, occurred[ok], effect)

    @classmethod
    def sorted(cls, group: np.ndarray, at: np.ndarray, effect: np.ndarray) -> _Movements:
        """The events (group, time, effect) sorted by group, then time."""
        order, times, rank = group_time_order(group, at)  # = lexsort((at, group))
        position = group[order] * (len(times) + 1) + rank  # repeated times kept (no np.unique)
        cum = np.concatenate(([0.0], np.cumsum(effect[order])))
        return cls(group[order], times, position, cum)

    def upto(self, group: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Cumulative effect of the group's events applied at or before ``at``."""
        rank = np.searchsorted(self.times, at, side="right")  # times <= at
        before = np.searchsorted(self.position, group * (len(self.times) + 1) + rank)
        first = np.searchsorted(self.group, group, side="left")
        return self.cum[before] - self.cum[first]


def _resets(ctx: _Context) -> pd.DataFrame:
    """Local days on which each key was counted: ``sku, location, day``."""
    return ctx.counts[[SKU, LOCATION]].assign(day=ctx.day(ctx.counts[COUNTED_AT]))


def episode_fallback(
    episodes: pd.DataFrame, findings: pd.DataFrame, timing: np.ndarray, ctx: _Context
) -> pd.DataFrame:
    """``unrecorded_change`` for each episode that no finding on its key covers.

    Snapshot-timing episodes (``timing``: :func:`timing_drift`, and a system without an
    event feed showing the other's values late, ``unrecorded.mirrored_episodes``) are not
    drift of any record and get no finding.  The finding goes to the side whose own
    roll-forward could not check the days the change may have happened on, when exactly one
    side is so (:func:`driftkit.causes.checked.unchecked`; episodes of the same key starting
    the same day that this does not decide are then dropped: one change, seen through a
    synced copy); else to the odd one out: the side of the pair that fewer of the other
    systems agree with on the episode's first day; on a tie, the non-authority side.
    """
    covered = (
        covering(findings, episodes, ctx.tz, _resets(ctx)).any(axis=1).to_numpy()
        if len(episodes)
        else np.zeros(0, bool)
    )
    orphans = episodes[~covered & ~timing]
    if orphans.empty:
        return _empty(Cause.UNRECORDED_CHANGE)
    flip, decided = _blame_counterpart(orphans, ctx)
    # one change seen by several pairs on the same day (a synced copy): the checked blame wins
    group = [orphans[SKU], orphans[LOCATION], orphans["start"]]
    keep = decided | ~decided.groupby(group, observed=True).transform("any")
    orphans, flip = orphans[keep], flip[keep]
    system = orphans[SYSTEM].where(~flip, orphans[COUNTERPART])
    other = orphans[COUNTERPART].where(~flip, orphans[SYSTEM])
    units = orphans["mean_drift"].where(~flip, -orphans["mean_drift"])
    evidence = (
        system
        + " differs from "
        + other
        + " by up to "
        + _num(orphans["peak_abs_drift"])
        + " units from "
        + _day_text(orphans["start"])
        + " to "
        + _day_text(orphans["end"])
        + " ("
        + orphans["days"].astype(str)
        + " days) and no event, count, sync or snapshot timing explains it; "
        + _units_text(units)
        + " on average"
        + np.where(
            system.isin(ctx.fed_systems),
            "",
            " (" + system + " exports no events: its causes cannot be told apart)",
        )
    )
    out = orphans.assign(
        **{SYSTEM: system, COUNTERPART: other},
        first_seen=ctx.start_of(orphans["start"]),
        last_seen=ctx.start_of(orphans["end"]),
        units=units,
        confidence=ctx.rules.fallback_confidence,
        evidence=evidence,
    ).drop_duplicates([SYSTEM, SKU, LOCATION, "first_seen"])
    return _findings(out, Cause.UNRECORDED_CHANGE)


def _blame_counterpart(orphans: pd.DataFrame, ctx: _Context) -> tuple[pd.Series, pd.Series]:
    """Whether the counterpart, not the system, of each episode is the one that changed,
    and whether that was decided by the roll-forward (exactly one side unchecked,
    :func:`driftkit.causes.checked.unchecked`) rather than by the odd-one-out vote."""
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    key = grid_keys(orphans, grid)
    day = grid.days.get_indexer(pd.DatetimeIndex(orphans["start"]))
    column = grid.values[:, key, day]  # [systems, episodes]
    index = pd.Index(grid.systems)
    s, c = (
        index.get_indexer(pd.Index(orphans[SYSTEM])),
        index.get_indexer(pd.Index(orphans[COUNTERPART])),
    )
    n = np.arange(len(orphans))
    third = np.ones(column.shape, dtype=bool)
    third[s, n] = False
    third[c, n] = False
    third &= ~np.isnan(column)
    with_s = (third & (np.abs(column - column[s, n]) <= tol)).sum(axis=0)
    with_c = (third & (np.abs(column - column[c, n]) <= tol)).sum(axis=0)
    tie = orphans[SYSTEM].to_numpy() == ctx.authority
    vote = (with_s > with_c) | ((with_s == with_c) & tie)
    unseen_s, unseen_c = unchecked(orphans, SYSTEM, ctx), unchecked(orphans, COUNTERPART, ctx)
    decided = unseen_s != unseen_c
    flip = pd.Series(np.where(decided, unseen_c, vote), index=orphans.index)
    return flip, pd.Series(decided, index=orphans.index)


def covering(
    findings: pd.DataFrame,
    episodes: pd.DataFrame,
    tz: str,
    resets: pd.DataFrame | None = None,
    slack_days: int = 1,
) -> pd.DataFrame:
    """Which causes' findings cover each episode.

    A finding covers an episode of the same key when its local-day span, ± ``slack_days``,
    overlaps the episode's days.  A finding's effect lasts until the key's next count
    (``resets``: ``sku, location, day``), except ``sync_lag``, which ends when the late
    record lands; without ``resets`` every effect lasts to the end of the window.

    Returns
    -------
    pandas.DataFrame
        Boolean, one row per episode (in order), one column per cause.
    """
    causes = [str(c) for c in Cause]
    slack = pd.Timedelta(days=slack_days)
    first = day_numbers(_local_day(findings["first_seen"], tz) - slack)
    last = day_numbers(_lasting(findings, tz, resets) + slack)
    code = _key_codes(pd.concat([episodes[[SKU, LOCATION]], findings[[SKU, LOCATION]]]))
    cause = pd.Index(causes).get_indexer(pd.Index(findings["cause"].astype(str)))
    group = code[len(episodes) :] * len(causes) + cause
    spans = Spans.of(np.where(cause >= 0, group, -1), first, last)
    start, end = day_numbers(episodes["start"]), day_numbers(episodes["end"])
    covered = np.zeros((len(episodes), len(causes)), dtype=bool)
    for c in range(len(causes)):  # six causes, each one search over all episodes
        covered[:, c] = spans.overlap(code[: len(episodes)] * len(causes) + c, start, end)
    return pd.DataFrame(covered, index=np.arange(len(episodes)), columns=pd.Index(causes))


def _key_codes(keys: pd.DataFrame) -> np.ndarray:
    """One int64 per (sku, location), equal exactly for equal keys (no tuples built)."""
    sku = pd.factorize(keys[SKU])[0]
    location, locations = pd.factorize(keys[LOCATION])
    return sku.astype(np.int64) * (len(locations) + 1) + location


def _lasting(findings: pd.DataFrame, tz: str, resets: pd.DataFrame | None) -> pd.Series:
    """Last local day each finding's effect lasts: to the next count of its key."""
    last = _local_day(findings["last_seen"], tz)
    if findings.empty:
        return last
    ends = pd.Series(pd.Timestamp.max.normalize(), index=findings.index)
    if resets is not None and len(resets):
        counted, key = shared_codes(resets, findings, [SKU, LOCATION])  # one int per key
        ends = pd.Series(next_day(counted, resets["day"], key, last), index=findings.index)
    lag = findings["cause"] == str(Cause.SYNC_LAG)
    return last.where(lag, ends)


def _local_day(stamps: pd.Series, tz: str) -> pd.Series:
    return pd.to_datetime(stamps, utc=True).dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
