"""The ``REPORTS_DIR/index.html`` page: every client's latest run and its change since the last."""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from driftkit.report.checks import _check_self_contained, _write_atomic
from driftkit.report.clean import escape


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
        error = escape(str(row["error"]))
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
