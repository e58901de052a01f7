"""Charts as self-contained HTML fragments: a static SVG fallback plus a vegaEmbed call.

A chart is an HTML fragment holding a static SVG (shown when scripts are off) and a
``<script>`` that renders the interactive chart with the Vega bundle
(:func:`driftkit.report.bundle.vega_bundle`), which the notebook export inlines once per report.
Public through :mod:`driftkit.report.html`.
"""

from __future__ import annotations

import driftkit.report.startup  # noqa: F401  # first: skips jsonschema's iri grammar

# isort: split
import functools
import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from driftkit.errors import ReportError
from driftkit.report.chartkit import MAX_ROWS, THEME, AnyChart
from driftkit.report.clean import changed_note, clean_spec
from driftkit.report.fallbacks import Fragment, Part, render_svg

_CHART_ID = re.compile(r"[a-z][a-z0-9_-]*\Z")


_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}  # fmt: skip


_EMBED_SCRIPT = """<script>
(function () {{
  var el = document.getElementById({id_js});
  if (!el || typeof window.vegaEmbed !== "function") {{ return; }}
  var spec = {spec};
  window.vegaEmbed(el, spec, {{actions: false, renderer: "svg", mode: "vega-lite"}})
    .then(function () {{
      var fallback = el.querySelector(".dk-fallback");
      if (fallback) {{ fallback.remove(); }}
      el.classList.add("dk-rendered");
    }})
    .catch(function (err) {{
      if (window.dkReportError) {{ window.dkReportError({id_js} + ": " + err); }}
    }});
}})();
</script>"""


class ChartHTML(Fragment):
    """One chart as an HTML fragment; a notebook displays it as ``text/html``.

    Its SVG fallback renders on a background thread (:mod:`driftkit.report.fallbacks`);
    ``html`` waits for it.

    Attributes
    ----------
    chart_id : str
        The id of the chart's ``<div>``.
    html : str
        The fragment from :func:`embed`.
    """

    def __init__(self, chart_id: str, parts: Sequence[Part]) -> None:
        super().__init__(parts)
        self.chart_id = chart_id

    def __repr__(self) -> str:
        return f"ChartHTML({self.chart_id!r}, {len(self.html):,} characters)"


def chart(chart: AnyChart, chart_id: str) -> ChartHTML:
    """Wrap :func:`embed` for ``display(report.chart(c, "drift-over-time"))`` in a notebook.

    Parameters
    ----------
    chart : altair chart
        A chart from :mod:`driftkit.report.charts` (or any Altair top-level chart).
    chart_id : str
        Stable id, unique within the report: lower-case letters, digits, ``-`` and ``_``.

    Returns
    -------
    ChartHTML
        Displays as ``text/html``; works under papermill and in static HTML.
    """
    return ChartHTML(chart_id, embed_parts(chart, chart_id))


def embed(chart: AnyChart, chart_id: str) -> str:
    """Render ``chart`` as an HTML fragment: static SVG fallback plus a vegaEmbed call.

    Parameters
    ----------
    chart : altair chart
        The chart; its data must be inline (at most 5,000 rows, no side files).
    chart_id : str
        Stable id of the ``<div>``: lower-case letters, digits, ``-`` and ``_``.

    Returns
    -------
    str
        ``<div id=chart_id class="dk-chart">`` holding ``<div class="dk-fallback">`` with the
        SVG, then a ``<script>`` that renders the live chart with ``window.vegaEmbed`` (loaded
        once per report by :func:`export_html`) and removes the fallback when it succeeds.
    """
    return "".join(p if isinstance(p, str) else p.result() for p in embed_parts(chart, chart_id))


def embed_parts(chart: AnyChart, chart_id: str) -> list[Part]:
    """:func:`embed`'s fragment in three parts, the SVG still rendering in the middle one.

    Returns
    -------
    list of str or Future[str]
        The text before the SVG, the SVG from :func:`driftkit.report.fallbacks.render_svg`,
        the text after it.
    """
    if not _CHART_ID.match(chart_id):
        raise ReportError(
            f"report.embed: chart id {chart_id!r} is not allowed; use lower-case letters, "
            "digits, '-' and '_', starting with a letter (e.g. 'drift-over-time')."
        )
    spec, changed = clean_spec(chart_spec(chart))
    svg = render_svg(spec, functools.partial(_scope_ids, chart_id=chart_id))
    label = html.escape(_title_text(spec) or chart_id)
    script = _EMBED_SCRIPT.format(id_js=script_json(chart_id), spec=script_json(spec))
    note = changed_note(changed)
    opening = f'<div id="{chart_id}" class="dk-chart"><div class="dk-fallback" role="img" '
    return [f'{opening}aria-label="{label}">', svg, f"</div></div>{note}\n{script}"]


def chart_spec(chart: AnyChart) -> dict[str, Any]:
    """The chart's Vega-Lite spec with inline data and the driftkit theme, without ``$schema``.

    Parameters
    ----------
    chart : altair chart
        The chart to serialize.

    Returns
    -------
    dict
        The spec (``vegaEmbed`` is told ``mode: "vega-lite"``, so no schema URL is needed).
        Not validated against the Vega-Lite schema here (about 0.3 s a drill-down chart):
        ``tests/test_charts.py`` validates what every builder returns with ``to_dict()``.
    """
    try:
        with alt.data_transformers.enable("default"), alt.theme.enable(THEME):
            spec = chart.to_dict(validate=False)  # builders are validated in the tests
    except alt.MaxRowsError as err:
        raise ReportError(
            f"report.embed: the chart's data has more than {MAX_ROWS:,} rows; "
            "aggregate before charting (charts take pre-aggregated frames)."
        ) from err
    spec.pop("$schema", None)
    return spec


def script_json(value: Any) -> str:
    """JSON safe to place inside ``<script>``: ``<``, ``>``, ``&``, U+2028/9 escaped.

    Parameters
    ----------
    value : any JSON-serializable value
        What to serialize.

    Returns
    -------
    str
        A JavaScript literal that cannot close the script element or open an HTML comment.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_ESCAPES[m.group()], text)


def _title_text(spec: Mapping[str, Any]) -> str:
    title = spec.get("title")
    text = title.get("text") if isinstance(title, Mapping) else title
    return text if isinstance(text, str) else ""


def _scope_ids(svg: str, chart_id: str) -> str:
    """Rename the SVG's ids (vl-convert numbers them per process) to ``<chart_id>-<n>``.

    Keeps the fallback byte-for-byte reproducible and its ids unique within a report.
    """
    ids = dict.fromkeys(re.findall(r'\bid="([^"]+)"', svg))
    renamed = {old: f"{chart_id}-{n}" for n, old in enumerate(ids, start=1)}
    if not renamed:
        return svg
    pattern = re.compile(r'(\bid="|#)(' + "|".join(map(re.escape, renamed)) + r')(?=[")])')
    return pattern.sub(lambda m: m.group(1) + renamed[m.group(2)], svg)
