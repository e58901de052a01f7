"""The run's tables on disk (DESIGN §9, README "Outputs"): CSV through pyarrow, Parquet for
the tables that grow with the client.

Policy: every table is written as ``<name>.csv`` by pyarrow's CSV writer, timestamps in the
same text as before (``2026-09-01T23:30:00+0000``; days ``2026-09-01T00:00:00``).  The tables
that grow with the number of keys (:data:`PARQUET_TABLES`) are also written whole as
``<name>.parquet``; their CSV holds at most :data:`CSV_ROWS` rows (the first, in the table's
own order: the count list by rank), so a spreadsheet can open it.  ``tables.json`` lists
every table with its row count, the rows in its CSV and its Parquet file, so a cut CSV is
never mistaken for the whole table.  A partitioned audit's stored tables
(:mod:`driftkit.scale.stored`) are streamed from their bucket parts into the same files.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from driftkit.scale.stored import StoredTable, stream_table

log = logging.getLogger(__name__)

PARQUET_TABLES = ("episodes", "findings", "impact", "count_list", "count_accuracy")
CSV_ROWS = 100_000  # a CSV of a table in PARQUET_TABLES holds at most this many rows
MANIFEST = "tables.json"
UTC = ("UTC", "Etc/UTC", "+00:00", "Z")
#: ``tables.json``'s order (``scale.summary.audit_tables``); other names follow as given.
ORDER = (
    "findings", "daily", "episodes", "handoffs", "impact", "count_list", "rejects", "bias",
    "projection", "count_accuracy", "fix_plan", "authority",
)  # fmt: skip


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    run_dir: Path,
    stored: Mapping[str, StoredTable] | None = None,
) -> dict[str, Any]:
    """Write every table as CSV (and Parquet where it can be large) and ``tables.json``.

    Parameters
    ----------
    tables
        The run's tables by name (``scale.summary.audit_tables``); not mutated.
    run_dir
        The existing run folder.
    stored
        A partitioned audit's stored tables by name, streamed from their parts.

    Returns
    -------
    dict
        ``tables.json``'s object: per table ``rows``, ``csv_rows`` and ``parquet`` (the
        Parquet file's name, or None when the table is written as CSV only).
    """
    written = {name: _write_table(name, frame, run_dir) for name, frame in tables.items()}
    for name, table in (stored or {}).items():
        written[name] = _stream_table(name, table, run_dir)
    rank = {name: n for n, name in enumerate(ORDER)}
    manifest = dict(sorted(written.items(), key=lambda item: rank.get(item[0], len(ORDER))))
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    (run_dir / MANIFEST).write_text(text + "\n", encoding="utf-8")
    return manifest


def _write_table(name: str, frame: pd.DataFrame, run_dir: Path) -> dict[str, Any]:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    parquet = f"{name}.parquet" if name in PARQUET_TABLES else None
    if parquet is not None:
        pq.write_table(table, run_dir / parquet)
    csv_rows = min(table.num_rows, CSV_ROWS) if parquet else table.num_rows
    return _write_csv_rows(name, table.slice(0, csv_rows), table.num_rows, parquet, run_dir)


def _stream_table(name: str, stored: StoredTable, run_dir: Path) -> dict[str, Any]:
    """A stored table's Parquet streamed from its parts, and its CSV's first rows."""
    if name not in PARQUET_TABLES:
        raise ValueError(f"{name} is stored in parts but is not one of {PARQUET_TABLES}")
    parquet = f"{name}.parquet"
    head = stream_table(stored, run_dir / parquet, CSV_ROWS)
    return _write_csv_rows(name, head, stored.rows, parquet, run_dir)


def _write_csv_rows(
    name: str, head: pa.Table, rows: int, parquet: str | None, run_dir: Path
) -> dict[str, Any]:
    """``head`` (a table's first rows, or all) as ``<name>.csv``; its ``tables.json`` entry."""
    if head.num_rows < rows:
        log.warning(
            "%s.csv holds the first %d of %d rows; the whole table is %s",
            name, head.num_rows, rows, parquet,
        )  # fmt: skip
    write_csv(head, run_dir / f"{name}.csv")
    return {"rows": rows, "csv_rows": head.num_rows, "parquet": parquet}


def write_csv(table: pa.Table, path: Path) -> None:
    """``table`` as CSV: strings quoted, nulls empty, timestamps as ISO text to the second."""
    columns = [_csv_column(table.column(i)) for i in range(table.num_columns)]
    text = pa.Table.from_arrays(columns, names=table.column_names)
    pacsv.write_csv(text, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


def _csv_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Timestamps as ``%Y-%m-%dT%H:%M:%S`` (+ ``%z`` when zoned); dictionaries decoded."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return column.cast(kind.value_type)
    if not pa.types.is_timestamp(kind):
        return column
    seconds = column.cast(pa.timestamp("s", tz=kind.tz), safe=False)  # truncated, as %S did
    if kind.tz not in (None, *UTC):  # another zone: its offset varies (slower, exact)
        return pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S%z")
    # "2026-09-01 23:30:00" from the clock fields, then "T" and the UTC offset: 9x strftime
    wall = seconds.cast(pa.int64()).cast(pa.timestamp("s")).cast(pa.string())
    text = pc.utf8_replace_slice(wall, 10, 11, "T")
    return text if kind.tz is None else pc.utf8_replace_slice(text, 19, 19, "+0000")
