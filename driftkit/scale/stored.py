"""Per-key tables that workers store as Parquet parts instead of sending them to the driver.

A partitioned audit's driver grows with every row a bucket sends back (docs/scale.md:
≈ 4 KB per key at 1M SKUs).  The tables listed in :data:`STORED` are written by the worker
that computed them, one Parquet part per bucket under ``Plan.parts``
(``<parts>/<table>/bucket=NN.parquet``); the bucket sends back a :class:`StoredPart` (path
and row count) and the summable parts of its numbers instead.  The run's file is then
assembled by streaming the parts in bucket order, row group by row group, into
``<table>.parquet`` and the CSV's first rows (:func:`stream_table`): the same files the
in-process audit writes from its one frame (:mod:`driftkit.scale.outputs`).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

#: Stored table → the key of its frame in a part's ``full`` results (``scale.full``).
STORED = {"count_accuracy": "count_errors"}
PARTS = "parts"  # the folder of a run's parts, inside the run folder while it is written


@dataclass(frozen=True)
class StoredPart:
    """One bucket's rows of a stored table: its Parquet file and row count."""

    path: Path
    rows: int


@dataclass(frozen=True)
class StoredTable:
    """A stored table: every bucket's :class:`StoredPart`, in bucket order."""

    name: str
    parts: tuple[StoredPart, ...]

    @property
    def rows(self) -> int:
        """Rows over all parts."""
        return sum(p.rows for p in self.parts)

    def read(self) -> pd.DataFrame:
        """The whole table in memory (the parts concatenated in bucket order).

        Returns
        -------
        pandas.DataFrame
            The columns of the table as the in-process audit computes it.
        """
        table = pa.concat_tables(_tables(self))
        return table.to_pandas().reset_index(drop=True)


def store_part(folder: Path, name: str, bucket: int, frame: pd.DataFrame) -> StoredPart:
    """Write one bucket's rows of table ``name`` as ``<folder>/<name>/bucket=NN.parquet``."""
    path = folder / name / f"bucket={bucket:02d}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return StoredPart(path, len(frame))


def store_full(full: dict[str, Any], folder: Path, bucket: int) -> dict[str, Any]:
    """``full`` (a part's results, ``scale.full.full_parts``) with every :data:`STORED`
    frame written under ``folder`` and replaced by its :class:`StoredPart`."""
    stored = {key: store_part(folder, name, bucket, full[key]) for name, key in STORED.items()}
    return {**full, **stored}


def split_stored(name: str, parts: list[Any]) -> tuple[pd.DataFrame, dict[str, StoredTable]]:
    """Every part's rows of ``name``: the frames concatenated when the parts are frames (in
    process), else an empty frame and ``{name: StoredTable}`` (the rows stay in the parts)."""
    if all(isinstance(p, pd.DataFrame) for p in parts):
        return pd.concat(parts, ignore_index=True), {}
    if not all(isinstance(p, StoredPart) for p in parts):
        raise TypeError(f"{name}: some buckets stored their rows and some sent them")
    return pd.DataFrame(), {name: StoredTable(name, tuple(parts))}


def stream_table(stored: StoredTable, parquet: Path, csv_rows: int) -> pa.Table:
    """Write ``stored`` to ``parquet`` part by part, and return its first ``csv_rows`` rows.

    Returns
    -------
    pyarrow.Table
        The table's first ``csv_rows`` rows (its columns), for the CSV.
    """
    tables = _tables(stored)
    first = next(tables)
    head = [first.slice(0, csv_rows)]
    kept = head[0].num_rows
    with pq.ParquetWriter(parquet, first.schema) as writer:
        writer.write_table(first)
        for table in tables:
            writer.write_table(table)
            if kept < csv_rows:
                head.append(table.slice(0, csv_rows - kept))
                kept += head[-1].num_rows
    return pa.concat_tables(head)


def discard_parts(stored: dict[str, StoredTable], run_dir: Path) -> dict[str, StoredTable]:
    """Remove the parts stored in ``run_dir / parts`` once the run's files are written.

    Returns
    -------
    dict
        ``stored`` with each table's one part now the run's ``<name>.parquet``.
    """
    shutil.rmtree(run_dir / PARTS, ignore_errors=True)
    whole = {n: (StoredPart(run_dir / f"{n}.parquet", t.rows),) for n, t in stored.items()}
    return {n: StoredTable(n, parts) for n, parts in whole.items()}


def _tables(stored: StoredTable) -> Iterator[pa.Table]:
    """Every part as a pyarrow table, the first part's schema for all (bucket order)."""
    if not stored.parts:
        raise ValueError(f"stored table {stored.name} has no parts")
    typed = [p for p in stored.parts if p.rows] or list(stored.parts)
    schema = pq.read_schema(typed[0].path)  # an empty part may carry null-typed columns
    for part in stored.parts:
        yield pq.read_table(part.path).cast(schema)
