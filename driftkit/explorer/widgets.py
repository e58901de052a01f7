"""The explorer's widgets: every control, their layout and the tabbed tables.

Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd

from driftkit.drift.align import Grid
from driftkit.explorer.data import ANY_CAUSE, ExplorerView
from driftkit.explorer.live import LiveChart


@dataclass
class _Controls:
    """Every widget of the explorer."""

    search: widgets.Text
    matches: widgets.Select
    location: widgets.Dropdown
    systems: widgets.SelectMultiple
    days: widgets.SelectionRangeSlider
    cause: widgets.Dropdown
    previous: widgets.Button
    next: widgets.Button
    export: widgets.Button
    exported: widgets.HTML
    title: widgets.HTML
    source: widgets.HTML
    chart: LiveChart
    range: widgets.HTML
    tables: widgets.Tab

    @classmethod
    def build(cls, grid: Grid, causes: list[str], spec: dict[str, Any], source: str) -> _Controls:
        days = [(d.strftime("%d %b"), i) for i, d in enumerate(grid.days)]
        tables = widgets.Tab(children=[widgets.HTML() for _ in _TABS])
        tables.titles = _TABS
        return cls(
            search=widgets.Text(
                placeholder="type a SKU", description="SKU", continuous_update=True
            ),
            matches=widgets.Select(options=[], rows=8, description="matches"),
            location=widgets.Dropdown(options=[], description="location"),
            systems=widgets.SelectMultiple(
                options=list(grid.systems), value=list(grid.systems), description="systems"
            ),
            days=widgets.SelectionRangeSlider(
                options=days, index=(0, len(days) - 1), description="days", readout=False
            ),
            cause=widgets.Dropdown(options=causes, value=ANY_CAUSE, description="cause"),
            previous=widgets.Button(description="◀ previous", tooltip="previous worst key"),
            next=widgets.Button(description="next ▶", tooltip="next worst key"),
            export=widgets.Button(description="export CSV", icon="download"),
            exported=widgets.HTML(),
            title=widgets.HTML(),
            source=widgets.HTML(f"<small>loaded from {html.escape(source)}</small>"),
            chart=LiveChart(spec=spec),
            range=widgets.HTML(),
            tables=tables,
        )

    def layout(self) -> list[widgets.Widget]:
        picker = widgets.VBox([self.search, self.matches])
        days = widgets.HBox([self.days, self.range])
        filters = widgets.VBox([self.location, self.systems, days, self.cause])
        stepper = widgets.VBox(
            [widgets.HBox([self.previous, self.next]), self.export, self.exported]
        )
        controls = widgets.HBox([picker, filters, stepper])
        return [self.title, self.source, controls, self.chart, self.tables]

    def show(self, view: ExplorerView, datasets: dict[str, Any], title: str) -> None:
        self.chart.show(datasets, f"{view.sku} @ {view.location}")  # first: sent first
        self.title.value = title
        first, last = (str(self.days.options[i][0]) for i in self.days.index)
        # the slider's own readout is cut at ~10 characters ("05 Sep-21 S"): written here instead
        self.range.value = f"<span style='white-space: nowrap'>{first} – {last}</span>"
        self.show_table(view)

    def show_table(self, view: ExplorerView) -> None:
        """Render the selected tab only (the others render when they are selected)."""
        index = self.tables.selected_index or 0
        self.tables.children[index].value = _html_table(_tab_frames(view)[index])


_TABS = ("episodes", "findings", "impact", "events")


def _tab_frames(view: ExplorerView) -> tuple[pd.DataFrame, ...]:
    return (view.episodes, view.findings, view.impact.T.reset_index(), view.events)


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<i>none for this key and filter</i>"
    return frame.to_html(index=False, escape=True, na_rep="", max_rows=200, border=0)
