"""Charts for the audit report: one Altair theme and one builder per view (DESIGN §10).

Every builder takes an already-aggregated tidy frame (at most :data:`MAX_ROWS` rows) and
returns an unrendered Altair chart; nothing is shown or saved here.  Interactivity is plain
Vega-Lite (legend selections, zoom, dropdowns), so it keeps working in the offline HTML report.
Pass ``systems=`` (the client's systems, in config order) to keep one colour per system across
every chart of a report.

The theme, palettes and frame checks live in :mod:`driftkit.report.chartkit`; the drift views
(over time, SKU drill-down, bias) in :mod:`driftkit.report.drift_charts`; the handoff map and
the causes in :mod:`driftkit.report.cause_charts`; the impact, count-list and rejects views
here.  Every builder is importable from this module.
"""

from __future__ import annotations

import driftkit.report.startup  # noqa: F401  # first: skips jsonschema's iri grammar

# isort: split
import altair as alt
import pandas as pd

from driftkit.report.cause_charts import causes, handoff_map
from driftkit.report.chartkit import (
    ABOVE,
    BELOW,
    CAUSE_COLORS,
    FONT,
    HEIGHT,
    MAX_ROWS,
    SYSTEM_PALETTE,
    THEME,
    WIDTH,
    AnyChart,
    _frame,
    _naive,
    _resolve,
    driftkit_theme,
    system_colors,
)
from driftkit.report.drift_charts import agreement_over_time, bias, drift_over_time, sku_drilldown


def impact_projection(projection: pd.DataFrame) -> alt.FacetChart:
    """Projected cost of drift per metric, a line with its interval band.

    Parameters
    ----------
    projection : DataFrame
        Columns ``week, metric, estimate, low, high``; ``week`` a date or a week number.

    Returns
    -------
    alt.FacetChart
        One small panel per metric (independent y axes), so print shows every metric.
    """
    data = _frame(projection, ("week", "metric", "estimate", "low", "high"), "impact_projection")
    temporal = pd.api.types.is_datetime64_any_dtype(data["week"])
    if temporal:
        data = _naive(data, ("week",))
    week = "week:T" if temporal else "week:O"
    tooltip = [
        alt.Tooltip(week, title="Week"),
        alt.Tooltip("metric:N", title="Metric"),
        *[alt.Tooltip(f"{c}:Q", format=",.2f") for c in ("estimate", "low", "high")],
    ]
    base = alt.Chart().encode(x=alt.X(week, title="Week"), tooltip=tooltip)
    band = base.mark_area(opacity=0.25, color=SYSTEM_PALETTE[0]).encode(
        y=alt.Y("low:Q", title=None), y2=alt.Y2("high:Q")
    )
    line = base.mark_line(point=True, color=SYSTEM_PALETTE[0]).encode(y=alt.Y("estimate:Q"))
    return alt.layer(band, line, data=data, width=290, height=170).facet(
        facet=alt.Facet("metric:N", title=None),
        columns=2,
        title=alt.Title("Projected impact", subtitle="Estimate and interval per week."),
        resolve=_resolve(y="independent"),
    )


def count_list(top: pd.DataFrame, *, n: int = 25) -> alt.Chart:
    """What to count next: the first ``n`` SKU-locations of the count list, in its order.

    Parameters
    ----------
    top : DataFrame
        Columns ``sku, location, expected_value, reason, system``, and ``rank`` when it is
        the ranked count list (money ranks and the empty-shelf checks between them).
    n : int
        How many rows to draw: the first ``n`` ranks, or without ``rank`` the largest
        ``expected_value`` first.

    Returns
    -------
    alt.Chart
        Horizontal bars labelled ``sku @ location`` in list order, coloured by the kind of
        reason (its text before the first ``:`` or ``(``, e.g. ``oversell``,
        ``empty-shelf check``, ``record error inflates safety stock``).
    """
    columns = ("sku", "location", "expected_value", "reason", "system")
    ranked = top.nsmallest(n, "rank") if "rank" in top else top.nlargest(n, "expected_value")
    data = _frame(ranked, columns, "count_list")  # the top n is a selection, not a truncation
    data["label"] = data["sku"].astype(str) + " @ " + data["location"].astype(str)
    data["kind"] = data["reason"].astype(str).str.extract(r"^([^:(]*)", expand=False).str.strip()
    return (
        alt.Chart(
            data,
            title=alt.Title(
                f"Count these first (top {len(data)})",
                subtitle="Expected money impact per SKU-location, in the count list's order.",
            ),
        )
        .mark_bar()
        .encode(
            x=alt.X("expected_value:Q", title="Expected impact"),
            y=alt.Y("label:N", sort=list(data["label"]), title=None),
            color=alt.Color("kind:N", title="Reason", scale=alt.Scale(scheme="set2")),
            tooltip=[
                alt.Tooltip("sku:N", title="SKU"),
                alt.Tooltip("location:N", title="Location"),
                alt.Tooltip("system:N", title="System"),
                alt.Tooltip("reason:N", title="Reason"),
                alt.Tooltip("expected_value:Q", title="Expected impact", format=",.2f"),
            ],
        )
        .properties(width=480, height={"step": 20})
    )


def rejects_by_reason(summary: pd.DataFrame) -> alt.Chart:
    """Rejected input rows per source file, stacked by reason.

    Parameters
    ----------
    summary : DataFrame
        Columns ``source_file, reason, rows``.

    Returns
    -------
    alt.Chart
        Horizontal stacked bars; click a reason in the legend to highlight it.
    """
    data = _frame(summary, ("source_file", "reason", "rows"), "rejects_by_reason")
    pick = alt.selection_point(name="pick_reason", fields=["reason"], bind="legend")
    return (
        alt.Chart(
            data,
            title=alt.Title(
                "Rejected input rows", subtitle="Per file and reason; see rejects.csv for each row."
            ),
        )
        .mark_bar()
        .encode(
            x=alt.X("sum(rows):Q", title="Rows rejected"),
            y=alt.Y("source_file:N", sort="-x", title=None),
            color=alt.Color("reason:N", title="Reason", scale=alt.Scale(scheme="set2")),
            opacity=alt.when(pick).then(alt.value(1.0)).otherwise(alt.value(0.2)),
            tooltip=[
                alt.Tooltip("source_file:N", title="File"),
                alt.Tooltip("reason:N", title="Reason"),
                alt.Tooltip("rows:Q", title="Rows", format=",.0f"),
            ],
        )
        .add_params(pick)
        .properties(width=420, height={"step": 24})
    )


__all__ = [
    "ABOVE",
    "BELOW",
    "CAUSE_COLORS",
    "FONT",
    "HEIGHT",
    "MAX_ROWS",
    "SYSTEM_PALETTE",
    "THEME",
    "WIDTH",
    "AnyChart",
    "agreement_over_time",
    "bias",
    "causes",
    "count_list",
    "drift_over_time",
    "driftkit_theme",
    "handoff_map",
    "impact_projection",
    "rejects_by_reason",
    "sku_drilldown",
    "system_colors",
]
