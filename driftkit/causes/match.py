"""Event matching across systems (DESIGN §6): one ``business_event`` id per business event.

The same business event (an order, a receipt, a count ...) is usually recorded by several
systems, each with its own event id and latency.  :func:`match_events` gives every event
row a ``business_event`` id: events match when they share the normalized ``reference``,
the ``sku`` and a compatible kind (:data:`COMPATIBLE_KINDS`), when they lie within
``window_hours`` of each other (gap-chained on ``occurred_at``) and when their quantities
are consistent (equal magnitude, a pack-size multiple, or the same total over one
system's partial records).  A system that applied the same business event twice (same
kind, location and sign) has its later copies flagged ``duplicate``.  Everything is
vectorized: keys are factorized once and clusters are found with one sort and a
cumulative sum.

The steps after matching live beside it: :mod:`driftkit.causes.deliveries` (one row per
business event and possible target), :mod:`driftkit.causes.handoffs` (the handoff map)
and :mod:`driftkit.causes.callouts` (formats whose events vanish).  See ``docs/causes.md``.
Their names that modules outside ``causes/`` import from here (``driftkit/__init__.py``,
``scale/``, ``bench/``) are re-exported (``import x as x``) until those imports move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.context import (
    APPLIED_AT,
    BUSINESS_EVENT,
    COPY,
    DEFAULT_MATCH_RULES,
    DUPLICATE,
    FAMILY,
    LATENCY_H,
    MAGNITUDE,
    QTY_CONSISTENT,
    SOURCE,
    MatchRules,
)
from driftkit.drift.codes import column_codes, map_coded, sorted_codes
from driftkit.schema import (
    COMMIT_DELTA,
    EVENT_ID,
    KIND,
    LOCATION,
    OCCURRED_AT,
    PACK_SIZE,
    QTY_DELTA,
    RECORDED_AT,
    REFERENCE,
    SET_QTY,
    SKU,
    SYSTEM,
    EventKind,
)

US_PER_HOUR = 3_600_000_000

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
    rules: MatchRules = DEFAULT_MATCH_RULES,
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
        FAMILY: map_coded(events[KIND], KIND_FAMILY).astype("str").reset_index(drop=True),
        MAGNITUDE: magnitudes(frame),
        APPLIED_AT: pd.Series(pd.to_datetime(applied_at(frame), unit="us", utc=True)),
    }
    frame = frame.assign(**derived)
    clusters = _cluster(frame, rules.window_hours, events)
    consistent = _quantity_consistent(frame, clusters, _pack_sizes(events, catalog), events)
    business = _split_inconsistent(frame, clusters, consistent)
    frame[BUSINESS_EVENT] = business
    frame[QTY_CONSISTENT] = consistent
    frame[COPY] = _copies(frame, events)
    frame[DUPLICATE] = frame[COPY] > 0
    return _with_source(frame, events[SYSTEM])


def _text_codes(events: pd.DataFrame, column: str) -> tuple[np.ndarray, int]:
    """``pd.factorize(events[column], use_na_sentinel=False)`` as (codes, number of distinct
    values) from the column's cached :func:`~driftkit.drift.codes.column_codes`: values
    numbered in order of first appearance, a missing value where it first appears."""
    codes, names = column_codes(events[column])
    missing = codes < 0
    if not missing.any():
        return codes, len(names)
    at = int(codes[: np.argmax(missing)].max(initial=-1)) + 1  # values seen before it
    return np.where(missing, at, codes + (codes >= at)), len(names) + 1


def _codes(*columns: pd.Series | tuple[np.ndarray, int]) -> np.ndarray:
    """One int64 code per distinct combination of ``columns`` (NaN is its own value); a
    column may come factorized already, as ``(codes, number of distinct values)``."""
    code = np.zeros(len(columns[0][0] if isinstance(columns[0], tuple) else columns[0]), np.int64)
    span = 1
    for column in columns:
        if isinstance(column, tuple):
            values, distinct = column
        else:
            values, uniques = pd.factorize(column, use_na_sentinel=False)
            distinct = len(uniques)
        if span * (distinct + 1) >= 2**62:
            code, seen = pd.factorize(code)
            span = len(seen)
        code = code * (distinct + 1) + values
        span *= distinct + 1
    return code


def _cluster(frame: pd.DataFrame, window_hours: float, events: pd.DataFrame) -> np.ndarray:
    """Cluster id per row: same family+sku+reference, gap-chained within the window."""
    key = _codes(frame[FAMILY], _text_codes(events, SKU), frame[REFERENCE])  # not kept coded
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
    return map_coded(frame[SKU], packs).fillna(1.0).clip(lower=1.0).to_numpy(dtype=float)


def _quantity_consistent(
    frame: pd.DataFrame, clusters: np.ndarray, pack: np.ndarray, events: pd.DataFrame
) -> np.ndarray:
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
    part = pd.factorize(
        _codes(pd.Series(clusters), _text_codes(events, SYSTEM), _text_codes(events, KIND))
    )[0]
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


def _copies(frame: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """Repeat number of each row among its system's records of the same business event.

    Rows of one (business event, system, kind, location, sign) are ranked by
    ``applied_at``, ties broken by ``event_id``.
    """
    sign = np.sign(frame[QTY_DELTA].fillna(frame[COMMIT_DELTA]).fillna(0.0))
    group = _codes(
        frame[BUSINESS_EVENT],
        _text_codes(events, SYSTEM),
        _text_codes(events, KIND),
        _text_codes(events, LOCATION),
        pd.Series(sign),
    )
    order = _copy_order(group, micros(frame[APPLIED_AT]), frame[EVENT_ID])
    copies = np.empty(len(order), dtype=np.int64)
    copies[order] = _rank_in_runs(group[order])
    return copies


def _copy_order(group: np.ndarray, when: np.ndarray, event_ids: pd.Series) -> np.ndarray:
    """``np.lexsort((sorted rank of event_id, when, group))`` with one sort of every row.

    The rows are sorted by (group, when); only the few rows tied on both are then put in
    ``event_id``'s sorted order within their tie (sorting every id costs more than the
    matching).
    """
    order = np.lexsort((when, group))
    same = (group[order][1:] == group[order][:-1]) & (when[order][1:] == when[order][:-1])
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    at = np.flatnonzero(tied)  # sorted positions of tied rows, each tie's in input order
    if not len(at):
        return order
    tie = np.cumsum(np.concatenate(([True], ~same)))[at]
    rows = order[at]
    rank = pd.factorize(event_ids.iloc[rows], sort=True)[0]
    order[at] = rows[np.lexsort((rank, tie))]
    return order


def _rank_in_runs(sorted_codes: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal values (0, 1, 2 ...)."""
    position = np.arange(len(sorted_codes))
    starts = np.ones(len(sorted_codes), dtype=bool)
    starts[1:] = sorted_codes[1:] != sorted_codes[:-1]
    return position - np.maximum.accumulate(np.where(starts, position, 0))


def _with_source(frame: pd.DataFrame, system: pd.Series) -> pd.DataFrame:
    """Add ``source`` (first system to apply each business event) and ``latency_h``;
    ``system`` is the events' own column (its codes computed once per audit)."""
    business = frame[BUSINESS_EVENT].to_numpy()
    when = micros(frame[APPLIED_AT])
    systems = sorted_codes(system)[0]
    order = np.lexsort((systems, when, business))
    firsts = order[_rank_in_runs(business[order]) == 0]
    first_row = np.empty(business.max(initial=-1) + 1, dtype=np.int64)
    first_row[business[firsts]] = firsts
    source_row = first_row[business]
    latency = (when - when[source_row]) / US_PER_HOUR
    source = frame[SYSTEM].astype("str").array.take(source_row)
    return frame.assign(**{SOURCE: source, LATENCY_H: latency})
