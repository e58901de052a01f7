"""The run's outputs (DESIGN §9): ``summary.json``, the CSV tables and earlier runs.

:func:`summarize` and :func:`assemble_summary` build the ``summary.json`` object from the
combined audit, :func:`audit_tables` names its CSV tables, :func:`write_outputs` writes a
run folder and :func:`previous_summary` finds the run before it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from driftkit.causes.attribute import Attribution
from driftkit.config import ClientConfig
from driftkit.drift.align import Grid
from driftkit.drift.compare import Comparison
from driftkit.drift.uncompared import comparison_notes
from driftkit.folders import run_folders
from driftkit.impact.estimate import Impact
from driftkit.load.client import ClientData
from driftkit.scale.outputs import write_tables
from driftkit.scale.stored import UNWRITTEN, StoredTable


class Outputs(Protocol):
    """What a run folder is written from: ``summary.json``'s object and the named tables."""

    @property
    def summary(self) -> dict[str, Any]: ...
    @property
    def tables(self) -> dict[str, pd.DataFrame]: ...
    @property
    def stored(self) -> dict[str, StoredTable]: ...


HEADLINE = (
    "sku_locations",
    "compared_cells",
    "agreement_rate",
    "drifted_sku_locations",
    "abs_drift_units_last_day",
    "value_at_risk_last_day",
    "phantom_stockout_sku_days",
    "lost_sales_units",
    "lost_revenue",
    "oversell_units",
    "explained_share",
)


def summarize(
    config: ClientConfig,
    data: ClientData,
    grid: Grid,
    comparison: Comparison,
    uncompared: dict[str, str] | None = None,
    *,
    run_at: datetime,
    previous: dict[str, Any] | None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """The ``summary.json`` object (DESIGN §9): identity, input volume, headline numbers.

    ``uncompared`` (:func:`driftkit.drift.uncompared.uncompared_systems`): configured
    systems never compared with another, each with its reason; written as
    ``uncompared_systems`` and as notes (first, after "nothing was compared" when so);
    ``notes``: more of the comparison's notes (where systems without locations were
    compared), after those.
    """
    uncompared = uncompared or {}
    days = grid.days
    summary: dict[str, Any] = {
        "client": config.id,
        "client_name": config.name,
        "run_at": run_at.isoformat(timespec="seconds"),
        "window_start": days[0].date().isoformat() if len(days) else None,
        "window_end": days[-1].date().isoformat() if len(days) else None,
        "timezone": config.timezone,
        "currency": config.currency,
        "systems": list(config.systems),
        "authority": config.authority,
        "measure": str(config.measure),
        "rows_read": int(data.files["rows_read"].sum()) if len(data.files) else 0,
        "rows_rejected": len(data.rejects),
    }
    summary.update({k: _plain(v) for k, v in comparison.headline.items()})
    compared = int(comparison.headline.get("compared_cells") or 0)
    summary["uncompared_systems"] = dict(uncompared)
    said = [*comparison_notes(uncompared, compared), *(notes or []), *_day_note(summary)]
    summary["notes"] = [*said, *data.notes, *grid.notes]
    summary["previous"] = _headline_of(previous)
    return summary


def _day_note(summary: dict[str, Any]) -> list[str]:
    """A note when the "last day" numbers are not from the window's last day."""
    day, end = summary.get("headline_day"), summary.get("window_end")
    if day is None or day == end:
        return []
    return [
        f"the last-day numbers are from {day}, the last day compared against the authority "
        f"(no cell was compared against it on the window's last day, {end})"
    ]


def assemble_summary(
    summary: dict[str, Any],
    attribution: Attribution,
    impact: Impact,
    record_accuracy: pd.DataFrame,
    explanations: dict[str, int],
) -> dict[str, Any]:
    """The whole ``summary.json`` object: :func:`summarize`'s plus impact, causes, accuracy.

    Parameters
    ----------
    summary
        Output of :func:`summarize`; not mutated.
    attribution, impact
        The audit's attribution and impact.
    record_accuracy
        ``accuracy.count_accuracy``'s per-system table (``system, record_accuracy``).
    explanations
        Episodes per explanation, most first (``scale.kept.explanation_counts``).

    Returns
    -------
    dict
        ``summary`` followed by the impact totals, ``findings_by_cause``,
        ``explained_share``, ``episodes_by_explanation``, ``record_accuracy`` and
        ``callouts``.
    """
    return {
        **summary,
        **{k: _plain(v) for k, v in impact.totals.items()},
        "findings_by_cause": {k: int(v) for k, v in attribution.findings_by_cause.items()},
        "explained_share": _plain(attribution.explained_share),
        "episodes_by_explanation": dict(explanations),
        "record_accuracy": _record_accuracy(record_accuracy),
        "callouts": list(attribution.callouts),
    }


def audit_tables(
    comparison: Comparison,
    episodes: pd.DataFrame,
    attribution: Attribution,
    impact: Impact,
    rejects: pd.DataFrame,
    count_errors: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """The run's CSV tables by name (DESIGN §9), ``episodes`` with their ``explained_by``."""
    return {
        "findings": attribution.findings,
        "daily": comparison.daily,
        "episodes": episodes,
        "handoffs": attribution.handoffs,
        "impact": impact.per_key,
        "count_list": impact.count_list,
        "rejects": rejects,
        "bias": comparison.bias,
        "projection": impact.projection,
        "count_accuracy": count_errors,
    }


def write_outputs(audit: Outputs, run_dir: Path) -> None:
    """Write ``summary.json`` and every table of ``audit.tables`` and ``audit.stored`` into
    ``run_dir`` (CSV, and Parquet for the large ones, with ``tables.json``:
    :func:`driftkit.scale.outputs.write_tables`)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    files = {name: t for name, t in audit.stored.items() if name not in UNWRITTEN}
    write_tables(audit.tables, run_dir, files)
    text = json.dumps(audit.summary, indent=2, ensure_ascii=False, allow_nan=False)
    (run_dir / "summary.json").write_text(text + "\n", encoding="utf-8")


def previous_summary(reports_dir: Path, client_id: str, today: date) -> dict[str, Any] | None:
    """The newest earlier run's ``summary.json`` of ``client_id`` in ``reports_dir``, if any.

    Run folders are ``<reports_dir>/<client>/<YYYY-MM-DD>/``; today's folder counts as the
    previous run when the audit is repeated on the same day (it is about to be replaced).
    """
    runs = [p for p in run_folders(reports_dir / client_id) if p.name <= today.isoformat()]
    if not runs:
        return None
    loaded: dict[str, Any] = json.loads((runs[-1] / "summary.json").read_text(encoding="utf-8"))
    return loaded


def _headline_of(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    keep = {k: summary.get(k) for k in HEADLINE if k in summary}
    return {"run_at": summary.get("run_at"), **keep}


def _record_accuracy(table: pd.DataFrame) -> dict[str, Any]:
    """System → share of counted keys where its record was exact (None without counts)."""
    if table.empty:
        return {}
    pairs = zip(table["system"], table["record_accuracy"], strict=True)
    return {str(system): _plain(share) for system, share in pairs}


def _plain(value: Any) -> Any:
    """JSON-safe scalars: numpy numbers to Python, NaN to None."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
