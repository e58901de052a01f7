"""What each system of the simulator recorded: its canonical events, from the physical log.

Each system has its own latency, event ids and reference formats; receipts, orders,
shipments, counts, syncs and manual changes become event rows per system, faults applied.
Private: the public surface is :mod:`driftkit.simulate.simulation`; see ``docs/simulator.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftkit import schema as S
from driftkit.simulate.plan import Plan
from driftkit.simulate.world import ERP, HOLDER, HOUR, SHOP, Log, _Parts

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
