"""Tests of driftkit.causes.quantiles: exact grouped quantiles by radix selection.

Every quantile must be the very float ``pd.Series.median`` / ``pd.Series.quantile(q)`` gives
(linear interpolation, NaN skipped), whatever the passes and bins it took to find it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from driftkit.causes import quantiles
from driftkit.causes.quantiles import (
    MEDIAN,
    grouped_quantiles,
    interpolated,
    keyed,
    sortable,
    stat_ranks,
    unsortable,
)


def grouped_quantile(batches: quantiles.Batches, groups: int, stat) -> np.ndarray:
    return grouped_quantiles(batches, groups, [stat])[:, 0]


STATS = [MEDIAN, 0.5, 0.95, 0.0, 1.0, 0.3]


def pandas_stat(values: np.ndarray, stat: quantiles.Stat) -> float:
    series = pd.Series(values, dtype=float)
    return float(series.median() if stat == MEDIAN else series.quantile(stat))


def one_batch(group: np.ndarray, values: np.ndarray) -> quantiles.Batches:
    batch = keyed(group, values)
    return lambda: [batch]


def assert_as_pandas(group: np.ndarray, values: np.ndarray, groups: int, stat) -> None:
    got = grouped_quantile(one_batch(group, values), groups, stat)
    expected = [pandas_stat(values[group == g], stat) for g in range(groups)]
    np.testing.assert_array_equal(got, expected)  # NaN where a group is empty
    assert np.signbit(got).tolist() == np.signbit(expected).tolist()


@pytest.mark.parametrize(
    ("values", "stat", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0], MEDIAN, 2.5),
        ([4.0, 1.0, 3.0], MEDIAN, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 0.95, 3.85),  # h = 3 × 0.95 = 2.85: 3 + 0.85 × (4 − 3)
        ([10.0, 0.0], 0.95, 9.5),
        ([7.25], 0.95, 7.25),
        ([7.25], MEDIAN, 7.25),
        ([2.0, 2.0, 2.0, 5.0], 0.5, 2.0),
        ([-3.0, -1.0, np.nan, 4.0], MEDIAN, -1.0),
        ([-6.0, -2.0], MEDIAN, -4.0),
    ],
    ids=[
        "median-even",
        "median-odd",
        "p95-four",
        "p95-two",
        "p95-one",
        "median-one",
        "ties",
        "nan-skipped",
        "negative",
    ],
)
def test_hand_computed_quantiles(values: list[float], stat, expected: float) -> None:
    array = np.array(values)
    got = grouped_quantile(one_batch(np.zeros(len(array), dtype=np.int64), array), 1, stat)
    assert got.tolist() == pytest.approx([expected], rel=1e-15)  # by hand
    assert got.tolist() == [pandas_stat(array, stat)]  # and exactly pandas' float


@pytest.mark.parametrize(
    ("values", "stat", "expected"),
    [
        ([1.34, 4.031], MEDIAN, 2.6854999999999998),  # (a + b) / 2; a + (b − a)/2 is 2.6855
        ([1.16, 5.16, 6.23, 7.77], 0.95, 7.538999999999999),  # b − (b − a)(1 − γ) for γ ≥ ½
    ],
    ids=["median-mean", "p95-from-above"],
)
def test_pandas_arithmetic_to_the_last_bit(values: list[float], stat, expected: float) -> None:
    array = np.array(values)
    got = grouped_quantile(one_batch(np.zeros(len(array), dtype=np.int64), array), 1, stat)
    assert got.tolist() == [expected] == [pandas_stat(array, stat)]


def test_stat_ranks_are_numpys_neighbours() -> None:
    lower, upper, gamma = stat_ranks(np.array([1, 2, 4, 21]), 0.95)
    assert lower.tolist() == [0, 0, 2, 19]
    assert upper.tolist() == [0, 1, 3, 20]
    np.testing.assert_allclose(gamma[1:], [0.95, 0.85, 0.0], atol=1e-12)
    low, high, _ = stat_ranks(np.array([5, 6]), MEDIAN)
    assert low.tolist() == [2, 2] and high.tolist() == [2, 3]


def test_interpolated_weighs_the_upper_value_by_gamma() -> None:
    got = interpolated(np.array([1.0, 1.0]), np.array([3.0, 3.0]), np.array([0.25, 0.75]), 0.9)
    assert got.tolist() == [1.5, 2.5]
    assert interpolated(np.array([1.0]), np.array([4.0]), np.array([0.0]), MEDIAN).tolist() == [2.5]


def test_sortable_keys_keep_the_order_and_the_values() -> None:
    values = np.array([3.5, -0.0, 0.0, -1e300, 1e-300, -2.0, np.inf, -np.inf, 7.0])
    keys = sortable(values)
    assert np.argsort(keys, kind="stable").tolist() == np.argsort(values, kind="stable").tolist()
    assert (unsortable(keys) == values).all()
    assert not np.signbit(unsortable(sortable(np.array([-0.0])))).any()  # −0.0 read as 0.0


@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("stat", STATS, ids=str)
def test_random_groups_equal_pandas(seed: int, stat) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4000))
    values = [
        rng.normal(0, 10, n),  # negative values
        rng.integers(-5, 5, n).astype(float),  # many ties
        rng.exponential(3, n) ** 3,  # a long tail: most values in few bins
        np.round(rng.uniform(0, 100, n), 2),
        rng.random(n),
        np.full(n, 0.125),
    ][seed]
    values[rng.integers(0, n, 3)] = np.nan
    groups = 4  # group 3 empty at times
    assert_as_pandas(rng.integers(0, groups, n), values, groups, stat)


@pytest.mark.parametrize("collect", [1, 4, 100], ids=lambda c: f"collect{c}")
@pytest.mark.parametrize("stat", [MEDIAN, 0.95], ids=str)
def test_bins_too_full_to_collect_are_narrowed_until_exact(
    collect: int, stat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With few keys collected per bin, selection runs every narrowing pass down to the
    last key bit (ties: a bin of one value) and still gives pandas' float."""
    monkeypatch.setattr(quantiles, "COLLECT", collect)
    rng = np.random.default_rng(7)
    values = np.concatenate([np.full(500, 2.5), rng.normal(2.5, 1e-9, 300), [-3.0, 1e6]])
    group = rng.integers(0, 2, len(values))
    assert_as_pandas(group, values, 2, stat)


def test_a_selected_bin_holding_many_values() -> None:
    """200k values in one binade share their top 12 key bits: the first pass's bin holds
    them all (more than COLLECT), the next pass narrows it."""
    rng = np.random.default_rng(3)
    values = 1.0 + rng.random(200_000)
    assert len(np.unique(sortable(values) >> np.uint64(52))) == 1
    assert_as_pandas(np.zeros(len(values), dtype=np.int64), values, 1, 0.95)
    assert_as_pandas(np.zeros(len(values), dtype=np.int64), values, 1, MEDIAN)


def test_batches_are_read_again_at_every_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quantiles, "COLLECT", 2)
    rng = np.random.default_rng(11)
    values, group = rng.normal(size=3000), rng.integers(-1, 3, 3000)  # −1: not counted
    cuts = [0, 700, 701, 2500, 3000]
    calls = []

    def batches():
        calls.append(1)
        return [keyed(group[a:b], values[a:b]) for a, b in itertools.pairwise(cuts)]

    got = grouped_quantile(batches, 3, 0.95)
    expected = [pandas_stat(values[group == g], 0.95) for g in range(3)]
    assert got.tolist() == expected
    assert len(calls) > 2


def test_no_groups_and_no_values() -> None:
    assert grouped_quantile(lambda: [], 0, MEDIAN).tolist() == []
    left_out = keyed(np.array([-1, -1]), np.array([1.0, 2.0]))  # every value regrouped out
    assert grouped_quantile(lambda: [left_out], 0, MEDIAN).tolist() == []
    empty = np.zeros(0, dtype=np.int64)
    assert np.isnan(grouped_quantile(one_batch(empty, empty.astype(float)), 2, 0.95)).all()


def test_several_stats_share_their_passes() -> None:
    rng = np.random.default_rng(5)
    values, group = rng.exponential(2.0, 5000), rng.integers(0, 3, 5000)
    got = grouped_quantiles(one_batch(group, values), 3, [MEDIAN, 0.5, 0.95])
    expected = [[pandas_stat(values[group == g], s) for s in (MEDIAN, 0.5, 0.95)] for g in range(3)]
    assert got.tolist() == expected
