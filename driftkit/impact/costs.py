"""Per-key costs of drift: record error, reorder and safety-stock effects, impact.csv, totals.

Each cost is a per-key numpy array; definitions and parameters in ``docs/impact.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.config import ImpactParams
from driftkit.impact import theory
from driftkit.impact.demand import Demand
from driftkit.impact.stock import Stock, lost_units
from driftkit.schema import CATEGORY, LOCATION, SKU, UNIT_COST, UNIT_PRICE

DAYS_PER_YEAR = 365.0


CONTAMINATED_SHARE = 0.05  # a key's demand history is contaminated above this unseen share


NO_CATEGORY = "(none)"


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
    (:func:`driftkit.impact.theory.late_reorder_shortage`) is turned into days at the
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


@dataclass(frozen=True)
class KeyDays:
    """The ``[key, day]`` arrays behind the per-key costs."""

    phantom: np.ndarray  # bool: phantom stockout day
    suspected: np.ndarray  # bool: suspected phantom stockout day (authority shows none too)
    oversold: np.ndarray  # expected units sold beyond the authority's available
    observed: np.ndarray  # bool: the day's demand is observed (sold or censored)
    unmet: np.ndarray  # expected demand turned away that stock could serve (theory.stockout_loss)


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
    lost = lost_units(days.phantom, days.unmet, stock.authority, params.walk_away_share)
    others = stock.others if stock.others is not None else np.zeros_like(stock.authority)
    suspected = lost_units(days.suspected, days.unmet, others, params.walk_away_share)
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
