"""Row 5: ``--5`` is not +5: more than one sign is ambiguous and rejected; absurd sizes too."""

from __future__ import annotations

import pytest

from tests.adversarial.conftest import Loader, accounted


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [
        ("--5", "more than one sign: ambiguous"),
        ("+-5", "more than one sign: ambiguous"),
        ("-$-5", "more than one sign: ambiguous"),
        ("(-5)", "more than one sign: ambiguous"),
        ("12345678901", "magnitude above 1e+09"),
    ],
    ids=["minus-minus", "plus-minus", "currency-between", "brackets-and-minus", "absurd"],
)
def test_ambiguous_or_absurd_quantities_are_rejected(
    load_one: Loader, quantity: str, reason: str
) -> None:
    data = load_one(f"sku,as_of,on_hand\nA,2024-01-01,{quantity}\nB,2024-01-01,-5\n")
    assert data.snapshots.set_index("sku")["on_hand"].to_dict() == {"B": -5.0}
    assert data.rejects["reason"].tolist() == [f"not a quantity ({reason})"] and accounted(data)


@pytest.mark.parametrize("quantity", ["-5", "(5)", "$-5", "-$5"], ids=str)
def test_one_sign_is_still_a_negative(load_one: Loader, quantity: str) -> None:
    data = load_one(f"sku,as_of,on_hand\nA,2024-01-01,{quantity}\n")
    assert data.snapshots["on_hand"].tolist() == [-5.0] and len(data.rejects) == 0
