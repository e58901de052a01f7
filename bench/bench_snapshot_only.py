"""Benchmark: findings of a snapshot-only client (no system exports events).

Generates KEYS × DAYS daily snapshots of three systems (wms authority, erp, shop) that
change every day alike (sales and receipts), with EPISODES drift episodes placed on the
shop (+5 units for 1–7 days), and runs align → compare → roll-forward → attribute in
process.  Prints the number of findings, of drift episodes against the authority, of
changed (system, key, day) cells (what the old one-finding-per-residual rule produced),
the time and the peak RSS.

Run: ``.venv/bin/python bench/bench_snapshot_only.py [--keys 100000] [--days 30]``
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from driftkit import schema
from driftkit.config import ClientConfig, SystemConfig
from driftkit.load.client import ClientData
from driftkit.schema import SystemKind
from driftkit.simulate.score import attribute_data

SYSTEMS = {"wms": SystemKind.WMS, "erp": SystemKind.ERP, "shop": SystemKind.STOREFRONT}


def counts(keys: int, days: int, episodes: int, seed: int) -> dict[str, np.ndarray]:
    """[key, day] values per system; the shop carries ``episodes`` +5 episodes."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(-4, 3, size=(keys, days)).astype(float)
    steps[:, 0] = 0
    base = 1000.0 + np.cumsum(steps, axis=1)
    shop = base.copy()
    key = rng.choice(keys, size=episodes, replace=False)
    first = rng.integers(1, days - 8, size=episodes)
    length = rng.integers(1, 8, size=episodes)
    day = np.arange(days)[None, :]
    shop[key] += 5.0 * ((day >= first[:, None]) & (day < (first + length)[:, None]))
    return {"wms": base, "erp": base, "shop": shop}


def client(values: dict[str, np.ndarray]) -> ClientData:
    keys, days = values["wms"].shape
    stamps = pd.date_range("2026-09-01T22:00Z", periods=days, freq="D")
    skus = pd.Series([f"K{k:06d}" for k in range(keys)]).repeat(days).to_numpy()
    frames = [
        pd.DataFrame(
            {
                "system": system,
                "sku": skus,
                "location": "main",
                "as_of": np.tile(stamps, keys),
                "on_hand": grid.ravel(),
            }
        )
        for system, grid in values.items()
    ]
    systems = {s: SystemConfig(s, kind) for s, kind in SYSTEMS.items()}
    config = ClientConfig(id="b", root=Path("."), name="b", authority="wms", systems=systems)
    return ClientData(
        config=config,
        snapshots=schema.conform(pd.concat(frames, ignore_index=True), "snapshots"),
        events=schema.empty("events"),
        counts=schema.empty("counts"),
        catalog=schema.empty("catalog"),
        rejects=schema.empty("rejects"),
        files=pd.DataFrame(),
        notes=(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--episodes", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    values = counts(args.keys, args.days, args.episodes, args.seed)
    changed = sum(int((np.diff(v, axis=1) != 0).sum()) for v in values.values())
    data = client(values)
    start = time.perf_counter()
    result, _ = attribute_data(data)
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{args.keys} keys x {args.days} days, 3 snapshot-only systems")
    print(f"changed (system, key, day) cells (old rule: one finding each): {changed}")
    print(f"shop episodes placed: {args.episodes}")
    print(f"findings: {len(result.findings)} {result.findings_by_cause}")
    print(f"notes: {len(result.callouts)}")
    print(f"align+compare+rollforward+attribute: {seconds:.1f} s, peak RSS {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
