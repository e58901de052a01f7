"""What every part of an audit shares (DESIGN §12): the plan, pass 1 and the part's grid.

Pass 1 (:func:`scan`) looks at a few columns of each part: the window, the systems, each
system's event export span and whether shipments are recorded.  :class:`Plan` carries those
facts, and the ones pass 2 adds (:class:`Profile`), to every part; :func:`part_grid` aligns a
part on the global window and systems.  A part is one SKU bucket of an ingest folder
(:mod:`driftkit.scale.bucket`) or, in process, the whole client.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from driftkit.causes.context import (
    AttributionRules,
)
from driftkit.causes.stats import HandoffStats, StatsPart, export_spans
from driftkit.config import ClientConfig
from driftkit.drift.align import Grid, align
from driftkit.drift.locations import located_systems, place_unlocated
from driftkit.drift.measures import measure_notes
from driftkit.errors import InputError
from driftkit.impact.pooled import DemandFacts, DemandPart, has_shipments
from driftkit.impact.shipments import DaySpan
from driftkit.load.client import ClientData
from driftkit.schema import (
    AS_OF,
    LOCATION,
    SKU,
    SYSTEM,
    Measure,
)

RULES = AttributionRules()


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
        The client config and its ingest folder (``data/processed/<client>``); None when
        the audit runs in process on tables already in memory.
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
    handoffs
        :class:`HandoffStats`.
    demand
        :class:`~driftkit.impact.pooled.DemandFacts`: whether the client records shipments
        (pass 1), its first and last shipment day and the pooled weekday profile (pass 2).
    parts
        Where workers store their per-key tables as Parquet parts
        (:mod:`driftkit.scale.stored`); None when the audit runs in process.
    """

    config: ClientConfig
    path: Path | None
    start: pd.Timestamp
    end: pd.Timestamp
    systems: tuple[str, ...]
    found: tuple[str, ...]
    full: bool = True
    span: pd.DataFrame = field(default_factory=_no_span)
    handoffs: HandoffStats = field(default_factory=HandoffStats)
    demand: DemandFacts = field(default_factory=DemandFacts)
    unlocated: tuple[str, ...] = ()  # systems naming no location (drift.locations)
    parts: Path | None = None

    @property
    def days(self) -> pd.DatetimeIndex:
        """The window's local days."""
        return pd.date_range(self.start, self.end, freq="D")


@dataclass(frozen=True)
class Scan:
    """Pass 1 of one part: as_of range, systems, event export spans, shipments seen."""

    first: pd.Timestamp  # earliest as_of (NaT without snapshots)
    last: pd.Timestamp
    systems: frozenset[str]
    span: pd.DataFrame  # system → min, max applied_at
    shipments: bool
    located: frozenset[str] = frozenset()  # systems with a row off the default location


def scan(snaps: pd.DataFrame, events: pd.DataFrame, *, default_location: str | None = None) -> Scan:
    """Pass 1 over one part: as_of range, systems, event export spans, shipments seen.

    Parameters
    ----------
    snaps
        The part's snapshots (at least ``system, as_of``).
    events
        The part's events (at least ``system, kind, occurred_at, recorded_at``).
    default_location
        The client's default location: systems with a snapshot elsewhere are ``located``
        (needs ``location`` in ``snaps``); None: not looked at.
    """
    located = frozenset[str]()
    if default_location is not None and LOCATION in snaps:
        located = located_systems(snaps, default_location)
    return Scan(
        first=snaps[AS_OF].min(),
        last=snaps[AS_OF].max(),
        systems=frozenset(str(s) for s in snaps[SYSTEM].unique()),
        span=export_spans(events),
        shipments=has_shipments(events),
        located=located,
    )


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


def keyless_grid(plan: Plan, notes: tuple[str, ...] = ()) -> Grid:
    """A grid without keys: the client's systems, days and authority (and ``notes``)."""
    keys = pd.DataFrame({SKU: pd.Series(dtype="str"), LOCATION: pd.Series(dtype="str")})
    values = np.empty((len(plan.systems), 0, len(plan.days)))
    return Grid(keys, plan.systems, plan.days, values, plan.config.authority, notes)


def summed_measure_notes(counts: pd.DataFrame, plan: Plan) -> tuple[str, ...]:
    """``align``'s notes about derived or unknown measures, from the parts' summed row
    counts (``part.note_counts``: ``rows, derived, unknown`` per system)."""
    counts = counts.reindex(list(plan.systems), fill_value=0).astype(int)
    return measure_notes(
        plan.systems,
        counts["rows"].to_numpy(),
        counts["derived"].to_numpy(),
        counts["unknown"].to_numpy(),
        Measure(plan.config.measure),
    )


def part_grid(data: ClientData, plan: Plan) -> Grid:
    """The part's grid on the global window, with every system of the client."""
    grid = align(data.snapshots, plan.config, start=plan.start, end=plan.end)
    if grid.systems == plan.systems:
        return grid
    values = np.full((len(plan.systems), *grid.values.shape[1:]), np.nan)
    for position, system in enumerate(grid.systems):  # a handful of systems, not data rows
        values[plan.systems.index(system)] = grid.values[position]
    return dataclasses.replace(grid, systems=plan.systems, values=values)


def place_part(plan: Plan, data: ClientData) -> tuple[ClientData, pd.DataFrame]:
    """The part with its unlocated systems' rows placed (:mod:`driftkit.drift.locations`),
    and the placement counts (``system, location, skus``)."""
    default = plan.config.default_location
    snaps, events, counts = place_unlocated(data.snapshots, data.events, plan.unlocated, default)
    return dataclasses.replace(data, snapshots=snaps, events=events), counts


@dataclass(frozen=True)
class Profile:
    """Pass 2 of one part: parts of the handoff statistics, shipment days, weekday sums."""

    handoffs: StatsPart  # the part's pieces of the handoff statistics
    demand: DemandPart  # the part's shipment days and weekday demand sums
