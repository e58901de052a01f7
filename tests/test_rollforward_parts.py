"""Tests of the roll-forward's parts rewritten for issue 14 at 12M rows
(driftkit.drift.replay.consecutive_cells and the no-event replay, driftkit.drift.codes
first_seen_codes / take_coded / frame_keeping_codes, driftkit.drift.measures.measure_counts):
each must give what the plain computation gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftkit.drift import codes
from driftkit.drift.codes import column_codes, first_seen_codes, frame_keeping_codes, take_coded
from driftkit.drift.measures import measure_counts
from driftkit.drift.replay import Replay, consecutive_cells


def _consecutive_before(row: np.ndarray, on_hand: np.ndarray) -> tuple[np.ndarray, ...]:
    """The computation ``consecutive_cells`` replaced: a three-axis ``nonzero`` and fancy index."""
    prev, cur = row[:, :, :-1], row[:, :, 1:]
    ok = (prev >= 0) & (cur >= 0)
    ok[ok] = ~np.isnan(on_hand[prev[ok]]) & ~np.isnan(on_hand[cur[ok]])
    s, k, d = np.nonzero(ok)
    return s, k, d, prev[s, k, d], cur[s, k, d]


@pytest.mark.parametrize("days", [1, 2, 7], ids=["one-day", "two-days", "a-week"])
def test_consecutive_cells_equal_the_three_axis_computation(days: int) -> None:
    rng = np.random.default_rng(days)
    on_hand = np.where(rng.random(50) < 0.2, np.nan, rng.integers(0, 9, 50).astype(float))
    base = rng.integers(-1, 50, (days, 3, 4))  # [day, system, key] as asof keeps it
    row = base.transpose(1, 2, 0)  # the [system, key, day] view asof_cells hands out
    group, d, prev, cur = consecutive_cells(row, on_hand)
    s, k, d0, prev0, cur0 = _consecutive_before(row, on_hand)
    assert np.array_equal(group, s * 4 + k) and np.array_equal(d, d0)
    assert np.array_equal(prev, prev0) and np.array_equal(cur, cur0)


def test_consecutive_by_hand() -> None:
    on_hand = np.array([1.0, np.nan, 3.0, 4.0])
    row = np.array([[[0, 2, 3], [-1, 3, 1]]])  # one system, two keys, three days
    group, d, prev, cur = consecutive_cells(row, on_hand)
    assert group.tolist() == [0, 0] and d.tolist() == [0, 1]  # key 1: row −1, then NaN
    assert prev.tolist() == [0, 2] and cur.tolist() == [2, 3]


def test_replay_without_events_keeps_the_value_as_the_general_sums_would() -> None:
    empty = np.array([], dtype=np.int64)
    replay = Replay(empty, empty, np.array([]), np.array([]))
    start = np.array([5.0, -0.0, 2.5])
    as_of, rows = np.arange(1, 7), (np.array([0, 1, 2]), np.array([3, 4, 5]))
    count, value = replay.apply(np.array([0, 3, 1]), as_of, rows, start)
    assert count.tolist() == [0, 0, 0] and count.dtype == np.intp
    assert value.tolist() == [5.0, 0.0, 2.5] and not np.signbit(value[1])  # as start + 0 − 0
    with_one = Replay(np.array([7]), np.array([1]), np.array([1.0]), np.array([np.nan]))
    general = with_one.apply(np.array([0, 3, 1]), as_of, rows, start)
    assert np.array_equal(general[0], count) and np.array_equal(general[1], value)


@given(st.lists(st.integers(min_value=0, max_value=6), max_size=40))
def test_first_seen_codes_equal_factorize(values: list[int]) -> None:
    array = np.array(values, dtype=np.int64)
    found, uniques = first_seen_codes(array)
    plain, plain_uniques = pd.factorize(array)
    assert found.tolist() == plain.tolist() and uniques.tolist() == plain_uniques.tolist()
    assert first_seen_codes(array, small=True)[0].dtype == np.int32


def test_take_coded_codes_equal_factorizing_the_taken_texts() -> None:
    names = pd.Series(["b", "a", "b", "c"], dtype="str")
    rows = np.array([3, 3, 0, 1, 1, 2, 0, 3])
    column = take_coded(names, rows)
    assert column.tolist() == ["c", "c", "b", "a", "a", "b", "b", "c"]
    found, uniques = column_codes(column)  # kept by take_coded, not hashed again
    assert found.tolist() == [0, 0, 1, 2, 2, 1, 1, 0] and uniques.tolist() == ["c", "b", "a"]


def test_frame_keeping_codes_keeps_the_codes_of_its_text_columns() -> None:
    names = pd.Series(["x", "y"], dtype="str")
    first, second = take_coded(names, np.array([1, 0, 1])), take_coded(names, np.array([0, 0, 1]))
    frame = frame_keeping_codes({"a": first, "b": second, "n": np.arange(3)})
    assert frame["a"].tolist() == ["y", "x", "y"] and frame["n"].tolist() == [0, 1, 2]
    for name, column in (("a", first), ("b", second)):
        assert id(frame[name].array) in codes._CODES  # a lookup, not a new factorization
        assert column_codes(frame[name]) is codes._CODES[id(column.array)]


def test_measure_counts_equal_the_weighted_bincounts() -> None:
    system = np.array([0, 1, 1, 2, 0, 1])
    direct = np.array([1.0, np.nan, 2.0, np.nan, np.nan, 3.0])
    values = np.array([1.0, 5.0, 2.0, np.nan, np.nan, 3.0])
    rows, derived, unknown = measure_counts(system, 4, direct, values)
    assert rows.tolist() == [2, 3, 1, 0]
    assert derived.tolist() == np.bincount(system, np.isnan(direct) & ~np.isnan(values), 4).astype(int).tolist()  # fmt: skip
    assert derived.tolist() == [0, 1, 0, 0] and unknown.tolist() == [1, 0, 1, 0]
    full = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert [c.tolist() for c in measure_counts(system, 3, full, full)] == [[2, 3, 1], [0, 0, 0], [0, 0, 0]]  # fmt: skip


def test_codes_of_numpy_backed_columns_never_outlive_their_array() -> None:
    """``Series.array`` of a NumPy column is a new wrapper at every call: a key taken from one
    wrapper and watched on another stayed behind, and a later array at the same address
    got its codes (a ``shared_codes`` broadcast error and wrong sums in the suite)."""
    for size in range(1, 300):
        column = pd.Series(np.arange(size) % 3, dtype=float)
        found, uniques = column_codes(column)
        assert len(found) == size and uniques.tolist() == [0.0, 1.0, 2.0][: min(size, 3)]
        object_column = pd.Series(np.arange(size).astype(str).astype(object))
        assert len(column_codes(object_column)[0]) == size
