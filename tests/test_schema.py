"""Canonical tables: schemas, vocabularies, conform()."""

from __future__ import annotations

import pandas as pd
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
