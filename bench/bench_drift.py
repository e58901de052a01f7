"""Benchmark: driftkit align + compare vs hand-written DuckDB SQL vs naive pandas.

Run from the repository root::

    .venv/bin/python bench/bench_drift.py [--skus 100000 --days 30] [--repeat 1]

Generates ``skus × days × 4 systems`` snapshot rows to Parquet with a quick vectorized
generator (random-walk stock, injected drift episodes, skipped snapshots, one system
snapshotting just after local midnight, a DST change inside the window), then times
in separate subprocesses (so each peak RSS is its own):

(a) driftkit: ``pd.read_parquet`` + ``align`` + ``compare``;
(b) DuckDB: one SQL script computing the same numbers from the same Parquet file;
(c) naive pandas: pairwise merges + per-SKU ``groupby.apply`` on a ~1M-row subset,

checks that all three agree (driftkit vs DuckDB on the full data, driftkit vs naive on the
subset) and prints wall time, peak RSS and the ratios.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TZ = "America/Chicago"
START = date(2026, 10, 18)  # window contains the DST change of 2026-11-01
SYSTEMS = ("wms", "erp", "shop", "tpl")
AUTHORITY = "wms"
SNAPSHOT_HOUR = {"wms": 23.0, "erp": 0.5, "shop": 23.75, "tpl": 12.0}
DRIFT_RATE = {"wms": 0.0, "erp": 0.04, "shop": 0.10, "tpl": 0.07}
SKIP_RATE = 0.005
STALENESS_HOURS = 24.0
TOLERANCE = 0.0
NAIVE_ROWS = 1_000_000
PAIRS = [(s, AUTHORITY) for s in SYSTEMS if s != AUTHORITY] + [
    (a, b)
    for i, a in enumerate(sorted(SYSTEMS))
    for b in sorted(SYSTEMS)[i + 1 :]
    if AUTHORITY not in (a, b)
]


# --- data -----------------------------------------------------------------------------------


def local_midnights(n_days: int) -> np.ndarray:
    """UTC µs of local midnight for each day of the window (plus the day after)."""
    naive = pd.date_range(pd.Timestamp(START), periods=n_days + 1, freq="D")
    return np.asarray(naive.tz_localize(TZ).tz_convert("UTC").as_unit("us").asi8)


def generate(path: Path, n_skus: int, n_days: int, seed: int = 7) -> int:
    """Write the benchmark snapshots to ``path``; return the number of rows."""
    rng = np.random.default_rng(seed)
    truth = 40 + np.cumsum(rng.integers(-3, 4, size=(n_skus, n_days)), axis=1)
    midnights = local_midnights(n_days)
    day = np.arange(n_days)
    names = pa.array([f"SKU{i:07d}" for i in range(n_skus)])
    locations = pa.array(["main", "east"])
    tables = []
    for system in SYSTEMS:
        start = rng.integers(0, n_days, size=n_skus)[:, None]
        length = rng.integers(1, n_days, size=n_skus)[:, None]
        hit = (rng.random(n_skus) < DRIFT_RATE[system])[:, None]
        offset = rng.choice(np.array([-6, -3, -2, -1, 1, 2, 4, 12]), size=n_skus)[:, None]
        value = truth + offset * (hit & (day >= start) & (day < start + length))
        keep = rng.random((n_skus, n_days)) >= SKIP_RATE
        sku, d = np.nonzero(keep)
        jitter = rng.integers(0, 600_000_000, size=len(sku))
        as_of = midnights[d] + int(SNAPSHOT_HOUR[system] * 3_600_000_000) + jitter
        committed = rng.integers(0, 3, size=len(sku)).astype(np.float64)
        on_hand = value[sku, d].astype(np.float64)
        tables.append(
            pa.table(
                {
                    "system": pa.array(np.full(len(sku), system)),
                    "sku": names.take(pa.array(sku)),
                    "location": locations.take(pa.array(sku % 2)),
                    "as_of": pa.array(as_of, type=pa.timestamp("us", tz="UTC")),
                    "on_hand": on_hand,
                    "available": on_hand - committed,
                    "committed": committed,
                }
            )
        )
    table = pa.concat_tables(tables).sort_by([("as_of", "ascending")])
    pq.write_table(table, path)
    return table.num_rows


# --- the three implementations (each run in its own subprocess) -------------------------------


def run_driftkit(path: Path) -> dict[str, Any]:
    """driftkit's public pipeline: read Parquet, align, compare."""
    from driftkit.drift.align import align
    from driftkit.drift.compare import compare
    from driftkit.schema import empty

    started = time.perf_counter()
    snapshots = pd.read_parquet(path)
    grid = align(snapshots, bench_config())
    comparison = compare(grid, bench_config(), empty("catalog"))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, **driftkit_numbers(comparison)}


def bench_config() -> Any:
    """A client config matching the generated data."""
    from driftkit.config import ClientConfig, SystemConfig
    from driftkit.schema import SystemKind

    kinds = dict(zip(SYSTEMS, ("wms", "erp", "storefront", "3pl"), strict=True))
    return ClientConfig(
        id="bench",
        root=Path("."),
        name="bench",
        timezone=TZ,
        authority=AUTHORITY,
        tolerance=TOLERANCE,
        staleness_hours=STALENESS_HOURS,
        systems={s: SystemConfig(id=s, kind=SystemKind(kinds[s])) for s in SYSTEMS},
    )


def driftkit_numbers(comparison: Any) -> dict[str, Any]:
    """The compared numbers, from a driftkit Comparison."""
    h = comparison.headline
    daily = comparison.daily.assign(day=comparison.daily["day"].dt.strftime("%Y-%m-%d"))
    columns = ["day", "system", "counterpart", "skus_compared", "skus_drifted", "abs_drift_units"]
    return {
        "compared_cells": h["compared_cells"],
        "agreeing_cells": h["agreeing_cells"],
        "agreement_rate": h["agreement_rate"],
        "drifted_sku_locations": h["drifted_sku_locations"],
        "abs_drift_units_last_day": h["abs_drift_units_last_day"],
        "episodes": h["episodes"],
        "daily": daily[columns].astype({"system": object, "counterpart": object}).values.tolist(),
    }


DUCKDB_SQL = """
CREATE TEMP TABLE b AS
SELECT system, sku, location, CAST(timezone('{tz}', as_of) AS DATE) AS day,
       max(as_of) AS as_of, arg_max(on_hand, as_of) AS v
FROM read_parquet('{path}') GROUP BY ALL;
CREATE TEMP TABLE days AS
SELECT CAST(d AS DATE) AS day,
       timezone('{tz}', CAST(d + INTERVAL 1 DAY AS TIMESTAMP)) - INTERVAL 1 MICROSECOND AS day_end
FROM range(TIMESTAMP '{first}', TIMESTAMP '{last}' + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d);
CREATE TEMP TABLE val AS
WITH keys AS (SELECT DISTINCT sku, location FROM b WHERE day BETWEEN '{first}' AND '{last}'),
     runs AS (SELECT *, lead(day) OVER (PARTITION BY system, sku, location ORDER BY day) AS next_day
              FROM b SEMI JOIN keys USING (sku, location))
SELECT r.system, r.sku, r.location, days.day, r.v
FROM runs r CROSS JOIN range(0, {lookback} + 1) o(k)
JOIN days ON days.day = r.day + CAST(o.k AS INTEGER)
WHERE (r.next_day IS NULL OR days.day < r.next_day)
  AND r.as_of > days.day_end - INTERVAL {staleness} HOUR;
CREATE TEMP TABLE wide AS
SELECT sku, location, day, count(v) AS n, max(v) - min(v) AS spread,
       {pivot}
FROM val GROUP BY sku, location, day;
CREATE TEMP TABLE d AS
{pairs};
"""

DUCKDB_QUERIES = {
    "cells": """SELECT count(*) FILTER (n >= 2), count(*) FILTER (n >= 2 AND spread <= {tol}),
                       count(DISTINCT (sku, location)) FILTER (n >= 2 AND spread > {tol})
                FROM wide""",
    "last_day": """SELECT coalesce(sum(abs(d)), 0) FROM d
                   WHERE counterpart = '{authority}' AND day = '{last}'""",
    "daily": """SELECT strftime(day, '%Y-%m-%d'), system, counterpart, count(d),
                       count(*) FILTER (abs(d) > {tol}), coalesce(sum(abs(d)), 0)
                FROM d GROUP BY ALL ORDER BY system, counterpart, 1""",
    "episodes": """SELECT count(*) FROM (
                     SELECT day, lag(day) OVER (PARTITION BY system, counterpart, sku, location
                                                ORDER BY day) AS before
                     FROM d WHERE abs(d) > {tol})
                   WHERE before IS NULL OR before <> day - 1""",
}


def run_duckdb(path: Path, n_days: int, *, settings: Sequence[str] = ()) -> dict[str, Any]:
    """The same numbers as one hand-written DuckDB SQL script over the Parquet file(s).

    ``path`` may be a glob; ``settings`` are extra ``SET`` statements (memory limit, spill).
    """
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    for setting in settings:
        con.execute(setting)
    con.execute("SET TimeZone = 'UTC'")
    fill = sql_fill(path, n_days)
    con.execute(DUCKDB_SQL.format(**fill))
    cells = con.execute(DUCKDB_QUERIES["cells"].format(**fill)).fetchone()
    last = con.execute(DUCKDB_QUERIES["last_day"].format(**fill)).fetchone()
    daily = con.execute(DUCKDB_QUERIES["daily"].format(**fill)).fetchall()
    n_episodes = con.execute(DUCKDB_QUERIES["episodes"].format(**fill)).fetchone()
    seconds = time.perf_counter() - started
    assert cells is not None and last is not None and n_episodes is not None
    return {
        "seconds": seconds,
        "compared_cells": cells[0],
        "agreeing_cells": cells[1],
        "agreement_rate": cells[1] / cells[0] if cells[0] else None,
        "drifted_sku_locations": cells[2],
        "abs_drift_units_last_day": float(last[0]),
        "episodes": n_episodes[0],
        "daily": [list(row) for row in daily],
    }


def sql_fill(path: Path, n_days: int) -> dict[str, Any]:
    """Values substituted into the SQL text."""
    last = pd.Timestamp(START) + pd.Timedelta(days=n_days - 1)
    pivot = ", ".join(f"max(v) FILTER (system = '{s}') AS {s}" for s in SYSTEMS)
    pairs = " UNION ALL ".join(
        f"SELECT sku, location, day, '{a}' AS system, '{b}' AS counterpart, {a} - {b} AS d FROM wide"
        for a, b in PAIRS
    )
    return {
        "path": str(path),
        "tz": TZ,
        "first": START.isoformat(),
        "last": last.date().isoformat(),
        "staleness": int(STALENESS_HOURS),
        "lookback": int(np.ceil(STALENESS_HOURS / 24)) + 1,
        "tol": TOLERANCE,
        "authority": AUTHORITY,
        "pivot": pivot,
        "pairs": pairs,
    }


def run_naive(path: Path, n_days: int) -> dict[str, Any]:
    """Idiomatic-but-naive pandas on the first ~1M rows' SKUs: per-SKU apply + pairwise merges."""
    started = time.perf_counter()
    snapshots = subset(pd.read_parquet(path))
    midnights = pd.to_datetime(local_midnights(n_days), unit="us", utc=True)
    day_end = midnights[1:] - pd.Timedelta(microseconds=1)
    days = pd.date_range(pd.Timestamp(START), periods=n_days, freq="D")
    staleness = pd.Timedelta(hours=STALENESS_HOURS)

    def daily_values(group: pd.DataFrame) -> pd.DataFrame:
        group = group.sort_values("as_of")
        position = np.searchsorted(group["as_of"].to_numpy(), day_end.to_numpy(), side="right") - 1
        rows = []
        for i, end in enumerate(day_end):
            value = np.nan
            if position[i] >= 0:
                snap = group.iloc[position[i]]
                if snap["as_of"] > end - staleness:
                    value = snap["on_hand"]
            rows.append((days[i], value))
        return pd.DataFrame(rows, columns=["day", "v"])

    per_system = {
        s: snapshots[snapshots["system"] == s]
        .groupby(["sku", "location"])[["as_of", "on_hand"]]
        .apply(daily_values)
        .reset_index(level=[0, 1])
        for s in SYSTEMS
    }
    keys = snapshots[["sku", "location"]].drop_duplicates()
    wide = keys.merge(pd.DataFrame({"day": days}), how="cross")
    for s in SYSTEMS:
        wide = wide.merge(
            per_system[s].rename(columns={"v": s}), on=["sku", "location", "day"], how="left"
        )
    values = wide[list(SYSTEMS)]
    n = values.notna().sum(axis=1)
    spread = values.max(axis=1) - values.min(axis=1)
    compared = n >= 2
    agreeing = compared & (spread <= TOLERANCE)
    drifted_keys = wide.loc[compared & ~agreeing, ["sku", "location"]].drop_duplicates()
    daily_rows, n_episodes, last_units = [], 0, 0.0
    for a, b in PAIRS:
        pair = wide[["sku", "location", "day"]].assign(d=wide[a] - wide[b])
        pair["dis"] = pair["d"].abs() > TOLERANCE
        for day, group in pair.groupby("day"):
            daily_rows.append(
                [
                    day.strftime("%Y-%m-%d"),
                    a,
                    b,
                    int(group["d"].notna().sum()),
                    int(group["dis"].sum()),
                    float(group["d"].abs().sum()),
                ]
            )
        starts = pair.groupby(["sku", "location"])["dis"].apply(
            lambda x: int((x & ~x.shift(1, fill_value=False)).sum())
        )
        n_episodes += int(starts.sum())
        if b == AUTHORITY:
            last_units += float(pair.loc[pair["day"] == days[-1], "d"].abs().sum())
    seconds = time.perf_counter() - started
    daily_rows.sort(key=lambda r: (r[1], r[2], r[0]))
    return {
        "seconds": seconds,
        "rows": len(snapshots),
        "compared_cells": int(compared.sum()),
        "agreeing_cells": int(agreeing.sum()),
        "agreement_rate": float(agreeing.sum() / compared.sum()),
        "drifted_sku_locations": len(drifted_keys),
        "abs_drift_units_last_day": last_units,
        "episodes": n_episodes,
        "daily": daily_rows,
    }


def subset(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Rows of the SKUs that make up the first ~NAIVE_ROWS rows (all systems, all days)."""
    skus = np.sort(snapshots["sku"].unique())
    share = min(1.0, NAIVE_ROWS / max(len(snapshots), 1))
    chosen = set(skus[: max(1, int(len(skus) * share))])
    return snapshots[snapshots["sku"].isin(chosen)].reset_index(drop=True)


# --- orchestration ----------------------------------------------------------------------------


def child(mode: str, path: Path, n_days: int) -> None:
    """Run one implementation and write its result with its own peak RSS as JSON on stdout."""
    runners = {
        "driftkit": lambda: run_driftkit(path),
        "duckdb": lambda: run_duckdb(path, n_days),
        "naive": lambda: run_naive(path, n_days),
    }
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = runners[mode]()
    after = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_seconds"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(json.dumps(result, default=float) + "\n")


def spawn(mode: str, path: Path, n_days: int) -> dict[str, Any]:
    """Run ``mode`` in a fresh interpreter; return its JSON result plus process wall time."""
    started = time.perf_counter()
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--data",
        str(path),
        "--days",
        str(n_days),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    return result


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Names of the compared numbers on which two results differ."""
    out = []
    for name in ("compared_cells", "agreeing_cells", "drifted_sku_locations", "episodes"):
        if a[name] != b[name]:
            out.append(f"{name}: {a[name]} != {b[name]}")
    for name in ("agreement_rate", "abs_drift_units_last_day"):
        if not np.isclose(a[name], b[name], rtol=1e-12, atol=1e-9):
            out.append(f"{name}: {a[name]} != {b[name]}")
    left = pd.DataFrame(a["daily"]).sort_values([1, 2, 0]).reset_index(drop=True)
    right = pd.DataFrame(b["daily"]).sort_values([1, 2, 0]).reset_index(drop=True)
    same_keys = left.shape == right.shape and (left[[0, 1, 2]] == right[[0, 1, 2]]).all().all()
    numbers = [3, 4, 5]
    if not same_keys or not np.allclose(
        left[numbers].to_numpy(float), right[numbers].to_numpy(float)
    ):
        out.append("daily per-pair aggregates differ")
    return out


def subset_reference(path: Path, n_days: int) -> dict[str, Any]:
    """driftkit's numbers on the naive subset (untimed, in this process)."""
    from driftkit.drift.align import align
    from driftkit.drift.compare import compare
    from driftkit.schema import empty

    snapshots = subset(pd.read_parquet(path))
    end = (pd.Timestamp(START) + pd.Timedelta(days=n_days - 1)).date()
    grid = align(snapshots, bench_config(), start=START, end=end)
    return driftkit_numbers(compare(grid, bench_config(), empty("catalog")))


def report(results: dict[str, dict[str, Any]], rows: int, problems: list[str]) -> str:
    """The benchmark table as text."""
    lines = [f"snapshot rows: {rows:,}  (naive subset: {results['naive']['rows']:,} rows)"]
    lines.append(f"{'engine':<10}{'compute s':>11}{'cpu s':>9}{'process s':>11}{'peak RSS MB':>13}")
    for name, result in results.items():
        lines.append(
            f"{name:<10}{result['seconds']:>11.2f}{result['cpu_seconds']:>9.2f}"
            f"{result['process_seconds']:>11.2f}{result['peak_rss_mb']:>13.0f}"
        )
    dk, db, nv = results["driftkit"], results["duckdb"], results["naive"]
    scale = rows / nv["rows"]
    lines.append(f"driftkit / duckdb time: {dk['seconds'] / db['seconds']:.2f}")
    lines.append(f"driftkit / duckdb cpu time: {dk['cpu_seconds'] / db['cpu_seconds']:.2f}")
    lines.append(f"driftkit / duckdb peak RSS: {dk['peak_rss_mb'] / db['peak_rss_mb']:.2f}")
    lines.append(
        f"naive (x{scale:.1f} rows, linear extrapolation) / driftkit time: "
        f"{nv['seconds'] * scale / dk['seconds']:.1f}"
    )
    lines.append(
        f"headline: compared_cells={dk['compared_cells']:,} agreement_rate="
        f"{dk['agreement_rate']:.6f} drifted_sku_locations={dk['drifted_sku_locations']:,} "
        f"abs_drift_units_last_day={dk['abs_drift_units_last_day']:,.0f} episodes={dk['episodes']:,}"
    )
    lines.append("all agree" if not problems else "DISAGREEMENT: " + "; ".join(problems))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine; the median is kept")
    parser.add_argument("--data", type=Path, help="existing Parquet file (skips generation)")
    parser.add_argument("--child", choices=["driftkit", "duckdb", "naive"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.data, args.days)
        return 0
    with tempfile.TemporaryDirectory(prefix="driftkit-bench-") as tmp:
        path = args.data or Path(tmp) / "snapshots.parquet"
        rows = (
            pq.ParquetFile(path).metadata.num_rows
            if args.data
            else generate(path, args.skus, args.days)
        )
        results = {}
        for mode in ("driftkit", "duckdb", "naive"):
            runs = [
                spawn(mode, path, args.days) for _ in range(args.repeat if mode != "naive" else 1)
            ]
            results[mode] = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        problems = differences(results["driftkit"], results["duckdb"])
        problems += [
            f"naive subset: {p}"
            for p in differences(subset_reference(path, args.days), results["naive"])
        ]
        sys.stdout.write(report(results, rows, problems) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
