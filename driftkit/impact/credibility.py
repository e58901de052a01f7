"""Credibility-weighted demand rates: each key's mean shrunk toward the client's (Bühlmann–Straub).

A key's mean daily demand over its sellable days carries sampling noise, and the keys that
run out are selected for noise that ran high: a key whose recent demand was high empties
its record sooner and stays out longer, so its stockout days are charged a rate measured
on days that sold fast (the winner's curse).  The Bayes estimate E[rate | the key's days]
is not biased by a selection made on those days; the Bühlmann–Straub credibility estimate
is its best linear approximation, with no assumption on the shape of the rates' spread
(Bühlmann & Straub 1970; Klugman, Panjer & Willmot, *Loss Models*, 5th ed. 2019, §19.3):

    credible rate = Z·r + (1 − Z)·m,   Z = n ÷ (n + κ),   κ = s² ÷ τ²

with r the key's mean over its n sellable days, m the client's mean over all sellable
key-days, s² the pooled within-key variance of daily demand and τ² the variance of the
keys' true rates, estimated without bias from the keys' means.  The moments are summed
per part (:func:`rate_sums`) and combined once (:func:`rate_prior`), as the weekday
profile is (:mod:`driftkit.impact.pooled`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Fewer keys with two sellable days or more than this: the spread of the rates is not
#: estimated and every rate stays as measured.
MIN_KEYS_FOR_CREDIBILITY = 30

#: :func:`rate_sums` order: keys, days, units, Σ n·r², Σ (n − 1)·s², Σ (n − 1), Σ n².
RATE_SUM_FIELDS = ("keys", "days", "units", "day_squares", "within", "within_dof", "days_sq")


@dataclass(frozen=True)
class RatePrior:
    """Bühlmann–Straub parameters of the per-key demand rate, pooled over the client.

    Attributes
    ----------
    mean
        m: units per sellable key-day over every key with two sellable days or more.
    within
        s²: pooled within-key variance of daily units (ddof 1 per key).
    between
        τ²: variance of the keys' true rates (the keys' means' spread less their noise);
        0 when not estimated or not positive: then no rate is shrunk.
    """

    mean: float = 0.0
    within: float = 0.0
    between: float = 0.0

    @property
    def prior_days(self) -> float:
        """κ = s² ÷ τ²: sellable days a key needs for its own mean to weigh one half."""
        return self.within / self.between if self.between > 0 else 0.0


def rate_sums(units: np.ndarray, use: np.ndarray) -> np.ndarray:
    """The summable moments of one part's per-key means, over keys with n ≥ 2 days used.

    Parameters
    ----------
    units
        ``[key, day]`` daily units.
    use
        ``[key, day]`` True on the key's sellable observed days.

    Returns
    -------
    numpy.ndarray
        Seven floats in :data:`RATE_SUM_FIELDS` order.
    """
    n = use.sum(axis=1).astype(np.float64)
    keep = n >= 2
    total = np.where(use, units, 0.0).sum(axis=1)[keep]
    n = n[keep]
    rate = total / n
    squares = np.where(use[keep], (units[keep] - rate[:, None]) ** 2, 0.0).sum(axis=1)
    return np.array(
        [
            n.size,
            n.sum(),
            total.sum(),
            (n * rate**2).sum(),
            squares.sum(),
            (n - 1).sum(),
            (n**2).sum(),
        ]
    )


def rate_prior(sums: list[np.ndarray]) -> RatePrior:
    """Bühlmann–Straub m, s² and τ² from every part's :func:`rate_sums`.

    m = Σ n·r ÷ N; s² = Σ (n − 1)·s_k² ÷ Σ (n − 1); τ² = (Σ n·(r − m)² − (K − 1)·s²) ÷
    (N − Σ n² ÷ N), with K keys and N = Σ n days.  τ² is 0 (no shrinking) when it is not
    positive or fewer than :data:`MIN_KEYS_FOR_CREDIBILITY` keys are summed.
    """
    if not sums:
        return RatePrior()
    keys, days, units, day_squares, within, dof, days_sq = np.sum(sums, axis=0)
    if keys < MIN_KEYS_FOR_CREDIBILITY or dof <= 0:
        return RatePrior()
    mean = units / days
    noise = within / dof
    spread = (day_squares - days * mean**2 - (keys - 1) * noise) / (days - days_sq / days)
    return RatePrior(float(mean), float(noise), float(max(spread, 0.0)))


def credible_rate(rate: np.ndarray, days: np.ndarray, prior: RatePrior) -> np.ndarray:
    """Z·r + (1 − Z)·m per key, Z = n ÷ (n + κ); r itself where n = 0 or nothing is pooled.

    Parameters
    ----------
    rate
        Per key: mean daily units over its sellable days (r).
    days
        Per key: its sellable observed days (n).
    prior
        The client's :class:`RatePrior`.
    """
    kappa = prior.prior_days
    if kappa <= 0:
        return np.asarray(rate, dtype=np.float64)
    n = np.asarray(days, dtype=np.float64)
    weight = n / (n + kappa)
    return np.where(n > 0, weight * rate + (1.0 - weight) * prior.mean, rate)
