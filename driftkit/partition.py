"""Partitioned audits (DESIGN §12): the audit run one SKU bucket at a time, recombined exactly.

``driftkit ingest`` writes canonical Parquet bucketed by SKU, so every key lives in one
bucket and align, compare, roll-forward, the cause detectors and the per-key cost model
run on one bucket at a time — in a local process pool or on a Dask cluster
(:mod:`driftkit.cluster`) — with no shuffle.  Workers read their own bucket from Parquet;
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
only equal up to float summation order: ``docs/scale.md``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftkit import schema
from driftkit._causes import (
    FINDING_COLUMNS,
    AttributionRules,
    _combine,
    _Context,
    _empty,
    _findings,
    _label,
    _units_text,
)
from driftkit._causes_events import duplicates, stale_syncs
from driftkit._causes_values import reverted_counts, unexplained_residuals, unit_ratios
from driftkit._demand import _deduplicated, _source_per_key
from driftkit._episodes import _resets, covering, episode_fallback, timing_drift
from driftkit._stock import _key_index
from driftkit.accuracy import _accuracy, count_accuracy, rollforward
from driftkit.align import Grid, align, measured_values
from driftkit.attribute import Attribution, count_by_cause
from driftkit.audit import Audit, previous_summary, summarize, write_outputs
from driftkit.cluster import Mapper, mapper
from driftkit.compare import (
    COUNTERPART,
    SLACK,
    Comparison,
    _cell_stats,
    _vs_authority,
    compare,
    system_pairs,
)
from driftkit.config import ClientConfig
from driftkit.countlist import COUNT_LIST_COLUMNS, count_list
from driftkit.errors import InputError
from driftkit.impact import (
    HOLDER_KINDS,
    MIN_DAYS_FOR_WEEKDAY_PROFILE,
    Impact,
    KeyDays,
    daily_series,
    estimate_demand,
    handoff_fixes,
    impact_totals,
    key_costs,
    key_state,
    oversold_units,
    per_key_table,
    phantom_stockouts,
    planning_parameters,
    project,
    record_error,
    snapshot_declines,
    stock_records,
    suspected_phantom_stockouts,
    window_value,
)
from driftkit.ingest import BUCKETED, read_processed
from driftkit.loaders import ClientData
from driftkit.match import (
    APPLIED_AT,
    BUSINESS_EVENT,
    DUPLICATE,
    EDGE,
    FAMILY,
    HANDOFF_COLUMNS,
    LATENCY_H,
    REF_FORMAT,
    SOURCE,
    SPAN_SLACK_H,
    TARGET,
    _delivery_columns,
    _format_lists,
    first_records,
    match_events,
)
from driftkit.schema import (
    AS_OF,
    EVENT_ID,
    KIND,
    LOCATION,
    OCCURRED_AT,
    QTY_DELTA,
    RECORDED_AT,
    SKU,
    SYSTEM,
    Cause,
    EventKind,
    Measure,
)

log = logging.getLogger(__name__)

RULES = AttributionRules()
#: First and last local day: ``pd.Timestamp`` each, ``pd.NaT`` when there is none.
DaySpan = tuple[Any, Any]
GHOST = "\x00"  # sku/location of the placeholder snapshot that lists a system in a bucket


def _no_span() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "min": pd.Series(dtype="datetime64[us, UTC]"),
            "max": pd.Series(dtype="datetime64[us, UTC]"),
        }
    )


def _series() -> pd.Series:
    return pd.Series(dtype="float64")


@dataclass(frozen=True)
class HandoffStats:
    """Global statistics of the handoff map that the event detectors compare with.

    Attributes
    ----------
    normal
        ``(target, family, location)`` → share of the business events sent while the target
        exported events that it recorded (the source's own record included):
        ``match.deliveries``' *normal* test.
    received_share
        The same share without the source's own record (``missing_event`` confidence).
    latency_p50
        ``(target, family)`` → median latency (h) of the normal deliveries received.
    last_received
        ``target`` → its last receipt of a delivery (UTC).
    delay_p95
        ``(system, kind)`` → p95 of applied − occurred (h) of first records, syncs excluded.
    """

    normal: pd.Series = field(default_factory=_series)
    received_share: pd.Series = field(default_factory=_series)
    latency_p50: pd.Series = field(default_factory=_series)
    last_received: pd.Series = field(default_factory=_series)
    delay_p95: pd.Series = field(default_factory=_series)


@dataclass(frozen=True)
class Plan:
    """Everything the buckets of one audit share, decided before any bucket is audited.

    Attributes
    ----------
    config, path
        The client config and its ingest folder (``data/processed/<client>``).
    start, end
        The window (local days), the same for every bucket so all grids share days.
    systems
        Grid systems in :func:`driftkit.align.align` order over the whole client.
    found
        Systems with at least one snapshot (sorted).
    full
        False: align + compare only (headline, daily, episodes, bias).
    span
        Each system's event export span: ``min``, ``max`` of ``applied_at`` by system.
    shipments
        Whether the client records any shipment event.
    handoffs
        :class:`HandoffStats`.
    shipped
        First and last local day of the shipments demand is read from (NaT when none).
    weekday
        The pooled weekday profile of demand (seven factors, Monday first).
    """

    config: ClientConfig
    path: Path
    start: pd.Timestamp
    end: pd.Timestamp
    systems: tuple[str, ...]
    found: tuple[str, ...]
    full: bool = True
    span: pd.DataFrame = field(default_factory=_no_span)
    shipments: bool = False
    handoffs: HandoffStats = field(default_factory=HandoffStats)
    shipped: DaySpan = (pd.NaT, pd.NaT)
    weekday: np.ndarray = field(default_factory=lambda: np.ones(7))

    @property
    def days(self) -> pd.DatetimeIndex:
        """The window's local days."""
        return pd.date_range(self.start, self.end, freq="D")


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
    """

    config: ClientConfig
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    comparison: Comparison
    attribution: Attribution | None
    impact: Impact | None
    parts: dict[str, float]
    buckets: tuple[int, ...]

    def write(self, run_dir: str | Path) -> None:
        """Write ``summary.json`` and every table as CSV, exactly as ``run_audit`` does."""
        write_outputs(cast(Audit, self), Path(run_dir))  # reads only .summary and .tables


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
        The client's ingest folder (``driftkit.ingest.ingest``): Parquet bucketed by SKU.
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
    path = Path(processed_path)
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


def _day(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def bucket_numbers(path: Path) -> tuple[int, ...]:
    """Every bucket that holds rows of any bucketed table in the ingest folder ``path``."""
    found = {
        int(folder.name.split("=", 1)[1])
        for table in BUCKETED
        for folder in (path / table).glob("bucket=*")
    }
    if not found:
        raise InputError(
            f"{path}: no bucketed Parquet (snapshots/bucket=NN/...) there; run "
            "`driftkit ingest CLIENT_DIR --out DIR` first and pass that folder"
        )
    return tuple(sorted(found))


# --- pass 1 and 2: the global facts ---------------------------------------------------------


@dataclass(frozen=True)
class _Scan:
    first: pd.Timestamp  # earliest as_of (NaT without snapshots)
    last: pd.Timestamp
    systems: frozenset[str]
    span: pd.DataFrame  # system → min, max applied_at
    shipments: bool


def scan_bucket(path: Path, bucket: int) -> _Scan:
    """Pass 1 over one bucket, reading a few columns: as_of range, systems, event spans."""
    snaps = _read_columns(path, "snapshots", bucket, [SYSTEM, AS_OF])
    events = _read_columns(path, "events", bucket, [SYSTEM, KIND, OCCURRED_AT, RECORDED_AT])
    applied = events[RECORDED_AT].fillna(events[OCCURRED_AT])
    return _Scan(
        first=snaps[AS_OF].min(),
        last=snaps[AS_OF].max(),
        systems=frozenset(str(s) for s in snaps[SYSTEM].unique()),
        span=applied.groupby(events[SYSTEM]).agg(["min", "max"]),
        shipments=bool((events[KIND] == str(EventKind.SHIPMENT)).any()),
    )


def _read_columns(path: Path, table: str, bucket: int, columns: list[str]) -> pd.DataFrame:
    files = sorted((path / table / f"bucket={bucket:02d}").glob("*.parquet"))
    if not files:
        return schema.empty(table)[columns]
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files]).to_pandas()


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
    scans: list[_Scan] = run(scan_bucket, [(path, b) for b in buckets])
    found = frozenset().union(*(s.systems for s in scans))
    first, last = _window(scans, config.timezone, start, end)
    spans = pd.concat([s.span for s in scans])
    plan = Plan(
        config=config,
        path=path,
        start=first,
        end=last,
        systems=_grid_systems(found, config),
        found=tuple(sorted(found)),
        full=full,
        span=spans.groupby(level=0).agg({"min": "min", "max": "max"}).sort_index(),
        shipments=any(s.shipments for s in scans),
    )
    weekday = len(plan.days) >= MIN_DAYS_FOR_WEEKDAY_PROFILE
    if not full or not (len(plan.span) or plan.shipments or weekday):
        return plan
    profiles: list[_Profile] = run(profile_bucket, [(plan, b) for b in buckets])
    shipped = _shipped(profiles)
    return dataclasses.replace(
        plan,
        handoffs=_handoff_stats(profiles),
        shipped=shipped,
        weekday=_weekday(profiles, plan, shipped) if weekday else np.ones(7),
    )


def _window(scans: list[_Scan], tz: str, start: date | None, end: date | None) -> DaySpan:
    """The window as :func:`driftkit.align.align` decides it, from every bucket's as_of range.

    Returned as the timestamps ``align`` makes of it (same resolution, so the grids' days
    have the dtype of an unpartitioned run).
    """
    firsts = [s.first for s in scans if not pd.isna(s.first)]
    lasts = [s.last for s in scans if not pd.isna(s.last)]
    if (start is None or end is None) and not firsts:
        raise InputError(
            "snapshots table is empty in every bucket: no day to align on; pass start and end"
        )
    local = pd.DatetimeIndex([min(firsts), max(lasts)] if firsts else [pd.NaT, pd.NaT])
    local = local.tz_convert(tz).tz_localize(None).normalize()
    first = pd.Timestamp(start) if start is not None else local[0]
    last = pd.Timestamp(end) if end is not None else local[1]
    if last < first:
        raise InputError(f"window end {last.date()} is before its start {first.date()}; swap them")
    return first, last


def _grid_systems(found: frozenset[str], config: ClientConfig) -> tuple[str, ...]:
    """Systems in the order :func:`driftkit.align.align` gives them for the whole client."""
    ordered = [s for s in config.systems if s in found or s == config.authority]
    if config.authority and config.authority not in ordered:
        ordered.append(config.authority)
    ordered += [s for s in sorted(found) if s not in ordered]
    return tuple(ordered)


@dataclass(frozen=True)
class _Profile:
    shares: pd.DataFrame  # target, family, location → received, deliveries, received_others, others
    latencies: pd.DataFrame  # target, family, location, latency_h of received deliveries
    last_received: pd.Series  # target → last received_at
    delays: pd.DataFrame  # system, kind, delay (h)
    shipped: DaySpan
    day_units: np.ndarray | None  # Σ over keys of sellable observed units per day
    day_cells: np.ndarray | None  # Σ over keys of sellable observed key-days per day


def profile_bucket(plan: Plan, bucket: int) -> _Profile:
    """Pass 2 over one bucket: handoff statistics, shipment days and weekday demand sums."""
    data = read_bucket(plan, bucket)
    shares, latencies, last, delays = _event_profile(data, plan)
    shipped: DaySpan = (pd.NaT, pd.NaT)
    units = cells = None
    weekday = len(plan.days) >= MIN_DAYS_FOR_WEEKDAY_PROFILE
    if plan.shipments or weekday:
        grid = bucket_grid(data, plan)
        if plan.shipments:
            shipped = _shipments(data.events, grid, plan.config)[1:]
        if weekday:
            units, cells = _weekday_parts(data, grid, plan)
    return _Profile(shares, latencies, last, delays, shipped, units, cells)


def read_bucket(plan: Plan, bucket: int) -> ClientData:
    """One bucket's snapshots, events and counts with the whole catalog, from Parquet."""
    tables = {t: read_processed(plan.path, t, bucket=bucket) for t in BUCKETED}
    return ClientData(
        config=plan.config,
        catalog=read_processed(plan.path, "catalog"),
        rejects=schema.empty("rejects"),
        files=pd.DataFrame(),
        notes=(),
        **tables,
    )


def bucket_grid(data: ClientData, plan: Plan) -> Grid:
    """The bucket's grid on the global window, with every system of the client."""
    grid = align(data.snapshots, plan.config, start=plan.start, end=plan.end)
    if grid.systems == plan.systems:
        return grid
    values = np.full((len(plan.systems), *grid.values.shape[1:]), np.nan)
    for position, system in enumerate(grid.systems):  # a handful of systems, not data rows
        values[plan.systems.index(system)] = grid.values[position]
    return dataclasses.replace(grid, systems=plan.systems, values=values)


DELIVERY_GROUP = [TARGET, FAMILY, LOCATION]
RECEIVED_AT = f"{APPLIED_AT}_target"


def _first_records(matches: pd.DataFrame) -> pd.DataFrame:
    """``match.first_records``, also for a bucket without events."""
    if len(matches):
        return first_records(matches)
    return matches.assign(copies=pd.Series(dtype="int64"), **{REF_FORMAT: pd.Series(dtype="str")})


def _candidates(matches: pd.DataFrame, span: pd.DataFrame) -> pd.DataFrame:
    """``match.deliveries`` up to ``received``, with the client's export spans ``span``."""
    first = _first_records(matches)
    sources = first[first[SYSTEM] == first[SOURCE]]
    candidates = sources.merge(span.rename_axis(TARGET).reset_index(), how="cross")
    opened = candidates["min"] - pd.Timedelta(hours=SPAN_SLACK_H)
    candidates = candidates[candidates[APPLIED_AT].between(opened, candidates["max"])]
    received = first[[BUSINESS_EVENT, SYSTEM, APPLIED_AT, REF_FORMAT, EVENT_ID, "copies"]]
    joined = candidates.drop(columns="copies").merge(
        received.rename(columns={SYSTEM: TARGET}),
        on=[BUSINESS_EVENT, TARGET],
        how="left",
        suffixes=("", "_target"),
    )
    return joined.assign(received=joined[RECEIVED_AT].notna())


def _event_profile(
    data: ClientData, plan: Plan
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame]:
    """The bucket's share parts, received latencies, last receipts and record delays."""
    matches = match_events(data.events, catalog=data.catalog, rules=RULES.match)
    joined = _candidates(matches, plan.span)
    others = joined[joined[TARGET] != joined[SOURCE]]
    shares = joined.groupby(DELIVERY_GROUP)["received"].agg(received="sum", deliveries="size")
    shares = shares.join(
        others.groupby(DELIVERY_GROUP)["received"].agg(received_others="sum", others="size"),
        how="outer",
    )
    got = others[others["received"]]
    latency = (got[RECEIVED_AT] - got[APPLIED_AT]).dt.total_seconds() / 3600.0
    rows = matches[~matches[DUPLICATE] & (matches[KIND] != str(EventKind.SYNC))]
    delay = (rows[APPLIED_AT] - rows[OCCURRED_AT]).dt.total_seconds() / 3600.0
    return (
        shares.fillna(0).reset_index(),
        got[DELIVERY_GROUP].assign(**{LATENCY_H: latency}),
        others.groupby(TARGET)[RECEIVED_AT].max(),
        rows[[SYSTEM, KIND]].assign(delay=delay),
    )


def _handoff_stats(profiles: list[_Profile]) -> HandoffStats:
    """Global handoff statistics from every bucket's parts (quantiles over all samples)."""
    shares = pd.concat([p.shares for p in profiles]).groupby(DELIVERY_GROUP).sum()
    normal = shares["received"] / shares["deliveries"]
    received_share = shares["received_others"] / shares["others"].where(shares["others"] > 0)
    latencies = pd.concat([p.latencies for p in profiles], ignore_index=True)
    where = pd.MultiIndex.from_frame(latencies[DELIVERY_GROUP])
    latencies = latencies[normal.reindex(where).to_numpy() >= RULES.match.normal_share]
    delays = pd.concat([p.delays for p in profiles], ignore_index=True)
    lasts = pd.concat([p.last_received for p in profiles])
    return HandoffStats(
        normal=normal,
        received_share=received_share,
        latency_p50=latencies.groupby([TARGET, FAMILY])[LATENCY_H].median(),
        last_received=lasts.groupby(level=0).max(),
        delay_p95=delays.groupby([SYSTEM, KIND])["delay"].agg(lambda d: d.quantile(0.95)),
    )


def _shipped(profiles: list[_Profile]) -> DaySpan:
    firsts = [p.shipped[0] for p in profiles if not pd.isna(p.shipped[0])]
    lasts = [p.shipped[1] for p in profiles if not pd.isna(p.shipped[1])]
    return (min(firsts), max(lasts)) if firsts else (pd.NaT, pd.NaT)


def _shipments(
    events: pd.DataFrame, grid: Grid, config: ClientConfig
) -> tuple[np.ndarray, Any, Any]:
    """``impact.daily_shipments`` of one bucket: units per [key, day] and the first and last
    local shipment day (the observed days are decided over all buckets)."""
    out = np.zeros(grid.values.shape[1:])
    ships = events[events[KIND] == str(EventKind.SHIPMENT)]
    if ships.empty:
        return out, pd.NaT, pd.NaT
    holders = [s for s, c in config.systems.items() if c.kind in HOLDER_KINDS]
    preferred = (grid.authority, *[s for s in holders if s != grid.authority])
    key = _key_index(grid.keys).get_indexer(pd.MultiIndex.from_frame(ships[[SKU, LOCATION]]))
    ships = _deduplicated(ships.assign(_key=key)[key >= 0])
    source = _source_per_key(ships, preferred).reindex(ships["_key"]).to_numpy()
    ships = ships[ships[SYSTEM] == source]
    local = ships[OCCURRED_AT].dt.tz_convert(config.timezone).dt.tz_localize(None).dt.normalize()
    day = grid.days.get_indexer(pd.DatetimeIndex(local))
    units = np.abs(ships[QTY_DELTA].to_numpy(dtype=np.float64, na_value=np.nan))
    keep = (day >= 0) & ~np.isnan(units)
    np.add.at(out, (ships["_key"].to_numpy()[keep], day[keep]), units[keep])
    return out, local.min(), local.max()


def _observed(
    events: pd.DataFrame, grid: Grid, plan: Plan, *, shipped: DaySpan
) -> tuple[np.ndarray, np.ndarray]:
    """``impact.observed_demand`` of one bucket with the client's shipment days."""
    if not plan.shipments:
        return snapshot_declines(grid.values[grid.index(grid.authority)])
    units, _, _ = _shipments(events, grid, plan.config)
    observed = (grid.days >= shipped[0]) & (grid.days <= shipped[1])
    return units, np.broadcast_to(np.asarray(observed), units.shape)


def _weekday_parts(data: ClientData, grid: Grid, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Per day, Σ over the bucket's keys of sellable observed units and key-days.

    With shipments the observed days are the client's first..last shipment day, not yet
    known: every day counts here and the combined sums are masked afterwards.
    """
    tolerance = plan.config.tolerance
    stock = stock_records(data.snapshots, grid, plan.config)
    censored = phantom_stockouts(stock, tolerance) | (stock.authority <= tolerance)
    everything = (pd.Timestamp.min, pd.Timestamp.max)
    units, observed = _observed(data.events, grid, plan, shipped=everything)
    use = observed & ~censored
    return np.where(use, units, 0.0).sum(axis=0), use.sum(axis=0).astype(np.float64)


def _weekday(profiles: list[_Profile], plan: Plan, shipped: DaySpan) -> np.ndarray:
    """``impact.weekday_index`` pooled over every bucket's keys."""
    days = plan.days
    units = np.sum([p.day_units for p in profiles if p.day_units is not None], axis=0)
    cells = np.sum([p.day_cells for p in profiles if p.day_cells is not None], axis=0)
    if plan.shipments:
        observed = np.asarray((days >= shipped[0]) & (days <= shipped[1]))
        units, cells = np.where(observed, units, 0.0), np.where(observed, cells, 0.0)
    weekday = days.day_of_week.to_numpy()
    sums = np.bincount(weekday, weights=units, minlength=7)
    counts = np.bincount(weekday, weights=cells, minlength=7)
    overall = sums.sum() / max(counts.sum(), 1)
    if overall <= 0 or (counts == 0).any():
        return np.ones(7)
    return np.asarray((sums / counts) / overall)


# --- pass 3: one bucket's audit ---------------------------------------------------------------

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


def audit_bucket(plan: Plan, bucket: int) -> BucketResult:
    """Pass 3 over one bucket: align, compare and (when ``plan.full``) roll-forward,
    attribution, impact and count accuracy, with the plan's global facts."""
    data = read_bucket(plan, bucket)
    grid = bucket_grid(data, plan)
    comparison = compare(grid, plan.config, data.catalog)
    result = BucketResult(
        bucket=bucket,
        headline=_headline_parts(grid, comparison, plan.config),
        notes=_note_counts(data.snapshots, plan.config),
        daily=comparison.daily,
        episodes=comparison.episodes,
        bias=_bias_parts(grid, plan.config),
        by_category=comparison.by_category[[schema.CATEGORY, *GROUP_SUMS]],
        by_location=comparison.by_location[[LOCATION, *GROUP_SUMS]],
        key_drift=comparison.key_drift,
    )
    if not plan.full:
        return result
    residuals = rollforward(data.snapshots, data.events, plan.config, grid)
    full = _attribute(data, grid, comparison, residuals, plan)
    full.update(_impact(data, grid, full["findings"], plan))
    full["count_errors"] = _count_errors(data, plan)
    return dataclasses.replace(result, full=full)


def _headline_parts(grid: Grid, comparison: Comparison, config: ClientConfig) -> dict[str, float]:
    """The summed headline numbers plus Σ and max of the spread of compared cells."""
    parts = {k: float(comparison.headline[k] or 0) for k in SUMMED}
    spread = _cell_stats(grid.values, config.tolerance + SLACK).spread
    compared = parts["compared_cells"] > 0
    parts["spread_sum"] = float(np.nansum(spread)) if compared else 0.0
    parts["max_spread"] = float(np.nanmax(spread)) if compared else float("-inf")
    return parts


def _note_counts(snapshots: pd.DataFrame, config: ClientConfig) -> pd.DataFrame:
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


def _bias_parts(grid: Grid, config: ClientConfig) -> pd.DataFrame:
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
    delivered = _deliveries(matches, plan)
    stale = stale_syncs(matches, ctx)
    detected = [
        duplicates(matches, ctx),
        _missing(delivered, ctx, plan.handoffs),
        _late(matches, ctx, plan.handoffs),
        stale,
        reverted_counts(ctx, stale, matches),
        unit_ratios(ctx),
    ]
    residual_causes = _combine(detected)
    explains = residual_causes["cause"].isin([str(Cause.STALE_OVERWRITE), str(Cause.UNIT_MISMATCH)])
    detected.append(unexplained_residuals(ctx, residual_causes[explains], delivered))
    findings = _combine(detected)
    timing = timing_drift(data, grid, comparison.episodes)
    vs_authority = (comparison.episodes[COUNTERPART] == grid.authority).to_numpy()
    for first in (vs_authority, ~vs_authority):  # against the authority first, then the rest
        episodes = comparison.episodes[first]
        findings = _combine([findings, episode_fallback(episodes, findings, timing[first], ctx)])
    findings = _priced(findings, data.catalog)
    edges = delivered[delivered["normal"]]
    return {
        "findings": findings,
        "edges": edges[EDGE_COLUMNS],
        "formats": _format_parts(edges, matches),
        "explained": _explained_parts(findings, comparison.episodes, ctx),
    }


EDGE_COLUMNS = [
    BUSINESS_EVENT,
    SOURCE,
    TARGET,
    KIND,
    "source_format",
    "target_format",
    LATENCY_H,
    "received",
    "copies",
    "normal",
]


def _deliveries(matches: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """``match.deliveries`` with the client's export spans and *normal* shares."""
    joined = _candidates(matches, plan.span)
    share = plan.handoffs.normal.reindex(pd.MultiIndex.from_frame(joined[DELIVERY_GROUP]))
    joined["normal"] = share.to_numpy(dtype=float) >= RULES.match.normal_share
    return _delivery_columns(joined[joined[TARGET] != joined[SOURCE]])


def _priced(findings: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """``value`` = |units| × unit_cost, as ``attribute.attribute`` prices its findings."""
    cost = findings[SKU].map(catalog.drop_duplicates(SKU).set_index(SKU)[schema.UNIT_COST])
    out = findings.assign(value=findings["units"].astype(float).abs() * cost.astype(float))
    return out[FINDING_COLUMNS].reset_index(drop=True)


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


def _format_parts(edges: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """``match.format_callouts``' counts per target, kind, recording system and format."""
    expected = edges.drop_duplicates([BUSINESS_EVENT, TARGET])[[BUSINESS_EVENT, TARGET, KIND]]
    seen = _first_records(matches)[[BUSINESS_EVENT, SYSTEM, REF_FORMAT]]
    rows = expected.merge(seen, on=BUSINESS_EVENT)
    rows = rows[rows[SYSTEM] != rows[TARGET]]
    got = edges.set_index([BUSINESS_EVENT, TARGET])["received"]
    where = pd.MultiIndex.from_frame(rows[[BUSINESS_EVENT, TARGET]])
    rows = rows.assign(missing=~got.reindex(where).to_numpy(dtype=bool))
    stats = rows.groupby([TARGET, KIND, SYSTEM, REF_FORMAT])["missing"]
    return stats.agg(events="size", missing="sum").reset_index()


def _missing(delivered: pd.DataFrame, ctx: _Context, stats: HandoffStats) -> pd.DataFrame:
    """``_causes_events.missing`` with the client's latencies, last receipts and shares."""
    expected = delivered[delivered["normal"]]
    lost = expected[~expected["received"]]
    wait = stats.latency_p50.reindex(pd.MultiIndex.from_frame(lost[[TARGET, FAMILY]]))
    hours = np.maximum(np.nan_to_num(wait.to_numpy(dtype=float), nan=24.0) * 2, 1.0)
    due = (lost["sent_at"] + pd.to_timedelta(hours, unit="h")).to_numpy()
    lost = lost[due <= lost[TARGET].map(stats.last_received).to_numpy()]
    if lost.empty:
        return _empty(Cause.MISSING_EVENT)
    where = pd.MultiIndex.from_frame(lost[DELIVERY_GROUP])
    rate = stats.received_share.reindex(where).to_numpy(dtype=float)
    units = -ctx.effect(lost)
    evidence = (
        _label(lost)
        + ", applied by "
        + lost[SOURCE]
        + " (event "
        + lost["source_event_id"]
        + ") at "
        + ctx.clock(lost["sent_at"])
        + ", never reached "
        + lost[TARGET]
        + ", which recorded "
        + pd.Series(np.round(rate * 100), index=lost.index).astype(int).astype(str)
        + "% of "
        + lost[FAMILY]
        + " events at "
        + lost[LOCATION]
        + "; "
        + _units_text(units)
    )
    out = lost.assign(
        **{SYSTEM: lost[TARGET], COUNTERPART: lost[SOURCE]},
        first_seen=lost["sent_at"],
        last_seen=lost["sent_at"],
        units=units,
        confidence=np.round(rate, 2),
        evidence=evidence,
    )
    return _findings(out, Cause.MISSING_EVENT)


def _late(matches: pd.DataFrame, ctx: _Context, stats: HandoffStats) -> pd.DataFrame:
    """``_causes_events.late`` with the client's usual delay (p95) per system and kind."""
    rules = ctx.rules
    rows = matches[~matches[DUPLICATE] & (matches[KIND] != str(EventKind.SYNC))]
    delay = (rows[APPLIED_AT] - rows[OCCURRED_AT]).dt.total_seconds() / 3600.0
    where = pd.MultiIndex.from_arrays([rows[SYSTEM], rows[KIND]])
    p95 = pd.Series(stats.delay_p95.reindex(where).to_numpy(dtype=float), index=rows.index)
    limit = np.maximum(rules.lag_factor * p95, p95 + rules.lag_floor_h)
    hit = rows[delay > limit].assign(delay=delay, usual=p95)
    hit = hit[ctx.effect(hit) != 0]
    if hit.empty:
        return _empty(Cause.SYNC_LAG)
    units = -ctx.effect(hit)
    evidence = (
        _label(hit)
        + " happened "
        + ctx.clock(hit[OCCURRED_AT])
        + " but "
        + hit[SYSTEM]
        + " applied it only at "
        + ctx.clock(hit[APPLIED_AT])
        + " ("
        + hit["delay"].round(0).astype(int).astype(str)
        + " h later; its usual p95 is "
        + hit["usual"].round(1).astype(str)
        + " h); "
        + _units_text(units)
        + " until then"
    )
    out = hit.assign(
        counterpart=ctx.counterpart(hit[SYSTEM], hit[SOURCE]),
        first_seen=hit[OCCURRED_AT],
        last_seen=hit[APPLIED_AT],
        units=units,
        confidence=0.9,
        evidence=evidence,
    )
    return _findings(out, Cause.SYNC_LAG)


def _impact(data: ClientData, grid: Grid, findings: pd.DataFrame, plan: Plan) -> dict[str, Any]:
    """``impact.estimate_impact`` on one bucket with the client's weekday profile and
    shipment days; returns per-key tables and the parts of the totals."""
    config, params = plan.config, plan.config.impact
    stock = stock_records(data.snapshots, grid, config)
    planning = planning_parameters(grid.keys, data.catalog, params)
    phantom = phantom_stockouts(stock, config.tolerance)
    units, observed = _observed(data.events, grid, plan, shipped=plan.shipped)
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
        _rate=demand.rate, _window=costs["expected_value"], _cost=planning.unit_cost
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


# --- recombination ------------------------------------------------------------------------------


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
    comparison = _comparison(plan, grid, results)
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
        attribution, impact, more = _full(plan, grid, comparison, results, data)
        parts.update(more.pop("parts"))
        summary.update({k: _plain(v) for k, v in impact.totals.items()})
        summary["findings_by_cause"] = dict(attribution.findings_by_cause)
        summary["explained_share"] = _plain(attribution.explained_share)
        summary["record_accuracy"] = _record_accuracy(more["accuracy"])
        summary["callouts"] = list(attribution.callouts)
        tables = {
            "findings": attribution.findings,
            "daily": comparison.daily,
            "episodes": comparison.episodes,
            "handoffs": attribution.handoffs,
            "impact": impact.per_key,
            "count_list": impact.count_list,
            "rejects": data.rejects,
            "bias": comparison.bias,
            "projection": impact.projection,
            "count_accuracy": more["count_errors"],
        }
    buckets = tuple(r.bucket for r in results)
    return PartitionedAudit(
        plan.config, summary, tables, comparison, attribution, impact, parts, buckets
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
        notes=(),
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
    identity = {
        Measure.ON_HAND: "available + committed + unavailable",
        Measure.AVAILABLE: "on_hand - committed",
    }[measure]
    counts = counts.reindex(list(systems), fill_value=0)
    notes = []
    for system, row in counts.iterrows():  # a handful of systems, not data rows
        total, made, unknown = int(row["rows"]), int(row["derived"]), int(row["unknown"])
        parts = []
        if made:
            parts.append(f"{measure} derived as {identity} for {made} of {total} snapshots")
        if unknown:
            parts.append(
                f"{measure} unknown and not derivable for {unknown} of {total} snapshots "
                "(absent on the days they decide)"
            )
        if parts:
            notes.append(f"{system}: " + "; ".join(parts))
    return tuple(notes)


def _comparison(plan: Plan, grid: Grid, results: list[BucketResult]) -> Comparison:
    return Comparison(
        headline=_headline(results, len(plan.days)),
        daily=_daily([r.daily for r in results]),
        episodes=_episodes(grid, [r.episodes for r in results]),
        bias=_bias([r.bias for r in results], plan),
        by_category=_groups([r.by_category for r in results], schema.CATEGORY),
        by_location=_groups([r.by_location for r in results], LOCATION),
        key_drift=_key_drift([r.key_drift for r in results], plan),
    )


def _headline(results: list[BucketResult], days: int) -> dict[str, float | int | None]:
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


def _daily(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Every bucket has one row per (day, pair) in the same order: add them up."""
    numeric = ["skus_compared", "skus_drifted", "abs_drift_units", "drift_value"]
    summed = {c: np.sum([f[c].to_numpy() for f in frames], axis=0) for c in numeric}
    return frames[0].assign(**summed)


def _key_order(frame: pd.DataFrame) -> np.ndarray:
    """Row order of ``frame`` by key code: (sku, location) as ``align`` sorts keys."""
    return np.lexsort((frame[LOCATION].to_numpy(dtype=object), frame[SKU].to_numpy(dtype=object)))


def _episodes(grid: Grid, frames: list[pd.DataFrame]) -> pd.DataFrame:
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
    plan: Plan, grid: Grid, comparison: Comparison, results: list[BucketResult], data: ClientData
) -> tuple[Attribution, Impact, dict[str, Any]]:
    """Attribution, impact and count accuracy recombined."""
    full = [r.full for r in results]
    findings = _findings_table([f["findings"] for f in full])
    explained, covered = (float(sum(f["explained"][i] for f in full)) for i in (0, 1))
    edges = pd.concat([f["edges"] for f in full], ignore_index=True)
    attribution = Attribution(
        findings=findings,
        handoffs=_handoff_map(edges),
        callouts=_callouts(pd.concat([f["formats"] for f in full], ignore_index=True)),
        matches=_NO_MATCHES,
        findings_by_cause=count_by_cause(findings),
        explained_share=explained / covered if covered else float("nan"),
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


_NO_MATCHES = pd.DataFrame({BUSINESS_EVENT: pd.Series(dtype="int64")})


def _handoff_map(edges: pd.DataFrame) -> pd.DataFrame:
    """``match.map_handoffs``' table from every bucket's normal deliveries."""
    table = (
        edges.assign(doubled=edges["copies"] > 0)
        .groupby(EDGE)
        .agg(
            events=("received", "size"), matched=("received", "sum"), duplicated=("doubled", "sum")
        )
    )
    table["missing"] = table["events"] - table["matched"]
    table["missing_share"] = table["missing"] / table["events"]
    table["source_formats"] = _format_lists(edges, "source_format")
    table["target_formats"] = _format_lists(edges, "target_format")
    latency = edges[edges["received"]].groupby(EDGE)[LATENCY_H]
    table["latency_p50_h"] = latency.quantile(0.5)
    table["latency_p95_h"] = latency.quantile(0.95)
    table = table.reset_index().reindex(columns=HANDOFF_COLUMNS)
    table = table.astype({c: np.int64 for c in ("events", "matched", "missing", "duplicated")})
    return table.sort_values(EDGE, ignore_index=True)


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
            -table["_window"].to_numpy(dtype=float),
            -at_risk,
            -table["expected_value"].to_numpy(dtype=float),
        )
    )
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table[list(COUNT_LIST_COLUMNS)]


def _callouts(stats: pd.DataFrame) -> list[str]:
    """``match.format_callouts`` from every bucket's counts per target, kind, system, format."""
    rules = RULES.match
    group = [TARGET, KIND, SYSTEM]
    stats = stats.groupby([*group, REF_FORMAT])[["events", "missing"]].sum().reset_index()
    totals = stats.groupby(group)[["events", "missing"]].transform("sum")
    other_events = totals["events"] - stats["events"]
    other_missing = totals["missing"] - stats["missing"]
    other_share = (other_missing / other_events.where(other_events > 0)).fillna(0.0)
    hit = (
        (stats["missing"] >= rules.callout_min_missing)
        & (stats["missing"] >= 0.5 * stats["events"])
        & (other_share <= rules.callout_other_share)
    )
    stats = stats.assign(other_events=other_events, other_missing=other_missing)[hit]
    stats = stats.sort_values(
        ["missing", TARGET, KIND, SYSTEM], ascending=[False, True, True, True]
    )
    return [
        f"{r.target} never received {r.missing} of {r.events} {r.kind}s whose "
        f"{r.system} reference looks like `{r.ref_format}` (all other formats: "
        f"{r.other_missing} missing of {r.other_events})"
        for r in stats.itertuples(index=False)
    ]


def _record_accuracy(table: pd.DataFrame) -> dict[str, Any]:
    """System → share of counted keys where its record was exact (as in ``summary.json``)."""
    pairs = zip(table[SYSTEM], table["record_accuracy"], strict=True)
    return {str(system): _plain(share) for system, share in pairs} if len(table) else {}


def _plain(value: Any) -> Any:
    """JSON-safe scalars: numpy numbers to Python, NaN to None."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
