"""Ingest: raw exports → canonical Parquet, bucketed by SKU (DESIGN §4, §12).

Layout of ``data/processed/<client>/``::

    manifest.json                      source files with size and mtime, bucket count, row counts
    snapshots/bucket=NN/part-0.parquet one SKU's rows always sit in one bucket
    events/bucket=NN/part-0.parquet
    counts/bucket=NN/part-0.parquet
    catalog.parquet  rejects.parquet  files.parquet

The bucket of a SKU is ``hash(sku) mod buckets`` with pandas' stable, documented
``hash_pandas_object`` (SipHash with pandas' fixed default key), so the same SKU lands in the
same bucket on every run and every machine, and per-key work never needs a shuffle.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftkit import schema
from driftkit.config import ClientConfig, load_config
from driftkit.load.client import ClientData, load_client

DEFAULT_BUCKETS = 8
BUCKETED = ("snapshots", "events", "counts")
WHOLE = ("catalog", "rejects")
MANIFEST = "manifest.json"
_WRITERS = 2  # buckets written side by side


@dataclass(frozen=True)
class Ingested:
    """Where an ingest wrote its Parquet and what it loaded."""

    path: Path
    data: ClientData
    buckets: int


def sku_buckets(skus: pd.Series, buckets: int) -> np.ndarray:
    """The bucket (0..buckets-1) of every SKU: stable across runs, processes and machines."""
    codes, distinct = pd.factorize(skus.astype("str"), use_na_sentinel=False)
    hashed = pd.util.hash_pandas_object(pd.Series(distinct, dtype="str"), index=False).to_numpy()
    return (hashed % np.uint64(buckets)).astype(np.int32)[codes]  # each distinct SKU hashed once


def ingest(
    client: str | Path | ClientConfig,
    *,
    out: str | Path | None = None,
    buckets: int = DEFAULT_BUCKETS,
    progress: bool = False,
) -> Ingested:
    """Load a client's exports and write canonical Parquet bucketed by SKU.

    Parameters
    ----------
    client
        Client folder or parsed config.
    out
        Destination folder; default ``data/processed/<client id>``.  Replaced atomically.
    buckets
        Number of SKU buckets (partitions).

    Returns
    -------
    Ingested
        The output path, the loaded :class:`~driftkit.load.client.ClientData` and the bucket count.
    """
    config = client if isinstance(client, ClientConfig) else load_config(client)
    data = load_client(config, progress=progress)
    dest = Path(out) if out is not None else Path("data/processed") / config.id
    staging = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for table in BUCKETED:
        write_bucketed(getattr(data, table), table, staging / table, buckets)
    for table in WHOLE:
        write_table(getattr(data, table), table, staging / f"{table}.parquet")
    data.files.to_parquet(staging / "files.parquet", index=False)
    rows = {t: len(getattr(data, t)) for t in (*BUCKETED, *WHOLE)}
    write_manifest(staging, config, buckets, rows, data.notes)
    replace_folder(staging, dest)
    return Ingested(path=dest, data=data, buckets=buckets)


def read_processed(path: str | Path, table: str, *, bucket: int | None = None) -> pd.DataFrame:
    """Read one canonical table (optionally one bucket) back from an ingest folder.

    Returns
    -------
    pandas.DataFrame
        The canonical columns of ``table`` (see :mod:`driftkit.schema`).
    """
    root = Path(path)
    if table in WHOLE:
        return pq.read_table(root / f"{table}.parquet", schema=schema.TABLES[table]).to_pandas()
    folder = root / table / f"bucket={bucket:02d}" if bucket is not None else root / table
    files = sorted(folder.rglob("*.parquet"))
    if not files:
        return schema.empty(table)
    parts = [pq.read_table(f, schema=schema.TABLES[table]) for f in files]
    return pa.concat_tables(parts).to_pandas()


def is_fresh(path: str | Path, config: ClientConfig) -> bool:
    """True when ``path`` holds an ingest of exactly the client's current source files."""
    manifest = Path(path) / MANIFEST
    if not manifest.is_file():
        return False
    recorded = json.loads(manifest.read_text()).get("sources", {})
    return bool(recorded) and recorded == _sources(config)


def read_notes(path: str | Path) -> tuple[str, ...]:
    """The loader's notes (e.g. a system without the compared measure) kept by the ingest."""
    manifest = json.loads((Path(path) / MANIFEST).read_text())
    return tuple(manifest.get("notes", ()))


def write_bucketed(frame: pd.DataFrame, table: str, folder: Path, buckets: int) -> None:
    """Write ``frame`` (canonical ``table``) as ``folder/bucket=NN/part-0.parquet`` files.

    The frame is converted to Arrow once; each bucket is filtered from it (keeping the
    frame's row order) and written on one of :data:`_WRITERS` threads (Arrow's filter and
    Parquet encoding release the GIL).  Each bucket folder must be new: writers of disjoint
    SKU sets may share ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not len(frame):
        return  # no bucket folder, as before
    codes = sku_buckets(frame[schema.SKU], buckets)
    arrow = _to_arrow(frame, table)
    present = np.flatnonzero(np.bincount(codes, minlength=buckets))
    for bucket in present:
        (folder / f"bucket={bucket:02d}").mkdir()

    def write(bucket: int) -> None:
        path = folder / f"bucket={bucket:02d}" / "part-0.parquet"
        _write_arrow(arrow.filter(codes == bucket), path)

    with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
        list(pool.map(write, present))


def write_table(frame: pd.DataFrame, table: str, path: Path) -> None:
    """Write ``frame`` as Parquet (zstd) with the canonical schema of ``table``."""
    _write_arrow(_to_arrow(frame, table), path)


def _to_arrow(frame: pd.DataFrame, table: str) -> pa.Table:
    return pa.Table.from_pandas(frame, schema=schema.TABLES[table], preserve_index=False)


def _write_arrow(arrow: pa.Table, path: Path) -> None:
    pq.write_table(arrow, path, compression="zstd")


def write_manifest(
    folder: Path,
    config: ClientConfig,
    buckets: int,
    rows: dict[str, int],
    notes: tuple[str, ...] | list[str] = (),
) -> None:
    """Write ``manifest.json``: the client's current source files (freshness), buckets, rows."""
    manifest = {
        "client": config.id,
        "buckets": buckets,
        "bucket_hash": "pandas.util.hash_pandas_object(sku) mod buckets",
        "rows": rows,
        "notes": list(notes),
        "sources": _sources(config),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))


def _sources(config: ClientConfig) -> dict[str, list[float]]:
    files = [p for p in config.root.rglob("*") if p.is_file()]
    return {
        str(p.relative_to(config.root)): [p.stat().st_size, p.stat().st_mtime]
        for p in sorted(files)
    }


def replace_folder(staging: Path, dest: Path) -> None:
    """Swap ``staging`` into ``dest`` so readers never see a half-written folder."""
    old = dest.with_name(f".{dest.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
