"""Classical inventory formulas used by the cost model (DESIGN §7).

Scalar functions reproduce textbook values exactly (Snyder & Shen, *Fundamentals of
Supply Chain Theory*, 2nd ed., Wiley 2019: §3 EOQ, §4 newsvendor, §4.3 (r, Q) safety
stock); array functions apply the same formulas to one value per key.  The normal
distribution comes from :class:`statistics.NormalDist` (stdlib; scipy is not a dependency).

Notation: ``z`` standard normal quantile, ``L`` lead time in days, ``σ_d`` standard
deviation of daily demand, ``σ_e`` standard deviation of the record error (units).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

STANDARD_NORMAL = NormalDist()
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def normal_quantile(p: float) -> float:
    """Standard normal quantile Φ⁻¹(p) for 0 < p < 1."""
    return STANDARD_NORMAL.inv_cdf(p)


def normal_pdf(z: np.ndarray | float) -> np.ndarray:
    """Standard normal density φ(z), elementwise."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):  # |z| > 1e154: the density is 0
        return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def normal_cdf(z: np.ndarray | float) -> np.ndarray:
    """Standard normal distribution function Φ(z) = erfc(−z/√2)/2, elementwise."""
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * _erfc(-z / math.sqrt(2.0))


def normal_loss(z: np.ndarray | float) -> np.ndarray:
    """Standard normal loss function G(z) = E[(Z − z)⁺] = φ(z) − z·(1 − Φ(z)), elementwise."""
    z = np.asarray(z, dtype=np.float64)
    return normal_pdf(z) - z * (1.0 - normal_cdf(z))


def newsvendor_normal(mu: float, sigma: float, holding: float, penalty: float) -> float:
    """Optimal order quantity S* = μ + σ·Φ⁻¹(p / (p + h)) of the normal newsvendor."""
    return mu + sigma * normal_quantile(penalty / (penalty + holding))


def newsvendor_cost(
    quantity: float, mu: float, sigma: float, holding: float, penalty: float
) -> float:
    """Expected cost g(S) = h·(S − μ) + (h + p)·σ·G((S − μ)/σ) of ordering S (normal demand)."""
    z = (quantity - mu) / sigma
    return float(holding * (quantity - mu) + (holding + penalty) * sigma * normal_loss(z))


def newsvendor_optimal_cost(sigma: float, holding: float, penalty: float) -> float:
    """Expected cost at the optimum, g(S*) = (h + p)·σ·φ(Φ⁻¹(p / (p + h)))."""
    z = normal_quantile(penalty / (penalty + holding))
    return (holding + penalty) * sigma * STANDARD_NORMAL.pdf(z)


def eoq(fixed_cost: float, holding: float, demand_rate: float) -> float:
    """Economic order quantity Q* = √(2Kλ / h)."""
    return math.sqrt(2.0 * fixed_cost * demand_rate / holding)


def eoq_cost(fixed_cost: float, holding: float, demand_rate: float) -> float:
    """Average annual cost at the EOQ, g(Q*) = √(2Kλh)."""
    return math.sqrt(2.0 * fixed_cost * demand_rate * holding)


def safety_stock(
    z: np.ndarray | float, demand_sd: np.ndarray | float, lead_time: np.ndarray | float
) -> np.ndarray:
    """Safety stock SS = z·√L·σ_d (units), elementwise."""
    return np.asarray(z) * np.sqrt(np.asarray(lead_time)) * np.asarray(demand_sd)


def safety_stock_with_record_error(
    z: np.ndarray | float,
    demand_sd: np.ndarray | float,
    lead_time: np.ndarray | float,
    error_sd: np.ndarray | float,
) -> np.ndarray:
    """Safety stock covering demand and record error, SS' = z·√(L·σ_d² + σ_e²), elementwise.

    The record error is an independent, zero-mean error in the inventory position at the
    moment the reorder is decided (Kök & Shang 2007; DeHoratius & Raman 2008).
    """
    variance = np.asarray(lead_time) * np.asarray(demand_sd) ** 2 + np.asarray(error_sd) ** 2
    return np.asarray(z) * np.sqrt(variance)


def reorder_point(
    demand_rate: np.ndarray | float,
    demand_sd: np.ndarray | float,
    lead_time: np.ndarray | float,
    z: np.ndarray | float,
) -> np.ndarray:
    """Reorder point ROP = λ·L + z·√L·σ_d (units), elementwise."""
    return np.asarray(demand_rate) * np.asarray(lead_time) + safety_stock(z, demand_sd, lead_time)


SD_FLOOR = 1e-9  # units: below this a standard deviation is treated as 0


def expected_shortage(mean: np.ndarray, sd: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """E[(D − s)⁺] for D ~ Normal(mean, sd²): sd·G((s − mean)/sd); (mean − s)⁺ when sd = 0."""
    mean, sd, stock = np.broadcast_arrays(
        np.asarray(mean, float), np.asarray(sd, float), np.asarray(stock, float)
    )
    spread = sd > SD_FLOOR  # a vanishing sd (denormals) is a deterministic demand
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = np.where(spread, (stock - mean) / np.where(spread, sd, 1.0), 0.0)
    return np.where(spread, sd * normal_loss(z), np.maximum(mean - stock, 0.0))


def t_quantile(p: float, dof: float) -> float:
    """Student-t quantile by the Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5).

    Four terms; absolute error below 0.01 for ``dof`` ≥ 3 at p ≤ 0.975, exact as
    ``dof`` → ∞.  Used only for prediction intervals, where that accuracy is ample.
    """
    z = normal_quantile(p)
    if not math.isfinite(dof):
        return z
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / dof + g2 / dof**2 + g3 / dof**3 + g4 / dof**4


def late_reorder_shortage(
    demand_rate: np.ndarray,
    demand_sd: np.ndarray,
    lead_time: np.ndarray,
    z: np.ndarray,
    overstatement: np.ndarray,
) -> np.ndarray:
    """Extra expected units short in one lead time when the record overstates stock by e.

    The reorder fires when the record reaches ROP, so true stock is then (ROP − e)⁺ (stock
    cannot be negative).  With lead-time demand D_L ~ Normal(λL, Lσ_d²) the extra shortage
    is E[(D_L − (ROP − e)⁺)⁺] − E[(D_L − ROP)⁺], floored at 0 (an understated record
    reorders early: more stock, not fewer stockouts).
    """
    mean = np.asarray(demand_rate) * np.asarray(lead_time)
    sd = np.asarray(demand_sd) * np.sqrt(np.asarray(lead_time))
    rop = reorder_point(demand_rate, demand_sd, lead_time, z)
    true_stock = np.maximum(rop - np.asarray(overstatement), 0.0)
    extra = expected_shortage(mean, sd, true_stock) - expected_shortage(mean, sd, rop)
    return np.maximum(extra, 0.0)


#: P(X ≥ sold) below which a day's sales are not explained by its demand model: the day is
#: charged its whole expected demand (the cap of :func:`unmet_demand`).
UNEXPLAINED_TAIL = 1e-6
#: Daily means above which :func:`unmet_demand` uses the normal approximation N(μ, φμ).
NORMAL_ABOVE = 50.0
#: The exact sums run over at most this many units sold (more, with a mean ≤ NORMAL_ABOVE,
#: is not explained by the demand model: the whole expected demand).
MAX_SUMMED = 200


def unmet_demand(mean: np.ndarray, dispersion: np.ndarray, sold: np.ndarray) -> np.ndarray:
    """E[X − u | X ≥ u]: demand left unmet on a day that sold u units and then ran out.

    X is the day's demand with mean μ and variance φμ (``dispersion`` φ = variance ÷ mean):
    negative binomial when φ > 1, Poisson otherwise (normal N(μ, φμ) above
    :data:`NORMAL_ABOVE`).  With p the pmf of X, E[(X − u)⁺] = μ − u + Σ_{x<u} (u − x)·p(x)
    and P(X ≥ u) = 1 − Σ_{x<u} p(x).  u = 0 gives μ (out all day).  The result is capped at
    μ (a day that sold something lost no more than a day that sold nothing) and is μ where
    P(X ≥ u) < :data:`UNEXPLAINED_TAIL` or u > :data:`MAX_SUMMED` on the exact path.
    Elementwise over equal-shaped arrays; the loop runs over unit counts, not keys.
    """
    mean, phi, sold = np.broadcast_arrays(
        np.asarray(mean, float), np.asarray(dispersion, float), np.asarray(sold, float)
    )
    sold = np.ceil(np.maximum(np.nan_to_num(sold), 0.0))
    large = mean > NORMAL_ABOVE
    excess, tail = _counted_excess(
        np.where(large, 0.0, mean), phi, np.where(large | (sold > MAX_SUMMED), 0.0, sold)
    )
    tail = np.where(sold > MAX_SUMMED, 0.0, tail)
    excess[large], tail[large] = _normal_excess(
        mean[large], np.maximum(phi[large], 1.0), sold[large]
    )
    explained = tail >= UNEXPLAINED_TAIL
    with np.errstate(divide="ignore", invalid="ignore"):
        conditional = excess / np.where(explained, tail, 1.0)
    return np.where(explained, np.clip(conditional, 0.0, mean), mean)


def stockout_loss(
    mean: np.ndarray, dispersion: np.ndarray, sold: np.ndarray, stock: np.ndarray
) -> np.ndarray:
    """E[min(X − u, S) | X ≥ u]: demand a stockout turned away that stock S could have served.

    The day sold u units and then showed none while a record held S units.  A unit of
    demand beyond S could not have been served either, so the loss is the expectation of
    the capped excess, (E[(X − u)⁺] − E[(X − u − S)⁺]) ÷ P(X ≥ u), not min(E[X − u | X ≥ u],
    S), which is larger (Jensen) wherever S is within reach of the day's demand.  X as in
    :func:`unmet_demand`; where that is unexplained, min(:func:`unmet_demand`, S).
    """
    mean, phi, sold, stock = np.broadcast_arrays(
        np.asarray(mean, float),
        np.asarray(dispersion, float),
        np.asarray(sold, float),
        np.asarray(stock, float),
    )
    sold = np.ceil(np.maximum(np.nan_to_num(sold), 0.0))
    cap = np.minimum(unmet_demand(mean, phi, sold), np.maximum(np.nan_to_num(stock), 0.0))
    excess, tail = _excess(mean, phi, sold)
    beyond, _ = _excess(mean, phi, sold + np.maximum(np.nan_to_num(stock), 0.0))
    explained = tail >= UNEXPLAINED_TAIL
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = (excess - beyond) / np.where(explained, tail, 1.0)
    return np.where(explained, np.clip(loss, 0.0, cap), cap)


def _excess(mean: np.ndarray, phi: np.ndarray, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(E[(X − a)⁺], P(X ≥ a)): summed exactly, or normal above the exact path's limits."""
    approx = (mean > NORMAL_ABOVE) | (units > MAX_SUMMED)
    excess, tail = _counted_excess(np.where(approx, 0.0, mean), phi, np.where(approx, 0.0, units))
    normal, normal_tail = _normal_excess(mean, np.maximum(phi, 1.0), units)
    return np.where(approx, normal, excess), np.where(approx, normal_tail, tail)


def _normal_excess(
    mean: np.ndarray, phi: np.ndarray, sold: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(E[(X − u)⁺], P(X ≥ u)) for X ~ Normal(μ, φμ): σ·G(z) and 1 − Φ(z), z = (u − μ)/σ."""
    sd = np.sqrt(phi * mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > SD_FLOOR, (sold - mean) / np.where(sd > SD_FLOOR, sd, 1.0), 0.0)
    return sd * normal_loss(z), 1.0 - normal_cdf(z)


def _counted_excess(
    mean: np.ndarray, phi: np.ndarray, sold: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(E[(X − u)⁺], P(X ≥ u)) for negative binomial (φ > 1) or Poisson X, summed exactly."""
    over = phi > 1.0 + 1e-9
    size = np.where(over, mean / np.where(over, phi - 1.0, 1.0), 0.0)  # NB r
    fail = np.where(over, 1.0 - 1.0 / np.where(over, phi, 1.0), 0.0)  # NB 1 − q
    pmf = np.where(over, np.power(np.where(over, phi, 1.0), -size), np.exp(-mean))
    below = np.zeros_like(mean)
    short = np.zeros_like(mean)
    for x in range(math.ceil(sold.max(initial=0.0))):
        inside = sold > x
        below += np.where(inside, pmf, 0.0)
        short += np.where(inside, (sold - x) * pmf, 0.0)
        pmf = pmf * np.where(over, (x + size) / (x + 1) * fail, mean / (x + 1))
    return mean - sold + short, 1.0 - below


def demand_at_least(mean: np.ndarray, dispersion: np.ndarray, units: np.ndarray) -> np.ndarray:
    """P(X ≥ u): a period's demand X (mean μ, variance φμ) reaches u units (rounded up).

    Negative binomial when φ > 1, Poisson otherwise, summed exactly; normal N(μ, φμ) above
    :data:`NORMAL_ABOVE` or past :data:`MAX_SUMMED` units.  u ≤ 0 gives 1.  Elementwise.
    """
    mean, phi, units = np.broadcast_arrays(
        np.asarray(mean, float), np.asarray(dispersion, float), np.asarray(units, float)
    )
    units = np.ceil(np.maximum(np.nan_to_num(units), 0.0))
    approx = (mean > NORMAL_ABOVE) | (units > MAX_SUMMED)
    _, tail = _counted_excess(np.where(approx, 0.0, mean), phi, np.where(approx, 0.0, units))
    _, normal = _normal_excess(mean, np.maximum(phi, 1.0), units)
    return np.where(approx, normal, np.where(units <= 0, 1.0, tail))
