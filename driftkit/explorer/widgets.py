"""The explorer's widgets: every control, their layout and the tabbed tables.

Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd

from driftkit.drift.align import Grid
from driftkit.explorer.data import ANY_CAUSE, ExplorerView


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
    chart: widgets.Output
    tables: widgets.Tab

    @classmethod
    def build(cls, grid: Grid, causes: list[str]) -> _Controls:
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
                options=days, index=(0, len(days) - 1), description="days"
            ),
            cause=widgets.Dropdown(options=causes, value=ANY_CAUSE, description="cause"),
            previous=widgets.Button(description="◀ previous", tooltip="previous worst key"),
            next=widgets.Button(description="next ▶", tooltip="next worst key"),
            export=widgets.Button(description="export CSV", icon="download"),
            exported=widgets.HTML(),
            title=widgets.HTML(),
            chart=widgets.Output(),
            tables=tables,
        )

    def layout(self) -> list[widgets.Widget]:
        picker = widgets.VBox([self.search, self.matches])
        filters = widgets.VBox([self.location, self.systems, self.days, self.cause])
        stepper = widgets.VBox(
            [widgets.HBox([self.previous, self.next]), self.export, self.exported]
        )
        return [self.title, widgets.HBox([picker, filters, stepper]), self.chart, self.tables]

    def show(self, view: ExplorerView, bundle: dict[str, Any], title: str) -> None:
        self.title.value = title
        self.chart.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)
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
