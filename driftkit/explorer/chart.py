"""The explorer's chart: one key's count lines, compiled to Vega once and refilled per key.

Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from driftkit import schema
from driftkit.explorer.data import ExplorerView
from driftkit.explorer.payload import CHART_MAX_EVENTS
from driftkit.report.cache import cache_dir, store_atomically
from driftkit.schema import SYSTEM

if TYPE_CHECKING:  # altair and vl-convert are imported only to build the chart (7 s+)
    import altair as alt

VEGA_MIME = "application/vnd.vega.v5+json"
CHART_WIDTH = 600
_HALF_DAY = pd.Timedelta(hours=12)
_CHART_DATA = ("series", "episodes", "counts", "events", "frame", "levels")


def key_chart(
    view: ExplorerView,
    *,
    systems: tuple[str, ...],
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> alt.VConcatChart:
    """Count lines of one key: one line per system, episodes shaded, counts and events marked.

    Parameters
    ----------
    view
        The key's frames (``series``, ``episodes``, ``counts``, ``events``).
    systems
        Every system of the client (fixes the colours and the rows of the event strip).
    first, last
        The date range shown.
    """
    return _layout(systems, chart_data(view, first, last))


def chart_data(
    view: ExplorerView, first: pd.Timestamp, last: pd.Timestamp
) -> dict[str, list[dict[str, Any]]]:
    """The named datasets of :func:`key_chart` as JSON-ready records (local times as text).

    ``series``: day, system, value; ``episodes``: day, day_end, system, counterpart (bands
    of half a day either side of the episode's days, clipped to the range: an episode that
    runs past the range shades only the days shown); ``counts``: day, counted_qty;
    ``events``: day, system, kind, qty, commit, set_qty, reference; ``frame``: the range's two
    ends; ``levels``: value, every quantity plotted on the y axis.
    """
    episodes = view.episodes
    starts = pd.to_datetime(episodes.get("start", pd.Series(dtype="datetime64[us]")))
    ends = pd.to_datetime(episodes.get("end", pd.Series(dtype="datetime64[us]")))
    bands = pd.DataFrame(
        {
            "day": starts.where(starts >= first, first) - _HALF_DAY,
            "day_end": ends.where(ends <= last, last) + _HALF_DAY,
            SYSTEM: episodes.get(SYSTEM),
            "counterpart": episodes.get("counterpart"),
        }
    )
    events = view.events.tail(CHART_MAX_EVENTS).rename(columns={"time": "day"})
    frames = {
        "series": view.series,
        "episodes": bands,
        "counts": view.counts.rename(columns={"time": "day"}),
        "events": events[["day", SYSTEM, "kind", "qty", "commit", "set_qty", "reference"]],
        "frame": pd.DataFrame({"day": [first - _HALF_DAY, last + _HALF_DAY]}),
        "levels": _levels(view),
    }
    return {name: _records(frame) for name, frame in frames.items()}


def _levels(view: ExplorerView) -> pd.DataFrame:
    """Every quantity the top chart plots (lines and counts): the y scale's one domain source.

    A single non-empty source keeps Vega from taking the extent of an empty dataset; with
    nothing to plot the domain is the single value 0.
    """
    values = pd.concat([view.series["value"], view.counts["counted_qty"]], ignore_index=True)
    values = values.dropna()
    return pd.DataFrame({"value": values if len(values) else pd.Series([0.0])})


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN → null, naive times as ISO text (Vega reads them as local)."""
    text = frame.to_json(orient="records", date_format="iso", date_unit="s")
    return cast(list[dict[str, Any]], json.loads(text))


def _layout(
    systems: tuple[str, ...], datasets: dict[str, list[dict[str, Any]]]
) -> alt.VConcatChart:
    """The chart over named datasets, so a key's data is swapped in without rebuilding it.

    Colours, step lines, legend highlighting and zoom follow ``charts.sku_drilldown`` (the
    report's drill-down); cycle counts are added as black diamonds.
    """
    import altair as alt

    from driftkit.report import charts

    axis = alt.Axis(format="%d %b", tickCount="day", labelOverlap="greedy", labelSeparation=8)
    x = alt.X("day:T", title=None, axis=axis)
    palette = charts.system_colors(systems)
    scale = alt.Scale(domain=list(palette), range=list(palette.values()))
    legend = alt.Legend(symbolOpacity=1)
    colour = alt.Color(f"{SYSTEM}:N", title="System", scale=scale, legend=legend)
    pick = alt.selection_point(name="pick_system", fields=[SYSTEM], bind="legend")
    zoom = alt.selection_interval(name="zoom", encodings=["x"], bind="scales")
    data = {name: alt.Data(name=name) for name in _CHART_DATA}
    ends = alt.Chart(data["frame"]).mark_point(opacity=0).encode(x=x)
    bands = (
        alt.Chart(data["episodes"])
        .mark_rect(opacity=0.12, clip=True)
        .encode(
            x=x,
            x2="day_end:T",
            fill=alt.Fill(f"{SYSTEM}:N", title="System", scale=scale, legend=legend),
            tooltip=[alt.Tooltip("system:N", title="Episode of"), "counterpart:N"],
        )
    )
    lines = (
        alt.Chart(data["series"])
        .mark_line(interpolate="step-after", point=True, clip=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title="Units", scale=alt.Scale(zero=False, padding=12)),
            color=colour,
            opacity=alt.when(pick).then(alt.value(1.0)).otherwise(alt.value(0.15)),
            tooltip=["day:T", "system:N", "value:Q"],
        )
        .add_params(pick, zoom)
    )
    counts = (
        alt.Chart(data["counts"])
        .mark_point(shape="diamond", size=90, filled=True, color="black", clip=True)
        .encode(
            x=x,
            y="counted_qty:Q",
            tooltip=[alt.Tooltip("day:T", title="Cycle count"), "counted_qty:Q"],
        )
    )
    marks = (
        alt.Chart(data["events"])
        .mark_point(size=70, filled=True, opacity=1, clip=True)
        .encode(
            x=x,
            y=alt.Y(f"{SYSTEM}:N", title="Events", scale=alt.Scale(domain=list(systems))),
            color=colour,
            shape=alt.Shape(
                "kind:N", title="Event kind", scale=alt.Scale(domain=list(schema.EventKind))
            ),
            tooltip=[
                "day:T",
                "system:N",
                "kind:N",
                "qty:Q",
                "commit:Q",
                "set_qty:Q",
                "reference:N",
            ],
        )
    )
    top = alt.layer(bands, lines, counts, ends).properties(width=CHART_WIDTH, height=240)
    strip = alt.layer(marks, ends).properties(width=CHART_WIDTH, height=22 * max(len(systems), 1))
    return alt.vconcat(top, strip, datasets=datasets, spacing=12).resolve_scale(
        x="shared", shape="independent"
    )


class _VegaTemplate:
    """:func:`key_chart` compiled to Vega once (with empty datasets) for the live chart.

    The x scale's domain is the ``frame`` dataset alone (the range's two ends), so the chart
    always spans exactly the chosen days, and the y scale's is ``levels``: no domain is ever
    taken over an empty dataset (Vega's "Infinite extent" warning).  Building it (Altair,
    then vl-convert) costs 4–7 s with the imports, so the compiled spec is cached on disk
    per systems, this module's source and the Altair and vl-convert versions
    (:func:`vega_spec`): an explorer opened a second time imports neither.
    """

    def __init__(self, systems: tuple[str, ...]) -> None:
        self.vega: dict[str, Any] = vega_spec(systems)


def vega_spec(systems: tuple[str, ...]) -> dict[str, Any]:
    """The live chart's Vega spec for ``systems``, from the cache folder when built before.

    The cache is ``$XDG_CACHE_HOME/driftkit`` (or ``~/.cache/driftkit``); a file is keyed by
    a hash of the systems, this module's source and the Altair and vl-convert versions, so a
    change to any of them builds a new one.
    """
    key = json.dumps(
        [list(systems), Path(__file__).read_text(encoding="utf-8"), version("altair"),
         version("vl-convert-python")]
    )  # fmt: skip
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    path = cache_dir() / f"explorer-chart-{digest}.json"
    if path.is_file():
        return cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))
    spec = _compiled(systems)
    store_atomically(path, json.dumps(spec))  # a concurrent reader never sees half a file
    return spec


def _compiled(systems: tuple[str, ...]) -> dict[str, Any]:
    import vl_convert as vlc

    empty: dict[str, list[dict[str, Any]]] = {name: [] for name in _CHART_DATA}
    spec = _layout(systems, empty).to_dict(validate=False)
    return _frame_domain(vlc.vegalite_to_vega(spec, vl_version="5.21"))


def _frame_domain(vega: dict[str, Any]) -> dict[str, Any]:
    """``vega`` with the x domain from the ``frame`` dataset, the y one from ``levels``."""
    frame = next(d["name"] for d in vega["data"] if d.get("source") == "frame")
    domains = {
        "x": {"data": frame, "field": "day"},
        "concat_0_y": {"data": "levels", "field": "value"},
    }
    scales = [{**s, "domain": domains.get(s["name"], s["domain"])} for s in vega["scales"]]
    data = [*vega["data"], {"name": "levels", "values": []}]
    unversioned = {k: v for k, v in vega.items() if k != "$schema"}  # the bundle's Vega is 6
    return {**unversioned, "scales": scales, "data": data}
