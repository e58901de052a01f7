"""What drift costs (DESIGN §7): demand, phantom stockouts, oversell, reorder, safety stock.

Every quantity is an array ``[key, day]`` on the grid of :func:`driftkit.drift.align.align`
(key codes and local days shared with the comparison), reduced per key with numpy.
Definitions, parameters, defaults and their sources: ``docs/impact.md``.

This module is the public surface; the code lives in private modules:
:mod:`driftkit.impact.stock` (stock records, phantom stockouts, oversell),
:mod:`driftkit.impact.demand` (censoring-aware demand), :mod:`driftkit.impact.pooled` (what
every part's demand shares: shipments, shipped days, weekday profile),
:mod:`driftkit.impact.costs` (record error, reorder, safety stock, per-key table, totals),
:mod:`driftkit.impact.parts` (one part's costs and their combine) and
:mod:`driftkit.impact.projection` (projection, handoff fixes).  :func:`estimate_impact` is
the one-part case of :func:`impact_part` and :func:`impact_from_parts`, which the
partitioned audit (:mod:`driftkit.scale`) runs per SKU bucket.
"""

from __future__ import annotations

from typing import Any

from driftkit.config import ClientConfig
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
from driftkit.impact.demand import (
    MIN_DAYS_FOR_WEEKDAY_PROFILE,
    Demand,
    Tables,
    demand_class,
    estimate_demand,
    observed_demand,
    snapshot_declines,
)
from driftkit.impact.parts import (
    Impact,
    ImpactPart,
    impact_from_parts,
    impact_part,
)
from driftkit.impact.pooled import (
    DemandFacts,
    DemandPart,
    client_demand,
    demand_facts,
    demand_part,
    has_shipments,
    weekday_profile,
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
from driftkit.impact.shipments import daily_shipments
from driftkit.impact.standin import key_state
from driftkit.impact.stock import (
    HOLDER_KINDS,
    Stock,
    censored_days,
    lost_units,
    oversold_units,
    phantom_stockouts,
    stock_records,
    suspected_phantom_stockouts,
)


def estimate_impact(
    data: Tables,
    grid: Grid,
    comparison: Any,
    attribution: Any | None,
    config: ClientConfig,
) -> Impact:
    """What the drift of one audit costs (DESIGN §7).

    The one-part case of the partitioned cost model: the demand facts of this client
    (:func:`client_demand`), :func:`impact_part`, then :func:`impact_from_parts`.

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
    findings = getattr(attribution, "findings", None)
    facts = client_demand(data, grid, config)
    part = impact_part(data, grid, findings, config=config, facts=facts)
    return impact_from_parts([part], comparison.daily, grid, findings, config=config, facts=facts)


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
    "DemandFacts",
    "DemandPart",
    "Impact",
    "ImpactPart",
    "KeyDays",
    "Planning",
    "RecordError",
    "Stock",
    "Tables",
    "censored_days",
    "client_demand",
    "daily_series",
    "daily_shipments",
    "demand_class",
    "demand_facts",
    "demand_part",
    "estimate_demand",
    "estimate_impact",
    "forecast_bias",
    "handoff_fixes",
    "has_shipments",
    "impact_from_parts",
    "impact_part",
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
    "weekday_profile",
    "window_value",
]
