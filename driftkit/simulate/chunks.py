"""Simulate a client too large for one simulation: chunks of SKUs, straight to bucketed Parquet.

:func:`simulate_ingested` simulates a client of any size as independent chunks of SKUs
(each chunk a whole simulation with its own seed and disjoint SKU codes), in a process pool,
and writes each chunk's canonical tables directly in the layout ``driftkit ingest`` writes
(``snapshots|events|counts/bucket=NN/part-0.parquet``, catalog, rejects, files, manifest).
SKUs are assigned to chunks **by bucket**, so a chunk writes whole buckets and no bucket
is written twice; memory is bounded by the chunk (≈ 3 GB per 50k SKUs × 30 days), not the
client.  The client folder gets ``client.toml`` and ``ground_truth.csv`` (no raw exports:
the ingest folder is the data, and its manifest marks it fresh for that folder).

With one chunk the tables equal what :func:`driftkit.simulate.simulation.simulate` +
:func:`driftkit.load.ingest.ingest` produce for the same seed (tested).  Chunk ``c ≥ 1`` suffixes
its event ids with ``-c<c>`` so they stay unique across the client.
"""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from driftkit import schema
from driftkit.config import load_config
from driftkit.load.client import FILES_COLUMNS
from driftkit.load.ingest import (
    BUCKETED,
    replace_folder,
    sku_buckets,
    write_bucketed,
    write_manifest,
    write_table,
)
from driftkit.simulate import write as _simwrite
from driftkit.simulate.core import build_stack
from driftkit.simulate.faults import Faults
from driftkit.simulate.plan import Plan, make_plan
from driftkit.simulate.plan import _sku_codes as sku_codes
from driftkit.simulate.world import run_days

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientOptions:
    """What every chunk of one simulated client shares (checked by the caller)."""

    client_id: str
    name: str
    days: int
    locations: int
    start: date
    timezone: str
    sku_style: str
    faults: Faults

    def plan(self, seed: int, sku_numbers: np.ndarray) -> Plan:
        """The chunk's plan: catalog, keys, demand and replenishment of ``sku_numbers``."""
        return make_plan(
            client_id=self.client_id,
            n_skus=sku_numbers.size,
            days=self.days,
            n_locations=self.locations,
            start=self.start,
            timezone=self.timezone,
            seed=seed,
            demand="synthetic",
            sku_style=self.sku_style,
            unit_mismatch=self.faults.unit_mismatch,
            sku_numbers=sku_numbers,
        )


@dataclass(frozen=True)
class Chunk:
    """One chunk's simulation: which SKU numbers, which seed, where to write."""

    number: int
    sku_numbers: np.ndarray
    seed: int
    folder: Path
    buckets: int


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk wrote: rows per table, its catalog and its ground truth."""

    rows: dict[str, int]
    catalog: pd.DataFrame
    truth: pa.Table
    span: pd.DataFrame


def chunks_by_bucket(
    client_id: str, skus: int, style: str, buckets: int, chunk_skus: int
) -> list[np.ndarray]:
    """SKU numbers per chunk: whole buckets, consecutive, ≈ ``chunk_skus`` SKUs each.

    Returns
    -------
    list of numpy.ndarray
        The SKU numbers (0..skus-1) of each chunk, sorted.
    """
    canonical, _ = sku_codes(client_id, np.arange(skus), style)
    bucket = sku_buckets(pd.Series(canonical, dtype="str"), buckets)
    per_bucket = np.bincount(bucket, minlength=buckets)
    group = np.cumsum(per_bucket) // max(chunk_skus, 1)
    group = np.unique(group, return_inverse=True)[1]
    chunk_of_sku = group[bucket]
    order = np.argsort(chunk_of_sku, kind="stable")
    bounds = np.searchsorted(chunk_of_sku[order], np.arange(1, group.max() + 1))
    return [np.sort(part) for part in np.split(order, bounds) if part.size]


def run_chunk(chunk: Chunk, options: ClientOptions) -> ChunkResult:
    """Simulate one chunk and write its canonical tables into its buckets.

    Returns
    -------
    ChunkResult
        Rows per canonical table; catalog (canonical columns); ground truth (Arrow,
        ``TRUTH_COLUMNS``); per system and table the first and last time and SKUs
        (``system, table, rows, skus, first, last``).
    """
    plan = options.plan(chunk.seed, chunk.sku_numbers)
    stack = build_stack(
        plan, run_days(plan, options.faults, chunk.seed), chunk.seed, walk_away_share=0.4
    )
    frames = stack.frames(full=True)
    if chunk.number:
        events = frames["events"]
        events[schema.EVENT_ID] = events[schema.EVENT_ID] + f"-c{chunk.number}"
    rows = {}
    for table in BUCKETED:
        write_bucketed(frames[table], table, chunk.folder / table, chunk.buckets)
        rows[table] = len(frames[table])
    return ChunkResult(
        rows=rows,
        catalog=frames["catalog"],
        truth=stack.truth,
        span=_span(frames),
    )


def simulate_chunks(
    folder: Path,
    processed: Path,
    options: ClientOptions,
    *,
    skus: int,
    seed: int,
    buckets: int,
    chunk_skus: int,
    jobs: int,
) -> Path:
    """Simulate ``skus`` SKUs in chunks into ``processed`` (see the module docstring).

    ``folder`` must be empty; ``options`` are checked by the caller.

    Returns
    -------
    pathlib.Path
        ``processed``.
    """
    staging = processed.with_name(f".{processed.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    parts = chunks_by_bucket(options.client_id, skus, options.sku_style, buckets, chunk_skus)
    work = [
        Chunk(n, numbers, _chunk_seed(seed, n), staging, buckets) for n, numbers in enumerate(parts)
    ]
    results = _run(work, options, jobs)
    _write_folder(folder, seed, options, results)
    _write_whole(staging, results)
    rows = {t: sum(r.rows[t] for r in results) for t in BUCKETED}
    rows |= {"catalog": sum(len(r.catalog) for r in results), "rejects": 0}
    write_manifest(staging, load_config(folder), buckets, rows)
    replace_folder(staging, processed)
    return processed


def _chunk_seed(seed: int, number: int) -> int:
    """Chunk 0 keeps ``seed`` (one chunk = :func:`simulate`); others get independent seeds."""
    if number == 0:
        return seed
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def _run(work: list[Chunk], options: ClientOptions, jobs: int) -> list[ChunkResult]:
    if jobs <= 1 or len(work) == 1:
        return [run_chunk(c, options) for c in work]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_chunk, c, options) for c in work]
        results = []
        for n, future in enumerate(futures, 1):
            results.append(future.result())
            log.info("simulated chunk %d of %d", n, len(futures))
        return results


_TIME_OF = {"snapshots": schema.AS_OF, "events": schema.OCCURRED_AT, "counts": schema.COUNTED_AT}


def _span(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per system and table: rows, SKUs, first and last time (for ``files.parquet``).

    Returns
    -------
    pandas.DataFrame
        ``system, rows, skus, first, last, table``; counts have the system ``counts``.
    """
    parts = []
    for table, column in _TIME_OF.items():
        frame = frames[table] if table != "counts" else frames[table].assign(system="counts")
        grouped = frame.groupby(schema.SYSTEM, observed=True)
        summary = grouped.agg(
            rows=(schema.SKU, "size"),
            skus=(schema.SKU, "nunique"),
            first=(column, "min"),
            last=(column, "max"),
        )
        parts.append(summary.assign(table=table))
    return pd.concat(parts).rename_axis(schema.SYSTEM).reset_index()


def _files(spans: list[pd.DataFrame]) -> pd.DataFrame:
    """``files.parquet``: one row per system and table, as if one file each had been loaded.

    Returns
    -------
    pandas.DataFrame
        :data:`driftkit.load.client.FILES_COLUMNS`; ``skus`` adds over chunks (disjoint SKUs).
    """
    total = (
        pd.concat(spans)
        .groupby([schema.SYSTEM, "table"], sort=True)
        .agg(
            rows=("rows", "sum"), skus=("skus", "sum"), first=("first", "min"), last=("last", "max")
        )
    )
    total = total.reset_index()
    files = pd.DataFrame(
        {
            "system": total[schema.SYSTEM],
            "table": total["table"],
            "source_file": "simulated/" + total[schema.SYSTEM] + "/" + total["table"],
            "format": "simulated",
            "rows_read": total["rows"].astype("int64"),
            "rows_accepted": total["rows"].astype("int64"),
            "rows_rejected": np.zeros(len(total), np.int64),
            "skus": total["skus"].astype("int64"),
            "first_as_of": total["first"],
            "last_as_of": total["last"],
        }
    )
    return files[list(FILES_COLUMNS)]


def _write_whole(staging: Path, results: list[ChunkResult]) -> None:
    catalog = pd.concat([r.catalog for r in results], ignore_index=True)
    write_table(catalog, "catalog", staging / "catalog.parquet")
    write_table(schema.empty("rejects"), "rejects", staging / "rejects.parquet")
    n = len(catalog)
    unknown = pd.Series([pd.NaT], dtype="datetime64[us, UTC]")
    whole = pd.DataFrame(
        {"system": "catalog", "table": "catalog", "rows": n, "skus": n, "first": unknown}
    ).assign(last=unknown)
    _files([*(r.span for r in results), whole]).to_parquet(staging / "files.parquet", index=False)


def _write_folder(
    folder: Path, seed: int, options: ClientOptions, results: list[ChunkResult]
) -> None:
    """``client.toml`` (the simulator's config) and ``ground_truth.csv`` of every chunk."""
    plan = options.plan(seed, np.arange(1))
    (folder / "client.toml").write_text(_simwrite.client_toml(plan, options.name), encoding="utf-8")
    _simwrite.write_truth(folder / "ground_truth.csv", pa.concat_tables(r.truth for r in results))
