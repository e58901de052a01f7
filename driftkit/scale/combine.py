"""Recombination of the buckets' results into one audit (DESIGN §12).

Counts and sums add, rates are Σ numerator ÷ Σ denominator, per-key tables are
concatenated in key order (sku, location: ``align``'s key codes), episodes in system-pair
order, the count list is re-ranked over all keys with ``count_list``'s tie-breaks and the
projection is recomputed from the combined daily series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from driftkit import schema
from driftkit.audit import Audit, assemble_summary, audit_tables, summarize, write_outputs
from driftkit.causes.attribute import Attribution, count_by_cause
from driftkit.causes.context import (
    FINDING_COLUMNS,
)
from driftkit.causes.match import (
    BUSINESS_EVENT,
    callouts_from_counts,
    handoff_from_parts,
)
from driftkit.config import ClientConfig
from driftkit.drift.accuracy import _accuracy
from driftkit.drift.align import Grid, measure_notes
from driftkit.drift.compare import (
    COUNTERPART,
    Comparison,
    system_pairs,
)
from driftkit.impact.countlist import COUNT_LIST_COLUMNS
from driftkit.impact.estimate import (
    Impact,
    daily_series,
    handoff_fixes,
    impact_totals,
    project,
)
from driftkit.load.client import ClientData
from driftkit.load.ingest import MANIFEST, read_notes, read_processed
from driftkit.scale.bucket import GROUP_SUMS, SUMMED, TOTAL_PARTS, BucketResult
from driftkit.scale.plan import RULES, Plan
from driftkit.schema import (
    LOCATION,
    SKU,
    SYSTEM,
    Measure,
)


@dataclass(frozen=True)
class PartitionedAudit:
    """A partitioned audit: the same ``summary`` and tables as :func:`driftkit.audit.run_audit`.

    Attributes
    ----------
    config
        The client config.
    summary
        What ``summary.json`` holds.
    tables
        ``findings, daily, episodes, handoffs, impact, count_list, rejects, bias,
        projection, count_accuracy`` (``daily, episodes, bias, rejects`` only when not full).
    comparison, attribution, impact
        The recombined results (``attribution.matches`` is empty: matches stay in the
        workers).  None when not full (``comparison`` is always set).
    parts
        Numerators and denominators of the cross-key rates, summed over buckets:
        ``compared_cells, agreeing_cells, spread_sum, explained_units, drift_units,
        unseen_demand, true_demand``.
    buckets
        The bucket numbers audited.
    plan
        What every bucket shared: the ingest folder, the window, the systems.
    grid
        The client's grid without keys: systems, days, authority and measure notes (the
        ``[system, key, day]`` values stay in the workers).
    data
        The client's whole small tables: catalog, rejects, files and loader notes
        (snapshots, events and counts stay in the bucketed Parquet at ``plan.path``).
    """

    config: ClientConfig
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    comparison: Comparison
    attribution: Attribution | None
    impact: Impact | None
    parts: dict[str, float]
    buckets: tuple[int, ...]
    plan: Plan
    grid: Grid
    data: ClientData

    def write(self, run_dir: str | Path) -> None:
        """Write ``summary.json`` and every table as CSV, exactly as ``run_audit`` does."""
        write_outputs(cast(Audit, self), Path(run_dir))  # reads only .summary and .tables


def combine(
    plan: Plan,
    results: list[BucketResult],
    *,
    run_at: datetime,
    previous: dict[str, Any] | None = None,
) -> PartitionedAudit:
    """One audit from every bucket's result: sums, Σ-ratios, ordered tables, global ranks."""
    results = sorted(results, key=lambda r: r.bucket)
    grid = _stub_grid(plan, results)
    episodes = combined_episodes(grid, [r.episodes for r in results])
    comparison = _comparison(
        plan, grid, results, episodes.drop(columns=[EXPLAINED_BY], errors="ignore")
    )
    data = _client_tables(plan)
    summary = summarize(plan.config, data, grid, comparison, run_at=run_at, previous=previous)
    parts = {
        k: sum(r.headline[k] for r in results)
        for k in ("compared_cells", "agreeing_cells", "spread_sum")
    }
    tables = {
        "daily": comparison.daily,
        "episodes": comparison.episodes,
        "rejects": data.rejects,
        "bias": comparison.bias,
    }
    attribution = impact = None
    if plan.full:
        labels = episodes[EXPLAINED_BY].reset_index(drop=True)
        attribution, impact, more = _full(plan, grid, comparison, results, labels)
        parts.update(more.pop("parts"))
        summary = assemble_summary(summary, attribution, impact, more["accuracy"])
        tables = audit_tables(
            comparison, episodes, attribution, impact, data.rejects, more["count_errors"]
        )
    buckets = tuple(r.bucket for r in results)
    return PartitionedAudit(
        plan.config,
        summary,
        tables,
        comparison,
        attribution,
        impact,
        parts,
        buckets,
        plan=plan,
        grid=grid,
        data=data,
    )


def _client_tables(plan: Plan) -> ClientData:
    """The client's whole (small) tables: catalog, rejects and file accounting."""
    files = plan.path / "files.parquet"
    return ClientData(
        config=plan.config,
        snapshots=schema.empty("snapshots"),
        events=schema.empty("events"),
        counts=schema.empty("counts"),
        catalog=read_processed(plan.path, "catalog"),
        rejects=read_processed(plan.path, "rejects"),
        files=pd.read_parquet(files) if files.is_file() else pd.DataFrame({"rows_read": []}),
        notes=read_notes(plan.path) if (plan.path / MANIFEST).is_file() else (),
    )


def _stub_grid(plan: Plan, results: list[BucketResult]) -> Grid:
    """A grid without keys: the client's systems, days, authority and measure notes."""
    counts = pd.concat([r.notes for r in results]).groupby(level=0).sum()
    keys = pd.DataFrame({SKU: pd.Series(dtype="str"), LOCATION: pd.Series(dtype="str")})
    values = np.empty((len(plan.systems), 0, len(plan.days)))
    notes = _measure_notes(counts, plan.systems, Measure(plan.config.measure))
    return Grid(keys, plan.systems, plan.days, values, plan.config.authority, notes)


def _measure_notes(
    counts: pd.DataFrame, systems: tuple[str, ...], measure: Measure
) -> tuple[str, ...]:
    """``align``'s notes about derived or unknown measures, from summed row counts."""
    counts = counts.reindex(list(systems), fill_value=0).astype(int)
    return measure_notes(
        systems,
        counts["rows"].to_numpy(),
        counts["derived"].to_numpy(),
        counts["unknown"].to_numpy(),
        measure,
    )


def _comparison(
    plan: Plan, grid: Grid, results: list[BucketResult], episodes: pd.DataFrame
) -> Comparison:
    """``compare.compare``'s tables and headline from every bucket's parts."""
    return Comparison(
        headline=combined_headline(results, len(plan.days)),
        daily=combined_daily([r.daily for r in results]),
        episodes=episodes,
        bias=_bias([r.bias for r in results], plan),
        by_category=_groups([r.by_category for r in results], schema.CATEGORY),
        by_location=_groups([r.by_location for r in results], LOCATION),
        key_drift=_key_drift([r.key_drift for r in results], plan),
    )


def combined_headline(results: list[BucketResult], days: int) -> dict[str, float | int | None]:
    """``compare.headline``: counts summed, agreement and mean spread as Σ ÷ Σ."""
    total = {k: sum(r.headline[k] for r in results) for k in (*SUMMED, "spread_sum")}
    compared, agreeing = int(total["compared_cells"]), int(total["agreeing_cells"])
    max_spread = max(r.headline["max_spread"] for r in results)
    return {
        "sku_locations": int(total["sku_locations"]),
        "days": days,
        "compared_cells": compared,
        "agreeing_cells": agreeing,
        "agreement_rate": agreeing / compared if compared else None,
        "drifted_sku_locations": int(total["drifted_sku_locations"]),
        "abs_drift_units_last_day": float(total["abs_drift_units_last_day"]),
        "value_at_risk_last_day": float(total["value_at_risk_last_day"]),
        "keys_without_cost": int(total["keys_without_cost"]),
        "mean_spread": total["spread_sum"] / compared if compared else None,
        "max_spread": float(max_spread) if compared else None,
        "episodes": int(total["episodes"]),
        "open_episodes": int(total["open_episodes"]),
    }


def combined_daily(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Every bucket has one row per (day, pair) in the same order: add them up."""
    numeric = ["skus_compared", "skus_drifted", "abs_drift_units", "drift_value"]
    summed = {c: np.sum([f[c].to_numpy() for f in frames], axis=0) for c in numeric}
    return frames[0].assign(**summed)


def _key_order(frame: pd.DataFrame) -> np.ndarray:
    """Row order of ``frame`` by key code: (sku, location) as ``align`` sorts keys."""
    return np.lexsort((frame[LOCATION].to_numpy(dtype=object), frame[SKU].to_numpy(dtype=object)))


def combined_episodes(grid: Grid, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenated and ordered by pair (``compare.system_pairs``), key and start."""
    table = pd.concat(frames, ignore_index=True)
    pairs = {
        (grid.systems[p.system], grid.systems[p.counterpart]): i
        for i, p in enumerate(system_pairs(grid))
    }
    rank = (
        pd.MultiIndex.from_frame(table[[SYSTEM, COUNTERPART]]).map(pairs).to_numpy(dtype=np.int64)
    )
    order = np.lexsort(
        (
            table["start"].to_numpy(),
            table[LOCATION].to_numpy(dtype=object),
            table[SKU].to_numpy(dtype=object),
            rank,
        )
    )
    return table.iloc[order].reset_index(drop=True)


def _bias(frames: list[pd.DataFrame], plan: Plan) -> pd.DataFrame:
    """``compare.bias`` from summed drift, compared, positive and negative cells."""
    others = [s for s in plan.systems if s != plan.config.authority]
    sums = pd.concat(frames).groupby(SYSTEM).sum().reindex(others, fill_value=0)
    cells = sums["compared_cells"].to_numpy()
    safe = np.maximum(cells, 1)
    return pd.DataFrame(
        {
            SYSTEM: pd.Series(others, dtype="str"),
            "mean_drift": np.where(cells > 0, sums["drift_sum"].to_numpy() / safe, np.nan),
            "compared_cells": cells.astype(np.int64),
            "share_positive": np.where(cells > 0, sums["positive"].to_numpy() / safe, np.nan),
            "share_negative": np.where(cells > 0, sums["negative"].to_numpy() / safe, np.nan),
        }
    )


def _groups(frames: list[pd.DataFrame], name: str) -> pd.DataFrame:
    """``compare.decompose`` from every bucket's group sums."""
    table = pd.concat(frames).groupby(name, sort=True)[GROUP_SUMS].sum().reset_index()
    for column in GROUP_SUMS[2:]:
        total = table[column].sum()
        table[f"share_{column}"] = table[column] / total if total else np.nan
    order = ["value_at_risk_last_day", "abs_drift_units_last_day", "abs_drift_units"]
    return table.sort_values(order, ascending=False, kind="stable").reset_index(drop=True)


def _key_drift(frames: list[pd.DataFrame], plan: Plan) -> pd.DataFrame:
    """Concatenated, ordered by system (grid order) then key."""
    table = pd.concat(frames, ignore_index=True)
    rank = table[SYSTEM].map({s: i for i, s in enumerate(plan.systems)}).to_numpy()
    order = np.lexsort(
        (table[LOCATION].to_numpy(dtype=object), table[SKU].to_numpy(dtype=object), rank)
    )
    return table.iloc[order].reset_index(drop=True)


def _full(
    plan: Plan, grid: Grid, comparison: Comparison, results: list[BucketResult], labels: pd.Series
) -> tuple[Attribution, Impact, dict[str, Any]]:
    """Attribution, impact and count accuracy recombined."""
    full = [r.full for r in results]
    findings = _findings_table([f["findings"] for f in full])
    explained, covered = (float(sum(f["explained"][i] for f in full)) for i in (0, 1))
    attribution = Attribution(
        findings=findings,
        handoffs=handoff_from_parts([f["edges"] for f in full]),
        callouts=callouts_from_counts(
            pd.concat([f["formats"] for f in full], ignore_index=True), RULES.match
        ),
        matches=_NO_MATCHES,
        findings_by_cause=count_by_cause(findings),
        explained_share=explained / covered if covered else float("nan"),
        explained_by=labels,
    )
    totals = {k: np.asarray([sum(f["totals"][k] for f in full)]) for k in TOTAL_PARTS}
    fixes = handoff_fixes(findings)
    cost = np.sum([f["daily_cost"] for f in full], axis=0)
    series = daily_series(comparison.daily, grid.authority, grid.days, cost)
    removed = float(fixes["share"].head(3).sum()) if len(fixes) else None
    impact = Impact(
        per_key=_by_key([f["per_key"] for f in full]),
        count_list=_count_list([f["count_list"] for f in full]),
        projection=project(series, plan.config.impact.projection_weeks, removed_share=removed),
        totals=impact_totals(totals),
        demand=_by_key([f["demand"] for f in full]),
        fixes=fixes,
        weekday_index=tuple(float(v) for v in plan.weekday),
    )
    errors = pd.concat([f["count_errors"] for f in full], ignore_index=True)
    systems = [s for s in plan.config.systems if s in plan.found]
    systems += [s for s in plan.found if s not in plan.config.systems]
    parts = {
        "explained_units": explained,
        "drift_units": covered,
        "unseen_demand": float(totals["unseen_demand"][0]),
        "true_demand": float(totals["true_demand"][0]),
    }
    more = {"parts": parts, "count_errors": errors, "accuracy": _accuracy(errors, systems)}
    return attribution, impact, more


EXPLAINED_BY = "explained_by"
_NO_MATCHES = pd.DataFrame({BUSINESS_EVENT: pd.Series(dtype="int64")})


def _findings_table(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenated findings in ``attribute``'s order (first seen, system, key, cause)."""
    table = pd.concat(frames, ignore_index=True)
    order = ["first_seen", SYSTEM, SKU, LOCATION, "cause"]
    return table.sort_values(order, kind="stable", ignore_index=True)[FINDING_COLUMNS]


def _by_key(frames: list[pd.DataFrame]) -> pd.DataFrame:
    table = pd.concat(frames, ignore_index=True)
    return table.iloc[_key_order(table)].reset_index(drop=True)


def _count_list(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """``countlist.count_list`` ranked over every key (its tie-breaks included)."""
    table = _by_key(frames)
    at_risk = np.abs(np.nan_to_num(table["drift_units"].to_numpy(dtype=float))) * np.nan_to_num(
        table["_cost"].to_numpy(dtype=float)
    )
    order = np.lexsort(
        (
            table[SKU].to_numpy(dtype=object),
            -table["_rate"].to_numpy(dtype=float),
            -table["window"].to_numpy(dtype=float),
            -at_risk,
            -table["expected_value"].to_numpy(dtype=float),
        )
    )
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table[list(COUNT_LIST_COLUMNS)]
