"""The simulator's engine: the physical world day by day, and what each system recorded.

:func:`run_days` moves stock per key (sku × location) through the day's phases (sync,
counts, receipts, manual changes, orders, shrink, reorders) and draws every fault of a
:class:`~driftkit.simulate.Faults`; :func:`build_stack` turns that log into each system's
canonical events and snapshots, the counts, the ground truth and the true stock and demand.
Private: the public surface is :mod:`driftkit.simulate`; see ``docs/simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from driftkit import schema as S

if TYPE_CHECKING:
    from driftkit.simulate import Faults, Plan

SYSTEMS = ("wms", "erp", "shop", "3pl")
HOLDER, ERP, SHOP = 0, 1, 2  # fault targets: the key's holder (wms or 3pl), erp, shop
HOUR = 3600
DAY = 86400
_DELTAS = np.array([-6, -4, -3, -2, -2, -1, -1, 1, 2, 3, 5])  # manual change sizes


# --- the physical world, day by day (vectorized over keys) --------------------------------


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


# --- what each system recorded -------------------------------------------------------------

_ROLE = {"wms": HOLDER, "3pl": HOLDER, "erp": ERP, "shop": SHOP}
_KIND_CODE = {k: i for i, k in enumerate(S.EventKind)}
_KIND_NAMES = pa.array([k.value for k in S.EventKind], pa.string())
# latency (recorded_at − occurred_at): lognormal median seconds, sigma, cap seconds
_LATENCY = {
    "wms": (90, 1.0, 2 * HOUR),
    "erp": (HOUR, 0.7, 5 * HOUR),
    "3pl": (1800, 0.8, 3 * HOUR + 1800),
    "shop": (600, 0.9, 3 * HOUR),
}
# reference formats: prefix, zero-padded width, suffix
_FORMATS = [
    ("", 0, ""),
    ("PO-", 6, ""),
    ("po ", 0, ""),
    ("#T", 4, ""),
    ("PO#", 0, "-A"),
    ("#", 0, ""),
    ("SO-", 6, ""),
    ("ORD ", 0, ""),
    ("CC-", 6, ""),
    ("CC", 0, ""),
    ("cc ", 0, ""),
]
_REF = {  # system → (receipt, order, count) format codes; ERP amended POs use 4
    "wms": (1, 6, 8),
    "erp": (0, 0, 9),
    "3pl": (2, 7, 10),
    "shop": (3, 5, 8),
}
_ID = {
    "wms": ("", 1000000),
    "erp": ("JE-", 500000),
    "3pl": ("act_", 70000),
    "shop": ("", 5000000000),
}
_SNAP_TIME = {
    "wms": 23 * HOUR + 1800,
    "erp": 21 * HOUR,
    "3pl": 19 * HOUR,
    "shop": 23 * HOUR + 3540,
}


class _Rows:
    """Event rows of one system, built chunk by chunk (UTC seconds)."""

    def __init__(self, plan: Plan, system: str, rng: np.random.Generator) -> None:
        self.plan, self.system, self.rng = plan, system, rng
        self.parts = _Parts()
        self.size = 0

    def latency(self, n: int) -> np.ndarray:
        median, sigma, cap = _LATENCY[self.system]
        return np.clip(self.rng.lognormal(np.log(median), sigma, n), 1, cap).astype(np.int64)

    def add(
        self, j: np.ndarray, kind: S.EventKind, occ_local: np.ndarray, **cols: Any
    ) -> np.ndarray:
        n = j.size
        occ = self.plan.utc(occ_local)
        anchor = cols.pop("anchor", np.full(n, -1))
        lat = cols.pop("lat", None)
        lat = self.latency(n) if lat is None else lat
        rec = cols.pop(
            "rec",
            np.where(anchor >= 0, self.plan.utc(np.maximum(anchor, self.plan.day0)), occ + lat),
        )
        nan = np.full(n, np.nan)
        row = dict(
            j=j,
            kind=np.full(n, _KIND_CODE[kind]),
            qty=nan,
            commit=nan,
            setq=nan,
            occ=occ,
            rec=rec,
            src=np.full(n, -1),
            fmt=np.full(n, -1),
            no=np.zeros(n, np.int64),
            hidden=np.zeros(n, bool),
            same_as=np.full(n, -1),
        )
        row.update({name: np.broadcast_to(v, n) for name, v in cols.items()})
        self.parts.add(**row)
        self.size += n
        return rec


def _scope(plan: Plan, system: str, keys: np.ndarray) -> np.ndarray:
    if system == "wms":
        return ~plan.third_party[keys]
    if system == "3pl":
        return plan.third_party[keys]
    return np.ones(keys.size, bool)


def _system_rows(
    plan: Plan, log: Log, system: str, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    rows, role = _Rows(plan, system, rng), _ROLE[system]
    receipt_fmt, order_fmt, count_fmt = _REF[system]
    r = {k: v[_scope(plan, system, log.receipts["j"])] for k, v in log.receipts.items()}
    mine = r["target"] == role
    keep = ~(mine & (r["cause"] == 1))
    fmt = np.where(r["amended"], 4, receipt_fmt) if system == "erp" else receipt_fmt
    anchor = np.where(mine & (r["cause"] == 2), r["lag_t"], -1)
    rows.add(
        r["j"][keep],
        S.EventKind.RECEIPT,
        r["t"][keep],
        qty=r["qty"][keep].astype(float),
        anchor=anchor[keep],
        fmt=np.broadcast_to(fmt, keep.size)[keep],
        no=r["po"][keep],
    )
    _sales_rows(rows, log, role, order_fmt)
    c = {k: v[_scope(plan, system, log.counts["j"])] for k, v in log.counts.items()}
    src = c["t"] if system == "shop" else np.full(c["j"].size, -1)
    rows.add(
        c["j"],
        S.EventKind.COUNT,
        c["t"],
        setq=c["qty"].astype(float),
        fmt=count_fmt,
        no=c["no"],
        lat=rng.integers(60, 900, c["j"].size),
        src=plan.utc(src) if system == "shop" else src,
    )
    if system == "shop":
        y = log.syncs
        rows.add(
            y["j"],
            S.EventKind.SYNC,
            y["t"],
            setq=y["value"].astype(float),
            src=plan.utc(y["t_read"]),
            lat=rng.integers(1, 10, y["j"].size),
        )
    h = {k: v[_scope(plan, system, log.changes["j"])] for k, v in log.changes.items()}
    h = {k: v[h["target"] == role] for k, v in h.items()}
    rows.add(
        h["j"],
        S.EventKind.ADJUSTMENT,
        h["t"],
        qty=h["delta"].astype(float),
        lat=np.zeros(h["j"].size, np.int64),
        hidden=True,
    )
    return rows.parts.done()


def _sales_rows(rows: _Rows, log: Log, role: int, order_fmt: int) -> None:
    system, plan = rows.system, rows.plan
    s = {k: v[_scope(plan, system, log.sales["j"])] for k, v in log.sales.items()}
    mine = s["target"] == role
    lag = mine & (s["cause"] == 2)
    dup = mine & (s["cause"] == 1)
    shipped = s["sold"] > 0
    if system != "erp":
        lat = rows.rng.integers(1, 5, s["j"].size) if system == "shop" else None
        start = rows.size
        order_rec = rows.add(
            s["j"],
            S.EventKind.ORDER,
            s["t_order"],
            commit=s["acc"].astype(float),
            fmt=order_fmt,
            no=s["order"],
            lat=lat,
        )
        cancel = s["acc"] - s["sold"]
        has = cancel > 0
        rows.add(
            s["j"][has],
            S.EventKind.CANCEL,
            s["t_ship"][has],
            commit=-cancel[has].astype(float),
            fmt=order_fmt,
            no=s["order"][has],
        )
    ship_start = rows.size
    commit = -s["sold"][shipped].astype(float)
    if system == "erp":  # the ERP keeps no reservations
        commit = np.full(commit.size, np.nan)
    ship_rec = rows.add(
        s["j"][shipped],
        S.EventKind.SHIPMENT,
        s["t_ship"][shipped],
        qty=-s["sold"][shipped].astype(float),
        commit=commit,
        fmt=order_fmt,
        no=s["order"][shipped],
        anchor=np.where(lag, s["lag_t"], -1)[shipped],
    )
    delay = rows.rng.integers(60, 1800, s["j"].size)
    replay = s["replay"]
    if system != "erp":  # the retry re-sends the whole order: reservation and shipment
        same = np.where(replay, start + np.arange(s["j"].size), -1)
        rows.add(
            s["j"][dup],
            S.EventKind.ORDER,
            s["t_order"][dup],
            commit=s["acc"][dup].astype(float),
            fmt=order_fmt,
            no=s["order"][dup],
            rec=order_rec[dup] + delay[dup],
            same_as=same[dup],
        )
    at = np.cumsum(shipped) - 1 + ship_start
    d2 = dup[shipped]
    same = np.where(replay[shipped], at[shipped], -1)
    rows.add(
        s["j"][shipped][d2],
        S.EventKind.SHIPMENT,
        s["t_ship"][shipped][d2],
        qty=-s["sold"][shipped][d2].astype(float),
        commit=commit[d2],
        fmt=order_fmt,
        no=s["order"][shipped][d2],
        rec=ship_rec[d2] + delay[shipped][d2],
        same_as=same[d2],
    )


def _event_ids(system: str, rows: dict[str, np.ndarray], order: np.ndarray) -> pa.Array:
    """Sequential ids in recorded order; a replayed delivery repeats its original's id."""
    numbered = order[rows["same_as"][order] < 0]
    seq = np.zeros(rows["j"].size, np.int64)
    seq[numbered] = np.arange(1, numbered.size + 1)
    replayed = rows["same_as"] >= 0
    seq[replayed] = seq[rows["same_as"][replayed]]
    prefix, first = _ID[system]
    return pc.binary_join_element_wise(
        prefix, pc.cast(pa.array(seq[order] + first), pa.string()), ""
    )


def _references(fmt: np.ndarray, no: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(normalized reference = the number, raw reference as this system writes it)."""
    digits = pc.cast(pa.array(no), pa.string())
    raw = pa.nulls(fmt.size, pa.string())
    for code in np.unique(fmt[fmt >= 0]):
        prefix, width, suffix = _FORMATS[code]
        body = pc.utf8_lpad(digits, width=width, padding="0") if width else digits
        raw = pc.if_else(
            pa.array(fmt == code), pc.binary_join_element_wise(prefix, body, suffix, ""), raw
        )
    return pc.if_else(pa.array(fmt >= 0), digits, pa.nulls(fmt.size, pa.string())), raw


def _timestamps(seconds: np.ndarray) -> pa.Array:
    mask = seconds < 0
    return pa.array(seconds * 1_000_000, pa.timestamp("us", tz="UTC"), mask=mask)


def _in_packs(plan: Plan, system: str, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The ERP's values for unit-mismatched keys: eaches / pack size, rounded to 0.01."""
    if system != "erp":
        return values
    packs = plan.pack[plan.key_sku[keys]]
    return np.where(plan.erp_packs[keys], np.round(values / packs, 2), values)


def _event_table(plan: Plan, system: str, rows: dict[str, np.ndarray]) -> pa.Table:
    visible = np.flatnonzero(~rows["hidden"])
    order = visible[np.lexsort((visible, rows["rec"][visible]))]
    j = rows["j"][order]
    reference, raw = _references(rows["fmt"][order], rows["no"][order])
    columns = {
        S.SYSTEM: pa.array(np.full(order.size, system), pa.string()),
        S.SKU: plan.skus.take(pa.array(plan.key_sku[j])),
        S.LOCATION: pa.array(np.array(plan.locations, dtype=object)[plan.key_loc[j]], pa.string()),
        S.EVENT_ID: _event_ids(system, rows, order),
        S.KIND: _KIND_NAMES.take(pa.array(rows["kind"][order])),
        S.QTY_DELTA: pa.array(_in_packs(plan, system, j, rows["qty"][order]), from_pandas=True),
        S.COMMIT_DELTA: pa.array(rows["commit"][order], from_pandas=True),
        S.SET_QTY: pa.array(_in_packs(plan, system, j, rows["setq"][order]), from_pandas=True),
        S.OCCURRED_AT: _timestamps(rows["occ"][order]),
        S.RECORDED_AT: _timestamps(rows["rec"][order]),
        S.REFERENCE: reference,
        S.RAW_REFERENCE: raw,
        S.SOURCE_AS_OF: _timestamps(rows["src"][order]),
    }
    return pa.table(columns, schema=S.EVENTS).append_column("_key", pa.array(j))


def _snapshot_days(plan: Plan, system: str, rng: np.random.Generator) -> np.ndarray:
    days = np.arange(plan.days)
    if system != "3pl":
        return days
    weekday = (np.datetime64(plan.start) + days).astype(np.int64) % 7  # 3 = Sunday
    skipped = (weekday == 3) | (rng.random(days.size) < 0.1)
    return days[~skipped | (days == 0)]


def _replay(
    plan: Plan, rows: dict[str, np.ndarray], keys: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(on hand, committed) per key (major) and time: the system's record at each time."""
    nk, nt, ne = keys.size, times.size, rows["j"].size
    is_set = np.isin(rows["kind"], [_KIND_CODE[S.EventKind.COUNT], _KIND_CODE[S.EventKind.SYNC]])
    j = np.concatenate([keys, rows["j"], np.repeat(keys, nt)]).astype(np.int64)
    t = np.concatenate([np.full(nk, plan.day0 - DAY), rows["rec"], np.tile(times, nk)])
    rank = np.repeat(np.array([0, 1, 2], np.int64), [nk, ne, nk * nt])
    # one int64 sort key: key (high bits), seconds since the start (33 bits), rank (2 bits)
    since = np.clip(t - (plan.day0 - 2 * DAY), 0, 2**33 - 1)
    order = np.argsort((j << 35) | (since << 2) | rank, kind="stable")
    absolute = np.concatenate([np.ones(nk, bool), is_set, np.zeros(nk * nt, bool)])[order]
    base = np.concatenate([plan.initial[keys], np.nan_to_num(rows["setq"]), np.zeros(nk * nt)])[
        order
    ]
    delta = np.concatenate(
        [np.zeros(nk), np.where(is_set, 0, np.nan_to_num(rows["qty"])), np.zeros(nk * nt)]
    )[order]
    commit = np.concatenate([np.zeros(nk), np.nan_to_num(rows["commit"]), np.zeros(nk * nt)])[order]
    seg_start = np.flatnonzero(absolute)
    seg = np.cumsum(absolute) - 1
    moved = np.cumsum(delta)
    on_hand = base[seg_start][seg] + moved - moved[seg_start][seg]
    key_start = np.flatnonzero(rank[order] == 0)
    kseg = np.cumsum(rank[order] == 0) - 1
    reserved = np.cumsum(commit)
    committed = reserved - reserved[key_start][kseg]
    probe = rank[order] == 2
    return np.round(on_hand[probe], 6), np.round(committed[probe], 6)


def _snapshot_table(
    plan: Plan, system: str, rows: dict[str, np.ndarray], rng: np.random.Generator
) -> pa.Table:
    keys = np.flatnonzero(_scope(plan, system, np.arange(plan.n_keys)))
    days = _snapshot_days(plan, system, rng)
    times = plan.utc(plan.day0 + days * DAY + _SNAP_TIME[system])
    on_hand, committed = _replay(plan, rows, keys, times)
    j = np.repeat(keys, times.size)
    on_hand = _in_packs(plan, system, j, on_hand)
    nan = np.full(j.size, np.nan)
    committed = committed if system in ("wms", "3pl", "shop") else nan
    available = on_hand - committed if system in ("3pl", "shop") else nan
    columns = {
        S.SYSTEM: pa.array(np.full(j.size, system), pa.string()),
        S.SKU: plan.skus.take(pa.array(plan.key_sku[j])),
        S.LOCATION: pa.array(np.array(plan.locations, dtype=object)[plan.key_loc[j]], pa.string()),
        S.AS_OF: _timestamps(np.tile(times, keys.size)),
        S.ON_HAND: pa.array(on_hand),
        S.AVAILABLE: pa.array(available, from_pandas=True),
        S.COMMITTED: pa.array(committed, from_pandas=True),
    }
    return pa.table(columns, schema=S.SNAPSHOTS).append_column("_key", pa.array(j))


# --- the stack: every system's tables, counts and ground truth ------------------------------


@dataclass(frozen=True, eq=False)
class Stack:
    """Canonical Arrow tables per system (plus a private ``_key`` column) and the truth."""

    events: dict[str, pa.Table]
    snapshots: dict[str, pa.Table]
    counts: pa.Table
    catalog: pd.DataFrame
    truth: pa.Table
    physical: pa.Table
    demand: pa.Table

    def frames(self, *, full: bool = True) -> dict[str, pd.DataFrame]:
        """The public pandas frames of :class:`Simulation` (``full=False``: large ones empty)."""

        def public(*tables: pa.Table) -> pd.DataFrame:
            table = pa.concat_tables(
                [t.drop(["_key"]) if "_key" in t.column_names else t for t in tables]
            )
            return (table if full else table.slice(0, 0)).to_pandas()

        return {
            "snapshots": public(*self.snapshots.values()),
            "events": public(*self.events.values()),
            "counts": public(self.counts),
            "catalog": self.catalog.drop(columns="_raw_sku"),
            "ground_truth": self.truth.to_pandas(),
            "physical": public(self.physical),
            "demand": public(self.demand),
        }


def build_stack(plan: Plan, log: Log, seed: int, *, walk_away_share: float) -> Stack:
    """Turn the physical log into each system's events and snapshots, and the truth."""
    events, snapshots = {}, {}
    for n, system in enumerate(SYSTEMS):
        rng = np.random.default_rng([seed, 2, n])
        rows = _system_rows(plan, log, system, rng)
        events[system] = _event_table(plan, system, rows)
        snapshots[system] = _snapshot_table(plan, system, rows, rng)
    return Stack(
        events=events,
        snapshots=snapshots,
        counts=_counts_table(plan, log),
        catalog=plan.catalog,
        truth=_truth_table(plan, log),
        physical=_daily_table(plan, {S.ON_HAND: log.physical}),
        demand=_demand_table(plan, log, np.random.default_rng([seed, 3]), walk_away_share),
    )


def _demand_table(
    plan: Plan, log: Log, rng: np.random.Generator, walk_away_share: float
) -> pa.Table:
    """Demand per key and day; blocked units split per unit into walked away and retained."""
    blocked = log.wanted - log.accepted
    lost = rng.binomial(blocked, walk_away_share)
    values = {"demand": log.wanted, "sold": log.sold, "blocked": blocked, "lost": lost}
    return _daily_table(plan, {**values, "retained": blocked - lost})


DEMAND_COLUMNS = ("sku", "location", "day", "demand", "sold", "blocked", "lost", "retained")


def _key_columns(plan: Plan, keys: np.ndarray) -> dict[str, pa.Array]:
    return {
        S.SKU: plan.skus.take(pa.array(plan.key_sku[keys])),
        S.LOCATION: pa.array(
            np.array(plan.locations, dtype=object)[plan.key_loc[keys]], pa.string()
        ),
    }


def _counts_table(plan: Plan, log: Log) -> pa.Table:
    c = log.counts
    columns = {
        **_key_columns(plan, c["j"]),
        S.COUNTED_AT: _timestamps(plan.utc(c["t"])),
        S.COUNTED_QTY: pa.array(c["qty"].astype(np.float64)),
    }
    return pa.table(columns, schema=S.COUNTS).append_column("_key", pa.array(c["j"]))


def _daily_table(plan: Plan, values: dict[str, np.ndarray]) -> pa.Table:
    days, keys = next(iter(values.values())).shape
    j = np.tile(np.arange(keys), days)
    day = np.repeat(np.datetime64(plan.start) + np.arange(days), keys)
    columns = {**_key_columns(plan, j), "day": pa.array(day)}
    kind = np.float64 if S.ON_HAND in values else np.int64
    columns.update({name: pa.array(v.reshape(-1).astype(kind)) for name, v in values.items()})
    return pa.table(columns)


TRUTH_COLUMNS = ("system", "sku", "location", "cause", "time", "units", "reference")


def _truth_table(plan: Plan, log: Log) -> pa.Table:
    """One row per injected fault; ``units`` = signed effect on that system's count."""
    r, s, y, h = log.receipts, log.sales, log.syncs, log.changes
    parts = _Parts()

    def add(
        cause: str,
        hit: np.ndarray,
        j: np.ndarray,
        target: np.ndarray,
        t: np.ndarray,
        units: np.ndarray,
        ref: np.ndarray | None,
    ) -> None:
        parts.add(
            j=j[hit],
            target=target[hit],
            t=t[hit],
            units=units[hit].astype(float),
            ref=(ref[hit] if ref is not None else np.full(int(hit.sum()), -1)),
            cause=np.full(int(hit.sum()), cause),
        )

    add("missing_event", r["cause"] == 1, r["j"], r["target"], r["t"], -r["qty"], r["po"])
    add("sync_lag", r["cause"] == 2, r["j"], r["target"], r["t"], -r["qty"], r["po"])
    add(
        "duplicate_event", s["cause"] == 1, s["j"], s["target"], s["t_ship"], -s["sold"], s["order"]
    )
    add("sync_lag", s["cause"] == 2, s["j"], s["target"], s["t_ship"], s["sold"], s["order"])
    add(
        "stale_overwrite",
        y["stale"],
        y["j"],
        np.full(y["j"].size, SHOP),
        y["t"],
        y["value"] - y["correct"],
        None,
    )
    add("unrecorded_change", h["delta"] != 0, h["j"], h["target"], h["t"], h["delta"], None)
    keys = np.flatnonzero(plan.erp_packs)
    first = np.full(keys.size, plan.day0)
    units = _in_packs(plan, "erp", keys, plan.initial[keys].astype(float)) - plan.initial[keys]
    add("unit_mismatch", units != 0, keys, np.full(keys.size, ERP), first, units, None)
    p = parts.done()
    order = np.lexsort((p["j"], plan.utc(p["t"])))
    p = {k: v[order] for k, v in p.items()}
    names = np.array(["", "erp", "shop"], dtype=object)[p["target"]]
    holder = np.where(plan.third_party[p["j"]], "3pl", "wms")
    system = np.where(p["target"] == HOLDER, holder, names)
    reference, _ = _references(np.where(p["ref"] >= 0, 0, -1), np.maximum(p["ref"], 0))
    return pa.table(
        {
            "system": pa.array(system.astype(str)),
            **_key_columns(plan, p["j"]),
            "cause": pa.array(p["cause"].astype(str)),
            "time": _timestamps(plan.utc(p["t"])),
            "units": pa.array(p["units"]),
            "reference": reference,
        }
    )
