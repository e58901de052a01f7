"""Charts of where and how much systems drift: over time, one SKU's history, bias per system."""

from __future__ import annotations

import driftkit.report.startup  # noqa: F401  # first: skips jsonschema's iri grammar

# isort: split
from collections.abc import Sequence

import altair as alt
import pandas as pd

from driftkit.report.chartkit import (
    _DAY_FORMAT,
    ABOVE,
    BELOW,
    _frame,
    _resolve,
    _system_color,
    _system_palette,
)

_DAILY = (
    "day",
    "system",
    "counterpart",
    "skus_compared",
    "skus_drifted",
    "abs_drift_units",
    "drift_value",
)


def drift_over_time(daily: pd.DataFrame, *, systems: Sequence[str] | None = None) -> alt.Chart:
    """Daily drift against the authority: one line per (system, counterpart) pair.

    Parameters
    ----------
    daily : DataFrame
        Columns ``day, system, counterpart, skus_compared, skus_drifted, abs_drift_units,
        drift_value``; one row per day and pair.
    systems : sequence of str, optional
        All the client's systems in config order, for colours consistent across charts.

    Returns
    -------
    alt.Chart
        Lines coloured by system, dashed by counterpart; click the legend to highlight a
        system, drag to pan and scroll to zoom the days, choose the measure in the dropdown.
    """
    data = _frame(daily, _DAILY, "drift_over_time", days=("day",))
    show = alt.param(
        name="show",
        value="abs_drift_units",
        bind=alt.binding_select(
            options=["abs_drift_units", "drift_value", "skus_drifted"],
            labels=["units off", "value at risk", "SKU-locations drifted"],
            name="Show ",
        ),
    )
    title = alt.Title(
        alt.ExprRef(
            "show == 'drift_value' ? 'Value at risk per day' : show == 'skus_drifted' "
            "? 'SKU-locations drifted per day' : 'Units off the authority per day'"
        ),
        subtitle="Click a system in the legend to highlight it; scroll to zoom, drag to pan.",
    )
    return _pair_lines(data, "datum[show]", title, systems, fmt=",.0f").add_params(show)


def agreement_over_time(daily: pd.DataFrame, *, systems: Sequence[str] | None = None) -> alt.Chart:
    """Share of compared SKU-locations that disagree, per pair and day.

    Parameters
    ----------
    daily : DataFrame
        The frame of :func:`drift_over_time` (``skus_drifted / skus_compared`` is plotted).
    systems : sequence of str, optional
        All the client's systems in config order, for consistent colours.

    Returns
    -------
    alt.Chart
        Lines of the drifted share (0–100 %), legend selection and zoom as in drift_over_time.
    """
    data = _frame(daily, _DAILY, "agreement_over_time", days=("day",))
    title = alt.Title(
        "Share of SKU-locations that disagree with the authority",
        subtitle="Drifted ÷ compared per day. Click the legend to highlight.",
    )
    expr = "datum.skus_compared > 0 ? datum.skus_drifted / datum.skus_compared : null"
    return _pair_lines(data, expr, title, systems, fmt=".1%")


def sku_drilldown(
    series: pd.DataFrame,
    events: pd.DataFrame,
    episodes: pd.DataFrame,
    *,
    systems: Sequence[str] | None = None,
    title: str = "SKU drill-down",
) -> alt.VConcatChart:
    """One key's count per system, shaded drift episodes, and its events underneath.

    Parameters
    ----------
    series : DataFrame
        Columns ``day, system, value`` for ONE key.
    events : DataFrame
        Columns ``time, system, kind, qty, reference`` for that key.
    episodes : DataFrame
        Columns ``start, end, system, counterpart`` (inclusive days) for that key.
    systems : sequence of str, optional
        All the client's systems in config order, for consistent colours.
    title : str
        Chart title, e.g. ``"SKU AB-12 at main"``.

    Returns
    -------
    alt.VConcatChart
        Step lines per system over shaded episodes, and an event strip sharing the day axis;
        the legend highlights a system, scroll/drag zooms both panels.
    """
    line = _frame(series, ("day", "system", "value"), "sku_drilldown", days=("day",))
    marks = _frame(
        events, ("time", "system", "kind", "qty", "reference"), "sku_drilldown", days=("time",)
    )
    spans = _frame(
        episodes, ("start", "end", "system", "counterpart"), "sku_drilldown", days=("start", "end")
    )
    spans["last"], spans["end"] = spans["end"], spans["end"] + pd.Timedelta(days=1)
    palette = _system_palette(systems, line["system"], marks["system"], spans["system"])
    spans["shade"] = spans["system"].map(palette)
    color = _system_color(palette)
    pick = alt.selection_point(name="pick_system", fields=["system"], bind="legend")
    zoom = alt.selection_interval(name="zoom", encodings=["x"], bind="scales")
    shade = (
        alt.Chart(spans)
        .mark_rect(opacity=0.12)
        .encode(
            x=alt.X("start:T"),
            x2=alt.X2("end:T"),
            color=alt.Color("shade:N", scale=None),
            tooltip=[
                alt.Tooltip("start:T", title="Episode from", format=_DAY_FORMAT),
                alt.Tooltip("last:T", title="Episode to", format=_DAY_FORMAT),
                alt.Tooltip("system:N", title="System"),
                alt.Tooltip("counterpart:N", title="Against"),
            ],
        )
    )
    counts = (
        alt.Chart(line)
        .mark_line(interpolate="step-after", point=True)
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", tickCount="day")),
            y=alt.Y("value:Q", title="Units", scale=alt.Scale(zero=False)),
            color=color,
            opacity=alt.when(pick).then(alt.value(1.0)).otherwise(alt.value(0.15)),
            tooltip=[
                alt.Tooltip("day:T", title="Day", format=_DAY_FORMAT),
                alt.Tooltip("system:N", title="System"),
                alt.Tooltip("value:Q", title="Units", format=",.2f"),
            ],
        )
        .add_params(pick, zoom)
    )
    strip = (
        alt.Chart(marks)
        .mark_point(size=70, filled=True, opacity=1)
        .encode(
            x=alt.X("time:T", title=None, axis=alt.Axis(format="%d %b", tickCount="day")),
            y=alt.Y("system:N", title="Events"),
            color=color,
            shape=alt.Shape("kind:N", title="Event kind"),
            tooltip=[
                alt.Tooltip("time:T", title="Recorded", format="%d %b %Y %H:%M"),
                alt.Tooltip("system:N", title="System"),
                alt.Tooltip("kind:N", title="Kind"),
                alt.Tooltip("qty:Q", title="Qty", format=",.2f"),
                alt.Tooltip("reference:N", title="Reference"),
            ],
        )
        .properties(height={"step": 22})
    )
    top = alt.layer(
        shade,
        counts,
        title=alt.Title(title, subtitle="Shaded: drift episodes. Scroll to zoom, drag to pan."),
    )
    return alt.vconcat(top, strip, spacing=12, resolve=_resolve(x="shared", shape="independent"))


def bias(bias: pd.DataFrame, *, systems: Sequence[str] | None = None) -> alt.HConcatChart:
    """Per-system bias against the authority: mean signed drift and share of days above/below.

    Parameters
    ----------
    bias : DataFrame
        Columns ``system, mean_drift, share_positive, share_negative``.
    systems : sequence of str, optional
        All the client's systems in config order, for consistent colours.

    Returns
    -------
    alt.HConcatChart
        Left: mean signed drift bars around zero; right: diverging share of days above
        (right, red) and below (left, blue) the authority.
    """
    data = _frame(bias, ("system", "mean_drift", "share_positive", "share_negative"), "bias")
    tooltip = [
        alt.Tooltip("system:N", title="System"),
        alt.Tooltip("mean_drift:Q", title="Mean drift (units)", format="+,.2f"),
        alt.Tooltip("share_positive:Q", title="Days above", format=".0%"),
        alt.Tooltip("share_negative:Q", title="Days below", format=".0%"),
    ]
    y = alt.Y("system:N", title=None)
    mean = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("mean_drift:Q", title="Mean signed drift (units)"),
            y=y,
            color=_system_color(_system_palette(systems, data["system"])),
            tooltip=tooltip,
        )
    )
    shares = (
        alt.Chart(data)
        .transform_calculate(above="datum.share_positive", below="-datum.share_negative")
        .transform_fold(["above", "below"], as_=["side", "share"])
        .mark_bar()
        .encode(
            x=alt.X("share:Q", title="Share of days below | above", axis=alt.Axis(format="~%")),
            y=y,
            tooltip=tooltip,
            color=alt.Color(
                "side:N",
                title="vs authority",
                scale=alt.Scale(domain=["above", "below"], range=[ABOVE, BELOW]),
            ),
        )
    )
    zero = alt.Chart().mark_rule(color="#555555").encode(x=alt.X(datum=0))
    return alt.hconcat(
        alt.layer(mean, zero, width=260, height={"step": 28}),
        alt.layer(shares, zero, width=260, height={"step": 28}),
        title=alt.Title("Bias against the authority", subtitle="Positive: the system shows more."),
        resolve=_resolve(color="independent"),
    )


def _pair_lines(
    data: pd.DataFrame, expr: str, title: alt.Title, systems: Sequence[str] | None, *, fmt: str
) -> alt.Chart:
    """Lines per (system, counterpart) of the calculated field ``expr``, with selection + zoom."""
    pick = alt.selection_point(name="pick_system", fields=["system"], bind="legend")
    zoom = alt.selection_interval(name="zoom", encodings=["x"], bind="scales")
    return (
        alt.Chart(data, title=title)
        .transform_calculate(shown=expr)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", tickCount="day")),
            y=alt.Y("shown:Q", title=None, axis=alt.Axis(format=fmt)),
            color=_system_color(_system_palette(systems, data["system"])),
            strokeDash=alt.StrokeDash("counterpart:N", title="Against"),
            opacity=alt.when(pick).then(alt.value(1.0)).otherwise(alt.value(0.15)),
            tooltip=[
                alt.Tooltip("day:T", title="Day", format=_DAY_FORMAT),
                alt.Tooltip("system:N", title="System"),
                alt.Tooltip("counterpart:N", title="Against"),
                alt.Tooltip("shown:Q", title="Shown", format=fmt),
                alt.Tooltip("skus_compared:Q", title="SKU-locations compared", format=",.0f"),
                alt.Tooltip("skus_drifted:Q", title="SKU-locations drifted", format=",.0f"),
                alt.Tooltip("abs_drift_units:Q", title="Units off", format=",.0f"),
                alt.Tooltip("drift_value:Q", title="Value at risk", format=",.2f"),
            ],
        )
        .add_params(pick, zoom)
    )
