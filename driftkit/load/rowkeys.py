"""Each row's key of a typed Parquet file as integer codes, and the keys two rows share.

:class:`RowKeys` reads a file's SKU and location dictionaries (:mod:`driftkit.load.typed`),
normalizes each distinct text once with the careful path's own functions and gives every row
the codes of its normalized SKU and location; :func:`shared_keys` finds the rows whose key
another row holds without sorting a file that is already sorted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from driftkit import schema as s
from driftkit.load.normalize import apply_aliases, normalize_skus
from driftkit.load.rows import Context, map_locations

__all__ = ["RowKeys", "shared_keys"]


class RowKeys:
    """Each row's SKU and location as codes into normalized texts (normalized once each)."""

    def __init__(self, table: pa.Table, present: dict[str, str], ctx: Context) -> None:
        assert ctx.system is not None
        self.order = list(present)
        self.sku_codes, self.raw_skus = _codes(table.column(present[s.SKU]))
        skus = normalize_skus(self.raw_skus, ctx.config.sku)
        self.skus = apply_aliases(skus, ctx.system.id, ctx.aliases)
        if s.LOCATION in present:
            self.location_codes, raw = _codes(table.column(present[s.LOCATION]))
            self.raw_locations: pd.Series | None = raw
            self.locations = map_locations(raw, ctx, raw.index)
        else:
            self.location_codes = np.zeros(table.num_rows, np.int64)
            self.raw_locations = None
            self.locations = pd.Series([ctx.config.default_location], dtype="str")
        self.sku_key = pd.factorize(self.skus)[0][self.sku_codes]
        self.location_key = pd.factorize(self.locations)[0][self.location_codes]


def shared_keys(key: np.ndarray, moment: np.ndarray) -> np.ndarray:
    """Rows whose (key, moment) another row holds; no sort when the file is already sorted."""
    later = (key[1:] > key[:-1]) | ((key[1:] == key[:-1]) & (moment[1:] >= moment[:-1]))
    order = None if later.all() else np.lexsort((moment, key))
    if order is not None:
        key, moment = key[order], moment[order]
    same = (key[1:] == key[:-1]) & (moment[1:] == moment[:-1])
    shared = np.zeros(len(key), dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    if order is None:
        return shared
    out = np.empty_like(shared)
    out[order] = shared
    return out


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, pd.Series]:
    """Row codes into the column's distinct texts; nulls point at a last, empty entry.

    Returns
    -------
    tuple
        int64 codes (one per row) and the texts (``str``, NaN for the null entry).
    """
    dictionary = column.chunks[0].dictionary
    texts = pd.concat(
        [dictionary.to_pandas().astype("str"), pd.Series([np.nan], dtype="str")],
        ignore_index=True,
    )
    indices = pa.chunked_array([c.indices for c in column.chunks])
    codes = pc.fill_null(indices, len(dictionary)).to_numpy().astype(np.int64)
    return codes, texts
