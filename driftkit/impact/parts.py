"""What drift costs, as one function per part plus one combine (DESIGN §7, §12).

:func:`impact_part` runs the cost model on one part (a SKU bucket, or the whole client in
process) with the demand facts every part shares (:mod:`driftkit.impact.pooled`) and returns
its per-key tables and the summable parts of every cross-key number (:class:`ImpactPart`).
:func:`impact_from_parts` merges the parts into the client's :class:`Impact`: per-key tables
in key order, the count list ranked over all keys, totals summed, the projection fitted to
the summed daily cost.  :func:`driftkit.impact.estimate.estimate_impact` is the one-part case.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig, ImpactParams
from driftkit.drift.align import Grid
from driftkit.impact import theory
from driftkit.impact.costs import (
    KeyDays,
    Planning,
    impact_totals,
    key_costs,
    per_key_table,
    planning_parameters,
    record_error,
    safety_stock_effects,
    window_value,
)
from driftkit.impact.countlist import count_rows, rank_count_list
from driftkit.impact.demand import Demand, Tables, estimate_demand, observed_demand
from driftkit.impact.pooled import DemandFacts
from driftkit.impact.projection import daily_series, handoff_fixes, project
from driftkit.impact.recount import lost_since_count
from driftkit.impact.sellout import believed_age, record_ages
from driftkit.impact.silence import authority_names, shelf_silence
from driftkit.impact.standin import key_state
from driftkit.impact.stock import (
    Stock,
    censored_days,
    held_stock,
    oversold_units,
    phantom_stockouts,
    stock_records,
    suspected_phantom_stockouts,
)
from driftkit.impact.units import in_eaches, unit_factors
from driftkit.schema import LOCATION, SKU

#: Per-key cost columns summed into :attr:`ImpactPart.totals` (the inputs of ``impact_totals``).
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


@dataclass(frozen=True)
class Impact:
    """What the drift of one audit costs.

    Attributes
    ----------
    per_key
        ``impact.csv``: one row per key; columns :data:`PER_KEY_COLUMNS` (docs/impact.md).
    count_list
        ``count_list.csv``: ``rank, sku, location, system, expected_value, reason,
        drift_units, cause, list`` (see :func:`driftkit.impact.countlist.count_list`).
    projection
        ``week, metric, estimate, low, high, scenario`` (see :func:`project`).
    totals
        ``phantom_stockout_sku_days, lost_sales_units, lost_revenue, oversell_units,
        pick_failure_cost, extra_safety_stock_capital, forecast_bias_share``.
    demand
        The :class:`Demand` table per key.
    fixes
        Handoff failures ranked by attributed value (empty without attribution).
    weekday_index
        The pooled weekday profile (seven factors, Monday first).
    """

    per_key: pd.DataFrame
    count_list: pd.DataFrame
    projection: pd.DataFrame
    totals: dict[str, float | int]
    demand: pd.DataFrame
    fixes: pd.DataFrame
    weekday_index: tuple[float, ...] = ()


@dataclass(frozen=True)
class ImpactPart:
    """One part's costs: its per-key tables and the summable parts of the rest.

    Attributes
    ----------
    per_key
        ``impact.csv`` rows of the part's keys (:data:`PER_KEY_COLUMNS`).
    count_list
        Unranked count-list rows (:func:`driftkit.impact.countlist.count_rows`: the
        count-list columns but ``rank``, plus ``demand_rate, window_value, unit_cost``).
    demand
        ``sku, location`` and the :class:`Demand` table of the part's keys.
    totals
        Σ over the part's keys of each of :data:`TOTAL_PARTS`.
    daily_cost
        Per window day: phantom and suspected lost revenue plus pick-failure cost.
    """

    per_key: pd.DataFrame
    count_list: pd.DataFrame
    demand: pd.DataFrame
    totals: dict[str, float]
    daily_cost: np.ndarray


def impact_part(
    data: Tables,
    grid: Grid,
    findings: pd.DataFrame | None,
    *,
    config: ClientConfig,
    facts: DemandFacts,
    count_errors: pd.DataFrame | None = None,
) -> ImpactPart:
    """The costs of one part's drift, with the demand facts every part shares.

    Parameters
    ----------
    data
        The part's canonical tables (``snapshots``, ``events``, ``catalog``); not mutated.
    grid
        The part's aligned grid (the client's window and systems).
    findings
        The part's attribution findings (a count-list row's ``cause``), or None.
    config
        Client config; ``config.impact`` holds every cost parameter.
    facts
        Shipments, shipped days and weekday profile of the whole client
        (:func:`driftkit.impact.pooled.demand_facts`).
    count_errors
        The part's :func:`~driftkit.drift.accuracy.count_accuracy` errors, if computed.

    Returns
    -------
    ImpactPart
        ``per_key``, ``count_list`` (unranked), ``demand``, ``totals``, ``daily_cost``.
    """
    params = config.impact
    stock = stock_records(data.snapshots, grid, config)
    planning = planning_parameters(grid.keys, data.catalog, params)
    units, observed = observed_demand(data.events, grid, config, shipped=facts.observed_span)
    censored = censored_days(stock, config.tolerance)
    demand = estimate_demand(units, observed, censored, grid.days, facts.weekday, facts.prior)
    days = key_days(stock, demand, observed, units, config.tolerance)
    error = record_error(stock)
    costs = key_costs(days, stock, demand, error, planning, params)
    costs["expected_value"] = window_value(costs, demand, planning, params, len(grid.days))
    sellable = observed & ~censored
    empty, silent = shelf_silence(
        units, sellable, demand.stockout_expected(), demand.rate, demand.sd
    )
    counted, on_grid = in_eaches(stock, grid, unit_factors(grid, data.catalog, findings))
    capital = safety_stock_effects(demand, record_error(counted), planning)["extra_capital"]
    state = key_state(
        on_grid, counted, demand, planning, {**costs, "extra_capital": capital}, params
    )
    ages = record_ages(data.snapshots, grid, config.timezone)
    age = believed_age(ages, grid.systems, authority_names(state))
    lost = lost_since_count(data, grid, config, pooled=facts.overstated, errors=count_errors)
    state = replace(state, empty_shelf=empty, silent_days=silent, record_age=age)
    state = replace(state, record_error=lost)
    return ImpactPart(
        per_key=per_key_table(grid.keys, demand, costs, error),
        count_list=count_rows(state, params, findings),
        demand=pd.concat([grid.keys[[SKU, LOCATION]].reset_index(drop=True), demand.table], axis=1),
        totals={k: float(costs[k].sum()) for k in TOTAL_PARTS},
        daily_cost=daily_cost(days, demand, planning, params),
    )


def key_days(
    stock: Stock, demand: Demand, observed: np.ndarray, sold: np.ndarray, tolerance: float
) -> KeyDays:
    """The ``[key, day]`` arrays the costs sum over: phantom, suspected, oversold, observed,
    and the demand each stockout day left unmet beyond what it ``sold``."""
    phantom = phantom_stockouts(stock, tolerance)
    suspected = suspected_phantom_stockouts(stock, tolerance)
    return KeyDays(
        phantom,
        suspected,
        oversold_units(stock, demand.expected),
        observed,
        unmet_on(phantom | suspected, demand, sold, held_stock(stock, phantom)),
    )


def unmet_on(days: np.ndarray, demand: Demand, sold: np.ndarray, held: np.ndarray) -> np.ndarray:
    """``[key, day]`` expected demand a stockout on ``days`` turned away that the ``held``
    stock could have served (elsewhere the expected demand), at the key's credible rate
    (:meth:`Demand.stockout_expected`): :func:`driftkit.impact.theory.stockout_loss` with
    each key's variance-to-mean ratio of daily demand (1, Poisson, where its rate is 0)."""
    unmet = demand.stockout_expected().copy()
    rows, cols = np.nonzero(days)
    rate = demand.rate[rows]
    dispersion = np.divide(demand.sd[rows] ** 2, rate, out=np.ones(rows.size), where=rate > 0)
    unmet[rows, cols] = theory.stockout_loss(
        unmet[rows, cols], dispersion, sold[rows, cols], held[rows, cols]
    )
    return unmet


def daily_cost(days: KeyDays, demand: Demand, plan: Planning, params: ImpactParams) -> np.ndarray:
    """Per day, Σ over keys of phantom and suspected lost revenue plus pick-failure cost."""
    lost = params.walk_away_share * np.where(days.phantom | days.suspected, days.unmet, 0.0)
    revenue = np.nan_to_num(lost * plan.unit_price[:, None]).sum(axis=0)
    return np.asarray(revenue + days.oversold.sum(axis=0) * params.pick_failure_cost)


def impact_from_parts(
    parts: list[ImpactPart],
    daily: pd.DataFrame,
    grid: Grid,
    findings: pd.DataFrame | None,
    *,
    config: ClientConfig,
    facts: DemandFacts,
    fixes: pd.DataFrame | None = None,
) -> Impact:
    """The client's :class:`Impact` from every part's :class:`ImpactPart`.

    Parameters
    ----------
    parts
        One :class:`ImpactPart` per part, in any order.
    daily
        The client's ``compare.daily`` table (projected with the summed daily cost).
    grid
        A grid with the client's authority and window days (its keys are not read).
    findings, fixes
        The client's attribution findings (the handoff-fix counterfactual), or None; or
        their :func:`~driftkit.impact.projection.handoff_fixes` (then findings is not read).
    config, facts
        Client config and the demand facts every part used.

    Returns
    -------
    Impact
        ``per_key`` and ``demand`` in key order (sku, location), ``count_list`` ranked over
        all keys, ``projection``, ``totals``, ``fixes`` and ``weekday_index``; columns on
        :class:`Impact`.
    """
    fixes = handoff_fixes(findings) if fixes is None else fixes
    cost = np.sum([p.daily_cost for p in parts], axis=0)
    series = daily_series(daily, grid.authority, grid.days, cost)
    removed = float(fixes["share"].head(3).sum()) if len(fixes) else None
    totals = summed_totals(parts)
    return Impact(
        per_key=by_key([p.per_key for p in parts]),
        count_list=rank_count_list(pd.concat([p.count_list for p in parts], ignore_index=True)),
        projection=project(series, config.impact.projection_weeks, removed_share=removed),
        totals=impact_totals({k: np.asarray([v]) for k, v in totals.items()}),
        demand=by_key([p.demand for p in parts]),
        fixes=fixes,
        weekday_index=tuple(float(v) for v in facts.weekday),
    )


def summed_totals(parts: list[ImpactPart]) -> dict[str, float]:
    """Σ over parts of each of :data:`TOTAL_PARTS`."""
    return {k: sum(p.totals[k] for p in parts) for k in TOTAL_PARTS}


def forecast_bias_parts(parts: list[ImpactPart]) -> dict[str, float]:
    """``forecast_bias_share``'s numerator and denominator: ``unseen_demand``, ``true_demand``."""
    totals = summed_totals(parts)
    return {k: float(totals[k]) for k in ("unseen_demand", "true_demand")}


def key_columns(frame: pd.DataFrame) -> list[np.ndarray]:
    """:func:`key_order` as ``numpy.lexsort`` keys: location, then sku (sorted first)."""
    return [frame[LOCATION].to_numpy(dtype=object), frame[SKU].to_numpy(dtype=object)]


def key_order(frame: pd.DataFrame) -> np.ndarray:
    """Row order of ``frame`` by key code: (sku, location) as ``align`` sorts keys."""
    return np.lexsort(key_columns(frame))


def by_key(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-key tables of every part, concatenated in key order (sku, location)."""
    table = pd.concat(frames, ignore_index=True)
    return table.iloc[key_order(table)].reset_index(drop=True)
