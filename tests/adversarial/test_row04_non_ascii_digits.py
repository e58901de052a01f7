"""Row 4: quantities in non-ASCII digits are rejected with a reason, never unknown silently."""

from __future__ import annotations

import pytest

from tests.adversarial.conftest import Loader, accounted


@pytest.mark.parametrize(
    "quantity", ["٣", "１２", "१०", "3٣"], ids=["arabic", "full-width", "devanagari", "mixed"]
)
def test_non_ascii_digits_are_rejected(load_one: Loader, quantity: str) -> None:
    data = load_one(f"sku,as_of,on_hand\nA,2024-01-01,{quantity}\nB,2024-01-01,7\n")
    assert data.snapshots["sku"].tolist() == ["B"] and accounted(data)
    reject = data.rejects.iloc[0]
    assert (reject["line"], reject["column"], reject["value"]) == (2, "on_hand", quantity)
    assert reject["reason"] == "not a quantity (digits other than 0-9)"
