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
from driftkit.causes.attribute import detect_causes, explain_episodes
from driftkit.causes.context import _Context
from driftkit.causes.episodes import _resets, covering
from driftkit.causes.handoffs import edge_parts
from driftkit.causes.match import match_events
from driftkit.drift.accuracy import count_accuracy, rollforward
from driftkit.drift.align import Grid
from driftkit.drift.compare import Comparison
from driftkit.drift.pairs import COUNTERPART
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
from driftkit.scale.handoffs import deliveries, format_parts
from driftkit.scale.plan import GHOST, RULES, Plan
from driftkit.schema import AS_OF, LOCATION, SKU, SYSTEM, Cause


def full_parts(data: ClientData, grid: Grid, comparison: Comparison, plan: Plan) -> dict[str, Any]:
    """Roll-forward, attribution, impact and count accuracy of one part.

    Returns
    -------
    dict
        ``findings``, ``matches``, ``edges``, ``formats``, ``explained``, ``explained_by``
        (attribution), ``per_key``, ``count_list``, ``demand``, ``totals``, ``daily_cost``
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
    """``attribute.attribute`` on one bucket, its handoff statistics taken from the plan."""
    ctx = _Context(plan.config, grid, residuals, data.counts, data.catalog, RULES)
    matches = match_events(data.events, catalog=data.catalog, rules=RULES.match)
    delivered = deliveries(matches, plan)
    findings, timing = detect_causes(data, comparison, ctx, matches, delivered, plan.handoffs)
    edges = delivered[delivered["normal"]]
    return {
        "findings": findings,
        "matches": matches,
        "edges": edge_parts(edges),
        "formats": format_parts(edges, matches),
        "explained": _explained_parts(findings, comparison.episodes, ctx),
        "explained_by": explain_episodes(
            findings, comparison.episodes, timing, ctx.tz, _resets(ctx)
        ),
    }


def _explained_parts(
    findings: pd.DataFrame, episodes: pd.DataFrame, ctx: _Context
) -> tuple[float, float]:
    """``attribute.explained_share`` as (explained drift units, covered drift units)."""
    vs = episodes[episodes[COUNTERPART] == ctx.authority].reset_index(drop=True)
    covered = covering(findings, vs, ctx.tz, _resets(ctx)).astype(float)
    n = covered.sum(axis=1)
    weight = vs["peak_abs_drift"].where(n > 0, 0.0)
    other = covered.drop(columns=str(Cause.UNRECORDED_CHANGE)).sum(axis=1) / n.where(n > 0)
    return float((other.fillna(0.0) * weight).sum()), float(weight.sum())


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
