"""What every chart shares: the ``driftkit`` Altair theme, palettes and frame checks.

Importing this module registers and enables the theme.  :func:`_frame` refuses frames
larger than :data:`MAX_ROWS` or missing a column; colours are fixed per system.
"""

from __future__ import annotations

import driftkit.report.startup  # noqa: F401  # first: skips jsonschema's iri grammar

# isort: split
from collections.abc import Mapping, Sequence
from typing import Literal

import altair as alt
import pandas as pd

from driftkit.errors import ReportError
from driftkit.schema import Cause

MAX_ROWS = 5_000


THEME = "driftkit"


FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


WIDTH, HEIGHT = 640, 260


# Okabe–Ito: distinguishable with the common colour-vision deficiencies, and in grey print.
SYSTEM_PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#8C6D31",
    "#F0E442",
    "#666666",
    "#000000",
)


CAUSE_COLORS: Mapping[str, str] = {
    Cause.DUPLICATE_EVENT: "#7B3294",
    Cause.MISSING_EVENT: "#B2182B",
    Cause.STALE_OVERWRITE: "#E08214",
    Cause.UNIT_MISMATCH: "#2D7F8C",
    Cause.SYNC_LAG: "#5E8C31",
    Cause.UNRECORDED_CHANGE: "#8A8A8A",
}


ABOVE, BELOW = "#B2182B", "#2166AC"


AnyChart = alt.Chart | alt.LayerChart | alt.HConcatChart | alt.VConcatChart | alt.FacetChart


_DAY_FORMAT = "%a %d %b %Y"


@alt.theme.register(THEME, enable=True)
def driftkit_theme() -> alt.theme.ThemeConfig:
    """Altair theme ``"driftkit"``: readable system fonts, laptop/print sizes, Okabe–Ito colours.

    Returns
    -------
    ThemeConfig
        The Vega-Lite ``config`` applied to every chart while the theme is enabled.
    """
    axis: alt.theme.AxisConfigKwds = {
        "labelFontSize": 12,
        "titleFontSize": 12,
        "titleFontWeight": 600,
        "labelColor": "#333333",
        "titleColor": "#333333",
        "gridColor": "#e8e8e8",
        "domainColor": "#9a9a9a",
        "tickColor": "#9a9a9a",
        "labelLimit": 260,
    }
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "padding": 8,
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            "axis": axis,
            "legend": {
                "labelFontSize": 12,
                "titleFontSize": 12,
                "titleFontWeight": 600,
                "labelLimit": 220,
                "symbolStrokeWidth": 2,
            },
            "title": {
                "fontSize": 15,
                "fontWeight": 600,
                "anchor": "start",
                "color": "#1a1a1a",
                "subtitleFontSize": 12,
                "subtitleColor": "#555555",
                "offset": 10,
            },
            "header": {"labelFontSize": 12, "titleFontSize": 12, "labelFontWeight": 600},
            "range": {"category": list(SYSTEM_PALETTE)},
            "line": {"strokeWidth": 2},
            "point": {"size": 36, "filled": True},
            "bar": {"cornerRadiusEnd": 2},
            "text": {"fontSize": 11},
        }
    }


def system_colors(systems: Sequence[str]) -> dict[str, str]:
    """Map each system to its colour, in the given order (pass the config's system order).

    Parameters
    ----------
    systems : sequence of str
        System names; the i-th gets the i-th palette colour (cycling after ten).

    Returns
    -------
    dict
        System name → hex colour.
    """
    return {name: SYSTEM_PALETTE[i % len(SYSTEM_PALETTE)] for i, name in enumerate(systems)}


def _system_palette(systems: Sequence[str] | None, *present: pd.Series) -> dict[str, str]:
    """Colours of the systems present, fixed by their position in ``systems`` (else sorted)."""
    seen = set(pd.concat([p.dropna().astype(str) for p in present], ignore_index=True))
    order = list(systems) if systems is not None else sorted(seen)
    colors = system_colors([*order, *sorted(seen - set(order))])
    return {name: color for name, color in colors.items() if name in seen}


def _system_color(palette: Mapping[str, str]) -> alt.Color:
    """Colour encoding of ``system`` with a fixed domain, so colours match across charts."""
    return alt.Color(
        "system:N",
        title="System",
        legend=alt.Legend(symbolOpacity=1),
        scale=alt.Scale(domain=list(palette), range=list(palette.values())),
    )


def _resolve(**scales: Literal["independent", "shared"]) -> alt.Resolve:
    """A compound chart's ``resolve=``: what ``.resolve_scale(**scales)`` sets, without the deep
    copy of the whole chart that Altair makes for that call (tenths of a second a drill-down)."""
    return alt.Resolve(scale=alt.ScaleResolveMap(**scales))


def _frame(
    frame: pd.DataFrame, columns: Sequence[str], builder: str, *, days: Sequence[str] = ()
) -> pd.DataFrame:
    """Check ``frame`` for a chart (columns, size) and return a copy with naive day columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReportError(
            f"charts.{builder}: the frame lacks column(s) {missing}; found {list(frame.columns)}. "
            f"It needs {list(columns)}; rename or compute them before charting."
        )
    if len(frame) > MAX_ROWS:
        raise ReportError(
            f"charts.{builder}: got {len(frame):,} rows, more than the {MAX_ROWS:,} a report "
            "chart inlines. Charts take pre-aggregated frames: aggregate first (e.g. per day and "
            "system pair) or pass only the top rows; nothing is truncated silently."
        )
    return _naive(frame.loc[:, list(columns)], days)


def _naive(frame: pd.DataFrame, days: Sequence[str]) -> pd.DataFrame:
    """Copy with ``days`` columns as naive timestamps (wall-clock time kept, no UTC shift)."""
    out = frame.copy()
    for name in days:
        stamps = pd.to_datetime(out[name])
        out[name] = stamps.dt.tz_localize(None) if stamps.dt.tz is not None else stamps
    return out
