"""causes/spans.py: span overlap by sorted arrays equals the pairwise definition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.causes.spans import (
    Spans,
    day_numbers,
    every_day,
    group_time_order,
    next_day,
    span_days,
)
from driftkit.drift.ranks import sorted_ranks


def _pairwise(spans: tuple, queries: tuple) -> np.ndarray:
    """The definition: some span of the same group with first ≤ end and last ≥ start."""
    group, first, last = spans
    q_group, start, end = queries
    same = q_group[:, None] == group[None, :]
    hits = same & (first[None, :] <= end[:, None]) & (last[None, :] >= start[:, None])
    known = (first >= 0) & (last >= 0)
    return (hits & known[None, :]).any(axis=1) & (start >= 0) & (end >= 0)


@pytest.mark.parametrize("seed", range(5), ids=lambda s: f"seed{s}")
def test_overlap_equals_the_pairwise_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 300, 400
    first = rng.integers(-1, 60, n)  # -1: unknown day
    spans = (rng.integers(0, 20, n), first, first + rng.integers(0, 15, n))
    start = rng.integers(-1, 70, m)
    queries = (rng.integers(0, 22, m), start, start + rng.integers(0, 10, m))
    got = Spans.of(*spans).overlap(*queries)
    assert got.any() and not got.all()
    assert np.array_equal(got, _pairwise(spans, queries))


def test_hand_made_spans() -> None:
    spans = Spans.of(np.array([0, 0, 1]), np.array([10, 1, 5]), np.array([12, 20, 5]))
    queries = (np.array([0, 0, 1, 1, 2]), np.array([21, 13, 6, 5, 0]), np.array([30, 14, 9, 5, 99]))
    # group 0: [1, 20] reaches day 13 though [10, 12] starts later; nothing reaches 21.
    assert Spans.of(*[np.array([], dtype=np.int64)] * 3).overlap(*queries).tolist() == [False] * 5
    assert spans.overlap(*queries).tolist() == [False, True, False, True, False]


def test_day_numbers_keep_unknown_days_apart() -> None:
    days = pd.Series(pd.to_datetime(["1970-01-02", None, "2262-04-11"]))
    numbers = day_numbers(days)
    assert numbers[1] == -1
    assert numbers[0] - (1 << 18) == 1 and numbers[2] > numbers[0]


@pytest.mark.parametrize("seed", range(5), ids=lambda s: f"seed{s}")
def test_next_day_equals_a_forward_merge_asof(seed: int) -> None:
    rng = np.random.default_rng(seed)
    day0 = pd.Timestamp("2026-10-01")
    counted = rng.integers(0, 30, 200)
    days = pd.Series(day0 + pd.to_timedelta(rng.integers(0, 60, 200), unit="D")).astype(
        "datetime64[us]"
    )
    key = rng.integers(0, 35, 300)  # keys 30..34 were never counted
    last = pd.Series(day0 + pd.to_timedelta(rng.integers(-5, 70, 300), unit="D"))
    query = pd.DataFrame({"key": key, "last": last.astype("datetime64[us]"), "row": range(300)})
    right = pd.DataFrame({"key": counted, "day": days}).drop_duplicates().sort_values("day")
    asof = pd.merge_asof(
        query.sort_values("last"),
        right,
        left_on="last",
        right_on="day",
        by="key",
        direction="forward",
        allow_exact_matches=False,
    ).sort_values("row")
    expected = asof["day"].fillna(pd.Timestamp.max.normalize()).to_numpy()
    got = next_day(counted, days, key, last)
    assert got.dtype == expected.dtype and (got == expected).all()
    assert (got == np.datetime64(pd.Timestamp.max.normalize())).any() and (
        got < expected.max()
    ).any()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_day_equals_groupby_all(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_days = rng.integers(0, 4, size=50)
    flags = rng.random(int(n_days.sum())) < 0.8
    span = np.repeat(np.arange(len(n_days)), n_days)
    want = pd.Series(flags).groupby(span).all().reindex(range(len(n_days)), fill_value=False)
    np.testing.assert_array_equal(every_day(flags, n_days), want.to_numpy())


def test_span_days_by_hand() -> None:
    span, offset = span_days(np.array([2, 0, 3, 1]))
    assert span.tolist() == [0, 0, 2, 2, 2, 3]
    assert offset.tolist() == [0, 1, 0, 1, 2, 0]


def test_every_day_by_hand() -> None:
    got = every_day(np.array([True, True, False, True, True]), np.array([2, 0, 2, 1]))
    assert got.tolist() == [True, False, False, True]


@pytest.mark.parametrize("groups", [1, 50, 70_000], ids=lambda g: f"{g}groups")
@pytest.mark.parametrize("seed", [1, 2])
def test_group_time_order_equals_the_one_key_argsort(groups: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, groups, size=3000).astype(np.int64)
    at = rng.integers(0, 40, size=3000).astype(np.int64) * 1_000_000  # many repeated times
    times, rank = sorted_ranks(at)
    want = np.argsort(group * (len(times) + 1) + rank, kind="stable")
    order, got_times, got_rank = group_time_order(group, at)
    np.testing.assert_array_equal(order, want)
    np.testing.assert_array_equal(got_times, times)
    np.testing.assert_array_equal(got_rank, rank[want])


def test_group_time_order_by_hand() -> None:
    order, times, rank = group_time_order(np.array([1, 0, 1, 0]), np.array([5, 7, 5, 3]))
    assert order.tolist() == [3, 1, 0, 2]  # group 0 by time, then group 1's tie in row order
    assert times.tolist() == [3, 5, 5, 7] and rank.tolist() == [0, 3, 1, 1]
    empty = group_time_order(np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert [len(a) for a in empty] == [0, 0, 0]
