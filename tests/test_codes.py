"""Tests of driftkit.drift.codes (text codes once per column), the as-of cells kept per
snapshots frame (driftkit.drift.asof) and the roll-forward's event positions
(driftkit.drift.replay._position): the speed-ups of issue 14 must give what the plain
computation gives."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftkit import schema
from driftkit.config import ClientConfig, SystemConfig
from driftkit.drift import codes
from driftkit.drift.asof import asof_cells
from driftkit.drift.codes import column_codes, sorted_codes
from driftkit.drift.ranks import run_starts, sorted_ranks
from driftkit.drift.replay import _position
from driftkit.schema import SystemKind


def test_sorted_codes_follow_the_sorted_names_and_keep_missing_apart() -> None:
    column = pd.Series(["b", "a", None, "b", "c"], dtype="str")
    found, names = sorted_codes(column)
    assert found.tolist() == [1, 0, -1, 1, 2]
    assert names.tolist() == ["a", "b", "c"]


def test_column_codes_are_computed_once_per_column_and_forgotten_with_it() -> None:
    frame = pd.DataFrame({"sku": pd.Series(["x", "y", "x"], dtype="str")})
    first = column_codes(frame["sku"])
    assert column_codes(frame["sku"]) is first  # the same column array: kept
    assert first[0].tolist() == [0, 1, 0] and first[1].tolist() == ["x", "y"]
    other = pd.DataFrame({"sku": pd.Series(["y", "x"], dtype="str")})
    assert column_codes(other["sku"])[0].tolist() == [0, 1]  # equal names, its own codes
    key = id(frame["sku"].array)
    assert key in codes._CODES
    del frame, first
    gc.collect()  # other tests' arrays may go too: only this one's key is checked
    assert key not in codes._CODES


def _config() -> ClientConfig:
    systems = {"wms": SystemConfig("wms", SystemKind.WMS), "shop": SystemConfig("shop", SystemKind.STOREFRONT)}  # fmt: skip
    return ClientConfig(id="t", root=Path("."), name="t", systems=systems, authority="wms")


def _snapshots() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "system": ["wms", "shop", "wms", "shop"],
            "sku": ["A", "A", "B", "A"],
            "location": "main",
            "as_of": pd.to_datetime(
                ["2026-10-01T12:00Z", "2026-10-01T13:00Z", "2026-10-02T12:00Z", "2026-10-02T13:00Z"]
            ),
            "on_hand": [5.0, 5.0, 7.0, 4.0],
        }
    )
    return schema.conform(frame, "snapshots")


def test_asof_cells_are_kept_for_the_same_frame_and_window_only() -> None:
    snaps, config = _snapshots(), _config()
    cells = asof_cells(snaps, config)
    assert asof_cells(snaps, config) is cells
    again = asof_cells(snaps.copy(), config)  # an equal frame is another frame
    assert again is not cells and np.array_equal(again.row, cells.row)
    shorter = asof_cells(snaps, config, end=pd.Timestamp("2026-10-01").date())
    assert shorter.row.shape[2] == cells.row.shape[2] - 1
    assert shorter.keys["sku"].tolist() == ["A"]  # B has no snapshot on the first day
    assert np.array_equal(shorter.row, cells.row[:, :1, :1])


def _position_by_definition(
    group: np.ndarray, at: np.ndarray, query_group: np.ndarray, query_at: np.ndarray
) -> np.ndarray:
    """First index of the (group, at)-sorted events after each query, one query at a time."""
    out = []
    for g, t in zip(query_group, query_at, strict=True):
        later = [i for i in range(len(group)) if (group[i], at[i]) > (g, t)]
        out.append(later[0] if later else len(group))
    return np.array(out, dtype=np.int64)


def test_position_is_the_first_event_after_each_query_ties_included() -> None:
    rng = np.random.default_rng(5)
    group, at = rng.integers(0, 4, 60), rng.integers(0, 12, 60)
    order = np.lexsort((at, group))
    group, at = group[order], at[order]
    query_group, query_at = rng.integers(0, 5, 80), rng.integers(-1, 14, 80)
    found = _position(group, at, query_group, query_at)
    assert np.array_equal(found, _position_by_definition(group, at, query_group, query_at))
    hand = _position(np.array([0, 0, 1]), np.array([5, 9, 5]), np.array([0, 0, 1, 2]), np.array([5, 4, 5, 0]))  # fmt: skip
    assert hand.tolist() == [1, 0, 3, 3]  # tie at 5 goes after; group 2 has no event
    assert _position(np.array([], dtype=np.int64), np.array([], dtype=np.int64), query_group, query_at).tolist() == [0] * 80  # fmt: skip


def test_key_positions_equal_the_row_by_row_lookup_missing_values_included() -> None:
    keys = pd.DataFrame(
        {"sku": pd.Series(["a", "b", "b", None], dtype="str"), "location": ["x", "x", "y", "x"]}
    )
    frame = pd.DataFrame(
        {
            "sku": pd.Series(["b", "a", "c", None, "b", "a", None], dtype="str"),
            "location": pd.Series(["y", "x", "x", "x", None, "x", "y"], dtype="str"),
        }
    )
    plain = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(frame))
    found = codes.key_positions(frame, keys)
    assert found.tolist() == plain.tolist()
    assert found.tolist()[:3] == [2, 0, -1] and found[5] == 0
    assert codes.key_positions(frame.iloc[:0], keys).tolist() == []


def test_run_starts_by_hand() -> None:
    assert run_starts(np.array([1, 1, 2, 5, 5, 5, 7])).tolist() == [0, 0, 2, 3, 3, 3, 6]
    assert run_starts(np.array([], dtype=np.int64)).tolist() == []


@pytest.mark.parametrize("side", ["left", "right"])
@given(values=st.lists(st.integers(min_value=-5, max_value=5), max_size=40))
def test_sorted_ranks_equal_a_binary_search_of_each_value_ties_included(
    side: str, values: list[int]
) -> None:
    array = np.array(values, dtype=np.int64)
    ordered, ranks = sorted_ranks(array, side=side)
    assert ordered.tolist() == sorted(values)
    assert ranks.tolist() == np.searchsorted(np.sort(array), array, side=side).tolist()


_TEXT = st.sampled_from(["a", "b", "c", None])


@given(
    long=st.lists(st.tuples(_TEXT, _TEXT), max_size=12),
    short=st.lists(st.tuples(_TEXT, _TEXT), max_size=12),
)
def test_shared_codes_are_equal_exactly_where_the_values_are_missing_included(
    long: list[tuple], short: list[tuple]
) -> None:
    def frame(rows: list[tuple]) -> pd.DataFrame:
        return pd.DataFrame(
            {c: pd.Series([r[i] for r in rows], dtype="str") for i, c in enumerate("xy")}
        )

    left, right = codes.shared_codes(frame(long), frame(short), ["x", "y"])
    rows = long + short
    found = np.concatenate([left, right])
    for i in range(len(rows)):
        for j in range(len(rows)):
            assert (found[i] == found[j]) == (rows[i] == rows[j])


@pytest.mark.parametrize(
    "mapper",
    [
        pd.Series([2.0, 6.0], index=pd.Index(["a", "b"], dtype="str")),
        {"a": "x", "c": "y"},
    ],
    ids=["series-of-floats", "dict-of-text"],
)
def test_map_coded_equals_series_map_missing_values_and_index_kept(mapper: object) -> None:
    column = pd.Series(["b", None, "a", "c", "b"], dtype="str", index=[9, 7, 5, 3, 1], name="sku")
    expected = column.map(mapper)
    pd.testing.assert_series_equal(codes.map_coded(column, mapper), expected)
    empty = column.iloc[:0]
    pd.testing.assert_series_equal(codes.map_coded(empty, mapper), empty.map(mapper))
