"""Benchmark: event matching on ~10M events across 4 systems, against DuckDB.

Generates business events (sales, receipts, returns, counts) and records each in its
source system and, with a per-system probability, in the other three with a random
latency; 1% of records are replayed (duplicates).  Then times
:func:`driftkit.causes.match.match_events` and a DuckDB SQL implementation of the same rule
(family + sku + reference, gap-chained within the window; repeats per system, kind,
location and sign), checks that both find the same number of business events and
duplicates, and prints times, peak RSS and the ratio.

Run: ``.venv/bin/python bench/bench_match.py [--events 10000000] [--seed 7]``
"""

from __future__ import annotations

import argparse
import resource
import time

import duckdb
import numpy as np
import pandas as pd

from driftkit.causes.match import KIND_FAMILY, MatchRules, match_events

SYSTEMS = np.array(["shop", "wms", "erp", "3pl"])
KINDS = np.array(["order", "receipt", "return", "count"])
DAY_US = 86_400_000_000


def generate(n_events: int, seed: int) -> pd.DataFrame:
    """About ``n_events`` canonical event rows, vectorized."""
    rng = np.random.default_rng(seed)
    n_business = n_events // 3
    kind = rng.choice(4, n_business, p=[0.8, 0.1, 0.05, 0.05])
    source = np.where(kind == 0, 0, np.where(kind == 1, 2, 1))
    sku = rng.integers(0, 100_000, n_business)
    occurred = rng.integers(0, 60 * DAY_US, n_business) + 1_767_225_600_000_000
    qty = rng.integers(1, 6, n_business).astype(float)
    received = rng.random((n_business, 4)) < np.array([0.7, 0.95, 0.9, 0.4])
    received[np.arange(n_business), source] = True
    be, system = np.nonzero(received)
    replay = rng.random(len(be)) < 0.01
    be, system = np.concatenate([be, be[replay]]), np.concatenate([system, system[replay]])
    latency = (rng.exponential(4.0, len(be)) * 3_600_000_000).astype(np.int64)
    latency[system == source[be]] = 0
    row_kind = np.where((kind[be] == 0) & (system != 0), "shipment", KINDS[kind[be]])
    sign = np.where(kind[be] == 0, -1.0, 1.0)
    return pd.DataFrame(
        {
            "system": pd.array(SYSTEMS[system], dtype="str"),
            "sku": pd.array(np.char.add("SKU", sku[be].astype(str)), dtype="str"),
            "location": pd.array(np.full(len(be), "main"), dtype="str"),
            "event_id": pd.array(np.char.add("E", np.arange(len(be)).astype(str)), dtype="str"),
            "kind": pd.array(row_kind, dtype="str"),
            "qty_delta": sign * qty[be],
            "commit_delta": np.nan,
            "set_qty": np.nan,
            "occurred_at": pd.to_datetime(occurred[be], unit="us", utc=True),
            "recorded_at": pd.to_datetime(occurred[be] + latency, unit="us", utc=True),
            "reference": pd.array((be * 7 + 1000).astype(str), dtype="str"),
            "raw_reference": pd.array(np.char.add("R-", (be * 7 + 1000).astype(str)), dtype="str"),
            "source_as_of": pd.NaT,
        }
    )


SQL = """
WITH e AS (
  SELECT *, coalesce(recorded_at, occurred_at) AS applied_at,
         CASE kind {families} END AS family
  FROM events
), gaps AS (
  SELECT *, CASE WHEN lag(occurred_at) OVER w IS NULL
                   OR occurred_at - lag(occurred_at) OVER w > INTERVAL {window} HOUR
                 THEN 1 ELSE 0 END AS new_cluster
  FROM e WINDOW w AS (PARTITION BY family, sku, reference ORDER BY occurred_at, event_id)
), clusters AS (
  SELECT *, sum(new_cluster) OVER (PARTITION BY family, sku, reference
                                   ORDER BY occurred_at, event_id
                                   ROWS UNBOUNDED PRECEDING) AS cluster_no
  FROM gaps
), ranked AS (
  SELECT *, row_number() OVER (
      PARTITION BY family, sku, reference, cluster_no, system, kind, location, sign(qty_delta)
      ORDER BY applied_at, event_id) - 1 AS copy
  FROM clusters
)
SELECT count(DISTINCT (family, sku, reference, cluster_no)) AS business_events,
       count(*) FILTER (WHERE copy > 0) AS duplicates
FROM ranked
"""


def run_duckdb(events: pd.DataFrame, window_hours: float) -> tuple[int, int]:
    """Business events and duplicates found by the SQL implementation."""
    families = " ".join(f"WHEN '{k}' THEN '{f}'" for k, f in KIND_FAMILY.items())
    con = duckdb.connect()
    con.register("events", events)
    row = con.execute(SQL.format(families=families, window=int(window_hours))).fetchone()
    con.close()
    assert row is not None
    return int(row[0]), int(row[1])


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far, in GB (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    """Generate, time both implementations, compare their counts, print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    t0 = time.perf_counter()
    events = generate(args.events, args.seed)
    t_gen = time.perf_counter() - t0
    print(f"generated {len(events):,} events in {t_gen:.1f} s; RSS {peak_rss_gb():.2f} GB")
    t0 = time.perf_counter()
    matches = match_events(events)
    t_ours = time.perf_counter() - t0
    rss_ours = peak_rss_gb()
    ours = (int(matches["business_event"].nunique()), int(matches["duplicate"].sum()))
    del matches
    t0 = time.perf_counter()
    ref = run_duckdb(events, MatchRules().window_hours)
    t_duck = time.perf_counter() - t0
    print(f"driftkit.match_events: {t_ours:6.1f} s  peak RSS {rss_ours:.2f} GB  {ours}")
    print(f"duckdb SQL reference : {t_duck:6.1f} s  peak RSS {peak_rss_gb():.2f} GB  {ref}")
    print(f"ratio driftkit/duckdb: {t_ours / t_duck:.2f}x; counts equal: {ours == ref}")


if __name__ == "__main__":
    main()
