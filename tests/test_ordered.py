"""The streaming merge of sorted parts gives the order of one sort over all their rows."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from driftkit.impact.countlist import count_list_keys, rank_count_list
from driftkit.impact.parts import key_columns, key_order
from driftkit.scale.ordered import merge_sorted, sort_part


def _batches(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    for start in range(0, max(len(frame), 1), size):
        yield frame.iloc[start : start + size].reset_index(drop=True)


def _keys(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """``n`` distinct keys, shuffled, with a value column."""
    skus = rng.choice(10_000, n, replace=False).astype(str)
    return pd.DataFrame(
        {
            "sku": skus,
            "location": rng.choice(["east", "west", "3pl"], n),
            "value": rng.normal(size=n),
        }
    )


@pytest.mark.parametrize("batch", [1, 3, 64, 10_000], ids=lambda b: f"batch{b}")
@pytest.mark.parametrize("parts", [1, 3, 8], ids=lambda p: f"parts{p}")
def test_merged_parts_equal_one_sort_of_all_rows(batch: int, parts: int) -> None:
    rng = np.random.default_rng(batch * 31 + parts)
    table = _keys(rng, 500)
    split = [table.iloc[s] for s in np.array_split(rng.permutation(len(table)), parts)]
    split.insert(1, table.iloc[:0])  # an empty part too
    sorted_parts = [sort_part("impact", p.reset_index(drop=True)) for p in split]
    merged = pd.concat(
        list(merge_sorted([_batches(p, batch) for p in sorted_parts], key_columns)),
        ignore_index=True,
    )
    whole = pd.concat(split, ignore_index=True)
    expected = whole.iloc[key_order(whole)].reset_index(drop=True)
    pd.testing.assert_frame_equal(merged, expected, check_exact=True)


def test_ties_keep_bucket_order() -> None:
    """Rows that tie in the order come out in part order, as concatenate-then-sort gives."""
    parts = [pd.DataFrame({"k": [1, 2, 2], "part": p}) for p in range(3)]

    def by_k(frame: pd.DataFrame) -> list[np.ndarray]:
        return [frame["k"].to_numpy()]

    merged = pd.concat(list(merge_sorted([_batches(p, 2) for p in parts], by_k)))
    assert merged["k"].tolist() == [1, 1, 1, 2, 2, 2, 2, 2, 2]
    assert merged["part"].tolist() == [0, 1, 2, 0, 0, 1, 1, 2, 2]


def test_no_rows_merge_to_nothing() -> None:
    empty = pd.DataFrame({"sku": pd.Series([], dtype=object)})
    assert list(merge_sorted([_batches(empty, 4), iter([])], key_columns)) == []


def test_sorted_count_list_part_is_the_count_lists_rank() -> None:
    rng = np.random.default_rng(7)
    rows = _keys(rng, 200).assign(
        system="wms",
        expected_value=rng.choice([0.0, 1.0, 2.5], 200),  # many ties: the later keys decide
        reason="r",
        drift_units=rng.integers(-3, 4, 200).astype(float),
        cause="",
        demand_rate=rng.choice([0.0, 0.5], 200),
        window_value=0.0,
        unit_cost=rng.choice([1.0, np.nan], 200),
    )
    by_part = rank_count_list(sort_part("count_list", rows))
    pd.testing.assert_frame_equal(by_part, rank_count_list(rows), check_exact=True)
    assert not np.array_equal(np.lexsort(count_list_keys(rows)), np.arange(200))


@pytest.mark.parametrize("batch", [1, 2, 5], ids=lambda b: f"batch{b}")
def test_text_keys_merge_in_pythons_string_order(batch: int) -> None:
    """Texts of different lengths, case, digits and non-ASCII letters merge as Python
    sorts them (the merge compares them as numpy strings)."""
    skus = ["a", "B", "ab", "a b", "é", "Z9", "z10", "z9", "ß", "a\u00e9", "AB", "10", "9", "日本"]
    table = pd.DataFrame({"sku": skus, "location": ["x", "y"] * 7, "value": range(14)})
    split = [table.iloc[i::3].reset_index(drop=True) for i in range(3)]
    sorted_parts = [sort_part("impact", p) for p in split]
    merged = pd.concat(
        list(merge_sorted([_batches(p, batch) for p in sorted_parts], key_columns)),
        ignore_index=True,
    )
    assert list(merged["sku"]) == sorted(skus)
