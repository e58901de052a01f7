"""Where drift's cost is heading: linear-trend projection and the handoff-fix counterfactual."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftkit.impact import theory
from driftkit.schema import SYSTEM

PROJECTION_LEVEL = 0.90  # two-sided level of the projection interval


STOCK_METRICS = ("abs_drift_units", "drift_value")  # levels: weekly mean of the daily value


FLOW_METRICS = ("impact_cost",)  # flows: weekly total of the daily value
FIX_EDGE = [SYSTEM, "counterpart", "cause"]  # a handoff fix: target ← counterpart, cause
EDGE = "_edge"  # each finding's row of the edges (edge_fixes)


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
    if findings is None or findings.empty:
        return edge_fixes(pd.DataFrame(columns=FIX_EDGE), np.zeros(0, np.int64), [], [])
    edges = findings[FIX_EDGE].drop_duplicates(ignore_index=True)
    edge = pd.MultiIndex.from_frame(edges).get_indexer(pd.MultiIndex.from_frame(findings[FIX_EDGE]))
    return edge_fixes(edges, edge, findings["units"], findings["value"])


def edge_fixes(edges: pd.DataFrame, edge: np.ndarray, units: Any, value: Any) -> pd.DataFrame:
    """:func:`handoff_fixes` of findings given as their ``edge`` (a row of ``edges``:
    ``system, counterpart, cause``), ``units`` and ``value``, in the findings' order (the
    sums are taken in that order, as over the findings themselves).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`handoff_fixes`.
    """
    columns = [*FIX_EDGE, "findings", "units", "value", "share"]
    if not len(edge):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    sized = pd.DataFrame(
        {
            EDGE: edge,
            "findings": 1,
            "units": np.abs(np.asarray(units, dtype=float)),
            "value": pd.Series(np.abs(np.asarray(value, dtype=float))).fillna(0.0),
        }
    )
    fixable = (edges["cause"] != "unrecorded_change").to_numpy()[edge]
    sums = sized[fixable].groupby(EDGE)[["findings", "units", "value"]].sum()
    table = edges.take(sums.index.to_numpy()).reset_index(drop=True)
    table = table.assign(**{c: sums[c].to_numpy() for c in ("findings", "units", "value")})
    table = table.sort_values(FIX_EDGE, na_position="last", ignore_index=True)
    total = float(sized["units"].sum())
    table["share"] = table["units"] / total if total > 0 else 0.0
    table = table.sort_values(["value", "units"], ascending=False, kind="stable")
    return table[columns].reset_index(drop=True)
