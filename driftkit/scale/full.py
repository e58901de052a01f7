"""The causes and costs of one part: roll-forward, attribution, impact, count accuracy.

:func:`full_parts` is pass 3's second half (:func:`driftkit.scale.part.audit_part` with
``plan.full``): the part's findings and per-key tables, and the numerator and denominator
of every cross-key number of attribution and impact, with the plan's global facts.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from driftkit import schema
from driftkit.causes.attribute import attribution_part
from driftkit.causes.match import match_events
from driftkit.drift.accuracy import count_accuracy, rollforward
from driftkit.drift.align import Grid
from driftkit.drift.compare import Comparison
from driftkit.impact.countlist import count_list
from driftkit.impact.estimate import (
    KeyDays,
    estimate_demand,
    key_costs,
    key_state,
    oversold_units,
    per_key_table,
    phantom_stockouts,
    planning_parameters,
    record_error,
    stock_records,
    suspected_phantom_stockouts,
    window_value,
)
from driftkit.load.client import ClientData
from driftkit.scale.demand import observed_units
from driftkit.scale.plan import GHOST, RULES, Plan
from driftkit.schema import AS_OF, LOCATION, SKU, SYSTEM


def full_parts(data: ClientData, grid: Grid, comparison: Comparison, plan: Plan) -> dict[str, Any]:
    """Roll-forward, attribution, impact and count accuracy of one part.

    Returns
    -------
    dict
        ``attribution`` (:class:`~driftkit.causes.attribute.AttributionPart`), ``findings``
        and ``explained_by`` (its findings and episode labels), ``per_key``, ``count_list``, ``demand``, ``totals``, ``daily_cost``
        (impact) and ``count_errors``.
    """
    residuals = rollforward(data.snapshots, data.events, plan.config, grid)
    full = _attribute(data, grid, comparison, residuals, plan)
    full.update(_impact(data, grid, full["findings"], plan))
    full["count_errors"] = _count_errors(data, plan)
    return full


def _attribute(
    data: ClientData, grid: Grid, comparison: Comparison, residuals: pd.DataFrame, plan: Plan
) -> dict[str, Any]:
    """``attribution_part`` of one part with the plan's export spans and handoff statistics."""
    matches = match_events(data.events, catalog=data.catalog, rules=RULES.match)
    part = attribution_part(
        data,
        grid,
        comparison,
        residuals,
        matches=matches,
        span=plan.span,
        stats=plan.handoffs,
        rules=RULES,
    )
    return {"attribution": part, "findings": part.findings, "explained_by": part.explained_by}


def _impact(data: ClientData, grid: Grid, findings: pd.DataFrame, plan: Plan) -> dict[str, Any]:
    """``impact.estimate_impact`` on one bucket with the client's weekday profile and
    shipment days; returns per-key tables and the parts of the totals."""
    config, params = plan.config, plan.config.impact
    stock = stock_records(data.snapshots, grid, config)
    planning = planning_parameters(grid.keys, data.catalog, params)
    phantom = phantom_stockouts(stock, config.tolerance)
    units, observed = observed_units(data.events, grid, plan, shipped=plan.shipped)
    own = estimate_demand(
        units, observed, phantom | (stock.authority <= config.tolerance), grid.days
    )
    expected = own.rate[:, None] * plan.weekday[grid.days.day_of_week.to_numpy()][None, :]
    demand = dataclasses.replace(own, expected=expected, weekday_index=plan.weekday)
    suspected = suspected_phantom_stockouts(stock, config.tolerance)
    days = KeyDays(phantom, suspected, oversold_units(stock, demand.expected), observed)
    error = record_error(stock)
    costs = key_costs(days, stock, demand, error, planning, params)
    costs["expected_value"] = window_value(costs, demand, planning, params, len(grid.days))
    state = key_state(grid, stock, demand, planning, costs)
    keyed = grid.keys[[SKU, LOCATION]].reset_index(drop=True)
    ranking = keyed.assign(
        _rate=demand.rate, window=costs["expected_value"], _cost=planning.unit_cost
    )
    lost = params.walk_away_share * np.where(phantom | suspected, demand.expected, 0.0)
    return {
        "per_key": per_key_table(grid.keys, demand, costs, error),
        "count_list": count_list(state, params, findings).merge(ranking, on=[SKU, LOCATION]),
        "demand": pd.concat([keyed, demand.table], axis=1),
        "totals": {k: costs[k].sum() for k in TOTAL_PARTS},
        "daily_cost": np.nan_to_num(lost * planning.unit_price[:, None]).sum(axis=0)
        + days.oversold.sum(axis=0) * params.pick_failure_cost,
    }


TOTAL_PARTS = (
    "phantom_days",
    "lost_sales_units",
    "lost_revenue",
    "oversell_units",
    "pick_failure_cost",
    "extra_capital",
    "unseen_demand",
    "true_demand",
)


def _count_errors(data: ClientData, plan: Plan) -> pd.DataFrame:
    """``accuracy.count_accuracy`` errors of one bucket, with a row for every client system.

    A system without snapshots in this bucket is listed by one placeholder snapshot
    whose key matches no count, so each count gets a (valueless) row for it as in the
    unpartitioned run.
    """
    listed = set(data.snapshots[SYSTEM].unique())
    ghosts = [s for s in plan.found if s not in listed]
    snapshots = data.snapshots
    if ghosts and len(data.counts):
        placeholder = pd.DataFrame(
            {
                SYSTEM: ghosts,
                SKU: GHOST,
                LOCATION: GHOST,
                AS_OF: pd.Timestamp(0, tz="UTC"),
            }
        )
        snapshots = pd.concat([snapshots, schema.conform(placeholder, "snapshots")])
    return count_accuracy(snapshots, data.counts, plan.config)[0]
