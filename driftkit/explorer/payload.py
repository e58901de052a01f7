"""The live chart's data for one key as columns, sliced from the per-key indexes.

A key change must reach the browser fast, so this path uses no DataFrame operations: each
table's rows for the key are a slice of its key-ordered copy (events and counts are also in
time order there, with their local times precomputed), sent as one list per column
(``{"day": [...], "system": [...], ...}``) for every system and the whole window.  The page
turns them into Vega rows and applies the systems and days filters itself
(:mod:`driftkit.explorer.live`), comparing times with :func:`calendar_columns`.  Times are
ISO text of the client's local time, without an offset (Vega reads them as local), NaN and
NaT are ``null``, and text goes through :func:`driftkit.report.clean.display_text`.
Private: the public surface is :mod:`driftkit.explorer`.
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


def series_columns(values: np.ndarray, systems: np.ndarray, day_texts: np.ndarray) -> Columns:
    """``day, system, value`` of one key's present values.

    Parameters
    ----------
    values
        The key's block of the grid, ``(systems, days)``.
    systems, day_texts
        The systems' names and the days as ISO text.

    Returns
    -------
    dict
        The columns ``day, system, value``.
    """
    s, d = np.nonzero(~np.isnan(values))
    return {
        "day": day_texts[d].tolist(),
        SYSTEM: systems[s].tolist(),
        "value": values[s, d].tolist(),
    }


def event_columns(take: Take) -> Columns:
    """``day, system, kind, qty, commit, set_qty, reference`` of the key's events.

    ``take`` gives the key's events in time order, with their local ``time``.
    """
    columns = {"day": column(take("time")), SYSTEM: column(take(SYSTEM))}
    for name, source in _EVENT_FIELDS:
        columns[name] = column(take(source))
    return columns


def count_columns(take: Take) -> Columns:
    """``day, counted_qty`` of the key's cycle counts (in time order)."""
    return {"day": column(take("time")), "counted_qty": column(take("counted_qty"))}


def band_columns(take: Take) -> Columns:
    """``day, day_end, system, counterpart``: the key's episodes as bands.

    A band runs half a day either side of the episode's days; the page keeps the bands that
    overlap the chosen days and clips them to those days.
    """
    return {
        "day": column(take("start") - _HALF_DAY),
        "day_end": column(take("end") + _HALF_DAY),
        SYSTEM: column(take(SYSTEM)),
        "counterpart": column(take("counterpart")),
    }


def calendar_columns(days: np.ndarray) -> Columns:
    """``day, minus12, plus12, next`` of each day of the window, as ISO text.

    Midnight, half a day before and after it, and the next midnight: the page's filters
    compare times (ISO text of one length) with them.
    """
    days = np.asarray(days, dtype="datetime64[s]")
    return {
        "day": column(days),
        "minus12": column(days - _HALF_DAY),
        "plus12": column(days + _HALF_DAY),
        "next": column(days + _ONE_DAY),
    }


def rows_of(columns: Columns) -> list[dict[str, Any]]:
    """The rows of a column payload (what the page hands to Vega)."""
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
