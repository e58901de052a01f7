"""Running an audit (DESIGN §12): three passes over its parts, then one combine.

Every audit is the same code.  A *part* is one SKU bucket of an ingest folder
(``driftkit ingest`` writes canonical Parquet bucketed by SKU, so every key lives in one
bucket) or, in process, the whole client.  What is not per key is decided globally in
passes over the parts:

1. **scan** (a few columns): the window, the systems, each system's event export span,
   whether the client records shipments (:func:`driftkit.scale.plan.scan`);
2. **profile** (only when needed): the handoff statistics (share of deliveries each target
   receives, latency and delay samples, last receipt per target), the first and last
   shipment day and the pooled weekday profile of demand
   (:func:`driftkit.scale.part.profile_part`);
3. **audit**: the whole per-key pipeline with those global facts; each part returns its
   tables and the numerator and denominator of every cross-key number
   (:func:`driftkit.scale.part.audit_part`).

:func:`combine` then merges the parts (:mod:`driftkit.scale.combine`).
:func:`run_in_process` runs the three passes on one part in this process;
:func:`run_partitioned` runs them bucket by bucket in a local process pool or on a Dask
cluster (:mod:`driftkit.scale.cluster`), with no shuffle: workers read their own bucket
from Parquet and only small per-bucket results travel back.  What is exact and what is only
equal up to float summation order: ``docs/scale.md``.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from driftkit.causes.stats import handoff_stats
from driftkit.config import ClientConfig
from driftkit.impact.pooled import DemandFacts, demand_facts, pools_weekdays
from driftkit.load.client import ClientData
from driftkit.load.ingest import DEFAULT_BUCKETS, ingest, is_fresh
from driftkit.scale.bucket import (
    PROCESSED,
    audit_bucket,
    bucket_numbers,
    client_tables,
    profile_bucket,
    scan_bucket,
)
from driftkit.scale.cluster import mapper
from driftkit.scale.combine import Audit, PartitionedAudit, combine
from driftkit.scale.full import match_part, part_count_errors
from driftkit.scale.part import BucketResult, audit_part, profile_part
from driftkit.scale.plan import (
    RULES,
    Plan,
    Profile,
    Scan,
    grid_systems,
    part_grid,
    place_part,
    scan,
    window,
)
from driftkit.scale.steps import timed
from driftkit.scale.summary import previous_summary

__all__ = [
    "BucketResult",
    "PartitionedAudit",
    "Plan",
    "bucket_numbers",
    "ingested",
    "plan_audit",
    "run_in_process",
    "run_partitioned",
]


def run_in_process(
    data: ClientData,
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    run_at: datetime | None = None,
    reports_dir: str | Path | None = None,
) -> Audit:
    """Audit a client whose tables are in memory: the three passes on one part, then combine.

    Parameters
    ----------
    data
        The client's canonical tables (``load_client`` or its ingest); not mutated.
    start, end, run_at, reports_dir
        As in :func:`run_partitioned`.

    Returns
    -------
    Audit
        Summary, tables, and the whole client's grid, comparison, attribution (with every
        matched event) and impact.
    """
    default = data.config.default_location
    plan = plan_audit(
        data.config, [scan(data.snapshots, data.events, default_location=default)], start, end
    )
    data, placed = place_part(plan, data)
    matches = match_part(data)  # matched events and the grid: computed once, both passes
    with timed("align"):
        grid = part_grid(data, plan)
    with timed("count errors"):  # pass 2's count history and pass 3's accuracy, once
        errors = part_count_errors(data, plan) if plan.full else None
    if needs_profile(plan):
        with timed("profile"):
            profile = profile_part(plan, data, matches=matches, grid=grid, count_errors=errors)
            plan = with_profiles(plan, [profile])
    result = audit_part(
        plan, data, keep=True, matches=matches, grid=grid, placed=placed, count_errors=errors
    )
    run_at = run_at or datetime.now(UTC)
    previous = _previous(data.config, run_at, reports_dir)
    with timed("combine"):
        combined = combine(plan, [result], data, run_at=run_at, previous=previous)
    assert combined.attribution is not None and combined.impact is not None  # plan.full
    return Audit(
        data.config,
        data,
        combined.grid,
        combined.comparison,
        combined.attribution,
        combined.impact,
        combined.summary,
        combined.tables,
        causes=combined.causes,
    )


def run_partitioned(
    config: ClientConfig,
    processed_path: str | Path,
    *,
    engine: str = "pandas",
    jobs: int | None = None,
    scheduler: str | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    full: bool = True,
    run_at: datetime | None = None,
    reports_dir: str | Path | None = None,
    parts_dir: str | Path | None = None,
) -> PartitionedAudit:
    """Audit a client bucket by bucket from its ingest folder and combine the results.

    Parameters
    ----------
    config
        The client config.
    processed_path
        The client's ingest folder (``driftkit.load.ingest.ingest``): Parquet bucketed by SKU.
    engine
        ``"pandas"``: buckets in a local process pool of ``jobs`` processes (in this
        process when ``jobs`` is 1); ``"dask"``: buckets as tasks on ``dask.distributed``.
    jobs
        Processes (pandas) or LocalCluster workers (dask); default the number of cores.
    scheduler
        ``tcp://host:8786`` of a running Dask scheduler (dask engine); default a LocalCluster.
    start, end
        Window (local days); default the first..last snapshot day over all buckets.
    full
        False: only align + compare (headline, daily, episodes, bias); for benchmarks.
    run_at, reports_dir
        The run's time (default now) and where earlier runs live (for ``previous``).
    parts_dir
        Where workers store their per-key tables as Parquet parts (:mod:`driftkit.scale.stored`;
        on a cluster a folder every worker can write, e.g. ``RUN_DIR/parts``); default a
        temporary folder removed when this process exits.

    Returns
    -------
    PartitionedAudit
        ``summary`` and ``tables`` as :func:`run_in_process` computes them (docs/scale.md
        says which numbers are exact and which equal up to float summation order), but the
        stored tables, which ``write`` streams from their parts (``stored``).
    """
    path = Path(processed_path).absolute()  # workers may run in another working directory
    parts = Path(parts_dir).absolute() if parts_dir else temporary_parts()
    buckets = bucket_numbers(path)
    with mapper(engine, jobs=jobs, scheduler=scheduler) as run:
        default = config.default_location
        scans: list[Scan] = run(scan_bucket, [(path, b, default) for b in buckets])
        plan = dataclasses.replace(
            plan_audit(config, scans, start, end, path=path, full=full), parts=parts
        )
        if needs_profile(plan):
            plan = with_profiles(plan, run(profile_bucket, [(plan, b) for b in buckets]))
        results = run(audit_bucket, [(plan, b) for b in buckets])
    run_at = run_at or datetime.now(UTC)
    previous = _previous(config, run_at, reports_dir)
    return combine(plan, results, client_tables(plan), run_at=run_at, previous=previous)


def temporary_parts() -> Path:
    """A temporary folder for a run's parts, removed when this process exits."""
    folder = Path(tempfile.mkdtemp(prefix="driftkit-parts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def ingested(
    config: ClientConfig, *, processed: str | Path = PROCESSED, buckets: int | None = None
) -> Path:
    """The client's ingest folder ``processed/<client>``, ingested first when stale or missing.

    Parameters
    ----------
    config
        The client config.
    processed
        Folder of ingests (``data/processed``).
    buckets
        SKU buckets for a new ingest; default :data:`driftkit.load.ingest.DEFAULT_BUCKETS`.

    Returns
    -------
    pathlib.Path
        The folder to pass to :func:`run_partitioned`.
    """
    path = Path(processed) / config.id
    if not is_fresh(path, config):
        ingest(config, out=path, buckets=buckets or DEFAULT_BUCKETS)
    return path


def plan_audit(
    config: ClientConfig,
    scans: list[Scan],
    start: date | str | None = None,
    end: date | str | None = None,
    *,
    path: Path | None = None,
    full: bool = True,
) -> Plan:
    """The global facts of pass 1, from every part's :class:`~driftkit.scale.plan.Scan`."""
    found = frozenset().union(*(s.systems for s in scans))
    located = frozenset().union(*(s.located for s in scans))
    first, last = window(scans, config.timezone, _day(start), _day(end))
    spans = pd.concat([s.span for s in scans])
    return Plan(
        config=config,
        path=path,
        start=first,
        end=last,
        systems=grid_systems(found, config),
        found=tuple(sorted(found)),
        full=full,
        span=spans.groupby(level=0).agg({"min": "min", "max": "max"}).sort_index(),
        demand=DemandFacts(shipments=any(s.shipments for s in scans)),
        unlocated=tuple(sorted(found - located)) if located else (),
    )


def needs_profile(plan: Plan) -> bool:
    """Whether pass 2 has anything to decide: event spans, shipments or a weekday profile."""
    shipments = plan.demand.shipments
    return plan.full and bool(len(plan.span) or shipments or pools_weekdays(plan.days))


def with_profiles(plan: Plan, profiles: list[Profile]) -> Plan:
    """``plan`` with the global facts of pass 2: handoff statistics, shipment days, weekday."""
    demand = [p.demand for p in profiles]
    return dataclasses.replace(
        plan,
        handoffs=handoff_stats([p.handoffs for p in profiles], RULES.match),
        demand=demand_facts(demand, plan.days, shipments=plan.demand.shipments),
    )


def _previous(
    config: ClientConfig, run_at: datetime, reports_dir: str | Path | None
) -> dict[str, object] | None:
    if reports_dir is None:
        return None
    return previous_summary(Path(reports_dir), config.id, run_at.date())


def _day(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value
