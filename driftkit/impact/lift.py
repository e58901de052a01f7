"""Does the count list find drift? Its lift over random and velocity-only selection.

:func:`count_list_lift` counts, on simulated data, the true discrepancies
(:func:`discrepant_keys`, from the simulator's physical stock) in the top N of each ranking
(:func:`driftkit.impact.countlist.count_list`, :func:`velocity_ranking`) against random
selection.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.schema import LOCATION, SKU

LIFT_COLUMNS = ("top_n", "policy", "hits", "precision", "prevalence", "lift")


def count_list_lift(
    rankings: dict[str, pd.DataFrame],
    discrepant: pd.DataFrame,
    *,
    top_n: tuple[int, ...] = (10, 25, 50),
    target: str = "discrepant",
) -> pd.DataFrame:
    """How many true discrepancies each ranking finds in its top N, against random selection.

    Parameters
    ----------
    rankings
        Policy name → frame with ``sku, location`` ordered best first (e.g. the count
        list, or keys ordered by demand rate).
    discrepant
        ``sku, location`` and the ``target`` column (bool) for every candidate key: True
        where some system's record differs from the true physical stock
        (:func:`discrepant_keys`) or where a record shows stock the shelf does not have
        (:func:`unknown_out_of_stock_keys`).
    top_n
        List lengths to evaluate.
    target
        The bool column of ``discrepant`` that counts as a hit.

    Returns
    -------
    pandas.DataFrame
        ``top_n, policy, hits, precision, prevalence, lift``; one row per (N, policy) plus
        a ``random`` row whose hits are the expectation N × prevalence; ``lift`` =
        precision ÷ prevalence (random = 1).
    """
    truth = discrepant.set_index([SKU, LOCATION])[target].astype(bool)
    prevalence = float(truth.mean()) if len(truth) else 0.0
    rows = []
    for n in top_n:
        rows.append(("random", n, n * prevalence))
        for policy, ranking in rankings.items():
            head = pd.MultiIndex.from_frame(ranking[[SKU, LOCATION]].head(n))
            rows.append((policy, n, float(truth.reindex(head).fillna(False).sum())))
    table = pd.DataFrame(rows, columns=["policy", "top_n", "hits"])
    table["precision"] = table["hits"] / table["top_n"]
    table["prevalence"] = prevalence
    table["lift"] = table["precision"] / prevalence if prevalence else np.nan
    return table[list(LIFT_COLUMNS)]


def velocity_ranking(keys: pd.DataFrame, rate: np.ndarray) -> pd.DataFrame:
    """Keys by demand rate, fastest first (ties by sku, location): the velocity-only policy.

    Returns
    -------
    pandas.DataFrame
        ``sku, location, demand_rate``.
    """
    table = keys[[SKU, LOCATION]].reset_index(drop=True).assign(demand_rate=rate)
    return table.sort_values(["demand_rate", SKU, LOCATION], ascending=[False, True, True])


def discrepant_keys(
    values: np.ndarray, keys: pd.DataFrame, days: pd.DatetimeIndex, physical: pd.DataFrame
) -> pd.DataFrame:
    """Keys whose record differs from true physical stock on the last day (simulation truth).

    Parameters
    ----------
    values
        ``[system, key, day]`` on-hand records (``Grid.values`` with measure on_hand).
    keys, days
        The grid's keys and local days.
    physical
        The simulator's true stock: ``sku, location, day, on_hand`` (end of local day).

    Returns
    -------
    pandas.DataFrame
        ``sku, location, discrepant``: True where some system's last-day record differs
        from the physical stock by more than half a unit.  Keys without a physical value
        on that day are left out.
    """
    last = physical[pd.to_datetime(physical["day"]) == days[-1]]
    where = pd.MultiIndex.from_frame(keys[[SKU, LOCATION]])
    truth = last.set_index([SKU, LOCATION])["on_hand"].reindex(where).to_numpy(dtype=np.float64)
    off = np.abs(values[:, :, -1] - truth[None, :]) > 0.5
    table = keys[[SKU, LOCATION]].reset_index(drop=True).assign(discrepant=off.any(axis=0))
    return table[~np.isnan(truth)].reset_index(drop=True)


def unknown_out_of_stock_keys(
    values: np.ndarray, keys: pd.DataFrame, days: pd.DatetimeIndex, physical: pd.DataFrame
) -> pd.DataFrame:
    """Keys whose shelf is empty on the last day while a record shows stock (simulation truth).

    An *unknown out-of-stock*: true physical stock ≤ 0 at the end of the last day while some
    record of ``values`` shows more than half a unit on the last day — nobody reorders or
    recounts it, and the storefront may sell it.  Same inputs as :func:`discrepant_keys`;
    pass the records the business believes (the authority and the selling systems).

    Returns
    -------
    pandas.DataFrame
        ``sku, location, unknown_out_of_stock`` (bool).  Keys without a physical value on
        that day are left out.
    """
    last = physical[pd.to_datetime(physical["day"]) == days[-1]]
    where = pd.MultiIndex.from_frame(keys[[SKU, LOCATION]])
    truth = last.set_index([SKU, LOCATION])["on_hand"].reindex(where).to_numpy(dtype=np.float64)
    shows = (np.nan_to_num(values[:, :, -1], nan=0.0) > 0.5).any(axis=0)
    table = keys[[SKU, LOCATION]].reset_index(drop=True)
    table = table.assign(unknown_out_of_stock=shows & (truth <= 0))
    return table[~np.isnan(truth)].reset_index(drop=True)


def rule_rankings(
    keys: pd.DataFrame,
    rate: np.ndarray,
    unit_cost: np.ndarray,
    authority_last: np.ndarray,
    adjusted: np.ndarray,
) -> dict[str, pd.DataFrame]:
    """The standard cycle-count rules as rankings of ``keys`` (best first).

    * ``abc_by_value`` — periodic ABC: annual usage value (demand rate × unit cost), highest
      first (the A items are counted most often).
    * ``zero_balance`` — zero-balance confirmation: keys whose authority record is ≤ 0 on
      the last day first, then the rest by usage value.
    * ``recount_after_adjustment`` — keys with an adjustment or count event in the window
      first (largest |adjustment| first), then the rest by usage value.

    Parameters
    ----------
    keys
        ``sku, location`` per key (grid order).
    rate, unit_cost, authority_last, adjusted
        Per key: demand rate, unit cost (NaN → 0), the authority's last-day record (NaN
        when absent) and the summed |adjustment| in the window (0 when none).

    Returns
    -------
    dict[str, pandas.DataFrame]
        Rule name → ``sku, location`` ordered best first.
    """
    value = np.nan_to_num(rate) * np.nan_to_num(unit_cost)
    table = keys[[SKU, LOCATION]].reset_index(drop=True).assign(value=value)
    flags = {
        "abc_by_value": np.zeros(len(table)),
        "zero_balance": (np.nan_to_num(authority_last, nan=1.0) <= 0).astype(float),
        "recount_after_adjustment": np.asarray(adjusted, dtype=float),
    }
    return {
        name: table.assign(flag=flag).sort_values(
            ["flag", "value", SKU, LOCATION], ascending=[False, False, True, True]
        )[[SKU, LOCATION]]
        for name, flag in flags.items()
    }
