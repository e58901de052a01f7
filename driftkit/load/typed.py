"""Typed Parquet snapshots: every row checked by whole-column masks, only suspect rows careful.

A canonical Parquet export (string SKUs and locations, a timestamp column, numeric
measures) needs none of the text parsing the careful path (:func:`driftkit.load.file.finish_raw`)
does per row.  :func:`load_typed` reads only the mapped columns with pyarrow's multi-threaded
reader, keeps SKUs and locations as dictionaries (each distinct text normalized once, with
the careful path's own :func:`~driftkit.load.normalize.normalize_skus`,
:func:`~driftkit.load.normalize.apply_aliases` and :func:`~driftkit.load.rows.map_locations`),
and marks as *suspect* every row the careful path could treat differently from a plain copy:

* an empty SKU, an unknown or out-of-range snapshot time;
* all measures empty, or a measure holding a sentinel value of the system;
* a key (SKU, location, time) that more than one row holds.

The suspect rows, and only those, go through :func:`driftkit.load.finish.finish_snapshots`
with their own lines; it gives their rows, rejects and notes exactly as for the whole file,
because no check of a clean row depends on another row and every duplicate group is wholly
suspect.  The other rows are copied as they are.  A file whose types or settings this
module does not cover (text quantities, ``unit = "pack"``, bins, ``unavailable``, a stored
index, an unreadable file) returns ``None`` and takes the careful path, which also gives
every error message.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftkit import schema as s
from driftkit.config import ClientConfig, SystemConfig
from driftkit.load import excel, tabular
from driftkit.load.file import FILES_COLUMNS, Part, file_as_of, with_headers
from driftkit.load.finish import BIN, finish_snapshots
from driftkit.load.normalize import (
    parse_quantities,
    parse_timestamps,
)
from driftkit.load.read import RawTable
from driftkit.load.reference import relative
from driftkit.load.rowkeys import RowKeys, shared_keys
from driftkit.load.rows import Context, Finished

__all__ = ["load_typed"]

log = logging.getLogger("driftkit.load.client")
_MEASURED = (s.ON_HAND, s.AVAILABLE, s.COMMITTED)
_SCHEMA = s.TABLES["snapshots"]


def load_typed(
    config: ClientConfig,
    system: SystemConfig,
    path: Path,
    aliases: pd.DataFrame,
    pack_sizes: pd.Series,
) -> Part | None:
    """Load one typed Parquet snapshot file, or ``None`` when it needs the careful path.

    Parameters
    ----------
    config, system
        The client and the system whose snapshot file this is.
    path
        The Parquet file.
    aliases, pack_sizes
        As for :func:`driftkit.load.file.load_file`.

    Returns
    -------
    Part or None
        Equal to what :func:`driftkit.load.file.load_file` gives: the snapshots (system,
        sku, location, as_of, on_hand, available, committed), rejects (source_file, line,
        column, value, reason), notes and the ``files`` row.
    """
    if not _settings_apply(system) or excel.is_workbook(path):
        return None
    name = relative(path, config)
    schema = _schema(path)
    if schema is None:
        return None
    as_of = file_as_of(path, system, config, name)
    empty = RawTable(name, "parquet", schema.empty_table().to_pandas(), np.zeros(0, np.int64))
    headers = tabular.stage_snapshots(empty, system, has_as_of=as_of is not None)[1]
    present = {canon: head for canon, head in headers.items() if head in schema.names}
    if not _types_apply(schema, present):
        return None
    log.info("reading %s (%s snapshots)", name, system.id)
    try:
        table = _read(path, present)
    except (pa.ArrowInvalid, OSError):  # the careful path reads it again and says what is wrong
        return None
    ctx = with_headers(Context(config, system, name, aliases, pack_sizes), headers, as_of)
    return _finish(table, present, ctx)


def _settings_apply(system: SystemConfig) -> bool:
    return (
        system.format == "parquet"
        and system.wide is None
        and system.aggregate != "sum"
        and system.unit == "each"
    )


def _schema(path: Path) -> pa.Schema | None:
    """The file's Arrow schema; ``None`` when unreadable or it stores a pandas index."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError):
        return None
    index = (schema.pandas_metadata or {}).get("index_columns", [])
    plain = all(isinstance(col, dict) and col.get("kind") == "range" for col in index)
    return schema if plain and len(set(schema.names)) == len(schema.names) else None


def _types_apply(schema: pa.Schema, present: dict[str, str]) -> bool:
    """Text keys, a timestamp time and numeric measures; no bin or unavailable column."""
    if BIN in present or "unavailable" in present or s.SKU not in present:
        return False
    text = (pa.types.is_string, pa.types.is_large_string)
    kinds = {canon: schema.field(head).type for canon, head in present.items()}
    checks = [any(is_text(kinds[s.SKU]) for is_text in text)]
    if s.LOCATION in kinds:
        checks.append(any(is_text(kinds[s.LOCATION]) for is_text in text))
    if s.AS_OF in kinds:
        checks.append(pa.types.is_timestamp(kinds[s.AS_OF]))
    for canon in _MEASURED:
        if canon in kinds:
            kind = kinds[canon]
            checks.append(pa.types.is_integer(kind) or pa.types.is_floating(kind))
    return all(checks) and any(canon in kinds for canon in _MEASURED)


def _read(path: Path, present: dict[str, str]) -> pa.Table:
    """The mapped columns, multi-threaded, SKU and location as one dictionary each."""
    keys = [present[c] for c in (s.SKU, s.LOCATION) if c in present]
    table = pq.read_table(
        path, columns=list(present.values()), read_dictionary=keys, use_threads=True
    )
    return table.unify_dictionaries()


def _finish(table: pa.Table, present: dict[str, str], ctx: Context) -> Part | None:
    """Copy the clean rows, finish the suspect ones carefully, merge them in file order."""
    if table.num_rows == 0:
        return None
    keys = RowKeys(table, present, ctx)
    columns = {
        canon: table.column(head).to_pandas()
        for canon, head in present.items()
        if canon not in (s.SKU, s.LOCATION)
    }
    stamps = _stamps(columns, ctx, table.num_rows)
    numbers = {c: parse_quantities(columns[c])[0] for c in _MEASURED if c in columns}
    suspect = _suspect(keys, stamps, numbers, ctx)
    clean = np.flatnonzero(~suspect)
    frame = _copy_rows(keys, stamps, numbers, clean, ctx)
    careful = _finish_suspects(keys, columns, np.flatnonzero(suspect), ctx)
    if careful is not None and len(careful.table):
        assert careful.origin is not None
        kept = np.concatenate([clean, careful.origin.to_numpy()])
        order = np.argsort(kept, kind="stable")
        frame = pd.concat([frame, careful.table], ignore_index=True).take(order)
        clean = kept[order]
    frame = frame.reset_index(drop=True)
    rejects = careful.rejects if careful is not None else s.empty("rejects")
    rejected = careful.rows_rejected if careful is not None else 0
    notes = careful.notes if careful is not None else ()
    finished = Finished(frame, rejects, len(clean), rejected, notes, pd.Index(clean))
    return Part("snapshots", finished, _file_row(keys, frame, clean, finished, ctx))


def _stamps(columns: dict[str, pd.Series], ctx: Context, rows: int) -> pd.Series:
    """Each row's snapshot time (UTC), NaT where unknown, as the careful path parses it."""
    if s.AS_OF not in columns:
        return pd.Series(ctx.as_of, index=pd.RangeIndex(rows), dtype="datetime64[us, UTC]")
    return parse_timestamps(columns[s.AS_OF], timezone=ctx.config.timezone)[0]


def _suspect(
    keys: RowKeys, stamps: pd.Series, numbers: dict[str, pd.Series], ctx: Context
) -> np.ndarray:
    """Rows the careful path could treat otherwise than a copy (see the module docstring)."""
    assert ctx.system is not None
    sentinels = [*ctx.system.sentinels]
    for extra in ctx.system.location_sentinels.values():
        sentinels += list(extra)
    values = np.column_stack([number.to_numpy() for number in numbers.values()])
    suspect = (keys.sku_key < 0) | stamps.isna().to_numpy() | np.isnan(values).all(axis=1)
    suspect |= np.isin(values, sentinels).any(axis=1)
    key = keys.sku_key * (int(keys.location_key.max()) + 1) + keys.location_key
    return suspect | shared_keys(key, np.asarray(stamps.array.asi8))


def _copy_rows(
    keys: RowKeys,
    stamps: pd.Series,
    numbers: dict[str, pd.Series],
    rows: np.ndarray,
    ctx: Context,
) -> pd.DataFrame:
    """The clean ``rows`` as canonical snapshots (what :func:`schema.conform` would give)."""
    assert ctx.system is not None
    scale = ctx.system.scale
    n = len(rows)
    arrays = {
        s.SYSTEM: _texts(np.zeros(n, np.int64), pd.Series([ctx.system.id], dtype="str")),
        s.SKU: _texts(keys.sku_codes[rows], keys.skus),
        s.LOCATION: _texts(keys.location_codes[rows], keys.locations),
        s.AS_OF: pa.array(_take(stamps, rows), type=_SCHEMA.field(s.AS_OF).type),
    }
    for canon in _MEASURED:
        if canon in numbers:
            values = _take(numbers[canon], rows).to_numpy() * scale
            arrays[canon] = pa.array(values, type=pa.float64(), from_pandas=True)
        else:
            arrays[canon] = pa.nulls(n, pa.float64())
    return pa.table([arrays[f.name] for f in _SCHEMA], names=_SCHEMA.names).to_pandas()


def _take(values: pd.Series, rows: np.ndarray) -> pd.Series:
    """``values`` at ``rows`` (no copy when ``rows`` are all of them, in order)."""
    return values if len(rows) == len(values) else values.iloc[rows]


def _texts(codes: np.ndarray, texts: pd.Series) -> pa.Array:
    """Rows' texts from codes into ``texts``, as one Arrow (large) string array.

    Large strings are what pandas keeps its ``str`` columns in, so no cast follows.
    """
    dictionary = pa.array(texts.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    indices = pa.array(codes.astype(np.int32))
    return pa.DictionaryArray.from_arrays(indices, dictionary).dictionary_decode()


def _finish_suspects(
    keys: RowKeys, columns: dict[str, pd.Series], rows: np.ndarray, ctx: Context
) -> Finished | None:
    """The suspect rows staged as the careful path stages them, finished by it."""
    if not len(rows):
        return None
    index = pd.Index(rows)
    texts = {s.SKU: (keys.raw_skus, keys.sku_codes)}
    if keys.raw_locations is not None:
        texts[s.LOCATION] = (keys.raw_locations, keys.location_codes)
    staged = {}
    for canon in keys.order:
        if canon in texts:
            raw, codes = texts[canon]
            staged[canon] = pd.Series(raw.to_numpy()[codes[rows]], index=index, dtype="str")
        else:
            staged[canon] = columns[canon].iloc[rows].set_axis(index)
    frame = pd.DataFrame(staged).assign(**{s.LINE: rows + 1})
    return finish_snapshots(frame, ctx, pd.DataFrame())


def _file_row(
    keys: RowKeys, frame: pd.DataFrame, rows: np.ndarray, finished: Finished, ctx: Context
) -> dict[str, object]:
    """The file's row of the ``files`` table (:data:`driftkit.load.file.FILES_COLUMNS`)."""
    assert ctx.system is not None
    when = frame[s.AS_OF]
    row = {
        "system": ctx.system.id,
        "table": "snapshots",
        "source_file": ctx.source_file,
        "format": "parquet",
        "rows_read": len(keys.sku_codes),
        "rows_accepted": finished.rows_accepted,
        "rows_rejected": finished.rows_rejected,
        "skus": int(np.count_nonzero(np.bincount(keys.sku_key[rows] + 1)[1:])),
        "first_as_of": when.min() if len(when) else pd.NaT,
        "last_as_of": when.max() if len(when) else pd.NaT,
    }
    assert tuple(row) == FILES_COLUMNS
    return row
