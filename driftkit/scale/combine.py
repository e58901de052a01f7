"""One audit from its parts' results (DESIGN §12): sums, Σ-ratios, ordered tables, global ranks.

Every audit ends here, whatever ran its parts: the in-process audit has one part (the whole
client), a partitioned audit one per SKU bucket.  Counts and sums add, rates are
Σ numerator ÷ Σ denominator (:mod:`driftkit.scale.merge` merges each table), the count list
is re-ranked over all keys and the projection is recomputed from the combined daily series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from driftkit import schema
from driftkit.causes.attribute import Attribution
from driftkit.config import ClientConfig
from driftkit.drift.align import Grid
from driftkit.drift.compare import Comparison
from driftkit.drift.coverage import coverage_from_parts
from driftkit.drift.locations import placement_counts, placement_notes
from driftkit.drift.uncompared import uncompared_systems
from driftkit.impact.parts import Impact
from driftkit.load.client import ClientData
from driftkit.plan.assemble import plan_fixes
from driftkit.plan.digest import FindingsDigest, cause_sums
from driftkit.scale.kept import EXPLAINED_BY, kept_explanations
from driftkit.scale.merge import (
    combined_bias,
    combined_daily,
    combined_episodes,
    combined_groups,
    combined_headline,
    combined_key_drift,
)
from driftkit.scale.part import BucketResult
from driftkit.scale.plan import Plan, keyless_grid, summed_measure_notes
from driftkit.scale.recombine import combine_full
from driftkit.scale.stored import StoredTable, first_rows, split_stored, stored_tables
from driftkit.scale.summary import assemble_summary, audit_tables, summarize, write_outputs
from driftkit.schema import LOCATION


@dataclass(frozen=True)
class Audit:
    """Everything one audit computed, as the report and the explorer read it.

    ``summary`` is what ``summary.json`` holds, ``tables`` and ``stored`` the run's tables
    (:class:`PartitionedAudit`).  In process ``data`` and ``grid`` are the whole client's; for
    a partitioned audit only the keys the report drills into (``scale.report.report_view``).
    """

    config: ClientConfig
    data: ClientData
    grid: Grid
    comparison: Comparison
    attribution: Attribution
    impact: Impact
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    stored: dict[str, StoredTable] = field(default_factory=dict)
    causes: pd.DataFrame | None = None


@dataclass(frozen=True)
class PartitionedAudit:
    """A combined audit: every part's results merged into the client's numbers and tables.

    What :func:`driftkit.scale.partition.run_partitioned` returns; the in-process audit is
    the same object for its one part, seen as an :class:`Audit`.

    Attributes
    ----------
    config
        The client config.
    summary
        What ``summary.json`` holds.
    tables
        ``findings, daily, episodes, handoffs, impact, count_list, rejects, bias,
        projection, count_accuracy, fix_plan, authority`` (``daily, episodes, bias,
        rejects`` only when not full), but those in ``stored``.
    comparison, attribution, impact
        Recombined (``attribution.matches`` empty, ``comparison.key_drift`` only of each
        bucket's ``stored.WORST_KEYS`` worst keys); None when not full.  With ``stored``,
        ``impact`` has no per-key rows but the count list's first ``stored.TOP_ROWS``,
        ``comparison.episodes`` and ``attribution.explained_by`` only the worst keys',
        ``attribution.findings`` texts only on some rows (:mod:`driftkit.scale.kept`).
    parts
        Σ numerators and denominators of the cross-key rates: ``compared_cells,
        agreeing_cells, spread_sum, explained_units, drift_units, unseen_demand, true_demand``.
    buckets, plan
        The bucket numbers audited; what every bucket shared (ingest folder, window, systems).
    grid
        The client's grid without keys: systems, days, authority and measure notes (the
        ``[system, key, day]`` values stay in the workers).
    data
        The client's whole small tables: catalog, rejects, files and loader notes
        (snapshots, events and counts stay in the bucketed Parquet at ``plan.path``).
    stored
        Tables stored as Parquet parts (``findings, episodes, count_accuracy, impact,
        count_list, demand``).
    causes
        Findings per cause (``plan.digest.cause_sums``: the report's cause totals); None
        when not full.
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
    stored: dict[str, StoredTable] = field(default_factory=dict)
    causes: pd.DataFrame | None = None

    def write(self, run_dir: str | Path) -> None:
        """Write ``summary.json`` and every table as CSV, exactly as ``run_audit`` does."""
        write_outputs(self, Path(run_dir))


def combine(
    plan: Plan,
    results: list[BucketResult],
    client: ClientData,
    *,
    run_at: datetime,
    previous: dict[str, Any] | None = None,
) -> PartitionedAudit:
    """One audit from every part's result.

    Parameters
    ----------
    plan
        What every part shared.
    results
        One :class:`~driftkit.scale.part.BucketResult` per part, in any order.
    client
        The client's whole small tables: catalog, rejects, files and loader notes.
    run_at, previous
        The run's time and the previous run's ``summary.json`` (``previous`` in the summary).

    Returns
    -------
    PartitionedAudit
        Summary, tables and the combined comparison, attribution and impact; ``grid`` is the
        one part's grid when it was kept (in process), else a grid without keys.
    """
    results = sorted(results, key=lambda r: r.bucket)
    grid = _kept_grid(results) or _stub_grid(plan, results)
    episodes = combined_episodes(grid, [r.episodes for r in results])
    unlabelled = episodes.drop(columns=[EXPLAINED_BY], errors="ignore")
    comparison = _comparison(plan, grid, results, unlabelled)
    uncompared = _uncompared(plan, results, client)
    summary = summarize(
        plan.config,
        client,
        grid,
        comparison,
        uncompared,
        run_at=run_at,
        previous=previous,
        notes=_placement_notes(results),
    )
    parts = {
        k: sum(r.headline[k] for r in results)
        for k in ("compared_cells", "agreeing_cells", "spread_sum")
    }
    tables = {
        "daily": comparison.daily,
        "episodes": comparison.episodes,
        "rejects": client.rejects,
        "bias": comparison.bias,
    }
    attribution = impact = causes = None
    stored: dict[str, StoredTable] = {}
    if plan.full:
        labels = episodes[EXPLAINED_BY].reset_index(drop=True)
        stored = stored_tables([r.full for r in results])
        attribution, impact, more = combine_full(plan, grid, comparison, results, labels, stored)
        parts.update(more.pop("parts"))
        summary = assemble_summary(
            summary,
            attribution,
            impact,
            more["accuracy"],
            kept_explanations(grid, results, episodes),
        )
        errors, _ = split_stored("count_accuracy", more["count_errors"])
        impact = first_rows(impact, stored)
        tables = audit_tables(comparison, episodes, attribution, impact, client.rejects, errors)
        tables = {k: v for k, v in tables.items() if k not in stored}
        digest: FindingsDigest = more["digest"]
        fixes = plan_fixes(
            [r.full["authority"] for r in results],
            more["accuracy"],
            attribution,
            digest,
            configured=plan.config.authority,
        )
        summary = {**summary, "authority_recommendation": fixes.summary()}
        tables = {**tables, "fix_plan": fixes.fixes, "authority": fixes.authority}
        causes = cause_sums(digest)
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
        data=client,
        stored=stored,
        causes=causes,
    )


def _uncompared(plan: Plan, results: list[BucketResult], client: ClientData) -> dict[str, str]:
    """Configured systems never compared with another, with the reason (drift.uncompared)."""
    coverage = coverage_from_parts([r.coverage for r in results if r.coverage is not None])
    return uncompared_systems(coverage, plan.config, client.files, client.rejects)


def _placement_notes(results: list[BucketResult]) -> list[str]:
    """Where the systems naming no location were compared (drift.locations)."""
    counts = [r.placed for r in results if r.placed is not None]
    return placement_notes(placement_counts(counts)) if counts else []


def _kept_grid(results: list[BucketResult]) -> Grid | None:
    """The grid of a single in-process part (with ``align``'s own notes), else None."""
    return results[0].grid if len(results) == 1 else None


def _stub_grid(plan: Plan, results: list[BucketResult]) -> Grid:
    """A grid without keys: the client's systems, days, authority and measure notes."""
    counts = pd.concat([r.notes for r in results]).groupby(level=0).sum()
    return keyless_grid(plan, summed_measure_notes(counts, plan))


def _comparison(
    plan: Plan, grid: Grid, results: list[BucketResult], episodes: pd.DataFrame
) -> Comparison:
    """``compare.compare``'s tables and headline from every bucket's parts."""
    return Comparison(
        headline=combined_headline(results, len(plan.days)),
        daily=combined_daily([r.daily for r in results]),
        episodes=episodes,
        bias=combined_bias([r.bias for r in results], plan),
        by_category=combined_groups([r.by_category for r in results], schema.CATEGORY),
        by_location=combined_groups([r.by_location for r in results], LOCATION),
        key_drift=combined_key_drift([r.key_drift for r in results], plan),
    )
