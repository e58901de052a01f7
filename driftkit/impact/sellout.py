"""Sold out since the record: a few units of a fast seller are likely gone by the count.

The count list believes the shelf holds what the authority (or the record standing in for
it) showed at its last snapshot.  That record was taken some time τ before the window's end
(a 3PL's snapshot of 19:00, or of the day before; plus :data:`COUNT_AFTER_DAYS`); a key
showing A units that sells λ a day has likely sold them since when λτ reaches A.
If the shelf is empty while a record above the reorder point still shows units, nothing
reorders it and the storefront keeps offering it, until a count; at or below the reorder
point a reorder is due and refills the shelf whatever the record says
(:func:`shelf_loss_units`); meanwhile the storefront takes orders for units the shelf
lacks (:func:`offered_units`).  :func:`sold_out` prices that chance as lost sales and pick
failures (:func:`empty_shelf_value`); :func:`empty_shelf` takes the larger of it and the
silent shelf (:mod:`driftkit.impact.silence`), both being an empty shelf the records miss.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from driftkit.config import ImpactParams
from driftkit.drift.align import Grid
from driftkit.drift.codes import column_codes, key_positions
from driftkit.impact import theory
from driftkit.impact.silence import (
    SILENT_AT,
    SilentState,
    authority_names,
    likely_value,
    silent_shelf,
    with_prior,
)
from driftkit.schema import AS_OF, LOCATION, SKU, SYSTEM

#: Days between the window's end and the count.  0: the list describes the window's end.  One
#: day (a list worked the next day) was tried on seeds the figures do not report
#: (docs/impact.md): it finds more unknown out-of-stocks but displaces true discrepancies.
COUNT_AFTER_DAYS = 0.0

#: SKU × location pairs up to which :func:`record_ages` finds keys by one dense table.
DENSE_PAIRS = 1 << 20


def record_ages(snapshots: pd.DataFrame, grid: Grid, timezone: str) -> np.ndarray:
    """``[system, key]``: days from each system's last snapshot of a key in the window to
    the count (the window's end + :data:`COUNT_AFTER_DAYS`); NaN where it has none.

    Each row's (system, key) cell comes from the snapshots' cached column codes
    (:func:`~driftkit.drift.codes.column_codes`) through tables over their distinct
    values (:func:`_cell_of_codes`), and the latest as-of per cell is one ``maximum.at``
    on integers: no per-row text work on a 12M-row snapshot table.
    """
    end = pd.Timestamp(grid.days[-1] + pd.Timedelta(days=1)).tz_localize(timezone)
    as_of = snapshots[AS_OF]
    cell = _cell_of_codes(snapshots, grid)
    cell[~(as_of <= end).to_numpy()] = -1
    kept = cell >= 0
    stamps = np.asarray(as_of.array.asi8)
    latest = np.full(grid.values.shape[0] * len(grid.keys), np.iinfo(np.int64).min)
    np.maximum.at(latest, cell[kept], stamps[kept])
    seen = np.flatnonzero(latest > np.iinfo(np.int64).min)
    stamp = pd.Series(latest[seen].view(f"M8[{as_of.dt.unit}]")).dt.tz_localize("UTC")
    last = stamp.dt.tz_convert(as_of.dt.tz)
    ages = np.full(grid.values.shape[:2], np.nan)
    since = (end - last).dt.total_seconds().to_numpy() / 86400.0
    ages.reshape(-1)[seen] = since + COUNT_AFTER_DAYS
    return ages


def _cell_of_codes(snapshots: pd.DataFrame, grid: Grid) -> np.ndarray:
    """Each row's ``system × n_keys + key`` on ``grid``, int64 (−1 where either is absent)."""
    system, systems = column_codes(snapshots[SYSTEM])
    row = np.append(pd.Index(grid.systems).get_indexer(pd.Index(systems)), -1)[system]
    key = _key_of_codes(snapshots, grid.keys)
    cell = row.astype(np.int64) * len(grid.keys) + key
    cell[(row < 0) | (key < 0)] = -1
    return cell


def _key_of_codes(snapshots: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Each row's position in ``keys`` (−1 where absent): what
    :func:`~driftkit.drift.codes.key_positions` gives, by one table over every pair of
    distinct SKU and location (looked up by text once) where that table is small."""
    sku, skus = column_codes(snapshots[SKU])
    location, locations = column_codes(snapshots[LOCATION])
    space = len(skus) * len(locations)
    if space > max(8 * len(keys), DENSE_PAIRS):
        return key_positions(snapshots, keys)
    pairs = pd.MultiIndex.from_product([pd.Index(skus), pd.Index(locations)])
    table = np.append(pd.MultiIndex.from_frame(keys[[SKU, LOCATION]]).get_indexer(pairs), -1)
    pair = sku.astype(np.int64) * len(locations) + location
    pair[(sku < 0) | (location < 0)] = space
    return table[pair]


def believed_age(ages: np.ndarray, systems: tuple[str, ...], names: np.ndarray) -> np.ndarray:
    """Per key: the age (:func:`record_ages`) of the record named in ``names`` (the
    authority, or the record standing in for it); NaN where that system has no record."""
    row = pd.Index(systems).get_indexer(pd.Index(names))
    picked = ages[np.maximum(row, 0), np.arange(len(names))]
    return np.where(row >= 0, picked, np.nan)


class SoldOutState(SilentState, Protocol):
    """What :func:`empty_shelf` reads of a count list's key state (arrays per key)."""

    @property
    def sd(self) -> np.ndarray: ...
    @property
    def selling(self) -> np.ndarray: ...
    @property
    def record_age(self) -> np.ndarray | None: ...
    @property
    def record_error(self) -> np.ndarray | None: ...
    @property
    def lead_time(self) -> np.ndarray: ...
    @property
    def z(self) -> np.ndarray: ...


def sold_out(state: SoldOutState, params: ImpactParams, horizon: float) -> np.ndarray:
    """Per key: P(out) × :func:`empty_shelf_value` where P(out) ≥
    :data:`~driftkit.impact.silence.SILENT_AT` (more likely out than not), else 0.

    P(out) = P(demand over the record's age τ ≥ A) (:func:`theory.demand_at_least`, mean
    λτ, the key's variance-to-mean ratio), A the believed record's last sellable stock; 0
    where A ≤ 0 (the records know), λ = 0 or the age is unknown.  Below one half the term
    is 0, as for the silent shelf: weighing every low-stock fast seller by a small chance
    fills the list's top with keys whose records are right (docs/impact.md).
    """
    lost = empty_shelf_value(state, params, horizon)
    return likely_value(sold_out_chance(state), lost)  # the chance is 0 below SILENT_AT


def sold_out_chance(state: SoldOutState) -> np.ndarray:
    """Per key: P(out) of :func:`sold_out` where it is at least
    :data:`~driftkit.impact.silence.SILENT_AT` and A > 0, λ > 0, τ > 0; else 0."""
    if state.record_age is None:
        return np.zeros(len(state.rate))
    held = np.nan_to_num(state.authority) > 0
    age = np.nan_to_num(state.record_age)
    phi = np.divide(state.sd**2, state.rate, out=np.ones(len(state.rate)), where=state.rate > 0)
    gone = theory.demand_at_least(state.rate * age, phi, state.authority)
    likely = held & (state.rate > 0) & (age > 0) & (gone >= SILENT_AT)
    return np.where(likely, gone, 0.0)


def short_since_count(state: SoldOutState) -> np.ndarray:
    """Per key: P(the shelf is empty) from the count history and the sales' silence.

    The prior is P(E ≥ A): E ~ Poisson(the units the records overstate by since the key's
    last count, :func:`driftkit.impact.recount.lost_since_count`), A the believed record's
    last sellable stock; the key's trailing silence updates it by Bayes' rule
    (:func:`~driftkit.impact.silence.with_prior`; a key that kept selling keeps its prior).
    0 where A ≤ 0 or without a count history.
    """
    prior = lost_reaches_record(state)
    return prior if state.empty_shelf is None else with_prior(state.empty_shelf, prior)


def lost_reaches_record(state: SoldOutState) -> np.ndarray:
    """Per key: P(E ≥ A), E ~ Poisson(the units the records overstate by since the key's
    last count, :func:`driftkit.impact.recount.lost_since_count`) and A the believed
    record's last sellable stock: the count history's chance that a count finds the shelf
    empty.  0 where A ≤ 0 or without a count history."""
    if state.record_error is None:
        return np.zeros(len(state.rate))
    ones = np.ones(len(state.rate))
    prior = theory.demand_at_least(np.nan_to_num(state.record_error), ones, state.authority)
    return np.where(np.nan_to_num(state.authority) > 0, prior, 0.0)


def wrong_since_count(state: SoldOutState, params: ImpactParams, horizon: float) -> np.ndarray:
    """Per key: :func:`short_since_count` × :func:`empty_shelf_value`, for every
    probability: unlike :func:`sold_out` it is not gated, its prior being the client's own
    count history rather than an assumed share (docs/impact.md)."""
    return short_since_count(state) * empty_shelf_value(state, params, horizon)


def shelf_loss_units(state: SoldOutState, horizon: float) -> np.ndarray:
    """Per key: the demand an empty shelf under the believed record A loses to that record.

    Above the reorder point (λL + z√L·σ, :func:`theory.reorder_point`) no reorder comes
    while the record stands still: the shelf stays empty until a count, Q = λ × horizon.
    At or below it a reorder is due (under a reorder-point policy it fired when the record
    crossed the point) and refills the shelf on arrival whatever the record says; what the
    record's error costs is the A units it shows and the shelf lacks, min(Q, A⁺).  The
    three empty-shelf terms share these units (:func:`empty_shelf_value`).
    """
    demand = state.rate * horizon
    shown = np.maximum(np.nan_to_num(state.authority), 0.0)
    rop = theory.reorder_point(state.rate, state.sd, state.lead_time, state.z)
    return np.where(shown > rop, demand, np.minimum(demand, shown))


def offered_units(state: SoldOutState, horizon: float) -> np.ndarray:
    """Per key: the units the storefront takes orders for that an empty shelf under the
    believed record A cannot fill, beyond those the oversell term already charges:
    min(λ × horizon, S⁺, A⁺), S the largest last available of the selling systems (0 where
    none is known).

    The oversell term (:func:`driftkit.impact.countlist.selling_component`) charges
    min(Q, S) − A pick failures believing the shelf holds A; on an empty shelf the other
    min(Q, S, A) fail too.
    """
    offered = np.zeros(len(state.rate))
    if state.selling.size:
        offered = np.nan_to_num(state.selling, nan=0.0).max(axis=0)
    held = np.maximum(np.nan_to_num(state.authority), 0.0)
    return np.minimum(np.minimum(state.rate * horizon, np.maximum(offered, 0.0)), held)


def empty_shelf_value(
    state: SoldOutState,
    params: ImpactParams,
    horizon: float,
    *,
    units: np.ndarray | None = None,
) -> np.ndarray:
    """Per key: what an empty shelf under the believed record costs over the horizon:
    walk-away × :func:`shelf_loss_units` × unit price (lost sales) + :func:`offered_units`
    × pick-failure cost (orders the storefront takes for units the shelf lacks).

    ``units``: :func:`shelf_loss_units`, when already computed.
    """
    lost = shelf_loss_units(state, horizon) if units is None else units
    walk_away = params.walk_away_share * lost * np.nan_to_num(state.unit_price)
    return walk_away + offered_units(state, horizon) * params.pick_failure_cost


def empty_shelf(
    state: SoldOutState, params: ImpactParams, horizon: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per key: the value of a shelf the records think stocked — the largest of
    :func:`sold_out`, :func:`wrong_since_count` and
    :func:`~driftkit.impact.silence.silent_shelf` — and why (object)."""
    units = shelf_loss_units(state, horizon)  # the reorder points: once for the three terms
    lost = empty_shelf_value(state, params, horizon, units=units)
    silent, why = silent_shelf(state, lost)
    chance = short_since_count(state)
    short = chance * lost  # wrong_since_count
    why = _short_reason(state, short, chance, silent, why)
    silent = np.maximum(silent, short)
    gone = likely_value(sold_out_chance(state), lost)  # sold_out
    age = state.record_age if state.record_age is not None else np.zeros(len(gone))
    wins = np.flatnonzero(gone > silent)  # only these keys' reasons are written
    sold = (
        "likely sold out: "
        + authority_names(state)[wins]
        + " shows "
        + texts(state.authority[wins], "{:g}")
        + " at "
        + texts(state.rate[wins], "{:.2f}")
        + " a day, "
        + texts(age[wins], "{:.1f}")
        + " days before the count"
    )
    reasons = np.asarray(why, dtype=object).copy()
    reasons[wins] = sold
    return np.maximum(silent, gone), reasons


def _short_reason(
    state: SoldOutState, short: np.ndarray, chance: np.ndarray, silent: np.ndarray, why: np.ndarray
) -> np.ndarray:
    """``why`` with the reason of :func:`wrong_since_count` (``short``, of probability
    ``chance``) where it beats the silent shelf."""
    wins = np.flatnonzero(short > silent)
    lost = state.record_error if state.record_error is not None else np.zeros(len(short))
    reasons = np.asarray(why, dtype=object).copy()
    reasons[wins] = (
        "likely short since the count: "
        + authority_names(state)[wins]
        + " shows "
        + texts(state.authority[wins], "{:g}")
        + ", counts find "
        + texts(np.nan_to_num(lost)[wins], "{:.2f}")
        + " units lost unrecorded by now (P(empty) "
        + texts(chance[wins], "{:.2f}")
        + ")"
    )
    return reasons


def texts(values: np.ndarray, form: str) -> np.ndarray:
    """Each value formatted with ``form`` (e.g. ``"{:.2f}"``; NaN as ``nan``), object array."""
    return pd.Series(np.asarray(values, dtype=float)).map(form.format).to_numpy(dtype=object)
