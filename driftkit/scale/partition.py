"""Partitioned audits (DESIGN §12): the audit run one SKU bucket at a time, recombined exactly.

``driftkit ingest`` writes canonical Parquet bucketed by SKU, so every key lives in one
bucket and align, compare, roll-forward, the cause detectors and the per-key cost model
run on one bucket at a time — in a local process pool or on a Dask cluster
(:mod:`driftkit.scale.cluster`) — with no shuffle.  Workers read their own bucket from Parquet;
only small per-bucket results travel back.  What is not per key is decided globally in
passes over the buckets:

1. **scan** (a few columns): the window, the systems, each system's event export span,
   whether the client records shipments;
2. **profile** (only when needed): the handoff statistics (share of deliveries each target
   receives, latency and delay samples, last receipt per target), the first and last
   shipment day and the pooled weekday profile of demand;
3. **audit**: the whole per-key pipeline with those global facts.  Each bucket returns its
   tables and the numerator and denominator of every cross-key number.

Recombination: counts and sums add, rates are Σ numerator ÷ Σ denominator, tables are
concatenated and ordered as :func:`driftkit.audit.run_audit` orders them, quantiles are
taken over the concatenated samples, the count list is re-ranked over all keys and the
projection is recomputed from the combined daily series.  What is exact and what is
only equal up to float summation order: ``docs/scale.md``.  The HTML report of a
partitioned audit: :func:`driftkit.audit.audit_for_report` (``_partition_report.py``).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from driftkit.audit import PROCESSED, previous_summary
from driftkit.config import ClientConfig
from driftkit.impact.estimate import MIN_DAYS_FOR_WEEKDAY_PROFILE
from driftkit.load.ingest import DEFAULT_BUCKETS, ingest, is_fresh
from driftkit.scale.bucket import BucketResult, audit_bucket, profile_bucket
from driftkit.scale.cluster import Mapper, mapper
from driftkit.scale.combine import PartitionedAudit, combine
from driftkit.scale.demand import shipped_days, weekday_profile
from driftkit.scale.handoffs import handoff_stats
from driftkit.scale.plan import (
    Plan,
    Profile,
    Scan,
    bucket_numbers,
    grid_systems,
    scan_bucket,
    window,
)

__all__ = [
    "BucketResult",
    "PartitionedAudit",
    "Plan",
    "bucket_numbers",
    "ingested",
    "plan_audit",
    "run_partitioned",
]


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
) -> PartitionedAudit:
    """Audit a client bucket by bucket from its ingest folder and recombine the results.

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
        As in :func:`driftkit.audit.run_audit` (``previous`` comes from ``reports_dir``).

    Returns
    -------
    PartitionedAudit
        ``summary`` and ``tables`` as ``run_audit`` computes them (docs/scale.md says
        which numbers are exact and which equal up to float summation order).
    """
    path = Path(processed_path).absolute()  # workers may run in another working directory
    buckets = bucket_numbers(path)
    with mapper(engine, jobs=jobs, scheduler=scheduler) as run:
        plan = plan_audit(config, path, buckets, run, start=_day(start), end=_day(end), full=full)
        results = run(audit_bucket, [(plan, b) for b in buckets])
    previous = (
        previous_summary(Path(reports_dir), config.id, (run_at or datetime.now(UTC)).date())
        if reports_dir
        else None
    )
    return combine(plan, results, run_at=run_at or datetime.now(UTC), previous=previous)


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


def _day(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def plan_audit(
    config: ClientConfig,
    path: Path,
    buckets: tuple[int, ...],
    run: Mapper,
    *,
    start: date | None = None,
    end: date | None = None,
    full: bool = True,
) -> Plan:
    """The global facts of an audit: scan every bucket, then profile them when needed."""
    scans: list[Scan] = run(scan_bucket, [(path, b) for b in buckets])
    found = frozenset().union(*(s.systems for s in scans))
    first, last = window(scans, config.timezone, start, end)
    spans = pd.concat([s.span for s in scans])
    plan = Plan(
        config=config,
        path=path,
        start=first,
        end=last,
        systems=grid_systems(found, config),
        found=tuple(sorted(found)),
        full=full,
        span=spans.groupby(level=0).agg({"min": "min", "max": "max"}).sort_index(),
        shipments=any(s.shipments for s in scans),
    )
    weekday = len(plan.days) >= MIN_DAYS_FOR_WEEKDAY_PROFILE
    if not full or not (len(plan.span) or plan.shipments or weekday):
        return plan
    profiles: list[Profile] = run(profile_bucket, [(plan, b) for b in buckets])
    shipped = shipped_days(profiles)
    return dataclasses.replace(
        plan,
        handoffs=handoff_stats(profiles),
        shipped=shipped,
        weekday=weekday_profile(profiles, plan, shipped) if weekday else np.ones(7),
    )
