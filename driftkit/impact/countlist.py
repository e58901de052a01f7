"""What to count next (DESIGN §7): keys ranked by the money their open drift is about to cost.

The ranking score of a key is the expected cost over the next ``projection_weeks`` if its
records stay as they are on the last day: phantom-stockout revenue and oversell pick
failures on the selling systems, the stockouts after a late reorder (or the carrying cost
of an early one) on the worst record, the carrying cost of the inflated safety stock and an
empty shelf the records miss (silent, sold out since the record, or short since the
count).  Every ``empty_check_every``-th rank is an empty-shelf check instead
(:mod:`driftkit.impact.checks`).  Formulas and sources: ``docs/impact.md``; lift:
:mod:`driftkit.impact.lift`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.config import ImpactParams
from driftkit.impact import theory
from driftkit.impact.checks import LIST, MONEY, candidates, check_columns, check_order, interleaved
from driftkit.impact.keystate import KeyState
from driftkit.impact.sellout import empty_shelf
from driftkit.impact.silence import authority_names
from driftkit.schema import LOCATION, SKU, SYSTEM

DAYS_PER_YEAR = 365.0
COUNT_LIST_COLUMNS = (
    "rank",
    SKU,
    LOCATION,
    SYSTEM,
    "expected_value",
    "reason",
    "drift_units",
    "cause",
    LIST,
)
RANKING_COLUMNS = ("demand_rate", "window_value", "unit_cost")  # count_rows' tie-breaks


def last_observed(values: np.ndarray) -> np.ndarray:
    """The last non-NaN value along the last (day) axis; NaN where none."""
    seen = ~np.isnan(values)
    last = values.shape[-1] - 1 - np.argmax(seen[..., ::-1], axis=-1)
    picked = np.take_along_axis(values, last[..., None], axis=-1)[..., 0]
    return np.where(seen.any(axis=-1), picked, np.nan)


@dataclass(frozen=True)
class _Component:
    value: np.ndarray  # money per key over the horizon
    system: np.ndarray  # object: the system to fix
    reason: pd.Series  # str: why


def selling_component(state: KeyState, params: ImpactParams, horizon: float) -> _Component:
    """Phantom-stockout revenue and oversell pick failures of the worst selling system.

    With Q = demand over the horizon, A = authority stock, S = the selling system's
    available: lost units = walk-away × max(0, min(Q, A) − max(S, 0)); oversold units =
    max(0, min(Q, S) − max(A, 0)).
    """
    n_keys = len(state.keys)
    if not state.selling_systems:
        return _Component(np.zeros(n_keys), np.full(n_keys, "", dtype=object), _blank(n_keys))
    demand = (state.rate * horizon)[None]
    known = ~np.isnan(state.authority)[None]
    stock = np.maximum(np.nan_to_num(state.authority), 0.0)[None]
    shown = np.maximum(np.nan_to_num(state.selling, nan=np.inf), 0.0)
    lost = params.walk_away_share * np.maximum(np.minimum(demand, stock) - shown, 0.0)
    shown = np.nan_to_num(state.selling, nan=-np.inf)
    over = np.maximum(np.minimum(demand, shown) - stock, 0.0)
    lost_value = lost * np.nan_to_num(state.unit_price)[None]
    value = np.where(known, lost_value + over * params.pick_failure_cost, 0.0)
    worst = np.argmax(value, axis=0)
    pick = np.arange(n_keys)
    names = np.asarray(state.selling_systems, dtype=object)[worst]
    shows = _fmt(state.selling[worst, pick])
    phantom = lost_value[worst, pick] >= over[worst, pick] * params.pick_failure_cost
    empty = np.nan_to_num(state.selling[worst, pick], nan=1.0) <= 0
    kind = np.where(
        phantom, np.where(empty, "phantom stockout: ", "phantom stockout ahead: "), "oversell: "
    )
    holds = authority_names(state) + " " + _fmt(state.authority)
    reason = kind + names + " shows " + shows + " available, " + holds
    return _Component(value[worst, pick], names, pd.Series(reason, dtype="str"))


def record_component(state: KeyState, params: ImpactParams, horizon: float) -> _Component:
    """Late-reorder stockouts (or early-reorder carrying cost) of the worst record.

    The worst record is the planning record (non-authority, non-selling; any
    non-authority system when there is none) with the largest |drift| on its last
    observed day.  Overstatement e > 0: the extra expected shortage over one lead time
    (:func:`driftkit.impact.theory.late_reorder_shortage`) × walk-away share × unit
    price.
    Understatement: |e| units carried early, × unit_cost × holding_rate × horizon/365.
    """
    n_keys = len(state.keys)
    if not state.drift_systems:
        return _Component(np.zeros(n_keys), np.full(n_keys, "", dtype=object), _blank(n_keys))
    size = np.nan_to_num(np.abs(state.drift), nan=-1.0)
    planning = np.asarray([s not in state.selling_systems for s in state.drift_systems])
    if planning.any():
        size = np.where(planning[:, None], size, -2.0)
    worst = np.argmax(size, axis=0)
    error = np.nan_to_num(state.drift[worst, np.arange(n_keys)])
    short = theory.late_reorder_shortage(state.rate, state.sd, state.lead_time, state.z, error)
    late = short * params.walk_away_share * np.nan_to_num(state.unit_price)
    early = np.maximum(-error, 0.0) * np.nan_to_num(state.unit_cost) * params.holding_rate
    value = late + early * horizon / DAYS_PER_YEAR
    names = np.asarray(state.drift_systems, dtype=object)[worst]
    days = np.divide(error, state.rate, out=np.zeros(n_keys), where=state.rate > 0)
    over = "late reorder: " + names + " overstates by " + _fmt(error)
    over = over + " (" + _fmt(np.round(days, 1)) + " days of demand)"
    under = "early reorder: " + names + " understates by " + _fmt(-error)
    reason = np.where(error > 0, over, np.where(error < 0, under, "no open drift"))
    return _Component(value, names, pd.Series(reason, dtype="str"))


def count_list(
    state: KeyState,
    params: ImpactParams,
    findings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Keys ranked by the expected cost of their open drift: what to count next.

    Parameters
    ----------
    state
        Last observed records and planning inputs per key.
    params
        Impact parameters; the horizon is ``projection_weeks`` × 7 days.
    findings
        Attribution findings (``sku, location, system, cause, units``, and ``confidence``
        when known: each is weighted by it); optional.

    Returns
    -------
    pandas.DataFrame
        ``rank, sku, location, system, expected_value, reason, drift_units, cause, list``;
        one row per key, best first.  ``expected_value`` is the expected cost (currency) over
        the horizon if the records stay as they are; ``system`` the record to correct;
        ``drift_units`` its last observed v_system − v_authority; ``cause`` the attributed
        cause of the finding on that (key, system) that explains the most units in
        expectation (|units| × its calibrated confidence; on a tie the latest
        ``last_seen``, then the findings' order), NaN when unknown.  Ties (and
        keys without open drift) are ordered by value at risk, window cost, then velocity.
        ``list``: ``money``, or ``empty_check`` where the row holds an empty-shelf check
        (its reason says so; :mod:`driftkit.impact.checks`).
    """
    return rank_count_list(count_rows(state, params, findings))


def count_rows(
    state: KeyState,
    params: ImpactParams,
    findings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The count list's rows before ranking, with what the ranking reads (one row per key).

    The rows of every part are ranked together by :func:`rank_count_list`.

    Returns
    -------
    pandas.DataFrame
        ``sku, location, system, expected_value, reason, drift_units, cause`` (as in
        :func:`count_list`), the tie-breaks :data:`RANKING_COLUMNS`: ``demand_rate``,
        ``window_value`` (the key's cost over the window) and ``unit_cost``, and the
        empty-shelf checks' :data:`~driftkit.impact.checks.CHECK_COLUMNS` (those of
        :func:`driftkit.impact.checks.check_columns`, and ``check_drift``, ``check_cause``:
        the drift and cause ("" when none) of the system a check row names); key order.
    """
    horizon = params.projection_weeks * 7.0
    selling = selling_component(state, params, horizon)
    record = record_component(state, params, horizon)
    carrying = state.extra_capital * params.holding_rate * horizon / DAYS_PER_YEAR
    silent, why = empty_shelf(state, params, horizon)
    use_selling = (selling.value >= record.value) & (selling.value > 0)
    use_silent = silent > np.maximum(np.maximum(selling.value, record.value), carrying)
    system = np.where(use_selling, selling.system, record.system)
    reason = np.where(use_selling, selling.reason, record.reason)
    table = (
        state.keys[[SKU, LOCATION]]
        .reset_index(drop=True)
        .assign(
            system=np.where(use_silent, authority_names(state), system),
            expected_value=selling.value + record.value + carrying + silent,
            reason=np.where(use_silent, why, reason),
        )
    )
    table["reason"] = _capital_reason(table["reason"], state, carrying)
    table["drift_units"] = _drift_of(state, table[SYSTEM].to_numpy())
    table["reason"] = _fallback_reason(table, state)
    top = _top_causes(findings)
    table["cause"] = _causes(table, top)
    ranking = {"demand_rate": state.rate, "window_value": state.window_value}
    checks = check_columns(state, params)  # a check row's drift and cause: of its system
    checks["check_drift"] = _drift_of(state, checks["check_system"])
    named = table[[SKU, LOCATION]].assign(system=checks["check_system"])
    checks["check_cause"] = _causes(named, top).fillna("").to_numpy(dtype=object)
    return table.assign(**ranking, unit_cost=state.unit_cost, **checks)


def count_list_keys(rows: pd.DataFrame) -> list[np.ndarray]:
    """:func:`rank_count_list`'s order as ``numpy.lexsort`` keys (the first sort key last)."""
    used = ("drift_units", "unit_cost", "demand_rate", "window_value", "expected_value")
    num = {c: rows[c].to_numpy(dtype=float) for c in used}
    at_risk = np.abs(np.nan_to_num(num["drift_units"])) * np.nan_to_num(num["unit_cost"])
    keys = [-num["demand_rate"], -num["window_value"], -at_risk, -num["expected_value"]]
    return [rows[LOCATION].to_numpy(dtype=object), rows[SKU].to_numpy(dtype=object), *keys]


def rank_count_list(rows: pd.DataFrame) -> pd.DataFrame:
    """Rank count-list rows (:func:`count_rows`, of one part or of all parts) over all keys.

    The money order: expected value, then value at risk (|drift_units| × unit_cost), window
    value, demand rate, sku and location, all descending but the key; every
    ``check_every``-th rank goes to an empty-shelf check (:mod:`driftkit.impact.checks`).

    Returns
    -------
    pandas.DataFrame
        :data:`COUNT_LIST_COLUMNS` (see :func:`count_list`), best first.
    """
    money = rows.iloc[np.lexsort(count_list_keys(rows))].reset_index(drop=True)
    if "check_chance" not in money or not len(money):  # no check: the money order
        return numbered(money.assign(**{LIST: MONEY}))
    every = int(money["check_every"].max())
    merged = interleaved([money], check_order(candidates(money)), every)
    return numbered(pd.concat(list(merged), ignore_index=True))


def numbered(table: pd.DataFrame, *, before: int = 0) -> pd.DataFrame:
    """Final count-list rows (in their order) numbered from ``before`` + 1, with
    :data:`COUNT_LIST_COLUMNS` only."""
    table = table.reset_index(drop=True)
    table.insert(0, "rank", np.arange(before + 1, before + len(table) + 1))
    return table[list(COUNT_LIST_COLUMNS)].astype(
        {SKU: "str", LOCATION: "str", SYSTEM: "str", "reason": "str", "cause": "str", LIST: "str"}
    )


def _capital_reason(reason: pd.Series, state: KeyState, carrying: np.ndarray) -> pd.Series:
    """Keys without open drift whose record error inflates safety stock say so."""
    inflated = (reason == "no open drift") & (carrying > 0)
    capital = _fmt(np.round(state.extra_capital, 2))
    capital = "record error inflates safety stock (capital " + capital + ")"
    return reason.where(~inflated, pd.Series(capital, dtype="str"))


def _drift_of(state: KeyState, systems: np.ndarray) -> np.ndarray:
    lookup = {name: i for i, name in enumerate(state.drift_systems)}
    row = pd.Series(systems, dtype=object).map(lookup).fillna(-1).to_numpy(dtype=np.int64)
    if not state.drift_systems:
        return np.full(len(systems), np.nan)
    picked = state.drift[np.maximum(row, 0), np.arange(len(systems))]
    return np.where(row >= 0, picked, np.nan)


def _fallback_reason(table: pd.DataFrame, state: KeyState) -> pd.Series:
    open_drift = table["drift_units"].fillna(0.0) != 0
    none = table["expected_value"] <= 0
    drifted = state.window_value > 0
    reason = table["reason"].where(~(none & open_drift), "open drift, no demand at risk")
    reason = reason.where(~(none & ~open_drift & drifted), "drift cost earlier in the window")
    return reason.where(~(none & ~open_drift & ~drifted), "no drift seen")


def _top_causes(findings: pd.DataFrame | None) -> pd.Series | None:
    """Per (sku, location, system) with findings: the cause of the one explaining the most
    units in expectation (|units| × confidence); a tie goes to the latest ``last_seen`` (it
    acts on the record now), then to the findings' order.  None without findings."""
    if findings is None or findings.empty:
        return None
    weight = findings.get("confidence", 1.0)
    ranked = findings.assign(size=findings["units"].abs() * weight)  # expected units
    by = ["size", "last_seen"] if "last_seen" in ranked else ["size"]
    ranked = ranked.sort_values(by, ascending=False, kind="stable")
    top = ranked.drop_duplicates([SKU, LOCATION, SYSTEM])
    return top.set_index([SKU, LOCATION, SYSTEM])["cause"]


def _causes(table: pd.DataFrame, top: pd.Series | None) -> pd.Series:
    """:func:`_top_causes` of each row's (sku, location, system); NaN where none."""
    if top is None:
        return pd.Series(np.nan, index=table.index, dtype="str")
    where = pd.MultiIndex.from_frame(table[[SKU, LOCATION, SYSTEM]])
    return pd.Series(top.reindex(where).to_numpy(), index=table.index, dtype="str")


def _fmt(values: np.ndarray) -> np.ndarray:
    text = pd.Series(np.asarray(values, dtype=np.float64)).map("{:g}".format)
    return text.to_numpy(dtype=object)


def _blank(n: int) -> pd.Series:
    return pd.Series([""] * n, dtype="str")
