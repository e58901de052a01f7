"""Cause detectors over the matched events: duplicates, missing events, late records, stale syncs.

Each takes the rows of :func:`driftkit.causes.match.match_events` (or its deliveries) and returns
findings of one cause (rules in ``docs/causes.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftkit.causes.context import _Context, _empty, _findings, _label, _num, _units_text
from driftkit.causes.match import (
    APPLIED_AT,
    BUSINESS_EVENT,
    COPY,
    DUPLICATE,
    FAMILY,
    LATENCY_H,
    SOURCE,
    TARGET,
)
from driftkit.drift.compare import COUNTERPART
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


def _series() -> pd.Series:
    return pd.Series(dtype="float64")


@dataclass(frozen=True)
class HandoffStats:
    """Client-wide statistics of the handoff map that the event detectors compare with.

    :func:`missing` and :func:`late` compute them from the frames they are given; the
    partitioned audit passes the values over all buckets instead.

    Attributes
    ----------
    normal
        ``(target, family, location)`` → share of the business events sent while the target
        exported events that it recorded (the source's own record included):
        ``match.deliveries``' *normal* test.
    received_share
        The same share without the source's own record (``missing_event`` confidence).
    latency_p50
        ``(target, family)`` → median latency (h) of the normal deliveries received.
    last_received
        ``target`` → its last receipt of a delivery (UTC).
    delay_p95
        ``(system, kind)`` → p95 of applied − occurred (h) of first records, syncs excluded.
    """

    normal: pd.Series = field(default_factory=_series)
    received_share: pd.Series = field(default_factory=_series)
    latency_p50: pd.Series = field(default_factory=_series)
    last_received: pd.Series = field(default_factory=_series)
    delay_p95: pd.Series = field(default_factory=_series)


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


def missing(
    delivered: pd.DataFrame, ctx: _Context, stats: HandoffStats | None = None
) -> pd.DataFrame:
    """``missing_event``: a business event its target normally receives never arrived.

    Deliveries sent so close to the end of the target's export that its usual latency
    (twice the median of that target and family, at least an hour) has not yet passed
    are pending, not missing.  ``stats`` (latencies, last receipts, received shares) are
    computed from ``delivered`` when not given.
    """
    expected = delivered[delivered["normal"]]
    lost = expected[~expected["received"]]
    if lost.empty:
        return _empty(Cause.MISSING_EVENT)
    if stats is None:
        stats = HandoffStats(
            received_share=expected.groupby([TARGET, FAMILY, LOCATION])["received"].mean(),
            latency_p50=expected[expected["received"]]
            .groupby([TARGET, FAMILY])[LATENCY_H]
            .median(),
            last_received=delivered.groupby(TARGET)["received_at"].max(),
        )
    wait = stats.latency_p50.reindex(pd.MultiIndex.from_frame(lost[[TARGET, FAMILY]]))
    hours = np.maximum(np.nan_to_num(wait.to_numpy(dtype=float), nan=24.0) * 2, 1.0)
    due = (lost["sent_at"] + pd.to_timedelta(hours, unit="h")).to_numpy()
    lost = lost[due <= lost[TARGET].map(stats.last_received).to_numpy()]
    if lost.empty:
        return _empty(Cause.MISSING_EVENT)
    where = pd.MultiIndex.from_frame(lost[[TARGET, FAMILY, LOCATION]])
    rate = stats.received_share.reindex(where).to_numpy(dtype=float)
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
        + lost[TARGET]
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
        **{SYSTEM: lost[TARGET], COUNTERPART: lost[SOURCE]},
        first_seen=lost["sent_at"],
        last_seen=lost["sent_at"],
        units=units,
        confidence=np.round(rate, 2),
        evidence=evidence,
    )
    return _findings(out, Cause.MISSING_EVENT)


def record_delays(matches: pd.DataFrame) -> pd.DataFrame:
    """Applied − occurred (h) of every first record but syncs.

    Returns
    -------
    pandas.DataFrame
        The rows of ``matches`` that :func:`late` judges, plus ``delay`` (h).
    """
    rows = matches[~matches[DUPLICATE] & (matches[KIND] != str(EventKind.SYNC))]
    delay = (rows[APPLIED_AT] - rows[OCCURRED_AT]).dt.total_seconds() / 3600.0
    return rows.assign(delay=delay)


def late(matches: pd.DataFrame, ctx: _Context, stats: HandoffStats | None = None) -> pd.DataFrame:
    """``sync_lag``: a record applied far beyond its system's usual delay for that kind.

    Delay = applied_at − occurred_at; usual = the p95 of the system and kind (over
    ``matches``, or ``stats.delay_p95`` when given); late = beyond
    ``max(lag_factor × p95, p95 + lag_floor_h)``.  Syncs are not events of their own and
    are skipped.
    """
    rules = ctx.rules
    rows = record_delays(matches)
    delay = rows["delay"]
    if stats is None:
        p95 = delay.groupby([rows[SYSTEM], rows[KIND]]).transform(lambda d: d.quantile(0.95))
    else:
        where = pd.MultiIndex.from_arrays([rows[SYSTEM], rows[KIND]])
        p95 = pd.Series(stats.delay_p95.reindex(where).to_numpy(dtype=float), index=rows.index)
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
