"""Event matching across systems and the handoff map (DESIGN §6).

The same business event (an order, a receipt, a count ...) is usually recorded by several
systems, each with its own event id and latency.  :func:`match_events` gives every event
row a ``business_event`` id: events match when they share the normalized ``reference``,
the ``sku`` and a compatible kind (:data:`COMPATIBLE_KINDS`), when they lie within
``window_hours`` of each other (gap-chained on ``occurred_at``) and when their quantities
are consistent (equal magnitude, a pack-size multiple, or the same total over one
system's partial records).  A system that applied the same business event twice (same
kind, location and sign) has its later copies flagged ``duplicate``.

:func:`deliveries` turns the matches into one row per (business event, target system),
:func:`map_handoffs` aggregates them per edge (source → target, kind) and writes the
callouts about reference formats whose events vanish.  Everything is vectorized: keys are
factorized once and clusters are found with one sort and a cumulative sum.
See ``docs/causes.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from driftkit.schema import (
    COMMIT_DELTA,
    EVENT_ID,
    KIND,
    LOCATION,
    OCCURRED_AT,
    PACK_SIZE,
    QTY_DELTA,
    RAW_REFERENCE,
    RECORDED_AT,
    REFERENCE,
    SET_QTY,
    SKU,
    SYSTEM,
    EventKind,
)

BUSINESS_EVENT = "business_event"
FAMILY = "family"
MAGNITUDE = "magnitude"
COPY = "copy"
DUPLICATE = "duplicate"
SOURCE = "source"
TARGET = "target"
LATENCY_H = "latency_h"
QTY_CONSISTENT = "qty_consistent"
REF_FORMAT = "ref_format"
APPLIED_AT = "applied_at"
US_PER_HOUR = 3_600_000_000
SPAN_SLACK_H = 24.0  # a target's export "covers" events sent up to a day before its first row

#: Which event kinds can record the same business event, in one place.  Kinds in one
#: family match each other across (and within) systems: a storefront ``order`` and a WMS
#: ``shipment`` with the same reference are one business order.
COMPATIBLE_KINDS: dict[str, frozenset[EventKind]] = {
    "sale": frozenset({EventKind.ORDER, EventKind.SHIPMENT}),
    "cancel": frozenset({EventKind.CANCEL}),
    "receipt": frozenset({EventKind.RECEIPT}),
    "return": frozenset({EventKind.RETURN}),
    "adjustment": frozenset({EventKind.ADJUSTMENT}),
    "count": frozenset({EventKind.COUNT}),
    "sync": frozenset({EventKind.SYNC}),
    "transfer": frozenset({EventKind.TRANSFER}),
}
KIND_FAMILY: dict[str, str] = {
    str(kind): family for family, kinds in COMPATIBLE_KINDS.items() for kind in kinds
}


@dataclass(frozen=True)
class MatchRules:
    """Documented thresholds of matching and of the handoff map.

    Attributes
    ----------
    window_hours
        Events of one reference, SKU and kind family more than this apart (gap between
        consecutive ``occurred_at``) are different business events.
    normal_share
        A system *normally* receives a kind family at a location when it recorded at least
        this share of the business events of that family and location that happened
        within its export span.
    callout_min_missing
        Fewest missing events of one format worth a callout.
    callout_other_share
        A callout needs the other formats' missing share to be at most this.
    """

    window_hours: float = 168.0
    normal_share: float = 0.5
    callout_min_missing: int = 3
    callout_other_share: float = 0.05


def reference_formats(raw: pd.Series) -> pd.Series:
    """The shape of each raw reference: digits become ``9``, letters ``A``.

    A leading run of letters is kept as written: it names the document type (``PO``,
    ``SO``, ``RMA``) and is what tells two formats apart.

    Returns
    -------
    pandas.Series
        ``str`` dtype, same index: ``PO-000123`` → ``PO-999999``, ``PO#123-b`` →
        ``PO#999-A``, ``#1001`` → ``#9999``; NaN stays NaN.
    """
    parts = raw.astype("str").str.extract(r"^([^\W\d_]*)(.*)$", expand=True)
    rest = parts[1].str.replace(r"\d", "9", regex=True).str.replace(r"[^\W\d_]", "A", regex=True)
    return (parts[0] + rest).astype("str")


def micros(stamps: pd.Series) -> np.ndarray:
    """UTC timestamps as int64 microseconds since the epoch (NaT → int64 min)."""
    return stamps.to_numpy(dtype="datetime64[us]").astype(np.int64)


def applied_at(events: pd.Series | pd.DataFrame) -> np.ndarray:
    """When each event took effect in its system: ``recorded_at``, else ``occurred_at``."""
    recorded = micros(events[RECORDED_AT])
    return np.where(recorded == np.iinfo(np.int64).min, micros(events[OCCURRED_AT]), recorded)


def magnitudes(events: pd.DataFrame) -> pd.Series:
    """Unsigned size of each event: ``|qty_delta|``, else ``|commit_delta|``, else ``set_qty``."""
    return events[QTY_DELTA].abs().fillna(events[COMMIT_DELTA].abs()).fillna(events[SET_QTY])


def match_events(
    events: pd.DataFrame,
    *,
    catalog: pd.DataFrame | None = None,
    rules: MatchRules = MatchRules(),
) -> pd.DataFrame:
    """Recognize the same business event in every system that recorded it.

    Parameters
    ----------
    events
        Canonical events (``schema.EVENTS``); not mutated.
    catalog
        Canonical catalog; its ``pack_size`` lets a case quantity match an each quantity.
    rules
        Matching thresholds.

    Returns
    -------
    pandas.DataFrame
        The event rows in input order with a fresh ``RangeIndex``: every canonical column
        plus ``family`` (kind family), ``magnitude`` (unsigned size), ``applied_at`` (UTC),
        ``business_event`` (int64 id shared by matched rows; unmatched rows get their own),
        ``qty_consistent`` (False when the quantity split the row off its reference group),
        ``copy`` (0 for the first application of this kind/location/sign in this system,
        k for the k-th repeat), ``duplicate`` (copy > 0), ``source`` (the system that
        applied the business event first) and ``latency_h`` (hours after the source
        applied it).
    """
    frame = events.reset_index(drop=True)
    derived: dict[str, pd.Series] = {
        FAMILY: frame[KIND].map(KIND_FAMILY).astype("str"),
        MAGNITUDE: magnitudes(frame),
        APPLIED_AT: pd.Series(pd.to_datetime(applied_at(frame), unit="us", utc=True)),
    }
    frame = frame.assign(**derived)
    clusters = _cluster(frame, rules.window_hours)
    consistent = _quantity_consistent(frame, clusters, _pack_sizes(frame, catalog))
    business = _split_inconsistent(frame, clusters, consistent)
    frame[BUSINESS_EVENT] = business
    frame[QTY_CONSISTENT] = consistent
    frame[COPY] = _copies(frame)
    frame[DUPLICATE] = frame[COPY] > 0
    return _with_source(frame)


def _codes(*columns: pd.Series) -> np.ndarray:
    """One int64 code per distinct combination of ``columns`` (NaN is its own value)."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for column in columns:
        values, uniques = pd.factorize(column, use_na_sentinel=False)
        if span * (len(uniques) + 1) >= 2**62:
            code, seen = pd.factorize(code)
            span = len(seen)
        code = code * (len(uniques) + 1) + values
        span *= len(uniques) + 1
    return code


def _cluster(frame: pd.DataFrame, window_hours: float) -> np.ndarray:
    """Cluster id per row: same family+sku+reference, gap-chained within the window."""
    key = _codes(frame[FAMILY], frame[SKU], frame[REFERENCE])
    unmatched = frame[REFERENCE].isna().to_numpy()
    key = np.where(unmatched, key.max(initial=0) + 1 + np.arange(len(frame)), key)
    when = micros(frame[OCCURRED_AT])
    order = np.lexsort((when, key))
    key_sorted, when_sorted = key[order], when[order]
    starts = np.ones(len(frame), dtype=bool)
    starts[1:] = (key_sorted[1:] != key_sorted[:-1]) | (
        np.diff(when_sorted) > window_hours * US_PER_HOUR
    )
    clusters = np.empty(len(frame), dtype=np.int64)
    clusters[order] = np.cumsum(starts) - 1
    return clusters


def _pack_sizes(frame: pd.DataFrame, catalog: pd.DataFrame | None) -> np.ndarray:
    """Pack size per event row from the catalog (1 when unknown)."""
    if catalog is None or catalog.empty:
        return np.ones(len(frame))
    packs = catalog.drop_duplicates(SKU).set_index(SKU)[PACK_SIZE]
    return frame[SKU].map(packs).fillna(1.0).clip(lower=1.0).to_numpy(dtype=float)


def _quantity_consistent(frame: pd.DataFrame, clusters: np.ndarray, pack: np.ndarray) -> np.ndarray:
    """Whether each row's size agrees with its cluster's first-applied size.

    Agreement: equal, a pack-size multiple either way (within half an each, so that a
    case quantity rounded in an export still matches), or the row's system recorded the
    same total in several partial rows of that kind.
    """
    size = frame[MAGNITUDE].to_numpy(dtype=float)
    order = np.lexsort((micros(frame[APPLIED_AT]), clusters))
    first = np.full(clusters.max(initial=-1) + 1, np.nan)
    first[clusters[order[::-1]]] = size[order[::-1]]
    anchor = first[clusters]
    part = pd.factorize(_codes(pd.Series(clusters), frame[SYSTEM], frame[KIND]))[0]
    total = np.bincount(part, weights=np.nan_to_num(size))[part]
    residue = 0.5 + 1e-9  # a case quantity rounded in the export still matches within half an each
    return (
        np.isnan(size)
        | np.isnan(anchor)
        | np.isclose(size, anchor)
        | ((pack > 1) & (np.abs(size - anchor * pack) <= residue))
        | ((pack > 1) & (np.abs(size * pack - anchor) <= residue))
        | np.isclose(total, anchor)
    )


def _split_inconsistent(
    frame: pd.DataFrame, clusters: np.ndarray, consistent: np.ndarray
) -> np.ndarray:
    """Business event ids: rows with an inconsistent size form groups of their own size."""
    odd = ~consistent
    extra = pd.factorize(_codes(pd.Series(clusters[odd]), frame.loc[odd, MAGNITUDE]))[0]
    business = clusters.copy()
    business[odd] = clusters.max(initial=-1) + 1 + extra
    return business


def _copies(frame: pd.DataFrame) -> np.ndarray:
    """Repeat number of each row among its system's records of the same business event.

    Rows of one (business event, system, kind, location, sign) are ranked by
    ``applied_at``, ties broken by ``event_id``.
    """
    sign = np.sign(frame[QTY_DELTA].fillna(frame[COMMIT_DELTA]).fillna(0.0))
    group = _codes(
        frame[BUSINESS_EVENT], frame[SYSTEM], frame[KIND], frame[LOCATION], pd.Series(sign)
    )
    event_ids = pd.factorize(frame[EVENT_ID], sort=True)[0]
    order = np.lexsort((event_ids, micros(frame[APPLIED_AT]), group))
    return _rank_in_runs(group[order])[np.argsort(order)]


def _rank_in_runs(sorted_codes: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal values (0, 1, 2 ...)."""
    position = np.arange(len(sorted_codes))
    starts = np.ones(len(sorted_codes), dtype=bool)
    starts[1:] = sorted_codes[1:] != sorted_codes[:-1]
    return position - np.maximum.accumulate(np.where(starts, position, 0))


def _with_source(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``source`` (first system to apply each business event) and ``latency_h``."""
    business = frame[BUSINESS_EVENT].to_numpy()
    when = micros(frame[APPLIED_AT])
    systems = pd.factorize(frame[SYSTEM], sort=True)[0]
    order = np.lexsort((systems, when, business))
    firsts = order[_rank_in_runs(business[order]) == 0]
    first_row = np.empty(business.max(initial=-1) + 1, dtype=np.int64)
    first_row[business[firsts]] = firsts
    source_row = first_row[business]
    latency = (when - when[source_row]) / US_PER_HOUR
    source = frame[SYSTEM].to_numpy()[source_row]
    return frame.assign(**{SOURCE: pd.array(source, dtype="str"), LATENCY_H: latency})


def first_records(matches: pd.DataFrame) -> pd.DataFrame:
    """Each system's first record of each business event, with its reference format.

    Returns
    -------
    pandas.DataFrame
        The rows of ``matches`` that are the earliest (``applied_at``) of their
        (business_event, system), plus ``ref_format`` (:func:`reference_formats` of
        ``raw_reference``, else ``reference``) and ``copies`` (the largest ``copy`` of any of
        that system's rows of the business event).
    """
    first = matches.sort_values([APPLIED_AT, SYSTEM], kind="stable").drop_duplicates(
        [BUSINESS_EVENT, SYSTEM]
    )
    groups = matches.groupby([BUSINESS_EVENT, SYSTEM], sort=False, as_index=False)
    first = first.merge(groups.agg(copies=(COPY, "max")), on=[BUSINESS_EVENT, SYSTEM])
    formats = reference_formats(first[RAW_REFERENCE].fillna(first[REFERENCE]))
    return first.assign(**{REF_FORMAT: formats})


def deliveries(matches: pd.DataFrame, rules: MatchRules = MatchRules()) -> pd.DataFrame:
    """One row per business event and every other system that could have received it.

    A system could have received a business event when the event was applied at the
    source within that system's own event export span (from a day before its first
    ``applied_at`` to its last).  The row is ``normal`` when that system normally receives
    the event's kind family at its location (``rules.normal_share``).

    Parameters
    ----------
    matches
        Output of :func:`match_events`.
    rules
        ``normal_share``.

    Returns
    -------
    pandas.DataFrame
        Columns ``business_event, sku, location, family, kind, source, target, reference,
        raw_reference, source_format, target_format, source_event_id, target_event_id,
        qty_delta, commit_delta, magnitude, sent_at, received_at, latency_h, received, copies, normal``:
        ``kind``/``qty_delta``/``commit_delta``/``magnitude`` are the source's record, ``received_at`` NaT
        and ``received`` False when the target never applied it, ``copies`` the number of
        times the target applied it beyond the first.
    """
    span = matches.groupby(SYSTEM)[APPLIED_AT].agg(["min", "max"])
    joined = delivery_candidates(first_records(matches), span)
    share = joined.groupby([TARGET, FAMILY, LOCATION])["received"].transform("mean")
    joined["normal"] = share >= rules.normal_share
    return _delivery_columns(joined[joined[TARGET] != joined[SOURCE]])


def delivery_candidates(first: pd.DataFrame, span: pd.DataFrame) -> pd.DataFrame:
    """Every source record joined with each system whose export span ``span`` covers it.

    Parameters
    ----------
    first
        Output of :func:`first_records`.
    span
        Per system (index), the ``min`` and ``max`` of its ``applied_at``.

    Returns
    -------
    pandas.DataFrame
        The source's columns of ``first`` plus ``target``, ``min``, ``max``, the target's
        ``applied_at_target``, ``ref_format_target``, ``event_id_target``, ``copies``
        (NaN where the target never applied the event) and ``received``.
    """
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
    return joined.assign(received=joined[f"{APPLIED_AT}_target"].notna())


def _delivery_columns(joined: pd.DataFrame) -> pd.DataFrame:
    """Name and order the columns of :func:`deliveries`."""
    out = joined.rename(
        columns={
            REF_FORMAT: "source_format",
            f"{REF_FORMAT}_target": "target_format",
            EVENT_ID: "source_event_id",
            f"{EVENT_ID}_target": "target_event_id",
            APPLIED_AT: "sent_at",
            f"{APPLIED_AT}_target": "received_at",
        }
    )
    out[LATENCY_H] = (out["received_at"] - out["sent_at"]).dt.total_seconds() / 3600.0
    out["copies"] = out["copies"].fillna(0).astype(np.int64)
    columns = [BUSINESS_EVENT, SKU, LOCATION, FAMILY, KIND, SOURCE, TARGET, REFERENCE]
    columns += [RAW_REFERENCE, "source_format", "target_format", "source_event_id"]
    columns += ["target_event_id", QTY_DELTA, COMMIT_DELTA, MAGNITUDE, "sent_at", "received_at"]
    return out[[*columns, LATENCY_H, "received", "copies", "normal"]].reset_index(drop=True)


EDGE = [SOURCE, TARGET, KIND]
HANDOFF_COLUMNS = [
    *EDGE,
    "events",
    "matched",
    "missing",
    "duplicated",
    "missing_share",
    "source_formats",
    "target_formats",
    "latency_p50_h",
    "latency_p95_h",
]


def map_handoffs(
    delivered: pd.DataFrame,
    matches: pd.DataFrame,
    rules: MatchRules = MatchRules(),
) -> tuple[pd.DataFrame, list[str]]:
    """The handoff map: per edge, how many events arrived, vanished or doubled.

    Only deliveries to systems that normally receive the kind family at that location
    count (``normal``).

    Parameters
    ----------
    delivered
        Output of :func:`deliveries`.
    matches
        Output of :func:`match_events` (for the formats of every recording system).
    rules
        The callout thresholds.

    Returns
    -------
    tuple[pandas.DataFrame, list[str]]
        The map, columns ``source, target, kind, events, matched, missing, duplicated,
        missing_share, source_formats, target_formats, latency_p50_h, latency_p95_h``
        (formats as ``` `PO-999999` ×120, `#9999` ×3 ```, most frequent first); and the
        callouts about missing events that cluster on one reference format.
    """
    edges = delivered[delivered["normal"]]
    return handoff_table(edges), format_callouts(edges, matches, rules)


Samples = dict[tuple[str, ...], np.ndarray]


def samples(frame: pd.DataFrame, by: list[str], value: str) -> Samples:
    """The values of ``value`` as one float array per group of ``by`` (few groups: edges,
    systems × kinds), so quantiles can be taken exactly over samples pooled from partitions."""
    grouped = frame.groupby(by, sort=True)[value]
    return {tuple(str(k) for k in key): part.to_numpy(dtype=float) for key, part in grouped}


def pooled(parts: list[Samples]) -> Samples:
    """Per group, the concatenated samples of every part."""
    keys = sorted({key for part in parts for key in part})
    return {key: np.concatenate([p[key] for p in parts if key in p]) for key in keys}


def sample_stat(
    pool: Samples, names: list[str], stat: Callable[[pd.Series], float | np.floating[Any]]
) -> pd.Series:
    """``stat`` (e.g. ``pd.Series.median``) of each group's samples.

    Returns
    -------
    pandas.Series
        Indexed by ``names`` (one level per name), float.
    """
    keys = list(pool)
    index = pd.MultiIndex.from_arrays(
        [[k[i] for k in keys] for i in range(len(names))], names=names
    )
    return pd.Series([float(stat(pd.Series(v))) for v in pool.values()], index=index, dtype=float)


@dataclass(frozen=True)
class EdgeParts:
    """The parts of the handoff map that add up over partitions.

    Attributes
    ----------
    counts
        Indexed by ``source, target, kind``: ``events, matched, duplicated``.
    formats
        ``source, target, kind, side, format, n`` (side ``source_format`` or ``target_format``).
    latency
        Per edge, the latency (h) of every received delivery.
    """

    counts: pd.DataFrame
    formats: pd.DataFrame
    latency: Samples


def edge_parts(edges: pd.DataFrame) -> EdgeParts:
    """The summable parts of :func:`handoff_table` of ``edges`` (normal deliveries)."""
    counts = (
        edges.assign(doubled=edges["copies"] > 0)
        .groupby(EDGE)
        .agg(
            events=("received", "size"), matched=("received", "sum"), duplicated=("doubled", "sum")
        )
    )
    formats = pd.concat(
        [
            edges.groupby([*EDGE, side])
            .size()
            .rename("n")
            .reset_index()
            .rename(columns={side: "format"})
            .assign(side=side)
            for side in ("source_format", "target_format")
        ],
        ignore_index=True,
    )
    return EdgeParts(counts, formats, samples(edges[edges["received"]], EDGE, LATENCY_H))


def handoff_table(edges: pd.DataFrame) -> pd.DataFrame:
    """The handoff map of :func:`map_handoffs` from its normal deliveries ``edges``.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, target, kind, events, matched, missing, duplicated,
        missing_share, source_formats, target_formats, latency_p50_h, latency_p95_h``.
    """
    return handoff_from_parts([edge_parts(edges)])


def handoff_from_parts(parts: list[EdgeParts]) -> pd.DataFrame:
    """:func:`handoff_table` from the :class:`EdgeParts` of several partitions (exact).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`handoff_table`.
    """
    table = pd.concat([p.counts for p in parts]).groupby(level=EDGE).sum()
    table["missing"] = table["events"] - table["matched"]
    table["missing_share"] = table["missing"] / table["events"]
    every = pd.concat([p.formats for p in parts], ignore_index=True)
    formats = every.groupby([*EDGE, "side", "format"], as_index=False)["n"].sum()
    for side in ("source_format", "target_format"):
        table[f"{side}s"] = _format_lists(formats[formats["side"] == side])
    latency = pooled([p.latency for p in parts])
    table["latency_p50_h"] = sample_stat(latency, EDGE, lambda v: v.quantile(0.5))
    table["latency_p95_h"] = sample_stat(latency, EDGE, lambda v: v.quantile(0.95))
    table = table.reset_index().reindex(columns=HANDOFF_COLUMNS)
    table = table.astype({c: np.int64 for c in ("events", "matched", "missing", "duplicated")})
    return table.sort_values(EDGE, ignore_index=True)


def _format_lists(counts: pd.DataFrame) -> pd.Series:
    """Per edge, the reference formats seen with their counts (``format, n`` per edge)."""
    ordered = counts.sort_values([*EDGE, "n", "format"], ascending=[True, True, True, False, True])
    text = "`" + ordered["format"] + "` ×" + ordered["n"].astype(str)
    return text.groupby([ordered[c] for c in EDGE]).agg(", ".join)


def format_callouts(
    edges: pd.DataFrame,
    matches: pd.DataFrame,
    rules: MatchRules = MatchRules(),
) -> list[str]:
    """Sentences about targets whose missing events cluster on one reference format.

    For every target and kind, the business events it should have received are grouped
    by the format each *other* system wrote their reference in; a format is called out
    when at least ``callout_min_missing`` of its events and at least half of them never
    arrived while the same system's other formats lost at most ``callout_other_share``.

    Returns
    -------
    list[str]
        e.g. ``wms never received 14 of 16 receipts whose erp reference looks like
        `PO#999-A` (all other formats: 0 missing of 230)``.
    """
    return callouts_from_counts(format_counts(edges, first_records(matches)), rules)


def format_counts(edges: pd.DataFrame, first: pd.DataFrame) -> pd.DataFrame:
    """Per target, kind, recording system and reference format: expected and missing events.

    Parameters
    ----------
    edges
        The normal rows of :func:`deliveries`.
    first
        :func:`first_records` of the matches.

    Returns
    -------
    pandas.DataFrame
        Columns ``target, kind, system, ref_format, events, missing``.
    """
    expected = edges.drop_duplicates([BUSINESS_EVENT, TARGET])[[BUSINESS_EVENT, TARGET, KIND]]
    rows = expected.merge(first[[BUSINESS_EVENT, SYSTEM, REF_FORMAT]], on=BUSINESS_EVENT)
    rows = rows[rows[SYSTEM] != rows[TARGET]]
    got = edges.set_index([BUSINESS_EVENT, TARGET])["received"]
    where = pd.MultiIndex.from_frame(rows[[BUSINESS_EVENT, TARGET]])
    rows = rows.assign(missing=~got.reindex(where).to_numpy(dtype=bool))
    stats = rows.groupby([TARGET, KIND, SYSTEM, REF_FORMAT])["missing"]
    return stats.agg(events="size", missing="sum").reset_index()


def callouts_from_counts(counts: pd.DataFrame, rules: MatchRules = MatchRules()) -> list[str]:
    """The sentences of :func:`format_callouts` from :func:`format_counts` (or sums of them).

    Returns
    -------
    list[str]
        One sentence per reference format whose events vanish.
    """
    group = [TARGET, KIND, SYSTEM]
    stats = counts.groupby([*group, REF_FORMAT])[["events", "missing"]].sum().reset_index()
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
