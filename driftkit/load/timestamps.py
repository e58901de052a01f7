"""Exported timestamps → UTC (DESIGN §4): offsets, naive local times, DST, dates.

A column whose cells all share one plain ISO layout is parsed in one Arrow call
(:mod:`driftkit.load.uniform`); otherwise each distinct cell is parsed once
(:mod:`driftkit.load.distinct`): a snapshot export repeats its as-of time on every row.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from driftkit.load.distinct import distinct_texts, parse_columns, spread
from driftkit.load.uniform import no_reasons, uniform_times
from driftkit.load.values import within_years

UNPARSEABLE_TIME = "not a timestamp"

_OFFSET = r"(?:z|utc|gmt|[+-]\d{2}:?\d{2}|[+-]\d{2})$"
_NAIVE_FORMATS = (
    "ISO8601",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)


def parse_timestamps(
    values: pd.Series, *, timezone: str, fmt: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Parse exported timestamps into UTC.

    Accepts ISO 8601 with an offset (or ``Z``), naive local times (interpreted in
    ``timezone``, DST-aware: a nonexistent time moves forward to the first valid one, an
    ambiguous time takes the earlier, daylight-saving instant), ``MM/DD/YYYY``,
    ``MM/DD/YYYY HH:MM`` and date-only values (midnight local).  Empty cells are NaT
    without a reason; the caller decides whether a time is required.

    Parameters
    ----------
    values
        Raw cells, or an already datetime-typed Series (naive = local).
    timezone
        IANA zone of naive values.
    fmt
        Optional explicit ``strftime`` format tried first.

    Returns
    -------
    tuple of pandas.Series
        ``(timestamps, reasons)``: ``datetime64[us, UTC]`` (NaT where unknown) and a
        ``UNPARSEABLE_TIME`` reason for non-empty cells that could not be read.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = _to_utc(values.where(within_years(values)), timezone)
        return stamps, pd.Series(pd.NA, index=values.index, dtype="str")
    uniform = uniform_times(values) if fmt is None else None
    if uniform is not None:  # one plain ISO layout: parsed in one Arrow call
        return _to_utc(uniform, timezone), no_reasons(values.index)
    codes, distinct = distinct_texts(values.astype("str"))
    stamps, reasons = _parse_distinct_timestamps(distinct, timezone, fmt)
    return spread(stamps, codes, values.index), spread(reasons, codes, values.index)


def parse_timestamp_columns(
    frame: pd.DataFrame, *, timezone: str, fmt: str | None = None
) -> dict[str, tuple[pd.Series, pd.Series]]:
    """:func:`parse_timestamps` of every column of ``frame``, its text columns in one call.

    Each cell is parsed on its own, so an event export's occurred, recorded and source
    times parsed together give each column what parsing it alone gives, for one fixed cost
    (datetime-typed columns are converted one by one).

    Returns
    -------
    dict
        Column name → ``(timestamps, reasons)`` as :func:`parse_timestamps` returns them, on
        ``frame``'s index, in ``frame``'s column order.
    """
    typed = pd.api.types.is_datetime64_any_dtype
    return parse_columns(
        frame, lambda col: not typed(col), partial(parse_timestamps, timezone=timezone, fmt=fmt)
    )


def _parse_distinct_timestamps(
    cells: pd.Series, timezone: str, fmt: str | None
) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_timestamps` of ``str`` cells."""
    text = cells.str.strip()
    filled = text.notna() & (text.str.len() > 0)
    aware = filled & text.str.lower().str.contains(_OFFSET, regex=True, na=False)
    aware &= text.str.contains(r"\d[T ]?\d{1,2}:\d{2}|\dz$", case=False, regex=True, na=False)
    out = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[us, UTC]")
    if aware.any():
        parsed = pd.to_datetime(text[aware], format=fmt or "ISO8601", utc=True, errors="coerce")
        out[aware] = parsed.where(within_years(parsed)).astype("datetime64[us, UTC]")
    naive = filled & ~aware
    if naive.any():
        out[naive] = _parse_naive(text[naive], timezone, fmt)
    failed = filled & out.isna()
    reasons = pd.Series(pd.NA, index=cells.index, dtype="str")
    reasons[failed] = UNPARSEABLE_TIME + " (expected ISO 8601, MM/DD/YYYY or YYYY-MM-DD, 1900-2200)"
    return out, reasons


def _parse_naive(text: pd.Series, timezone: str, fmt: str | None) -> pd.Series:
    """Naive local times: try each known format on what is still unparsed, then localize."""
    local = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    formats = (fmt, *_NAIVE_FORMATS) if fmt else _NAIVE_FORMATS
    for form in formats:
        todo = local.isna()
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=form, errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
        local[todo] = parsed.astype("datetime64[us]")
    return _to_utc(local.where(within_years(local)), timezone)


def _to_utc(stamps: pd.Series, timezone: str) -> pd.Series:
    """Localize naive stamps in ``timezone`` (DST-safe) or convert aware ones, to UTC."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        return stamps.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    earlier = np.ones(len(stamps), dtype=bool)
    local = stamps.dt.tz_localize(timezone, ambiguous=earlier, nonexistent="shift_forward")
    return local.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
