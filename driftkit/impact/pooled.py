"""What every part's demand shares (DESIGN §7, §12): shipments, shipped days, weekday profile,
the credibility prior of the rates.

Demand is read from shipments when the client records any, observed from the client's first
to its last shipment day, shaped by a weekday profile pooled over every key, and each key's
rate on its stockout days is shrunk toward the client's (:mod:`driftkit.impact.credibility`).  None of
these is known inside one part (a SKU bucket, or the whole client in process): each part
returns its piece (:func:`demand_part`), :func:`demand_facts` combines the pieces, and every
part's demand then uses the same :class:`DemandFacts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import Grid
from driftkit.impact.credibility import RatePrior, rate_prior, rate_sums
from driftkit.impact.demand import MIN_DAYS_FOR_WEEKDAY_PROFILE, Tables, observed_demand
from driftkit.impact.recount import location_sums
from driftkit.impact.shipments import NO_SPAN, DaySpan, daily_shipments
from driftkit.impact.stock import censored_days, stock_records
from driftkit.schema import KIND, EventKind

#: Every day: a part's weekday sums count all days until the client's shipped days are known.
_EVERY_DAY: DaySpan = (pd.Timestamp.min, pd.Timestamp.max)


@dataclass(frozen=True)
class DemandFacts:
    """What every part's demand shares, decided over the whole client.

    Attributes
    ----------
    shipments
        Whether the client records any shipment event: demand is read from shipments,
        else from the authority's stock declines.
    shipped
        The client's first and last local shipment day (NaT when none): the days demand
        is observed on when ``shipments``.
    weekday
        Seven weekday factors (Monday first) pooled over every key; all ones when the
        window is shorter than :data:`MIN_DAYS_FOR_WEEKDAY_PROFILE` or holds no demand.
    prior
        Bühlmann–Straub parameters of the per-key rates (no shrinking by default).
    overstated
        Per location, the count history's Σ overstated units and Σ seconds
        (:func:`driftkit.impact.recount.location_sums`); None when not gathered.
    """

    shipments: bool = False
    shipped: DaySpan = NO_SPAN
    weekday: np.ndarray = field(default_factory=lambda: np.ones(7))
    prior: RatePrior = field(default_factory=RatePrior)
    overstated: pd.DataFrame | None = None

    @property
    def observed_span(self) -> DaySpan | None:
        """``shipped`` when demand is read from shipments, else None (stock declines)."""
        return self.shipped if self.shipments else None


@dataclass(frozen=True)
class DemandPart:
    """One part's piece of the :class:`DemandFacts`.

    Attributes
    ----------
    shipped
        First and last local shipment day of the part's keys (NaT when none).
    day_units, day_cells
        Per window day, Σ over the part's keys of sellable observed units and of sellable
        observed key-days (every day counts as observed with shipments: the client's
        shipped days are applied on combine); None when no weekday profile is pooled.
    rates
        :func:`driftkit.impact.credibility.rate_sums` of the part's keys over the same
        days (with shipments every day: the client's shipped days are not known yet).
    overstated
        The part's :func:`driftkit.impact.recount.location_sums` (None: not gathered).
    """

    shipped: DaySpan = NO_SPAN
    day_units: np.ndarray | None = None
    day_cells: np.ndarray | None = None
    rates: np.ndarray | None = None
    overstated: pd.DataFrame | None = None


def has_shipments(events: pd.DataFrame) -> bool:
    """Whether ``events`` holds a shipment event (then demand is read from shipments)."""
    return bool(len(events)) and bool((events[KIND] == str(EventKind.SHIPMENT)).any())


def pools_weekdays(days: pd.DatetimeIndex) -> bool:
    """Whether the window is long enough for a weekday profile (≥ 28 days)."""
    return len(days) >= MIN_DAYS_FOR_WEEKDAY_PROFILE


def client_demand(data: Tables, grid: Grid, config: ClientConfig) -> DemandFacts:
    """The demand facts of a client held as one part (in process): its piece, combined."""
    shipments = has_shipments(data.events)
    part = demand_part(data, grid, config, shipments=shipments)
    part = replace(part, overstated=location_sums(data, config))
    return demand_facts([part], grid.days, shipments=shipments)


def demand_part(data: Tables, grid: Grid, config: ClientConfig, *, shipments: bool) -> DemandPart:
    """One part's piece of the demand facts: its shipped span, weekday sums and rate sums.

    Parameters
    ----------
    data
        The part's canonical tables (``snapshots``, ``events``).
    grid
        The part's grid on the client's window.
    config
        Client config.
    shipments
        Whether the client (any part) records shipments (:func:`has_shipments`).
    """
    shipped_units, shipped = (
        daily_shipments(data.events, grid, config) if shipments else (None, NO_SPAN)
    )
    units, use = sellable_units(data, grid, config, shipments=shipped_units)
    if not pools_weekdays(grid.days):
        return DemandPart(shipped, rates=rate_sums(units, use))
    day_units = np.where(use, units, 0.0).sum(axis=0)
    return DemandPart(shipped, day_units, use.sum(axis=0).astype(np.float64), rate_sums(units, use))


def sellable_units(
    data: Tables, grid: Grid, config: ClientConfig, *, shipments: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``[key, day]`` daily units and where they are sellable and observed.

    ``shipments`` is the part's :func:`~driftkit.impact.demand.daily_shipments` when the
    client records shipments, else None (units are stock declines).  With shipments every
    day counts here (the client's first..last shipment day is not known yet);
    :func:`weekday_profile` masks the combined sums to it.
    """
    stock = stock_records(data.snapshots, grid, config)
    censored = censored_days(stock, config.tolerance)
    span = _EVERY_DAY if shipments is not None else None
    units, observed = observed_demand(data.events, grid, config, shipped=span, shipments=shipments)
    return units, observed & ~censored


def demand_facts(
    parts: list[DemandPart], days: pd.DatetimeIndex, *, shipments: bool
) -> DemandFacts:
    """The demand facts of the client, from every part's piece.

    Parameters
    ----------
    parts
        One :class:`DemandPart` per part (one for the whole client in process).
    days
        The client's window (local days).
    shipments
        Whether any part records shipments.
    """
    shipped = shipped_days([p.shipped for p in parts])
    weekday = weekday_profile(parts, days, shipped=shipped if shipments else None)
    prior = rate_prior([p.rates for p in parts if p.rates is not None])
    sums = [p.overstated for p in parts if p.overstated is not None]
    overstated = pd.concat(sums).groupby(level=0).sum() if sums else None
    return DemandFacts(shipments, shipped, weekday, prior, overstated)


def shipped_days(spans: list[DaySpan]) -> DaySpan:
    """The client's first and last shipment day, over every part's span (NaT when none)."""
    firsts = [s[0] for s in spans if not pd.isna(s[0])]
    lasts = [s[1] for s in spans if not pd.isna(s[1])]
    return (min(firsts), max(lasts)) if firsts else NO_SPAN


def weekday_profile(
    parts: list[DemandPart], days: pd.DatetimeIndex, *, shipped: DaySpan | None
) -> np.ndarray:
    """Seven multiplicative weekday factors (Monday first), pooled over every part's keys.

    Factor w = mean units on weekday w ÷ mean units on all days, over sellable observed
    key-days (only ``shipped`` days when demand is read from shipments); all ones when the
    window has fewer than :data:`MIN_DAYS_FOR_WEEKDAY_PROFILE` days or no demand.
    """
    if not pools_weekdays(days):
        return np.ones(7)
    units = np.sum([p.day_units for p in parts if p.day_units is not None], axis=0)
    cells = np.sum([p.day_cells for p in parts if p.day_cells is not None], axis=0)
    if shipped is not None:
        observed = np.asarray((days >= shipped[0]) & (days <= shipped[1]))
        units, cells = np.where(observed, units, 0.0), np.where(observed, cells, 0.0)
    weekday = days.day_of_week.to_numpy()
    sums = np.bincount(weekday, weights=units, minlength=7)
    counts = np.bincount(weekday, weights=cells, minlength=7)
    overall = sums.sum() / max(counts.sum(), 1)
    if overall <= 0 or (counts == 0).any():
        return np.ones(7)
    return np.asarray((sums / counts) / overall)
