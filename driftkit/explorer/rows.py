"""Tables copied once in key order, and the lookup from (sku, location) to grid key codes.

A key's rows are then a contiguous slice (``_Rows.of``, ``_Rows.taker``), never a scan.
Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from driftkit.explorer.payload import Take
from driftkit.schema import LOCATION, SKU

# --- per-key indexes -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """A table sorted by key code: key k's rows are ``frame[offsets[k]:offsets[k+1]]``.

    Sorting once and slicing later matters: taking scattered rows from a 9M-row Arrow-backed
    frame costs 20–40 ms per column, a slice costs microseconds.
    """

    frame: pd.DataFrame
    offsets: np.ndarray
    arrays: dict[str, np.ndarray | pa.ChunkedArray] = field(default_factory=dict, repr=False)

    def of(self, code: int) -> pd.DataFrame:
        return self.frame.iloc[self.offsets[code] : self.offsets[code + 1]]

    def taker(self, code: int) -> Take:
        """Key ``code``'s rows column by column, as NumPy slices (no DataFrame on the way).

        Each column is turned once into an array that slices cheaply (NumPy; Arrow for
        text, which becomes an object array of the slice only).
        """
        lo, hi = int(self.offsets[code]), int(self.offsets[code + 1])

        def take(name: str) -> np.ndarray:
            array = self.arrays.get(name)
            if array is None:
                array = self.arrays[name] = _sliceable(self.frame[name])
            if isinstance(array, np.ndarray):
                return array[lo:hi]
            return np.asarray(array.slice(lo, hi - lo).to_numpy(), dtype=object)

        return take


def _sliceable(column: pd.Series) -> np.ndarray | pa.ChunkedArray:
    """A column as NumPy (numbers, naive times) or Arrow (text, anything else)."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else ""
    if kind and kind in "fiubM":
        return column.to_numpy()
    if kind == "O" or isinstance(column.dtype, pd.CategoricalDtype):
        return column.to_numpy(dtype=object)  # pointers to strings that exist already
    array = pa.array(column, from_pandas=True)  # Arrow-backed text: no Python strings
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


class _KeyLookup:
    """Maps (sku, location) columns of any table to grid key codes (−1 = not on the grid).

    SKUs and locations are matched with Arrow hash lookups; the (sku, location) pair is then
    a dense table lookup (a sorted search when the pair space is too large for a table).
    """

    DENSE_LIMIT = 50_000_000

    def __init__(self, keys: pd.DataFrame) -> None:
        sku_code, skus = pd.factorize(keys[SKU])
        loc_code, locations = pd.factorize(keys[LOCATION])
        self.skus, self.locations = _text(pd.Series(skus)), _text(pd.Series(locations))
        self.n_loc = len(locations)
        pair = sku_code.astype(np.int64) * self.n_loc + loc_code
        self.order = np.argsort(pair, kind="stable")
        self.pairs = pair[self.order]
        self.table: np.ndarray | None = None
        if len(skus) * self.n_loc <= self.DENSE_LIMIT:
            self.table = np.full(len(skus) * self.n_loc, -1, dtype=np.int64)
            self.table[pair] = np.arange(len(pair))

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        if len(frame) == 0 or SKU not in frame.columns or LOCATION not in frame.columns:
            return np.full(len(frame), -1, dtype=np.int64)
        sku = _positions(frame[SKU], self.skus)
        loc = _positions(frame[LOCATION], self.locations)
        known = (sku >= 0) & (loc >= 0)
        pair = np.where(known, sku * self.n_loc + loc, 0)
        if self.table is not None:
            return np.where(known, self.table[pair], -1)
        at = np.minimum(np.searchsorted(self.pairs, pair), len(self.pairs) - 1)
        return np.where(known & (self.pairs[at] == pair), self.order[at], -1)


def _text(column: pd.Series) -> pa.Array:
    """A text column as an Arrow large_string array (zero-copy for the ``str`` dtype)."""
    array = pa.array(column, from_pandas=True)
    return array if array.type == pa.large_string() else pc.cast(array, pa.large_string())


def _positions(column: pd.Series, values: pa.Array) -> np.ndarray:
    """Position of each value of ``column`` in ``values`` (−1 when absent)."""
    found = pc.index_in(_text(column), value_set=values)
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _group_rows(
    frame: pd.DataFrame,
    codes: np.ndarray,
    n_keys: int,
    columns: tuple[str, ...] | None = None,
    times: pd.Series | None = None,
) -> _Rows:
    """A copy of ``frame`` (only ``columns`` when given) sorted by key code, with offsets.

    One stable sort: a key's rows keep their input order, or with ``times`` (local times,
    added as the column ``time``) are in time order; rows off the grid are dropped.
    """
    keep = np.flatnonzero(codes >= 0)
    if times is None:
        order = keep[np.argsort(codes[keep], kind="stable")]
    else:
        stamps = times.to_numpy(dtype="datetime64[ns]").view("int64")
        order = keep[np.lexsort((stamps[keep], codes[keep]))]
    offsets = np.searchsorted(codes[order], np.arange(n_keys + 1))
    picked = frame if columns is None else frame[list(columns)]
    if times is not None:
        picked = picked.assign(time=times.to_numpy(dtype="datetime64[ns]"))
    return _Rows(picked.take(order).reset_index(drop=True), offsets)
