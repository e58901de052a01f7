"""The explorer's widgets: every control, their layout and the tabbed tables.

Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd

from driftkit.drift.align import Grid
from driftkit.explorer.data import ANY_CAUSE, ANY_LOCATION
from driftkit.explorer.live import LiveChart
from driftkit.explorer.payload import calendar_columns
from driftkit.report.clean import MAX_DISPLAY, MAX_PROSE, display_text, escape


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
        locations = sorted({str(x) for x in grid.keys["location"].unique()})
        tables = widgets.Tab(children=[widgets.HTML() for _ in _TABS])
        tables.titles = _TABS
        systems = widgets.SelectMultiple(
            options=list(grid.systems), value=list(grid.systems), description="systems"
        )
        slider = widgets.SelectionRangeSlider(
            options=days, index=(0, len(days) - 1), description="days", readout=False
        )
        calendar = calendar_columns(grid.days.to_numpy())
        group = secrets.token_hex(6)  # ties the ◀ ▶ buttons to this explorer's chart
        previous = widgets.Button(description="◀ previous", tooltip="previous worst key")
        following = widgets.Button(description="next ▶", tooltip="next worst key")
        previous.add_class(f"dk-previous-{group}")
        following.add_class(f"dk-next-{group}")
        return cls(
            search=widgets.Text(
                placeholder="type a SKU", description="SKU", continuous_update=True
            ),
            matches=widgets.Select(options=[], rows=8, description="matches"),
            location=widgets.Dropdown(
                options=[(ANY_LOCATION, ANY_LOCATION), *((display_text(x), x) for x in locations)],
                value=ANY_LOCATION,
                description="location",
            ),
            systems=systems,
            days=slider,
            cause=widgets.Dropdown(options=causes, value=ANY_CAUSE, description="cause"),
            previous=previous,
            next=following,
            export=widgets.Button(description="export CSV", icon="download"),
            exported=widgets.HTML(),
            title=widgets.HTML(),
            source=widgets.HTML(f"<small>loaded from {escape(source, limit=MAX_PROSE)}</small>"),
            chart=LiveChart(
                spec=spec,
                calendar=calendar,
                systems=systems,
                days=slider,
                group=group,
            ),
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

    def show(self, title: str, days: str) -> None:
        """Write the title (HTML) and the chosen days beside the slider."""
        self.title.value = title
        # the slider's own readout is cut at ~10 characters ("05 Sep-21 S"): written here instead
        self.range.value = f"<span style='white-space: nowrap'>{html.escape(days)}</span>"

    def show_table(self, frame: pd.DataFrame) -> None:
        """Render ``frame`` into the selected tab (the others render when they are selected)."""
        self.tables.children[self.tables.selected_index or 0].value = _html_table(frame)


_TABS = ("episodes", "findings", "impact", "events")
_MAX_ROWS = 200


def _html_table(frame: pd.DataFrame) -> str:
    """``frame`` as an HTML table: every cell through :func:`driftkit.report.clean.escape`.

    Missing values are blank; at most :data:`_MAX_ROWS` rows (the first ones), with a line
    saying how many were left out.
    """
    if frame.empty:
        return "<i>none for this key and filter</i>"
    head = "".join(f"<th>{escape(str(c), limit=MAX_DISPLAY)}</th>" for c in frame.columns)
    shown = frame.iloc[:_MAX_ROWS]
    missing = shown.isna().to_numpy().tolist()
    body = "".join(
        "<tr>"
        + "".join(
            "<td></td>" if gone else f"<td>{escape(_format(v), limit=MAX_DISPLAY)}</td>"
            for v, gone in zip(row, blank, strict=True)
        )
        + "</tr>"
        for row, blank in zip(shown.to_numpy(dtype=object).tolist(), missing, strict=True)
    )
    more = len(frame) - _MAX_ROWS
    note = (
        f"<p><i>{more:,} more rows not shown: export CSV has them all</i></p>" if more > 0 else ""
    )
    return f"<table class='dataframe'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
