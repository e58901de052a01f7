"""Integer codes of a text column, computed once per column.

An audit factorizes the same snapshot columns (system, sku, location) in several steps:
the as-of rule, the coverage facts, the per-system note counts.  On 12M rows each
factorization costs seconds, so :func:`column_codes` keeps the codes of a column for as
long as its array lives.  Tables are never modified in place (tables in, tables out), so
the same array always has the same codes.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import pandas as pd

from driftkit.schema import LOCATION, SKU

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
        _remember(array, found)  # an array that cannot be watched is not kept
        return found
    return _CODES[key]


def take_coded(names: pd.Series, rows: np.ndarray) -> pd.Series:
    """``names[rows]`` as a text column whose :func:`column_codes` come from ``names``'s.

    ``names`` is small (a grid's keys or systems), the result long (a row per cell): the
    long column's codes are found from the runs of equal ``rows`` instead of hashing its
    texts (:func:`first_seen_codes`).

    Returns
    -------
    pandas.Series
        ``str`` dtype, one value per row, index 0..n−1.
    """
    column = pd.Series(names.astype("str").array.take(np.asarray(rows, dtype=np.int64)))
    name_codes, name_uniques = pd.factorize(names)
    if (name_codes < 0).any():  # a missing name: the long column factorizes on its own
        return column
    codes, first = first_seen_codes(name_codes[rows], small=len(name_uniques) < 2**31 - 1)
    _remember(column.array, (codes, np.asarray(name_uniques, dtype=object)[first]))
    return column


def first_seen_codes(values: np.ndarray, *, small: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values)`` of integers, hashing one value per run of equal values.

    A value is first seen where a run starts, so only the runs' values are factorized
    (a grid's cells come in runs of one key's days).

    Returns
    -------
    tuple of numpy.ndarray
        ``(codes, uniques)``: codes in order of first appearance (int32 when ``small``,
        else int64) and the distinct values in that order.
    """
    n = len(values)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if n else np.arange(0)
    run_codes, uniques = pd.factorize(values[starts])
    run_codes = run_codes.astype(np.int32 if small else np.int64)
    return np.repeat(run_codes, np.diff(np.r_[starts, n])), uniques


def frame_keeping_codes(columns: dict[str, Any]) -> pd.DataFrame:
    """``pd.DataFrame(columns, copy=False)`` whose text columns keep the codes already
    known for the Series they were built from (a frame may hold a view of a Series' array,
    a new array to :func:`column_codes`).

    Returns
    -------
    pandas.DataFrame
        The columns of ``columns``, in its order.
    """
    frame = pd.DataFrame(columns, copy=False)
    for name, column in columns.items():
        if not isinstance(column, pd.Series):
            continue
        given, held = column.array, frame[name].array
        known = _CODES.get(id(given))
        if known is not None and held is not given:
            _remember(held, known)
    return frame


def _remember(array: object, found: tuple[np.ndarray, np.ndarray]) -> None:
    """Keep ``found`` as the :func:`column_codes` of ``array`` while it lives.

    ``array`` must be the one object whose id is the key: ``Series.array`` of a NumPy-backed
    column is a new wrapper at every call, and a key taken from one wrapper but watched on
    another would outlive its array (a later array at the same address would get its codes).
    """
    try:
        weakref.finalize(array, _CODES.pop, id(array), None)
    except TypeError:  # an array that cannot be watched is not kept
        return
    _CODES[id(array)] = found


def row_codes(frame: pd.DataFrame, columns: list[str], rows: np.ndarray) -> np.ndarray:
    """One int64 code per distinct combination of ``columns`` over ``frame``'s ``rows``.

    A missing value equals a missing value (as in ``drop_duplicates``).  Each column's
    :func:`column_codes` are reused, so only integers are combined; the codes say which
    rows are equal, not in which order their texts sort.

    Returns
    -------
    numpy.ndarray
        int64, one per position in ``rows``.
    """
    code, span = np.zeros(len(rows), dtype=np.int64), 1
    for column in columns:
        codes, names = column_codes(frame[column])
        width = len(names) + 1
        if span * width >= 2**62:
            code, seen = pd.factorize(code)
            span = len(seen)
        code, span = code * width + codes[rows] + 1, span * width
    return code


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


def named_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """:func:`column_codes` with a missing value named too (NaN, after the others).

    Returns
    -------
    tuple of numpy.ndarray
        ``(codes, names)``: int64 codes, all ≥ 0, and the names (object array).
    """
    codes, names = column_codes(column)
    codes = codes.astype(np.int64)
    if (codes < 0).any():
        codes[codes < 0] = len(names)
        names = np.append(names, np.nan)
    return codes, names


def map_coded(column: pd.Series, mapper: pd.Series | dict[Any, Any]) -> pd.Series:
    """``column.map(mapper)``, looked up once per distinct value (:func:`named_codes`).

    ``Series.map`` hashes every row's text again (seconds on a million rows); this maps the
    distinct values and takes the results by code.

    Returns
    -------
    pandas.Series
        The mapped values, indexed as ``column`` (the dtype ``map`` gives the distinct values).
    """
    if column.empty:
        return column.map(mapper)
    codes, names = named_codes(column)
    mapped = pd.Series(names, dtype=column.dtype).map(mapper)
    out = mapped.iloc[codes].set_axis(column.index)
    out.name = column.name
    return out


def shared_codes(
    long: pd.DataFrame, short: pd.DataFrame, columns: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """One int64 code per distinct combination of ``columns``, the same in both tables.

    A missing value equals a missing value, as in a merge.  ``long``'s columns are coded
    once (:func:`named_codes`, cached); only ``short``'s values are looked up, so integer
    keys can stand in for text keys in a ``merge`` or ``merge_asof`` between the two.

    Returns
    -------
    tuple of numpy.ndarray
        ``(codes of long's rows, codes of short's rows)``, int64.
    """
    left, right = np.zeros(len(long), dtype=np.int64), np.zeros(len(short), dtype=np.int64)
    for column in columns:
        codes, names = named_codes(long[column])
        other = pd.Index(names).get_indexer(short[column])
        absent = other < 0  # values long lacks get codes after its own, one per value
        other[absent] = len(names) + pd.factorize(short[column][absent], use_na_sentinel=False)[0]
        span = max(len(names), int(other.max(initial=-1)) + 1)
        left, right = left * span + codes, right * span + other
    return left, right


def combined_codes(
    codes: list[np.ndarray], levels: list[pd.Index], by: list[str]
) -> tuple[np.ndarray, pd.DataFrame]:
    """:func:`~driftkit.causes.handoffs.group_codes` of columns already factorized (``codes`` into sorted ``levels``,
    −1 where missing), named ``by``."""
    key = np.zeros(len(codes[0]) if codes else 0, np.int64)
    missing = np.zeros(len(key), bool)
    for one, names in zip(codes, levels, strict=True):
        key, missing = key * max(len(names), 1) + one, missing | (one < 0)
    found, group = np.unique(np.where(missing, -1, key), return_inverse=True)
    if len(found) and found[0] < 0:
        found, group = found[1:], group - 1
    columns = {}
    for column, names in zip(by[::-1], levels[::-1], strict=True):
        found, place = np.divmod(found, max(len(names), 1))
        columns[column] = names.take(place)
    return group.astype(np.int64), pd.DataFrame({c: columns[c] for c in by})


def positions_in(values: pd.Series, names: pd.Index) -> np.ndarray:
    """Each value's position in ``names`` by its text (-1 when absent or missing).

    Returns
    -------
    numpy.ndarray
        int64, one per value.
    """
    codes, uniques = column_codes(values)
    found = names.get_indexer(pd.Index(uniques).astype(str))
    return np.where(codes >= 0, found[codes], -1).astype(np.int64)


def key_positions(frame: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Each row's (sku, location) position in ``keys`` (−1 where absent).

    The same answer as ``MultiIndex.from_frame(keys).get_indexer(MultiIndex.from_frame(
    frame))`` over ``sku, location``, but the lookup runs once per distinct pair of the
    rows' :func:`column_codes` (cached per column), not once per row: an audit looks up the
    same events' and residuals' keys in several steps.

    Returns
    -------
    numpy.ndarray
        int64, one per row of ``frame``.
    """
    sku, _ = column_codes(frame[SKU])
    location, locations = column_codes(frame[LOCATION])
    pair = (sku.astype(np.int64) + 1) * (len(locations) + 1) + location + 1  # missing: 0
    code = pd.factorize(pair)[0]  # numbered in order of first appearance
    first = np.flatnonzero(np.diff(np.maximum.accumulate(code), prepend=-1) > 0)
    wanted = pd.MultiIndex.from_frame(frame[[SKU, LOCATION]].iloc[first])
    found = pd.MultiIndex.from_frame(keys[[SKU, LOCATION]]).get_indexer(wanted)
    return np.asarray(found, dtype=np.int64)[code]
