"""Self-contained offline HTML reports: chart fragments, tables, the notebook export, the index.

Nothing here loads anything from the web (DESIGN §10).  A chart is an HTML fragment holding a
static SVG (shown when scripts are off) and a ``<script>`` that renders the interactive chart with
the Vega bundle, which :func:`export_html` inlines once per report.  Every string that comes
from client data is escaped.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import altair as alt
import nbformat
import pandas as pd
import vl_convert as vlc
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from driftkit import charts
from driftkit.errors import ReportError

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "driftkit_report"
VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
_GLOBALS = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
_NUM = ' class="num"'
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


@dataclass(frozen=True, repr=False)
class ChartHTML:
    """One chart as an HTML fragment; a notebook displays it as ``text/html``.

    Attributes
    ----------
    chart_id : str
        The id of the chart's ``<div>``.
    html : str
        The fragment from :func:`embed`.
    """

    chart_id: str
    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"ChartHTML({self.chart_id!r}, {len(self.html):,} characters)"

    def __str__(self) -> str:
        return self.html


@dataclass(frozen=True, repr=False)
class TableHTML:
    """An escaped HTML table; a notebook displays it as ``text/html``.

    Attributes
    ----------
    html : str
        The ``<table>`` markup.
    """

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"TableHTML({len(self.html):,} characters)"

    def __str__(self) -> str:
        return self.html


def chart(chart: charts.AnyChart, chart_id: str) -> ChartHTML:
    """Wrap :func:`embed` for ``display(report.chart(c, "drift-over-time"))`` in a notebook.

    Parameters
    ----------
    chart : altair chart
        A chart from :mod:`driftkit.charts` (or any Altair top-level chart).
    chart_id : str
        Stable id, unique within the report: lower-case letters, digits, ``-`` and ``_``.

    Returns
    -------
    ChartHTML
        Displays as ``text/html``; works under papermill and in static HTML.
    """
    return ChartHTML(chart_id, embed(chart, chart_id))


def embed(chart: charts.AnyChart, chart_id: str) -> str:
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
    if not _CHART_ID.match(chart_id):
        raise ReportError(
            f"report.embed: chart id {chart_id!r} is not allowed; use lower-case letters, "
            "digits, '-' and '_', starting with a letter (e.g. 'drift-over-time')."
        )
    spec = chart_spec(chart)
    svg = _scope_ids(vlc.vegalite_to_svg(spec, vl_version=VL_VERSION), chart_id)
    label = html.escape(_title_text(spec) or chart_id)
    fallback = f'<div class="dk-fallback" role="img" aria-label="{label}">{svg}</div>'
    script = _EMBED_SCRIPT.format(id_js=script_json(chart_id), spec=script_json(spec))
    return f'<div id="{chart_id}" class="dk-chart">{fallback}</div>\n{script}'


def chart_spec(chart: charts.AnyChart) -> dict[str, Any]:
    """The chart's Vega-Lite spec with inline data and the driftkit theme, without ``$schema``.

    Parameters
    ----------
    chart : altair chart
        The chart to serialize.

    Returns
    -------
    dict
        The spec (``vegaEmbed`` is told ``mode: "vega-lite"``, so no schema URL is needed).
    """
    try:
        with alt.data_transformers.enable("default"), alt.theme.enable(charts.THEME):
            spec = chart.to_dict()
    except alt.MaxRowsError as err:
        raise ReportError(
            f"report.embed: the chart's data has more than {charts.MAX_ROWS:,} rows; "
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


@functools.cache
def vega_bundle() -> str:
    """The Vega, Vega-Lite and vega-embed JavaScript (from vl-convert), built once per process.

    Returns
    -------
    str
        Script text defining ``window.vegaEmbed``, ``window.vega`` and ``window.vegaLite``.
    """
    bundle = vlc.javascript_bundle(_GLOBALS, vl_version=VL_VERSION)
    if "</script" in bundle.lower():
        raise ReportError("report.vega_bundle: the vl-convert bundle contains '</script'.")
    return bundle


def table(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    max_rows: int = 50,
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
) -> TableHTML:
    """An HTML table of the first ``max_rows`` rows, every cell escaped.

    Parameters
    ----------
    frame : DataFrame
        The rows to show (not modified).
    columns : sequence of str, optional
        Which columns, in this order (default: all).
    max_rows : int
        At most this many rows are shown; a caption says how many were left out.
    formats : mapping, optional
        Column → format spec (``",.2f"``, ``".1%"``) or callable; others get a default by dtype.

    Returns
    -------
    TableHTML
        ``<table class="dk-table">`` with numeric cells right-aligned.
    """
    chosen = list(frame.columns if columns is None else columns)
    missing = [c for c in chosen if c not in frame.columns]
    if missing:
        raise ReportError(
            f"report.table: column(s) {missing} not in the frame; found {list(frame.columns)}."
        )
    shown = frame.loc[:, chosen].head(max_rows)
    numeric = {c for c in chosen if _is_numeric(shown[c])}
    head = "".join(f"<th{_NUM if c in numeric else ''}>{html.escape(str(c))}</th>" for c in chosen)
    cells = [_cells(shown[c], (formats or {}).get(c)) for c in chosen]
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in zip(*cells, strict=True))
    note = ""
    if len(frame) > len(shown):
        note = f"<caption>First {len(shown):,} of {len(frame):,} rows.</caption>"
    return TableHTML(f'<table class="dk-table">{note}<thead><tr>{head}</tr></thead>'
                     f"<tbody>{body}</tbody></table>")  # fmt: skip


def export_html(
    executed_notebook: Path | nbformat.NotebookNode,
    out_html: Path,
    *,
    title: str,
    client: str,
    window: str,
    generated_at: str,
) -> Path:
    """Convert an executed notebook into one self-contained, offline HTML file.

    Parameters
    ----------
    executed_notebook : Path or NotebookNode
        The executed audit notebook (its outputs are kept, code inputs hidden).
    out_html : Path
        Where to write; written atomically (temporary file, then rename).
    title, client, window, generated_at : str
        Header text (escaped).

    Returns
    -------
    Path
        ``out_html``.  Raises :class:`ReportError` when the result would load anything from an
        external URL or two charts share an id.
    """
    nb = executed_notebook
    if not isinstance(nb, nbformat.NotebookNode):
        nb = nbformat.read(Path(executed_notebook), as_version=4)
    exporter = HTMLExporter(
        template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)], exclude_input=True,
        exclude_input_prompt=True, exclude_output_prompt=True,
    )  # fmt: skip
    meta = {"title": title, "client": client, "window": window, "generated_at": generated_at}
    resources = {"driftkit": {**meta, "toc": _toc(nb), "bundle": vega_bundle()}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    _check_self_contained(body, Path(out_html))
    return _write_atomic(Path(out_html), body)


def external_urls(document: str) -> list[str]:
    """Every URL in ``document`` that a browser would fetch from (or navigate to) another host.

    Looks at URL attributes (``src``, ``href``, ``xlink:href``, ``srcset``, ``action``, ...),
    ``<meta http-equiv=refresh>``, and ``url(...)`` / ``@import`` in ``<style>`` and ``style=``.
    Allowed: in-document anchors, relative paths, ``data:``, ``mailto:``, ``javascript:``, and
    XML namespaces (``xmlns``), which are identifiers, not fetches.  Script text is not scanned.

    Parameters
    ----------
    document : str
        HTML text.

    Returns
    -------
    list of str
        The external URLs, in document order (empty when the file is self-contained).
    """
    parser = _UrlCollector()
    parser.feed(document)
    parser.close()
    return [url for url in parser.urls if _is_external(url)]


def write_index(reports_dir: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``reports_dir/index.html``: every client's latest run and its change since the last.

    Parameters
    ----------
    reports_dir : Path
        The reports folder; links are relative to it.
    rows : list of dict
        One per client: ``client``; ``run_date`` (``YYYY-MM-DD``); ``summary`` (the run's
        ``summary.json`` dict, whose ``previous`` holds the prior headline numbers or None);
        optional ``report`` (path of drift_audit.html, default ``<client>/<run_date>/
        drift_audit.html``); ``error`` (a message: the client failed).

    Returns
    -------
    Path
        The index file (written atomically).
    """
    reports_dir = Path(reports_dir)
    ordered = sorted(rows, key=lambda row: str(row.get("client", "")))
    body = "".join(_index_row(row, reports_dir) for row in ordered)
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _, _ in _HEADLINES)
    page = _INDEX_PAGE.format(css=_INDEX_CSS, head=head, body=body, clients=len(ordered),
                              failed=sum(bool(row.get("error")) for row in ordered))  # fmt: skip
    out = reports_dir / "index.html"
    _check_self_contained(page, out)
    return _write_atomic(out, page)


# --- index --------------------------------------------------------------------------------

# (summary key, column label, how to show it, which direction is better)
_HEADLINES = (
    ("agreement_rate", "Agreement", "rate", "up"),
    ("drifted_sku_locations", "Drifted SKU-locations", "count", "down"),
    ("value_at_risk_last_day", "Value at risk (last day)", "money", "down"),
    ("lost_revenue", "Lost revenue", "money", "down"),
    ("phantom_stockout_sku_days", "Phantom stockout SKU-days", "count", "down"),
)
_INDEX_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;
color:#1a1a1a;margin:0;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:28px 24px}
h1{font-size:24px;margin:0 0 4px}p.meta{color:#555;margin:0 0 20px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
th,td{padding:9px 12px;border-bottom:1px solid #e6e8eb;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600;font-size:13px}td.num{text-align:right;white-space:nowrap}
.delta{display:block;font-size:12px;color:#666}.good{color:#1a7f37}.bad{color:#b42318}
tr.failed td{background:#fff5f5}.error{color:#b42318;font-family:ui-monospace,Menlo,monospace;
font-size:12px;white-space:pre-wrap}a{color:#0b5cad}
@media print{body{background:#fff}table{box-shadow:none}a{color:#000;text-decoration:none}}
"""
_INDEX_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>driftkit — latest audits</title><style>{css}</style></head>
<body><main><h1>Inventory drift audits</h1>
<p class="meta">{clients} client(s), latest run each; {failed} failed. Arrows: change since
the previous run.</p>
<table><thead><tr><th>Client</th><th>Run</th>{head}</tr></thead>
<tbody>{body}</tbody></table></main></body></html>
"""


def _index_row(row: Mapping[str, Any], reports_dir: Path) -> str:
    """One ``<tr>`` of the index: a run's headline numbers, or the client's error."""
    client, run_date = str(row.get("client", "")), str(row.get("run_date") or "")
    name = html.escape(client)
    if row.get("error"):
        error = html.escape(str(row["error"]))
        return (f'<tr class="failed"><td>{name}</td><td>{html.escape(run_date)}</td>'
                f'<td colspan="{len(_HEADLINES)}"><span class="error">failed: {error}'
                "</span></td></tr>")  # fmt: skip
    href = _report_href(row, reports_dir)
    run = f'<a href="{html.escape(href, quote=True)}">{html.escape(run_date)}</a>'
    summary = row.get("summary") or {}
    previous = summary.get("previous") or {}
    cells = "".join(_headline_cell(summary.get(key), previous.get(key), kind, better)
                    for key, _, kind, better in _HEADLINES)  # fmt: skip
    return f"<tr><td>{name}</td><td>{run}</td>{cells}</tr>"


def _report_href(row: Mapping[str, Any], reports_dir: Path) -> str:
    """Relative link from the index to the run's drift_audit.html."""
    report = row.get("report") or f"{row.get('client')}/{row.get('run_date')}/drift_audit.html"
    path = Path(str(report))
    if path.is_absolute():
        path = Path(os.path.relpath(path, reports_dir))
    return quote(path.as_posix(), safe="/")


def _headline_cell(value: Any, previous: Any, kind: str, better: str) -> str:
    """A number and, when the previous run has it, an arrow with the change."""
    if not _is_number(value):
        return '<td class="num">–</td>'
    delta = ""
    if _is_number(previous):
        change = float(value) - float(previous)
        arrow = "▲" if change > 0 else "▼" if change < 0 else "="
        tone = (
            "delta"
            if change == 0
            else "delta good"
            if (change > 0) == (better == "up")
            else "delta bad"
        )
        shown = f"{change * 100:+,.1f} pp" if kind == "rate" else _number(change, kind, sign=True)
        delta = f'<span class="{tone}">{arrow} {html.escape(shown)}</span>'
    return f'<td class="num">{html.escape(_number(float(value), kind))}{delta}</td>'


def _number(value: float, kind: str, *, sign: bool = False) -> str:
    plus = "+" if sign else ""
    if kind == "rate":
        return f"{value:{plus}.1%}"
    return f"{value:{plus},.0f}" if kind == "count" else f"{value:{plus},.2f}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


# --- helpers ------------------------------------------------------------------------------


def _cells(values: pd.Series, fmt: str | Callable[[Any], str] | None) -> list[str]:
    """Formatted, escaped ``<td>`` cells of one column (a handful of rows: display only)."""
    numeric = _is_numeric(values)
    if fmt is None:
        fmt = _default_format(values)
    render = fmt if callable(fmt) else functools.partial(_format, spec=fmt)
    text = values.map(lambda v: "" if _is_missing(v) else render(v))
    attr = _NUM if numeric else ""
    return [f"<td{attr}>{html.escape(str(t))}</td>" for t in text]


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _default_format(values: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(values):
        return ","
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna().mod(1).eq(0).all()
        return ",.0f" if whole else ",.2f"
    if pd.api.types.is_datetime64_any_dtype(values):
        return (
            "%Y-%m-%d"
            if values.dropna().dt.normalize().eq(values.dropna()).all()
            else "%Y-%m-%d %H:%M"
        )
    return ""


def _format(value: Any, *, spec: str) -> str:
    return format(value, spec) if spec else str(value)


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _title_text(spec: Mapping[str, Any]) -> str:
    title = spec.get("title")
    text = title.get("text") if isinstance(title, Mapping) else title
    return text if isinstance(text, str) else ""


class _HeadingCollector(HTMLParser):
    """Collects ``(level, id, text)`` of h1–h3 from rendered markdown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None
        self._in_anchor = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in {"h1", "h2", "h3"} and found.get("id"):
            self._open = {"level": int(tag[1]), "id": found["id"], "text": ""}
        self._in_anchor = self._in_anchor or (
            tag == "a" and "anchor-link" in (found.get("class") or "")
        )

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_anchor = False
        if self._open is not None and tag == f"h{self._open['level']}":
            self._open["text"] = self._open["text"].strip()
            self.headings.append(self._open)
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None and not self._in_anchor:
            self._open["text"] += data


def _toc(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """Headings of the markdown cells with the anchor ids nbconvert gives them."""
    collector = _HeadingCollector()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            collector.feed(markdown2html_mistune(cell.source))
    headings = collector.headings
    if any(h["level"] == 2 for h in headings):  # the h1 is the notebook's title: not a section
        headings = [h for h in headings if h["level"] > 1]
    return headings


_URL_ATTRIBUTES = frozenset({
    "src", "href", "xlink:href", "srcset", "action", "formaction", "poster", "data",
    "background", "cite", "longdesc", "manifest", "ping", "icon", "codebase", "archive",
})  # fmt: skip
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)


class _UrlCollector(HTMLParser):
    """Collects candidate URLs from attributes and CSS of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name in _URL_ATTRIBUTES:
                self.urls += _attribute_urls(name, value)
            elif name == "style":
                self.urls += _css_urls(value)
            elif tag == "meta" and name == "content" and "url=" in value.lower():
                self.urls.append(value.lower().split("url=", 1)[1].strip(" '\""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.urls += _css_urls(data)


def _attribute_urls(name: str, value: str) -> list[str]:
    if name in {"srcset", "ping", "archive"}:
        return [
            part.strip().split(" ")[0]
            for part in re.split(r"[,\s]\s*(?=\S)", value)
            if part.strip()
        ]
    return [value.strip()]


def _css_urls(css: str) -> list[str]:
    return [a or b for a, b in _CSS_URL.findall(css)]


def _is_external(url: str) -> bool:
    """True for URLs naming another host or a fetchable scheme (``//x``, ``https:``, ``file:``)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in {"data", "mailto", "javascript", "about", "blob"}:
        return False
    return bool(parts.netloc) or scheme in {"http", "https", "ftp", "ws", "wss", "file"}


def _check_self_contained(document: str, out_html: Path) -> None:
    external = external_urls(document)
    if external:
        raise ReportError(
            f"{out_html}: the report would load {len(external)} external URL(s), e.g. "
            f"{external[:3]}; a report must work offline. Remove links/images to the web from "
            "the notebook's markdown and outputs (embed images as data: URIs)."
        )
    ids = _chart_ids(document)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ReportError(
            f"{out_html}: chart id(s) {twice} are used more than once; give every "
            "report.chart(...) call in the notebook its own id."
        )


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


def _chart_ids(document: str) -> list[str]:
    """The ids of every ``dk-chart`` element, in document order (duplicates kept)."""
    parser = _ChartIdCollector()
    parser.feed(document)
    return parser.ids


class _ChartIdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "dk-chart" in (found.get("class") or "").split() and found.get("id"):
            self.ids.append(str(found["id"]))


def _write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
