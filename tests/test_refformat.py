"""Reference formats: the vectorized ASCII path gives exactly what Python's ``re`` gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftkit.causes.refformat import _unicode_formats, reference_formats

EDGES = ["PO-000123", "PO#123-b", "#1001", "", "AB\n12", "AB12\n", "x²-½", "Ab_c9", "SO-٣4"]
EDGES += ["a\r1", "éé-1", "ﬁ1", "zZ@[`{9", "_a", "Ab-cD 7e"]


@pytest.mark.parametrize(
    ("raw", "shape"),
    [
        pytest.param("PO#123-b", "PO#999-A", id="ascii"),
        pytest.param("ÄB-12x", "ÄB-99A", id="unicode-prefix"),
        pytest.param("SO-٣4", "SO-99", id="arabic-digit"),
        pytest.param("x²-½", "x²-A", id="numeric-not-digit"),
        pytest.param("Ab_c9", "Ab_A9", id="underscore-ends-prefix"),
    ],
)
def test_reference_formats_by_hand(raw: str, shape: str) -> None:
    assert reference_formats(pd.Series([raw])).tolist() == [shape]


def test_edges_missing_and_index_kept() -> None:
    raw = pd.Series([*EDGES, None, np.nan], index=range(100, 100 + len(EDGES) + 2))
    shaped = reference_formats(raw)
    assert shaped.index.equals(raw.index) and str(shaped.dtype) == "str"
    assert shaped.isna().tolist() == [False] * 4 + [True] + [False] * 10 + [True, True]
    pd.testing.assert_series_equal(shaped, _unicode_formats(raw.astype("str")))
    sliced = raw.iloc[3:9]  # an Arrow array with an offset
    pd.testing.assert_series_equal(
        reference_formats(sliced), _unicode_formats(sliced.astype("str"))
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=12), st.from_regex(r"[A-Za-z#\-0-9 _]{0,10}")))
)
def test_same_as_python_re(values: list[str | None]) -> None:
    raw = pd.Series(values, dtype="object")
    pd.testing.assert_series_equal(reference_formats(raw), _unicode_formats(raw.astype("str")))
