"""What every bucket of a partitioned audit shares (DESIGN §12): the plan and pass 1.

Pass 1 (:func:`scan_bucket`) reads a few columns of each bucket: the window, the systems,
each system's event export span and whether shipments are recorded.  :class:`Plan` carries
those facts, and the ones pass 2 adds, to every bucket; :func:`read_bucket` and
:func:`bucket_grid` give a worker its bucket's tables and its grid on the global window.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftkit import schema
from driftkit.causes.context import (
    AttributionRules,
)
from driftkit.causes.event_detectors import HandoffStats
from driftkit.causes.match import Samples
from driftkit.config import ClientConfig
from driftkit.drift.align import Grid, align
from driftkit.errors import InputError
from driftkit.load.client import ClientData
from driftkit.load.ingest import BUCKETED, read_processed
from driftkit.schema import (
    AS_OF,
    KIND,
    OCCURRED_AT,
    RECORDED_AT,
    SYSTEM,
    EventKind,
)

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
        Grid systems in :func:`driftkit.drift.align.align` order over the whole client.
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


@dataclass(frozen=True)
class Scan:
    """Pass 1 of one bucket: as_of range, systems, event export spans, shipments seen."""

    first: pd.Timestamp  # earliest as_of (NaT without snapshots)
    last: pd.Timestamp
    systems: frozenset[str]
    span: pd.DataFrame  # system → min, max applied_at
    shipments: bool


def scan_bucket(path: Path, bucket: int) -> Scan:
    """Pass 1 over one bucket, reading a few columns: as_of range, systems, event spans."""
    snaps = read_columns(path, "snapshots", bucket, [SYSTEM, AS_OF])
    events = read_columns(path, "events", bucket, [SYSTEM, KIND, OCCURRED_AT, RECORDED_AT])
    applied = events[RECORDED_AT].fillna(events[OCCURRED_AT])
    return Scan(
        first=snaps[AS_OF].min(),
        last=snaps[AS_OF].max(),
        systems=frozenset(str(s) for s in snaps[SYSTEM].unique()),
        span=applied.groupby(events[SYSTEM]).agg(["min", "max"]),
        shipments=bool((events[KIND] == str(EventKind.SHIPMENT)).any()),
    )


def read_columns(path: Path, table: str, bucket: int, columns: list[str]) -> pd.DataFrame:
    """A few columns of one bucket of ``table`` (empty, typed, when the bucket has none)."""
    files = sorted((path / table / f"bucket={bucket:02d}").glob("*.parquet"))
    if not files:
        return schema.empty(table)[columns]
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files]).to_pandas()


def window(scans: list[Scan], tz: str, start: date | None, end: date | None) -> DaySpan:
    """The window as :func:`driftkit.drift.align.align` decides it, from every bucket's as_of range.

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


def grid_systems(found: frozenset[str], config: ClientConfig) -> tuple[str, ...]:
    """Systems in the order :func:`driftkit.drift.align.align` gives them for the whole client."""
    ordered = [s for s in config.systems if s in found or s == config.authority]
    if config.authority and config.authority not in ordered:
        ordered.append(config.authority)
    ordered += [s for s in sorted(found) if s not in ordered]
    return tuple(ordered)


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


@dataclass(frozen=True)
class Profile:
    """Pass 2 of one bucket: parts of the handoff statistics, shipment days, weekday sums."""

    shares: pd.DataFrame  # target, family, location → received, deliveries, received_others, others
    latencies: Samples  # (target, family, location) → latency_h of received deliveries
    last_received: pd.Series  # target → last received_at
    delays: Samples  # (system, kind) → record delay (h)
    shipped: DaySpan
    day_units: np.ndarray | None  # Σ over keys of sellable observed units per day
    day_cells: np.ndarray | None  # Σ over keys of sellable observed key-days per day
