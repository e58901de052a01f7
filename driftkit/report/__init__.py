"""Report: an audit → charts, the story's prose, the offline HTML report and the index.

In: an :class:`~driftkit.scale.combine.Audit`.  Out: Altair charts (``charts``), HTML
fragments the audit notebook displays (``story``), the self-contained report
(``html.export_html``) and ``REPORTS_DIR/index.html`` (``index``).  DESIGN §9–§10.
"""

from driftkit.report.html import chart, export_html, write_index

__all__ = ["chart", "export_html", "write_index"]
