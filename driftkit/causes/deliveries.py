"""Deliveries: every business event paired with each other system that could have received it.

:func:`first_records` keeps each system's first record of each business event (the rows of
:func:`driftkit.causes.match.match_events`) with the shape of its reference
(:func:`~driftkit.causes.refformat.reference_formats`); :func:`delivery_candidates` joins every source record with each
system whose event export covers it (:mod:`driftkit.causes.stats` marks the systems that
*normally* receive that kind family at that location).  The handoff map (:mod:`driftkit.causes.handoffs`) and the
``missing_event`` detector read these rows.  :func:`shared_candidates` builds both once per
matched-events frame: the profile pass (:func:`driftkit.causes.stats.stats_part`) and the
attribution of the same part ask for the same rows.  See ``docs/causes.md``.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from driftkit.causes.context import (
    APPLIED_AT,
    BUSINESS_EVENT,
    COPY,
    FAMILY,
    LATENCY_H,
    MAGNITUDE,
    REF_FORMAT,
    SOURCE,
    TARGET,
)
from driftkit.causes.match import micros
from driftkit.causes.refformat import reference_formats
from driftkit.drift.codes import named_codes, take_coded
from driftkit.schema import (
    COMMIT_DELTA,
    EVENT_ID,
    KIND,
    LOCATION,
    QTY_DELTA,
    RAW_REFERENCE,
    REFERENCE,
    SKU,
    SYSTEM,
)

#: The columns of a source's first record that a delivery candidate carries.
SOURCE_NUMBERS = [BUSINESS_EVENT, QTY_DELTA, COMMIT_DELTA, MAGNITUDE, APPLIED_AT]
#: The text columns of a source's first record that :func:`candidate_texts` takes.
SOURCE_TEXTS = [SKU, LOCATION, FAMILY, KIND, SOURCE, REFERENCE, RAW_REFERENCE, REF_FORMAT]
SOURCE_TEXTS += [EVENT_ID]
SPAN_SLACK_H = 24.0  # a target's export "covers" events sent up to a day before its first row


def first_records(matches: pd.DataFrame) -> pd.DataFrame:
    """Each system's first record of each business event, with its reference format.

    Returns
    -------
    pandas.DataFrame
        The rows of ``matches`` that are the earliest (``applied_at``) of their
        (business_event, system), plus ``ref_format`` (:func:`~driftkit.causes.refformat.reference_formats` of
        ``raw_reference``, else ``reference``) and ``copies`` (the largest ``copy`` of any of
        that system's rows of the business event).
    """
    system = pd.factorize(matches[SYSTEM], sort=True)[0]
    when = micros(matches[APPLIED_AT])
    when = np.where(when == np.iinfo(np.int64).min, np.iinfo(np.int64).max, when)  # NaT last
    order = np.lexsort((system, when))  # stable: by applied_at, then system, then row
    pair = matches[BUSINESS_EVENT].to_numpy() * (system.max() + 1) + system
    rows = order[~pd.Series(pair[order]).duplicated().to_numpy()]
    code = pd.factorize(pair)[0]
    copies = pd.Series(matches[COPY].to_numpy()).groupby(code).max().to_numpy()  # by code
    first = matches.iloc[rows].reset_index(drop=True)
    first["copies"] = copies[code[rows]]
    formats = reference_formats(first[RAW_REFERENCE].fillna(first[REFERENCE]))
    return first.assign(**{REF_FORMAT: formats})


def first_records_of(matches: pd.DataFrame) -> pd.DataFrame:
    """:func:`first_records`, also for a part without events (typed, empty)."""
    if len(matches):
        return first_records(matches)
    return matches.assign(copies=pd.Series(dtype="int64"), **{REF_FORMAT: pd.Series(dtype="str")})


def delivery_candidates(first: pd.DataFrame, span: pd.DataFrame) -> pd.DataFrame:
    """Every source record joined with each system whose export span ``span`` covers it.

    The source's and the target's records stay in ``first``: a candidate carries their row
    positions and the numbers the handoff statistics read, and :func:`candidate_texts` takes
    the text columns for the rows that need them (each text column costs a take per row).

    Parameters
    ----------
    first
        Output of :func:`first_records`.
    span
        Per system (index), the ``min`` and ``max`` of its ``applied_at``.

    Returns
    -------
    pandas.DataFrame
        :data:`SOURCE_NUMBERS` of the source's row of ``first``, ``target``, ``min``,
        ``max``, ``source_row`` and ``target_row`` (the rows of ``first``; −1 where the
        target never applied the event), the target's ``applied_at_target`` and
        ``copies`` (NaN where it never applied the event) and ``received``.
    """
    sources = np.flatnonzero((first[SYSTEM] == first[SOURCE]).to_numpy(dtype=bool))
    targets = span.rename_axis(TARGET).reset_index()
    source, target = _covered(first[APPLIED_AT].iloc[sources], targets)
    candidates = pd.concat(  # each source column taken once, straight from ``first``
        [
            first[SOURCE_NUMBERS].iloc[sources[source]].reset_index(drop=True),
            targets[["min", "max"]].iloc[target].reset_index(drop=True),
        ],
        axis=1,
    )
    row = _rows_of(first, candidates[BUSINESS_EVENT], target, targets[TARGET])
    for column in (APPLIED_AT, "copies"):
        name = "copies" if column == "copies" else f"{column}_target"
        candidates[name] = first[column].array.take(row, allow_fill=True)
    received = candidates[f"{APPLIED_AT}_target"].notna()
    return candidates.assign(  # the target's codes come from the few systems' (take_coded)
        **{TARGET: take_coded(targets[TARGET], target)},
        source_row=sources[source],
        target_row=row,
        received=received,
    )


def candidate_texts(
    candidates: pd.DataFrame, first: pd.DataFrame, rows: np.ndarray
) -> dict[str, pd.Series]:
    """The text columns of ``candidates``' rows ``rows``, taken from their ``first`` records:
    :data:`SOURCE_TEXTS` of the source's and ``ref_format_target``, ``event_id_target``
    of the target's (NaN where it never applied the event); index 0..len(rows)−1."""
    source = candidates["source_row"].to_numpy()[rows]
    target = candidates["target_row"].to_numpy()[rows]
    texts = {c: pd.Series(first[c].array.take(source)) for c in SOURCE_TEXTS}
    for column in (REF_FORMAT, EVENT_ID):
        texts[f"{column}_target"] = pd.Series(first[column].array.take(target, allow_fill=True))
    return texts


_SHARED: list[tuple[weakref.ref[pd.DataFrame], pd.DataFrame, pd.DataFrame, pd.DataFrame]] = []


def shared_candidates(
    matches: pd.DataFrame, span: pd.DataFrame, *, keep: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`first_records_of` ``matches`` and their :func:`delivery_candidates`, built once.

    The last result is kept while ``matches`` lives (matched events are never modified in
    place: tables in, tables out) and ``span`` is the same frame, so the profile pass and
    the attribution of one part build them once; ``keep=False`` (the last reader) hands
    the kept result over and lets it go.  Callers must not modify the frames.

    Returns
    -------
    tuple of pandas.DataFrame
        ``(first, candidates)``: the columns of :func:`first_records` and of
        :func:`delivery_candidates`.
    """
    kept = _SHARED[:1]  # one read of the slot (a worker's other thread may replace it)
    if kept and kept[0][0]() is matches and kept[0][1] is span:
        first, candidates = kept[0][2], kept[0][3]
    else:
        first = first_records_of(matches)
        candidates = delivery_candidates(first, span)
    entry = (weakref.ref(matches, lambda _: _SHARED.clear()), span, first, candidates)
    _SHARED[:] = [entry] if keep else []
    return first, candidates


def _covered(sent: pd.Series, targets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Every (source row, target row) whose target's span covers the send time, in source
    then target order (a cross join filtered by ``min − slack <= sent <= max``)."""
    n, m = len(sent), len(targets)
    source, target = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    at = sent.to_numpy(dtype="datetime64[us]")[source]
    opened = (targets["min"] - pd.Timedelta(hours=SPAN_SLACK_H)).to_numpy(dtype="datetime64[us]")
    closed = targets["max"].to_numpy(dtype="datetime64[us]")
    keep = (at >= opened[target]) & (at <= closed[target])  # NaT compares False
    return source[keep], target[keep]


def _rows_of(
    first: pd.DataFrame, business: pd.Series, target: np.ndarray, targets: pd.Series
) -> np.ndarray:
    """The row of ``first`` holding each (business event, ``targets[target]``); -1 where
    none does.  Systems are looked up once per distinct name, not once per row."""
    codes, names = named_codes(first[SYSTEM])
    systems = pd.Index(pd.unique(np.concatenate([names, targets.to_numpy(dtype=object)])))
    width = max(len(systems), 1)
    have = first[BUSINESS_EVENT].to_numpy(np.int64) * width + systems.get_indexer(names)[codes]
    wanted = systems.get_indexer(targets.to_numpy(dtype=object))[target]
    want = business.to_numpy(np.int64) * width + wanted
    return np.asarray(pd.Index(have).get_indexer(pd.Index(want)))


_DELIVERY_NAMES = {
    REF_FORMAT: "source_format",
    f"{REF_FORMAT}_target": "target_format",
    EVENT_ID: "source_event_id",
    f"{EVENT_ID}_target": "target_event_id",
    APPLIED_AT: "sent_at",
    f"{APPLIED_AT}_target": "received_at",
}
#: The candidate columns :func:`_delivery_columns` reads besides :func:`candidate_texts`'.
CANDIDATE_NUMBERS = [BUSINESS_EVENT, TARGET, QTY_DELTA, COMMIT_DELTA, MAGNITUDE, "received"]
CANDIDATE_NUMBERS += ["copies", APPLIED_AT, f"{APPLIED_AT}_target"]


def _delivery_columns(joined: pd.DataFrame) -> pd.DataFrame:
    """Name and order the columns of :func:`deliveries` (``joined``: at least
    :data:`CANDIDATE_NUMBERS`, :func:`candidate_texts` and ``normal``)."""
    out = joined.rename(columns=_DELIVERY_NAMES)
    out[LATENCY_H] = (out["received_at"] - out["sent_at"]).dt.total_seconds() / 3600.0
    out["copies"] = out["copies"].fillna(0).astype(np.int64)
    columns = [BUSINESS_EVENT, SKU, LOCATION, FAMILY, KIND, SOURCE, TARGET, REFERENCE]
    columns += [RAW_REFERENCE, "source_format", "target_format", "source_event_id"]
    columns += ["target_event_id", QTY_DELTA, COMMIT_DELTA, MAGNITUDE, "sent_at", "received_at"]
    return out[[*columns, LATENCY_H, "received", "copies", "normal"]].reset_index(drop=True)
