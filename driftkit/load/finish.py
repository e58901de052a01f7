"""From staged rows to canonical tables: shared by every format (DESIGN §4 bad-input rules).

A format module *stages* a file: one row per input cell group with the raw SKU, location,
time and quantity strings, its physical ``line`` and, for structural non-data rows, a
``reason``.  :func:`finish_snapshots` and :func:`finish_events` normalize and parse those
columns, reject what carries no information or is ambiguous, resolve duplicate keys and
account for every line, with the steps of :mod:`driftkit.load.rows`.
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.load.aggregate import sum_rows
from driftkit.load.normalize import normalize_references
from driftkit.load.rows import (
    CELL_HEADER,
    Context,
    Finished,
    Problems,
    account,
    keys_and_location,
    parse_times,
    partial_note,
    quantities,
    resolve_duplicates,
    timestamps,
)
from driftkit.load.sentinels import mark_sentinels
from driftkit.load.wide import cell_note

MEASURES = (s.ON_HAND, s.AVAILABLE, s.COMMITTED, "unavailable")
DELTAS = (s.QTY_DELTA, s.COMMIT_DELTA, s.SET_QTY)
BIN = "bin"


def finish_snapshots(staged: pd.DataFrame, ctx: Context, broken: pd.DataFrame) -> Finished:
    """Canonical snapshots from a staged file, with rejects and notes.

    Returns
    -------
    Finished
        ``table`` has the SNAPSHOTS columns: system, sku, location, as_of, on_hand,
        available, committed.
    """
    assert ctx.system is not None
    problems = Problems(staged, ctx.headers)
    lines = staged[s.LINE].astype("int64")
    out = keys_and_location(staged, ctx, problems)
    if s.AS_OF in staged:
        out[s.AS_OF] = timestamps(staged, s.AS_OF, ctx, problems, required=ctx.as_of is None)
        if ctx.as_of is not None:
            out[s.AS_OF] = out[s.AS_OF].fillna(ctx.as_of)
    else:
        out[s.AS_OF] = pd.Series(ctx.as_of, index=staged.index, dtype="datetime64[us, UTC]")
    values, soft = quantities(staged, MEASURES, ctx, problems)
    values, soft, sentinel_notes = mark_sentinels(staged, values, soft, out[s.LOCATION], ctx)
    values = _derive_on_hand(values)
    measured = [c for c in (s.ON_HAND, s.AVAILABLE, s.COMMITTED) if c in values]
    first = next(c for c in MEASURES if c in staged)
    problems.flag(values[measured].isna().all(axis=1), soft, first, staged[first])
    table = pd.concat([out, values[measured]], axis=1)
    keys = [s.SKU, s.LOCATION, s.AS_OF] + ([BIN] if BIN in staged else [])
    if BIN in staged:
        table[BIN] = staged[BIN].astype("str").str.strip().fillna("")
    summing = ctx.system.aggregate == "sum"
    if not summing:
        resolve_duplicates(table, keys, measured, lines, problems)
    accepted = problems.ok
    rejects, n_ok, n_bad = account(lines, accepted, problems, ctx, broken)
    kept = table[accepted]
    origin = kept.index[~kept.duplicated(keys[:3])] if BIN in kept else kept.index
    if BIN in kept:
        kept = kept.groupby(keys[:3], sort=False, as_index=False)[measured].sum(min_count=1)
    notes = sentinel_notes + partial_note(lines, problems, ctx)
    if summing:
        kept, summed = sum_rows(kept, measured, ctx)
        notes += summed
    if CELL_HEADER in staged:
        notes += cell_note(staged, ctx, problems)
    kept = kept.assign(**{s.SYSTEM: ctx.system.id})
    table = s.conform(kept, "snapshots")
    return Finished(table, rejects, n_ok, n_bad, notes, None if summing else origin)


def _derive_on_hand(values: pd.DataFrame) -> pd.DataFrame:
    """on_hand = available + committed + unavailable when only the parts are exported."""
    if s.ON_HAND in values or "unavailable" not in values:
        return values.drop(columns=["unavailable"], errors="ignore")
    parts = values.reindex(columns=[s.AVAILABLE, s.COMMITTED, "unavailable"])
    derived = parts.sum(axis=1, min_count=3)
    return values.drop(columns=["unavailable"]).assign(**{s.ON_HAND: derived})


def finish_events(staged: pd.DataFrame, ctx: Context, broken: pd.DataFrame) -> Finished:
    """Canonical events from a staged file (kinds already canonical or a ``reason`` set).

    Returns
    -------
    Finished
        ``table`` has the EVENTS columns: system, sku, location, event_id, kind, qty_delta,
        commit_delta, set_qty, occurred_at, recorded_at, reference, raw_reference,
        source_as_of.
    """
    assert ctx.system is not None
    problems = Problems(staged, ctx.headers)
    lines = staged[s.LINE].astype("int64")
    out = keys_and_location(staged, ctx, problems)
    problems.flag(staged[s.KIND].isna(), staged["kind_reason"], s.KIND, staged["kind_raw"])
    out[s.KIND] = staged[s.KIND]
    times = parse_times(staged, (s.OCCURRED_AT, s.RECORDED_AT, s.SOURCE_AS_OF), ctx)
    out[s.OCCURRED_AT] = timestamps(
        staged, s.OCCURRED_AT, ctx, problems, required=True, parsed=times
    )
    for col in (s.RECORDED_AT, s.SOURCE_AS_OF):
        out[col] = timestamps(staged, col, ctx, problems, required=False, parsed=times)
    values, _ = quantities(staged, DELTAS, ctx, problems)
    problems.flag(
        values.isna().all(axis=1) if len(values.columns) else pd.Series(True, index=staged.index),
        "no quantity: qty_delta, commit_delta and set_qty are all empty",
        next((c for c in DELTAS if c in staged), s.QTY_DELTA),
        staged.get(next((c for c in DELTAS if c in staged), s.SKU), staged[s.SKU]),
    )
    if s.EVENT_ID in staged:
        event_id = staged[s.EVENT_ID].astype("str").str.strip()
        out[s.EVENT_ID] = event_id.where(event_id.str.len() > 0)
    if s.REFERENCE in staged:
        raw = staged[s.REFERENCE].astype("str").str.strip()
        out[s.RAW_REFERENCE] = raw.where(raw.str.len() > 0)
        out[s.REFERENCE] = normalize_references(raw)
    table = pd.concat([out, values], axis=1)
    accepted = problems.ok
    rejects, n_ok, n_bad = account(lines, accepted, problems, ctx, broken)
    kept = table[accepted].assign(**{s.SYSTEM: ctx.system.id})
    return Finished(s.conform(kept, "events"), rejects, n_ok, n_bad, origin=kept.index)
