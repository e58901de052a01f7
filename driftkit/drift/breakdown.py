"""Where the drift sits: per key and system, per category or location, and the worst keys.

:func:`drift_per_key` and :func:`decompose` build the ``key_drift``, ``by_category`` and
``by_location`` tables of :class:`~driftkit.drift.compare.Comparison`;
:func:`rank_worst_keys` picks the keys the report drills into from ``key_drift`` alone.
Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.drift.align import Grid
from driftkit.drift.pairs import VsAuthority, _vs_authority
from driftkit.schema import LOCATION, SKU, SYSTEM


def drift_per_key(
    grid: Grid, cost: np.ndarray, tolerance: float, *, vs_authority: VsAuthority | None = None
) -> pd.DataFrame:
    """Per key and non-authority system: drift on the last day and over the window.

    Returns
    -------
    pandas.DataFrame
        ``sku, location, system, compared_days, drift_last_day, abs_drift_units,
        drifted_days, drift_value_last_day``; only (key, system) compared with the
        authority on at least one day.  ``drift_value_last_day`` = |d| × unit_cost (NaN
        when either is unknown).
    """
    others, drift = _vs_authority(grid) if vs_authority is None else vs_authority
    n_keys = len(grid.keys)
    last = drift[:, :, -1] if len(grid.days) else np.full((len(others), n_keys), np.nan)
    table = pd.DataFrame(
        {
            "key": np.tile(np.arange(n_keys), len(others)),
            SYSTEM: np.repeat(np.asarray(others, dtype=object), n_keys),
            "compared_days": (~np.isnan(drift)).sum(axis=2).ravel(),
            "drift_last_day": last.ravel(),
            "abs_drift_units": np.nansum(np.abs(drift), axis=2).ravel(),
            "drifted_days": (np.abs(drift) > tolerance).sum(axis=2).ravel(),
            "drift_value_last_day": (np.abs(last) * cost[None, :]).ravel(),
        }
    )
    table = table[table["compared_days"] > 0]
    keys = grid.keys.iloc[table["key"].to_numpy()].reset_index(drop=True)
    table = table.drop(columns="key").reset_index(drop=True)
    return pd.concat([keys, table], axis=1).astype({SYSTEM: "str"})


def decompose(
    totals: pd.DataFrame, drifted: np.ndarray, group: np.ndarray, name: str
) -> pd.DataFrame:
    """Drift summed by a per-key label (category, location), with each group's share.

    Returns
    -------
    pandas.DataFrame
        ``<name>, sku_locations, drifted_sku_locations, abs_drift_units,
        abs_drift_units_last_day, value_at_risk_last_day, share_abs_drift_units,
        share_abs_drift_units_last_day, share_value_at_risk_last_day``; sorted by value at
        risk, then units on the last day, then window units, largest first.
    """
    columns = ["abs_drift_units", "abs_drift_units_last_day", "value_at_risk_last_day"]
    per_key = totals[columns].copy()
    per_key[name] = pd.Series(group, dtype="str")
    per_key["sku_locations"] = 1
    per_key["drifted_sku_locations"] = drifted
    counted = ["sku_locations", "drifted_sku_locations", *columns]
    table: pd.DataFrame = per_key.groupby(name, sort=True)[counted].sum().reset_index()
    for column in columns:
        total = table[column].sum()
        table[f"share_{column}"] = table[column] / total if total else np.nan
    order = ["value_at_risk_last_day", "abs_drift_units_last_day", "abs_drift_units"]
    return table.sort_values(order, ascending=False, kind="stable").reset_index(drop=True)


DRILLDOWNS = 3  # keys the report drills into (``story.drilldowns``)


def rank_worst_keys(key_drift: pd.DataFrame, n: int = DRILLDOWNS) -> pd.DataFrame:
    """The keys the report drills into, from ``Comparison.key_drift`` alone.

    Returns
    -------
    pandas.DataFrame
        ``sku, location, abs_drift_units, drift_value_last_day``: Σ over systems, the ``n``
        keys with drift units, most drift value on the last day first (ties: units).
    """
    per_key = key_drift.groupby([SKU, LOCATION], as_index=False)[
        ["abs_drift_units", "drift_value_last_day"]
    ].sum()
    ranked = per_key[per_key["abs_drift_units"] > 0].sort_values(
        ["drift_value_last_day", "abs_drift_units"], ascending=False, kind="stable"
    )
    return ranked.head(n).reset_index(drop=True)
