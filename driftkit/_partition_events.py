"""Handoff statistics over all buckets, and the event detectors that compare with them.

``match.deliveries``, ``_causes_events.missing``/``late`` and ``match.map_handoffs`` decide
with statistics over the whole client (export spans, the share of deliveries a target
normally receives, latency medians, p95 delays, reference-format counts).  Here each bucket
returns the parts of those statistics (:func:`event_profile`), the driver combines them
(:func:`handoff_stats`; quantiles over the concatenated samples) and the detectors run per
bucket with the combined values: the same rules and texts as the unpartitioned modules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit._causes import (
    _Context,
    _empty,
    _findings,
    _label,
    _units_text,
)
from driftkit._partition_plan import RULES, HandoffStats, Plan, Profile
from driftkit.compare import (
    COUNTERPART,
)
from driftkit.loaders import ClientData
from driftkit.match import (
    APPLIED_AT,
    BUSINESS_EVENT,
    DUPLICATE,
    EDGE,
    FAMILY,
    HANDOFF_COLUMNS,
    LATENCY_H,
    REF_FORMAT,
    SOURCE,
    SPAN_SLACK_H,
    TARGET,
    _delivery_columns,
    _format_lists,
    first_records,
    match_events,
)
from driftkit.schema import (
    EVENT_ID,
    KIND,
    LOCATION,
    OCCURRED_AT,
    SYSTEM,
    Cause,
    EventKind,
)

DELIVERY_GROUP = [TARGET, FAMILY, LOCATION]


RECEIVED_AT = f"{APPLIED_AT}_target"


def first_records_of(matches: pd.DataFrame) -> pd.DataFrame:
    """``match.first_records``, also for a bucket without events."""
    if len(matches):
        return first_records(matches)
    return matches.assign(copies=pd.Series(dtype="int64"), **{REF_FORMAT: pd.Series(dtype="str")})


def candidates(matches: pd.DataFrame, span: pd.DataFrame) -> pd.DataFrame:
    """``match.deliveries`` up to ``received``, with the client's export spans ``span``."""
    first = first_records_of(matches)
    sources = first[first[SYSTEM] == first[SOURCE]]
    candidates = sources.merge(span.rename_axis(TARGET).reset_index(), how="cross")
    opened = candidates["min"] - pd.Timedelta(hours=SPAN_SLACK_H)
    candidates = candidates[candidates[APPLIED_AT].between(opened, candidates["max"])]
    received = first[[BUSINESS_EVENT, SYSTEM, APPLIED_AT, REF_FORMAT, EVENT_ID, "copies"]]
    joined = candidates.drop(columns="copies").merge(
        received.rename(columns={SYSTEM: TARGET}),
        on=[BUSINESS_EVENT, TARGET],
        how="left",
        suffixes=("", "_target"),
    )
    return joined.assign(received=joined[RECEIVED_AT].notna())


def event_profile(
    data: ClientData, plan: Plan
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame]:
    """The bucket's share parts, received latencies, last receipts and record delays."""
    matches = match_events(data.events, catalog=data.catalog, rules=RULES.match)
    joined = candidates(matches, plan.span)
    others = joined[joined[TARGET] != joined[SOURCE]]
    shares = joined.groupby(DELIVERY_GROUP)["received"].agg(received="sum", deliveries="size")
    shares = shares.join(
        others.groupby(DELIVERY_GROUP)["received"].agg(received_others="sum", others="size"),
        how="outer",
    )
    got = others[others["received"]]
    latency = (got[RECEIVED_AT] - got[APPLIED_AT]).dt.total_seconds() / 3600.0
    rows = matches[~matches[DUPLICATE] & (matches[KIND] != str(EventKind.SYNC))]
    delay = (rows[APPLIED_AT] - rows[OCCURRED_AT]).dt.total_seconds() / 3600.0
    return (
        shares.fillna(0).reset_index(),
        got[DELIVERY_GROUP].assign(**{LATENCY_H: latency}),
        others.groupby(TARGET)[RECEIVED_AT].max(),
        rows[[SYSTEM, KIND]].assign(delay=delay),
    )


def handoff_stats(profiles: list[Profile]) -> HandoffStats:
    """Global handoff statistics from every bucket's parts (quantiles over all samples)."""
    shares = pd.concat([p.shares for p in profiles]).groupby(DELIVERY_GROUP).sum()
    normal = shares["received"] / shares["deliveries"]
    received_share = shares["received_others"] / shares["others"].where(shares["others"] > 0)
    latencies = pd.concat([p.latencies for p in profiles], ignore_index=True)
    where = pd.MultiIndex.from_frame(latencies[DELIVERY_GROUP])
    latencies = latencies[normal.reindex(where).to_numpy() >= RULES.match.normal_share]
    delays = pd.concat([p.delays for p in profiles], ignore_index=True)
    lasts = pd.concat([p.last_received for p in profiles])
    return HandoffStats(
        normal=normal,
        received_share=received_share,
        latency_p50=latencies.groupby([TARGET, FAMILY])[LATENCY_H].median(),
        last_received=lasts.groupby(level=0).max(),
        delay_p95=delays.groupby([SYSTEM, KIND])["delay"].agg(lambda d: d.quantile(0.95)),
    )


EDGE_COLUMNS = [
    BUSINESS_EVENT,
    SOURCE,
    TARGET,
    KIND,
    "source_format",
    "target_format",
    LATENCY_H,
    "received",
    "copies",
    "normal",
]


def deliveries(matches: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """``match.deliveries`` with the client's export spans and *normal* shares."""
    joined = candidates(matches, plan.span)
    share = plan.handoffs.normal.reindex(pd.MultiIndex.from_frame(joined[DELIVERY_GROUP]))
    joined["normal"] = share.to_numpy(dtype=float) >= RULES.match.normal_share
    return _delivery_columns(joined[joined[TARGET] != joined[SOURCE]])


def format_parts(edges: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """``match.format_callouts``' counts per target, kind, recording system and format."""
    expected = edges.drop_duplicates([BUSINESS_EVENT, TARGET])[[BUSINESS_EVENT, TARGET, KIND]]
    seen = first_records_of(matches)[[BUSINESS_EVENT, SYSTEM, REF_FORMAT]]
    rows = expected.merge(seen, on=BUSINESS_EVENT)
    rows = rows[rows[SYSTEM] != rows[TARGET]]
    got = edges.set_index([BUSINESS_EVENT, TARGET])["received"]
    where = pd.MultiIndex.from_frame(rows[[BUSINESS_EVENT, TARGET]])
    rows = rows.assign(missing=~got.reindex(where).to_numpy(dtype=bool))
    stats = rows.groupby([TARGET, KIND, SYSTEM, REF_FORMAT])["missing"]
    return stats.agg(events="size", missing="sum").reset_index()


def missing_events(delivered: pd.DataFrame, ctx: _Context, stats: HandoffStats) -> pd.DataFrame:
    """``_causes_events.missing`` with the client's latencies, last receipts and shares."""
    expected = delivered[delivered["normal"]]
    lost = expected[~expected["received"]]
    if lost.empty:
        return _empty(Cause.MISSING_EVENT)
    wait = stats.latency_p50.reindex(pd.MultiIndex.from_frame(lost[[TARGET, FAMILY]]))
    hours = np.maximum(np.nan_to_num(wait.to_numpy(dtype=float), nan=24.0) * 2, 1.0)
    due = (lost["sent_at"] + pd.to_timedelta(hours, unit="h")).to_numpy()
    lost = lost[due <= lost[TARGET].map(stats.last_received).to_numpy()]
    if lost.empty:
        return _empty(Cause.MISSING_EVENT)
    where = pd.MultiIndex.from_frame(lost[DELIVERY_GROUP])
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


def late_records(matches: pd.DataFrame, ctx: _Context, stats: HandoffStats) -> pd.DataFrame:
    """``_causes_events.late`` with the client's usual delay (p95) per system and kind."""
    rules = ctx.rules
    rows = matches[~matches[DUPLICATE] & (matches[KIND] != str(EventKind.SYNC))]
    delay = (rows[APPLIED_AT] - rows[OCCURRED_AT]).dt.total_seconds() / 3600.0
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


def handoff_map(edges: pd.DataFrame) -> pd.DataFrame:
    """``match.map_handoffs``' table from every bucket's normal deliveries."""
    table = (
        edges.assign(doubled=edges["copies"] > 0)
        .groupby(EDGE)
        .agg(
            events=("received", "size"), matched=("received", "sum"), duplicated=("doubled", "sum")
        )
    )
    table["missing"] = table["events"] - table["matched"]
    table["missing_share"] = table["missing"] / table["events"]
    table["source_formats"] = _format_lists(edges, "source_format")
    table["target_formats"] = _format_lists(edges, "target_format")
    latency = edges[edges["received"]].groupby(EDGE)[LATENCY_H]
    table["latency_p50_h"] = latency.quantile(0.5)
    table["latency_p95_h"] = latency.quantile(0.95)
    table = table.reset_index().reindex(columns=HANDOFF_COLUMNS)
    table = table.astype({c: np.int64 for c in ("events", "matched", "missing", "duplicated")})
    return table.sort_values(EDGE, ignore_index=True)


def format_callouts(stats: pd.DataFrame) -> list[str]:
    """``match.format_callouts`` from every bucket's counts per target, kind, system, format."""
    rules = RULES.match
    group = [TARGET, KIND, SYSTEM]
    stats = stats.groupby([*group, REF_FORMAT])[["events", "missing"]].sum().reset_index()
    totals = stats.groupby(group)[["events", "missing"]].transform("sum")
    other_events = totals["events"] - stats["events"]
    other_missing = totals["missing"] - stats["missing"]
    other_share = (other_missing / other_events.where(other_events > 0)).fillna(0.0)
    hit = (
        (stats["missing"] >= rules.callout_min_missing)
        & (stats["missing"] >= 0.5 * stats["events"])
        & (other_share <= rules.callout_other_share)
    )
    stats = stats.assign(other_events=other_events, other_missing=other_missing)[hit]
    stats = stats.sort_values(
        ["missing", TARGET, KIND, SYSTEM], ascending=[False, True, True, True]
    )
    return [
        f"{r.target} never received {r.missing} of {r.events} {r.kind}s whose "
        f"{r.system} reference looks like `{r.ref_format}` (all other formats: "
        f"{r.other_missing} missing of {r.other_events})"
        for r in stats.itertuples(index=False)
    ]
