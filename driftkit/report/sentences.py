"""The story's words: headline cards, section sentences and number formatting.

Every sentence takes the audit and returns escaped HTML text; :func:`_fmt` writes every number
(shares, money with the client's currency, counts).  :mod:`driftkit.report.story` wraps them
for the notebook (``story.answer``, ``story.say``); only the top-causes sentence, which needs
``story.cause_totals``, lives there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from driftkit.report.clean import MAX_PROSE, escape
from driftkit.scale.combine import Audit
from driftkit.schema import LOCATION, SKU

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


def _uncompared_warning(summary: dict[str, Any]) -> str:
    """The report's first words when nothing, or not every system, was compared (escaped)."""
    systems: dict[str, str] = summary.get("uncompared_systems") or {}
    if not systems and summary.get("compared_cells") != 0:
        return ""
    nothing = summary.get("compared_cells") == 0
    title = "Nothing was compared" if nothing else "Not every system was compared"
    items = "".join(
        f"<li><b>{escape(str(s))}</b> was never compared with another system: "
        f"{escape(str(why), limit=MAX_PROSE)}.</li>"
        for s, why in systems.items()
    )
    return f'<div class="dk-warning"><p><b>{title}.</b></p><ul>{items}</ul></div>'


def _notes_list(summary: dict[str, Any]) -> str:
    """``summary.json``'s notes as a short escaped "Notes" list ("" when there are none);
    the notes the uncompared warning already says are left out."""
    said = {"nothing was compared: no SKU-location-day had two systems present"}
    said |= {
        f"{s} was never compared with another system: {why}"
        for s, why in (summary.get("uncompared_systems") or {}).items()
    }
    notes = [str(n) for n in summary.get("notes") or [] if str(n) not in said]
    if not notes:
        return ""
    items = "".join(f"<li>{escape(n, limit=MAX_PROSE)}</li>" for n in notes)
    return f'<div class="dk-notes"><p><b>Notes</b></p><ul>{items}</ul></div>'


# --- section sentences (story.say) ------------------------------------------------------------


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


# --- the first screen (story.answer) ------------------------------------------------------------


def _money_sentence(audit: Audit) -> str:
    s, cur = audit.summary, audit.config.currency
    return (
        f"Money at risk: {_fmt(s.get('value_at_risk_last_day'), 'money', cur)} of stock is "
        f"misstated on {_day(s.get('headline_day'))}; phantom stockouts cost {_fmt(s.get('lost_revenue'), 'money', cur)} "
        f"in lost revenue and {_fmt(s.get('oversell_units'), 'count')} units were oversold."
    )


def _day(headline_day: Any) -> str:
    """The headline day in words: the last day compared against the authority."""
    if not headline_day:
        return "no day (nothing was compared against the authority)"
    return f"{escape(str(headline_day))}, the last day compared against the authority"


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
