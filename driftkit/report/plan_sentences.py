"""The report's opening words on the fix plan: who should own the count, what to fix first.

:func:`authority_sentence` reads ``summary.json``'s ``authority_recommendation`` and the
``authority`` table; :func:`fix_sentences` the top of ``fix_plan``.  Every string from the
data is escaped.  Scores and rules: docs/fix_plan.md.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from driftkit.plan.authority import MIN_COUNTS
from driftkit.report.clean import escape
from driftkit.report.sentences import _fmt
from driftkit.scale.combine import Audit


def authority_sentence(audit: Audit) -> str:
    """Which system should own the count, on what evidence, and what changes if it does."""
    verdict = audit.summary.get("authority_recommendation")
    table = audit.tables.get("authority")
    if not verdict or table is None or table.empty:
        return "No recommendation on the owner of the count: this audit has no findings data."
    rows = table.set_index("system")
    pick, mine = str(verdict["recommended"]), str(verdict["configured"])
    lead = _lead(verdict, pick, mine)
    row = _row(rows, pick)
    why = _evidence(row, pick, verdict["basis"])
    rest = _alternative(rows, pick) if pick == mine else _change(audit, verdict, pick, mine)
    return " ".join(p for p in (lead, why, rest, _coverage(row, pick)) if p)


def _row(rows: pd.DataFrame, system: str) -> pd.Series:
    """The row of ``system`` in the authority table indexed by system."""
    return rows[rows.index == system].iloc[0]


def _lead(verdict: dict[str, Any], pick: str, mine: str) -> str:
    alone = (
        f"With no system counted {MIN_COUNTS} times or more, this rests on handoff evidence alone. "
        if verdict["basis"] == "handoffs"
        else ""
    )
    if pick == mine:
        return f"{alone}Owner of the count: keep <b>{escape(mine)}</b>, as configured."
    return (
        f"{alone}Owner of the count: <b>{escape(pick)}</b>, not the configured "
        f"<b>{escape(mine)}</b>, is the best candidate."
    )


def _evidence(row: pd.Series, system: str, basis: str) -> str:
    name = escape(system)
    parts = []
    if basis == "cycle_counts" and pd.notna(row["record_accuracy"]):
        parts.append(
            f"its record matched {_fmt(row['record_accuracy'], 'share')} of "
            f"{int(row['counts']):,} cycle counts (bias {round(row['bias'], 2) + 0.0:+.2f} units "
            "per count)"
        )
    parts.append(f"it records {_fmt(row['first_share'], 'share')} of business events first")
    parts.append(f"it is the wrong record in {_fmt(row['wrong_share'], 'share')} of findings")
    return f"For {name}: " + "; ".join(parts) + "."


def _alternative(rows: pd.DataFrame, pick: str) -> str:
    """The runner-up, said to be within noise of the configured authority.

    When the runner-up scores higher only because it covers more SKU-locations, the
    sentence says so: the owner changes on record accuracy beyond noise, not on the score.
    """
    others = rows.drop(index=pick)
    if others.empty:
        return ""
    best = str(others["score"].idxmax() if others["score"].notna().any() else others.index[0])
    row = _row(others, best)
    if pd.isna(row["record_accuracy"]):
        return ""
    said = (
        f"{escape(best)} ({_fmt(row['record_accuracy'], 'share')} of "
        f"{int(row['counts']):,} counts) is not better beyond noise."
    )
    mine = _row(rows, pick)
    if not row["score"] > mine["score"] or pd.isna(mine["coverage"]):
        return said
    return (
        f"{escape(best)} scores higher ({row['score']:.2f} against {mine['score']:.2f}) "
        f"because it reports {_fmt(row['coverage'], 'share')} of the SKU-locations against "
        f"{_fmt(mine['coverage'], 'share')}; its record ({_fmt(row['record_accuracy'], 'share')} "
        f"of {int(row['counts']):,} counts) is not better beyond noise, and the owner changes "
        "only on that."
    )


def _change(audit: Audit, verdict: dict[str, Any], pick: str, mine: str) -> str:
    """How the headline numbers change against the recommended authority."""
    cur = audit.config.currency
    new, old = verdict["headline"], verdict["configured_headline"]
    return (
        f"Measured against {escape(pick)} instead of {escape(mine)}, value at risk on the last "
        f"day would be {_fmt(new['value_at_risk_last_day'], 'money', cur)} instead of "
        f"{_fmt(old['value_at_risk_last_day'], 'money', cur)} and drift "
        f"{_fmt(new['abs_drift_units_last_day'], 'count')} units instead of "
        f"{_fmt(old['abs_drift_units_last_day'], 'count')}."
    )


def _coverage(row: pd.Series, system: str) -> str:
    if pd.isna(row["coverage"]) or row["coverage"] >= 1:
        return ""
    return (
        f"Note: {escape(system)} reports only {_fmt(row['coverage'], 'share')} of the "
        "SKU-locations; drift against it is not measured for the rest."
    )


def fix_sentences(audit: Audit, n: int = 3) -> list[str]:
    """The top ``n`` fixes of ``fix_plan``: edge, cause, action, evidence and money."""
    plan = audit.tables.get("fix_plan")
    if plan is None or plan.empty:
        return ["Nothing to fix first: no finding points at a write path."]
    cur = audit.config.currency
    return [
        f"Fix #{int(r['rank'])}: <b>{escape(str(r['source']))} → {escape(str(r['target']))}, "
        f"{escape(str(r['cause']))}</b> — {_fmt(r['value'], 'money', cur)}, "
        f"{float(r['units']):,.1f} units of drift removed. {escape(str(r['action']))} "
        f"<i>Evidence: {escape(str(r['evidence']))}.</i>"
        for r in plan.head(n).to_dict("records")
    ]
