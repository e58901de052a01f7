"""Per-key tables that workers store as Parquet parts instead of sending them to the driver.

A partitioned audit's driver grows with every row a bucket sends back (docs/scale.md:
≈ 4 KB per key at 1M SKUs).  The tables listed in :data:`STORED` are written by the worker
that computed them, one Parquet part per bucket under ``Plan.parts``
(``<parts>/<table>/bucket=NN.parquet``); the bucket sends back a :class:`StoredPart` (path
and row count) and the summable parts of its numbers instead.  The run's file is then
assembled by streaming the parts in bucket order, row group by row group, into
``<table>.parquet`` and the CSV's first rows (:func:`stream_table`): the same files the
in-process audit writes from its one frame (:mod:`driftkit.scale.outputs`); a table with an
order of its own (:data:`driftkit.scale.ordered.ORDERS`: ``impact`` by key, ``count_list`` by
rank) is stored sorted by each worker and streamed through a k-way merge instead.  The
driver keeps the count list's first :data:`TOP_ROWS` rows (all the report shows) and the
key drift of each bucket's :data:`WORST_KEYS` worst keys (:func:`worst_rows`), which is
not a run file: only the report's drill-down keys are ranked from it.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftkit.causes.attribute import AttributionPart
from driftkit.drift.breakdown import rank_worst_keys
from driftkit.impact.checks import kept_head
from driftkit.impact.parts import Impact, ImpactPart
from driftkit.scale.kept import kept_findings
from driftkit.scale.ordered import BATCH, ORDERS, PAIR, merge_sorted, ranked_count_list, sort_part
from driftkit.schema import LOCATION, SKU

log = logging.getLogger(__name__)

#: Stored table → the key of its :class:`StoredPart` in a part's ``full`` results
#: (``scale.full``); ``demand`` is kept for :meth:`StoredTable.read`, not written as a file.
STORED = {
    "findings": "finding_rows",
    "episodes": "episode_rows",
    "count_accuracy": "count_errors",
    "impact": "impact_rows",
    "count_list": "count_rows",
    "demand": "demand_rows",
}
UNWRITTEN = ("demand",)  # stored tables that are not run files
WORST_KEYS = 25  # keys of its key drift a bucket sends: the report drills into at most these
TOP_ROWS = 100  # count-list (and findings' texts) rows a bucket sends: the report shows 25 (15)
PARTS = "parts"  # the folder of a run's parts, inside the run folder while it is written
NARROW_BATCH = 1024  # rows of each part a narrow merge holds (merged_columns: the digest)


@dataclass(frozen=True)
class StoredPart:
    """One bucket's rows of a stored table: its Parquet file and row count."""

    path: Path
    rows: int


@dataclass(frozen=True)
class StoredTable:
    """A stored table: every bucket's :class:`StoredPart`, in bucket order, or (``written``)
    the run's file of the whole table."""

    name: str
    parts: tuple[StoredPart, ...]
    written: bool = False

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


def store_full(
    full: dict[str, Any], folder: Path, bucket: int, *, keys: pd.DataFrame
) -> dict[str, Any]:
    """``full`` (a part's results, ``scale.full.full_parts``) with every :data:`STORED`
    table but episodes written under ``folder`` (sorted:
    :func:`~driftkit.scale.ordered.sort_part`) and sent as its :class:`StoredPart`; the
    impact part keeps only its top count-list rows, the attribution part no episode labels
    and its findings without texts but on the rows the report shows
    (``kept.kept_findings``; ``keys``: the bucket's worst keys)."""
    impact: ImpactPart = full["impact"]
    attribution: AttributionPart = full["attribution"]
    findings = sort_part("findings", attribution.findings)
    frames = {
        "findings": findings,
        "count_accuracy": full["count_errors"],
        "impact": impact.per_key,
        "count_list": impact.count_list,
        "demand": impact.demand,
    }
    stored = {
        STORED[name]: store_part(folder, name, bucket, sort_part(name, frame))
        for name, frame in frames.items()
    }
    kept = dataclasses.replace(
        impact,
        per_key=impact.per_key.iloc[:0],
        count_list=kept_head(sort_part("count_list", impact.count_list), TOP_ROWS),
        demand=impact.demand.iloc[:0],
    )
    narrow = kept_findings(findings, keys, TOP_ROWS)  # its labels are in the stored episodes
    labels = attribution.explained_by.iloc[:0]
    attribution = dataclasses.replace(attribution, findings=narrow, explained_by=labels)
    return {**full, **stored, "impact": kept, "attribution": attribution}


def stored_tables(fulls: list[dict[str, Any]]) -> dict[str, StoredTable]:
    """Every :data:`STORED` table whose parts the buckets stored (none in process)."""
    found = {}
    for name, key in STORED.items():
        parts = [f.get(key) for f in fulls]
        if all(isinstance(p, StoredPart) for p in parts) and parts:
            found[name] = StoredTable(name, tuple(p for p in parts if p is not None))
        elif any(isinstance(p, StoredPart) for p in parts):
            raise TypeError(f"{name}: some buckets stored their rows and some sent them")
    return found


def worst_rows(key_drift: pd.DataFrame, n: int = WORST_KEYS) -> pd.DataFrame:
    """The rows of a part's ``n`` worst keys (``breakdown.rank_worst_keys``): every key of
    the client's ``n`` worst is one of its bucket's ``n`` worst, so the report's drill-down
    keys are ranked exactly from these rows alone."""
    worst = pd.MultiIndex.from_frame(rank_worst_keys(key_drift, n)[[SKU, LOCATION]])
    kept = pd.MultiIndex.from_frame(key_drift[[SKU, LOCATION]]).isin(worst)
    return key_drift[kept].reset_index(drop=True)


def first_rows(impact: Impact, stored: dict[str, StoredTable]) -> Impact:
    """``impact`` with only the count list's first :data:`TOP_ROWS` when it is stored (the
    buckets' first rows, ranked together: the whole list's first rows)."""
    if "count_list" not in stored:
        return impact
    return dataclasses.replace(impact, count_list=impact.count_list.head(TOP_ROWS))


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
        ``stored`` with each table's one part now the run's ``<name>.parquet`` (without
        the tables not written as files, :data:`UNWRITTEN`).
    """
    shutil.rmtree(run_dir / PARTS, ignore_errors=True)
    files = {n: t for n, t in stored.items() if n not in UNWRITTEN}  # demand's rows are gone
    whole = {n: (StoredPart(run_dir / f"{n}.parquet", t.rows),) for n, t in files.items()}
    return {n: StoredTable(n, parts, written=True) for n, parts in whole.items()}


def _tables(stored: StoredTable) -> Iterator[pa.Table]:
    """Every part as a pyarrow table, the first part's schema for all (bucket order); merged
    into the table's own order when it has one (:data:`~driftkit.scale.ordered.ORDERS`)."""
    if not stored.parts:
        raise ValueError(f"stored table {stored.name} has no parts")
    typed = [p for p in stored.parts if p.rows] or list(stored.parts)
    schema = pq.read_schema(typed[0].path)  # an empty part may carry null-typed columns
    if stored.written or stored.name not in ORDERS:
        yield from (pq.read_table(part.path).cast(schema) for part in stored.parts)
        return

    def reopen(columns: list[str] | None = None) -> list[Iterator[pd.DataFrame]]:
        return [_batches(part.path, schema, columns) for part in stored.parts]  # from the start

    frames = merge_sorted(reopen(), ORDERS[stored.name]) if stored.rows else _empty(typed, schema)
    yield from _arrow(_finished(stored.name, frames, reopen), schema)


def merged_columns(
    stored: StoredTable, columns: list[str], *, batch: int = NARROW_BATCH
) -> Iterator[pd.DataFrame]:
    """``columns`` of a stored table's rows, ``batch`` rows of each part at a time, merged
    into the table's order (:data:`~driftkit.scale.ordered.ORDERS`; ``columns`` must hold
    its sort keys).

    Returns
    -------
    Iterator of pandas.DataFrame
        Batches of at most ``batch`` × parts rows; at least one.
    """
    typed = [p for p in stored.parts if p.rows] or list(stored.parts)
    schema = pq.read_schema(typed[0].path)
    if not stored.rows:
        yield pq.read_table(typed[0].path, columns=columns).cast(_only(schema, columns)).to_pandas()
        return
    batches = [_batches(part.path, schema, columns, batch) for part in stored.parts]
    yield from merge_sorted(batches, ORDERS[stored.name])


def _only(schema: pa.Schema, columns: list[str]) -> pa.Schema:
    return pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)


def _batches(
    path: Path, schema: pa.Schema, columns: list[str] | None = None, size: int = BATCH
) -> Iterator[pd.DataFrame]:
    """One part's rows (``columns``, default all), ``size`` at a time, as frames."""
    schema = schema if columns is None else _only(schema, columns)
    for batch in pq.ParquetFile(path).iter_batches(batch_size=size, columns=columns):
        yield pa.Table.from_batches([batch]).cast(schema).to_pandas()


def _empty(typed: list[StoredPart], schema: pa.Schema) -> Iterator[pd.DataFrame]:
    """The table without rows (an empty part), so that its file still has every column."""
    yield pq.read_table(typed[0].path).cast(schema).to_pandas()


def _finished(
    name: str, frames: Iterator[pd.DataFrame], reopen: Callable[..., list[Iterator[pd.DataFrame]]]
) -> Iterator[pd.DataFrame]:
    """The count list's merged rows ranked, its empty-shelf checks interleaved
    (:func:`~driftkit.scale.ordered.ranked_count_list`; ``reopen`` gives the parts' batches
    again); episodes without their pair rank."""
    if name == "episodes":
        yield from (frame.drop(columns=PAIR) for frame in frames)
        return
    yield from ranked_count_list(frames, reopen) if name == "count_list" else frames


def _arrow(frames: Iterator[pd.DataFrame], stored: pa.Schema) -> Iterator[pa.Table]:
    """The frames as pyarrow tables of one schema: the first frame's, with the stored
    parts' type for a column that frame had only nulls in."""
    schema: pa.Schema | None = None
    for frame in frames:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if schema is None:
            fields = [_typed(f, stored) for f in table.schema]
            schema = pa.schema(fields, metadata=table.schema.metadata)
        yield table.cast(schema)


def _typed(field: pa.Field, stored: pa.Schema) -> pa.Field:
    """``field``, or the stored parts' field of that name when ``field`` is null-typed."""
    known = field.name in stored.names and pa.types.is_null(field.type)
    return stored.field(field.name) if known else field
