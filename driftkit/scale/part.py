"""One part's work: pass 2 (:func:`profile_part`) and pass 3 (:func:`audit_part`).

A part is one SKU bucket, or the whole client when the audit runs in process.  Pass 3 runs
align, compare, roll-forward, attribution, impact and count accuracy on one part with the
plan's global facts and returns its tables and the numerator and denominator of every
cross-key number (:class:`BucketResult`).  Pure: tables in, tables out; reading a bucket
from Parquet is :mod:`driftkit.scale.bucket`'s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from driftkit import schema
from driftkit.causes.attribute import detect_causes, explain_episodes
from driftkit.causes.context import (
    _Context,
)
from driftkit.causes.episodes import _resets, covering
from driftkit.causes.match import edge_parts, match_events
from driftkit.config import ClientConfig
from driftkit.drift.accuracy import count_accuracy, rollforward
from driftkit.drift.align import Grid, measured_values
from driftkit.drift.compare import (
    COUNTERPART,
    SLACK,
    Comparison,
    _cell_stats,
    _vs_authority,
    compare,
)
from driftkit.impact.countlist import count_list
from driftkit.impact.estimate import (
    MIN_DAYS_FOR_WEEKDAY_PROFILE,
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
from driftkit.scale.demand import observed_units, shipments, weekday_parts
from driftkit.scale.handoffs import (
    deliveries,
    event_profile,
    format_parts,
)
from driftkit.scale.plan import (
    GHOST,
    RULES,
    DaySpan,
    Plan,
    Profile,
    part_grid,
)
from driftkit.schema import (
    AS_OF,
    LOCATION,
    SKU,
    SYSTEM,
    Cause,
    Measure,
)


def profile_part(plan: Plan, data: ClientData) -> Profile:
    """Pass 2 over one part: handoff statistics, shipment days and weekday demand sums."""
    shares, latencies, last, delays = event_profile(data, plan)
    shipped: DaySpan = (pd.NaT, pd.NaT)
    units = cells = None
    weekday = len(plan.days) >= MIN_DAYS_FOR_WEEKDAY_PROFILE
    if plan.shipments or weekday:
        grid = part_grid(data, plan)
        if plan.shipments:
            shipped = shipments(data.events, grid, plan.config)[1:]
        if weekday:
            units, cells = weekday_parts(data, grid, plan)
    return Profile(shares, latencies, last, delays, shipped, units, cells)


SUMMED = (
    "sku_locations",
    "compared_cells",
    "agreeing_cells",
    "drifted_sku_locations",
    "abs_drift_units_last_day",
    "value_at_risk_last_day",
    "keys_without_cost",
    "episodes",
    "open_episodes",
)


GROUP_SUMS = [
    "sku_locations",
    "drifted_sku_locations",
    "abs_drift_units",
    "abs_drift_units_last_day",
    "value_at_risk_last_day",
]


@dataclass(frozen=True)
class BucketResult:
    """What one bucket sends back: its tables and the parts of every cross-key number."""

    bucket: int
    headline: dict[str, float]
    notes: pd.DataFrame
    daily: pd.DataFrame
    episodes: pd.DataFrame
    bias: pd.DataFrame
    by_category: pd.DataFrame
    by_location: pd.DataFrame
    key_drift: pd.DataFrame
    full: dict[str, Any] = field(default_factory=dict)
    grid: Grid | None = None  # kept only in process, where the report drills into it
    matches: pd.DataFrame | None = None


def audit_part(
    plan: Plan, data: ClientData, *, bucket: int = 0, keep: bool = False
) -> BucketResult:
    """Pass 3 over one part: align, compare and (when ``plan.full``) roll-forward,
    attribution, impact and count accuracy, with the plan's global facts.

    ``keep`` returns the part's grid and matched events too (in process only: a bucket's
    rows never travel back from a worker).
    """
    grid = part_grid(data, plan)
    comparison = compare(grid, plan.config, data.catalog)
    result = BucketResult(
        bucket=bucket,
        headline=headline_parts(grid, comparison, plan.config),
        notes=note_counts(data.snapshots, plan.config),
        daily=comparison.daily,
        episodes=comparison.episodes,
        bias=bias_parts(grid, plan.config),
        by_category=comparison.by_category[[schema.CATEGORY, *GROUP_SUMS]],
        by_location=comparison.by_location[[LOCATION, *GROUP_SUMS]],
        key_drift=comparison.key_drift,
        grid=grid if keep else None,
    )
    if not plan.full:
        return result
    residuals = rollforward(data.snapshots, data.events, plan.config, grid)
    full = _attribute(data, grid, comparison, residuals, plan)
    full.update(_impact(data, grid, full["findings"], plan))
    full["count_errors"] = _count_errors(data, plan)
    labelled = comparison.episodes.assign(explained_by=full.pop("explained_by").to_numpy())
    matches = full.pop("matches")
    matches = matches if keep else None
    return dataclasses.replace(result, episodes=labelled, full=full, matches=matches)


def headline_parts(grid: Grid, comparison: Comparison, config: ClientConfig) -> dict[str, float]:
    """The summed headline numbers plus Σ and max of the spread of compared cells."""
    parts = {k: float(comparison.headline[k] or 0) for k in SUMMED}
    spread = _cell_stats(grid.values, config.tolerance + SLACK).spread
    compared = parts["compared_cells"] > 0
    parts["spread_sum"] = float(np.nansum(spread)) if compared else 0.0
    parts["max_spread"] = float(np.nanmax(spread)) if compared else float("-inf")
    return parts


def note_counts(snapshots: pd.DataFrame, config: ClientConfig) -> pd.DataFrame:
    """Per system: snapshot rows, rows whose measure was derived, rows where it is unknown."""
    direct, values = measured_values(snapshots, Measure(config.measure))
    frame = pd.DataFrame(
        {
            SYSTEM: snapshots[SYSTEM].to_numpy(),
            "rows": np.ones(len(snapshots), dtype=np.int64),
            "derived": np.isnan(direct) & ~np.isnan(values),
            "unknown": np.isnan(values),
        }
    )
    return frame.groupby(SYSTEM).sum()


def bias_parts(grid: Grid, config: ClientConfig) -> pd.DataFrame:
    """Per non-authority system: Σ signed drift vs the authority, compared, + and − cells."""
    tolerance = config.tolerance + SLACK
    others, drift = _vs_authority(grid)
    with np.errstate(invalid="ignore"):
        return pd.DataFrame(
            {
                SYSTEM: pd.Series(others, dtype="str"),
                "drift_sum": np.nansum(drift, axis=(1, 2)),
                "compared_cells": (~np.isnan(drift)).sum(axis=(1, 2)),
                "positive": (drift > tolerance).sum(axis=(1, 2)),
                "negative": (drift < -tolerance).sum(axis=(1, 2)),
            }
        )


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
