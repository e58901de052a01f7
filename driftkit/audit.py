"""One client's audit: load → align → compare → attribute → impact → outputs (DESIGN §1, §9).

``run_audit`` is what ``driftkit audit --no-html`` calls directly and what the audit
notebook calls through :func:`audit_for_report`; it computes every table once and writes the
machine-readable files of a run folder.  ``audit_for_report`` with an ``engine`` audits bucket
by bucket instead (:mod:`driftkit.scale.partition`) and returns the report's view of that audit.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from driftkit import schema
from driftkit.causes.attribute import Attribution, attribute
from driftkit.config import ClientConfig, load_config
from driftkit.drift.accuracy import count_accuracy, rollforward
from driftkit.drift.align import Grid, align
from driftkit.drift.compare import DRILLDOWNS, Comparison, compare
from driftkit.impact.estimate import Impact, estimate_impact
from driftkit.load.client import ClientData, load_client
from driftkit.load.ingest import is_fresh, read_notes, read_processed

log = logging.getLogger(__name__)

PROCESSED = Path("data/processed")
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


@dataclass(frozen=True)
class Audit:
    """Everything one audit computed; ``summary`` is what ``summary.json`` holds."""

    config: ClientConfig
    data: ClientData
    grid: Grid
    comparison: Comparison
    attribution: Attribution
    impact: Impact
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def load_data(config: ClientConfig, *, processed: Path = PROCESSED) -> ClientData:
    """The client's canonical tables: from fresh ingested Parquet when there is one."""
    path = processed / config.id
    if not is_fresh(path, config):
        return load_client(config, progress=False)
    log.info("%s: reading canonical Parquet from %s", config.id, path)
    tables = {t: read_processed(path, t) for t in schema.TABLES}
    files = pd.read_parquet(path / "files.parquet")
    return ClientData(config=config, files=files, notes=read_notes(path), **tables)


def run_audit(
    client: str | Path | ClientConfig,
    *,
    out_dir: str | Path | None = None,
    reports_dir: str | Path | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    run_at: datetime | None = None,
) -> Audit:
    """Audit one client and, when ``out_dir`` is given, write its run files there.

    Parameters
    ----------
    client
        Client folder or parsed config.
    out_dir
        Folder receiving ``summary.json``, ``daily.csv``, ``episodes.csv``, ``rejects.csv`` ...
    reports_dir
        ``REPORTS_DIR``: where earlier runs of this client live (for ``previous``).
    start, end
        Window (local calendar days); default the data's first..last snapshot day.

    Returns
    -------
    Audit
        All computed tables and the summary.
    """
    config = client if isinstance(client, ClientConfig) else load_config(locate(client))
    run_at = run_at or datetime.now(UTC)
    data = load_data(config)
    grid = align(data.snapshots, config, start=_day(start), end=_day(end))
    comparison = compare(grid, config, data.catalog)
    residuals = rollforward(data.snapshots, data.events, config, grid)
    attribution = attribute(data, grid, comparison, residuals)
    impact = estimate_impact(data, grid, comparison, attribution, config)
    count_errors, record_accuracy = count_accuracy(data.snapshots, data.counts, config)
    previous = (
        previous_summary(Path(reports_dir), config.id, run_at.date()) if reports_dir else None
    )
    summary = assemble_summary(
        summarize(config, data, grid, comparison, run_at=run_at, previous=previous),
        attribution,
        impact,
        record_accuracy,
    )
    episodes = comparison.episodes.assign(explained_by=attribution.explained_by.to_numpy())
    tables = audit_tables(comparison, episodes, attribution, impact, data.rejects, count_errors)
    audit = Audit(config, data, grid, comparison, attribution, impact, summary, tables)
    if out_dir is not None:
        write_outputs(audit, Path(out_dir))
    return audit


def audit_for_report(
    client: str | Path | ClientConfig,
    *,
    engine: str | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    out_dir: str | Path | None = None,
    reports_dir: str | Path | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    run_at: datetime | None = None,
    drilldowns: int = DRILLDOWNS,
) -> Audit:
    """The audit the report notebook tells: whole in this process, or bucket by bucket.

    Parameters
    ----------
    client
        Client folder or parsed config.
    engine
        None: :func:`run_audit` (the whole client in this process).  ``"pandas"`` or
        ``"dask"``: :func:`driftkit.scale.partition.run_partitioned` on the client's ingest
        (``data/processed/<client>``, ingested first when stale), with ``jobs`` processes or
        workers and the Dask ``scheduler`` (docs/scale.md).
    jobs, scheduler
        As for ``run_partitioned``; ignored without ``engine``.
    out_dir, reports_dir, start, end, run_at
        As for :func:`run_audit`; the files written to ``out_dir`` are the same either way.
    drilldowns
        Partitioned only: the worst keys whose rows are read back for the drill-down charts.

    Returns
    -------
    Audit
        Without ``engine``, :func:`run_audit`'s.  With one, the same summary and tables, but
        ``grid`` holds only the ``drilldowns`` worst keys and ``data`` only their snapshots,
        events and counts (with the whole catalog, rejects and files); no raw rows of the
        whole client are loaded here (docs/scale.md: driver memory).
    """
    if engine is None:
        return run_audit(
            client, out_dir=out_dir, reports_dir=reports_dir, start=start, end=end, run_at=run_at
        )
    from driftkit.scale.report import partitioned_report  # it imports this module

    config = client if isinstance(client, ClientConfig) else load_config(locate(client))
    return partitioned_report(
        config,
        engine=engine,
        jobs=jobs,
        scheduler=scheduler,
        out_dir=out_dir,
        reports_dir=reports_dir,
        start=_day(start),
        end=_day(end),
        run_at=run_at,
        drilldowns=drilldowns,
    )


def locate(client_dir: str | Path) -> Path:
    """A relative client folder as given, else found from a parent folder of the working
    directory (a notebook's kernel runs in ``notebooks/``, its defaults are repo-relative)."""
    path = Path(client_dir)
    if path.is_absolute() or path.exists():
        return path
    for parent in Path.cwd().parents:
        if (parent / path / "client.toml").is_file():
            return parent / path
    return path


def _day(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def summarize(
    config: ClientConfig,
    data: ClientData,
    grid: Grid,
    comparison: Comparison,
    *,
    run_at: datetime,
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ``summary.json`` object (DESIGN §9): identity, input volume, headline numbers."""
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
    summary["notes"] = [*data.notes, *grid.notes]
    summary["previous"] = _headline_of(previous)
    return summary


def assemble_summary(
    summary: dict[str, Any],
    attribution: Attribution,
    impact: Impact,
    record_accuracy: pd.DataFrame,
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
        "episodes_by_explanation": _explanations(attribution.explained_by),
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


def write_outputs(audit: Audit, run_dir: Path) -> None:
    """Write ``summary.json`` and every table of ``audit.tables`` as CSV into ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in audit.tables.items():
        frame.to_csv(run_dir / f"{name}.csv", index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
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


def run_folders(client_folder: Path) -> list[Path]:
    """The complete run folders of one client, oldest first.

    A run folder is named by its ISO date and holds ``summary.json``; staging folders
    (``.<date>.partial-<pid>``), a replaced run (``.<date>.old-<pid>``) and ``failed/`` are
    never runs, so an interrupted audit is never mistaken for a finished one.
    """
    if not client_folder.is_dir():
        return []
    found = [p for p in client_folder.iterdir() if _is_date(p.name)]
    return sorted(p for p in found if (p / "summary.json").is_file())


def _is_date(name: str) -> bool:
    try:
        return date.fromisoformat(name).isoformat() == name
    except ValueError:
        return False


def _headline_of(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    keep = {k: summary.get(k) for k in HEADLINE if k in summary}
    return {"run_at": summary.get("run_at"), **keep}


def _explanations(labels: pd.Series) -> dict[str, int]:
    """Episodes per explanation; ``unexplained`` counts those with no label at all."""
    counts = labels.replace("", "unexplained").value_counts()
    return {str(k): int(v) for k, v in counts.items()}


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
