"""Where the explorer's tables come from: the last audit's run folder, not a new audit.

``from_run`` reads the episodes, findings and impact of the client's newest run folder
(``REPORTS_DIR/<client>/<YYYY-MM-DD>/``) and aligns the client's snapshots on that run's
window; the canonical tables come from the fresh ingest (``data/processed/<client>``) when
there is one, else from the raw exports.  Attribution and impact are not recomputed.
Every run-folder table is read through :func:`read_output` (Parquet when the run wrote it,
else CSV).  Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftkit import schema
from driftkit.audit import GRID, locate
from driftkit.config import ClientConfig, load_config
from driftkit.drift.align import Grid, align
from driftkit.errors import InputError
from driftkit.explorer.data import _EVENT_COLUMNS, _TEXT, ExplorerData
from driftkit.explorer.index import _titles, key_ordered
from driftkit.explorer.lab import REPO_ROOT
from driftkit.explorer.store import STORE, read_run_grid, read_store, store_stamp, write_store
from driftkit.load.client import load_client
from driftkit.load.ingest import WHOLE, is_fresh
from driftkit.scale.bucket import PROCESSED
from driftkit.scale.summary import run_folders
from driftkit.schema import SKU

log = logging.getLogger("driftkit.explorer")

_NAIVE_TIMES = ("start", "end")  # local days (episodes)
_UTC_TIMES = ("first_seen", "last_seen")  # findings
_BLANK_IS_TEXT = ("reference", "event_ids", "explained_by")  # written as "" when there is none
_TABLES = ("snapshots", "events", "counts", "catalog")
_COLUMNS = {
    "events": (schema.SKU, schema.LOCATION, *_EVENT_COLUMNS),
    "counts": (schema.SKU, schema.LOCATION, schema.COUNTED_AT, schema.COUNTED_QTY),
    "catalog": (schema.SKU, schema.TITLE),
}


def read_output(run_dir: Path, name: str) -> pd.DataFrame | None:
    """One table of a run folder: ``<name>.parquet`` when present, else ``<name>.csv``.

    Returns
    -------
    pandas.DataFrame or None
        The table as the audit wrote it (text columns as ``str``, times parsed: episode days
        naive local, finding times UTC); None when the run folder has neither file.
    """
    parquet, csv = run_dir / f"{name}.parquet", run_dir / f"{name}.csv"
    if parquet.is_file():
        return pd.read_parquet(parquet)
    if not csv.is_file():
        return None
    header = pd.read_csv(csv, nrows=0).columns
    frame = pd.read_csv(csv, dtype={c: "str" for c in header if c in _TEXT or c == "explained_by"})
    for column in (c for c in _BLANK_IS_TEXT if c in frame.columns):
        frame[column] = frame[column].fillna("")
    for column in (c for c in _NAIVE_TIMES if c in frame.columns):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    for column in (c for c in _UTC_TIMES if c in frame.columns):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601", utc=True)
    return frame


def latest_run(reports_dir: str | Path, client_id: str) -> Path | None:
    """The newest complete run folder of ``client_id`` under ``reports_dir`` (None if none)."""
    runs = run_folders(resolve_reports(reports_dir) / client_id)
    return runs[-1] if runs else None


def resolve_reports(reports_dir: str | Path) -> Path:
    """``reports_dir`` as given when it exists, else against the repository root."""
    path = Path(reports_dir)
    return path if path.is_absolute() or path.is_dir() else REPO_ROOT / path


def from_run(client_dir: str | Path, run_dir: Path, *, processed: Path = PROCESSED) -> ExplorerData:
    """The explorer's inputs from an audit's run folder plus the client's aligned snapshots.

    The run's explorer store (:mod:`driftkit.explorer.store`) gives the grid and the
    key-ordered events and counts when it matches the run and the client's files; else they
    are read (ingest, else raw exports) and aligned here, and the store is written for the
    next open.

    Raises
    ------
    InputError
        When the run folder lacks ``summary.json`` or its window.
    """
    config = load_config(locate(client_dir))
    summary = _summary(run_dir)
    stamp = store_stamp(Path(client_dir), summary)
    stored = read_store(run_dir, stamp)
    if stored is not None:
        grid, keys, indexed, origin = stored
        catalog = keys.loc[keys["title"].notna(), [SKU, "title"]]
        events, counts = indexed["events"].frame, indexed["counts"].frame
        origin = f"the explorer store {run_dir / STORE} (built from {origin})"
    else:
        grid, events, counts, catalog, origin = _aligned(config, summary, processed, run_dir)
        indexed = key_ordered(ExplorerData(grid, events, counts, timezone=config.timezone))
        write_store(run_dir, stamp, grid, _titles(catalog, grid.keys), indexed, origin)
    tables = {n: read_output(run_dir, n) for n in ("episodes", "findings", "impact")}
    source = (
        f"audit run {run_dir} (run at {summary.get('run_at', 'unknown')}); "
        f"snapshots, events and counts from {origin}"
    )
    log.info("%s: explorer opened from %s", config.id, source)
    empty = ExplorerData(grid=grid)
    return ExplorerData(
        grid=grid,
        events=events,
        counts=counts,
        episodes=_or(tables["episodes"], empty.episodes),
        findings=_or(tables["findings"], empty.findings),
        impact=_or(tables["impact"], empty.impact),
        catalog=catalog,
        timezone=config.timezone,
        tolerance=config.tolerance,
        client=config.id,
        source=source,
        indexed=indexed,
    )


def _aligned(
    config: ClientConfig, summary: dict[str, Any], processed: Path, run_dir: Path
) -> tuple[Grid, pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """The run's grid, events, counts, catalog and where they came from.

    The grid and tables the audit wrote into the run folder (:func:`read_run_grid`) when it
    did: nothing is loaded or aligned.  Else (older runs, partitioned audits) the ingest or
    the raw exports, aligned on the run's window here.
    """
    written = read_run_grid(run_dir, _COLUMNS)
    if written is not None:
        grid, data = written
        origin = f"the audit's grid and tables in {run_dir / GRID}"
        return grid, data["events"], data["counts"], data["catalog"], origin
    fresh = is_fresh(processed / config.id, config)
    data = _read_ingest(processed / config.id) if fresh else _load_raw(config)
    start, end = (summary.get(k) for k in ("window_start", "window_end"))
    grid = align(data["snapshots"], config, start=_day(start), end=_day(end))
    origin = f"ingested Parquet in {processed / config.id}" if fresh else "the raw exports"
    return grid, data["events"], data["counts"], data["catalog"], origin


def _read_ingest(path: Path) -> dict[str, pd.DataFrame]:
    """The tables the explorer shows, read from an ingest folder: only their columns.

    Events keep the columns the views and the notebook use (``raw_reference`` and
    ``source_as_of`` are not read), counts their key, time and quantity, the catalog the
    titles; the rejects and the file accounting are not read.
    """
    log.info("reading the explorer's columns of the canonical Parquet in %s", path)
    return {table: _read_columns(path, table, _COLUMNS.get(table)) for table in _TABLES}


def _read_columns(path: Path, table: str, columns: tuple[str, ...] | None) -> pd.DataFrame:
    full = schema.TABLES[table]
    wanted = full if columns is None else pa.schema([full.field(c) for c in columns])
    if table in WHOLE:
        files = [path / f"{table}.parquet"]
    else:
        files = sorted((path / table).rglob("*.parquet"))
    if not files:
        return schema.empty(table)[list(wanted.names)]
    parts = [pq.read_table(f, columns=wanted.names, schema=wanted) for f in files]
    return pa.concat_tables(parts).to_pandas()


def _load_raw(config: ClientConfig) -> dict[str, pd.DataFrame]:
    data = load_client(config, progress=False)
    return {table: getattr(data, table) for table in _TABLES}


def _summary(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "summary.json"
    if not path.is_file():
        raise InputError(f"run folder {run_dir} has no summary.json; audit the client again")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _day(text: str | None) -> Any:
    return None if text is None else pd.Timestamp(text).date()


def _or(frame: pd.DataFrame | None, default: pd.DataFrame) -> pd.DataFrame:
    return default if frame is None else frame
