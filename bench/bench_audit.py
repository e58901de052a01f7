"""The whole audit as a user runs it, from the raw exports to the last output file, vs DuckDB.

    .venv/bin/python bench/bench_audit.py [--quick] [--reference DIR] [--work DIR]
                                          [--clients NAME ...] [--skus-csv N] [--skus-parquet N]

Clients (generated into ``--work``, reused when already there):

* the sample clients in ``data/sample`` (95 small files each);
* ``daily-csv``: 10k SKUs × 30 days × 4 systems, one CSV per system per day, each system's
  own header names (``Item``, ``Whse``, ``Snapshot Time``, ``On Hand`` ...), snapshots only;
* ``parquet``: 100k SKUs × 30 days × 4 systems, one canonical Parquet file per system
  (12M rows), snapshots only;
* ``simulated``: ``driftkit simulate --skus 5000 --days 60`` (events, counts, faults); timed
  as ``driftkit ingest`` + ``driftkit audit``.

Every driftkit run is ``driftkit audit CLIENT --no-html --out TMP`` as a subprocess in a
fresh working folder (wall time and the child's CPU time from ``wait4``; its own peak RSS,
``VmHWM``, which the child prints as it exits: ``wait4``'s ``ru_maxrss`` also holds the
bench's own memory, which the child inherits at fork and Linux keeps across exec; on a shared machine compare the CPU ratios, which other jobs barely move).  ``load s``
is a separate subprocess that only runs ``load_client`` on the same client: the share of the
audit that is loading.  For ``daily-csv`` and ``parquet``, DuckDB computes the headline
numbers (``sku_locations, compared_cells, agreement_rate, drifted_sku_locations,
phantom_stockout_sku_days``) from the same files in its own subprocess, in the same run, and
the numbers must agree (exit code 1 otherwise).  ``--reference DIR`` also times another
checkout of driftkit (``git worktree add /tmp/base <commit>``) on the same files, alternating
(which tree runs first flips from one client to the next), and checks both write the same ``summary.json`` (``run_at`` aside).  ``--quick`` skips the
100k-SKU Parquet client (minutes, ~14 GB before issue 14).  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "sample"
CLI = "import sys; from driftkit.cli import main; sys.exit(main(sys.argv[1:]))"
LOAD = (
    "import sys, time; from driftkit.config import load_config; "
    "from driftkit.load.client import load_client; c = load_config(sys.argv[1]); "
    "t = time.perf_counter(); load_client(c, progress=False); "
    "print(time.perf_counter() - t)"
)
# Prefixed to every child's script: its own peak RSS (kB) as stderr's last line at exit.
PEAK = (
    "import atexit as _a, sys as _s\n"
    "_a.register(lambda: print('VmHWM', next(l.split()[1] for l in open('/proc/self/status') "
    "if l.startswith('VmHWM:')), file=_s.stderr))\n"
)
TZ = "America/Chicago"
START = pd.Timestamp("2026-10-18")  # the window holds the DST change of 2026-11-01
HEADERS = {  # system → (kind, sku, location, as_of, on_hand): each export's own names
    "wms": ("wms", "Item", "Whse", "Snapshot Time", "On Hand"),
    "erp": ("erp", "Material", "Plant", "Extract Timestamp", "Unrestricted Qty"),
    "shop": ("storefront", "SKU", "Location", "Exported At", "On hand"),
    "tpl": ("3pl", "Inventory Item", "Fulfillment Center", "Snapshot At", "On Hand"),
}
SNAPSHOT_HOUR = {"wms": 23.0, "erp": 0.5, "shop": 23.75, "tpl": 12.0}
DRIFT_RATE = {"wms": 0.0, "erp": 0.04, "shop": 0.10, "tpl": 0.07}
HEADLINE = (
    "sku_locations",
    "compared_cells",
    "agreement_rate",
    "drifted_sku_locations",
    "phantom_stockout_sku_days",
)


# --- clients ---------------------------------------------------------------------------------


def snapshots(n_skus: int, n_days: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Per system: sku, location, as_of (UTC), on_hand; random-walk stock, drift episodes,
    0.5% skipped snapshots, some SKUs near zero (so storefront phantom stockouts occur)."""
    rng = np.random.default_rng(seed)
    level = rng.integers(0, 40, size=n_skus)[:, None]
    truth = level + np.cumsum(rng.integers(-3, 4, size=(n_skus, n_days)), axis=1)
    naive = pd.date_range(START, periods=n_days + 1, freq="D")
    midnights = np.asarray(naive.tz_localize(TZ).tz_convert("UTC").as_unit("us").asi8)
    names = np.array([f"SKU{i:07d}" for i in range(n_skus)], dtype=object)
    day = np.arange(n_days)
    out = {}
    for system in HEADERS:
        start = rng.integers(0, n_days, size=n_skus)[:, None]
        length = rng.integers(1, n_days, size=n_skus)[:, None]
        hit = (rng.random(n_skus) < DRIFT_RATE[system])[:, None]
        offset = rng.choice(np.array([-6, -3, -2, -1, 1, 2, 4, 12]), size=n_skus)[:, None]
        value = truth + offset * (hit & (day >= start) & (day < start + length))
        sku, d = np.nonzero(rng.random((n_skus, n_days)) >= 0.005)
        jitter = rng.integers(0, 600, size=len(sku)) * 1_000_000
        as_of = midnights[d] + int(SNAPSHOT_HOUR[system] * 3_600_000_000) + jitter
        out[system] = pd.DataFrame(
            {
                "sku": names[sku],
                "location": np.where(sku % 2 == 0, "main", "east"),
                "as_of": pd.to_datetime(as_of, unit="us", utc=True),
                "on_hand": value[sku, d].astype(np.float64),
                "day": d,
            }
        )
    return out


def toml_head(name: str) -> str:
    return (
        f'[client]\nname = "{name}"\ntimezone = "{TZ}"\ncurrency = "USD"\n'
        'authority = "wms"\nmeasure = "on_hand"\ntolerance = 0\nstaleness_hours = 24\n'
    )


def write_daily_csv(folder: Path, n_skus: int, n_days: int) -> None:
    """One CSV per system per day, naive local times, each system's own headers."""
    text = toml_head("Daily CSV bench")
    for system, frame in snapshots(n_skus, n_days).items():
        kind, sku, location, as_of, on_hand = HEADERS[system]
        local = frame["as_of"].dt.tz_convert(TZ).dt.strftime("%Y-%m-%d %H:%M:%S")
        table = pd.DataFrame(
            {
                sku: frame["sku"],
                location: frame["location"],
                as_of: local,
                on_hand: frame["on_hand"],
            }
        )
        (folder / "raw" / system).mkdir(parents=True, exist_ok=True)
        for d, rows in table.groupby(frame["day"]):  # one file per day: 30 per system
            day = (START + pd.Timedelta(days=int(d))).strftime("%Y%m%d")
            path = folder / "raw" / system / f"{system}_{day}.csv"
            pacsv.write_csv(pa.Table.from_pandas(rows, preserve_index=False), path)
        text += (
            f'\n[systems.{system}]\nkind = "{kind}"\nformat = "csv"\n'
            f'snapshots = "raw/{system}/{system}_*.csv"\n[systems.{system}.columns]\n'
            f'sku = "{sku}"\nlocation = "{location}"\nas_of = "{as_of}"\non_hand = "{on_hand}"\n'
        )
    (folder / "client.toml").write_text(text, encoding="utf-8")


def write_parquet(folder: Path, n_skus: int, n_days: int) -> None:
    """One canonical Parquet file per system (sku, location, as_of UTC, on_hand)."""
    text = toml_head("Parquet bench")
    for system, frame in snapshots(n_skus, n_days).items():
        (folder / "raw").mkdir(parents=True, exist_ok=True)
        frame.drop(columns="day").to_parquet(folder / "raw" / f"{system}.parquet", index=False)
        text += (
            f'\n[systems.{system}]\nkind = "{HEADERS[system][0]}"\nformat = "parquet"\n'
            f'snapshots = "raw/{system}.parquet"\n'
        )
    (folder / "client.toml").write_text(text, encoding="utf-8")


def make_clients(work: Path, names: list[str], args: argparse.Namespace) -> dict[str, Path]:
    """The benchmark's client folders by name, generated when absent."""
    clients = {p.name: p for p in sorted(SAMPLES.iterdir()) if (p / "client.toml").is_file()}
    makers = {
        "daily-csv": lambda f: write_daily_csv(f, args.skus_csv, 30),
        "parquet": lambda f: write_parquet(f, args.skus_parquet, 30),
        "simulated": lambda f: driftkit(
            ROOT, ["simulate", str(f), "--skus", str(args.skus_sim), "--days", "60", "--seed", "1"]
        ),
    }
    for name, make in makers.items():
        folder = work / name
        if name in names and not (folder / "client.toml").is_file():
            started = time.perf_counter()
            make(folder)
            print(f"generated {name} in {time.perf_counter() - started:.0f} s", flush=True)
        clients[name] = folder
    return {n: clients[n] for n in names}


# --- runs ------------------------------------------------------------------------------------


def run(args: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, float, str, float]:
    """Wall seconds, the child's own peak RSS (MB, its ``VmHWM``: ``args`` is ``python -c
    SCRIPT ...``, run with :data:`PEAK` first), its stdout and its CPU seconds (user + system,
    from ``wait4``: what the run costs whatever else the machine runs)."""
    args = [*args[:2], PEAK + args[2], *args[3:]]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(args[3:6])} ... failed:\n{err.read()[-3000:]}")
        peak = err.read().strip().splitlines()[-1].split()
        if peak[0] != "VmHWM":
            raise RuntimeError(f"no VmHWM line at the end of {' '.join(args[3:6])}'s stderr")
        return seconds, int(peak[1]) / 1024, out.read(), usage.ru_utime + usage.ru_stime


def driftkit(
    root: Path, argv: list[str], cwd: Path | None = None
) -> tuple[float, float, str, float]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return run([sys.executable, "-c", CLI, *argv], cwd=cwd or Path.cwd(), env=env)


def audit(root: Path, name: str, client: Path) -> dict[str, Any]:
    """One whole audit in a fresh folder: seconds, peak MB, summary, output bytes."""
    with tempfile.TemporaryDirectory(dir=Path(client).parent) as work:
        cwd, out = Path(work), Path(work) / "reports"
        result: dict[str, Any] = {"ingest_s": 0.0, "ingest_cpu": 0.0}
        if name == "simulated":
            result["ingest_s"], _, _, result["ingest_cpu"] = driftkit(
                root, ["ingest", str(client)], cwd
            )
        seconds, peak, _, cpu = driftkit(
            root, ["audit", str(client), "--no-html", "--out", str(out)], cwd
        )
        run_dir = next(out.rglob("summary.json")).parent
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        summary.pop("run_at", None)
        size = sum(p.stat().st_size for p in run_dir.iterdir())
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak, "summary": summary, "out_mb": size / 1e6, **result}  # fmt: skip


def load_seconds(root: Path, client: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(root)}
    _, _, out, _ = run([sys.executable, "-c", LOAD, str(client)], cwd=client.parent, env=env)
    return float(out.strip().splitlines()[-1])


DUCKDB = """
import duckdb, json, sys, time
started = time.perf_counter()
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
con.execute(sys.argv[1])
row = con.execute(sys.argv[2]).fetchone()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "numbers": list(row)}))
"""

HEADLINE_SQL = """
CREATE TEMP TABLE b AS
SELECT system, sku, location, CAST(timezone('{tz}', as_of) AS DATE) AS day,
       max(as_of) AS as_of, arg_max(v, as_of) AS v
FROM raw GROUP BY ALL;
CREATE TEMP TABLE days AS
SELECT CAST(d AS DATE) AS day,
       timezone('{tz}', CAST(d + INTERVAL 1 DAY AS TIMESTAMP)) - INTERVAL 1 MICROSECOND AS day_end
FROM range((SELECT CAST(min(day) AS TIMESTAMP) FROM b),
           (SELECT CAST(max(day) AS TIMESTAMP) FROM b) + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d);
CREATE TEMP TABLE val AS
WITH runs AS (SELECT *, lead(day) OVER (PARTITION BY system, sku, location ORDER BY day) AS next
              FROM b)
SELECT r.system, r.sku, r.location, days.day, r.v
FROM runs r CROSS JOIN range(0, 2) o(k)
JOIN days ON days.day = r.day + CAST(o.k AS INTEGER)
WHERE (r.next IS NULL OR days.day < r.next) AND r.as_of > days.day_end - INTERVAL 24 HOUR;
CREATE TEMP TABLE wide AS
SELECT sku, location, day, count(v) AS n, max(v) - min(v) AS spread,
       max(v) FILTER (system = 'shop') AS shop, max(v) FILTER (system = 'wms') AS wms
FROM val GROUP BY ALL;
"""

NUMBERS_SQL = """
SELECT (SELECT count(*) FROM (SELECT DISTINCT sku, location FROM b)),
       count(*) FILTER (n >= 2),
       count(*) FILTER (n >= 2 AND spread <= 0) / count(*) FILTER (n >= 2),
       count(DISTINCT (sku, location)) FILTER (n >= 2 AND spread > 0),
       count(*) FILTER (shop <= 0 AND wms > 0)
FROM wide
"""


def raw_view(name: str, client: Path) -> str:
    """``raw(system, sku, location, as_of, v)`` over the client's files, as DuckDB reads them."""
    parts = []
    for system, (_, sku, location, as_of, on_hand) in HEADERS.items():
        if name == "parquet":
            source = f"read_parquet('{client}/raw/{system}.parquet')"
            sku, location, as_of, on_hand = "sku", "location", "as_of", "on_hand"
            when = as_of
        else:
            source = f"read_csv('{client}/raw/{system}/*.csv', header = true)"
            when = f"timezone('{TZ}', \"{as_of}\")"
        parts.append(
            f'SELECT \'{system}\' AS system, "{sku}" AS sku, "{location}" AS location, '
            f'{when} AS as_of, CAST("{on_hand}" AS DOUBLE) AS v FROM {source}'
        )
    return "CREATE TEMP VIEW raw AS " + " UNION ALL ".join(parts) + ";"


def duckdb_headline(name: str, client: Path) -> dict[str, Any]:
    script = raw_view(name, client) + HEADLINE_SQL.format(tz=TZ)
    seconds, peak, out, cpu = run(
        [sys.executable, "-c", DUCKDB, script, NUMBERS_SQL], cwd=client.parent, env=dict(os.environ)
    )
    found = json.loads(out.strip().splitlines()[-1])
    return {"seconds": found["seconds"], "process_s": seconds, "cpu": cpu, "peak_mb": peak,
            "numbers": dict(zip(HEADLINE, found["numbers"], strict=True))}  # fmt: skip


def agree(summary: dict[str, Any], numbers: dict[str, Any]) -> list[str]:
    """The headline numbers on which driftkit's summary and DuckDB differ."""
    return [
        f"{k}: driftkit {summary.get(k)} vs duckdb {v}"
        for k, v in numbers.items()
        if not np.isclose(float(summary.get(k) or 0), float(v), rtol=1e-12, atol=0)
    ]


# --- main ------------------------------------------------------------------------------------


def bench_client(
    name: str, client: Path, roots: dict[str, Path], turn: int = 0
) -> tuple[list[str], list[str]]:
    """Time one client on every checkout (and DuckDB); the printed lines and the problems.

    The checkouts run in ``roots``' order on even ``turn`` and in reverse on odd ones, so on
    a loaded machine the worst minutes do not always fall on the same tree.
    """
    lines, problems, results = [], [], {}
    order = list(roots.items())
    for label, root in order[::-1] if turn % 2 else order:
        results[label] = audit(root, name, client)
        results[label]["load_s"] = load_seconds(root, client)
    results = {label: results[label] for label in roots}
    reference = duckdb_headline(name, client) if name in ("daily-csv", "parquet") else None
    for label, r in results.items():
        whole, cpu = r["ingest_s"] + r["seconds"], r["ingest_cpu"] + r["cpu"]
        line = (f"{name:<16}{label:<10}{whole:>9.2f}{cpu:>8.2f}{r['load_s']:>8.2f}"
                f"{r['load_s'] / whole:>7.0%}{r['peak_mb']:>9.0f}{r['out_mb']:>9.1f}")  # fmt: skip
        if reference is not None:
            line += f"{whole / reference['seconds']:>9.1f}x{cpu / reference['cpu']:>8.1f}x"
            problems += [f"{name} {label}: {p}" for p in agree(r["summary"], reference["numbers"])]
        lines.append(line)
    if reference is not None:
        lines.append(f"{name:<16}{'duckdb':<10}{reference['seconds']:>9.2f}{reference['cpu']:>8.2f}{'':>15}"
                     f"{reference['peak_mb']:>9.0f}   (process {reference['process_s']:.2f} s)")  # fmt: skip
    if "reference" in results and results["this"]["summary"] != results["reference"]["summary"]:
        problems.append(f"{name}: summary.json differs between this checkout and the reference")
    return lines, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, help="another driftkit checkout, same run")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench_audit")
    parser.add_argument("--quick", action="store_true", help="skip the 100k-SKU Parquet client")
    parser.add_argument("--clients", nargs="*", default=None, help="only these clients")
    parser.add_argument("--skus-csv", type=int, default=10_000)
    parser.add_argument("--skus-parquet", type=int, default=100_000)
    parser.add_argument("--skus-sim", type=int, default=5_000)
    args = parser.parse_args(argv)
    samples = sorted(p.name for p in SAMPLES.iterdir() if (p / "client.toml").is_file())
    names = args.clients or [*samples, "daily-csv", "simulated", "parquet"]
    names = [n for n in names if not (args.quick and n == "parquet")]
    args.work.mkdir(parents=True, exist_ok=True)
    clients = make_clients(args.work, names, args)
    roots = {"this": ROOT} | ({"reference": args.reference.resolve()} if args.reference else {})
    print(f"{'client':<16}{'run':<10}{'whole s':>9}{'cpu s':>8}{'load s':>8}{'load':>7}{'peak MB':>9}"
          f"{'out MB':>9}{'/duckdb':>10}{'cpu':>9}", flush=True)  # fmt: skip
    problems: list[str] = []
    for turn, (name, client) in enumerate(clients.items()):
        lines, found = bench_client(name, client, roots, turn)
        print("\n".join(lines), flush=True)
        problems += found
    print("\n".join(problems) if problems else "all numbers agree")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
