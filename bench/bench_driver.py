"""Benchmark: driver memory of a partitioned whole audit against the number of keys.

Run with the tree to measure first on ``PYTHONPATH`` (e.g. a ``git archive`` of a reference
commit, then this checkout), on an ingest folder ``bench_scale.py``'s simulator wrote::

    PYTHONPATH=. .venv/bin/python bench/bench_driver.py PROCESSED RUN_DIR [--jobs 2]

``PROCESSED`` is ``<work>/data/processed/client`` with the client folder at ``<work>/client``
(``driftkit.simulate.simulation.simulate_ingested``).  It runs what ``driftkit audit CLIENT
--no-html --engine pandas --jobs N`` runs (``client_audit.run_partitioned``): ``run_partitioned``
with the run folder's ``parts/`` for the workers' stored tables, then ``write`` into
``RUN_DIR``.  It prints one JSON line: the driver's resident memory at start and its peak
(sampled every 0.05 s) during the audit and overall, the peak over the driver and its pool
workers, the driver's CPU seconds, and the pickled size of one bucket's result (what a worker
sends the driver), largest fields first, and of its pass-2 profile with its handoff samples
(stored as Parquet parts since issue 14h: then only their paths and groups).  ``--traced``
also reports the peak of the driver's Python and NumPy heap during the audit
(``tracemalloc``: what the driver holds, without the allocator's retained pages and Arrow's
buffers, so it separates the trees where RSS moves ±20 MB from run to run; it slows the
driver, so its CPU is not comparable with an untraced run).  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import TreeMemory


def bucket_sizes(plan: Any, bucket: int) -> dict[str, int]:
    """Pickled bytes of one bucket's result and of its largest fields."""
    from driftkit.scale.bucket import audit_bucket

    result = audit_bucket(plan, bucket)
    sizes = {f.name: len(pickle.dumps(getattr(result, f.name))) for f in dataclasses.fields(result)}
    sizes.update({f"full.{k}": len(pickle.dumps(v)) for k, v in result.full.items()})
    del sizes["full"]
    largest = dict(sorted(sizes.items(), key=lambda item: -item[1])[:6])
    return {"result": len(pickle.dumps(result)), **largest}


def profile_sizes(plan: Any, bucket: int) -> dict[str, int]:
    """Pickled bytes of one bucket's pass-2 profile and of its handoff samples."""
    from driftkit.scale.bucket import profile_bucket

    profile = profile_bucket(plan, bucket)
    handoffs = profile.handoffs
    sizes = {
        f"handoffs.{k}": len(pickle.dumps(getattr(handoffs, k))) for k in ("latencies", "delays")
    }
    return {"profile": len(pickle.dumps(profile)), **sizes}


def measure(processed: Path, run_dir: Path, jobs: int, traced: bool = False) -> dict[str, Any]:
    """The audit and its run folder, with the driver's memory and CPU."""
    import driftkit
    from driftkit.config import load_config
    from driftkit.scale import partition

    config = load_config(processed.parents[2] / "client")
    options = {}
    if "parts_dir" in partition.run_partitioned.__code__.co_varnames:  # stores tables
        options["parts_dir"] = run_dir / "parts"
    me = psutil.Process()
    base, cpu = me.memory_info().rss, me.cpu_times()
    started = time.perf_counter()
    if traced:
        tracemalloc.start()
    with TreeMemory(interval=0.05) as memory:
        audit = partition.run_partitioned(config, processed, engine="pandas", jobs=jobs, **options)
        audited, audit_peak = time.perf_counter(), memory.own
        traced_peak = tracemalloc.get_traced_memory()[1] if traced else 0
        tracemalloc.stop()
        audit.write(run_dir)
    written = time.perf_counter()
    used = me.cpu_times()
    sizes = bucket_sizes(audit.plan, audit.buckets[0])
    profile = profile_sizes(audit.plan, audit.buckets[0])
    if options:  # as client_audit.run_partitioned: the run folder keeps no parts
        from driftkit.scale.stored import discard_parts

        discard_parts(audit.stored, run_dir)
    return {
        "tree": str(Path(driftkit.__file__).parents[1]),
        "keys": audit.summary["sku_locations"],
        "buckets": len(audit.buckets),
        "audit_s": round(audited - started, 1),
        "write_s": round(written - audited, 1),
        "driver_cpu_s": round(used.user + used.system - cpu.user - cpu.system, 1),
        "driver_start_mb": round(base / 2**20),
        "driver_peak_audit_mb": round(audit_peak / 2**20),
        "driver_peak_mb": round(memory.own / 2**20),
        "driver_traced_peak_audit_mb": round(traced_peak / 2**20, 1) if traced else None,
        "tree_peak_mb": round(memory.peak / 2**20),
        "bucket_bytes": sizes,
        "profile_bytes": profile,
        "summary": {k: audit.summary[k] for k in ("compared_cells", "episodes", "record_accuracy")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("processed", type=Path)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--traced", action="store_true", help="also the driver's traced heap peak (slower)"
    )
    args = parser.parse_args(argv)
    result = measure(args.processed.absolute(), args.run_dir.absolute(), args.jobs, args.traced)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
