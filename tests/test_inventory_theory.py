"""Classical inventory formulas against published values (Snyder & Shen, 2nd ed.)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftkit.impact import theory

# Snyder & Shen, Fundamentals of Supply Chain Theory: Example 4.2 (normal newsvendor)
# and Example 3.1 (EOQ).
NEWSVENDOR = {"mu": 120.0, "sigma": 10.0, "holding": 2.0, "penalty": 18.0}
EOQ = {"fixed_cost": 8.0, "holding": 0.225, "demand_rate": 1300.0}


def test_newsvendor_optimal_quantity_matches_published_value() -> None:
    assert theory.newsvendor_normal(**NEWSVENDOR) == pytest.approx(132.815515655446, rel=1e-12)


def test_newsvendor_optimal_cost_matches_published_value() -> None:
    cost = theory.newsvendor_optimal_cost(10.0, 2.0, 18.0)
    assert cost == pytest.approx(35.09966638649737, rel=1e-12)


def test_newsvendor_cost_function_at_optimum_matches_closed_form() -> None:
    best = theory.newsvendor_normal(**NEWSVENDOR)
    assert theory.newsvendor_cost(best, **NEWSVENDOR) == pytest.approx(35.09966638649737, rel=1e-12)


@pytest.mark.parametrize("offset", [-5.0, -0.5, 0.5, 5.0], ids=["-5", "-0.5", "+0.5", "+5"])
def test_newsvendor_cost_is_minimal_at_optimum(offset: float) -> None:
    best = theory.newsvendor_normal(**NEWSVENDOR)
    assert theory.newsvendor_cost(best + offset, **NEWSVENDOR) > theory.newsvendor_cost(
        best, **NEWSVENDOR
    )


def test_eoq_matches_published_values() -> None:
    assert theory.eoq(**EOQ) == pytest.approx(304.0467800264368, rel=1e-12)
    assert theory.eoq_cost(**EOQ) == pytest.approx(68.41052550594829, rel=1e-12)


@pytest.mark.parametrize(
    ("z", "expected"),
    [(0.0, 0.3989422804014327), (1.0, 0.08331547058768495), (-1.0, 1.083315470587685)],
    ids=["0", "+1", "-1"],
)
def test_normal_loss_matches_tabulated_values(z: float, expected: float) -> None:
    assert theory.normal_loss(z) == pytest.approx(expected, rel=1e-12)


def test_normal_cdf_matches_stdlib() -> None:
    grid = np.linspace(-6, 6, 25)
    expected = [theory.STANDARD_NORMAL.cdf(v) for v in grid]
    np.testing.assert_allclose(theory.normal_cdf(grid), expected, rtol=1e-12, atol=1e-15)


def test_safety_stock_and_reorder_point() -> None:
    z = theory.normal_quantile(0.95)
    assert theory.safety_stock(z, 3.0, 4.0) == pytest.approx(z * 2 * 3.0, rel=1e-12)
    assert theory.reorder_point(5.0, 3.0, 4.0, z) == pytest.approx(20 + z * 6.0, rel=1e-12)


def test_record_error_free_safety_stock_equals_classical() -> None:
    with_error = theory.safety_stock_with_record_error(1.645, 3.0, 9.0, 0.0)
    assert with_error == pytest.approx(theory.safety_stock(1.645, 3.0, 9.0), rel=1e-12)


def test_safety_stock_with_record_error_only() -> None:
    assert theory.safety_stock_with_record_error(2.0, 0.0, 7.0, 4.0) == pytest.approx(8.0)


@given(st.floats(0.0, 100.0), st.floats(0.01, 50.0), st.floats(0.0, 100.0), st.floats(0.0, 20.0))
def test_expected_shortage_is_nonincreasing_in_stock(
    mean: float, sd: float, stock: float, more: float
) -> None:
    low = theory.expected_shortage(np.array(mean), np.array(sd), np.array(stock))
    high = theory.expected_shortage(np.array(mean), np.array(sd), np.array(stock + more))
    assert high <= low + 1e-12
    assert low >= max(mean - stock, 0.0) - 1e-9  # Jensen: E[(D−s)+] ≥ (E D − s)+


def test_expected_shortage_without_variance_is_deterministic() -> None:
    out = theory.expected_shortage(np.array([10.0, 10.0]), np.array([0.0, 0.0]), np.array([4, 12]))
    np.testing.assert_array_equal(out, [6.0, 0.0])


@pytest.mark.parametrize(
    ("p", "dof", "expected"),
    [(0.95, 5, 2.015048), (0.975, 10, 2.228139), (0.95, 30, 1.697261), (0.95, math.inf, 1.644854)],
    ids=["t5", "t10", "t30", "normal"],
)
def test_t_quantile_close_to_tables(p: float, dof: float, expected: float) -> None:
    assert theory.t_quantile(p, dof) == pytest.approx(expected, abs=2e-4)


# --- demand left unmet on a day that sold some units, then ran out -----------------------------


@pytest.mark.parametrize(
    ("mean", "dispersion", "sold", "expected"),
    [
        # out all day: the whole expected demand
        (0.72, 1.0, 0, 0.72),
        # Poisson(0.72), sold 1: (μ − 1 + e^−μ) ÷ (1 − e^−μ)
        (0.72, 1.0, 1, (0.72 - 1 + math.exp(-0.72)) / (1 - math.exp(-0.72))),
        # NB with φ = 2, μ = 1 is geometric (p(x) = 2^−(x+1)): memoryless, E[X − u | X ≥ u] = μ
        (1.0, 2.0, 2, 1.0),
        # NB φ = 2, μ = 2 (r = 2, q = ½): p0 = p1 = ¼; (2 − 1 + ¼) ÷ ¾
        (2.0, 2.0, 1, 1.25 / 0.75),
        # 30 sold against Poisson(0.1): P(X ≥ 30) < 1e-6, not explained: the whole day
        (0.1, 1.0, 30, 0.1),
    ],
    ids=["out-all-day", "poisson-sold-1", "geometric-memoryless", "nb-sold-1", "unexplained"],
)
def test_unmet_demand_hand_computed(mean, dispersion, sold, expected) -> None:
    got = theory.unmet_demand(np.array([mean]), np.array([dispersion]), np.array([sold]))
    assert got[0] == pytest.approx(expected, rel=1e-12)


def test_unmet_demand_is_capped_at_the_mean() -> None:
    # NB μ = 1.2, φ = 3, sold 4: the conditional excess (heavy tail) exceeds μ
    got = theory.unmet_demand(np.array([1.2]), np.array([3.0]), np.array([4.0]))
    assert got[0] == pytest.approx(1.2)


# --- demand turned away that the stock a record holds could have served ----------------------


@pytest.mark.parametrize(
    ("mean", "dispersion", "sold", "stock", "expected"),
    [
        # out all day, 1 unit held, Poisson(1): E[min(X, 1)] = P(X ≥ 1) = 1 − e^−1
        (1.0, 1.0, 0, 1.0, 1 - math.exp(-1)),
        # 1.5 units held: P(X ≥ 1) + ½·P(X ≥ 2) = 1 − e^−1 + ½·(1 − 2e^−1)
        (1.0, 1.0, 0, 1.5, 1 - math.exp(-1) + 0.5 * (1 - 2 * math.exp(-1))),
        # sold 1 then out, 1 held, Poisson(2): P(X ≥ 2) ÷ P(X ≥ 1) = (1 − 3e^−2) ÷ (1 − e^−2)
        (2.0, 1.0, 1, 1.0, (1 - 3 * math.exp(-2)) / (1 - math.exp(-2))),
        # geometric (NB φ = 2, μ = 1), out all day, 2 held: P(X ≥ 1) + P(X ≥ 2) = ½ + ¼
        (1.0, 2.0, 0, 2.0, 0.75),
        # nothing held: nothing the shelf could have served
        (1.0, 1.0, 0, 0.0, 0.0),
        # far more held than the day could sell: the unmet demand itself
        (0.72, 1.0, 1, 50.0, (0.72 - 1 + math.exp(-0.72)) / (1 - math.exp(-0.72))),
        # fast mover, normal N(100, 100), 100 held: 100 − σ·φ(0) = 100 − 10/√(2π)
        (100.0, 1.0, 0, 100.0, 100 - 10 / math.sqrt(2 * math.pi)),
    ],
    ids=["one-held", "fraction-held", "sold-then-out", "geometric", "none-held", "ample", "normal"],
)
def test_stockout_loss_hand_computed(mean, dispersion, sold, stock, expected) -> None:
    got = theory.stockout_loss(
        np.array([mean]), np.array([dispersion]), np.array([sold]), np.array([stock])
    )
    assert got[0] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_stockout_loss_is_below_the_capped_mean() -> None:
    # E[min(Y, S)] ≤ min(E[Y], S): strictly below wherever S is within reach of the demand
    mean, phi, sold = np.array([0.5, 2.0, 3.0]), np.array([1.0, 1.5, 2.5]), np.zeros(3)
    stock = np.array([1.0, 2.0, 4.0])
    got = theory.stockout_loss(mean, phi, sold, stock)
    assert (got < np.minimum(theory.unmet_demand(mean, phi, sold), stock)).all()
    assert theory.stockout_loss(mean, phi, sold, np.full(3, np.nan)).tolist() == [0.0] * 3


def test_unmet_demand_of_a_fast_mover_uses_the_normal_approximation() -> None:
    # μ = 400, φ = 1 (σ = 20), sold u = μ: E[X − u | X ≥ u] = σ·φ(0) ÷ ½ = 2σ/√(2π)
    got = theory.unmet_demand(np.array([400.0]), np.array([1.0]), np.array([400.0]))
    assert got[0] == pytest.approx(2 * 20 / math.sqrt(2 * math.pi), rel=1e-9)
    # 10 000 sold against a mean of 5: not explained, the whole day (no 10 000-step sum)
    assert theory.unmet_demand(np.array([5.0]), np.array([1.0]), np.array([1e4]))[0] == 5.0
