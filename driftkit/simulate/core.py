"""The simulator's stack: every system's tables, the counts, the ground truth, true stock.

:func:`build_stack` turns the physical log of :func:`~driftkit.simulate.world.run_days` into each
system's canonical events (:mod:`driftkit.simulate.records`) and snapshots (its events replayed
at its snapshot time), the counts, the ground truth and the true stock and demand.
Private: the public surface is :mod:`driftkit.simulate.simulation`; see ``docs/simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from driftkit import schema as S
from driftkit.simulate.plan import DAY, SYSTEMS, Plan
from driftkit.simulate.records import _FORMATS as _FORMATS
from driftkit.simulate.records import _ID as _ID
from driftkit.simulate.records import (
    _KIND_CODE,
    _event_table,
    _in_packs,
    _references,
    _scope,
    _system_rows,
    _timestamps,
)
from driftkit.simulate.records import _KIND_NAMES as _KIND_NAMES
from driftkit.simulate.records import _LATENCY as _LATENCY
from driftkit.simulate.records import _REF as _REF
from driftkit.simulate.records import _ROLE as _ROLE
from driftkit.simulate.records import _event_ids as _event_ids
from driftkit.simulate.records import _Rows as _Rows
from driftkit.simulate.records import _sales_rows as _sales_rows
from driftkit.simulate.world import _DAILY as _DAILY
from driftkit.simulate.world import _DELTAS as _DELTAS
from driftkit.simulate.world import _NAMES as _NAMES
from driftkit.simulate.world import ERP, HOLDER, HOUR, SHOP, Log, _Parts
from driftkit.simulate.world import _change as _change
from driftkit.simulate.world import _count as _count
from driftkit.simulate.world import _counted_between as _counted_between
from driftkit.simulate.world import _lag as _lag
from driftkit.simulate.world import _receive as _receive
from driftkit.simulate.world import _reorder as _reorder
from driftkit.simulate.world import _sell as _sell
from driftkit.simulate.world import _shrink as _shrink
from driftkit.simulate.world import _sync as _sync
from driftkit.simulate.world import _World as _World
from driftkit.simulate.world import run_days as run_days

_SNAP_TIME = {
    "wms": 23 * HOUR + 1800,
    "erp": 21 * HOUR,
    "3pl": 19 * HOUR,
    "shop": 23 * HOUR + 3540,
}


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
