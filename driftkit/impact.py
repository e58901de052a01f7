"""What drift costs (DESIGN §7): demand, phantom stockouts, oversell, reorder, safety stock.

Every quantity is an array ``[key, day]`` on the grid of :func:`driftkit.align.align`
(key codes and local days shared with the comparison), reduced per key with numpy.
Definitions, parameters, defaults and their sources: ``docs/impact.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from driftkit import inventory_theory as theory
from driftkit.align import Grid, align
from driftkit.config import ClientConfig, ImpactParams
from driftkit.countlist import KeyState, count_list, last_observed
from driftkit.schema import (
    AVAILABLE,
    CATEGORY,
    EVENT_ID,
    KIND,
    LOCATION,
    OCCURRED_AT,
    QTY_DELTA,
    REFERENCE,
    SELLING_KINDS,
    SKU,
    SYSTEM,
    UNIT_COST,
    UNIT_PRICE,
    EventKind,
    Measure,
    SystemKind,
)

DAYS_PER_YEAR = 365.0
CONTAMINATED_SHARE = 0.05  # a key's demand history is contaminated above this unseen share
MIN_DAYS_FOR_WEEKDAY_PROFILE = 28  # four of each weekday before a weekday profile is used
NO_CATEGORY = "(none)"
HOLDER_KINDS = frozenset({SystemKind.WMS, SystemKind.THREE_PL})  # systems that hold stock

PER_KEY_COLUMNS = (
    SKU,
    LOCATION,
    "demand_rate",
    "demand_sd",
    "phantom_days",
    "lost_sales_units",
    "lost_revenue",
    "oversell_units",
    "pick_failure_cost",
    "reorder_delay_days",
    "safety_stock",
    "safety_stock_inflated",
    "extra_safety_stock_units",
    "extra_capital",
    "forecast_bias_share",
    "contaminated",
    "expected_value",
    "error_system",
    "record_error_sd",
    "reorder_point",
    "stockout_days_after_reorder",
    "demand_class",
    "suspected_phantom_days",
    "suspected_lost_sales_units",
    "suspected_lost_revenue",
)


class Tables(Protocol):
    """The canonical tables the cost model reads (``driftkit.loaders.ClientData`` has them)."""

    @property
    def snapshots(self) -> pd.DataFrame: ...
    @property
    def events(self) -> pd.DataFrame: ...
    @property
    def catalog(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Stock:
    """Stock records on the grid that the cost model compares, all ``[..., key, day]``.

    Attributes
    ----------
    authority
        The authority's sellable stock: its ``available`` where known, else its ``on_hand``.
    selling
        ``[selling system, key, day]``: each storefront/marketplace's ``available`` (its
        compared measure where available is unknown); NaN = absent.
    selling_systems
        Names of the first axis of ``selling``.
    drift
        ``[non-authority system, key, day]``: v_s − v_authority of the grid's measure.
    drift_systems
        Names of the first axis of ``drift``.
    others
        ``[key, day]``: the largest sellable stock recorded by a non-authority system that
        does not sell (ERP, 3PL); NaN where none records the key.
    """

    authority: np.ndarray
    selling: np.ndarray
    selling_systems: tuple[str, ...]
    drift: np.ndarray
    drift_systems: tuple[str, ...]
    others: np.ndarray | None = None


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
        ``sku, location, demand_rate, demand_sd, sellable_days, censored_days,
        demand_days, adi, cv2, demand_class``.
    """

    rate: np.ndarray
    sd: np.ndarray
    expected: np.ndarray
    weekday_index: np.ndarray
    table: pd.DataFrame


@dataclass(frozen=True)
class Impact:
    """What the drift of one audit costs.

    Attributes
    ----------
    per_key
        ``impact.csv``: one row per key; columns :data:`PER_KEY_COLUMNS` (docs/impact.md).
    count_list
        ``count_list.csv``: ``rank, sku, location, system, expected_value, reason,
        drift_units, cause`` (see :func:`driftkit.countlist.count_list`).
    projection
        ``week, metric, estimate, low, high, scenario`` (see :func:`project`).
    totals
        ``phantom_stockout_sku_days, lost_sales_units, lost_revenue, oversell_units,
        pick_failure_cost, extra_safety_stock_capital, forecast_bias_share``.
    demand
        The :class:`Demand` table per key.
    fixes
        Handoff failures ranked by attributed value (empty without attribution).
    """

    per_key: pd.DataFrame
    count_list: pd.DataFrame
    projection: pd.DataFrame
    totals: dict[str, float | int]
    demand: pd.DataFrame
    fixes: pd.DataFrame
    weekday_index: tuple[float, ...] = ()


# --- stock records ---------------------------------------------------------------------------


def stock_records(snapshots: pd.DataFrame, grid: Grid, config: ClientConfig) -> Stock:
    """The authority's sellable stock, the selling systems' available and drift vs authority.

    ``available`` is aligned with the same as-of rule as ``grid`` (align on a config copy
    whose measure is ``available``); where a system's available is unknown its grid value
    (the compared measure) stands in.
    """
    available = _measure_on(grid, snapshots, config, Measure.AVAILABLE)
    sellable = np.where(np.isnan(available), grid.values, available)
    authority = grid.index(grid.authority)
    kinds = {s: c.kind for s, c in config.systems.items()}
    selling = tuple(s for s in grid.systems if kinds.get(s) in SELLING_KINDS)
    others = tuple(s for s in grid.systems if s != grid.authority)
    rows = [grid.index(s) for s in others]
    planning = [grid.index(s) for s in others if s not in selling]
    return Stock(
        authority=sellable[authority],
        selling=sellable[[grid.index(s) for s in selling]],
        selling_systems=selling,
        drift=grid.values[rows] - grid.values[authority][None],
        drift_systems=others,
        others=_fmax(sellable[planning]) if planning else None,
    )


def _fmax(values: np.ndarray) -> np.ndarray:
    """Max over the first axis ignoring NaN (NaN where all are NaN), without warnings."""
    return np.asarray(np.fmax.reduce(values, axis=0))


def _measure_on(
    grid: Grid, snapshots: pd.DataFrame, config: ClientConfig, measure: Measure
) -> np.ndarray:
    """``measure`` aligned on ``grid``'s systems, keys and days (NaN where absent)."""
    if config.measure == measure:
        return grid.values
    if measure not in snapshots.columns and AVAILABLE not in snapshots.columns:
        return np.full(grid.values.shape, np.nan)
    other = align(
        snapshots,
        dataclasses.replace(config, measure=measure),
        start=grid.days[0].date(),
        end=grid.days[-1].date(),
    )
    out = np.full(grid.values.shape, np.nan)
    key_at = _key_index(grid.keys).get_indexer(_key_index(other.keys))
    for position, system in enumerate(other.systems):
        if system in grid.systems:
            found = key_at >= 0
            out[grid.index(system), key_at[found]] = other.values[position, found]
    return out


def _key_index(keys: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([keys[SKU].to_numpy(), keys[LOCATION].to_numpy()])


# --- demand ----------------------------------------------------------------------------------


def daily_shipments(
    events: pd.DataFrame, grid: Grid, timezone: str, preferred: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray] | None:
    """Units shipped per ``[key, day]`` from one system's shipment events, and the observed mask.

    Shipments are mirrored across systems, so each key's are read from one system: the
    first of ``preferred`` (the authority, then the stock holders: wms, 3pl) that records
    shipments for the key, else the system with the most shipment events for it.  A
    replayed delivery (same system, key, kind and reference, or same event id) counts
    once.  Days outside the first..last shipment day are unobserved.  None when no system
    has shipment events.
    """
    ships = events[events[KIND] == EventKind.SHIPMENT]
    if ships.empty:
        return None
    key = _key_index(grid.keys).get_indexer(pd.MultiIndex.from_frame(ships[[SKU, LOCATION]]))
    ships = _deduplicated(ships.assign(_key=key)[key >= 0])
    ships = ships[
        ships[SYSTEM] == _source_per_key(ships, preferred).reindex(ships["_key"]).to_numpy()
    ]
    local = ships[OCCURRED_AT].dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    day = grid.days.get_indexer(pd.DatetimeIndex(local))
    units = np.abs(ships[QTY_DELTA].to_numpy(dtype=np.float64, na_value=np.nan))
    keep = (day >= 0) & ~np.isnan(units)
    out = np.zeros(grid.values.shape[1:])
    np.add.at(out, (ships["_key"].to_numpy()[keep], day[keep]), units[keep])
    observed = (grid.days >= local.min()) & (grid.days <= local.max())
    return out, np.broadcast_to(np.asarray(observed), out.shape)


def _source_per_key(ships: pd.DataFrame, preferred: tuple[str, ...]) -> pd.Series:
    """Key code → the system whose shipments count for it."""
    counts = ships.groupby(["_key", SYSTEM]).size().rename("events").reset_index()
    rank = {system: i for i, system in enumerate(preferred)}
    counts["rank"] = counts[SYSTEM].map(rank).fillna(len(rank))
    counts = counts.sort_values(["_key", "rank", "events"], ascending=[True, True, False])
    return counts.drop_duplicates("_key").set_index("_key")[SYSTEM]


def _deduplicated(events: pd.DataFrame) -> pd.DataFrame:
    with_ref = events[REFERENCE].notna()
    by_ref = events[with_ref].drop_duplicates([SYSTEM, SKU, LOCATION, KIND, REFERENCE])
    rest = events[~with_ref]
    rest = pd.concat(
        [rest[rest[EVENT_ID].isna()], rest[rest[EVENT_ID].notna()].drop_duplicates(EVENT_ID)]
    )
    return pd.concat([by_ref, rest])


def snapshot_declines(on_hand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Units gone per ``[key, day]``: max(0, v(D−1) − v(D)), observed where both days are known."""
    before = np.concatenate([np.full((on_hand.shape[0], 1), np.nan), on_hand[:, :-1]], axis=1)
    change = before - on_hand
    return np.nan_to_num(np.maximum(change, 0.0)), ~np.isnan(change)


def estimate_demand(
    units: np.ndarray, observed: np.ndarray, censored: np.ndarray, days: pd.DatetimeIndex
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
        The grid's local days (for the weekday profile).
    """
    use = observed & ~censored
    n = use.sum(axis=1)
    total = np.where(use, units, 0.0).sum(axis=1)
    rate = np.divide(total, n, out=np.zeros(len(n)), where=n > 0)
    squares = np.where(use, (units - rate[:, None]) ** 2, 0.0).sum(axis=1)
    sd = np.sqrt(np.divide(squares, n - 1, out=np.zeros(len(n)), where=n > 1))
    index = weekday_index(units, use, days)
    expected = rate[:, None] * index[days.day_of_week.to_numpy()][None, :]
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
        }
    )
    return Demand(rate, sd, expected, index, table)


def weekday_index(units: np.ndarray, use: np.ndarray, days: pd.DatetimeIndex) -> np.ndarray:
    """Seven multiplicative weekday factors (Monday first), pooled over keys.

    Factor w = mean units on weekday w ÷ mean units on all days, over sellable observed
    key-days; all ones when the window has fewer than
    :data:`MIN_DAYS_FOR_WEEKDAY_PROFILE` days or no demand.
    """
    weekday = days.day_of_week.to_numpy()
    if len(days) < MIN_DAYS_FOR_WEEKDAY_PROFILE:
        return np.ones(7)
    sums = np.bincount(weekday, weights=np.where(use, units, 0.0).sum(axis=0), minlength=7)
    cells = np.bincount(weekday, weights=use.sum(axis=0), minlength=7)
    overall = sums.sum() / max(cells.sum(), 1)
    if overall <= 0 or (cells == 0).any():
        return np.ones(7)
    return np.asarray((sums / cells) / overall)


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


# --- phantom stockouts, oversell -------------------------------------------------------------


def phantom_stockouts(stock: Stock, tolerance: float) -> np.ndarray:
    """``[key, day]``: a selling system shows ≤ 0 available while the authority holds stock.

    The authority holds stock when its sellable stock (available, else on_hand) exceeds
    ``tolerance``.  Absent cells are never phantom.
    """
    shows_none = (stock.selling <= 0).any(axis=0) if len(stock.selling_systems) else False
    return np.asarray(shows_none & (stock.authority > tolerance))


def suspected_phantom_stockouts(stock: Stock, tolerance: float) -> np.ndarray:
    """``[key, day]``: a selling system and the authority show ≤ 0, another record holds stock.

    The authority itself may be wrong (a receipt that reached the ERP but not the WMS):
    when a non-selling, non-authority record (ERP, 3PL) shows more than ``tolerance`` while
    the authority and a selling system show none, the day is a *suspected* phantom
    stockout.  Reported apart from the DESIGN §7 count.
    """
    if stock.others is None or not stock.selling_systems:
        return np.zeros(stock.authority.shape, dtype=bool)
    shows_none = (stock.selling <= 0).any(axis=0)
    return np.asarray(shows_none & (stock.authority <= tolerance) & (stock.others > tolerance))


def lost_units(
    days: np.ndarray, expected: np.ndarray, stock: np.ndarray, walk_away: float
) -> np.ndarray:
    """Per key: walk-away share × Σ over ``days`` of min(expected demand, stock held).

    A sale the stock could not have filled is not lost to the phantom stockout, so each
    day's demand is capped at the stock the holding record shows.
    """
    served = np.fmin(expected, np.maximum(np.nan_to_num(stock), 0.0))
    return walk_away * np.where(days, served, 0.0).sum(axis=1)


def oversold_units(stock: Stock, expected: np.ndarray) -> np.ndarray:
    """``[key, day]`` expected units sold beyond the authority's available.

    Per selling system: max(0, min(demand of the day, its available) − max(authority, 0)),
    i.e. the part of the day's sales that the selling system lets through but the
    authority cannot fill; the largest over selling systems (they share one demand).
    """
    if not stock.selling_systems:
        return np.zeros_like(expected)
    allowed = np.fmin(expected[None], np.maximum(stock.selling, 0.0))
    beyond = allowed - np.maximum(stock.authority, 0.0)[None]
    return np.nan_to_num(np.nanmax(np.maximum(beyond, 0.0), axis=0, initial=0.0))


# --- record error: reorder and safety stock --------------------------------------------------


@dataclass(frozen=True)
class RecordError:
    """Per key: the worst non-authority record, its error deviation and its last error."""

    system: np.ndarray  # object: system name, "" when no other system was compared
    sd: np.ndarray  # std (ddof 1) of v_s − v_authority over compared days; 0 below 2 days
    last: np.ndarray  # the last observed v_s − v_authority (0 when never compared)


def record_error(stock: Stock) -> RecordError:
    """The record error of the planning record with the largest Σ|drift| per key.

    Planning records are the non-authority systems that do not sell (ERP, 3PL): reorders
    are decided on them.  When a client has none, every non-authority system is a
    candidate.  Selling systems' errors are costed as phantom stockouts and oversells.
    """
    n_keys = stock.drift.shape[1]
    if not stock.drift_systems:
        return RecordError(np.full(n_keys, "", dtype=object), np.zeros(n_keys), np.zeros(n_keys))
    size = np.nansum(np.abs(stock.drift), axis=2)
    candidate = np.asarray([s not in stock.selling_systems for s in stock.drift_systems])
    if candidate.any():
        size = np.where(candidate[:, None], size, -1.0)
    worst = np.argmax(size, axis=0)
    drift = np.take_along_axis(stock.drift, worst[None, :, None], axis=0)[0]
    seen = ~np.isnan(drift)
    n = seen.sum(axis=1)
    mean = np.divide(np.nansum(drift, axis=1), n, out=np.zeros(n_keys), where=n > 0)
    squares = np.where(seen, (drift - mean[:, None]) ** 2, 0.0).sum(axis=1)
    sd = np.sqrt(np.divide(squares, n - 1, out=np.zeros(n_keys), where=n > 1))
    last_day = np.where(seen.any(axis=1), drift.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1), 0)
    last = np.nan_to_num(drift[np.arange(n_keys), last_day])
    names = np.asarray(stock.drift_systems, dtype=object)[worst]
    return RecordError(np.where(n > 0, names, ""), sd, last)


@dataclass(frozen=True)
class Planning:
    """Per-key planning parameters: lead time (days), z, unit cost and price (NaN unknown)."""

    lead_time: np.ndarray
    z: np.ndarray
    unit_cost: np.ndarray
    unit_price: np.ndarray


def planning_parameters(
    keys: pd.DataFrame, catalog: pd.DataFrame, params: ImpactParams
) -> Planning:
    """Lead time and service level per key (by category when configured), cost and price."""
    table = catalog.drop_duplicates(SKU, keep="first").set_index(SKU)
    table = table.reindex(keys[SKU].to_numpy())
    category = table.get(CATEGORY, pd.Series(np.nan, index=table.index)).fillna(NO_CATEGORY)
    lead = category.map(params.category_lead_time_days).fillna(params.lead_time_days)
    level = category.map(params.category_service_level).fillna(params.service_level)
    z = level.map({v: theory.normal_quantile(v) for v in level.unique()})
    return Planning(
        lead_time=lead.to_numpy(dtype=np.float64),
        z=z.to_numpy(dtype=np.float64),
        unit_cost=_numeric(table, UNIT_COST),
        unit_price=_numeric(table, UNIT_PRICE),
    )


def _numeric(table: pd.DataFrame, column: str) -> np.ndarray:
    if column not in table.columns:
        return np.full(len(table), np.nan)
    return table[column].to_numpy(dtype=np.float64, na_value=np.nan)


def reorder_effects(demand: Demand, error: RecordError, plan: Planning) -> dict[str, np.ndarray]:
    """Reorder point, days late (+) or early (−), and extra stockout days per key.

    ``reorder_delay_days`` = last record error ÷ daily demand (0 without demand).  The
    reorder fires when the record reaches ROP, i.e. when true stock is (ROP − e)⁺; the
    extra expected shortage over the lead time
    (:func:`driftkit.inventory_theory.late_reorder_shortage`) is turned into days at the
    demand rate.
    """
    rop = theory.reorder_point(demand.rate, demand.sd, plan.lead_time, plan.z)
    extra = theory.late_reorder_shortage(demand.rate, demand.sd, plan.lead_time, plan.z, error.last)
    has_demand = demand.rate > 0
    safe_rate = np.where(has_demand, demand.rate, 1.0)
    return {
        "reorder_point": rop,
        "reorder_delay_days": np.where(has_demand, error.last / safe_rate, 0.0),
        "stockout_days_after_reorder": np.where(
            has_demand, np.maximum(extra, 0.0) / safe_rate, 0.0
        ),
    }


def safety_stock_effects(
    demand: Demand, error: RecordError, plan: Planning
) -> dict[str, np.ndarray]:
    """SS = z√L·σ_d, SS' = z√(Lσ_d² + σ_e²), the extra units and the capital they tie up."""
    base = theory.safety_stock(plan.z, demand.sd, plan.lead_time)
    inflated = theory.safety_stock_with_record_error(plan.z, demand.sd, plan.lead_time, error.sd)
    extra = inflated - base
    return {
        "safety_stock": base,
        "safety_stock_inflated": inflated,
        "extra_safety_stock_units": extra,
        "extra_capital": np.nan_to_num(extra * plan.unit_cost),
    }


# --- per key and totals ----------------------------------------------------------------------


@dataclass(frozen=True)
class KeyDays:
    """The ``[key, day]`` arrays behind the per-key costs."""

    phantom: np.ndarray  # bool: phantom stockout day
    suspected: np.ndarray  # bool: suspected phantom stockout day (authority shows none too)
    oversold: np.ndarray  # expected units sold beyond the authority's available
    observed: np.ndarray  # bool: the day's demand is observed (sold or censored)


def observed_demand(
    events: pd.DataFrame, grid: Grid, config: ClientConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Daily units per ``[key, day]`` and where they are known: shipments, else stock declines."""
    holders = [s for s, c in config.systems.items() if c.kind in HOLDER_KINDS]
    preferred = (grid.authority, *[s for s in holders if s != grid.authority])
    shipped = daily_shipments(events, grid, config.timezone, preferred) if len(events) else None
    if shipped is not None:
        return shipped
    return snapshot_declines(grid.values[grid.index(grid.authority)])


def forecast_bias(days: KeyDays, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per key: demand unseen on (suspected) phantom days and true demand over observed days."""
    blocked = days.phantom | days.suspected
    unseen = np.where(blocked, expected, 0.0).sum(axis=1)
    true = np.where(days.observed | blocked, expected, 0.0).sum(axis=1)
    return unseen, true


def key_costs(
    days: KeyDays,
    stock: Stock,
    demand: Demand,
    error: RecordError,
    plan: Planning,
    params: ImpactParams,
) -> dict[str, np.ndarray]:
    """Every per-key cost column of ``impact.csv`` except identity and ``expected_value``."""
    lost = lost_units(days.phantom, demand.expected, stock.authority, params.walk_away_share)
    others = stock.others if stock.others is not None else np.zeros_like(stock.authority)
    suspected = lost_units(days.suspected, demand.expected, others, params.walk_away_share)
    oversell = days.oversold.sum(axis=1)
    unseen, true = forecast_bias(days, demand.expected)
    share = np.divide(unseen, true, out=np.zeros(len(true)), where=true > 0)
    return {
        "phantom_days": days.phantom.sum(axis=1),
        "lost_sales_units": lost,
        "lost_revenue": np.nan_to_num(lost * plan.unit_price),
        "suspected_phantom_days": days.suspected.sum(axis=1),
        "suspected_lost_sales_units": suspected,
        "suspected_lost_revenue": np.nan_to_num(suspected * plan.unit_price),
        "oversell_units": oversell,
        "pick_failure_cost": oversell * params.pick_failure_cost,
        **reorder_effects(demand, error, plan),
        **safety_stock_effects(demand, error, plan),
        "forecast_bias_share": share,
        "contaminated": share > CONTAMINATED_SHARE,
        "unseen_demand": unseen,
        "true_demand": true,
    }


def window_value(
    costs: dict[str, np.ndarray], demand: Demand, plan: Planning, params: ImpactParams, days: int
) -> np.ndarray:
    """Money the drift cost each key over the window (docs/impact.md, *expected_value*).

    lost_revenue + suspected_lost_revenue + pick_failure_cost + extra_capital × holding_rate × days/365 + the
    revenue lost in the stockouts after a late reorder (stockout days × demand rate ×
    walk-away share × unit_price).
    """
    carrying = costs["extra_capital"] * params.holding_rate * days / DAYS_PER_YEAR
    reorder_units = costs["stockout_days_after_reorder"] * demand.rate * params.walk_away_share
    reorder = np.nan_to_num(reorder_units * plan.unit_price)
    lost = costs["lost_revenue"] + costs["suspected_lost_revenue"]
    return lost + costs["pick_failure_cost"] + carrying + reorder


def per_key_table(
    keys: pd.DataFrame, demand: Demand, costs: dict[str, np.ndarray], error: RecordError
) -> pd.DataFrame:
    """``impact.csv``: one row per key, columns :data:`PER_KEY_COLUMNS` (docs/impact.md)."""
    table = pd.DataFrame(
        {
            SKU: keys[SKU].to_numpy(),
            LOCATION: keys[LOCATION].to_numpy(),
            "demand_rate": demand.rate,
            "demand_sd": demand.sd,
            **costs,
            "error_system": error.system,
            "record_error_sd": error.sd,
            "demand_class": demand.table["demand_class"].to_numpy(),
        }
    )
    table = table[list(PER_KEY_COLUMNS)]
    return table.astype({SKU: "str", LOCATION: "str", "error_system": "str", "demand_class": "str"})


def impact_totals(costs: dict[str, np.ndarray]) -> dict[str, float | int]:
    """The summary numbers: summed per-key costs; forecast bias as a demand-weighted share."""
    true = float(costs["true_demand"].sum())
    return {
        "phantom_stockout_sku_days": int(costs["phantom_days"].sum()),
        "lost_sales_units": float(costs["lost_sales_units"].sum()),
        "lost_revenue": float(costs["lost_revenue"].sum()),
        "oversell_units": float(costs["oversell_units"].sum()),
        "pick_failure_cost": float(costs["pick_failure_cost"].sum()),
        "extra_safety_stock_capital": float(costs["extra_capital"].sum()),
        "forecast_bias_share": float(costs["unseen_demand"].sum()) / true if true > 0 else 0.0,
    }


# --- projection and the counterfactual ---------------------------------------------------------

PROJECTION_LEVEL = 0.90  # two-sided level of the projection interval
STOCK_METRICS = ("abs_drift_units", "drift_value")  # levels: weekly mean of the daily value
FLOW_METRICS = ("impact_cost",)  # flows: weekly total of the daily value
BASELINE, FIXED = "baseline", "fix_top3_handoffs"


def daily_series(
    comparison_daily: pd.DataFrame, authority: str, days: pd.DatetimeIndex, cost: np.ndarray
) -> pd.DataFrame:
    """The daily metrics the projection extrapolates.

    Returns
    -------
    pandas.DataFrame
        ``day, abs_drift_units, drift_value, impact_cost``: Σ|d| and Σ|d|×unit_cost over
        non-authority systems vs the authority (``compare.daily``), and the day's phantom
        revenue lost plus pick-failure cost.
    """
    vs_authority = comparison_daily[comparison_daily["counterpart"] == authority]
    sums = vs_authority.groupby("day")[["abs_drift_units", "drift_value"]].sum()
    sums = sums.reindex(pd.DatetimeIndex(days, name="day"), fill_value=0.0)
    return sums.reset_index().assign(impact_cost=cost)


def project(
    series: pd.DataFrame, weeks: int, *, removed_share: float | None = None
) -> pd.DataFrame:
    """Linear-trend projection of each daily metric over the next ``weeks`` weeks.

    Ordinary least squares of value on day number; week w covers days n+7(w−1)+1 … n+7w.
    Levels (:data:`STOCK_METRICS`) report the week's mean daily value, flows
    (:data:`FLOW_METRICS`) the week's total.  The interval is the OLS prediction interval
    of the week's mean of 7 new days at :data:`PROJECTION_LEVEL` (Student t, n − 2 dof),
    floored at 0.  With ``removed_share``, scenario ``fix_top3_handoffs`` scales every
    row by (1 − removed_share).

    Returns
    -------
    pandas.DataFrame
        ``week, metric, estimate, low, high, scenario``.
    """
    frames = [
        _project_metric(series[m].to_numpy(float), weeks, m)
        for m in (*STOCK_METRICS, *FLOW_METRICS)
    ]
    base = pd.concat(frames, ignore_index=True).assign(scenario=BASELINE)
    if removed_share is None:
        return base
    keep = 1.0 - removed_share
    fixed = base.assign(
        estimate=base["estimate"] * keep, low=base["low"] * keep, high=base["high"] * keep
    )
    return pd.concat([base, fixed.assign(scenario=FIXED)], ignore_index=True)


def _project_metric(values: np.ndarray, weeks: int, metric: str) -> pd.DataFrame:
    n = len(values)
    x = np.arange(n, dtype=np.float64)
    future = n - 1 + np.arange(1, 7 * weeks + 1, dtype=np.float64).reshape(weeks, 7)
    centre = future.mean(axis=1)
    if n >= 3:
        slope, intercept = np.polyfit(x, values, 1)
        residual = values - (intercept + slope * x)
        s2 = float(residual @ residual) / (n - 2)
        sxx = float(((x - x.mean()) ** 2).sum())
        spread = np.sqrt(s2 * (1 / 7 + 1 / n + (centre - x.mean()) ** 2 / sxx))
        half = theory.t_quantile(0.5 + PROJECTION_LEVEL / 2, n - 2) * spread
    else:
        slope, intercept = 0.0, float(values.mean()) if n else 0.0
        half = np.zeros(weeks)
    scale = 7.0 if metric in FLOW_METRICS else 1.0
    estimate = np.maximum(intercept + slope * centre, 0.0)
    return pd.DataFrame(
        {
            "week": np.arange(1, weeks + 1),
            "metric": metric,
            "estimate": estimate * scale,
            "low": np.maximum(intercept + slope * centre - half, 0.0) * scale,
            "high": np.maximum(intercept + slope * centre + half, 0.0) * scale,
        }
    )


def handoff_fixes(findings: pd.DataFrame | None) -> pd.DataFrame:
    """Handoff failures (system ← counterpart, cause) ranked by the drift attributed to them.

    ``unrecorded_change`` is left out: no handoff fix removes it.

    Returns
    -------
    pandas.DataFrame
        ``system, counterpart, cause, findings, units, value, share``: Σ|units| and
        Σ|value| of the findings, ``share`` = units ÷ Σ|units| of all findings (any cause);
        sorted by value, then units, largest first.
    """
    columns = [SYSTEM, "counterpart", "cause", "findings", "units", "value", "share"]
    if findings is None or findings.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    sized = findings.assign(
        units=findings["units"].abs(), value=findings["value"].abs().fillna(0.0), findings=1
    )
    fixable = sized[sized["cause"] != "unrecorded_change"]
    groups = fixable.groupby([SYSTEM, "counterpart", "cause"], dropna=False)
    table = groups[["findings", "units", "value"]].sum().reset_index()
    total = float(sized["units"].sum())
    table["share"] = table["units"] / total if total > 0 else 0.0
    table = table.sort_values(["value", "units"], ascending=False, kind="stable")
    return table[columns].reset_index(drop=True)


# --- entry point -------------------------------------------------------------------------------


def estimate_impact(
    data: Tables,
    grid: Grid,
    comparison: Any,
    attribution: Any | None,
    config: ClientConfig,
) -> Impact:
    """What the drift of one audit costs (DESIGN §7).

    Parameters
    ----------
    data
        The client's canonical tables (``snapshots``, ``events``, ``catalog``).
    grid
        The aligned grid the comparison was computed on.
    comparison
        :class:`driftkit.compare.Comparison` of ``grid`` (its ``daily`` table is projected).
    attribution
        :class:`driftkit.attribute.Attribution` or None; its ``findings`` give each count-list
        row a cause and the counterfactual "top 3 handoffs fixed".
    config
        Client config; ``config.impact`` holds every cost parameter.

    Returns
    -------
    Impact
        ``per_key`` (impact.csv), ``count_list``, ``projection``, ``totals``, ``demand``,
        ``fixes``; columns documented on :class:`Impact` and in ``docs/impact.md``.
    """
    params = config.impact
    stock = stock_records(data.snapshots, grid, config)
    plan = planning_parameters(grid.keys, data.catalog, params)
    phantom = phantom_stockouts(stock, config.tolerance)
    units, observed = observed_demand(data.events, grid, config)
    demand = estimate_demand(
        units, observed, phantom | (stock.authority <= config.tolerance), grid.days
    )
    suspected = suspected_phantom_stockouts(stock, config.tolerance)
    days = KeyDays(phantom, suspected, oversold_units(stock, demand.expected), observed)
    error = record_error(stock)
    costs = key_costs(days, stock, demand, error, plan, params)
    costs["expected_value"] = window_value(costs, demand, plan, params, len(grid.days))
    findings = getattr(attribution, "findings", None)
    fixes = handoff_fixes(findings)
    state = key_state(grid, stock, demand, plan, costs)
    return Impact(
        per_key=per_key_table(grid.keys, demand, costs, error),
        count_list=count_list(state, params, findings),
        projection=project(
            daily_series(
                comparison.daily, grid.authority, grid.days, _daily_cost(days, demand, plan, params)
            ),
            params.projection_weeks,
            removed_share=float(fixes["share"].head(3).sum()) if len(fixes) else None,
        ),
        totals=impact_totals(costs),
        demand=pd.concat([grid.keys.reset_index(drop=True), demand.table], axis=1),
        fixes=fixes,
        weekday_index=tuple(float(v) for v in demand.weekday_index),
    )


def _daily_cost(days: KeyDays, demand: Demand, plan: Planning, params: ImpactParams) -> np.ndarray:
    lost = params.walk_away_share * np.where(days.phantom | days.suspected, demand.expected, 0.0)
    revenue = np.nan_to_num(lost * plan.unit_price[:, None]).sum(axis=0)
    return revenue + days.oversold.sum(axis=0) * params.pick_failure_cost


def key_state(
    grid: Grid, stock: Stock, demand: Demand, plan: Planning, costs: dict[str, np.ndarray]
) -> KeyState:
    """The count list's input: last observed records and planning inputs per key."""
    return KeyState(
        keys=grid.keys,
        authority_name=grid.authority,
        authority=last_observed(stock.authority),
        selling=last_observed(stock.selling),
        selling_systems=stock.selling_systems,
        drift=last_observed(stock.drift),
        drift_systems=stock.drift_systems,
        rate=demand.rate,
        sd=demand.sd,
        lead_time=plan.lead_time,
        z=plan.z,
        unit_cost=plan.unit_cost,
        unit_price=plan.unit_price,
        extra_capital=costs["extra_capital"],
        window_value=costs["expected_value"],
    )
