"""Whole-column fast paths for cells that all share one plain shape (DESIGN §4, §12).

Most exports write every timestamp of a column in one layout (``2026-09-01T05:15:15-05:00``
or ``2026-09-01 05:15:11``) and every quantity as a plain integer.  For such a column, the
careful per-distinct-cell parsers of :mod:`driftkit.load.timestamps` and
:mod:`driftkit.load.normalize` spend most of their time factorizing and testing cells for
shapes that never occur.  The functions here check that *every* non-empty cell has the
plain shape and parse the whole column at once (timestamps as a fixed-width byte grid in
numpy, integers with one Arrow cast); they give exactly the careful parser's result, or
``None`` so that the careful path runs.  Anything else (another layout, whitespace, a sign on zero, an impossible date, a
year out of range, a number that needs more care) returns ``None``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from driftkit.load.values import FIRST_YEAR, LAST_YEAR, MAX_MAGNITUDE

#: Fixed-width layouts: byte length, the position of each field's first digit and its
#: width, and the separator bytes (position: byte).  ``offset`` is ``+HH:MM`` / ``-HH:MM``.
_FIELDS = {"year": (0, 4), "month": (5, 2), "day": (8, 2), "hour": (11, 2), "minute": (14, 2)}
_FIELDS |= {"second": (17, 2)}
_NAIVE = (19, _FIELDS, {4: "-", 7: "-", 10: " ", 13: ":", 16: ":"})
_AWARE = (25, _FIELDS | {"off_hour": (20, 2), "off_minute": (23, 2)}, {4: "-", 7: "-", 10: "T"})
_AWARE[2].update({13: ":", 16: ":", 22: ":"})
#: Years whose times stay within ``FIRST_YEAR``-``LAST_YEAR`` in any zone.
_YEARS = (FIRST_YEAR + 1, LAST_YEAR - 1)
_MAX_OFFSET_HOURS = 14
_STR = {pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan)}
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
#: The digit pairs of a layout's fields, in order (the year is two).
_PAIRS = ("century", "year", "month", "day", "hour", "minute", "second", "off_hour", "off_minute")
_NO_DAY = np.iinfo(np.int32).min


def _cells(values: pd.Series) -> pa.Array | None:
    """The column as Arrow strings, without a copy; None for any other storage."""
    if values.dtype != "str" or not isinstance(values.array, pd.arrays.ArrowStringArray):
        return None
    cells = pa.array(values.array)
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    return cells if pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type) else None


def _filled(cells: pa.Array) -> pa.Array:
    """True for non-null, non-empty cells."""
    return pc.fill_null(pc.greater(pc.binary_length(cells), 0), False)  # not_equal is slow


def uniform_times(values: pd.Series) -> pd.Series | None:
    """The times of a column whose non-empty cells share one ISO layout; else None.

    The layouts are ``YYYY-MM-DDTHH:MM:SS+HH:MM`` (aware) and ``YYYY-MM-DD HH:MM:SS``
    (naive local).  Aware cells come back at their instant (UTC), naive cells as naive
    local times, empty cells as NaT: what :func:`driftkit.load.timestamps.parse_timestamps`
    reads from such a column before it localizes.  A cell out of its field's range (no
    such day, hour 24, second 60), a year near the limits or an offset beyond 14 hours
    sends the column to the careful parser, which says which cell and why.

    Returns
    -------
    pandas.Series or None
        ``datetime64[us, UTC]`` or ``datetime64[us]`` on ``values.index``, or None when the
        careful parser must run.
    """
    cells = _cells(values)
    if cells is None or not len(cells):
        return None
    lengths, data = _widths(cells)
    for width, fields, separators in (_AWARE, _NAIVE):
        if not ((lengths == width) | (lengths == 0)).all():
            continue
        grid = data.reshape(-1, width)
        if any((grid[:, at] != ord(byte)).any() for at, byte in separators.items()):
            return None
        micros = _micros(grid, fields, width == _AWARE[0])
        if micros is None:
            return None
        out = np.full(len(lengths), np.iinfo(np.int64).min, dtype=np.int64)  # NaT
        out[lengths == width] = micros
        stamps = pd.Series(out.view("datetime64[us]"), index=values.index)
        return stamps.dt.tz_localize("UTC") if width == _AWARE[0] else stamps
    return None


def _widths(cells: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's byte length (0 for null) and the cells' bytes, back to back."""
    offsets, data = _bytes(cells)
    lengths = np.diff(offsets)
    if cells.null_count:  # a null's bytes are normally none; any other layout: no match
        valid = cells.is_valid().to_numpy(zero_copy_only=False)
        lengths = np.where(valid, lengths, np.where(lengths == 0, 0, -1))
    return lengths, data[offsets[0] : offsets[-1]]


def _bytes(cells: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The cells' offsets (``len(cells) + 1``) into their data buffer, and that buffer."""
    kind = np.int64 if pa.types.is_large_string(cells.type) else np.int32
    _, offsets_buffer, data_buffer = cells.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=kind)[
        cells.offset : cells.offset + len(cells) + 1
    ]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0)
    return offsets, data


def _micros(grid: np.ndarray, fields: dict[str, tuple[int, int]], aware: bool) -> np.ndarray | None:
    """Microseconds since the epoch (UTC when aware) of each row of ``grid``; None when a
    byte is not a digit where one belongs or a field is out of range.

    Every field is whole digit pairs, so the digits become two-digit numbers in one
    ``uint8`` step; a date's day number is looked up (:func:`_day_numbers`).
    """
    positions = [start + i for start, width in fields.values() for i in range(width)]
    digits = grid[:, positions] - np.uint8(ord("0"))
    if (digits > 9).any():
        return None
    pairs = digits[:, 0::2] * np.uint8(10) + digits[:, 1::2]  # year: two pairs
    number = dict(zip(_PAIRS, pairs.T, strict=False))
    year = number["century"].astype(np.int32) * 100 + number["year"]
    if not ((year >= _YEARS[0]) & (year <= _YEARS[1])).all():
        return None
    month, day = number["month"], number["day"]
    if not ((month <= 12) & (day <= 31)).all() or not _clock_ok(number):
        return None
    days = _day_numbers()[((year - _YEARS[0]) * 13 + month) * 32 + day]
    if (days == _NO_DAY).any():  # month or day 0, or past the month's end
        return None
    clock = number["hour"] * np.int32(3600) + number["minute"] * np.int32(60) + number["second"]
    seconds = days.astype(np.int64) * 86400 + clock
    if aware:
        sign = np.where(grid[:, 19] == ord("-"), 1, -1)
        if ((grid[:, 19] != ord("+")) & (sign == -1)).any():
            return None  # neither + nor -
        offset = number["off_hour"] * np.int32(3600) + number["off_minute"] * np.int32(60)
        seconds += sign * offset
    return seconds * 1_000_000


@cache
def _day_numbers() -> np.ndarray:
    """Days since 1970-01-01 of every (year, month 0-12, day 0-31) of ``_YEARS``, flat;
    :data:`_NO_DAY` where there is no such date."""
    year, month, day = np.meshgrid(
        np.arange(_YEARS[0], _YEARS[1] + 1), np.arange(13), np.arange(32), indexing="ij"
    )
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    valid = (month >= 1) & (day >= 1) & (day <= _MONTH_DAYS[month] + (leap & (month == 2)))
    return np.where(valid, _epoch_days(year, month, day), _NO_DAY).astype(np.int32).ravel()


def _epoch_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's days_from_civil)."""
    y = year - (month <= 2)
    era = y // 400
    of_era = y - era * 400
    of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    return era * 146097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719468


def _clock_ok(number: dict[str, np.ndarray]) -> bool:
    """Hours 0-23, minutes and seconds 0-59, offsets up to 14:59."""
    ok = (number["hour"] <= 23) & (number["minute"] <= 59) & (number["second"] <= 59)
    if "off_hour" in number:
        ok &= (number["off_hour"] <= _MAX_OFFSET_HOURS) & (number["off_minute"] <= 59)
    return bool(ok.all())


def plain_integers(values: pd.Series, empty_reason: str) -> tuple[pd.Series, pd.Series] | None:
    """Quantities of a column whose non-empty cells are all plain integers; else None.

    Equal to :func:`driftkit.load.normalize.parse_quantities` before sentinels on such a
    column: the integers as floats, empty cells NaN with ``empty_reason``.  Arrow's integer
    cast accepts exactly an optional ``-`` and digits, or hexadecimal after ``0x``; hex,
    a sign on zero (pandas reads ``-0`` as ``-0.0`` or ``0.0`` depending on the other
    cells) and magnitudes above ``MAX_MAGNITUDE`` go to the careful parser.

    Returns
    -------
    tuple of pandas.Series or None
        ``(quantities, reasons)`` on ``values.index``, or None when the careful parser must run.
    """
    cells = _cells(values)
    if cells is None:
        return None
    filled = _filled(cells)
    kept = pc.if_else(filled, cells, pa.scalar(None, cells.type))
    try:
        number = pc.cast(kept, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    bounds = pc.min_max(number).as_py()
    if bounds["min"] is not None and max(-bounds["min"], bounds["max"]) > MAX_MAGNITUDE:
        return None
    if _hex_or_signed_zero(cells, number):
        return None
    floats = pc.cast(number, pa.float64()).to_numpy(zero_copy_only=False)
    numbers = pd.Series(floats, index=values.index, dtype="float64")
    missing = pa.scalar(None, pa.large_string())
    reasons = pc.if_else(filled, missing, pa.scalar(empty_reason, pa.large_string()))
    return numbers, texts(reasons, values.index)


def _hex_or_signed_zero(cells: pa.Array, number: pa.Array) -> bool:
    """Whether a cell has an ``x`` or ``X`` byte (hexadecimal) or is a zero with a ``-``.

    Numpy over the cells' bytes and the first bytes of the zeros, instead of Arrow string
    searches over every cell.
    """
    offsets, data = _bytes(cells)
    if ((data[offsets[0] : offsets[-1]] | np.uint8(0x20)) == ord("x")).any():
        return True
    zero = pc.fill_null(pc.equal(number, 0), False).to_numpy(zero_copy_only=False)
    return bool((data[offsets[:-1][zero]] == ord("-")).any())  # a zero has at least one byte


def texts(cells: pa.Array, index: pd.Index) -> pd.Series:
    """Arrow strings as a pandas ``str`` Series on ``index`` (built without a scalar fill).

    Returns
    -------
    pandas.Series
        ``str`` dtype, NaN where ``cells`` is null.
    """
    return pd.Series(cells.to_pandas(types_mapper=_STR.get).array, index=index)


def no_reasons(index: pd.Index) -> pd.Series:
    """A ``str`` Series of NaN on ``index``: no cell has a reason.

    Returns
    -------
    pandas.Series
        ``str`` dtype, all NaN.
    """
    return texts(pa.nulls(len(index), pa.large_string()), index)


def first_texts(columns: list[pd.Series], index: pd.Index) -> pd.Series:
    """Each row's first non-null cell across ``columns`` (``str`` Series on ``index``).

    One Arrow ``coalesce`` over the columns instead of a pandas ``where`` per column (each
    builds the whole column of strings again).

    Returns
    -------
    pandas.Series
        ``str`` dtype on ``index``; NaN where every column is null.
    """
    cells = [_cells(column) for column in columns]
    if not columns or any(one is None for one in cells):
        first = no_reasons(index)
        for column in columns:
            first = first.where(first.notna(), column)
        return first
    wide = [one.cast(pa.large_string()) for one in cells if one is not None]
    return texts(pc.coalesce(*wide), index)


def digits_only(values: pd.Series) -> pd.Series | None:
    """Each cell with every byte but the ASCII digits dropped (null stays null); else None.

    What ``values.str.replace(r"[^0-9]", "", regex=True)`` gives (a non-ASCII character's
    UTF-8 bytes are never digits), from one numpy pass over the Arrow bytes instead of a
    regex per cell.  None when ``values`` is not an Arrow ``str`` column.

    Returns
    -------
    pandas.Series or None
        ``str`` dtype on ``values.index``.
    """
    cells = _cells(values)
    if cells is None:
        return None
    offsets, data = _bytes(cells)
    data = data[offsets[0] : offsets[-1]]
    keep = (data >= ord("0")) & (data <= ord("9"))
    kept = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))  # kept bytes before each byte
    valid = cells.is_valid().buffers()[1] if cells.null_count else None
    digits = pa.Array.from_buffers(
        pa.large_string(),
        len(cells),
        [valid, pa.py_buffer(kept[offsets - offsets[0]]), pa.py_buffer(data[keep].tobytes())],
    )
    return texts(digits, values.index)
