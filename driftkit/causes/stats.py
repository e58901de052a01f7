"""The handoff statistics the event detectors judge by: per-part pieces and one combine.

``missing_event`` needs the share of deliveries a target normally receives, the usual
latency of an edge and each target's last receipt; ``sync_lag`` the usual record delay of
each system and kind.  Each part of an audit returns the summable pieces of those numbers
(:func:`stats_part`: counts, and latencies and delays as samples), :func:`handoff_stats`
combines them (quantiles selected exactly from every part's samples, never pooled:
:mod:`driftkit.causes.quantiles`) and :func:`normal_deliveries`
marks each part's deliveries with the client-wide *normal* test.  :func:`deliveries` is the
one-part case.  See ``docs/causes.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftkit.causes.callouts import sorted_factorize
from driftkit.causes.context import (
    APPLIED_AT,
    DEFAULT_MATCH_RULES,
    DUPLICATE,
    FAMILY,
    SOURCE,
    TARGET,
    MatchRules,
)
from driftkit.causes.deliveries import (
    CANDIDATE_NUMBERS,
    _delivery_columns,
    candidate_texts,
    delivery_candidates,
    first_records_of,
    shared_candidates,
)
from driftkit.causes.handoffs import (
    SampleParts,
    grouped_samples,
    sample_stats,
    samples,
)
from driftkit.causes.quantiles import MEDIAN
from driftkit.drift.codes import column_codes, combined_codes
from driftkit.schema import KIND, LOCATION, OCCURRED_AT, RECORDED_AT, SYSTEM, EventKind

DELIVERY_GROUP = [TARGET, FAMILY, LOCATION]
RECEIVED_AT = f"{APPLIED_AT}_target"


def _series() -> pd.Series:
    return pd.Series(dtype="float64")


@dataclass(frozen=True)
class HandoffStats:
    """Client-wide statistics of the handoff map that the event detectors compare with.

    One value per client, combined from every part's :class:`StatsPart` by
    :func:`handoff_stats`; ``missing_event`` and ``sync_lag`` judge each part with them.

    Attributes
    ----------
    normal
        ``(target, family, location)`` → share of the business events sent while the target
        exported events that it recorded (the source's own record included):
        ``deliveries.deliveries``' *normal* test.
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


@dataclass(frozen=True)
class StatsPart:
    """One part's pieces of :class:`HandoffStats`.

    Attributes
    ----------
    shares
        ``target, family, location, received, deliveries, received_others, others``.
    latencies
        ``(target, family, location)`` → latency (h) of every received delivery.
    last_received
        ``target`` → its last receipt (UTC).
    delays
        ``(system, kind)`` → record delay (h) of every first record but syncs.

    A partitioned audit's workers store ``latencies`` and ``delays``
    (:class:`~driftkit.causes.handoffs.StoredSamples`); the driver never pools them.
    """

    shares: pd.DataFrame
    latencies: SampleParts
    last_received: pd.Series
    delays: SampleParts


def export_spans(events: pd.DataFrame) -> pd.DataFrame:
    """Each system's event export span: ``min``, ``max`` of when its events took effect
    (``recorded_at``, else ``occurred_at``), indexed by system."""
    applied = events[RECORDED_AT].fillna(events[OCCURRED_AT])
    return applied.groupby(events[SYSTEM]).agg(["min", "max"])


def stats_part(matches: pd.DataFrame, span: pd.DataFrame) -> StatsPart:
    """One part's pieces of the handoff statistics.

    Parameters
    ----------
    matches
        The part's :func:`~driftkit.causes.match.match_events`.
    span
        The client's :func:`export_spans`.
    """
    first, candidates = shared_candidates(matches, span)
    group, groups = delivery_groups(candidates, first)
    kept = group >= 0  # a group with a missing value is not counted, as in a groupby
    other = _others(candidates, first)
    others = kept & other
    received, n = candidates["received"].to_numpy(dtype=bool), len(groups)
    shares = groups.assign(
        received=np.bincount(group[kept], received[kept], n).astype(np.int64),
        deliveries=np.bincount(group[kept], minlength=n),
        received_others=np.bincount(group[others], received[others], n).astype(np.int64),
        others=np.bincount(group[others], minlength=n),
    )
    got = np.flatnonzero(others & received)
    sent = candidates[[APPLIED_AT, RECEIVED_AT]].iloc[got]
    latency = (sent[RECEIVED_AT] - sent[APPLIED_AT]).dt.total_seconds() / 3600.0
    last = candidates[[TARGET, RECEIVED_AT]][other]
    return StatsPart(
        shares=shares,
        latencies=grouped_samples(group[got], groups, latency.to_numpy(dtype=float)),
        last_received=last.groupby(TARGET)[RECEIVED_AT].max(),
        delays=samples(record_delays(matches, [SYSTEM, KIND]), [SYSTEM, KIND], "delay"),
    )


def handoff_stats(parts: list[StatsPart], rules: MatchRules = DEFAULT_MATCH_RULES) -> HandoffStats:
    """The client's handoff statistics from every part's pieces (quantiles over all samples)."""
    shares = pd.concat([p.shares for p in parts]).groupby(DELIVERY_GROUP).sum()
    normal = shares["received"] / shares["deliveries"]
    received_share = shares["received_others"] / shares["others"].where(shares["others"] > 0)

    def normal_family(key: tuple[str, ...]) -> tuple[str, ...] | None:
        """(target, family) ← every normal location's samples."""
        return key[:2] if normal.get(key, 0.0) >= rules.normal_share else None

    lasts = pd.concat([p.last_received for p in parts])
    return HandoffStats(
        normal=normal,
        received_share=received_share,
        latency_p50=sample_stats(
            [p.latencies for p in parts], [TARGET, FAMILY], [MEDIAN], regroup=normal_family
        )[0],
        last_received=lasts.groupby(level=0).max(),
        delay_p95=sample_stats([p.delays for p in parts], [SYSTEM, KIND], [0.95])[0],
    )


def normal_deliveries(
    first: pd.DataFrame,
    span: pd.DataFrame,
    stats: HandoffStats,
    rules: MatchRules = DEFAULT_MATCH_RULES,
) -> pd.DataFrame:
    """One row per business event and every other system that could have received it.

    A system could have received a business event when the event was applied at the
    source within that system's export ``span`` (from a day before its first record to its
    last).  The row is ``normal`` when that system normally receives the event's kind
    family at its location: ``stats.normal`` ≥ ``rules.normal_share``.  ``first`` is
    :func:`~driftkit.causes.deliveries.first_records_of` the part's matched events.

    Returns
    -------
    pandas.DataFrame
        Columns ``business_event, sku, location, family, kind, source, target, reference,
        raw_reference, source_format, target_format, source_event_id, target_event_id,
        qty_delta, commit_delta, magnitude, sent_at, received_at, latency_h, received,
        copies, normal``: ``kind``/``qty_delta``/``commit_delta``/``magnitude`` are the
        source's record, ``received_at`` NaT and ``received`` False when the target never
        applied it, ``copies`` the number of times the target applied it beyond the first.
    """
    return marked_deliveries(delivery_candidates(first, span), first, stats, rules)


def marked_deliveries(
    candidates: pd.DataFrame,
    first: pd.DataFrame,
    stats: HandoffStats,
    rules: MatchRules = DEFAULT_MATCH_RULES,
) -> pd.DataFrame:
    """:func:`normal_deliveries` of already built
    :func:`~driftkit.causes.deliveries.delivery_candidates` of ``first`` (not modified).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`normal_deliveries`.
    """
    group, groups = delivery_groups(candidates, first)  # the profile's codes, cached
    share = stats.normal.reindex(pd.MultiIndex.from_frame(groups)).to_numpy(dtype=float)
    normal = np.append(share >= rules.normal_share, False)[group]  # −1: a missing value
    rows = np.flatnonzero(_others(candidates, first))
    numbers = candidates[CANDIDATE_NUMBERS].iloc[rows].reset_index(drop=True)
    texts = candidate_texts(candidates, first, rows)  # taken once, for these rows only
    return _delivery_columns(numbers.assign(**texts, normal=normal[rows]))


def delivery_groups(
    candidates: pd.DataFrame, first: pd.DataFrame
) -> tuple[np.ndarray, pd.DataFrame]:
    """:func:`~driftkit.causes.handoffs.group_codes` of the candidates by
    :data:`DELIVERY_GROUP`, the source's family and location coded once in ``first``.

    Returns
    -------
    tuple
        ``(codes, groups)``: int64 per candidate (−1 where a value is missing) and the
        groups present, columns ``target, family, location``.
    """
    row = candidates["source_row"].to_numpy()
    target, targets = sorted_factorize(candidates[TARGET])
    coded = [sorted_factorize(first[column]) for column in (FAMILY, LOCATION)]
    codes = [target, *(c[row] for c, _ in coded)]
    return combined_codes(codes, [targets, *(names for _, names in coded)], DELIVERY_GROUP)


def _others(candidates: pd.DataFrame, first: pd.DataFrame) -> np.ndarray:
    """Whether each candidate's target is another system than its source (by codes)."""
    source, sources = column_codes(first[SOURCE])
    target, targets = column_codes(candidates[TARGET])
    mine = np.append(pd.Index(sources).get_indexer(targets), -1)[target]  # −1: not a source
    source = source[candidates["source_row"].to_numpy()]
    return (mine != source) | (source < 0)


def client_stats(
    matches: pd.DataFrame, rules: MatchRules = DEFAULT_MATCH_RULES
) -> tuple[pd.DataFrame, HandoffStats]:
    """The export spans and handoff statistics of a client that is one part."""
    span = export_spans(matches)
    return span, handoff_stats([stats_part(matches, span)], rules)


def deliveries(matches: pd.DataFrame, rules: MatchRules = DEFAULT_MATCH_RULES) -> pd.DataFrame:
    """:func:`normal_deliveries` of a client that is one part (its own spans and statistics).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`normal_deliveries`.
    """
    span, stats = client_stats(matches, rules)
    return normal_deliveries(first_records_of(matches), span, stats, rules)


def record_delays(matches: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Applied − occurred (h) of every first record but syncs.

    ``columns``: only these columns of the rows (every column when None); the detectors
    filter further before they need the rest, and each text column costs a take per filter.

    Returns
    -------
    pandas.DataFrame
        The rows of ``matches`` that :func:`late` judges (index kept), ``columns`` of them,
        plus ``delay`` (h).
    """
    keep = delayed_rows(matches)
    rows = matches.loc[keep, columns if columns is not None else matches.columns]
    delay = (matches[APPLIED_AT] - matches[OCCURRED_AT])[keep].dt.total_seconds() / 3600.0
    return rows.assign(delay=delay)


def delayed_rows(matches: pd.DataFrame) -> np.ndarray:
    """Which rows :func:`record_delays` keeps: first records but syncs (bool, one per row)."""
    return (~matches[DUPLICATE] & (matches[KIND] != str(EventKind.SYNC))).to_numpy(dtype=bool)
