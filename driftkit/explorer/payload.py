"""The live chart's data for one key as columns, sliced from the per-key indexes.

A key change must reach the browser fast, so this path uses no DataFrame operations: each
table's rows for the key are a slice of its key-ordered copy (events and counts are also in
time order there, with their local times precomputed), filtered with NumPy masks and sent
as one list per column (``{"day": [...], "system": [...], ...}``), which the page turns into
Vega rows.  Times are ISO text of the client's local time, without an offset (Vega reads
them as local), NaN and NaT are ``null``, and text goes through
:func:`driftkit.report.clean.display_text`.  Private: the public surface is
:mod:`driftkit.explorer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from driftkit.report.clean import display_text
from driftkit.schema import SYSTEM

Columns = dict[str, list[Any]]
#: One key's rows of a table, column by column: ``take("qty_delta")`` is a NumPy slice.
Take = Callable[[str], np.ndarray]
CHART_MAX_EVENTS = 5000
_HALF_DAY = np.timedelta64(12, "h")
_ONE_DAY = np.timedelta64(1, "D")
_EVENT_FIELDS = (("kind", "kind"), ("qty", "qty_delta"), ("commit", "commit_delta"),
                 ("set_qty", "set_qty"), ("reference", "reference"))  # fmt: skip


def day_text(days: np.ndarray) -> np.ndarray:
    """``datetime64`` values as ISO text to the second (``NaT`` stays ``"NaT"``)."""
    return np.datetime_as_string(np.asarray(days, dtype="datetime64[s]"), unit="s")


def column(values: np.ndarray) -> list[Any]:
    """One JSON-ready column: times as ISO text, NaN/NaT/NA as None, text made displayable."""
    if values.dtype.kind == "M":
        return [None if t == "NaT" else t for t in day_text(values).tolist()]
    if values.dtype.kind == "f":
        return [None if v != v else v for v in values.tolist()]
    if values.dtype.kind in "iub":
        return values.tolist()
    return [None if v is None or v is pd.NA or v != v else display_text(str(v)) for v in values]


def series_columns(
    values: np.ndarray, systems: np.ndarray, day_texts: np.ndarray
) -> tuple[Columns, np.ndarray]:
    """``day, system, value`` of one key's present values, and those values.

    Parameters
    ----------
    values
        The key's block of the grid, ``(chosen systems, chosen days)``.
    systems, day_texts
        The chosen systems' names and the chosen days as ISO text.

    Returns
    -------
    tuple
        The columns ``day, system, value`` and the plotted values (for the y domain).
    """
    s, d = np.nonzero(~np.isnan(values))
    plotted = values[s, d]
    columns = {"day": day_texts[d].tolist(), SYSTEM: systems[s].tolist(), "value": plotted.tolist()}
    return columns, plotted


def event_columns(take: Take, systems: list[str], first: Any, last: Any) -> Columns:
    """``day, system, kind, qty, commit, set_qty, reference`` of the events shown.

    ``take`` gives the key's events in time order, with their local ``time``; only the
    chosen systems' events in the range are kept, the last :data:`CHART_MAX_EVENTS`.
    """
    times, names = take("time"), take(SYSTEM)
    keep = _within(times, first, last) & np.isin(names, systems)
    at = np.flatnonzero(keep)[-CHART_MAX_EVENTS:]
    columns = {"day": column(times[at]), SYSTEM: column(names[at])}
    for name, source in _EVENT_FIELDS:
        columns[name] = column(take(source)[at])
    return columns


def count_columns(take: Take, first: Any, last: Any) -> tuple[Columns, np.ndarray]:
    """``day, counted_qty`` of the cycle counts in the range, and the counted quantities."""
    times = take("time")
    at = np.flatnonzero(_within(times, first, last))
    counted = np.asarray(take("counted_qty"), dtype="float64")[at]
    return {"day": column(times[at]), "counted_qty": column(counted)}, counted


def band_columns(take: Take, systems: list[str], first: Any, last: Any) -> Columns:
    """``day, day_end, system, counterpart``: episode bands clipped to the range.

    A band runs half a day either side of the episode's days; an episode that runs past the
    range shades only the days shown.
    """
    starts, ends = take("start"), take("end")
    lo, hi = np.datetime64(first, "ns"), np.datetime64(last, "ns")
    names = take(SYSTEM)
    keep = np.isin(names, systems) & (
        (starts.astype("datetime64[D]") <= hi) & (ends.astype("datetime64[D]") >= lo)
    )
    return {
        "day": column(np.maximum(starts[keep], lo) - _HALF_DAY),
        "day_end": column(np.minimum(ends[keep], hi) + _HALF_DAY),
        SYSTEM: column(names[keep]),
        "counterpart": column(take("counterpart")[keep]),
    }


def frame_columns(first: Any, last: Any) -> Columns:
    """``day``: the range's two ends, half a day out (the x domain)."""
    ends = np.array([np.datetime64(first, "ns") - _HALF_DAY, np.datetime64(last, "ns") + _HALF_DAY])
    return {"day": column(ends)}


def level_columns(*plotted: np.ndarray) -> Columns:
    """``value``: every quantity plotted on the y axis ([0] when there is none)."""
    values = np.concatenate(plotted)
    values = values[~np.isnan(values)]
    return {"value": values.tolist() if len(values) else [0.0]}


def rows_of(columns: Columns) -> list[dict[str, Any]]:
    """The rows of a column payload (what the page hands to Vega)."""
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _within(times: np.ndarray, first: Any, last: Any) -> np.ndarray:
    lo = np.datetime64(first, "ns")
    return (times >= lo) & (times < np.datetime64(last, "ns") + _ONE_DAY)
