"""The record the count list compares with where the authority does not record a key.

DESIGN §7 prices phantom stockouts, oversells and record errors against the authority.  A
location the authority does not keep (a 3PL's warehouse when the authority is the client's
WMS) has no authority stock, so every count-list term was 0 there, though its storefront can
show units the shelf no longer has.  There no record is known to be right, so the count
list asks what each present record would cost if it were the right one and keeps the
largest: among the non-selling records of the key (stock holders — WMS, 3PL — first, then
the ERP), the one whose stock gives the storefront's largest phantom-stockout or oversell
cost stands in for the authority (the largest disagreement; the location's own holder when
no record disagrees with the storefront).  A count settles which record is right.

Only the count list reads it (:func:`key_state`): the headline numbers (phantom stockout
days, lost sales, oversell) keep DESIGN's authority.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from driftkit.config import ImpactParams
from driftkit.drift.align import Grid
from driftkit.impact.costs import Planning
from driftkit.impact.countlist import KeyState, last_observed, selling_component
from driftkit.impact.demand import Demand
from driftkit.impact.stock import Stock


@dataclass(frozen=True)
class StandIn:
    """Per key without an authority record, the record standing in for it.

    Attributes
    ----------
    keys
        Key codes (positions in the grid's keys) that take a stand-in.
    record
        Per such key, the position of its stand-in in ``Stock.record_systems``.
    """

    keys: np.ndarray
    record: np.ndarray


def stand_in(state: KeyState, stock: Stock, params: ImpactParams) -> StandIn:
    """Which record stands in for the authority, for every key the authority never records.

    Each present non-selling record (``stock.records``) is tried as the authority stock;
    the one with the largest :func:`~driftkit.impact.countlist.selling_component` value
    wins, the first in ``stock.record_systems`` order on ties (a stock holder first).

    Returns
    -------
    StandIn
        ``keys`` and ``record`` (empty where every key has its authority or none has a record).
    """
    none = StandIn(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if stock.records is None or not stock.record_systems:
        return none
    last = last_observed(stock.records)
    keys = np.nonzero(np.isnan(state.authority) & ~np.isnan(last).all(axis=0))[0]
    if keys.size == 0:
        return none
    horizon = params.projection_weeks * 7.0
    value = np.stack(
        [
            selling_component(_with_authority(state, keys, row[keys]), params, horizon).value[keys]
            for row in last  # one pass per record system, vectorized over keys
        ]
    )
    value = np.where(np.isnan(last[:, keys]), -np.inf, value)
    return StandIn(keys, np.argmax(value, axis=0))


def _with_authority(state: KeyState, keys: np.ndarray, stock: np.ndarray) -> KeyState:
    authority = state.authority.copy()
    authority[keys] = stock
    return replace(state, authority=authority)


def with_stand_in(state: KeyState, grid: Grid, stock: Stock, params: ImpactParams) -> KeyState:
    """``state`` with :func:`stand_in`'s record as the authority of the keys it covers: its
    last sellable stock, its name in ``authority_names``, and each system's drift re-based
    on it (the last day both are observed)."""
    chosen = stand_in(state, stock, params)
    if chosen.keys.size == 0 or stock.records is None:
        return state
    keys, record = chosen.keys, chosen.record
    names = np.full(len(state.rate), state.authority_name, dtype=object)
    names[keys] = np.asarray(stock.record_systems, dtype=object)[record]
    drift = state.drift.copy()
    drift[:, keys] = _drift_against(grid, stock, keys, record)
    authority = last_observed(stock.records)[record, keys]
    return replace(_with_authority(state, keys, authority), drift=drift, authority_names=names)


def _drift_against(grid: Grid, stock: Stock, keys: np.ndarray, record: np.ndarray) -> np.ndarray:
    """``[non-authority system, len(keys)]``: last observed v_s − v_record of each key."""
    rows = np.asarray([grid.index(s) for s in stock.record_systems])[record]
    base = grid.values[rows, keys]
    others = grid.values[[grid.index(s) for s in stock.drift_systems]][:, keys]
    return last_observed(others - base[None])


def key_state(
    grid: Grid,
    stock: Stock,
    demand: Demand,
    plan: Planning,
    costs: dict[str, np.ndarray],
    params: ImpactParams,
) -> KeyState:
    """The count list's input: last observed records and planning inputs per key, a record
    standing in for the authority where it does not record a key (:func:`with_stand_in`)."""
    state = KeyState(
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
    return with_stand_in(state, grid, stock, params)
