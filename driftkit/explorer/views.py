"""The explorer's per-key frames: series, events, counts and findings after the filters.

Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd

from driftkit.explorer.data import ANY_CAUSE, ExplorerView
from driftkit.explorer.index import _KeyIndex
from driftkit.explorer.payload import (
    Columns,
    band_columns,
    count_columns,
    event_columns,
    series_columns,
)
from driftkit.explorer.ranking import _as_local
from driftkit.explorer.widgets import _Controls
from driftkit.schema import LOCATION, SKU, SYSTEM

#: How many keys' chart data a kernel keeps (the shown key and its prefetched neighbours).
PAYLOADS_KEPT = 32


class _KeyViews(_KeyIndex):
    """The frames of one key after the filters, sliced from the indexes of :class:`_KeyIndex`.

    The filters are the values of ``controls`` (systems, day range, cause).
    """

    controls: _Controls

    def view(self) -> ExplorerView:
        """The frames for the current key after the system, date-range and cause filters."""
        code, controls, grid = self._code, self.controls, self.data.grid
        systems = list(controls.systems.value)
        first, last = (grid.days[i] for i in controls.days.index)
        cause = controls.cause.value
        key = grid.keys.iloc[code]
        return ExplorerView(
            sku=str(key[SKU]),
            location=str(key[LOCATION]),
            position=self._position(),
            drifted=len(self._order),
            series=self._series(code, systems, controls.days.index),
            events=self._events_view(code, systems, first, last),
            counts=self._counts_view(code, first, last),
            episodes=_overlapping(self._episodes.of(code), systems, "start", "end", first, last),
            findings=self._findings_view(code, systems, cause, first, last),
            impact=self._impact.of(code).reset_index(drop=True),
        )

    def _chart_columns(self, code: int | None = None) -> dict[str, Columns]:
        """The live chart's data for a key (default: the current one): every system, the
        whole window.

        Slices only (:mod:`driftkit.explorer.payload`): this is the part of a key change the
        browser waits for.  The page applies the systems and days filters itself, so a key's
        data does not depend on any filter (which is what lets the page prefetch it).
        """
        code = self._code if code is None else code
        if code in self._payloads:  # a key's data never changes: ◀ ▶ windows overlap
            return self._payloads[code]
        grid = self.data.grid
        columns = {
            "series": series_columns(grid.values[:, code, :], self._system_names, self._day_texts),
            "episodes": band_columns(self._episodes.taker(code)),
            "counts": count_columns(self._counts.taker(code)),
            "events": event_columns(self._events.taker(code)),
        }
        if len(self._payloads) >= PAYLOADS_KEPT:
            del self._payloads[next(iter(self._payloads))]  # the oldest
        self._payloads[code] = columns
        return columns

    def _tab_frame(self, tab: int) -> pd.DataFrame:
        """The frame of one table tab (episodes, findings, impact, events) for the current key.

        Only the tab on screen is computed and rendered on a key or filter change.
        """
        code, controls, grid = self._code, self.controls, self.data.grid
        systems = list(controls.systems.value)
        first, last = (grid.days[i] for i in controls.days.index)
        if tab == 0:
            return _overlapping(self._episodes.of(code), systems, "start", "end", first, last)
        if tab == 1:
            return self._findings_view(code, systems, str(controls.cause.value), first, last)
        if tab == 2:
            return self._impact.of(code).reset_index(drop=True).T.reset_index()
        return self._events_view(code, systems, first, last)

    def _series(self, code: int, systems: list[str], days: tuple[int, int]) -> pd.DataFrame:
        grid = self.data.grid
        chosen = [grid.index(s) for s in grid.systems if s in systems]
        block = grid.values[chosen, code, days[0] : days[1] + 1]
        s, d = np.nonzero(~np.isnan(block))
        return pd.DataFrame(
            {
                "day": grid.days[days[0] + d],
                SYSTEM: pd.Series(np.asarray(grid.systems, dtype=object)[chosen][s], dtype="str"),
                "value": block[s, d],
            }
        )

    def _events_view(
        self, code: int, systems: list[str], first: pd.Timestamp, last: pd.Timestamp
    ) -> pd.DataFrame:
        rows = self._events.of(code)  # in time order, local times precomputed
        frame = pd.DataFrame(
            {
                "time": rows["time"],
                SYSTEM: rows[SYSTEM],
                "kind": rows["kind"],
                "qty": rows["qty_delta"],
                "commit": rows["commit_delta"],
                "set_qty": rows["set_qty"],
                "reference": rows["reference"],
                "event_id": rows["event_id"],
            }
        ).reset_index(drop=True)
        keep = frame[SYSTEM].isin(systems) & _within(frame["time"], first, last)
        return frame[keep].reset_index(drop=True)

    def _counts_view(self, code: int, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
        rows = self._counts.of(code)  # in time order, local times precomputed
        frame = pd.DataFrame({"time": rows["time"], "counted_qty": rows["counted_qty"]})
        return frame[_within(frame["time"], first, last)].reset_index(drop=True)

    def _findings_view(
        self,
        code: int,
        systems: list[str],
        cause: str,
        first: pd.Timestamp,
        last: pd.Timestamp,
    ) -> pd.DataFrame:
        rows = self._findings.of(code)
        if cause != ANY_CAUSE and not rows.empty:
            rows = rows[(rows["cause"] == cause).to_numpy()]
        if rows.empty or "first_seen" not in rows.columns:
            return rows.reset_index(drop=True)
        begins = _as_local(rows["first_seen"], self.data.timezone).dt.normalize()
        ends = _as_local(rows["last_seen"], self.data.timezone)
        keep = (rows[SYSTEM].isin(systems) & (begins <= last) & (ends >= first)).to_numpy()
        return rows[keep].sort_values("first_seen", kind="stable").reset_index(drop=True)


# --- small frame helpers -------------------------------------------------------------------


def _within(times: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    return (times >= first) & (times < last + pd.Timedelta(days=1))


def _overlapping(
    rows: pd.DataFrame,
    systems: list[str],
    start: str,
    end: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> pd.DataFrame:
    if rows.empty or start not in rows.columns:
        return rows.reset_index(drop=True)
    begins = pd.to_datetime(rows[start]).dt.normalize()
    ends = pd.to_datetime(rows[end]).dt.normalize()
    keep = (rows[SYSTEM].isin(systems) & (begins <= last) & (ends >= first)).to_numpy()
    return rows[keep].sort_values(start, kind="stable").reset_index(drop=True)


def _stacked(view: ExplorerView) -> pd.DataFrame:
    parts = [
        getattr(view, f.name).assign(view=f.name)
        for f in fields(view)
        if isinstance(getattr(view, f.name), pd.DataFrame)
    ]
    frame = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else pd.DataFrame(columns=["view"])
    )
    frame = frame.drop(columns=[SKU, LOCATION], errors="ignore")
    frame.insert(0, LOCATION, view.location)
    frame.insert(0, SKU, view.sku)
    return frame[["view", *[c for c in frame.columns if c != "view"]]]
