"""Charts of why systems drift: the handoff map and the findings per cause (DESIGN §10).

Builders as in :mod:`driftkit.report.charts`, which re-exports them: an aggregated tidy frame
in, an unrendered Altair chart out.
"""

from __future__ import annotations

import driftkit.report.startup  # noqa: F401  # first: skips jsonschema's iri grammar

# isort: split
from typing import Any, cast

import altair as alt
import pandas as pd

from driftkit.report.chartkit import CAUSE_COLORS, _frame

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
    layers = alt.LayerChart(layer=[cells, labels], width=alt.Step(96), height=alt.Step(44))
    return layers.add_params(kind)


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
