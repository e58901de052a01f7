"""Bühlmann–Straub credibility of the demand rates (driftkit.impact.credibility), by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.impact.credibility import (
    MIN_KEYS_FOR_CREDIBILITY,
    RatePrior,
    credible_rate,
    rate_prior,
    rate_sums,
)
from driftkit.impact.demand import estimate_demand

# 15 keys selling [0, 2] (r = 1, s² = 2) and 15 selling [4, 6] (r = 5, s² = 2).
SLOW = [0.0, 2.0]
FAST = [4.0, 6.0]
UNITS = np.array([SLOW] * 15 + [FAST] * 15)
USE = np.ones(UNITS.shape, dtype=bool)


def test_rate_sums_by_hand() -> None:
    # K = 30, N = 60, Σ units = 180, Σ n·r² = 15·2·1 + 15·2·25 = 780,
    # Σ (n − 1)·s² = 30·2 = 60, Σ (n − 1) = 30, Σ n² = 30·4 = 120
    assert rate_sums(UNITS, USE).tolist() == [30, 60, 180, 780, 60, 30, 120]


def test_rate_sums_leave_out_keys_with_fewer_than_two_days() -> None:
    use = np.array([[True, True], [True, False], [False, False]])
    units = np.array([[1.0, 3.0], [9.0, 9.0], [7.0, 7.0]])
    # only key 0 counts: n = 2, r = 2, n·r² = 8, (n − 1)·s² = 2
    assert rate_sums(units, use).tolist() == [1, 2, 4, 8, 2, 1, 4]


def test_rate_sums_of_parts_add_up_to_the_whole() -> None:
    parts = [rate_sums(UNITS[:7], USE[:7]), rate_sums(UNITS[7:], USE[7:])]
    assert np.array_equal(np.sum(parts, axis=0), rate_sums(UNITS, USE))


def test_prior_by_hand() -> None:
    # m = 180/60 = 3; s² = 60/30 = 2; τ² = (780 − 60·9 − 29·2) ÷ (60 − 120/60) = 182/58
    prior = rate_prior([rate_sums(UNITS, USE)])
    assert prior.mean == pytest.approx(3.0)
    assert prior.within == pytest.approx(2.0)
    assert prior.between == pytest.approx(182 / 58)
    assert prior.prior_days == pytest.approx(58 / 91)


def test_credible_rate_by_hand() -> None:
    # Z = 2 ÷ (2 + 58/91) = 182/240; slow: 3 − Z·2 = 1.483333…; fast: 3 + Z·2 = 4.516666…
    prior = rate_prior([rate_sums(UNITS, USE)])
    out = credible_rate(np.array([1.0, 5.0, 0.0]), np.array([2, 2, 0]), prior)
    assert out == pytest.approx([3 - 2 * 182 / 240, 3 + 2 * 182 / 240, 0.0])


def test_no_shrinking_without_enough_keys_or_spread() -> None:
    few = rate_sums(UNITS[: MIN_KEYS_FOR_CREDIBILITY - 1], USE[: MIN_KEYS_FOR_CREDIBILITY - 1])
    assert rate_prior([few]) == RatePrior()
    alike = np.array([[1.0, 3.0]] * 40)  # every key's mean is 2: τ² estimate < 0
    assert rate_prior([rate_sums(alike, np.ones(alike.shape, bool))]).between == 0.0
    assert rate_prior([]) == RatePrior()
    rate = np.array([1.0, 5.0])
    assert credible_rate(rate, np.array([2, 2]), RatePrior(3.0, 2.0, 0.0)).tolist() == [1.0, 5.0]


def test_stockout_days_are_charged_the_credible_rate() -> None:
    # key 0 sells [0, 2] on its sellable days 0-1 and is out on day 2; the prior above
    prior = rate_prior([rate_sums(UNITS, USE)])
    units = np.array([[0.0, 2.0, 0.0]])
    censored = np.array([[False, False, True]])
    days = pd.date_range("2026-09-01", periods=3)
    demand = estimate_demand(units, np.ones((1, 3), bool), censored, days, np.ones(7), prior)
    assert demand.rate.tolist() == [1.0]
    assert demand.expected.tolist() == [[1.0, 1.0, 1.0]]
    assert demand.stockout_expected()[0] == pytest.approx([1 + 58 / 240 * 2] * 3)
    assert demand.table["credible_rate"].tolist() == pytest.approx([3 - 2 * 182 / 240])
