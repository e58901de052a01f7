"""Integer codes of a text column, computed once per column.

An audit factorizes the same snapshot columns (system, sku, location) in several steps:
the as-of rule, the coverage facts, the per-system note counts.  On 12M rows each
factorization costs seconds, so :func:`column_codes` keeps the codes of a column for as
long as its array lives.  Tables are never modified in place (tables in, tables out), so
the same array always has the same codes.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

_CODES: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def column_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(column)``, computed once per column array.

    Returns
    -------
    tuple of numpy.ndarray
        ``(codes, uniques)``: integer codes (int32 unless there are 2**31 distinct values;
        cast before multiplying them) in order of first appearance (−1 = missing) and the
        distinct values as an object array.  Callers must not modify them.
    """
    array = column.array
    key = id(array)
    if key not in _CODES:
        codes, uniques = pd.factorize(column)
        small = np.int32 if len(uniques) < 2**31 - 1 else np.int64  # half the memory
        found = (codes.astype(small), np.asarray(uniques, dtype=object))
        try:
            weakref.finalize(array, _CODES.pop, key, None)
        except TypeError:  # an array that cannot be watched is not kept
            return found
        _CODES[key] = found
    return _CODES[key]


def sorted_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``column`` whose order follows its sorted distinct values.

    Returns
    -------
    tuple of numpy.ndarray
        ``(codes, names)``: int64 codes (−1 = missing) and the sorted distinct values
        (object array), ``names[codes[i]] == column[i]``.
    """
    codes, uniques = column_codes(column)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = -1  # code −1 (missing) stays −1
    return rank[codes], uniques[order]


def positions_in(values: pd.Series, names: pd.Index) -> np.ndarray:
    """Each value's position in ``names`` by its text (-1 when absent), factorized first.

    Returns
    -------
    numpy.ndarray
        int64, one per value.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return names.get_indexer(pd.Index(uniques).astype(str))[codes]
