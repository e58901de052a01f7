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

This module is the public surface and the ``Explorer`` itself (widget events, chart,
export); the package docstring lists its parts.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from driftkit.errors import InputError
from driftkit.explorer.chart import (
    CHART_MAX_EVENTS,
    CHART_WIDTH,
    VEGA_MIME,
    _VegaTemplate,
    chart_data,
    key_chart,
)
from driftkit.explorer.data import (
    ANY_CAUSE,
    ANY_LOCATION,
    EPISODE_COLUMNS,
    FINDING_COLUMNS,
    MATCHES,
    ExplorerData,
    ExplorerView,
)
from driftkit.explorer.lab import NOTEBOOK, REPO_ROOT, find_client_dir, open_lab
from driftkit.explorer.ranking import _Filter, drift_ranking
from driftkit.explorer.selection import _Selection
from driftkit.explorer.source import from_run, latest_run, resolve_reports
from driftkit.explorer.views import _stacked
from driftkit.explorer.widgets import _Controls
from driftkit.schema import SKU

if TYPE_CHECKING:
    import altair as alt

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
    "open_explorer",
    "open_lab",
]

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Explorer(_Selection):
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
        spec = _VegaTemplate(data.grid.systems).vega
        self.controls = _Controls.build(data.grid, self._causes(), spec, data.source)
        self.widget = ExplorerWidget(self, self.controls)
        self._code = int(self._order[0]) if len(self._order) else int(self._ranking["code"][0])
        self._syncing = False
        self._sent: dict[int, None] = {}
        self._wire()
        self.select(code=self._code)

    @classmethod
    def from_audit(cls, audit: Audit, *, export_dir: str | Path = "reports/explore") -> Explorer:
        """An explorer over a computed ``driftkit.audit.Audit``."""
        return cls(ExplorerData.from_audit(audit), export_dir=export_dir)

    @classmethod
    def from_run(
        cls,
        client_dir: str | Path,
        run_dir: str | Path,
        *,
        export_dir: str | Path = "reports/explore",
    ) -> Explorer:
        """An explorer over an audit's run folder (see :func:`open_explorer`)."""
        return cls(from_run(find_client_dir(client_dir), Path(run_dir)), export_dir=export_dir)

    # --- plain methods (no browser needed) ------------------------------------------------

    def chart(self, view: ExplorerView | None = None) -> alt.VConcatChart:
        """The count lines of ``view`` (default: the current view) as an Altair chart."""
        view = view or self.view()
        first, last = (self.data.grid.days[i] for i in self.controls.days.index)
        return key_chart(view, systems=self.data.grid.systems, first=first, last=last)

    def export(self, folder: str | Path | None = None) -> Path:
        """Write the current view to one CSV file and return its absolute path.

        The file stacks the views with a leading ``view`` column (``series``, ``events``,
        ``counts``, ``episodes``, ``findings``, ``impact``) and the key's ``sku, location``.
        """
        view = self.view()
        folder = Path(folder) if folder is not None else self.export_dir
        folder.mkdir(parents=True, exist_ok=True)
        name = "_".join(_UNSAFE.sub("-", p) for p in (self.data.client, view.sku, view.location))
        path = (folder / f"{name}.csv").resolve()
        _stacked(view).to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
        log.info("exported %s @ %s to %s", view.sku, view.location, path)
        return path

    # --- widgets --------------------------------------------------------------------------

    def _wire(self) -> None:
        c = self.controls
        c.search.observe(self._on_search, names="value")
        c.matches.observe(self._on_match, names="value")
        c.location.observe(self._on_location, names="value")
        for control in (c.systems, c.days, c.cause):
            control.observe(self._on_filter, names="value")
        c.previous.on_click(lambda _: self._clicked(-1))
        c.next.on_click(lambda _: self._clicked(1))
        c.export.on_click(self._on_export)
        c.tables.observe(
            lambda _: c.show_table(self._tab_frame(c.tables.selected_index or 0)),
            names="selected_index",
        )

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
        """Filter to one location: the SKU on screen there, else that location's worst key."""
        if self._syncing or change["new"] is None:
            return
        self._rank(self._chosen())
        location, (sku, here) = str(change["new"]), self.view_key()
        codes = self._codes_of_sku(sku)
        there = codes[self._locations[codes] == location]
        if location == ANY_LOCATION or here == location:
            self._show_key(self._code)
        elif len(there):
            self._show_key(int(there[0]))
        elif len(self._order):
            self._show_key(int(self._order[0]))
        else:
            self._show_key(self._code)

    def _on_filter(self, change: dict[str, Any]) -> None:
        """Re-rank under the new filter; jump to its worst key when this one drops out.

        The page has already redrawn the chart for a systems or days change (it filters the
        key's data itself); here the list, title and table follow.
        """
        if self._syncing:
            return
        self._rank(self._chosen())
        if self._position() == 0 and len(self._order) and self.controls.cause.value != ANY_CAUSE:
            self._show_key(int(self._order[0]))
        else:
            self._show_key(self._code)

    def _chosen(self) -> _Filter:
        c = self.controls
        return _Filter(
            str(c.cause.value), tuple(c.systems.value), tuple(c.days.index), str(c.location.value)
        )

    def _on_export(self, button: widgets.Button) -> None:
        path = html.escape(str(self.export()))
        self.controls.exported.value = f"exported to <code>{path}</code>"


class ExplorerWidget(widgets.VBox):
    """The explorer's layout; ``.explorer`` is the :class:`Explorer` behind it."""

    def __init__(self, explorer: Explorer, controls: _Controls) -> None:
        super().__init__(controls.layout())
        self.explorer = explorer


# --- entry points --------------------------------------------------------------------------


def open_explorer(
    client_dir: str | Path,
    *,
    reports_dir: str | Path = "reports",
    export_dir: str | Path | None = None,
) -> Explorer:
    """The explorer of a client from its last audit, auditing only when there is none.

    Parameters
    ----------
    client_dir
        The client folder (holding ``client.toml``).
    reports_dir
        ``REPORTS_DIR`` of ``driftkit audit``; the newest run folder of the client there is
        read (:func:`driftkit.explorer.source.from_run`): its episodes, findings and impact,
        and the client's snapshots aligned on its window.  Without a run, the client is
        audited here (``run_audit``), which takes much longer on a large client.
    export_dir
        Where **export CSV** writes; default ``<reports_dir>/explore``.

    Returns
    -------
    Explorer
        ``.widget`` is the layout; ``.data.source`` says what was loaded and from which run.
    """
    from driftkit.audit import run_audit

    client = find_client_dir(client_dir)
    reports = resolve_reports(reports_dir)
    export = export_dir if export_dir is not None else reports / "explore"
    run = latest_run(reports, client.name)
    if run is not None:
        return Explorer.from_run(client, run, export_dir=export)
    log.warning("%s: no audit run in %s; auditing it now", client.name, reports)
    return Explorer.from_audit(run_audit(client), export_dir=export)


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
