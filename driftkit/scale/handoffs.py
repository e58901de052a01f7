"""Handoff statistics over all buckets, for the event detectors that compare with them.

``match.deliveries``, ``_causes_events.missing``/``late`` and ``match.map_handoffs`` decide
with statistics over the whole client (export spans, the share of deliveries a target
normally receives, latency medians, p95 delays, reference-format counts).  Here each bucket
returns the parts of those statistics (:func:`event_profile`), the driver combines them
(:func:`handoff_stats`; quantiles over the concatenated samples) and the unpartitioned
detectors run per bucket with the combined values (their ``stats`` parameter).
"""

from __future__ import annotations

import pandas as pd

from driftkit.causes.callouts import format_counts
from driftkit.causes.context import REF_FORMAT, TARGET
from driftkit.causes.deliveries import _delivery_columns, delivery_candidates, first_records
from driftkit.causes.event_detectors import HandoffStats, record_delays
from driftkit.causes.handoffs import Samples, pooled, sample_stat, samples
from driftkit.causes.match import APPLIED_AT, FAMILY, LATENCY_H, SOURCE, match_events
from driftkit.load.client import ClientData
from driftkit.scale.plan import RULES, Plan, Profile
from driftkit.schema import (
    KIND,
    LOCATION,
    SYSTEM,
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
    return delivery_candidates(first_records_of(matches), span)


def event_profile(data: ClientData, plan: Plan) -> tuple[pd.DataFrame, Samples, pd.Series, Samples]:
    """The bucket's share parts, received latencies (per target, family, location), last
    receipts and record delays (per system, kind)."""
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
    return (
        shares.fillna(0).reset_index(),
        samples(got[DELIVERY_GROUP].assign(**{LATENCY_H: latency}), DELIVERY_GROUP, LATENCY_H),
        others.groupby(TARGET)[RECEIVED_AT].max(),
        samples(record_delays(matches), [SYSTEM, KIND], "delay"),
    )


def handoff_stats(profiles: list[Profile]) -> HandoffStats:
    """Global handoff statistics from every bucket's parts (quantiles over all samples)."""
    shares = pd.concat([p.shares for p in profiles]).groupby(DELIVERY_GROUP).sum()
    normal = shares["received"] / shares["deliveries"]
    received_share = shares["received_others"] / shares["others"].where(shares["others"] > 0)
    by_family = pooled(  # (target, family) ← every normal location's samples
        [
            {key[:2]: values}
            for p in profiles
            for key, values in p.latencies.items()
            if normal.get(key, 0.0) >= RULES.match.normal_share
        ]
    )
    lasts = pd.concat([p.last_received for p in profiles])
    return HandoffStats(
        normal=normal,
        received_share=received_share,
        latency_p50=sample_stat(by_family, [TARGET, FAMILY], pd.Series.median),
        last_received=lasts.groupby(level=0).max(),
        delay_p95=sample_stat(
            pooled([p.delays for p in profiles]), [SYSTEM, KIND], lambda d: d.quantile(0.95)
        ),
    )


def deliveries(matches: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """``match.deliveries`` with the client's export spans and *normal* shares."""
    joined = candidates(matches, plan.span)
    share = plan.handoffs.normal.reindex(pd.MultiIndex.from_frame(joined[DELIVERY_GROUP]))
    joined["normal"] = share.to_numpy(dtype=float) >= RULES.match.normal_share
    return _delivery_columns(joined[joined[TARGET] != joined[SOURCE]])


def format_parts(edges: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """``match.format_counts`` of one bucket, also for a bucket without events."""
    return format_counts(edges, first_records_of(matches))
