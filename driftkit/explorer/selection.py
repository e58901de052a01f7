"""The explorer's current key: select it, step along the worst-first list, redraw the views.

``Explorer.select``, ``Explorer.step``, ``Explorer.view_key`` and ``Explorer.refresh`` are
defined here, with the syncing of the key widgets (matches list, location) to the current key.
Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

import html

import pandas as pd

from driftkit.explorer.chart import chart_data
from driftkit.explorer.data import MATCHES, ExplorerView
from driftkit.explorer.views import _KeyViews
from driftkit.schema import LOCATION, SKU


class _Selection(_KeyViews):
    """One key shown at a time: selecting, stepping and redrawing it (widgets kept in step)."""

    _syncing: bool

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
        if code != self._code:
            self.controls.exported.value = ""  # the export message is about the previous key
        self._code = code
        view = self.refresh()  # the chart's message first: the browser applies them in order
        self._sync_key_widgets(matches)
        return view

    def step(self, offset: int) -> ExplorerView:
        """Move ``offset`` places along the worst-first list (wrapping) and show that key."""
        order = self._order
        if len(order) == 0:
            return self.view()
        here = self._position() - 1
        start = here + offset if here >= 0 else (0 if offset > 0 else len(order) - 1)
        return self.select(code=int(order[start % len(order)]))

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
        first, last = (self.data.grid.days[i] for i in self.controls.days.index)
        self.controls.show(view, chart_data(view, first, last), self._title(view))
        return view

    def _title(self, view: ExplorerView) -> str:
        title = self._titles[self._code]
        place = f"#{view.position} of {view.drifted} drifted" if view.position else "not drifted"
        name = f" — {html.escape(title)}" if isinstance(title, str) else ""
        return f"<b>{html.escape(view.sku)}</b> @ {html.escape(view.location)}{name} · {place}"
