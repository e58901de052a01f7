"""Comparison (DESIGN §5): agreement, drift vs the authority and between systems, episodes, bias.

Everything works on the ``values[system, key, day]`` array of a :class:`~driftkit.drift.align.Grid`
with numpy reductions over the key or day axis; the only Python loop is over system pairs
(at most a handful, :mod:`driftkit.drift.pairs`).  :func:`compare` builds the headline, the
daily and bias tables here, the episodes in :mod:`driftkit.drift.episodes` and the
per-key and per-group tables in :mod:`driftkit.drift.breakdown`.  Names that modules
outside ``drift/`` import from here are re-exported (``import x as x``).  Definitions,
units and sign conventions: ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import DAY, Grid
from driftkit.drift.breakdown import decompose, drift_per_key
from driftkit.drift.episodes import episodes
from driftkit.drift.pairs import COUNTERPART, SLACK, VsAuthority, _Pair, _vs_authority, system_pairs
from driftkit.schema import CATEGORY, LOCATION, SKU, SYSTEM, UNIT_COST

NO_CATEGORY = "(none)"


@dataclass(frozen=True)
class Comparison:
    """The drift metrics of one grid (DESIGN §5); column meanings in ``docs/metrics.md``."""

    headline: dict[str, float | int | str | None]
    daily: pd.DataFrame
    episodes: pd.DataFrame
    bias: pd.DataFrame
    by_category: pd.DataFrame
    by_location: pd.DataFrame
    key_drift: pd.DataFrame
    by_day: pd.DataFrame | None = None  # authority_days of the grid (None when recombined)


def compare(grid: Grid, config: ClientConfig, catalog: pd.DataFrame) -> Comparison:
    """Agreement, drift, episodes, bias and their decompositions for ``grid``.

    Parameters
    ----------
    grid
        Output of :func:`driftkit.drift.align.align`.
    config
        Client config (``tolerance``).
    catalog
        Canonical catalog; ``unit_cost`` prices drift, ``category`` groups it.  Keys whose
        SKU has no cost add 0 value and are counted in ``headline["keys_without_cost"]``.

    Returns
    -------
    Comparison
        ``headline`` (dict), ``daily``, ``episodes``, ``bias``, ``by_category``,
        ``by_location`` and ``key_drift`` tables; columns documented on each builder.
    """
    tolerance = config.tolerance + SLACK
    cost, category = catalog_columns(grid.keys, catalog)
    cells = _cell_stats(grid.values, tolerance)
    drifted = (cells.compared & ~cells.agreeing).any(axis=1)
    vs_authority = _vs_authority(grid)  # once for the five tables that read it
    totals = _key_totals(grid, cost, vs_authority=vs_authority)
    episode_table = episodes(grid, system_pairs(grid), tolerance)
    locations = grid.keys[LOCATION].to_numpy()
    by_day = authority_days(grid, cost, vs_authority=vs_authority)
    return Comparison(
        headline=headline(grid, cells, by_day, episode_table),
        daily=daily(grid, system_pairs(grid), cost, tolerance),
        episodes=episode_table,
        bias=bias(grid, tolerance, vs_authority=vs_authority),
        by_category=decompose(totals, drifted, category, CATEGORY),
        by_location=decompose(totals, drifted, locations, LOCATION),
        key_drift=drift_per_key(grid, cost, tolerance, vs_authority=vs_authority),
        by_day=by_day,
    )


def catalog_columns(keys: pd.DataFrame, catalog: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``unit_cost`` (NaN when unknown) and ``category`` (``"(none)"``) per key code."""
    table = catalog.drop_duplicates(SKU, keep="first")
    position = pd.Index(table[SKU]).get_indexer(keys[SKU])
    found = position >= 0
    cost = np.full(len(keys), np.nan)
    cost[found] = table[UNIT_COST].to_numpy(dtype=np.float64, na_value=np.nan)[position[found]]
    category = np.full(len(keys), NO_CATEGORY, dtype=object)
    if CATEGORY in table.columns:
        names = table[CATEGORY].to_numpy(dtype=object, na_value=NO_CATEGORY)
        category[found] = names[position[found]]
    return cost, category


@dataclass(frozen=True)
class _CellStats:
    compared: np.ndarray  # bool [key, day]: >= 2 systems present
    agreeing: np.ndarray  # bool [key, day]: compared and spread <= tolerance
    spread: np.ndarray  # float [key, day]: max − min of present values (NaN if not compared)


def _cell_stats(values: np.ndarray, tolerance: float) -> _CellStats:
    """Compared cells, agreeing cells and spread (max − min of present values) per (key, day)."""
    present = (~np.isnan(values)).sum(axis=0)
    spread = np.fmax.reduce(values, axis=0) - np.fmin.reduce(values, axis=0)
    compared = present >= 2
    agreeing = compared & (spread <= tolerance)
    return _CellStats(compared, agreeing, np.where(compared, spread, np.nan))


def _key_totals(
    grid: Grid, cost: np.ndarray, *, vs_authority: VsAuthority | None = None
) -> pd.DataFrame:
    """Per key code, summed over non-authority systems vs the authority: units and value."""
    _, drift = _vs_authority(grid) if vs_authority is None else vs_authority
    size = np.abs(drift)
    last = size[:, :, -1] if len(grid.days) else np.zeros(size.shape[:2])
    units_last = np.nansum(last, axis=0)
    return pd.DataFrame(
        {
            "abs_drift_units": np.nansum(size, axis=(0, 2)),
            "abs_drift_units_last_day": units_last,
            "value_at_risk_last_day": np.nan_to_num(units_last * cost),
            "cost_known": ~np.isnan(cost),
        }
    )


def headline(
    grid: Grid,
    cells: _CellStats,
    by_day: pd.DataFrame,
    episode_table: pd.DataFrame,
) -> dict[str, float | int | str | None]:
    """The headline numbers of DESIGN §5 plus counts that qualify them (docs/metrics.md).

    The "last day" numbers are those of :func:`headline_day` over ``by_day``
    (:func:`authority_days`).
    """
    n_compared, n_agreeing = int(cells.compared.sum()), int(cells.agreeing.sum())
    return {
        "sku_locations": len(grid.keys),
        "days": len(grid.days),
        "compared_cells": n_compared,
        "agreeing_cells": n_agreeing,
        "agreement_rate": n_agreeing / n_compared if n_compared else None,
        "drifted_sku_locations": int((cells.compared & ~cells.agreeing).any(axis=1).sum()),
        **headline_day(by_day),
        "mean_spread": float(np.nanmean(cells.spread)) if n_compared else None,
        "max_spread": float(np.nanmax(cells.spread)) if n_compared else None,
        "episodes": len(episode_table),
        "open_episodes": int(episode_table["open"].sum()),
    }


def authority_days(
    grid: Grid, cost: np.ndarray, *, vs_authority: VsAuthority | None = None
) -> pd.DataFrame:
    """Per day, every non-authority system against the authority, summed over keys.

    Parameters
    ----------
    grid
        The (part's) grid.
    cost
        ``unit_cost`` per key code, NaN when unknown (:func:`catalog_columns`).
    vs_authority
        ``_vs_authority(grid)`` when already computed.

    Returns
    -------
    pandas.DataFrame
        ``day, authority_cells, abs_drift_units, value_at_risk, keys_without_cost``: cells
        where a system and the authority are both present; Σ |d| over systems and keys;
        Σ |d| × unit_cost (unknown cost adds 0); keys with |d| > 0 and no cost.  Summable
        over parts.
    """
    _, drift = _vs_authority(grid) if vs_authority is None else vs_authority
    per_key = np.nansum(np.abs(drift), axis=0)  # [key, day]: Σ over systems
    unpriced = np.isnan(cost)[:, None]
    return pd.DataFrame(
        {
            DAY: grid.days,
            "authority_cells": (~np.isnan(drift)).sum(axis=(0, 1)).astype(np.int64),
            "abs_drift_units": per_key.sum(axis=0),
            "value_at_risk": np.where(unpriced, 0.0, per_key * np.nan_to_num(cost)[:, None]).sum(
                axis=0
            ),
            "keys_without_cost": ((per_key > 0) & unpriced).sum(axis=0).astype(np.int64),
        }
    )


def headline_day(by_day: pd.DataFrame) -> dict[str, str | float | int | None]:
    """The "last day" headline numbers, taken on the last day with cells compared against
    the authority (``headline_day``); all None when no day has any (unknown, never 0).

    Parameters
    ----------
    by_day
        :func:`authority_days`, or the sum of several parts' tables (same days).

    Returns
    -------
    dict
        ``headline_day`` (ISO date), ``abs_drift_units_last_day``,
        ``value_at_risk_last_day``, ``keys_without_cost``.
    """
    compared = np.flatnonzero(by_day["authority_cells"].to_numpy() > 0)
    if not len(compared):
        names = ("abs_drift_units_last_day", "value_at_risk_last_day", "keys_without_cost")
        return {"headline_day": None, **dict.fromkeys(names)}
    row = by_day.iloc[compared[-1]]
    return {
        "headline_day": pd.Timestamp(row[DAY]).date().isoformat(),
        "abs_drift_units_last_day": float(row["abs_drift_units"]),
        "value_at_risk_last_day": float(row["value_at_risk"]),
        "keys_without_cost": int(row["keys_without_cost"]),
    }


def daily(grid: Grid, pairs: list[_Pair], cost: np.ndarray, tolerance: float) -> pd.DataFrame:
    """Per day and system pair: keys compared and drifted, absolute units and value.

    Returns
    -------
    pandas.DataFrame
        ``day, system, counterpart, skus_compared, skus_drifted, abs_drift_units,
        drift_value``; one row per (day, pair), pairs in :func:`~driftkit.drift.pairs.system_pairs` order.
    """
    priced = np.nan_to_num(cost)[:, None]
    frames = []
    for pair in pairs:
        d = pair.drift(grid.values)
        size = np.abs(d)
        frames.append(
            pd.DataFrame(
                {
                    DAY: grid.days,
                    SYSTEM: grid.systems[pair.system],
                    COUNTERPART: grid.systems[pair.counterpart],
                    "skus_compared": (~np.isnan(d)).sum(axis=0),
                    "skus_drifted": (size > tolerance).sum(axis=0),
                    "abs_drift_units": np.nansum(size, axis=0),
                    "drift_value": np.nansum(size * priced, axis=0),
                }
            )
        )
    if not frames:
        return _empty_daily()
    return pd.concat(frames, ignore_index=True).astype({SYSTEM: "str", COUNTERPART: "str"})


def _empty_daily() -> pd.DataFrame:
    return pd.DataFrame(
        {
            DAY: pd.Series(dtype="datetime64[us]"),
            SYSTEM: pd.Series(dtype="str"),
            COUNTERPART: pd.Series(dtype="str"),
            "skus_compared": pd.Series(dtype="int64"),
            "skus_drifted": pd.Series(dtype="int64"),
            "abs_drift_units": pd.Series(dtype="float64"),
            "drift_value": pd.Series(dtype="float64"),
        }
    )


def bias(grid: Grid, tolerance: float, *, vs_authority: VsAuthority | None = None) -> pd.DataFrame:
    """Mean signed drift vs the authority per non-authority system, with its sign shares.

    Returns
    -------
    pandas.DataFrame
        ``system, mean_drift, compared_cells, share_positive, share_negative``; cells are
        the (key, day) where the system and the authority are both present; a positive
        (negative) cell has d > tolerance (d < −tolerance).
    """
    others, drift = _vs_authority(grid) if vs_authority is None else vs_authority
    cells = (~np.isnan(drift)).sum(axis=(1, 2))
    safe = np.maximum(cells, 1)
    with np.errstate(invalid="ignore"):
        mean = np.where(cells > 0, np.nansum(drift, axis=(1, 2)) / safe, np.nan)
        positive = np.where(cells > 0, (drift > tolerance).sum(axis=(1, 2)) / safe, np.nan)
        negative = np.where(cells > 0, (drift < -tolerance).sum(axis=(1, 2)) / safe, np.nan)
    return pd.DataFrame(
        {
            SYSTEM: pd.Series(others, dtype="str"),
            "mean_drift": mean,
            "compared_cells": cells.astype(np.int64),
            "share_positive": positive,
            "share_negative": negative,
        }
    )
