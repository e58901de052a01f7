"""The simulator's physical world, day by day (vectorized over keys), with its faults drawn.

:func:`run_days` moves stock per key (sku × location) through the day's phases (sync,
counts, receipts, manual changes, orders, shrink, reorders) and draws every fault of a
:class:`~driftkit.simulate.faults.Faults` into a :class:`Log`.
Private: the public surface is :mod:`driftkit.simulate.simulation`; see ``docs/simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from driftkit.simulate.faults import Faults
from driftkit.simulate.plan import DAY, Plan

HOLDER, ERP, SHOP = 0, 1, 2  # fault targets: the key's holder (wms or 3pl), erp, shop
HOUR = 3600
_DELTAS = np.array([-6, -4, -3, -2, -2, -1, -1, 1, 2, 3, 5])  # manual change sizes


class _Parts:
    """Column chunks appended day by day, concatenated once at the end."""

    def __init__(self) -> None:
        self.chunks: dict[str, list[np.ndarray]] = {}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.chunks.setdefault(name, []).append(np.asarray(values))

    def done(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(chunks) for name, chunks in self.chunks.items()}


@dataclass(frozen=True, eq=False)
class Log:
    """What happened physically, with the faults drawn for each business event."""

    receipts: dict[str, np.ndarray]  # j qty t po target cause lag_t amended
    sales: dict[str, np.ndarray]  # j acc sold cancel t_order t_ship order target cause ...
    counts: dict[str, np.ndarray]  # j qty t no
    syncs: dict[str, np.ndarray]  # j value correct stale t_read t
    changes: dict[str, np.ndarray]  # target j delta t
    physical: np.ndarray  # (days, keys) end-of-day on hand
    wanted: np.ndarray  # (days, keys) units customers wanted
    accepted: np.ndarray  # (days, keys) units the storefront let them order
    sold: np.ndarray  # (days, keys) units shipped


@dataclass
class _World:
    """Mutable state of the day loop (vectors over keys)."""

    phys: np.ndarray
    err: np.ndarray  # (3, keys): record − physical for holder, erp, shop
    back: np.ndarray  # (days + 5, 2, keys): lagged records landing before that day's read
    po_open: np.ndarray
    po_qty: np.ndarray
    po_day: np.ndarray
    po_no: np.ndarray
    prev_read: np.ndarray
    counted: np.ndarray
    touched: np.ndarray
    next_po: int = 100
    next_order: int = 1001
    next_count: int = 1


_NAMES = ("receipts", "sales", "counts", "syncs", "changes")
_DAILY = ("physical", "wanted", "accepted", "sold")


def run_days(plan: Plan, faults: Faults, seed: int) -> Log:
    """Simulate the physical world and draw every fault (see docs/simulator.md)."""
    rng = np.random.default_rng([seed, 1])
    k, days = plan.n_keys, plan.days
    zeros = np.zeros(k, np.int64)
    w = _World(
        phys=plan.initial.astype(np.int64),
        err=np.zeros((3, k), np.int64),
        back=np.zeros((days + 5, 2, k), np.int64),
        po_open=np.zeros(k, bool),
        po_qty=zeros.copy(),
        po_day=zeros.copy(),
        po_no=zeros.copy(),
        prev_read=plan.initial.astype(np.int64),
        counted=np.zeros(k, bool),
        touched=np.zeros(k, bool),
    )
    parts = {name: _Parts() for name in _NAMES}
    out = {name: np.zeros((days, k), np.int64) for name in _DAILY}
    for d in range(days):
        base = plan.day0 + d * DAY
        w.err[:2] += w.back[d]
        _sync(plan, faults, rng, w, base, parts["syncs"])
        counted = _count(plan, d, rng, w, base, parts["counts"])
        arrived = _receive(plan, faults, rng, w, d, base, parts["receipts"])
        _change(faults, rng, w, base, parts["changes"])
        wanted, sold, accepted = _sell(plan, faults, rng, w, d, base, parts["sales"])
        _shrink(faults, rng, w)
        _reorder(plan, w, d)
        w.counted, w.touched = counted, counted | arrived
        for name, values in zip(_DAILY, (w.phys, wanted, accepted, sold), strict=True):
            out[name][d] = values
    done = {name: parts[name].done() for name in _NAMES}
    return Log(
        receipts=done["receipts"],
        sales=done["sales"],
        counts=done["counts"],
        syncs=done["syncs"],
        changes=done["changes"],
        physical=out["physical"],
        wanted=out["wanted"],
        accepted=out["accepted"],
        sold=out["sold"],
    )


def _sync(
    plan: Plan, faults: Faults, rng: np.random.Generator, w: _World, base: int, parts: _Parts
) -> None:
    """04:00 read of each key's holder, pushed to the storefront 04:05–04:30."""
    source = w.phys + w.err[HOLDER]
    stale = w.counted & (rng.random(source.size) < faults.stale_overwrite)
    stale &= w.prev_read != source
    push = w.touched | (w.err[SHOP] != w.err[HOLDER]) | stale
    value = np.where(stale, w.prev_read, source)
    idx = np.flatnonzero(push)
    parts.add(
        j=idx,
        value=value[idx],
        correct=source[idx],
        stale=stale[idx],
        t_read=base + 4 * HOUR - np.where(stale[idx], DAY, 0),
        t=base + rng.integers(4 * HOUR + 300, 4 * HOUR + 1800, idx.size),
    )
    w.err[SHOP] = np.where(push, value - w.phys, w.err[SHOP])
    w.prev_read = source


def _count(
    plan: Plan, d: int, rng: np.random.Generator, w: _World, base: int, parts: _Parts
) -> np.ndarray:
    """05:15–05:45 cycle counts on a rotating tenth of the keys; every system is reset."""
    counted = (d - plan.count_phase) % plan.cycle == 0
    idx = np.flatnonzero(counted)
    t = base + rng.integers(5 * HOUR + 900, 5 * HOUR + 2700, idx.size)
    parts.add(j=idx, qty=w.phys[idx], t=t, no=w.next_count + np.arange(idx.size))
    w.next_count += idx.size
    w.err[:, counted] = 0
    return counted


def _counted_between(
    plan: Plan, keys: np.ndarray, low: np.ndarray | int, high: np.ndarray | int
) -> np.ndarray:
    """Whether each key is counted on some day in [low, high]."""
    first = low + (plan.count_phase[keys] - low) % plan.cycle
    return first <= high


def _lag(
    plan: Plan, rng: np.random.Generator, keys: np.ndarray, d: int, base: int, candidate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lag applies, landing day, local record time): 1–3 days late, never across a count."""
    lag_days = rng.integers(1, 4, keys.size)
    ok = candidate & (d + lag_days < plan.days)
    ok &= ~_counted_between(plan, keys, d + 1, d + lag_days)
    t = base + lag_days * DAY + rng.integers(9 * HOUR, 21 * HOUR, keys.size)
    return ok, d + lag_days + 1, t


def _receive(
    plan: Plan,
    faults: Faults,
    rng: np.random.Generator,
    w: _World,
    d: int,
    base: int,
    parts: _Parts,
) -> np.ndarray:
    """06:10–08:00 purchase-order receipts; a few go missing or land late in one system."""
    arrived = w.po_open & (w.po_day == d)
    idx = np.flatnonzero(arrived)
    qty = w.po_qty[idx]
    w.phys[idx] += qty
    w.po_open[idx] = False
    u, r = rng.random(idx.size), rng.random(idx.size)
    missing = u < faults.missing_event
    held = ~plan.third_party[idx]
    lost_in = np.where(
        held, np.where(r < 0.7, HOLDER, np.where(r < 0.85, ERP, SHOP)), ERP + (r < 0.5)
    )
    lagged, landing, lag_t = _lag(
        plan, rng, idx, d, base, ~missing & (u < faults.missing_event + faults.sync_lag)
    )
    target = np.where(missing, lost_in, np.where(lagged, np.where(r < 0.5, HOLDER, ERP), -1))
    hit = target >= 0
    np.add.at(w.err, (target[hit], idx[hit]), -qty[hit])
    np.add.at(w.back, (landing[lagged], target[lagged], idx[lagged]), qty[lagged])
    amended = (missing & (lost_in == HOLDER)) | (rng.random(idx.size) < 0.03)
    parts.add(
        j=idx,
        qty=qty,
        t=base + rng.integers(6 * HOUR + 600, 8 * HOUR, idx.size),
        po=w.po_no[idx],
        target=target,
        cause=np.where(missing, 1, np.where(lagged, 2, 0)),
        lag_t=lag_t,
        amended=amended,
    )
    return arrived


def _change(faults: Faults, rng: np.random.Generator, w: _World, base: int, parts: _Parts) -> None:
    """09:00–18:00 manual overrides with no event, in the holder, the ERP or the shop."""
    target, idx = np.nonzero(rng.random(w.err.shape) < faults.unrecorded_change)
    delta = rng.choice(_DELTAS, idx.size)
    np.add.at(w.err, (target, idx), delta)
    t = base + rng.integers(9 * HOUR, 18 * HOUR, idx.size)
    parts.add(target=target, j=idx, delta=delta, t=t)


def _sell(
    plan: Plan,
    faults: Faults,
    rng: np.random.Generator,
    w: _World,
    d: int,
    base: int,
    parts: _Parts,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """08:00–20:00 storefront orders, capped by what the shop shows; shipped within 3 h."""
    wanted = plan.demand_on(d, rng)
    accepted = np.minimum(wanted, np.maximum(w.phys + w.err[SHOP], 0))
    sold = np.minimum(accepted, np.maximum(w.phys, 0))
    w.phys -= sold
    idx = np.flatnonzero(accepted)
    t_order = base + rng.integers(8 * HOUR, 20 * HOUR, idx.size)
    number = np.empty(idx.size, np.int64)
    number[np.argsort(t_order, kind="stable")] = w.next_order + np.arange(idx.size)
    w.next_order += idx.size
    q = sold[idx]
    u, r = rng.random(idx.size), rng.random(idx.size)
    dup = (q > 0) & (u < faults.duplicate_event)
    candidate = (q > 0) & ~dup & (u < faults.duplicate_event + faults.sync_lag)
    lagged, landing, lag_t = _lag(plan, rng, idx, d, base, candidate)
    target = np.where(dup | lagged, np.where(r < 0.5, HOLDER, ERP), -1)
    np.add.at(w.err, (target[dup], idx[dup]), -q[dup])
    np.add.at(w.err, (target[lagged], idx[lagged]), q[lagged])
    np.add.at(w.back, (landing[lagged], target[lagged], idx[lagged]), -q[lagged])
    parts.add(
        j=idx,
        acc=accepted[idx],
        sold=q,
        t_order=t_order,
        t_ship=t_order + rng.integers(1800, 3 * HOUR, idx.size),
        order=number,
        target=target,
        cause=np.where(dup, 1, np.where(lagged, 2, 0)),
        lag_t=lag_t,
        replay=rng.random(idx.size) < 0.5,
    )
    return wanted, sold, accepted


def _shrink(faults: Faults, rng: np.random.Generator, w: _World) -> None:
    """23:45 one unit of physical loss that no system records."""
    lost = ((rng.random(w.phys.size) < faults.shrink) & (w.phys > 0)).astype(np.int64)
    w.phys -= lost
    w.err += lost


def _reorder(plan: Plan, w: _World, d: int) -> None:
    """23:50 reorder point on the holder's record; one open purchase order per key."""
    position = w.phys + w.err[HOLDER] + np.where(w.po_open, w.po_qty, 0)
    new = ~w.po_open & (position <= plan.rop)
    w.po_no[new] = w.next_po + np.arange(int(new.sum()))
    w.next_po += int(new.sum())
    w.po_qty[new] = plan.order_qty[new]
    w.po_day[new] = d + plan.lead[new]
    w.po_open |= new
