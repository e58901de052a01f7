"""Benchmark: explorer responsiveness on a 100k-SKU × 30-day client (DESIGN §11: ≤ 150 ms).

Run from the repository root::

    .venv/bin/python bench/bench_explore.py [--skus 100000 --locations 2 --days 30] [--repeat 40]
    .venv/bin/python bench/bench_explore.py --simulated /tmp/acme100k [--skus 100000 --days 30]

With ``--simulated DIR`` the client is ``driftkit.simulate.simulation`` output (written there first when
DIR holds no client.toml), loaded, aligned and compared; attribution and impact are skipped
(they take many minutes at this size), so the findings and impact views are empty.
Otherwise the explorer's inputs are generated directly at that size: a grid of 4 systems with
random-walk stock and injected drift episodes, ~1 event per key and day (orders, shipments,
receipts, syncs with references), cycle counts, one episode and one finding per injected
drift, and an impact row per drifted key.  Then it drives the widgets the way a user does
and times each change until every view has been redrawn:

* typing a whole SKU into the search box (search 200k keys, select, redraw);
* clicking ``next ▶`` on the worst-first list;
* moving the date-range slider;
* toggling a system off and on.

Widget messages are serialized to JSON as a kernel would (a comm that ``json.dumps`` every
state update), so the figure includes sending the chart spec, not the browser's drawing.
Prints init time and median / p95 ms per action.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import comm
import numpy as np
import pandas as pd
from comm.base_comm import BaseComm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from driftkit import schema
from driftkit.drift.align import Grid
from driftkit.explorer.app import Explorer, ExplorerData

SYSTEMS = ("wms", "erp", "shop", "3pl")
TZ = "America/Chicago"
START = pd.Timestamp("2026-09-01")
DRIFT_SHARE = 0.05
KINDS = np.array(["order", "shipment", "receipt", "sync", "adjustment"])
CAUSES = np.array(["duplicate_event", "missing_event", "sync_lag", "stale_overwrite"])


class JsonComm(BaseComm):
    """A comm that encodes every message as a kernel would, and sends it nowhere."""

    sent_bytes = 0

    def publish_msg(
        self, msg_type: str, data: Any = None, metadata: Any = None, **keys: Any
    ) -> None:
        JsonComm.sent_bytes += len(json.dumps({"data": data, "metadata": metadata}, default=str))


def build(skus: int, locations: int, days: int, rate: float, seed: int) -> ExplorerData:
    """The explorer's inputs at the requested size (vectorized)."""
    rng = np.random.default_rng(seed)
    n_keys = skus * locations
    keys = pd.DataFrame(
        {
            "sku": pd.Series(np.repeat([f"S{i:06d}" for i in range(skus)], locations), dtype="str"),
            "location": pd.Series(
                np.tile([f"loc{j}" for j in range(locations)], skus), dtype="str"
            ),
        }
    )
    stock = rng.integers(0, 60, n_keys)[:, None] + rng.integers(-2, 3, (n_keys, days)).cumsum(1)
    values = np.repeat(np.maximum(stock, 0)[None].astype(float), len(SYSTEMS), axis=0)
    drifted = rng.choice(n_keys, int(n_keys * DRIFT_SHARE), replace=False)
    system = rng.integers(1, len(SYSTEMS), len(drifted))
    start = rng.integers(0, days - 3, len(drifted))
    length = rng.integers(1, 8, len(drifted))
    end = np.minimum(start + length, days) - 1
    delta = rng.choice([-3.0, -2.0, -1.0, 1.0, 2.0], len(drifted))
    day = np.arange(days)
    inside = (day >= start[:, None]) & (day <= end[:, None])
    values[system, drifted] += np.where(inside, delta[:, None], 0.0)
    grid = Grid(keys, SYSTEMS, pd.date_range(START, periods=days), values, "wms")
    return ExplorerData(
        grid=grid,
        events=_events(rng, keys, days, rate),
        counts=_counts(rng, keys, days),
        episodes=_episodes(keys, drifted, system, start, end, delta),
        findings=_findings(rng, keys, drifted, system, start, end, delta),
        impact=keys.iloc[np.sort(drifted)].assign(lost_sales_units=1.5, oversell_units=0.0),
        timezone=TZ,
        client="bench",
    )


def _events(rng: np.random.Generator, keys: pd.DataFrame, days: int, rate: float) -> pd.DataFrame:
    n = int(len(keys) * days * rate)
    code = rng.integers(0, len(keys), n)
    when = pd.Timestamp(START, tz=TZ).tz_convert("UTC") + pd.to_timedelta(
        rng.integers(0, days * 86_400, n), unit="s"
    )
    kind = KINDS[rng.integers(0, len(KINDS), n)]
    number = pd.Series(rng.integers(1, 10**6, n)).astype("str")
    frame = pd.DataFrame(
        {
            "system": np.asarray(SYSTEMS)[rng.integers(0, len(SYSTEMS), n)],
            "sku": keys["sku"].to_numpy()[code],
            "location": keys["location"].to_numpy()[code],
            "event_id": pd.Series(np.arange(n)).astype("str"),
            "kind": kind,
            "qty_delta": np.where(kind == "sync", np.nan, rng.integers(-3, 4, n).astype(float)),
            "set_qty": np.where(kind == "sync", rng.integers(0, 60, n).astype(float), np.nan),
            "occurred_at": when,
            "reference": number,
            "raw_reference": "SO-" + number,
        }
    )
    return schema.conform(frame, "events")


def _counts(rng: np.random.Generator, keys: pd.DataFrame, days: int) -> pd.DataFrame:
    code = rng.integers(0, len(keys), len(keys) // 7 * days // 7)
    frame = pd.DataFrame(
        {
            "sku": keys["sku"].to_numpy()[code],
            "location": keys["location"].to_numpy()[code],
            "counted_at": pd.Timestamp(START, tz="UTC")
            + pd.to_timedelta(rng.integers(0, days * 24, len(code)), unit="h"),
            "counted_qty": rng.integers(0, 60, len(code)).astype(float),
        }
    )
    return schema.conform(frame, "counts")


def _episodes(
    keys: pd.DataFrame,
    drifted: np.ndarray,
    system: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    delta: np.ndarray,
) -> pd.DataFrame:
    picked = keys.iloc[drifted].reset_index(drop=True)
    return picked.assign(
        system=np.asarray(SYSTEMS)[system],
        counterpart="wms",
        start=START + pd.to_timedelta(start, unit="D"),
        end=START + pd.to_timedelta(end, unit="D"),
        days=end - start + 1,
        peak_abs_drift=np.abs(delta),
        mean_drift=delta,
        open=False,
    )


def _findings(
    rng: np.random.Generator,
    keys: pd.DataFrame,
    drifted: np.ndarray,
    system: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    delta: np.ndarray,
) -> pd.DataFrame:
    picked = keys.iloc[drifted].reset_index(drop=True)
    first = pd.Timestamp(START, tz=TZ).tz_convert("UTC") + pd.to_timedelta(start, unit="D")
    reference = pd.Series(rng.integers(1, 10**6, len(drifted))).astype("str")
    return picked.assign(
        system=np.asarray(SYSTEMS)[system],
        counterpart="wms",
        cause=CAUSES[rng.integers(0, len(CAUSES), len(drifted))],
        first_seen=first,
        last_seen=first + pd.to_timedelta(end - start, unit="D"),
        units=delta,
        value=np.abs(delta) * 12.5,
        confidence=0.8,
        evidence="order SO-" + reference + " (ref " + reference + ") applied twice",
    )


def load_simulated(folder: Path, skus: int, days: int, seed: int) -> ExplorerData:
    """A ``driftkit.simulate.simulation`` client (simulated first if needed): load, align, compare."""
    from driftkit.config import load_config
    from driftkit.drift.align import align
    from driftkit.drift.compare import compare
    from driftkit.load.client import load_client
    from driftkit.simulate.simulation import simulate

    if not (folder / "client.toml").is_file():
        simulate(folder, skus=skus, days=days, seed=seed)
    config = load_config(folder)
    data = load_client(config, progress=False)
    grid = align(data.snapshots, config)
    comparison = compare(grid, config, data.catalog)
    return ExplorerData(
        grid=grid,
        events=data.events,
        counts=data.counts,
        episodes=comparison.episodes,
        catalog=data.catalog,
        timezone=config.timezone,
        tolerance=config.tolerance,
        client=config.id,
    )


def timed(action: Any, runs: int) -> np.ndarray:
    """Milliseconds per call of ``action(i)`` (one warm-up call first)."""
    action(-1)
    out = np.empty(runs)
    for i in range(runs):
        began = time.perf_counter()
        action(i)
        out[i] = (time.perf_counter() - began) * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--locations", type=int, default=2)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--events-per-key-day", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--simulated", type=Path, default=None, metavar="DIR")
    args = parser.parse_args()
    comm.create_comm = JsonComm  # type: ignore[assignment]

    began = time.perf_counter()
    if args.simulated is not None:
        data = load_simulated(args.simulated, args.skus, args.days, args.seed)
    else:
        data = build(args.skus, args.locations, args.days, args.events_per_key_day, args.seed)
    built = time.perf_counter() - began
    began = time.perf_counter()
    explorer = Explorer(data, export_dir="reports/explore")
    ready = time.perf_counter() - began
    controls = explorer.controls
    rng = np.random.default_rng(args.seed + 1)
    skus = data.grid.keys["sku"].to_numpy()[rng.integers(0, len(data.grid.keys), args.repeat + 1)]
    last = len(data.grid.days) - 1
    ranges = [(int(a), int(a) + 6) for a in rng.integers(0, last - 6, args.repeat + 1)]
    every = tuple(data.grid.systems)

    def type_sku(i: int) -> None:
        controls.search.value = str(skus[i])

    def toggle(i: int) -> None:
        controls.systems.value = every if i % 2 else every[:-1]

    def days(i: int) -> None:
        controls.days.index = ranges[i]

    actions = {
        "type a SKU in the search box": type_sku,
        "next ▶ (worst first)": lambda i: controls.next.click(),
        "date range slider": days,
        "toggle a system": toggle,
    }
    grid = data.grid
    print(
        f"client {data.client}: {grid.keys['sku'].nunique():,} SKUs, {len(grid.keys):,} keys, "
        f"{len(grid.days)} days, {len(grid.systems)} systems; {len(data.events):,} events, "
        f"{len(data.counts):,} counts, {len(data.episodes):,} episodes, {len(data.findings):,} findings"
    )
    print(f"inputs: {built:.1f} s; build explorer (indexes, widgets, chart): {ready:.1f} s")
    print(f"{'action':32s} {'median ms':>10s} {'p95 ms':>8s} {'max ms':>8s}")
    for name, action in actions.items():
        ms = timed(action, args.repeat)
        print(f"{name:32s} {np.median(ms):10.1f} {np.percentile(ms, 95):8.1f} {ms.max():8.1f}")
    assert explorer.view().sku == explorer.shown.sku
    print(f"JSON sent to the front end: {JsonComm.sent_bytes / 1e6:.1f} MB in total")


if __name__ == "__main__":
    main()
