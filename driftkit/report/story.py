"""The audit told as a story: the report's sentences and its charts' frames.

The audit notebook stays thin by calling these: each returns an escaped HTML fragment
(``TableHTML``-like object with ``_repr_html_``) or a tidy frame for a chart builder.
Every string that comes from client data passes through :func:`html.escape`.  The headline
cards, the section sentences of :func:`say` and the number format are in
:mod:`driftkit.report.sentences`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.drift.breakdown import DRILLDOWNS, rank_worst_keys
from driftkit.errors import ReportError
from driftkit.plan.digest import cause_sums, findings_digest
from driftkit.report import charts
from driftkit.report.clean import escape
from driftkit.report.embed import embed_parts  # not report.html: the kernel needs no nbconvert
from driftkit.report.fallbacks import Fragment, Part
from driftkit.report.plan_sentences import authority_sentence, fix_sentences
from driftkit.report.sentences import (
    _SENTENCES,
    CARDS,
    _card,
    _fmt,
    _money_sentence,
    _notes_list,
    _since,
    _uncompared_warning,
)
from driftkit.report.table import TableHTML, table
from driftkit.scale.combine import Audit
from driftkit.schema import LOCATION, SKU, SYSTEM, TITLE


@dataclass(frozen=True)
class HTML:
    """An HTML fragment a notebook cell displays as ``text/html``."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"HTML({len(self.html)} characters)"


def answer(audit: Audit) -> HTML:
    """The report's first screen: the recommended owner of the count and the three fixes
    first (docs/fix_plan.md), then headline cards with the change since the previous audit,
    the top causes and the money at risk, then ``summary.json``'s notes (when there are any)."""
    summary = audit.summary
    cards = "".join(_card(summary, *card) for card in CARDS)
    opening = what_to_fix(audit).html
    points = [_causes_sentence(audit), _money_sentence(audit)]
    items = "".join(f"<li>{p}</li>" for p in points if p)
    since = _since(summary)
    warning = _uncompared_warning(summary)
    notes = _notes_list(summary)
    return HTML(
        f'{warning}{opening}<div class="dk-cards">{cards}</div>{since}<ul class="dk-answer">{items}</ul>'
        f"{notes}"
    )


def what_to_fix(audit: Audit) -> HTML:
    """Who should own the count and the top three fixes, each with evidence and money."""
    fixes = "".join(f"<li>{p}</li>" for p in fix_sentences(audit))
    return HTML(
        f"<p class='dk-authority'>{authority_sentence(audit)}</p><ol class='dk-fixes'>{fixes}</ol>"
    )


#: The columns of ``authority.csv`` the report shows (the CSV keeps them all).
AUTHORITY_SHOWN = (
    "system", "coverage", "counts", "record_accuracy", "bias", "first_share", "wrong_share",
    "score", "value_at_risk_last_day", "recommended",
)  # fmt: skip
#: The columns of ``fix_plan.csv`` the report's table shows; each item's action and evidence
#: are written out in full for the top three above it, and for every item in the CSV.
FIX_PLAN_SHOWN = (
    "rank", "source", "target", "cause", "rule", "findings", "keys", "units", "value", "share",
)  # fmt: skip


def authority_table(audit: Audit) -> TableHTML:
    """Every system's evidence as the owner of the count (``authority.csv``), side by side."""
    frame = audit.tables["authority"]
    shown = [c for c in AUTHORITY_SHOWN if c in frame.columns]
    return table(frame, columns=shown, max_rows=len(frame))


def fix_plan_table(audit: Audit, max_rows: int = 10) -> TableHTML:
    """The write-gating plan (``fix_plan.csv``), costliest first, without the long texts."""
    frame = audit.tables["fix_plan"]
    shown = [c for c in FIX_PLAN_SHOWN if c in frame.columns]
    return table(frame, columns=shown, max_rows=max_rows, formats={"share": ".0%"})


def headline_table(audit: Audit) -> TableHTML:
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
    return table(pd.DataFrame(rows), max_rows=len(rows))


def cause_totals(audit: Audit) -> pd.DataFrame:
    """Findings per cause (the audit's, else ``plan.digest.cause_sums`` of its findings).

    Returns
    -------
    pandas.DataFrame
        ``cause, findings, units`` (Σ|units|), ``value`` (Σ value), largest value first.
    """
    if audit.causes is not None:
        return audit.causes
    return cause_sums(findings_digest(audit.attribution.findings))


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


def drilldowns(audit: Audit, n: int = DRILLDOWNS) -> Fragment:
    """Drill-down charts of the ``n`` worst keys, each with the findings that explain it.

    Their SVG fallbacks render together on background threads (:mod:`.fallbacks`).
    """
    parts: list[Part] = []
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
        parts.append(f"<h3>{rank}. {escape(title)}{product}</h3>")
        parts += embed_parts(chart, f"drilldown-{rank}")
        parts.append(
            f"<ul class='dk-evidence'>{evidence or '<li>no finding explains this key</li>'}</ul>"
        )
    return Fragment(parts or ["<p>No key drifted in this window.</p>"])


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


def findings_table(audit: Audit, max_rows: int = 15) -> TableHTML:
    """The findings with the most value first, with product titles, as an escaped table."""
    findings = audit.attribution.findings.sort_values("value", ascending=False, kind="stable")
    columns = [SKU, TITLE, LOCATION, SYSTEM, "counterpart", "cause", "units", "value", "evidence"]
    return table(with_titles(audit, findings), columns=columns, max_rows=max_rows)


def count_list_table(audit: Audit, max_rows: int = 20) -> TableHTML:
    """What to count next, with product titles, as an escaped table."""
    columns = ["rank", SKU, TITLE, LOCATION, SYSTEM, "expected_value", "reason", "cause"]
    titled = with_titles(audit, audit.impact.count_list)  # its first rows when stored
    stored = audit.stored.get("count_list")
    rows = None if stored is None else stored.rows
    return table(titled, columns=columns, max_rows=max_rows, rows=rows)


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
    counts = rejects.groupby(["source_file", "reason"], as_index=False).size()
    counts = counts.rename(columns={"size": "rows"})
    return counts.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


def files_table(audit: Audit) -> TableHTML:
    """Rows read, accepted and rejected per file."""
    files = audit.data.files
    columns = ["system", "table", "source_file", "rows_read", "rows_accepted", "rows_rejected"]
    return table(files, columns=columns, max_rows=60)


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
