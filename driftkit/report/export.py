"""The executed audit notebook as one self-contained, offline HTML report (DESIGN §10).

:func:`export_html` renders the notebook with the ``driftkit_report`` nbconvert template
(``templates/``): code hidden, a table of contents from the markdown headings, the Vega bundle
inlined once.  The result is checked to load nothing from the web
(:func:`driftkit.report.checks._check_self_contained`) and written atomically.  Public through
:mod:`driftkit.report.html`.
"""

from __future__ import annotations

import driftkit.report.startup  # noqa: F401  # first: skips jsonschema's iri grammar

# isort: split
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from driftkit.report.checks import _check_self_contained, _write_atomic
from driftkit.report.embed import vega_bundle

TEMPLATES = Path(__file__).parent / "templates"


TEMPLATE = "driftkit_report"


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
