"""Canonical tables (DESIGN §2): column names, closed vocabularies and pyarrow schemas.

Every loader produces these tables; every later step consumes them.  Column names and
vocabularies are defined here once and imported everywhere else.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:  # imported where used: `driftkit --help` and the config need no pandas
    import pandas as pd

# --- column names -------------------------------------------------------------------------
SYSTEM = "system"
SKU = "sku"
LOCATION = "location"
AS_OF = "as_of"
ON_HAND = "on_hand"
AVAILABLE = "available"
COMMITTED = "committed"
EVENT_ID = "event_id"
KIND = "kind"
QTY_DELTA = "qty_delta"
COMMIT_DELTA = "commit_delta"
SET_QTY = "set_qty"
OCCURRED_AT = "occurred_at"
RECORDED_AT = "recorded_at"
REFERENCE = "reference"
RAW_REFERENCE = "raw_reference"
SOURCE_AS_OF = "source_as_of"
COUNTED_AT = "counted_at"
COUNTED_QTY = "counted_qty"
UNIT_COST = "unit_cost"
UNIT_PRICE = "unit_price"
PACK_SIZE = "pack_size"
CATEGORY = "category"
TITLE = "title"
SOURCE_FILE = "source_file"
LINE = "line"
COLUMN = "column"
VALUE = "value"
REASON = "reason"
KEY = (SKU, LOCATION)


class SystemKind(StrEnum):
    """What kind of system a client system is."""

    WMS = "wms"
    ERP = "erp"
    STOREFRONT = "storefront"
    THREE_PL = "3pl"
    MARKETPLACE = "marketplace"


SELLING_KINDS = frozenset({SystemKind.STOREFRONT, SystemKind.MARKETPLACE})


class EventKind(StrEnum):
    """What a system recorded as happening."""

    ORDER = "order"
    CANCEL = "cancel"
    SHIPMENT = "shipment"
    RECEIPT = "receipt"
    RETURN = "return"
    ADJUSTMENT = "adjustment"
    COUNT = "count"
    SYNC = "sync"
    TRANSFER = "transfer"


ABSOLUTE_KINDS = frozenset({EventKind.COUNT, EventKind.SYNC})


class Measure(StrEnum):
    """The quantity compared across systems."""

    ON_HAND = "on_hand"
    AVAILABLE = "available"


class Cause(StrEnum):
    """Why a drift episode happened (DESIGN §6)."""

    DUPLICATE_EVENT = "duplicate_event"
    MISSING_EVENT = "missing_event"
    STALE_OVERWRITE = "stale_overwrite"
    UNIT_MISMATCH = "unit_mismatch"
    SYNC_LAG = "sync_lag"
    UNRECORDED_CHANGE = "unrecorded_change"


_TS = pa.timestamp("us", tz="UTC")

SNAPSHOTS = pa.schema(
    [
        pa.field(SYSTEM, pa.string(), nullable=False),
        pa.field(SKU, pa.string(), nullable=False),
        pa.field(LOCATION, pa.string(), nullable=False),
        pa.field(AS_OF, _TS, nullable=False),
        pa.field(ON_HAND, pa.float64()),
        pa.field(AVAILABLE, pa.float64()),
        pa.field(COMMITTED, pa.float64()),
    ]
)

EVENTS = pa.schema(
    [
        pa.field(SYSTEM, pa.string(), nullable=False),
        pa.field(SKU, pa.string(), nullable=False),
        pa.field(LOCATION, pa.string(), nullable=False),
        pa.field(EVENT_ID, pa.string()),
        pa.field(KIND, pa.string(), nullable=False),
        pa.field(QTY_DELTA, pa.float64()),
        pa.field(COMMIT_DELTA, pa.float64()),
        pa.field(SET_QTY, pa.float64()),
        pa.field(OCCURRED_AT, _TS, nullable=False),
        pa.field(RECORDED_AT, _TS),
        pa.field(REFERENCE, pa.string()),
        pa.field(RAW_REFERENCE, pa.string()),
        pa.field(SOURCE_AS_OF, _TS),
    ]
)

COUNTS = pa.schema(
    [
        pa.field(SKU, pa.string(), nullable=False),
        pa.field(LOCATION, pa.string(), nullable=False),
        pa.field(COUNTED_AT, _TS, nullable=False),
        pa.field(COUNTED_QTY, pa.float64(), nullable=False),
    ]
)

CATALOG = pa.schema(
    [
        pa.field(SKU, pa.string(), nullable=False),
        pa.field(UNIT_COST, pa.float64()),
        pa.field(UNIT_PRICE, pa.float64()),
        pa.field(PACK_SIZE, pa.float64()),
        pa.field(CATEGORY, pa.string()),
        pa.field(TITLE, pa.string()),
    ]
)

REJECTS = pa.schema(
    [
        pa.field(SOURCE_FILE, pa.string(), nullable=False),
        pa.field(LINE, pa.int64(), nullable=False),
        pa.field(COLUMN, pa.string()),
        pa.field(VALUE, pa.string()),
        pa.field(REASON, pa.string(), nullable=False),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "snapshots": SNAPSHOTS,
    "events": EVENTS,
    "counts": COUNTS,
    "catalog": CATALOG,
    "rejects": REJECTS,
}


def empty(table: str) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes of ``table``.

    Returns
    -------
    pandas.DataFrame
        Zero rows; the columns of ``TABLES[table]``.
    """
    return _empty(table).copy()  # a copy: callers may add to it


@functools.cache
def _empty(table: str) -> pd.DataFrame:
    """Built once per table: pyarrow's conversion costs about 5 ms, paid per file before."""
    return TABLES[table].empty_table().to_pandas()


def conform(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Return ``frame`` as the canonical ``table``: columns in order, dtypes cast, validated.

    Missing nullable columns are added as nulls.  Raises ``ValueError`` listing every
    problem at once (missing required columns, nulls in required columns, unknown kinds).

    Returns
    -------
    pandas.DataFrame
        The columns of ``TABLES[table]`` in schema order.
    """
    import pandas as pd

    schema = TABLES[table]
    names = set(frame.columns)
    problems = [
        f"missing required column {f.name!r}"
        for f in schema
        if f.name not in names and not f.nullable
    ]
    # one constructor call, not one insertion per column (~1 ms each); the Series share
    # frame's index object, so nothing is realigned
    blank = _empty(table)  # a missing nullable column: all null, in its canonical dtype
    columns = {
        f.name: frame[f.name] if f.name in names else blank[f.name].reindex(frame.index)
        for f in schema
    }
    out = pd.DataFrame(columns if not problems else {}, index=frame.index)
    if not problems:
        nulls = out[[f.name for f in schema if not f.nullable]].isna().any()
        problems += [f"column {name!r} has nulls but is required" for name in nulls.index[nulls]]
    if table == "events" and not problems:
        bad = set(out[KIND].dropna().unique()) - {k.value for k in EventKind}
        if bad:
            problems.append(
                f"unknown event kinds {sorted(bad)}; allowed: {[k.value for k in EventKind]}"
            )
    if problems:
        raise ValueError(f"{table} table is not canonical: " + "; ".join(problems))
    if out.dtypes.equals(blank.dtypes):  # canonical already: the Arrow round trip keeps it
        return out.reset_index(drop=True)
    arrow = pa.Table.from_pandas(out, schema=schema, preserve_index=False, safe=False)
    return arrow.to_pandas()
