"""Cause detectors over the matched events: duplicates, missing events, late records, stale syncs.

Each takes the rows of :func:`driftkit.match.match_events` (or its deliveries) and returns
findings of one cause (rules in ``docs/causes.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit._causes import _Context, _empty, _findings, _label, _num, _units_text
from driftkit.compare import COUNTERPART
from driftkit.match import APPLIED_AT, BUSINESS_EVENT, COPY, DUPLICATE, FAMILY, LATENCY_H, SOURCE
from driftkit.schema import (
    COUNTED_AT,
    COUNTED_QTY,
    EVENT_ID,
    KIND,
    LOCATION,
    OCCURRED_AT,
    SET_QTY,
    SKU,
    SOURCE_AS_OF,
    SYSTEM,
    Cause,
    EventKind,
)


def duplicates(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``duplicate_event``: a system applied the same business event more than once.

    One finding per (system, business event, location); ``units`` = the summed effect of
    the extra copies on the measure.
    """
    group = [BUSINESS_EVENT, SYSTEM, KIND, LOCATION]
    extra = matches[matches[DUPLICATE]]
    if extra.empty:
        return _empty(Cause.DUPLICATE_EVENT)
    originals = matches[matches[COPY] == 0].drop_duplicates(group)
    pairs = extra.merge(
        originals[[*group, APPLIED_AT, EVENT_ID]], on=group, suffixes=("", "_first")
    )
    pairs = pairs.assign(units=ctx.effect(pairs), size=ctx.effect(pairs).abs())
    per = [BUSINESS_EVENT, SYSTEM, LOCATION]
    totals = pairs.groupby(per)["units"].transform("sum")
    times = pairs[COPY].groupby([pairs[c] for c in per]).transform("max") + 1
    shown = pairs.assign(units=totals, times=times).sort_values(
        "size", ascending=False, kind="stable"
    )
    shown = shown.drop_duplicates(per)
    replay = shown[EVENT_ID] == shown[f"{EVENT_ID}_first"]
    ids = np.where(
        replay,
        "event id " + shown[EVENT_ID] + " delivered again",
        "event ids " + shown[f"{EVENT_ID}_first"] + ", " + shown[EVENT_ID],
    )
    evidence = (
        _label(shown)
        + " applied "
        + np.where(
            times.loc[shown.index] > 2, times.loc[shown.index].astype(str) + " times", "twice"
        )
        + " in "
        + shown[SYSTEM]
        + " at "
        + ctx.clock(shown[f"{APPLIED_AT}_first"])
        + " and "
        + ctx.clock(shown[APPLIED_AT])
        + " ("
        + ids
        + "); "
        + _units_text(shown["units"])
    )
    out = shown.assign(
        counterpart=ctx.counterpart(shown[SYSTEM], shown[SOURCE]),
        first_seen=shown[f"{APPLIED_AT}_first"],
        last_seen=shown[APPLIED_AT],
        confidence=np.where(replay, 0.95, 0.9),
        evidence=evidence,
    )
    return _findings(out, Cause.DUPLICATE_EVENT)


def missing(delivered: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``missing_event``: a business event its target normally receives never arrived.

    Deliveries sent so close to the end of the target's export that its usual latency
    (twice the median of that target and family, at least an hour) has not yet passed
    are pending, not missing.
    """
    expected = delivered[delivered["normal"]]
    if expected.empty:
        return _empty(Cause.MISSING_EVENT)
    p50 = expected[expected["received"]].groupby(["target", FAMILY])[LATENCY_H].median()
    last = delivered.groupby("target")["received_at"].max()
    lost = expected[~expected["received"]]
    wait = p50.reindex(pd.MultiIndex.from_frame(lost[["target", FAMILY]])).to_numpy(dtype=float)
    wait = pd.to_timedelta(np.maximum(np.nan_to_num(wait, nan=24.0) * 2, 1.0), unit="h")
    lost = lost[(lost["sent_at"] + wait).to_numpy() <= lost["target"].map(last).to_numpy()]
    if lost.empty:
        return _empty(Cause.MISSING_EVENT)
    share = expected.groupby(["target", FAMILY, LOCATION])["received"].mean()
    rate = lost.set_index(["target", FAMILY, LOCATION]).index.map(share).to_numpy(dtype=float)
    units = -ctx.effect(lost)
    evidence = (
        _label(lost)
        + ", applied by "
        + lost[SOURCE]
        + " (event "
        + lost["source_event_id"]
        + ") at "
        + ctx.clock(lost["sent_at"])
        + ", never reached "
        + lost["target"]
        + ", which recorded "
        + pd.Series(np.round(rate * 100), index=lost.index).astype(int).astype(str)
        + "% of "
        + lost[FAMILY]
        + " events at "
        + lost[LOCATION]
        + "; "
        + _units_text(units)
    )
    out = lost.assign(
        **{SYSTEM: lost["target"], COUNTERPART: lost[SOURCE]},
        first_seen=lost["sent_at"],
        last_seen=lost["sent_at"],
        units=units,
        confidence=np.round(rate, 2),
        evidence=evidence,
    )
    return _findings(out, Cause.MISSING_EVENT)


def late(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``sync_lag``: a record applied far beyond its system's usual delay for that kind.

    Delay = applied_at − occurred_at; usual = the p95 of the system and kind; late =
    beyond ``max(lag_factor × p95, p95 + lag_floor_h)``.  Syncs are not events of their
    own and are skipped.
    """
    rules = ctx.rules
    rows = matches[~matches[DUPLICATE] & (matches[KIND] != str(EventKind.SYNC))]
    delay = (rows[APPLIED_AT] - rows[OCCURRED_AT]).dt.total_seconds() / 3600.0
    p95 = delay.groupby([rows[SYSTEM], rows[KIND]]).transform(lambda d: d.quantile(0.95))
    limit = np.maximum(rules.lag_factor * p95, p95 + rules.lag_floor_h)
    hit = rows[delay > limit].assign(delay=delay, usual=p95)
    hit = hit[ctx.effect(hit) != 0]
    if hit.empty:
        return _empty(Cause.SYNC_LAG)
    units = -ctx.effect(hit)
    evidence = (
        _label(hit)
        + " happened "
        + ctx.clock(hit[OCCURRED_AT])
        + " but "
        + hit[SYSTEM]
        + " applied it only at "
        + ctx.clock(hit[APPLIED_AT])
        + " ("
        + hit["delay"].round(0).astype(int).astype(str)
        + " h later; its usual p95 is "
        + hit["usual"].round(1).astype(str)
        + " h); "
        + _units_text(units)
        + " until then"
    )
    out = hit.assign(
        counterpart=ctx.counterpart(hit[SYSTEM], hit[SOURCE]),
        first_seen=hit[OCCURRED_AT],
        last_seen=hit[APPLIED_AT],
        units=units,
        confidence=0.9,
        evidence=evidence,
    )
    return _findings(out, Cause.SYNC_LAG)


def _count_times(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """Counts applied per (system, key): count events, plus the counts table in every system."""
    own = matches[matches[KIND] == str(EventKind.COUNT)]
    own = own[[SYSTEM, SKU, LOCATION, APPLIED_AT, SET_QTY]].rename(
        columns={APPLIED_AT: "count_at", SET_QTY: "count_qty"}
    )
    systems = pd.DataFrame({SYSTEM: pd.Series(matches[SYSTEM].unique(), dtype="str")})
    table = ctx.counts[[SKU, LOCATION, COUNTED_AT, COUNTED_QTY]].merge(systems, how="cross")
    table = table.rename(columns={COUNTED_AT: "count_at", COUNTED_QTY: "count_qty"})
    both = pd.concat([own, table[own.columns]], ignore_index=True)
    return both.sort_values("count_at", kind="stable").drop_duplicates(
        [SYSTEM, SKU, LOCATION, "count_at"]
    )


def stale_syncs(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``stale_overwrite``: a sync whose ``source_as_of`` predates a count already applied.

    ``units`` = the synced value − the value the system held just before the sync
    (the count plus the system's own movements since).
    """
    sync = matches[(matches[KIND] == str(EventKind.SYNC)) & matches[SOURCE_AS_OF].notna()]
    if sync.empty:
        return _empty(Cause.STALE_OVERWRITE)
    moves = matches.sort_values(APPLIED_AT, kind="stable")
    moves = moves.assign(
        moved=ctx.effect(moves).groupby([moves[SYSTEM], moves[SKU], moves[LOCATION]]).cumsum()
    )
    counts = _count_times(matches, ctx).sort_values("count_at")
    counts = pd.merge_asof(
        counts,
        moves[[SYSTEM, SKU, LOCATION, APPLIED_AT, "moved"]],
        left_on="count_at",
        right_on=APPLIED_AT,
        by=[SYSTEM, SKU, LOCATION],
    ).drop(columns=APPLIED_AT)
    sync = moves.loc[sync.index].sort_values(APPLIED_AT)
    paired = pd.merge_asof(
        sync,
        counts.rename(columns={"moved": "moved_at_count"}),
        left_on=APPLIED_AT,
        right_on="count_at",
        by=[SYSTEM, SKU, LOCATION],
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
        counterpart=ctx.counterpart(stale[SYSTEM], pd.Series(ctx.authority, index=stale.index)),
        first_seen=stale[APPLIED_AT],
        last_seen=stale[APPLIED_AT],
        units=units,
        confidence=0.95,
        evidence=evidence,
    )
    return _findings(out, Cause.STALE_OVERWRITE)
