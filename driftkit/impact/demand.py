"""Censoring-aware daily demand per key: shipments or stock declines, rate, profile, class.

Days a key could not sell are left out of its demand (definitions in ``docs/impact.md``).
What every part's demand shares — whether shipments exist, the client's shipped days, the
pooled weekday profile — is decided over all parts in :mod:`driftkit.impact.pooled`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import Grid
from driftkit.impact.credibility import RatePrior, credible_rate
from driftkit.impact.shipments import DaySpan, daily_shipments

MIN_DAYS_FOR_WEEKDAY_PROFILE = 28  # four of each weekday before a weekday profile is used


class Tables(Protocol):
    """The canonical tables the cost model reads (``driftkit.load.client.ClientData`` has them)."""

    @property
    def snapshots(self) -> pd.DataFrame: ...
    @property
    def events(self) -> pd.DataFrame: ...
    @property
    def catalog(self) -> pd.DataFrame: ...
    @property
    def counts(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Demand:
    """Censoring-aware demand per key.

    Attributes
    ----------
    rate, sd
        Mean and standard deviation (ddof 1; 0 with fewer than 2 days) of daily units
        over the key's sellable observed days, zero days included.
    expected
        ``[key, day]`` expected units: rate × weekday index of the day.
    weekday_index
        Seven factors (Monday first) averaging 1; all 1 when the window is too short.
    table
        ``demand_rate, demand_sd, sellable_days, censored_days, demand_days, adi, cv2,
        demand_class, credible_rate``.
    credible
        ``[key, day]`` expected units at the key's credible rate
        (:func:`driftkit.impact.credibility.credible_rate`) × weekday index: what a stockout
        day is charged; None: ``expected``.
    """

    rate: np.ndarray
    sd: np.ndarray
    expected: np.ndarray
    weekday_index: np.ndarray
    table: pd.DataFrame
    credible: np.ndarray | None = None

    def stockout_expected(self) -> np.ndarray:
        """``[key, day]`` expected units on a stockout day: ``credible``, else ``expected``."""
        return self.expected if self.credible is None else self.credible


def observed_demand(
    events: pd.DataFrame,
    grid: Grid,
    config: ClientConfig,
    *,
    shipped: DaySpan | None,
    shipments: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Daily units per ``[key, day]`` and where they are known.

    ``shipped`` is the client's first and last shipment day
    (:attr:`driftkit.impact.pooled.DemandFacts.shipped`): units are the part's shipments,
    observed on those days.  None when the client records no shipment: units are the
    authority's stock declines (:func:`snapshot_declines`).  ``shipments`` is the part's
    :func:`daily_shipments` when the caller already has it.
    """
    if shipped is None:
        return snapshot_declines(grid.values[grid.index(grid.authority)])
    units = daily_shipments(events, grid, config)[0] if shipments is None else shipments
    observed = (grid.days >= shipped[0]) & (grid.days <= shipped[1])
    return units, np.broadcast_to(np.asarray(observed), units.shape)


def snapshot_declines(on_hand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Units gone per ``[key, day]``: max(0, v(D−1) − v(D)), observed where both days are known."""
    before = np.concatenate([np.full((on_hand.shape[0], 1), np.nan), on_hand[:, :-1]], axis=1)
    change = before - on_hand
    return np.nan_to_num(np.maximum(change, 0.0)), ~np.isnan(change)


def estimate_demand(
    units: np.ndarray,
    observed: np.ndarray,
    censored: np.ndarray,
    days: pd.DatetimeIndex,
    weekday: np.ndarray,
    prior: RatePrior | None = None,
) -> Demand:
    """Mean, deviation and weekday profile of daily demand over sellable observed days.

    Parameters
    ----------
    units
        ``[key, day]`` units shipped (or stock declines).
    observed
        ``[key, day]`` True where ``units`` is known.
    censored
        ``[key, day]`` True where the key could not sell (recorded stockout or phantom
        stockout): sales there say nothing about demand and are left out.
    days
        The grid's local days.
    weekday
        Seven weekday factors (Monday first) pooled over every key of the client
        (:func:`driftkit.impact.pooled.weekday_profile`).
    prior
        The client's rate prior (:attr:`driftkit.impact.pooled.DemandFacts.prior`); None:
        no shrinking (``credible_rate`` = ``demand_rate``).
    """
    use = observed & ~censored
    n = use.sum(axis=1)
    total = np.where(use, units, 0.0).sum(axis=1)
    rate = np.divide(total, n, out=np.zeros(len(n)), where=n > 0)
    credible = credible_rate(rate, n, prior or RatePrior())
    squares = np.where(use, (units - rate[:, None]) ** 2, 0.0).sum(axis=1)
    sd = np.sqrt(np.divide(squares, n - 1, out=np.zeros(len(n)), where=n > 1))
    factor = weekday[days.day_of_week.to_numpy()][None, :]
    expected = rate[:, None] * factor
    nonzero = (use & (units > 0)).sum(axis=1)
    sizes = _cv2_of_sizes(units, use & (units > 0))
    adi = np.divide(n, nonzero, out=np.full(len(n), np.inf), where=nonzero > 0)
    table = pd.DataFrame(
        {
            "demand_rate": rate,
            "demand_sd": sd,
            "sellable_days": n,
            "censored_days": (observed & censored).sum(axis=1),
            "demand_days": nonzero,
            "adi": adi,
            "cv2": sizes,
            "demand_class": demand_class(adi, sizes, nonzero),
            "credible_rate": credible,
        }
    )
    return Demand(rate, sd, expected, weekday, table, credible[:, None] * factor)


def _cv2_of_sizes(units: np.ndarray, nonzero: np.ndarray) -> np.ndarray:
    count = nonzero.sum(axis=1)
    mean = np.divide(
        np.where(nonzero, units, 0.0).sum(axis=1), count, where=count > 0, out=np.zeros(len(count))
    )
    var = np.divide(
        np.where(nonzero, (units - mean[:, None]) ** 2, 0.0).sum(axis=1),
        count,
        where=count > 0,
        out=np.zeros(len(count)),
    )
    return np.divide(var, mean**2, out=np.zeros(len(count)), where=mean > 0)


def demand_class(adi: np.ndarray, cv2: np.ndarray, demand_days: np.ndarray) -> np.ndarray:
    """Syntetos–Boylan–Croston class: smooth, erratic, intermittent, lumpy (none: no demand).

    Cut-offs ADI 1.32 and CV² 0.49 (Syntetos, Boylan & Croston 2005).
    """
    classes = np.array(["smooth", "erratic", "intermittent", "lumpy"], dtype=object)
    code = (adi > 1.32).astype(int) * 2 + (cv2 > 0.49).astype(int)
    return np.where(demand_days > 0, classes[code], "none")
