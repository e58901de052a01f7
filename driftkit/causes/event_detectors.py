"""Cause detectors over the matched events: duplicates, missing events, late records.

Each takes the rows of :func:`driftkit.causes.match.match_events` (or the deliveries of
:func:`driftkit.causes.deliveries.deliveries`) and returns findings of one cause (rules in
``docs/causes.md``).  Stale syncs, which need the counts too, are in
:mod:`driftkit.causes.stale_detectors`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.context import (
    APPLIED_AT,
    BUSINESS_EVENT,
    CONFIDENCE,
    COPY,
    DUPLICATE,
    FAMILY,
    SOURCE,
    TARGET,
    _Context,
    _empty,
    _findings,
    _label,
    _units_text,
)
from driftkit.causes.stats import HandoffStats, delayed_rows, record_delays
from driftkit.drift.codes import named_codes
from driftkit.drift.pairs import COUNTERPART
from driftkit.schema import EVENT_ID, KIND, LOCATION, OCCURRED_AT, REFERENCE, SYSTEM, Cause


def duplicates(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``duplicate_event``: a system applied the same business event more than once.

    One finding per (system, business event, location); ``units`` = the summed effect of
    the extra copies on the measure.
    """
    group = [BUSINESS_EVENT, SYSTEM, KIND, LOCATION]
    extra = matches[matches[DUPLICATE]]
    if extra.empty:
        return _empty(Cause.DUPLICATE_EVENT)
    first = (matches[COPY] == 0) & matches[BUSINESS_EVENT].isin(extra[BUSINESS_EVENT].unique())
    originals = matches.loc[first, [*group, APPLIED_AT, EVENT_ID]].drop_duplicates(group)
    pairs = extra.merge(originals, on=group, suffixes=("", "_first"))
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
        confidence=CONFIDENCE["duplicate"],
        evidence=evidence,
        event_ids=_record_ids(pairs, shown[per]),
    )
    return _findings(out, Cause.DUPLICATE_EVENT)


def _record_ids(pairs: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Per row of ``keys`` (a finding's columns of ``pairs``): the event ids of the first
    record and of every copy in ``pairs``, each once, in applied order, joined by ``;``."""
    per = list(keys.columns)
    first = pairs[[*per, f"{APPLIED_AT}_first", f"{EVENT_ID}_first"]]
    records = pd.concat(
        [first.set_axis([*per, APPLIED_AT, EVENT_ID], axis=1), pairs[[*per, APPLIED_AT, EVENT_ID]]],
        ignore_index=True,
    ).drop_duplicates([*per, EVENT_ID])
    records = records.sort_values([*per, APPLIED_AT, EVENT_ID], kind="stable")
    joined = (records[EVENT_ID] + ";").groupby([records[c] for c in per], dropna=False).sum()
    return joined.str[:-1].reindex(pd.MultiIndex.from_frame(keys)).to_numpy()


def missing(delivered: pd.DataFrame, ctx: _Context, stats: HandoffStats) -> pd.DataFrame:
    """``missing_event``: a business event its target normally receives never arrived.

    Only events with a reference that move the measure count (a sync or count without
    one is the target's own business).  Deliveries sent so close to the end of the target's export that its usual latency
    (twice the median of that target and family, at least an hour) has not yet passed
    are pending, not missing.  ``stats`` gives the latencies, last receipts and received
    shares over the whole client (:func:`driftkit.causes.stats.handoff_stats`).
    """
    lost = delivered[delivered["normal"] & ~delivered["received"]]  # expected, never received
    lost = lost[lost[REFERENCE].notna() & (ctx.effect(lost) != 0)]  # a write that moves stock
    if lost.empty:
        return _empty(Cause.MISSING_EVENT)
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
        confidence=CONFIDENCE["missing"],
        evidence=evidence,
        event_ids=lost["source_event_id"],
    )
    return _findings(out, Cause.MISSING_EVENT)


def late(matches: pd.DataFrame, ctx: _Context, stats: HandoffStats) -> pd.DataFrame:
    """``sync_lag``: a record applied far beyond its system's usual delay for that kind.

    Delay = applied_at − occurred_at; usual = the p95 of the system and kind over the
    whole client (``stats.delay_p95``); late = beyond
    ``max(lag_factor × p95, p95 + lag_floor_h)``.  Syncs are not events of their own and
    are skipped.
    """
    rules = ctx.rules
    rows = record_delays(matches, [])  # the text columns only for the late rows
    delay = rows["delay"]
    p95 = pd.Series(_usual_delays(matches, stats)[delayed_rows(matches)], index=rows.index)
    limit = np.maximum(rules.lag_factor * p95, p95 + rules.lag_floor_h)
    hit = matches.loc[rows.index[delay > limit]].assign(delay=delay, usual=p95)
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
        confidence=CONFIDENCE["late"],
        evidence=evidence,
        event_ids=hit[EVENT_ID],
    )
    return _findings(out, Cause.SYNC_LAG)


def _usual_delays(matches: pd.DataFrame, stats: HandoffStats) -> np.ndarray:
    """Each row's ``stats.delay_p95`` of its (system, kind), looked up once per distinct pair
    of the columns' cached codes (float, NaN where unknown)."""
    system, systems = named_codes(matches[SYSTEM])
    kind, kinds = named_codes(matches[KIND])
    pairs = pd.MultiIndex.from_product([pd.Index(systems), pd.Index(kinds)])
    table = stats.delay_p95.reindex(pairs).to_numpy(dtype=float)
    return table.reshape(len(systems), len(kinds))[system, kind]
