"""Self-contained offline HTML reports: chart fragments, tables, the notebook export, the index.

Nothing here loads anything from the web (DESIGN §10).  A chart is an HTML fragment holding a
static SVG (shown when scripts are off) and a ``<script>`` that renders the interactive chart with
the Vega bundle, which :func:`export_html` inlines once per report.  Every string that comes
from client data is escaped.

This module is the public surface (``from driftkit.report import html as report``): chart
fragments are built in :mod:`driftkit.report.embed`, tables in :mod:`driftkit.report.table`,
the notebook export in :mod:`driftkit.report.export`, the offline check and atomic writes in
:mod:`driftkit.report.checks` and the ``REPORTS_DIR`` index page in :mod:`driftkit.report.index`.
"""

from __future__ import annotations

from driftkit.report.bundle import VL_VERSION, vega_bundle
from driftkit.report.checks import _chart_ids as _chart_ids
from driftkit.report.checks import external_urls
from driftkit.report.embed import ChartHTML, chart, chart_spec, embed, script_json
from driftkit.report.export import TEMPLATE, TEMPLATES, export_html
from driftkit.report.index import write_index
from driftkit.report.table import TableHTML, table

__all__ = [
    "TEMPLATE",
    "TEMPLATES",
    "VL_VERSION",
    "ChartHTML",
    "TableHTML",
    "chart",
    "chart_spec",
    "embed",
    "export_html",
    "external_urls",
    "script_json",
    "table",
    "vega_bundle",
    "write_index",
]
