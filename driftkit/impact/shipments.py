"""Units shipped per key and day: the demand the cost model observes (``docs/impact.md``).

Shipments are mirrored across systems, so each key's are read from one system, and a
replayed delivery counts once.  The rows are chosen by integer codes: each text column's
:func:`~driftkit.drift.codes.column_codes` are computed once per column and shared by the
profile and audit passes, so neither pass hashes the events' texts again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import Grid
from driftkit.drift.codes import column_codes, key_positions, row_codes, sorted_codes
from driftkit.impact.stock import HOLDER_KINDS
from driftkit.schema import (
    EVENT_ID,
    KIND,
    LOCATION,
    OCCURRED_AT,
    QTY_DELTA,
    REFERENCE,
    SKU,
    SYSTEM,
    EventKind,
)

#: First and last local day: ``pd.Timestamp`` each, ``pd.NaT`` when there is none.
DaySpan = tuple[Any, Any]
NO_SPAN: DaySpan = (pd.NaT, pd.NaT)

#: What makes two records of one system the same delivery replayed.
REPLAY_KEY = [SYSTEM, SKU, LOCATION, KIND, REFERENCE]


def daily_shipments(
    events: pd.DataFrame, grid: Grid, config: ClientConfig
) -> tuple[np.ndarray, DaySpan]:
    """Units shipped per ``[key, day]`` of one part, and its first and last shipment day.

    Shipments are mirrored across systems, so each key's are read from one system: the
    authority, then the stock holders (wms, 3pl) that record shipments for the key, else
    the system with the most shipment events for it.  A replayed delivery (same system,
    key, kind and reference, or same event id) counts once.  The span (local days, NaT
    when the part has no shipment of a grid key) bounds the days demand is observed on
    once combined over all parts (:func:`driftkit.impact.pooled.shipped_days`).
    """
    out = np.zeros(grid.values.shape[1:])
    rows, key = _shipment_rows(events, grid)
    if not len(rows):
        return out, NO_SPAN
    system, names = sorted_codes(events[SYSTEM])
    source = _source_per_key(key, system[rows], names, _preferred(grid, config))
    chosen = system[rows] == source[key]
    rows, key = rows[chosen], key[chosen]
    stamps = events[OCCURRED_AT].iloc[rows].reset_index(drop=True)
    local = stamps.dt.tz_convert(config.timezone).dt.tz_localize(None).dt.normalize()
    day = grid.days.get_indexer(pd.DatetimeIndex(local))
    units = np.abs(events[QTY_DELTA].to_numpy(dtype=np.float64, na_value=np.nan)[rows])
    keep = (day >= 0) & ~np.isnan(units)
    np.add.at(out, (key[keep], day[keep]), units[keep])
    return out, (local.min(), local.max())


def _shipment_rows(events: pd.DataFrame, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the shipment rows of a grid key, replays left out, and their key.

    The order is the one the sums are taken in: rows with a reference (first of each
    :data:`REPLAY_KEY`), then rows without one nor an event id, then the first row of
    each other event id.
    """
    if not len(events):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    kind, kinds = column_codes(events[KIND])
    shipment = np.flatnonzero(kinds == str(EventKind.SHIPMENT))
    key = key_positions(events, grid.keys)
    rows = np.flatnonzero(np.isin(kind, shipment) & (key >= 0))
    refs = pd.factorize(events[REFERENCE].iloc[rows])[0]  # near-unique texts: not kept coded
    with_ref = refs >= 0
    same = pd.factorize(row_codes(events, REPLAY_KEY[:-1], rows[with_ref]))[0]
    by_ref = rows[with_ref][_firsts(same * (refs.max(initial=0) + 1) + refs[with_ref])]
    rest = rows[~with_ref]
    ids = pd.factorize(events[EVENT_ID].iloc[rest])[0]
    has_id = ids >= 0
    by_id = rest[has_id][_firsts(ids[has_id])]
    rows = np.concatenate([by_ref, rest[~has_id], by_id])
    return rows, key[rows]


def _firsts(code: np.ndarray) -> np.ndarray:
    """Mask of the first row of each distinct code (``~duplicated``)."""
    found = pd.factorize(code)[0]  # numbered in order of first appearance
    return np.diff(np.maximum.accumulate(found), prepend=-1) > 0


def _source_per_key(
    key: np.ndarray, system: np.ndarray, names: np.ndarray, preferred: tuple[str, ...]
) -> np.ndarray:
    """Key → the sorted code of the system whose shipments count for it (−2: none).

    The first preferred system recording shipments of the key, else the one recording the
    most, ties to the first name in sorted order.
    """
    span = len(names)
    known = system >= 0
    counts = np.bincount(key[known] * span + system[known], minlength=(key.max() + 1) * span)
    found = np.flatnonzero(counts)
    pair_key, pair_system = np.divmod(found, span)
    rank = {s: i for i, s in enumerate(preferred)}
    ranks = np.array([rank.get(s, len(rank)) for s in names], dtype=np.int64)[pair_system]
    order = np.lexsort((pair_system, -counts[found], ranks, pair_key))
    best = order[np.r_[True, np.diff(pair_key[order]) > 0]] if len(order) else order
    source = np.full(key.max() + 1, -2, dtype=np.int64)
    source[pair_key[best]] = pair_system[best]
    return source


def _preferred(grid: Grid, config: ClientConfig) -> tuple[str, ...]:
    """Systems whose shipments count first: the authority, then the stock holders."""
    holders = [s for s, c in config.systems.items() if c.kind in HOLDER_KINDS]
    return (grid.authority, *[s for s in holders if s != grid.authority])
