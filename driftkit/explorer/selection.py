"""The explorer's current key: select it, step along the worst-first list, redraw the views.

``Explorer.select``, ``Explorer.step``, ``Explorer.view_key`` and ``Explorer.refresh`` are
defined here, with the syncing of the key widgets (matches list, location) to the current key.
Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftkit.explorer.data import MATCHES, ExplorerView
from driftkit.explorer.live import SENT_KEPT
from driftkit.explorer.views import _KeyViews
from driftkit.report.clean import MAX_DISPLAY, display_text, escape
from driftkit.schema import LOCATION, SKU

#: How many keys ahead and behind the page holds, so ◀ ▶ draw without a kernel round trip.
PREFETCH = 6


class _Selection(_KeyViews):
    """One key shown at a time: selecting, stepping and redrawing it (widgets kept in step).

    The public methods return the :class:`ExplorerView` now shown; the widgets' handlers
    call the underscored ones, which redraw without building it (a key change computes only
    the chart's columns and the table on screen).
    """

    _syncing: bool
    _clicks: int = 0  # ◀ ▶ clicks from the page handled so far (the page counts them too)
    _sent: dict[int, None]  # key codes whose chart data the page holds, oldest first

    @property
    def shown(self) -> ExplorerView:
        """The frames on screen (the current key after every filter)."""
        return self.view()

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
        self._show_key(int(code))
        return self.view()

    def _show_key(self, code: int, matches: pd.DataFrame | None = None) -> None:
        if code != self._code:
            self.controls.exported.value = ""  # the export message is about the previous key
        self._code = code
        self._redraw()
        self._sync_matches(matches)

    def step(self, offset: int) -> ExplorerView:
        """Move ``offset`` places along the worst-first list (wrapping) and show that key."""
        self._step(offset)
        return self.view()

    def _step(self, offset: int) -> None:
        order = self._order
        if len(order) == 0:
            return
        here = self._position() - 1
        start = here + offset if here >= 0 else (0 if offset > 0 else len(order) - 1)
        self._show_key(int(order[start % len(order)]))

    def _clicked(self, offset: int) -> None:
        """◀ / ▶ clicked in the page (which may already show that key from its prefetch)."""
        self._clicks += 1
        self._step(offset)
        if len(self._order) == 0:
            self._prefetch()  # nothing to step to: still tell the page the click was handled

    def _neighbours(self, offset: int) -> list[int]:
        """The keys ``_step(offset)`` would show, repeated ``PREFETCH`` times from here."""
        order = self._order
        if len(order) == 0:
            return []
        here = self._position() - 1
        steps = np.arange(1, PREFETCH + 1) * offset
        at = here + steps if here >= 0 else steps - offset + (0 if offset > 0 else len(order) - 1)
        return [int(code) for code in order[at % len(order)]]

    def _prefetch(self) -> None:
        """Send the page the next and previous keys of the worst-first list, so ◀ ▶ draw
        without a round trip: ``{"from": code, "clicks": n, "next": [...], "previous":
        [...]}``, each entry ``{"code", "key"}`` plus ``"datasets"`` (the key's
        :meth:`_chart_columns`) unless this kernel sent that key's data before.

        A key's data never changes and the page keeps every key it received, so a step sends
        the data of about one new key instead of ``2 * PREFETCH``: the message stays small
        while the page may run ``PREFETCH`` clicks ahead of the kernel.
        """
        sent = self._sent

        def entry(code: int) -> dict[str, Any]:
            item: dict[str, Any] = {"code": code, "key": self._key_label(code)}
            if sent.pop(code, False) is False:
                item["datasets"] = self._chart_columns(code)
            sent[code] = None  # the most recent last (the page's cache is kept the same way)
            return item

        sent.pop(self._code, None)
        sent[self._code] = None  # the current key's data went with ``chart.show``
        ahead = {
            "from": self._code,
            "clicks": self._clicks,
            "next": [entry(code) for code in self._neighbours(1)],
            "previous": [entry(code) for code in self._neighbours(-1)],
        }
        for code in list(sent)[: max(0, len(sent) - SENT_KEPT)]:
            del sent[code]
        self.controls.chart.prefetch = ahead

    def _key_label(self, code: int) -> str:
        return f"{self._skus[code]} @ {self._locations[code]}"

    def view_key(self) -> tuple[str, str]:
        """The current key as ``(sku, location)``."""
        return str(self._skus[self._code]), str(self._locations[self._code])

    def _set_matches(self, found: pd.DataFrame) -> None:
        if not (found["code"] == self._code).any():
            found = pd.concat(
                [self._ranking.iloc[[self._rank_of[self._code]]], found.head(MATCHES - 1)]
            )
        options = [
            (f"{display_text(str(sku))} @ {display_text(str(location))}  |Δ| {units:.1f}", code)
            for sku, location, units, code in zip(
                found[SKU], found[LOCATION], found["drift_units"], found["code"], strict=True
            )
        ]
        self._syncing = True
        try:
            if list(self.controls.matches.options) != options:
                self.controls.matches.options = options
            self.controls.matches.value = self._code
        finally:
            self._syncing = False

    def _sync_matches(self, matches: pd.DataFrame | None) -> None:
        self._set_matches(
            matches if matches is not None else self.search(self.controls.search.value)
        )

    def refresh(self) -> ExplorerView:
        """Redraw every view for the current key and filters; return what is shown."""
        self._redraw()
        return self.view()

    def _redraw(self) -> None:
        """The chart first (its message reaches the browser first), then title and table."""
        sku, location = self.view_key()
        controls = self.controls
        controls.chart.show(self._chart_columns(), self._key_label(self._code), self._code)
        first, last = (str(controls.days.options[i][0]) for i in controls.days.index)
        controls.show(self._title(sku, location), f"{first} – {last}")
        controls.show_table(self._tab_frame(controls.tables.selected_index or 0))
        self._prefetch()

    def _title(self, sku: str, location: str) -> str:
        title = self._titles[self._code]
        position = self._position()
        place = f"#{position} of {len(self._order)} drifted" if position else "not drifted"
        name = f" — {escape(title, limit=MAX_DISPLAY)}" if isinstance(title, str) else ""
        return f"<b>{escape(sku, limit=MAX_DISPLAY)}</b> @ {escape(location, limit=MAX_DISPLAY)}{name} · {place}"
