"""What drift costs (DESIGN §7): demand, phantom stockouts, oversell, reorder, safety stock.

Every quantity is an array ``[key, day]`` on the grid of :func:`driftkit.drift.align.align`
(key codes and local days shared with the comparison), reduced per key with numpy.
Definitions, parameters, defaults and their sources: ``docs/impact.md``.

This module wires the steps and is the public surface; the code lives in private modules:
:mod:`driftkit.impact.stock` (stock records, phantom stockouts, oversell), :mod:`driftkit.impact.demand`
(censoring-aware demand), :mod:`driftkit.impact.costs` (record error, reorder, safety stock,
per-key table, totals) and :mod:`driftkit.impact.projection` (projection, handoff fixes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig, ImpactParams
from driftkit.drift.align import Grid
from driftkit.impact.costs import (
    CONTAMINATED_SHARE,
    DAYS_PER_YEAR,
    NO_CATEGORY,
    PER_KEY_COLUMNS,
    KeyDays,
    Planning,
    RecordError,
    forecast_bias,
    impact_totals,
    key_costs,
    per_key_table,
    planning_parameters,
    record_error,
    reorder_effects,
    safety_stock_effects,
    window_value,
)
from driftkit.impact.countlist import KeyState, count_list, last_observed
from driftkit.impact.demand import (
    HOLDER_KINDS,
    MIN_DAYS_FOR_WEEKDAY_PROFILE,
    Demand,
    daily_shipments,
    demand_class,
    estimate_demand,
    observed_demand,
    snapshot_declines,
    weekday_index,
)
from driftkit.impact.projection import (
    BASELINE,
    FIXED,
    FLOW_METRICS,
    PROJECTION_LEVEL,
    STOCK_METRICS,
    daily_series,
    handoff_fixes,
    project,
)
from driftkit.impact.stock import (
    Stock,
    lost_units,
    oversold_units,
    phantom_stockouts,
    stock_records,
    suspected_phantom_stockouts,
)


class Tables(Protocol):
    """The canonical tables the cost model reads (``driftkit.load.client.ClientData`` has them)."""

    @property
    def snapshots(self) -> pd.DataFrame: ...
    @property
    def events(self) -> pd.DataFrame: ...
    @property
    def catalog(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Impact:
    """What the drift of one audit costs.

    Attributes
    ----------
    per_key
        ``impact.csv``: one row per key; columns :data:`PER_KEY_COLUMNS` (docs/impact.md).
    count_list
        ``count_list.csv``: ``rank, sku, location, system, expected_value, reason,
        drift_units, cause`` (see :func:`driftkit.impact.countlist.count_list`).
    projection
        ``week, metric, estimate, low, high, scenario`` (see :func:`project`).
    totals
        ``phantom_stockout_sku_days, lost_sales_units, lost_revenue, oversell_units,
        pick_failure_cost, extra_safety_stock_capital, forecast_bias_share``.
    demand
        The :class:`Demand` table per key.
    fixes
        Handoff failures ranked by attributed value (empty without attribution).
    """

    per_key: pd.DataFrame
    count_list: pd.DataFrame
    projection: pd.DataFrame
    totals: dict[str, float | int]
    demand: pd.DataFrame
    fixes: pd.DataFrame
    weekday_index: tuple[float, ...] = ()


def estimate_impact(
    data: Tables,
    grid: Grid,
    comparison: Any,
    attribution: Any | None,
    config: ClientConfig,
) -> Impact:
    """What the drift of one audit costs (DESIGN §7).

    Parameters
    ----------
    data
        The client's canonical tables (``snapshots``, ``events``, ``catalog``).
    grid
        The aligned grid the comparison was computed on.
    comparison
        :class:`driftkit.drift.compare.Comparison` of ``grid`` (its ``daily`` table is projected).
    attribution
        :class:`driftkit.causes.attribute.Attribution` or None; its ``findings`` give each count-list
        row a cause and the counterfactual "top 3 handoffs fixed".
    config
        Client config; ``config.impact`` holds every cost parameter.

    Returns
    -------
    Impact
        ``per_key`` (impact.csv), ``count_list``, ``projection``, ``totals``, ``demand``,
        ``fixes``; columns documented on :class:`Impact` and in ``docs/impact.md``.
    """
    params = config.impact
    stock = stock_records(data.snapshots, grid, config)
    plan = planning_parameters(grid.keys, data.catalog, params)
    phantom = phantom_stockouts(stock, config.tolerance)
    units, observed = observed_demand(data.events, grid, config)
    demand = estimate_demand(
        units, observed, phantom | (stock.authority <= config.tolerance), grid.days
    )
    suspected = suspected_phantom_stockouts(stock, config.tolerance)
    days = KeyDays(phantom, suspected, oversold_units(stock, demand.expected), observed)
    error = record_error(stock)
    costs = key_costs(days, stock, demand, error, plan, params)
    costs["expected_value"] = window_value(costs, demand, plan, params, len(grid.days))
    findings = getattr(attribution, "findings", None)
    fixes = handoff_fixes(findings)
    state = key_state(grid, stock, demand, plan, costs)
    return Impact(
        per_key=per_key_table(grid.keys, demand, costs, error),
        count_list=count_list(state, params, findings),
        projection=project(
            daily_series(
                comparison.daily, grid.authority, grid.days, _daily_cost(days, demand, plan, params)
            ),
            params.projection_weeks,
            removed_share=float(fixes["share"].head(3).sum()) if len(fixes) else None,
        ),
        totals=impact_totals(costs),
        demand=pd.concat([grid.keys.reset_index(drop=True), demand.table], axis=1),
        fixes=fixes,
        weekday_index=tuple(float(v) for v in demand.weekday_index),
    )


def _daily_cost(days: KeyDays, demand: Demand, plan: Planning, params: ImpactParams) -> np.ndarray:
    lost = params.walk_away_share * np.where(days.phantom | days.suspected, demand.expected, 0.0)
    revenue = np.nan_to_num(lost * plan.unit_price[:, None]).sum(axis=0)
    return revenue + days.oversold.sum(axis=0) * params.pick_failure_cost


def key_state(
    grid: Grid, stock: Stock, demand: Demand, plan: Planning, costs: dict[str, np.ndarray]
) -> KeyState:
    """The count list's input: last observed records and planning inputs per key."""
    return KeyState(
        keys=grid.keys,
        authority_name=grid.authority,
        authority=last_observed(stock.authority),
        selling=last_observed(stock.selling),
        selling_systems=stock.selling_systems,
        drift=last_observed(stock.drift),
        drift_systems=stock.drift_systems,
        rate=demand.rate,
        sd=demand.sd,
        lead_time=plan.lead_time,
        z=plan.z,
        unit_cost=plan.unit_cost,
        unit_price=plan.unit_price,
        extra_capital=costs["extra_capital"],
        window_value=costs["expected_value"],
    )


__all__ = [
    "BASELINE",
    "CONTAMINATED_SHARE",
    "DAYS_PER_YEAR",
    "FIXED",
    "FLOW_METRICS",
    "HOLDER_KINDS",
    "MIN_DAYS_FOR_WEEKDAY_PROFILE",
    "NO_CATEGORY",
    "PER_KEY_COLUMNS",
    "PROJECTION_LEVEL",
    "STOCK_METRICS",
    "Demand",
    "Impact",
    "KeyDays",
    "Planning",
    "RecordError",
    "Stock",
    "Tables",
    "daily_series",
    "daily_shipments",
    "demand_class",
    "estimate_demand",
    "estimate_impact",
    "forecast_bias",
    "handoff_fixes",
    "impact_totals",
    "key_costs",
    "key_state",
    "lost_units",
    "observed_demand",
    "oversold_units",
    "per_key_table",
    "phantom_stockouts",
    "planning_parameters",
    "project",
    "record_error",
    "reorder_effects",
    "safety_stock_effects",
    "snapshot_declines",
    "stock_records",
    "suspected_phantom_stockouts",
    "weekday_index",
    "window_value",
]
