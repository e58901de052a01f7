"""causes/context.py: evidence numbers as text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.context import _num, _units_text


def test_numbers_as_text_each_as_format_would_write_it() -> None:
    values = pd.Series(
        [2.675, -0.001, 0.0, np.nan, 1e9, 3.0, 3.0, -2.5], index=[9, 8, 7, 6, 5, 4, 3, 2]
    )
    got = _num(values)
    assert got.tolist() == ["2.68", "-0", "0", "nan", "1e+09", "3", "3", "-2.5"]
    assert got.index.tolist() == values.index.tolist() and got.dtype == "str"
    assert _units_text(pd.Series([-2.0, 1.5])).tolist() == ["−2 units", "+1.5 units"]
    assert _num(pd.Series([], dtype=float)).tolist() == []
