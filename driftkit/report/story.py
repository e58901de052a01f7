"""The audit told as a story: the report's sentences and its charts' frames.

The audit notebook stays thin by calling these: each returns an escaped HTML fragment
(``report.TableHTML``-like object with ``_repr_html_``) or a tidy frame for a chart builder.
Every string that comes from client data passes through :func:`html.escape`.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from driftkit.audit import Audit
from driftkit.drift.compare import DRILLDOWNS, rank_worst_keys
from driftkit.errors import ReportError
from driftkit.impact.estimate import handoff_fixes
from driftkit.report import charts
from driftkit.report import html as report
from driftkit.schema import LOCATION, SKU, SYSTEM, TITLE

CARDS = (
    # summary key, label, kind of number, which direction is better
    ("agreement_rate", "Agreement rate", "share", "up"),
    ("drifted_sku_locations", "SKU-locations drifting", "count", "down"),
    ("value_at_risk_last_day", "Value at risk (last day)", "money", "down"),
    ("lost_revenue", "Lost revenue (phantom stockouts)", "money", "down"),
    ("phantom_stockout_sku_days", "Phantom stockout SKU-days", "count", "down"),
    ("oversell_units", "Oversold units", "count", "down"),
    ("explained_share", "Drift explained by a cause", "share", "up"),
)


@dataclass(frozen=True)
class HTML:
    """An HTML fragment a notebook cell displays as ``text/html``."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"HTML({len(self.html)} characters)"


def answer(audit: Audit) -> HTML:
    """The report's first screen: headline cards with the change since the previous audit,
    the top causes, the money at risk and the three handoffs to fix first."""
    summary = audit.summary
    cards = "".join(_card(summary, *card) for card in CARDS)
    points = [_causes_sentence(audit), _money_sentence(audit), *_fix_first(audit)]
    items = "".join(f"<li>{p}</li>" for p in points if p)
    since = _since(summary)
    return HTML(f'<div class="dk-cards">{cards}</div>{since}<ul class="dk-answer">{items}</ul>')


def headline_table(audit: Audit) -> report.TableHTML:
    """Every headline number with its previous value."""
    summary, previous = audit.summary, audit.summary.get("previous") or {}
    rows = [
        {
            "number": label,
            "now": _fmt(summary.get(key), kind),
            "previous": _fmt(previous.get(key), kind),
        }
        for key, label, kind, _ in CARDS
    ]
    return report.table(pd.DataFrame(rows), max_rows=len(rows))


def cause_totals(audit: Audit) -> pd.DataFrame:
    """Findings per cause.

    Returns
    -------
    pandas.DataFrame
        ``cause, findings, units`` (Σ|units|), ``value`` (Σ value), largest value first.
    """
    findings = audit.attribution.findings
    sized = findings.assign(units=findings["units"].abs(), value=findings["value"].fillna(0.0))
    table = sized.groupby("cause", as_index=False).agg(
        findings=("sku", "size"), units=("units", "sum"), value=("value", "sum")
    )
    return table.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)


def worst_keys(audit: Audit, n: int = DRILLDOWNS) -> pd.DataFrame:
    """The ``n`` keys with the most drift value over the window (ties: units).

    Returns
    -------
    pandas.DataFrame
        ``sku, location, abs_drift_units, drift_value_last_day``.
    """
    return rank_worst_keys(audit.comparison.key_drift, n)


def drilldown_frames(
    audit: Audit, sku: str, location: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One key's per-system series, events (local time) and episodes for ``charts.sku_drilldown``.

    Returns
    -------
    tuple of pandas.DataFrame
        series ``day, system, value``; events ``time, system, kind, qty, reference``;
        episodes ``start, end, system, counterpart``.
    """
    grid = audit.grid
    code = np.flatnonzero(
        (grid.keys[SKU] == sku).to_numpy() & (grid.keys[LOCATION] == location).to_numpy()
    )
    if not len(code):
        raise ReportError(
            f"{sku} @ {location}: no such key on this audit's grid; a partitioned audit's "
            "report holds only its drill-down keys: pass drilldowns=N to audit_for_report"
        )
    series = grid.frame(code).rename(columns={"value": "value"})[["day", SYSTEM, "value"]]
    events = audit.data.events
    mine = events[(events[SKU] == sku) & (events[LOCATION] == location)]
    local = mine["occurred_at"].dt.tz_convert(audit.config.timezone).dt.tz_localize(None)
    qty = mine["qty_delta"].fillna(mine["set_qty"])
    marks = pd.DataFrame(
        {
            "time": local,
            SYSTEM: mine[SYSTEM],
            "kind": mine["kind"],
            "qty": qty,
            "reference": mine["raw_reference"].fillna(""),
        }
    ).tail(charts.MAX_ROWS // 2)
    episodes = audit.comparison.episodes
    spans = episodes[(episodes[SKU] == sku) & (episodes[LOCATION] == location)]
    return series, marks, spans[["start", "end", SYSTEM, "counterpart"]]


def drilldowns(audit: Audit, n: int = DRILLDOWNS) -> HTML:
    """Drill-down charts of the ``n`` worst keys, each with the findings that explain it."""
    parts = []
    for rank, (sku, location) in enumerate(
        worst_keys(audit, n)[[SKU, LOCATION]].itertuples(index=False), 1
    ):
        series, marks, spans = drilldown_frames(audit, sku, location)
        title = f"{sku} @ {location}"
        product = _product_title(audit, sku)
        chart = charts.sku_drilldown(
            series, marks, spans, title=title, systems=list(audit.grid.systems)
        )
        found = audit.attribution.findings
        why = found[(found[SKU] == sku) & (found[LOCATION] == location)]
        evidence = "".join(f"<li>{escape(str(e))}</li>" for e in why["evidence"].head(4))
        parts.append(
            f"<h3>{rank}. {escape(title)}{product}</h3>{report.embed(chart, f'drilldown-{rank}')}"
            f"<ul class='dk-evidence'>{evidence or '<li>no finding explains this key</li>'}</ul>"
        )
    return HTML("".join(parts) or "<p>No key drifted in this window.</p>")


def with_titles(audit: Audit, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the catalog's product ``title`` inserted after its ``sku`` column.

    Returns
    -------
    pandas.DataFrame
        The columns of ``frame`` plus ``title`` (empty when the catalog has none), rows in
        the same order.  Titles come from storefronts: :func:`report.table` escapes them.
    """
    catalog = audit.data.catalog[[SKU, TITLE]].drop_duplicates(SKU)
    titled = frame.merge(catalog, on=SKU, how="left", validate="many_to_one")
    titled[TITLE] = titled[TITLE].fillna("")
    columns = list(frame.columns)
    columns.insert(columns.index(SKU) + 1, TITLE)
    return titled[columns].set_axis(frame.index)


def findings_table(audit: Audit, max_rows: int = 15) -> report.TableHTML:
    """The findings with the most value first, with product titles, as an escaped table."""
    findings = audit.attribution.findings.sort_values("value", ascending=False, kind="stable")
    columns = [SKU, TITLE, LOCATION, SYSTEM, "counterpart", "cause", "units", "value", "evidence"]
    return report.table(with_titles(audit, findings), columns=columns, max_rows=max_rows)


def count_list_table(audit: Audit, max_rows: int = 20) -> report.TableHTML:
    """What to count next, with product titles, as an escaped table."""
    columns = ["rank", SKU, TITLE, LOCATION, SYSTEM, "expected_value", "reason", "cause"]
    titled = with_titles(audit, audit.impact.count_list)
    return report.table(titled, columns=columns, max_rows=max_rows)


def _product_title(audit: Audit, sku: str) -> str:
    """`` — <title>`` (escaped) from the catalog, or nothing when the SKU has no title."""
    catalog = audit.data.catalog
    titles = catalog.loc[catalog[SKU] == sku, TITLE].dropna()
    return f" — {escape(str(titles.iloc[0]))}" if len(titles) and titles.iloc[0] else ""


def rejects_summary(audit: Audit) -> pd.DataFrame:
    """Rejected rows per file and reason.

    Returns
    -------
    pandas.DataFrame
        ``source_file, reason, rows``, most rows first.
    """
    rejects = audit.data.rejects
    table = rejects.groupby(["source_file", "reason"], as_index=False).size()
    table = table.rename(columns={"size": "rows"})
    return table.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


def files_table(audit: Audit) -> report.TableHTML:
    """Rows read, accepted and rejected per file."""
    files = audit.data.files
    columns = ["system", "table", "source_file", "rows_read", "rows_accepted", "rows_rejected"]
    return report.table(files, columns=columns, max_rows=60)


def callouts(audit: Audit) -> HTML:
    """The handoff map's call-outs (missing events clustering on one reference format)."""
    items = "".join(f"<li>{escape(c)}</li>" for c in audit.attribution.callouts)
    return HTML(
        f"<ul class='dk-callouts'>{items}</ul>" if items else "<p>No format cluster found.</p>"
    )


def say(audit: Audit, section: str) -> HTML:
    """One or two sentences opening a report section (escaped)."""
    text = _SENTENCES[section](audit)
    return HTML(f"<p class='dk-say'>{text}</p>")


# --- sentences -------------------------------------------------------------------------------


def _drift_sentence(audit: Audit) -> str:
    s = audit.summary
    rate = _fmt(s.get("agreement_rate"), "share")
    return (
        f"Over {escape(str(s.get('window_start')))} to {escape(str(s.get('window_end')))}, "
        f"{_fmt(s.get('compared_cells'), 'count')} SKU-location-days were compared across "
        f"{len(s.get('systems', []))} systems; {rate} agreed within the tolerance. "
        f"{_fmt(s.get('drifted_sku_locations'), 'count')} of {_fmt(s.get('sku_locations'), 'count')} "
        "SKU-locations drifted at least once. Each line is one system against the authority "
        f"({escape(str(s.get('authority')))}) or another system; click the legend to focus a pair."
    )


def _handoff_sentence(audit: Audit) -> str:
    handoffs = audit.attribution.handoffs
    if handoffs.empty:
        return (
            "No business event was recorded by more than one system, so no handoff could be mapped."
        )
    worst = handoffs.sort_values("missing", ascending=False).iloc[0]
    return (
        f"{len(handoffs)} handoffs (source → target, event kind) were inferred from events matched "
        f"across systems. The leakiest: {escape(str(worst['source']))} → "
        f"{escape(str(worst['target']))} {escape(str(worst['kind']))}s, "
        f"{int(worst['missing'])} of {int(worst['events'])} never arrived."
    )


def _causes_detail(audit: Audit) -> str:
    share = _fmt(audit.summary.get("explained_share"), "share")
    return (
        f"{share} of the drift units are explained by a handoff failure; the rest is "
        "honestly labelled <em>unrecorded_change</em> (a change with no event anywhere)."
    )


def _impact_sentence(audit: Audit) -> str:
    s, cur = audit.summary, audit.config.currency
    return (
        f"Phantom stockouts cost an estimated {_fmt(s.get('lost_revenue'), 'money', cur)} in lost "
        f"revenue ({_fmt(s.get('lost_sales_units'), 'count')} units over "
        f"{_fmt(s.get('phantom_stockout_sku_days'), 'count')} SKU-days); record error ties up "
        f"{_fmt(s.get('extra_safety_stock_capital'), 'money', cur)} of extra safety stock. "
        "The projection extends the observed trend with its interval."
    )


def _count_sentence(audit: Audit) -> str:
    top = audit.impact.count_list.head(1)
    if top.empty:
        return "No key needs counting: no drift carries an expected cost."
    row = top.iloc[0]
    return (
        f"Count these first: ranked by expected money impact. At the top, "
        f"{escape(str(row[SKU]))} @ {escape(str(row[LOCATION]))} — {escape(str(row['reason']))}."
    )


def _quality_sentence(audit: Audit) -> str:
    s = audit.summary
    return (
        f"{_fmt(s.get('rows_read'), 'count')} rows read, {_fmt(s.get('rows_rejected'), 'count')} "
        "rejected; every rejected row is in rejects.csv with its file, line, column, value and reason."
    )


_SENTENCES = {
    "drift": _drift_sentence,
    "handoffs": _handoff_sentence,
    "causes": _causes_detail,
    "impact": _impact_sentence,
    "count_list": _count_sentence,
    "quality": _quality_sentence,
}


def _causes_sentence(audit: Audit) -> str:
    totals = cause_totals(audit)
    if totals.empty:
        return "No drift needed explaining."
    top = totals.head(3)
    parts = [
        f"<b>{escape(str(c))}</b> ({int(f):,} findings, {u:,.0f} units)"
        for c, f, u in zip(top["cause"], top["findings"], top["units"], strict=True)
    ]
    return "Top causes: " + ", ".join(parts) + "."


def _money_sentence(audit: Audit) -> str:
    s, cur = audit.summary, audit.config.currency
    return (
        f"Money at risk: {_fmt(s.get('value_at_risk_last_day'), 'money', cur)} of stock is "
        f"misstated on the last day; phantom stockouts cost {_fmt(s.get('lost_revenue'), 'money', cur)} "
        f"in lost revenue and {_fmt(s.get('oversell_units'), 'count')} units were oversold."
    )


def _fix_first(audit: Audit) -> list[str]:
    fixes = handoff_fixes(audit.attribution.findings).head(3)
    cur = audit.config.currency
    return [
        f"Fix #{i}: <b>{escape(str(r['cause']))}</b> in {escape(str(r['system']))} "
        f"(vs {escape(str(r['counterpart']))}) — {int(r['findings']):,} findings, "
        f"{r['units']:,.0f} units, {_fmt(r['value'], 'money', cur)}."
        for i, r in enumerate(fixes.to_dict("records"), 1)
    ]


def _since(summary: dict[str, Any]) -> str:
    previous = summary.get("previous")
    if not previous:
        return (
            "<p class='dk-since'>First audit of this client: no previous run to compare with.</p>"
        )
    return f"<p class='dk-since'>Change since the previous audit ({escape(str(previous.get('run_at')))}).</p>"


def _card(summary: dict[str, Any], key: str, label: str, kind: str, better: str) -> str:
    value, previous = summary.get(key), (summary.get("previous") or {}).get(key)
    delta = ""
    if isinstance(value, int | float) and isinstance(previous, int | float) and value != previous:
        good = (value > previous) == (better == "up")
        arrow = "▲" if value > previous else "▼"
        change = _fmt(abs(value - previous), kind, summary.get("currency", ""))
        delta = f"<span class='dk-delta {'good' if good else 'bad'}'>{arrow} {change}</span>"
    number = _fmt(value, kind, summary.get("currency", ""))
    return f"<div class='dk-card'><div class='dk-num'>{number}</div><div>{escape(label)}</div>{delta}</div>"


def _fmt(value: Any, kind: str, currency: str = "") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if kind == "share":
        return f"{float(value):.1%}"
    if kind == "money":
        return escape(f"{currency} {float(value):,.0f}".strip())
    return f"{float(value):,.0f}"
