"""Interactive drift explorer for JupyterLab (DESIGN §11).

``explore(client)`` returns an ipywidgets layout over one client's audit: pick systems, a SKU
(type-ahead search ranked by drift), its location, a date range and a cause; the count line
of every system (events, cycle counts and episodes marked), the episode table, the findings
with their evidence and the key's impact numbers update together.  A worst-first list steps
through the drifted keys and the current selection exports to CSV.

Speed: every table is indexed by key code once (rows sorted by key, offsets found with
``np.searchsorted``), so a selection change slices that key's rows and never scans a table.
The logic lives in plain methods (``Explorer.select``, ``Explorer.view``, ``Explorer.step``,
``Explorer.export``) that run and test without a browser; the widgets only call them.

This module is the public surface and the ``Explorer`` itself (selection, widget events,
export); the inputs and views are in :mod:`driftkit.explorer.data`, the per-key indexes,
ranking and search in :mod:`driftkit.explorer.index`, the filtered frames in
:mod:`driftkit.explorer.views`, the chart in :mod:`driftkit.explorer.chart`, the controls in
:mod:`driftkit.explorer.widgets` and the JupyterLab launcher in :mod:`driftkit.explorer.lab`.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import altair as alt
import ipywidgets as widgets
import pandas as pd

from driftkit.drift.align import Grid as Grid
from driftkit.errors import InputError
from driftkit.errors import ReportError as ReportError
from driftkit.explorer.chart import _CHART_DATA as _CHART_DATA
from driftkit.explorer.chart import _HALF_DAY as _HALF_DAY
from driftkit.explorer.chart import (
    CHART_MAX_EVENTS,
    CHART_WIDTH,
    _VegaTemplate,
    chart_data,
    key_chart,
)
from driftkit.explorer.chart import _layout as _layout
from driftkit.explorer.chart import _records as _records
from driftkit.explorer.data import _EVENT_COLUMNS as _EVENT_COLUMNS
from driftkit.explorer.data import _TEXT as _TEXT
from driftkit.explorer.data import _TIMES as _TIMES
from driftkit.explorer.data import (
    ANY_CAUSE,
    EPISODE_COLUMNS,
    FINDING_COLUMNS,
    MATCHES,
    ExplorerData,
    ExplorerView,
)
from driftkit.explorer.data import _empty_frame as _empty_frame
from driftkit.explorer.index import _group_rows as _group_rows
from driftkit.explorer.index import _KeyLookup as _KeyLookup
from driftkit.explorer.index import _positions as _positions
from driftkit.explorer.index import _Rows as _Rows
from driftkit.explorer.index import _text as _text
from driftkit.explorer.index import _titles as _titles
from driftkit.explorer.index import drift_ranking
from driftkit.explorer.lab import NOTEBOOK, REPO_ROOT, find_client_dir, open_lab
from driftkit.explorer.views import _KeyViews, _stacked
from driftkit.explorer.views import _local as _local
from driftkit.explorer.views import _overlapping as _overlapping
from driftkit.explorer.views import _within as _within
from driftkit.explorer.widgets import _TABS as _TABS
from driftkit.explorer.widgets import _Controls
from driftkit.explorer.widgets import _html_table as _html_table
from driftkit.explorer.widgets import _tab_frames as _tab_frames
from driftkit.schema import LOCATION, SKU
from driftkit.schema import SYSTEM as SYSTEM

if TYPE_CHECKING:
    from driftkit.audit import Audit

__all__ = [
    "ANY_CAUSE",
    "CHART_MAX_EVENTS",
    "CHART_WIDTH",
    "EPISODE_COLUMNS",
    "FINDING_COLUMNS",
    "MATCHES",
    "NOTEBOOK",
    "REPO_ROOT",
    "VEGA_MIME",
    "Explorer",
    "ExplorerData",
    "ExplorerView",
    "ExplorerWidget",
    "chart_data",
    "drift_ranking",
    "explore",
    "find_client_dir",
    "key_chart",
    "open_lab",
]

log = logging.getLogger(__name__)

VEGA_MIME = "application/vnd.vega.v5+json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Explorer(_KeyViews):
    """Widgets and per-key indexes over one client's audit.

    Parameters
    ----------
    data
        The tables to explore (``ExplorerData.from_audit(audit)`` for an audit).
    export_dir
        Folder that ``export`` writes CSV files into.
    """

    def __init__(self, data: ExplorerData, *, export_dir: str | Path = "reports/explore") -> None:
        if len(data.grid.keys) == 0:
            raise InputError(f"client {data.client!r}: the grid has no keys; nothing to explore")
        self.data = data
        self.export_dir = Path(export_dir)
        self._index(data)
        self.controls = _Controls.build(data.grid, self._causes())
        self._template = _VegaTemplate(data.grid.systems)
        self.widget = ExplorerWidget(self, self.controls)
        self._code = int(self._order[0]) if len(self._order) else int(self._ranking["code"][0])
        self._syncing = False
        self._wire()
        self.select(code=self._code)

    @classmethod
    def from_audit(cls, audit: Audit, *, export_dir: str | Path = "reports/explore") -> Explorer:
        """An explorer over a computed ``driftkit.audit.Audit``."""
        return cls(ExplorerData.from_audit(audit), export_dir=export_dir)

    # --- plain methods (no browser needed) ------------------------------------------------

    def select(
        self, sku: str | None = None, location: str | None = None, *, code: int | None = None
    ) -> ExplorerView:
        """Show one key (by ``sku`` and optional ``location``, or by grid key ``code``).

        Returns
        -------
        ExplorerView
            The frames now shown.
        """
        if code is None:
            code = self.key_code(sku or "", location)
        return self._show_key(int(code))

    def _show_key(self, code: int, matches: pd.DataFrame | None = None) -> ExplorerView:
        self._code = code
        self._sync_key_widgets(matches)
        return self.refresh()

    def step(self, offset: int) -> ExplorerView:
        """Move ``offset`` places along the worst-first list (wrapping) and show that key."""
        order = self._order
        if len(order) == 0:
            return self.view()
        here = self._position() - 1
        start = here + offset if here >= 0 else (0 if offset > 0 else len(order) - 1)
        return self.select(code=int(order[start % len(order)]))

    def chart(self, view: ExplorerView | None = None) -> alt.VConcatChart:
        """The count lines of ``view`` (default: the current view) as an Altair chart."""
        view = view or self.view()
        first, last = (self.data.grid.days[i] for i in self.controls.days.index)
        return key_chart(view, systems=self.data.grid.systems, first=first, last=last)

    def export(self, folder: str | Path | None = None) -> Path:
        """Write the current view to one CSV file and return its path.

        The file stacks the views with a leading ``view`` column (``series``, ``events``,
        ``counts``, ``episodes``, ``findings``, ``impact``) and the key's ``sku, location``.
        """
        view = self.view()
        folder = Path(folder) if folder is not None else self.export_dir
        folder.mkdir(parents=True, exist_ok=True)
        name = "_".join(_UNSAFE.sub("-", p) for p in (self.data.client, view.sku, view.location))
        path = folder / f"{name}.csv"
        _stacked(view).to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
        log.info("exported %s @ %s to %s", view.sku, view.location, path)
        return path

    # --- widgets --------------------------------------------------------------------------

    def _wire(self) -> None:
        c = self.controls
        c.search.observe(self._on_search, names="value")
        c.matches.observe(self._on_match, names="value")
        c.location.observe(self._on_location, names="value")
        for control in (c.systems, c.days):
            control.observe(self._on_filter, names="value")
        c.cause.observe(self._on_cause, names="value")
        c.previous.on_click(lambda _: self.step(-1))
        c.next.on_click(lambda _: self.step(1))
        c.export.on_click(self._on_export)
        c.tables.observe(lambda _: c.show_table(self.shown), names="selected_index")

    def _on_search(self, change: dict[str, Any]) -> None:
        found = self.search(str(change["new"]))
        exact = (found[SKU].str.upper() == str(change["new"]).strip().upper()).to_numpy()
        if exact.any():
            self._show_key(int(found["code"].to_numpy()[exact][0]), found)
        else:
            self._set_matches(found)

    def _on_match(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self.select(code=int(change["new"]))

    def _on_location(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self.select(self.view_key()[0], str(change["new"]))

    def _on_filter(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self.refresh()

    def _on_cause(self, change: dict[str, Any]) -> None:
        """Restrict the worst-first list to the cause; jump to its worst key if needed."""
        self._order = self._worst_first(str(change["new"]))
        if self._position() == 0 and len(self._order):
            self._show_key(int(self._order[0]))
        else:
            self.refresh()

    def _on_export(self, button: widgets.Button) -> None:
        self.controls.exported.value = f"exported to <code>{html.escape(str(self.export()))}</code>"

    def view_key(self) -> tuple[str, str]:
        """The current key as ``(sku, location)``."""
        key = self.data.grid.keys.iloc[self._code]
        return str(key[SKU]), str(key[LOCATION])

    def _set_matches(self, found: pd.DataFrame) -> None:
        if not (found["code"] == self._code).any():
            found = pd.concat(
                [self._ranking.iloc[[self._rank_of[self._code]]], found.head(MATCHES - 1)]
            )
        labels = (
            found[SKU]
            + " @ "
            + found[LOCATION]
            + "  |Δ| "
            + found["drift_units"].round(1).astype("str")
        )
        self._syncing = True
        try:
            self.controls.matches.options = list(
                zip(labels, found["code"].astype(int), strict=True)
            )
            self.controls.matches.value = self._code
        finally:
            self._syncing = False

    def _sync_key_widgets(self, matches: pd.DataFrame | None) -> None:
        sku, location = self.view_key()
        locations = sorted(str(x) for x in self._locations[self._codes_of_sku(sku)])
        self._syncing = True
        try:
            if list(self.controls.location.options) != locations:
                self.controls.location.options = locations
            self.controls.location.value = location
        finally:
            self._syncing = False
        self._set_matches(
            matches if matches is not None else self.search(self.controls.search.value)
        )

    def refresh(self) -> ExplorerView:
        """Redraw every view for the current key and filters; return what is shown."""
        view = self.view()
        self.shown = view
        self.controls.show(view, self._chart_bundle(view), self._title(view))
        return view

    def _chart_bundle(self, view: ExplorerView) -> dict[str, Any]:
        first, last = (self.data.grid.days[i] for i in self.controls.days.index)
        vega = self._template.fill(chart_data(view, first, last))
        return {VEGA_MIME: vega, "text/plain": f"<count lines of {view.sku} @ {view.location}>"}

    def _title(self, view: ExplorerView) -> str:
        title = self._titles[self._code]
        place = f"#{view.position} of {view.drifted} drifted" if view.position else "not drifted"
        name = f" — {html.escape(title)}" if isinstance(title, str) else ""
        return f"<b>{html.escape(view.sku)}</b> @ {html.escape(view.location)}{name} · {place}"


class ExplorerWidget(widgets.VBox):
    """The explorer's layout; ``.explorer`` is the :class:`Explorer` behind it."""

    def __init__(self, explorer: Explorer, controls: _Controls) -> None:
        super().__init__(controls.layout())
        self.explorer = explorer


# --- entry points --------------------------------------------------------------------------


def explore(
    client: str | Path | Audit,
    *,
    start: date | None = None,
    end: date | None = None,
    export_dir: str | Path = "reports/explore",
) -> ExplorerWidget:
    """The explorer widget for a client folder or an already-computed audit.

    Parameters
    ----------
    client
        A client folder (audited here with ``driftkit.audit.run_audit``) or an ``Audit``.
    start, end
        Window of the audit run here (ignored for an ``Audit``).
    export_dir
        Folder the **export CSV** button writes into.

    Returns
    -------
    ExplorerWidget
        An ``ipywidgets.VBox``; its ``.explorer`` is the :class:`Explorer` with the plain
        methods (``select``, ``view``, ``step``, ``search``, ``worst_first``, ``export``).
    """
    from driftkit.audit import Audit, run_audit

    if not isinstance(client, Audit):
        client = run_audit(find_client_dir(client), start=start, end=end)
    return Explorer.from_audit(client, export_dir=export_dir).widget
