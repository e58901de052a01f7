"""Comparison (DESIGN §5): agreement, drift vs the authority and between systems, episodes, bias.

Everything works on the ``values[system, key, day]`` array of a :class:`~driftkit.drift.align.Grid`
with numpy reductions over the key or day axis; the only Python loop is over system pairs
(at most a handful).  Definitions, units and sign conventions: ``docs/metrics.md``.

System pairs: for every non-authority system *s*, the pair ``(s, authority)`` with
``d = v_s - v_authority``; then every unordered pair of non-authority systems
``(s, c)`` with ``s < c`` alphabetically and ``d = v_s - v_c``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import DAY, Grid
from driftkit.schema import CATEGORY, LOCATION, SKU, SYSTEM, UNIT_COST

COUNTERPART = "counterpart"
NO_CATEGORY = "(none)"
SLACK = 1e-9  # float slack on the tolerance test: |d| <= tolerance + SLACK agrees


@dataclass(frozen=True)
class Comparison:
    """The drift metrics of one grid (DESIGN §5); column meanings in ``docs/metrics.md``."""

    headline: dict[str, float | int | None]
    daily: pd.DataFrame
    episodes: pd.DataFrame
    bias: pd.DataFrame
    by_category: pd.DataFrame
    by_location: pd.DataFrame
    key_drift: pd.DataFrame


@dataclass(frozen=True)
class _Pair:
    system: int
    counterpart: int

    def drift(self, values: np.ndarray) -> np.ndarray:
        """``v_system - v_counterpart`` per (key, day); NaN unless both are present."""
        return values[self.system] - values[self.counterpart]


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
    totals = _key_totals(grid, cost)
    episode_table = episodes(grid, system_pairs(grid), tolerance)
    locations = grid.keys[LOCATION].to_numpy()
    return Comparison(
        headline=headline(grid, cells, totals, cost, episode_table),
        daily=daily(grid, system_pairs(grid), cost, tolerance),
        episodes=episode_table,
        bias=bias(grid, tolerance),
        by_category=decompose(totals, drifted, category, CATEGORY),
        by_location=decompose(totals, drifted, locations, LOCATION),
        key_drift=drift_per_key(grid, cost, tolerance),
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


def system_pairs(grid: Grid) -> list[_Pair]:
    """Every non-authority system vs the authority, then non-authority pairs s < c."""
    authority = grid.index(grid.authority)
    others = [s for s in grid.systems if s != grid.authority]
    pairs = [_Pair(grid.index(s), authority) for s in others]
    pairs += [_Pair(grid.index(a), grid.index(b)) for a, b in combinations(sorted(others), 2)]
    return pairs


def _vs_authority(grid: Grid) -> tuple[list[str], np.ndarray]:
    """Non-authority system names and their drift ``[system, key, day]`` vs the authority."""
    authority = grid.index(grid.authority)
    others = [s for s in grid.systems if s != grid.authority]
    rows = [grid.index(s) for s in others]
    return others, grid.values[rows] - grid.values[authority][None, :, :]


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


def _key_totals(grid: Grid, cost: np.ndarray) -> pd.DataFrame:
    """Per key code, summed over non-authority systems vs the authority: units and value."""
    _, drift = _vs_authority(grid)
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
    totals: pd.DataFrame,
    cost: np.ndarray,
    episode_table: pd.DataFrame,
) -> dict[str, float | int | None]:
    """The headline numbers of DESIGN §5 plus counts that qualify them (docs/metrics.md)."""
    n_compared, n_agreeing = int(cells.compared.sum()), int(cells.agreeing.sum())
    units_last = totals["abs_drift_units_last_day"]
    return {
        "sku_locations": len(grid.keys),
        "days": len(grid.days),
        "compared_cells": n_compared,
        "agreeing_cells": n_agreeing,
        "agreement_rate": n_agreeing / n_compared if n_compared else None,
        "drifted_sku_locations": int((cells.compared & ~cells.agreeing).any(axis=1).sum()),
        "abs_drift_units_last_day": float(units_last.sum()),
        "value_at_risk_last_day": float(totals["value_at_risk_last_day"].sum()),
        "keys_without_cost": int(((units_last > 0) & ~totals["cost_known"]).sum()),
        "mean_spread": float(np.nanmean(cells.spread)) if n_compared else None,
        "max_spread": float(np.nanmax(cells.spread)) if n_compared else None,
        "episodes": len(episode_table),
        "open_episodes": int(episode_table["open"].sum()),
    }


def daily(grid: Grid, pairs: list[_Pair], cost: np.ndarray, tolerance: float) -> pd.DataFrame:
    """Per day and system pair: keys compared and drifted, absolute units and value.

    Returns
    -------
    pandas.DataFrame
        ``day, system, counterpart, skus_compared, skus_drifted, abs_drift_units,
        drift_value``; one row per (day, pair), pairs in :func:`system_pairs` order.
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


def _runs(disagree: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True along the day axis: (key, first day, last day) per run."""
    padded = np.zeros((disagree.shape[0], disagree.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = disagree
    step = np.diff(padded, axis=1)
    key, start = np.nonzero(step == 1)
    _, stop = np.nonzero(step == -1)
    return key, start, stop - 1


def episodes(grid: Grid, pairs: list[_Pair], tolerance: float) -> pd.DataFrame:
    """Maximal runs of consecutive days on which a pair disagrees (|d| > tolerance).

    Returns
    -------
    pandas.DataFrame
        ``sku, location, system, counterpart, start, end, days, peak_abs_drift, mean_drift,
        open``; ``open`` is True when the run reaches the window's last day.
    """
    frames = [_pair_episodes(grid, pair, tolerance) for pair in pairs]
    if not frames:
        return _pair_episodes(grid, _Pair(0, 0), np.inf)
    return pd.concat(frames, ignore_index=True)


def _pair_episodes(grid: Grid, pair: _Pair, tolerance: float) -> pd.DataFrame:
    d = pair.drift(grid.values)
    key, start, end = _runs(np.abs(d) > tolerance)
    n_days = d.shape[1]
    flat = np.append(np.nan_to_num(d).ravel(), 0.0)
    bounds = np.column_stack((key * n_days + start, key * n_days + end + 1)).ravel()
    total = np.add.reduceat(flat, bounds)[::2] if len(bounds) else np.zeros(0)
    peak = np.maximum.reduceat(np.abs(flat), bounds)[::2] if len(bounds) else np.zeros(0)
    length = end - start + 1
    return pd.DataFrame(
        {
            SKU: grid.keys[SKU].to_numpy()[key],
            LOCATION: grid.keys[LOCATION].to_numpy()[key],
            SYSTEM: grid.systems[pair.system],
            COUNTERPART: grid.systems[pair.counterpart],
            "start": grid.days[start],
            "end": grid.days[end],
            "days": length.astype(np.int64),
            "peak_abs_drift": peak,
            "mean_drift": total / np.maximum(length, 1),
            "open": end == n_days - 1,
        }
    ).astype({SKU: "str", LOCATION: "str", SYSTEM: "str", COUNTERPART: "str"})


def bias(grid: Grid, tolerance: float) -> pd.DataFrame:
    """Mean signed drift vs the authority per non-authority system, with its sign shares.

    Returns
    -------
    pandas.DataFrame
        ``system, mean_drift, compared_cells, share_positive, share_negative``; cells are
        the (key, day) where the system and the authority are both present; a positive
        (negative) cell has d > tolerance (d < −tolerance).
    """
    others, drift = _vs_authority(grid)
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


def drift_per_key(grid: Grid, cost: np.ndarray, tolerance: float) -> pd.DataFrame:
    """Per key and non-authority system: drift on the last day and over the window.

    Returns
    -------
    pandas.DataFrame
        ``sku, location, system, compared_days, drift_last_day, abs_drift_units,
        drifted_days, drift_value_last_day``; only (key, system) compared with the
        authority on at least one day.  ``drift_value_last_day`` = |d| × unit_cost (NaN
        when either is unknown).
    """
    others, drift = _vs_authority(grid)
    n_keys = len(grid.keys)
    last = drift[:, :, -1] if len(grid.days) else np.full((len(others), n_keys), np.nan)
    table = pd.DataFrame(
        {
            "key": np.tile(np.arange(n_keys), len(others)),
            SYSTEM: np.repeat(np.asarray(others, dtype=object), n_keys),
            "compared_days": (~np.isnan(drift)).sum(axis=2).ravel(),
            "drift_last_day": last.ravel(),
            "abs_drift_units": np.nansum(np.abs(drift), axis=2).ravel(),
            "drifted_days": (np.abs(drift) > tolerance).sum(axis=2).ravel(),
            "drift_value_last_day": (np.abs(last) * cost[None, :]).ravel(),
        }
    )
    table = table[table["compared_days"] > 0]
    keys = grid.keys.iloc[table["key"].to_numpy()].reset_index(drop=True)
    table = table.drop(columns="key").reset_index(drop=True)
    return pd.concat([keys, table], axis=1).astype({SYSTEM: "str"})


def decompose(
    totals: pd.DataFrame, drifted: np.ndarray, group: np.ndarray, name: str
) -> pd.DataFrame:
    """Drift summed by a per-key label (category, location), with each group's share.

    Returns
    -------
    pandas.DataFrame
        ``<name>, sku_locations, drifted_sku_locations, abs_drift_units,
        abs_drift_units_last_day, value_at_risk_last_day, share_abs_drift_units,
        share_abs_drift_units_last_day, share_value_at_risk_last_day``; sorted by value at
        risk, then units on the last day, then window units, largest first.
    """
    columns = ["abs_drift_units", "abs_drift_units_last_day", "value_at_risk_last_day"]
    per_key = totals[columns].copy()
    per_key[name] = pd.Series(group, dtype="str")
    per_key["sku_locations"] = 1
    per_key["drifted_sku_locations"] = drifted
    counted = ["sku_locations", "drifted_sku_locations", *columns]
    table: pd.DataFrame = per_key.groupby(name, sort=True)[counted].sum().reset_index()
    for column in columns:
        total = table[column].sum()
        table[f"share_{column}"] = table[column] / total if total else np.nan
    order = ["value_at_risk_last_day", "abs_drift_units_last_day", "abs_drift_units"]
    return table.sort_values(order, ascending=False, kind="stable").reset_index(drop=True)


DRILLDOWNS = 3  # keys the report drills into (``story.drilldowns``)


def rank_worst_keys(key_drift: pd.DataFrame, n: int = DRILLDOWNS) -> pd.DataFrame:
    """The keys the report drills into, from ``Comparison.key_drift`` alone.

    Returns
    -------
    pandas.DataFrame
        ``sku, location, abs_drift_units, drift_value_last_day``: Σ over systems, the ``n``
        keys with drift units, most drift value on the last day first (ties: units).
    """
    per_key = key_drift.groupby([SKU, LOCATION], as_index=False)[
        ["abs_drift_units", "drift_value_last_day"]
    ].sum()
    ranked = per_key[per_key["abs_drift_units"] > 0].sort_values(
        ["drift_value_last_day", "abs_drift_units"], ascending=False, kind="stable"
    )
    return ranked.head(n).reset_index(drop=True)
