"""Canonical tables: schemas, vocabularies, conform()."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from driftkit import schema


@pytest.mark.parametrize("table", list(schema.TABLES))
def test_empty_has_canonical_columns(table: str) -> None:
    frame = schema.empty(table)
    assert list(frame.columns) == schema.TABLES[table].names
    assert frame.empty


def test_conform_orders_casts_and_adds_nullable_columns() -> None:
    raw = pd.DataFrame(
        {
            "on_hand": [3, 4],
            "sku": ["A", "B"],
            "system": ["wms", "wms"],
            "location": ["main", "main"],
            "as_of": pd.to_datetime(["2026-09-01T10:00Z", "2026-09-02T10:00Z"]),
        }
    )
    out = schema.conform(raw, "snapshots")
    assert list(out.columns) == schema.SNAPSHOTS.names
    assert out["on_hand"].dtype == "float64"
    assert str(out["as_of"].dtype) == "datetime64[us, UTC]"
    assert out["available"].isna().all()
    assert next(iter(raw.columns)) == "on_hand"  # input not mutated


def test_conform_collects_every_problem() -> None:
    raw = pd.DataFrame({"system": ["wms", None], "kind": ["order", "teleport"]})
    with pytest.raises(ValueError) as info:
        schema.conform(raw, "events")
    message = str(info.value)
    assert "'sku'" in message and "'occurred_at'" in message


def test_conform_rejects_unknown_event_kind() -> None:
    raw = pd.DataFrame(
        {
            "system": ["wms"],
            "sku": ["A"],
            "location": ["main"],
            "kind": ["teleport"],
            "occurred_at": pd.to_datetime(["2026-09-01T10:00Z"]),
        }
    )
    with pytest.raises(ValueError, match="unknown event kinds"):
        schema.conform(raw, "events")


def test_vocabularies() -> None:
    assert {k.value for k in schema.EventKind} >= {"order", "shipment", "receipt", "count", "sync"}
    assert {schema.SystemKind.STOREFRONT, schema.SystemKind.MARKETPLACE} == schema.SELLING_KINDS
    assert len(schema.Cause) == 6


def test_conform_of_canonical_columns_is_the_arrow_round_trip() -> None:
    """Already canonical dtypes skip the Arrow round trip: same frame, index reset."""
    events = schema.empty("events")
    rows = pd.DataFrame(
        {
            "system": ["wms", "wms", "shop"],
            "sku": ["A", None, "B"],
            "location": ["main"] * 3,
            "kind": ["order", "receipt", "count"],
            "qty_delta": [1.0, None, 2.0],
            "occurred_at": pd.to_datetime(["2026-09-01T10:00Z"] * 3).as_unit("us"),
        }
    )
    frame = rows.astype({col: events[col].dtype for col in rows.columns})
    frame = frame.dropna(subset=["sku"])  # index 0, 2: not a RangeIndex
    missing = {name: None for name in schema.EVENTS.names if name not in frame}
    whole = frame.assign(**missing)[schema.EVENTS.names]  # what conform built before
    arrow = pa.Table.from_pandas(whole, schema=schema.EVENTS, preserve_index=False, safe=False)
    out = schema.conform(frame, "events")
    pd.testing.assert_frame_equal(out, arrow.to_pandas(), check_exact=True)
    assert out.index.equals(pd.RangeIndex(2))
