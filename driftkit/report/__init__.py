"""Report: an audit → charts, the story's prose, the offline HTML report and the index.

In: an :class:`~driftkit.scale.combine.Audit`.  Out: Altair charts (``charts``), HTML
fragments the audit notebook displays (``story``), the self-contained report
(``html.export_html``) and ``REPORTS_DIR/index.html`` (``index``).  DESIGN §9–§10.

The notebook's namespaces are ``charts``, ``story`` and ``html`` (``report.chart``); their
parts: ``chartkit`` (theme, palettes, frame checks), ``drift_charts`` and ``cause_charts``
(views re-exported by ``charts``); ``sentences`` (cards, section sentences, number format,
used by ``story``); ``embed`` (chart fragments), ``table`` (escaped tables), ``export`` (the
notebook export), ``checks`` (offline check, atomic writes) and ``index`` (the index page),
all re-exported by ``html``.
"""

from driftkit.report.html import chart, export_html, write_index

__all__ = ["chart", "export_html", "write_index"]
