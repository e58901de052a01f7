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

from __future__ import annotations

__all__ = ["chart", "defer_fallbacks", "export_html", "finish_fallbacks", "write_index"]


def __getattr__(name: str) -> object:
    """``report.chart`` and ``report.export_html`` are imported lazily: they pull in Altair and
    vl-convert (seconds), which ``write_index`` and an audit without HTML never need."""
    if name == "chart":  # the notebook's kernel: no nbconvert (about 1 s to import)
        from driftkit.report.embed import chart

        return chart
    if name in ("defer_fallbacks", "finish_fallbacks"):  # the audit notebook's first and last
        from driftkit.report import fallbacks

        return getattr(fallbacks, name)
    if name == "export_html":
        from driftkit.report.export import export_html

        return export_html
    if name == "write_index":
        from driftkit.report.index import write_index

        return write_index
    raise AttributeError(f"module 'driftkit.report' has no attribute {name!r}")
