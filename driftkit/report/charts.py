"""Charts for the audit report: one Altair theme and one builder per view (DESIGN §10).

Every builder takes an already-aggregated tidy frame (at most :data:`MAX_ROWS` rows) and
returns an unrendered Altair chart; nothing is shown or saved here.  Interactivity is plain
Vega-Lite (legend selections, zoom, dropdowns), so it keeps working in the offline HTML report.
Pass ``systems=`` (the client's systems, in config order) to keep one colour per system across
every chart of a report.

The theme, palettes and frame checks live in :mod:`driftkit.report.chartkit`; the drift views
(over time, SKU drill-down, bias) in :mod:`driftkit.report.drift_charts`; the cause, handoff and
cost views here.  Every builder is importable from this module.
"""

from __future__ import annotations

from typing import Any, cast

import altair as alt
import pandas as pd

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
    driftkit_theme,
    system_colors,
)
from driftkit.report.drift_charts import agreement_over_time, bias, drift_over_time, sku_drilldown

_HANDOFFS = (
    "source",
    "target",
    "kind",
    "events",
    "matched",
    "missing",
    "duplicated",
    "latency_p50_h",
    "latency_p95_h",
)


def handoff_map(handoffs: pd.DataFrame) -> alt.LayerChart:
    """Source × target matrix of write paths, coloured by the share of missing + duplicated.

    Parameters
    ----------
    handoffs : DataFrame
        Columns ``source, target, kind, events, matched, missing, duplicated, latency_p50_h,
        latency_p95_h``; one row per (source, target, kind).

    Returns
    -------
    alt.LayerChart
        Heatmap with the problem share written in each cell; a dropdown picks one event kind
        (default: all kinds summed; latencies then show the worst kind).
    """
    data = _frame(handoffs, _HANDOFFS, "handoff_map")
    kinds = sorted(data["kind"].dropna().astype(str).unique())
    kind = alt.param(
        name="handoff_kind",
        value="all",
        bind=alt.binding_select(options=["all", *kinds], name="Event kind "),
    )
    sums = {c: f"sum({c})" for c in ("events", "matched", "missing", "duplicated")}
    worst = {c: f"max({c})" for c in ("latency_p50_h", "latency_p95_h")}
    base = (
        alt.Chart(
            data,
            title=alt.Title(
                "Handoff map: where writes go missing or double",
                subtitle="Rows send, columns receive. Share = (missing + duplicated) ÷ events.",
            ),
        )
        .transform_filter("handoff_kind == 'all' || datum.kind == handoff_kind")
        .transform_aggregate(groupby=["source", "target"], **cast(dict[str, Any], sums | worst))
        .transform_calculate(
            problem_share="datum.events > 0 ? "
            "(datum.missing + datum.duplicated) / datum.events : null"
        )
        .transform_joinaggregate(worst_share="max(problem_share)")
        .encode(
            x=alt.X("target:N", title="Target system", axis=alt.Axis(orient="top", labelAngle=0)),
            y=alt.Y("source:N", title="Source system"),
        )
    )
    tooltip = [
        alt.Tooltip("source:N", title="From"),
        alt.Tooltip("target:N", title="To"),
        *[alt.Tooltip(f"{c}:Q", format=",.0f") for c in sums],
        alt.Tooltip("problem_share:Q", title="Missing + duplicated", format=".1%"),
        alt.Tooltip("latency_p50_h:Q", title="Latency p50 (h)", format=",.1f"),
        alt.Tooltip("latency_p95_h:Q", title="Latency p95 (h)", format=",.1f"),
    ]
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color(
            "problem_share:Q",
            title="Problem share",
            legend=alt.Legend(format=".0%"),
            scale=alt.Scale(scheme="orangered", domainMin=0),
        ),
        tooltip=tooltip,
    )
    labels = base.mark_text(fontWeight=600).encode(
        text=alt.Text("problem_share:Q", format=".0%"),
        color=alt.when("datum.problem_share > 0.6 * datum.worst_share")
        .then(alt.value("white"))
        .otherwise(alt.value("#1a1a1a")),
        tooltip=tooltip,
    )
    return (cells + labels).add_params(kind).properties(width={"step": 96}, height={"step": 44})


def causes(findings_by_cause: pd.DataFrame) -> alt.Chart:
    """Findings per cause, as horizontal bars (pick findings, units or value).

    Parameters
    ----------
    findings_by_cause : DataFrame
        Columns ``cause, findings, units, value``; one row per cause.

    Returns
    -------
    alt.Chart
        Bars sorted by the chosen measure, one fixed colour per cause.
    """
    data = _frame(findings_by_cause, ("cause", "findings", "units", "value"), "causes")
    show = alt.param(
        name="cause_measure",
        value="value",
        bind=alt.binding_select(
            options=["value", "units", "findings"],
            labels=["value", "units", "findings"],
            name="Measure ",
        ),
    )
    domain = list(CAUSE_COLORS) + sorted(set(data["cause"].astype(str)) - set(CAUSE_COLORS))
    return (
        alt.Chart(
            data,
            title=alt.Title(
                alt.ExprRef("'What causes the drift: ' + cause_measure + ' per cause'"),
                subtitle="Units as absolute values; hover a bar for findings, units and value.",
            ),
        )
        .transform_calculate(shown="abs(datum[cause_measure])")
        .mark_bar()
        .encode(
            x=alt.X("shown:Q", title=None),
            y=alt.Y("cause:N", sort="-x", title=None),
            color=alt.Color(
                "cause:N",
                legend=None,
                scale=alt.Scale(
                    domain=domain, range=[CAUSE_COLORS.get(c, "#999999") for c in domain]
                ),
            ),
            tooltip=[
                alt.Tooltip("cause:N", title="Cause"),
                alt.Tooltip("findings:Q", format=",.0f"),
                alt.Tooltip("units:Q", title="Units (signed)", format=",.0f"),
                alt.Tooltip("value:Q", format=",.2f"),
            ],
        )
        .add_params(show)
        .properties(height={"step": 30})
    )


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
        y=alt.Y("low:Q", title=None), y2="high:Q"
    )
    line = base.mark_line(point=True, color=SYSTEM_PALETTE[0]).encode(y="estimate:Q")
    return (
        alt.layer(band, line, data=data)
        .properties(width=290, height=170)
        .facet(
            facet=alt.Facet("metric:N", title=None),
            columns=2,
            title=alt.Title("Projected impact", subtitle="Estimate and interval per week."),
        )
        .resolve_scale(y="independent")
    )


def count_list(top: pd.DataFrame, *, n: int = 25) -> alt.Chart:
    """What to count next: the top ``n`` SKU-locations by expected money impact.

    Parameters
    ----------
    top : DataFrame
        Columns ``sku, location, expected_value, reason, system``.
    n : int
        How many rows to draw (the largest ``expected_value`` first).

    Returns
    -------
    alt.Chart
        Horizontal bars labelled ``sku @ location``, coloured by reason.
    """
    columns = ("sku", "location", "expected_value", "reason", "system")
    ranked = top.nlargest(n, "expected_value") if "expected_value" in top else top
    data = _frame(ranked, columns, "count_list")  # the top n is a selection, not a truncation
    data["label"] = data["sku"].astype(str) + " @ " + data["location"].astype(str)
    return (
        alt.Chart(
            data,
            title=alt.Title(
                f"Count these first (top {len(data)})",
                subtitle="Expected money impact per SKU-location.",
            ),
        )
        .mark_bar()
        .encode(
            x=alt.X("expected_value:Q", title="Expected impact"),
            y=alt.Y("label:N", sort="-x", title=None),
            color=alt.Color("reason:N", title="Reason", scale=alt.Scale(scheme="set2")),
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
