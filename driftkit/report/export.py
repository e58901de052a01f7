"""The executed audit notebook as one self-contained, offline HTML report (DESIGN §10).

:func:`export_html` renders the notebook with the ``driftkit_report`` nbconvert template
(``templates/``): code hidden, a table of contents from the markdown headings, the Vega bundle
inlined once.  The charts' static SVGs skip nbconvert: each is lifted out of the notebook before
the conversion and put back verbatim afterwards (:func:`_lift_svgs`), because nbconvert parses
and re-serializes its whole output with BeautifulSoup, which took about 1 s of a 1.5 s export
for the samples' ten charts (bench/README.md, "HTML audit").  The result is checked to load
nothing from the web (:func:`driftkit.report.checks._check_self_contained`; an SVG is parsed
only when its text holds a URL attribute, a ``<style>``, ``url(`` or ``@import`` in a ``style``
attribute, or ``dk-chart``) and written
atomically.  One exporter serves every export of a process,
and :func:`warm_up_export` pays its first export's costs ahead of time.  Public through
:mod:`driftkit.report.html`.
"""

from __future__ import annotations

import driftkit.report.startup  # noqa: F401  # first: skips jsonschema's iri grammar

# isort: split
import copy
import functools
import re
import secrets
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from driftkit.errors import ReportError
from driftkit.report.bundle import vega_bundle
from driftkit.report.checks import _check_self_contained, _write_atomic

TEMPLATES = Path(__file__).parent / "templates"


TEMPLATE = "driftkit_report"

_EXPORTING = threading.Lock()


#: The URL attributes of :func:`driftkit.report.checks.external_urls` (and ``content``, of a
#: refresh ``<meta>``) followed by ``=``, spelled backwards for :func:`_may_load`.
_URL_ATTRIBUTE_REVERSED = re.compile(
    r"=\s*(?:"
    + "|".join(name[::-1] for name in (
        "src", "href", "srcset", "action", "formaction", "poster", "data", "background", "cite",
        "longdesc", "manifest", "ping", "icon", "codebase", "archive", "content"))
    + r")\b",
    re.IGNORECASE,
)  # fmt: skip

#: A ``<style>``, ``url(`` or ``@import`` in a ``style`` attribute, or a chart id's class.
_STYLE_OR_CHART = re.compile(
    r"<style|dk-chart|\bstyle\s*=\s*(?:\"[^\"]*|'[^']*|[^\s>\"']*)(?:url\(|@import)",
    re.IGNORECASE,
)

_FALLBACK_SVG = re.compile(r'(<div class="dk-fallback"[^>]*>)(<svg\b.*?</svg>)(?=</div>)', re.S)


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
    meta = {"title": title, "client": client, "window": window, "generated_at": generated_at}
    resources = {"driftkit": {**meta, "toc": _toc(nb), "bundle": vega_bundle()}}
    lifted, svgs = _lift_svgs(nb)
    body = _convert(lifted, resources)
    # the SVGs are vl-convert's: only one that could name a URL or a chart id is parsed
    _check_self_contained(body + "".join(filter(_may_load, svgs.values())), out_html)
    return _write_atomic(Path(out_html), _put_back(body, svgs))


def warm_up_export() -> None:
    """Export a notebook of one heading and one output, and throw the result away.

    The first export of a process compiles the template and nbconvert's CSS selectors (about
    0.5 s); the notebook runner calls this on a thread while the kernel audits.
    """
    shown = nbformat.v4.new_output("display_data", {"text/html": "<p>-</p>", "text/plain": "-"})
    cells = [nbformat.v4.new_markdown_cell("# Warm-up"), nbformat.v4.new_code_cell(outputs=[shown])]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})
    meta = dict.fromkeys(("title", "client", "window", "generated_at"), "")
    resources = {"driftkit": {**meta, "toc": _toc(nb), "bundle": vega_bundle()}}
    _check_self_contained(_convert(nb, resources), Path())


def _convert(nb: nbformat.NotebookNode, resources: dict[str, Any]) -> str:
    """``nb`` as HTML by this process's one exporter (one export at a time, as it registers
    filters per call): its template is compiled once per process, not once per report."""
    with _EXPORTING:
        return str(_exporter().from_notebook_node(nb, resources=resources)[0])


@functools.cache
def _exporter() -> HTMLExporter:
    """nbconvert's HTML exporter with the ``driftkit_report`` template, code hidden."""
    return HTMLExporter(
        template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)], exclude_input=True,
        exclude_input_prompt=True, exclude_output_prompt=True,
    )  # fmt: skip


def _lift_svgs(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    """A copy of ``nb`` with each chart's fallback SVG replaced by a comment naming it.

    Returns
    -------
    tuple
        The copy, and each comment mapped to its SVG.  The comments carry a random token, so
        no text from the notebook can be taken for one (client strings are escaped anyway).
    """
    lifted, token = copy.deepcopy(nb), secrets.token_hex(8)
    svgs: dict[str, str] = {}

    def lift(match: re.Match[str]) -> str:
        mark = f"<!--dk-svg-{token}-{len(svgs)}-->"
        svgs[mark] = match.group(2)
        return match.group(1) + mark

    for cell in lifted.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                text = data["text/html"]
                text = "".join(text) if isinstance(text, list) else text
                data["text/html"] = _FALLBACK_SVG.sub(lift, text)
    return lifted, svgs


def _may_load(svg: str) -> bool:
    """Whether ``svg`` could load a URL or hold a chart id: a URL attribute, a ``<style>``,
    ``url(`` or ``@import`` in a ``style`` attribute, or ``dk-chart``; only such an SVG is parsed
    by the offline check.

    The attribute names are searched in the reversed text, where the pattern starts with a
    literal ``=`` that the regex engine skips to; forwards it tried 16 names at every character
    (0.35 s of a 0.7 s export for acme's ten charts, 0.02 s reversed).  The style and chart-id
    pattern runs only on an SVG whose case-folded text holds ``style`` or ``dk-chart``.
    """
    if _URL_ATTRIBUTE_REVERSED.search(svg[::-1]):
        return True
    folded = svg.casefold()
    return ("style" in folded or "dk-chart" in folded) and bool(_STYLE_OR_CHART.search(svg))


def _put_back(body: str, svgs: dict[str, str]) -> str:
    """``body`` with every comment of :func:`_lift_svgs` replaced by its SVG (each exactly once)."""
    if not svgs:
        return body
    pattern = re.compile("|".join(map(re.escape, svgs)))
    found = pattern.findall(body)
    if sorted(found) != sorted(svgs):
        raise ReportError(
            f"report.export_html: {len(svgs)} chart SVGs were lifted out of the notebook but "
            f"{len(found)} places came back from nbconvert; the report template drops or "
            "repeats chart outputs."
        )
    return pattern.sub(lambda m: svgs[m.group()], body)


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
