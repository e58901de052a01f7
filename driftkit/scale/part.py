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
from driftkit.causes.stats import stats_part
from driftkit.config import ClientConfig
from driftkit.drift.align import Grid, measured_values
from driftkit.drift.codes import sorted_codes
from driftkit.drift.compare import (
    Comparison,
    _cell_stats,
    _vs_authority,
    authority_days,
    catalog_columns,
    compare,
)
from driftkit.drift.coverage import Coverage, coverage_part
from driftkit.drift.measures import measure_counts
from driftkit.drift.pairs import SLACK
from driftkit.impact.pooled import DemandPart, demand_part, pools_weekdays
from driftkit.impact.recount import location_sums
from driftkit.load.client import ClientData
from driftkit.scale.full import full_parts, match_part
from driftkit.scale.plan import (
    Plan,
    Profile,
    part_grid,
)
from driftkit.scale.steps import timed
from driftkit.schema import (
    LOCATION,
    SYSTEM,
    Measure,
)


def profile_part(
    plan: Plan,
    data: ClientData,
    *,
    matches: pd.DataFrame | None = None,
    grid: Grid | None = None,
    count_errors: pd.DataFrame | None = None,
) -> Profile:
    """Pass 2 over one part: handoff statistics, shipment days and weekday demand sums.

    ``matches``, ``grid`` and ``count_errors`` (:func:`~driftkit.scale.full.part_count_errors`)
    are the part's matched events, grid and count errors when already computed (in process,
    where pass 3 reuses them); else computed here.
    """
    matches = match_part(data) if matches is None else matches
    handoffs = stats_part(matches, plan.span)
    shipments = plan.demand.shipments
    demand = DemandPart()
    if shipments or pools_weekdays(plan.days):
        grid = part_grid(data, plan) if grid is None else grid
        demand = demand_part(data, grid, plan.config, shipments=shipments)
    overstated = location_sums(data, plan.config, errors=count_errors)
    return Profile(handoffs, dataclasses.replace(demand, overstated=overstated))


SUMMED = (
    "sku_locations",
    "compared_cells",
    "agreeing_cells",
    "drifted_sku_locations",
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
    by_day: pd.DataFrame  # compare.authority_days: summed over parts, then headline_day
    full: dict[str, Any] = field(default_factory=dict)
    grid: Grid | None = None  # kept only in process, where the report drills into it
    matches: pd.DataFrame | None = None
    coverage: Coverage | None = None  # which systems shared compared cells (never silent)
    placed: pd.DataFrame | None = None  # drift.locations placement counts of the part
    explanations: pd.DataFrame | None = None  # scale.kept.label_digest, when episodes are stored


def audit_part(
    plan: Plan,
    data: ClientData,
    *,
    bucket: int = 0,
    keep: bool = False,
    matches: pd.DataFrame | None = None,
    grid: Grid | None = None,
    placed: pd.DataFrame | None = None,
    count_errors: pd.DataFrame | None = None,
) -> BucketResult:
    """Pass 3 over one part: align, compare and (when ``plan.full``) roll-forward,
    attribution, impact and count accuracy, with the plan's global facts.

    ``keep`` returns the part's grid and matched events too (in process only: a bucket's
    rows never travel back from a worker); ``matches``, ``grid`` and ``count_errors`` as for
    :func:`profile_part`; ``placed`` the part's placement counts
    (:func:`driftkit.scale.plan.place_part`), carried to the combine's notes.
    """
    grid = part_grid(data, plan) if grid is None else grid
    with timed("compare"):
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
        by_day=_by_day(comparison, grid, data.catalog),
        grid=grid if keep else None,
        coverage=coverage_part(data.snapshots, grid, plan.config),
        placed=placed,
    )
    if not plan.full:
        return result
    full = full_parts(data, grid, comparison, plan, matches=matches, count_errors=count_errors)
    labelled = comparison.episodes.assign(explained_by=full["attribution"].explained_by.to_numpy())
    part = full["attribution"]
    if not keep:  # a bucket's matched events never travel back from a worker
        full["attribution"] = dataclasses.replace(part, matches=part.matches.iloc[:0])
    matches = part.matches if keep else None
    return dataclasses.replace(result, episodes=labelled, full=full, matches=matches)


def _by_day(comparison: Comparison, grid: Grid, catalog: pd.DataFrame) -> pd.DataFrame:
    """The comparison's ``authority_days`` table (computed here only when it lacks one)."""
    if comparison.by_day is not None:
        return comparison.by_day
    return authority_days(grid, catalog_columns(grid.keys, catalog)[0])


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
    code, names = sorted_codes(snapshots[SYSTEM])
    rows, derived, unknown = measure_counts(code, len(names), direct, values)
    return pd.DataFrame(
        {"rows": rows, "derived": derived, "unknown": unknown},
        index=pd.Index(names, name=SYSTEM),
    ).astype(np.int64)


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
