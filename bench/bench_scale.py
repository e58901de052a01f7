"""Benchmark: partitioned audits (pandas pool, Dask LocalCluster) vs DuckDB, 12M and 120M rows.

Run from the repository root::

    .venv/bin/python bench/bench_scale.py [--skus 100000 1000000] [--days 30] [--jobs 2]
                                          [--modes pandas dask duckdb] [--full-skus 30000]

For each size, writes ``skus × days × 4 systems`` snapshot rows **directly as canonical
Parquet bucketed by SKU** (the layout ``driftkit ingest`` writes; same generator as
``bench_drift.py``, run one bucket at a time so generating 120M rows never holds more than
one bucket) and then, each in a fresh subprocess:

* ``pandas``: :func:`driftkit.scale.partition.run_partitioned` with ``engine="pandas"``,
  ``jobs`` processes, ``full=False``: per bucket read Parquet + align + compare (daily,
  episodes, bias, headline parts), recombined;
* ``dask``: the same on a ``dask.distributed`` LocalCluster of ``jobs`` single-threaded
  worker processes (cluster start-up included);
* ``duckdb``: ``bench_drift.py``'s hand-written SQL over the same Parquet files (as-of
  fill, cells, daily per-pair aggregates, episodes), with ``memory_limit`` set so it
  spills rather than take the machine's memory.

With ``--full-skus N [N ...]`` it also simulates clients of N SKUs with events, counts,
faults and ground truth (``driftkit.simulate.simulation.simulate_ingested``: chunks of 50,000 SKUs written
straight into bucketed Parquet, so N may exceed memory) and times the **whole** audit:
``run_audit`` in one process (only up to 100,000 SKUs) vs ``run_partitioned`` on the pandas and
dask engines (``--full-modes``), checking that the summary numbers agree and scoring the
findings against the ground truth (precision / recall per cause).  ``--skus`` with no value
skips the snapshot-only sizes::

    .venv/bin/python bench/bench_scale.py --skus --full-skus 1000000 --full-modes full-pandas

Peak RSS is sampled every 0.1 s over the child **and all its descendants** (pool and Dask
worker processes included).  The numbers of the three are checked against each other
(exit 1 on any disagreement).  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_drift as base

ROWS_PER_BUCKET = 2_000_000
DUCKDB_MEMORY = "6GB"


# --- data -----------------------------------------------------------------------------------


def generate(root: Path, n_skus: int, n_days: int, buckets: int, seed: int = 7) -> int:
    """Write bucketed canonical snapshots, catalog, rejects and files to ``root``; rows written."""
    from driftkit import schema
    from driftkit.load.ingest import sku_buckets

    names = pd.Series([f"SKU{i:07d}" for i in range(n_skus)], dtype="str")
    bucket_of = sku_buckets(names, buckets)
    rows = 0
    for bucket in range(buckets):
        members = np.flatnonzero(bucket_of == bucket)
        table = _bucket_table(names.to_numpy()[members], members, n_days, seed + bucket)
        folder = root / "snapshots" / f"bucket={bucket:02d}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet", compression="zstd")
        rows += table.num_rows
    rng = np.random.default_rng(seed)
    catalog = pd.DataFrame(
        {
            "sku": names,
            "unit_cost": np.round(rng.uniform(1, 40, n_skus), 2),
            "unit_price": np.round(rng.uniform(2, 80, n_skus), 2),
            "pack_size": 1.0,
            "category": pd.Series(rng.choice(["a", "b", "c"], n_skus), dtype="str"),
        }
    )
    for name, frame in (("catalog", schema.conform(catalog, "catalog")), ("rejects", None)):
        data = frame if frame is not None else schema.empty(name)
        arrow = pa.Table.from_pandas(data, schema=schema.TABLES[name], preserve_index=False)
        pq.write_table(arrow, root / f"{name}.parquet")
    pd.DataFrame({"rows_read": [rows]}).to_parquet(root / "files.parquet")
    return rows


def _bucket_table(names: np.ndarray, ids: np.ndarray, n_days: int, seed: int) -> pa.Table:
    """``bench_drift.generate`` for the SKUs of one bucket (``ids`` decide the location)."""
    rng = np.random.default_rng(seed)
    n = len(names)
    truth = 40 + np.cumsum(rng.integers(-3, 4, size=(n, n_days)), axis=1)
    midnights = base.local_midnights(n_days)
    day = np.arange(n_days)
    sku_names = pa.array(names, type=pa.string())
    locations = pa.array(["main", "east"])
    tables = []
    for system in base.SYSTEMS:
        start = rng.integers(0, n_days, size=n)[:, None]
        length = rng.integers(1, n_days, size=n)[:, None]
        hit = (rng.random(n) < base.DRIFT_RATE[system])[:, None]
        offset = rng.choice(np.array([-6, -3, -2, -1, 1, 2, 4, 12]), size=n)[:, None]
        value = truth + offset * (hit & (day >= start) & (day < start + length))
        keep = rng.random((n, n_days)) >= base.SKIP_RATE
        sku, d = np.nonzero(keep)
        jitter = rng.integers(0, 600_000_000, size=len(sku))
        as_of = midnights[d] + int(base.SNAPSHOT_HOUR[system] * 3_600_000_000) + jitter
        committed = rng.integers(0, 3, size=len(sku)).astype(np.float64)
        on_hand = value[sku, d].astype(np.float64)
        tables.append(
            pa.table(
                {
                    "system": pa.array(np.full(len(sku), system), type=pa.string()),
                    "sku": sku_names.take(pa.array(sku)),
                    "location": locations.take(pa.array(ids[sku] % 2)),
                    "as_of": pa.array(as_of, type=pa.timestamp("us", tz="UTC")),
                    "on_hand": on_hand,
                    "available": on_hand - committed,
                    "committed": committed,
                }
            )
        )
    return pa.concat_tables(tables)


# --- engines (each in its own subprocess) -----------------------------------------------------


def run_partitioned(root: Path, engine: str, jobs: int) -> dict[str, Any]:
    """driftkit, bucket by bucket: read + align + compare per bucket, recombined."""
    from driftkit.scale.partition import run_partitioned as audit

    started = time.perf_counter()
    result = audit(base.bench_config(), root, engine=engine, jobs=jobs, full=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "buckets": len(result.buckets),
        **base.driftkit_numbers(result.comparison),
    }


def run_full(root: Path, engine: str, jobs: int) -> dict[str, Any]:
    """The whole audit (attribution, impact, count accuracy): partitioned, or ``run_audit``.

    Also scores the findings against the simulator's ground truth (precision and recall
    per cause, as ``python -m driftkit.simulate.score`` does).
    """
    import os

    from driftkit.audit import run_audit
    from driftkit.config import load_config
    from driftkit.simulate.score import score

    client = root.parents[2] / "client"
    config = load_config(client)
    started = time.perf_counter()
    if engine == "single":
        os.chdir(root.parents[2])  # run_audit reads the fresh ingest in data/processed/<client>
        result = run_audit(config)
        summary, buckets, findings = result.summary, 1, result.attribution.findings
    else:
        from driftkit.scale.partition import run_partitioned as audit

        parted = audit(config, root, engine=engine, jobs=jobs)
        summary, buckets, findings = parted.summary, len(parted.buckets), parted.tables["findings"]
    seconds = time.perf_counter() - started
    truth = pd.read_csv(client / "ground_truth.csv", dtype=str)
    scored = score(findings, truth).set_index("cause")
    numbers = {k: summary[k] for k in FULL_NUMBERS}
    accuracy = scored[["precision", "recall"]].round(3).to_dict("index")
    return {
        "seconds": seconds,
        "buckets": buckets,
        "findings": len(findings),
        "accuracy": accuracy,
        **numbers,
    }


FULL_NUMBERS = (
    "compared_cells",
    "agreement_rate",
    "episodes",
    "findings_by_cause",
    "phantom_stockout_sku_days",
    "lost_sales_units",
    "explained_share",
)


def run_duckdb(root: Path, n_days: int) -> dict[str, Any]:
    """``bench_drift``'s DuckDB SQL over every bucket's Parquet, memory-limited (spills)."""
    settings = (
        f"SET memory_limit = '{DUCKDB_MEMORY}'",
        f"SET temp_directory = '{root / 'duckdb.tmp'}'",
    )
    return base.run_duckdb(root / "snapshots" / "*" / "*.parquet", n_days, settings=settings)


class TreeMemory:
    """Peak resident memory of this process and all its descendants, sampled every ``interval`` s."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self.own = 0  # peak of this process alone (the driver)
        self.worker = 0  # peak of the largest single descendant (a pool or cluster worker)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(self.interval):
            sizes = []
            for process in [me, *me.children(recursive=True)]:
                try:
                    sizes.append(process.memory_info().rss)
                except psutil.Error:  # a child that just ended
                    continue
            self.peak = max(self.peak, sum(sizes))
            self.own = max(self.own, sizes[0] if sizes else 0)
            self.worker = max(self.worker, max(sizes[1:], default=0))


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (pool, cluster)."""
    times = psutil.Process().cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def child(mode: str, root: Path, n_days: int, jobs: int) -> None:
    """Run one engine; print its result with the peak RSS of its process tree as JSON."""
    runners = {
        "pandas": lambda: run_partitioned(root, "pandas", jobs),
        "dask": lambda: run_partitioned(root, "dask", jobs),
        "duckdb": lambda: run_duckdb(root, n_days),
        "full-single": lambda: run_full(root, "single", jobs),
        "full-pandas": lambda: run_full(root, "pandas", jobs),
        "full-dask": lambda: run_full(root, "dask", jobs),
    }
    before = _cpu_seconds()
    with TreeMemory() as memory:
        result = runners[mode]()
    result["cpu_seconds"] = _cpu_seconds() - before
    result["peak_rss_mb"] = memory.peak / 2**20
    result["driver_rss_mb"] = memory.own / 2**20
    result["worker_rss_mb"] = memory.worker / 2**20
    sys.stdout.write(json.dumps(result, default=float) + "\n")


def spawn(mode: str, root: Path, n_days: int, jobs: int) -> dict[str, Any]:
    """Run ``mode`` in a fresh interpreter; its JSON result plus process wall time."""
    started = time.perf_counter()
    command = [sys.executable, __file__, "--child", mode, "--data", str(root)]
    command += ["--days", str(n_days), "--jobs", str(jobs)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    return result


# --- report -----------------------------------------------------------------------------------


def report(size: dict[str, Any], results: dict[str, dict[str, Any]], problems: list[str]) -> str:
    """The table for one size."""
    rows = size["rows"]
    lines = [
        f"snapshot rows: {rows:,} ({size['skus']:,} SKUs × {size['days']} days × 4 systems), "
        f"{size['buckets']} buckets (largest {size['largest_bucket']:,} rows), "
        f"generated in {size['generate_s']:.0f} s, {size['parquet_mb']:.0f} MB Parquet",
        f"{'engine':<8}{'compute s':>11}{'cpu s':>9}{'process s':>11}{'peak RSS MB':>13}"
        f"{'driver MB':>11}{'worker MB':>11}{'rows/s':>12}{'rows per GB':>13}",
    ]
    for mode, r in results.items():
        lines.append(
            f"{mode:<8}{r['seconds']:>11.1f}{r.get('cpu_seconds', float('nan')):>9.1f}"
            f"{r['process_seconds']:>11.1f}{r['peak_rss_mb']:>13.0f}"
            f"{r.get('driver_rss_mb', float('nan')):>11.0f}"
            f"{r.get('worker_rss_mb', float('nan')):>11.0f}{rows / r['seconds']:>12,.0f}"
            f"{rows / (r['peak_rss_mb'] / 1024):>13,.0f}"
        )
    for mode in ("pandas", "dask"):
        if mode in results and "duckdb" in results:
            ratio = results[mode]["seconds"] / results["duckdb"]["seconds"]
            memory = results[mode]["peak_rss_mb"] / results["duckdb"]["peak_rss_mb"]
            lines.append(f"{mode} / duckdb: time {ratio:.2f}, peak RSS {memory:.2f}")
    head = results[next(iter(results))]
    lines.append(
        f"headline: compared_cells={head['compared_cells']:,} "
        f"agreement_rate={head['agreement_rate']:.6f} "
        f"drifted_sku_locations={head['drifted_sku_locations']:,} episodes={head['episodes']:,}"
    )
    lines.append("all agree" if not problems else "DISAGREE: " + "; ".join(problems))
    return "\n".join(lines)


def bench_size(n_skus: int, n_days: int, jobs: int, modes: list[str], work: Path) -> str:
    """Generate one size, run every engine on it, check they agree; the report text."""
    estimate = n_skus * n_days * 4
    buckets = max(8, math.ceil(estimate / ROWS_PER_BUCKET))
    root = work / f"bench_{n_skus}"
    started = time.perf_counter()
    rows = generate(root, n_skus, n_days, buckets)
    files = list((root / "snapshots").rglob("*.parquet"))
    size = {
        "rows": rows,
        "skus": n_skus,
        "days": n_days,
        "buckets": buckets,
        "largest_bucket": max(pq.ParquetFile(f).metadata.num_rows for f in files),
        "generate_s": time.perf_counter() - started,
        "parquet_mb": sum(f.stat().st_size for f in files) / 2**20,
    }
    results = {mode: spawn(mode, root, n_days, jobs) for mode in modes}
    shutil.rmtree(root)
    problems = []
    names = list(results)
    for other in names[1:]:
        problems += [
            f"{names[0]} vs {other}: {p}"
            for p in base.differences(results[names[0]], results[other])
        ]
    text = report(size, results, problems)
    sys.stdout.write(text + "\n\n")
    sys.stdout.flush()
    return text if not problems else text + "\n!"


CHILDREN = ("pandas", "dask", "duckdb", "full-single", "full-pandas", "full-dask")


SINGLE_MAX_SKUS = 100_000  # run_audit holds the whole client: ≈ 8 GB at 100k SKUs × 30 days


def bench_full(n_skus: int, n_days: int, jobs: int, work: Path, modes: list[str]) -> str:
    """The whole audit of a simulated client: run_audit vs partitioned (pandas, dask).

    The client is simulated in chunks straight into bucketed Parquet
    (:func:`driftkit.simulate.simulation.simulate_ingested`), so it can be larger than memory;
    ``run_audit`` (one process, the whole client in memory) only runs up to
    :data:`SINGLE_MAX_SKUS`.
    """
    from driftkit.simulate.simulation import simulate_ingested

    started = time.perf_counter()
    root = work / "full" / "data" / "processed" / "client"
    simulate_ingested(work / "full" / "client", root, skus=n_skus, days=n_days, seed=1, jobs=jobs)
    made = time.perf_counter() - started
    manifest = json.loads((root / "manifest.json").read_text())
    rows, buckets = manifest["rows"], manifest["buckets"]
    largest = max(
        pq.ParquetFile(f).metadata.num_rows for f in (root / "snapshots").rglob("*.parquet")
    )
    chosen = [m for m in modes if m != "full-single" or n_skus <= SINGLE_MAX_SKUS]
    results = {m: spawn(m, root, n_days, jobs) for m in chosen}
    shutil.rmtree(work / "full")
    lines = [
        f"whole audit of a simulated client: {n_skus:,} SKUs × {n_days} days, "
        f"{rows['snapshots']:,} snapshot rows, {rows['events']:,} events, "
        f"{rows['counts']:,} counts, {buckets} buckets (largest {largest:,} snapshot rows); "
        f"simulated straight into Parquet in {made:.0f} s",
        f"{'engine':<12}{'compute s':>11}{'cpu s':>9}{'peak RSS MB':>13}"
        f"{'driver MB':>11}{'worker MB':>11}{'findings':>10}{'precision':>11}{'recall':>8}",
    ]
    for mode, r in results.items():
        overall = r["accuracy"]["all"]
        lines.append(
            f"{mode:<12}{r['seconds']:>11.1f}{r['cpu_seconds']:>9.1f}{r['peak_rss_mb']:>13.0f}"
            f"{r['driver_rss_mb']:>11.0f}{r['worker_rss_mb']:>11.0f}{r['findings']:>10,}"
            f"{overall['precision']:>11.3f}{overall['recall']:>8.3f}"
        )
    first = results[chosen[0]]
    problems = [
        f"{mode} {k}"
        for mode, r in results.items()
        for k in FULL_NUMBERS
        if json.dumps(r[k], default=float) != json.dumps(first[k], default=float)
        and not (isinstance(r[k], float) and np.isclose(r[k], first[k], rtol=1e-9))
    ]
    lines.append(f"numbers: { {k: first[k] for k in FULL_NUMBERS} }")
    lines.append(
        "precision / recall per cause: "
        + ", ".join(
            f"{cause} {pr['precision']:.3f}/{pr['recall']:.3f}"
            for cause, pr in first["accuracy"].items()
        )
    )
    lines.append("all agree" if not problems else "DISAGREE: " + "; ".join(problems))
    text = "\n".join(lines)
    sys.stdout.write(text + "\n\n")
    sys.stdout.flush()
    return text if not problems else text + "\n!"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skus", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--modes", nargs="+", default=["pandas", "dask", "duckdb"], choices=CHILDREN[:3]
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="folder for the data (default: temp)"
    )
    parser.add_argument(
        "--full-skus",
        type=int,
        nargs="*",
        default=[],
        help="also time the whole audit on simulated clients of these sizes",
    )
    parser.add_argument("--full-modes", nargs="+", default=list(CHILDREN[3:]), choices=CHILDREN[3:])
    parser.add_argument("--child", choices=[*CHILDREN], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.data, args.days, args.jobs)
        return 0
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        texts = [bench_size(n, args.days, args.jobs, args.modes, Path(tmp)) for n in args.skus]
        for n in args.full_skus:
            texts.append(bench_full(n, args.days, args.jobs, Path(tmp), args.full_modes))
    return 1 if any(t.endswith("!") for t in texts) else 0


if __name__ == "__main__":
    raise SystemExit(main())
