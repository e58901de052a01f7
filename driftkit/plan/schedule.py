"""The reconciliation schedule: SKU-locations tiered by demand value, each tier checked as often
as its money warrants (A hourly, B daily, C weekly).

A key's **daily demand value** is its demand rate (units per day, ``impact.demand``,
censoring-aware) × its unit cost.  Sorted from the largest, tier A is the keys that make the
first ``tier_a_share`` of the client's total demand value, B those up to ``tier_b_share``,
C the rest; the money boundaries are therefore the client's own (docs/fix_plan.md).  A key
whose demand or cost is unknown is valued as unknown and checked daily (B), never weekly.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftkit.config import CheckParams, ClientConfig
from driftkit.drift.align import Grid
from driftkit.drift.compare import catalog_columns, compare
from driftkit.schema import LOCATION, SKU

#: tier → (how often, cron schedule).
FREQUENCIES = {
    "A": ("hourly", "0 * * * *"),
    "B": ("daily", "30 5 * * *"),
    "C": ("weekly", "30 5 * * 1"),
}


def tier_keys(per_key: pd.DataFrame, catalog: pd.DataFrame, params: CheckParams) -> pd.DataFrame:
    """Every key's tier from its daily demand value.

    Parameters
    ----------
    per_key
        ``impact.per_key`` (``sku, location, demand_rate``).
    catalog
        The canonical catalog (``unit_cost``).
    params
        ``[check]`` of client.toml (the two cumulative shares).

    Returns
    -------
    pandas.DataFrame
        ``sku, location, demand_rate, unit_cost, demand_value, share_before, tier``:
        ``demand_value`` = demand_rate × unit_cost per day (NaN when either is unknown),
        ``share_before`` = share of the total demand value held by the keys ranked above;
        tier A when ``share_before < tier_a_share``, B below ``tier_b_share`` or value
        unknown, else C.  Largest demand value first.
    """
    cost, _ = catalog_columns(per_key[[SKU, LOCATION]], catalog)
    value = per_key["demand_rate"].to_numpy(dtype=np.float64, na_value=np.nan) * cost
    table = per_key[[SKU, LOCATION, "demand_rate"]].assign(unit_cost=cost, demand_value=value)
    table = table.sort_values("demand_value", ascending=False, kind="stable", na_position="last")
    known = table["demand_value"].fillna(0.0).to_numpy()
    total = known.sum()
    before = (np.cumsum(known) - known) / total if total > 0 else np.ones(len(known))
    tier = np.where(before < params.tier_a_share, "A", "C")
    tier = np.where((tier == "C") & (before < params.tier_b_share), "B", tier)
    tier = np.where(table["demand_value"].isna(), "B", tier)
    return table.assign(share_before=before, tier=tier).reset_index(drop=True)


def tier_table(tiers: pd.DataFrame, params: CheckParams) -> pd.DataFrame:
    """One row per tier: how often, its keys, its demand value and its money boundaries.

    Returns
    -------
    pandas.DataFrame
        ``tier, frequency, cron, keys, demand_value, share, min_demand_value,
        max_demand_value, limits``: ``share`` of the client's demand value; ``limits`` the
        ``[check.<tier>]`` thresholds as text (empty when none are set).
    """
    groups = tiers.groupby("tier")["demand_value"]
    table = pd.DataFrame({"tier": list(FREQUENCIES)})
    table["frequency"] = [FREQUENCIES[t][0] for t in FREQUENCIES]
    table["cron"] = [FREQUENCIES[t][1] for t in FREQUENCIES]
    table["keys"] = tiers["tier"].value_counts().reindex(table["tier"], fill_value=0).to_numpy()
    sums = groups.sum().reindex(table["tier"], fill_value=0.0).to_numpy()
    total = float(tiers["demand_value"].sum())
    table["demand_value"] = sums
    table["share"] = sums / total if total > 0 else np.nan
    table["min_demand_value"] = groups.min().reindex(table["tier"]).to_numpy()
    table["max_demand_value"] = groups.max().reindex(table["tier"]).to_numpy()
    table["limits"] = [_limits_text(params.limits.get(t, {})) for t in table["tier"]]
    return table


def _limits_text(limits: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in limits.items())


def cron_lines(client_dir: Path, table: pd.DataFrame) -> list[str]:
    """Ready-to-use crontab lines, one per tier with keys: ``driftkit check --tier``."""
    folder = client_dir.resolve()
    return [
        f"{r['cron']}  driftkit check {folder} --tier {r['tier']}"
        f"  # {r['frequency']}: {int(r['keys'])} SKU-locations"
        for r in table.to_dict("records")
        if r["keys"] > 0
    ]


def tier_headline(
    grid: Grid, config: ClientConfig, catalog: pd.DataFrame, keys: pd.DataFrame
) -> dict[str, Any]:
    """The headline drift numbers (DESIGN §5) of ``keys`` (``sku, location``) only.

    The grid restricted to those keys, compared exactly as the whole audit is
    (:func:`driftkit.drift.compare.compare`).

    Returns
    -------
    dict
        ``compare``'s headline: ``sku_locations, compared_cells, agreement_rate,
        drifted_sku_locations, abs_drift_units_last_day, value_at_risk_last_day`` ….
    """
    wanted = pd.MultiIndex.from_frame(keys[[SKU, LOCATION]])
    mine = pd.MultiIndex.from_frame(grid.keys[[SKU, LOCATION]]).isin(wanted)
    part = dataclasses.replace(
        grid, keys=grid.keys[mine].reset_index(drop=True), values=grid.values[:, mine, :]
    )
    return dict(compare(part, config, catalog).headline)
