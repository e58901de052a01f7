"""Silent shelves: sales stop while every record shows stock (an unknown out-of-stock).

When the shelf is empty but the records agree that it holds stock (shrink, a stale count
every system copied), no system disagrees and the drift-based terms of the count list see
nothing.  What does show is the sales history: a key that keeps selling at its rate stops.
The trailing run of days without a sale on which the records said the key could sell
(:func:`silent_run`) is weighed by how unlikely it is at the key's demand
(:func:`silence_probability`), and turned into the probability the shelf is empty by Bayes'
rule with a prior share of empty shelves (:func:`empty_shelf_probability`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

#: Prior probability that a key whose records show stock has an empty shelf.  The posterior
#: reaches one half when the silence has probability ≤ this at the key's demand.
EMPTY_SHELF_PRIOR = 0.01
#: A shelf is valued as silent only when it is more likely empty than not: below this
#: posterior the term is 0 (weighing every short pause of a slow seller by a small
#: probability reorders the whole list and halves its lift on true discrepancies).
SILENT_AT = 0.5


def silent_run(
    units: np.ndarray, sellable: np.ndarray, expected: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per key: the trailing run of sellable days with no sale, and its expected units.

    Parameters
    ----------
    units
        ``[key, day]`` units sold.
    sellable
        ``[key, day]`` True where sales are observed and the records say the key could sell
        (the authority holds stock, no selling system shows none).
    expected
        ``[key, day]`` expected units.

    Returns
    -------
    tuple of numpy.ndarray
        Per key: the run's days (0 when the last day sold something or was not sellable)
        and Σ expected units over them.
    """
    quiet = sellable & (np.nan_to_num(units) <= 0)
    run = np.cumprod(quiet[:, ::-1], axis=1)[:, ::-1].astype(bool)
    return run.sum(axis=1), np.where(run, expected, 0.0).sum(axis=1)


def silence_probability(expected_units: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """P(no sale at all) when M units are expected: e^(−M) (Poisson, φ ≤ 1), else the
    negative binomial's φ^(−M / (φ − 1)) with variance-to-mean ratio φ."""
    m = np.asarray(expected_units, dtype=np.float64)
    phi = np.asarray(dispersion, dtype=np.float64)
    over = phi > 1.0 + 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(
            over, np.log(np.where(over, phi, 2.0)) / (np.where(over, phi, 2.0) - 1), 1.0
        )
    return np.asarray(np.exp(-m * rate))


def empty_shelf_probability(silence: np.ndarray, prior: float = EMPTY_SHELF_PRIOR) -> np.ndarray:
    """P(empty | silence) = π ÷ (π + (1 − π)·p), p = P(the silence | shelf stocked)."""
    p = np.asarray(silence, dtype=np.float64)
    return np.asarray(prior / (prior + (1.0 - prior) * p))


def with_prior(empty: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """:func:`empty_shelf_probability` of the same silence under another prior (per key):
    the silence's likelihood p is recovered from ``empty`` (taken at
    :data:`EMPTY_SHELF_PRIOR`); ``empty`` = 1 (p = 0) stays 1 where the prior is > 0."""
    base = EMPTY_SHELF_PRIOR
    posterior = np.clip(np.asarray(empty, dtype=np.float64), base, 1.0)
    p = base * (1.0 - posterior) / ((1.0 - base) * posterior)
    prior = np.asarray(prior, dtype=np.float64)
    odds = prior + (1.0 - prior) * p
    return np.divide(prior, odds, out=np.zeros(len(prior)), where=odds > 0)


def likely_value(empty: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """P(empty) × ``lost`` where P(empty) ≥ :data:`SILENT_AT` (more likely empty than not),
    else 0.

    Parameters
    ----------
    empty
        Per key: :func:`empty_shelf_probability` (0 where unknown).
    lost
        Per key: what an empty shelf costs over the horizon (currency; may be NaN where the
        probability is below the threshold).
    """
    p = np.asarray(empty, dtype=np.float64)
    return np.asarray(np.where(p >= SILENT_AT, p * np.asarray(lost, dtype=np.float64), 0.0))


class SilentState(Protocol):
    """What :func:`silent_shelf` reads of a count list's key state (arrays per key)."""

    @property
    def empty_shelf(self) -> np.ndarray | None: ...
    @property
    def silent_days(self) -> np.ndarray | None: ...
    @property
    def rate(self) -> np.ndarray: ...
    @property
    def authority(self) -> np.ndarray: ...
    @property
    def unit_price(self) -> np.ndarray: ...
    @property
    def authority_name(self) -> str: ...
    @property
    def authority_names(self) -> np.ndarray | None: ...


def authority_names(state: SilentState) -> np.ndarray:
    """Per key, the system whose stock ``state.authority`` holds: ``authority_names`` where
    a stock holder stands in for the authority, else the authority's name (object array)."""
    if state.authority_names is not None:
        return state.authority_names
    return np.full(len(state.rate), state.authority_name, dtype=object)


def silent_shelf(state: SilentState, lost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per key: :func:`likely_value` of ``lost``, what an empty shelf under the record costs
    (:func:`driftkit.impact.sellout.empty_shelf_value`), and why.

    Returns
    -------
    tuple of numpy.ndarray
        Value (0 where the silence is not weighed) and reason text (object).
    """
    n_keys = len(state.rate)
    if state.empty_shelf is None or state.silent_days is None:
        return np.zeros(n_keys), np.full(n_keys, "", dtype=object)
    value = likely_value(state.empty_shelf, lost)
    days = pd.Series(state.silent_days).map("{:g}".format).to_numpy(dtype=object)
    shows = pd.Series(state.authority).map("{:g}".format).to_numpy(dtype=object)
    odds = pd.Series(state.empty_shelf).map("{:.2f}".format).to_numpy(dtype=object)
    where = " days while " + authority_names(state) + " holds "
    return value, "silent shelf: no sale for " + days + where + shows + " (P(empty) " + odds + ")"


def shelf_silence(
    units: np.ndarray, sellable: np.ndarray, expected: np.ndarray, rate: np.ndarray, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per key: P(the shelf is empty) from its trailing silence, and the silence's days.

    :func:`silent_run` over ``sellable`` days, :func:`silence_probability` with the key's
    variance-to-mean ratio sd² ÷ rate (1 where the rate is 0), then
    :func:`empty_shelf_probability`.
    """
    days, units_expected = silent_run(units, sellable, expected)
    phi = np.divide(sd**2, rate, out=np.ones(len(rate)), where=rate > 0)
    return empty_shelf_probability(silence_probability(units_expected, phi)), days
