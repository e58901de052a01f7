"""Charts for the audit report: one Altair theme and one builder per view (DESIGN §10).

Every builder takes an already-aggregated tidy frame (at most :data:`MAX_ROWS` rows) and
returns an unrendered Altair chart; nothing is shown or saved here.  Interactivity is plain
Vega-Lite (legend selections, zoom, dropdowns), so it keeps working in the offline HTML report.
Pass ``systems=`` (the client's systems, in config order) to keep one colour per system across
every chart of a report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

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

_DAILY = (
    "day",
    "system",
    "counterpart",
    "skus_compared",
    "skus_drifted",
    "abs_drift_units",
    "drift_value",
)
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
            x="start:T",
            x2="end:T",
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
    top = alt.layer(shade, counts).properties(
        title=alt.Title(title, subtitle="Shaded: drift episodes. Scroll to zoom, drag to pan.")
    )
    return alt.vconcat(top, strip, spacing=12).resolve_scale(x="shared", shape="independent")


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
    data = _frame(top, ("sku", "location", "expected_value", "reason", "system"), "count_list")
    data = data.nlargest(n, "expected_value")
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
    zero = alt.Chart().mark_rule(color="#555555").encode(x=alt.datum(0))
    return alt.hconcat(
        alt.layer(mean, zero).properties(width=260, height={"step": 28}),
        alt.layer(shares, zero).properties(width=260, height={"step": 28}),
        title=alt.Title("Bias against the authority", subtitle="Positive: the system shows more."),
    ).resolve_scale(color="independent")


# --- helpers ------------------------------------------------------------------------------


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
