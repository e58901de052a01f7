"""Per-cell load rules run once per distinct cell: the rows get what each cell alone gets."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftkit.config import SkuRules
from driftkit.load.distinct import distinct_counts, distinct_texts, spread
from driftkit.load.normalize import normalize_references, normalize_skus, parse_quantities
from driftkit.load.timestamps import parse_timestamps

CELLS = {
    "skus": ["ab-1", " AB1", None, "ab-1", "", "'00123", "ab-1", None],
    "quantities": ["12", "1,234", "", "12", None, "(5)", "--5", "12 ea", "abc", "12"],
    "references": ["PO-000123", "po 123", None, "#1001", "PO-000123", "", "ret-abc"],
    "timestamps": ["2026-11-01 01:30", "2026-11-01T06:30Z", "", None, "2026-11-01 01:30", "x"],
}
RULES: dict[str, Callable[[pd.Series], tuple[pd.Series, ...]]] = {
    "skus": lambda v: (normalize_skus(v, SkuRules(remove="-")),),
    "quantities": lambda v: parse_quantities(v, sentinels=(1234.0,)),
    "references": lambda v: (normalize_references(v),),
    "timestamps": lambda v: parse_timestamps(v, timezone="America/Chicago"),
}


@pytest.mark.parametrize("rule", sorted(CELLS))
def test_rows_get_what_each_cell_alone_gets(rule: str) -> None:
    values = pd.Series(CELLS[rule], index=np.arange(len(CELLS[rule]))[::-1] * 10, dtype="object")
    together = RULES[rule](values)
    for position in range(len(values)):
        alone = RULES[rule](values.iloc[[position]])
        for whole, single in zip(together, alone, strict=True):
            assert whole.index[position] == single.index[0]
            assert str(whole.dtype) == str(single.dtype)
            left, right = whole.iloc[position], single.iloc[0]
            assert (pd.isna(left) and pd.isna(right)) or left == right, (rule, position)


def test_distinct_codes_round_trip() -> None:
    text = pd.Series(["b", None, "a", "b", None], index=[5, 4, 3, 2, 1], dtype="str")
    codes, distinct = distinct_texts(text)
    assert distinct.tolist()[:1] == ["b"] and len(distinct) == 3
    pd.testing.assert_series_equal(spread(distinct, codes, text.index), text)


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.lists(st.one_of(st.none(), st.sampled_from("abcde")), max_size=6), max_size=5)
)
def test_distinct_counts_are_each_parts_nunique(parts: list[list[str | None]]) -> None:
    series = [pd.Series(cells, dtype="str") for cells in parts]
    group = np.repeat(np.arange(len(parts)), [len(cells) for cells in parts])
    counts = distinct_counts(series, group) if parts else np.zeros(0, dtype=np.int64)
    assert counts.tolist() == [one.nunique() for one in series]
