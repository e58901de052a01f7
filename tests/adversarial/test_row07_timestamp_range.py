"""Row 7: timestamps outside 1900-2200 are rejected per row, never a traceback."""

from __future__ import annotations

import pytest

from tests.adversarial.conftest import Loader, accounted


@pytest.mark.parametrize(
    "stamp",
    ["9999-12-31 23:59:59", "0001-01-01", "1899-12-31", "2201-01-01T00:00:00Z", "9999-12-31"],
    ids=["year-9999", "year-1", "before-1900", "after-2200-aware", "date-9999"],
)
def test_out_of_range_timestamps_are_rejected(load_one: Loader, stamp: str) -> None:
    data = load_one(f"sku,as_of,on_hand\nA,{stamp},1\nB,2024-01-01,2\n")
    assert data.snapshots["sku"].tolist() == ["B"] and accounted(data)
    reject = data.rejects.iloc[0]
    assert (reject["line"], reject["column"], reject["value"]) == (2, "as_of", stamp)
    assert reject["reason"].startswith("not a timestamp") and "1900-2200" in reject["reason"]
