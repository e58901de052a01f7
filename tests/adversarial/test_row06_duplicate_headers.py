"""Row 6: a header naming a column twice is an error naming it, not "use the first"."""

from __future__ import annotations

import pytest

from driftkit.errors import InputError
from tests.adversarial.conftest import Loader


def test_duplicate_headers_are_an_error_naming_the_columns(load_one: Loader) -> None:
    with pytest.raises(InputError) as info:
        load_one("sku,On Hand,as_of,On Hand\nA,1,2024-01-01,2\n")
    message = str(info.value)
    assert "raw/s.csv" in message and "'On Hand' in columns 2, 4" in message


def test_blank_repeated_headers_are_not_duplicates(load_one: Loader) -> None:
    data = load_one("sku,,as_of,on_hand,\nA,x,2024-01-01,1,y\n")
    assert data.snapshots["on_hand"].tolist() == [1.0]
