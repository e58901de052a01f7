"""One client's audit: load → align → compare → attribute → impact → outputs (DESIGN §1, §9).

``run_audit`` is what ``driftkit audit --no-html`` calls directly and what the audit
notebook calls through :func:`audit_for_report`: it loads the client's tables, runs the
audit on them in this process (:func:`driftkit.scale.partition.run_in_process`, the
one-part case of the partitioned audit) and writes the run files.  ``audit_for_report``
with an ``engine`` audits bucket by bucket instead and returns the report's view of it; with a
``handover`` it picks up the audit that ``driftkit audit`` already made (:mod:`driftkit.handover`).
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from driftkit import schema
from driftkit.config import ClientConfig, load_config
from driftkit.drift.breakdown import DRILLDOWNS
from driftkit.handover import read_handover
from driftkit.load.client import ClientData, load_client
from driftkit.load.ingest import is_fresh, read_notes, read_processed
from driftkit.scale.bucket import PROCESSED
from driftkit.scale.combine import Audit
from driftkit.scale.partition import run_in_process
from driftkit.scale.report import partitioned_report
from driftkit.scale.steps import timed
from driftkit.scale.summary import HEADLINE, previous_summary, run_folders, write_outputs

__all__ = [
    "HEADLINE",
    "PROCESSED",
    "Audit",
    "audit_for_report",
    "load_data",
    "locate",
    "previous_summary",
    "run_audit",
    "run_folders",
    "write_outputs",
]

log = logging.getLogger(__name__)

#: The run folder's subfolder holding the audit's aligned grid (:func:`write_grid`).
GRID = "grid"


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
    run_at
        The run's time; default now.

    Returns
    -------
    Audit
        All computed tables and the summary.
    """
    config = client if isinstance(client, ClientConfig) else load_config(locate(client))
    with timed("load"):
        data = load_data(config)
    audit = run_in_process(data, start=start, end=end, run_at=run_at, reports_dir=reports_dir)
    if out_dir is not None:
        with timed("write outputs"):
            write_outputs(audit, Path(out_dir))
        with timed("write grid"):  # the explorer opens from it instead of aligning again
            write_grid(audit, Path(out_dir) / GRID)
    return audit


def write_grid(audit: Audit, folder: Path) -> None:
    """The aligned grid and the tables it came with, so the explorer opens the run without
    loading or aligning again (docs/explore.md): ``values.npy`` (float64, NaN = absent),
    ``keys.feather`` (``sku, location``; row *i* is key code *i*), ``events``, ``counts`` and
    ``catalog.feather`` (the audit's canonical tables) and ``grid.json`` (the other fields)."""
    grid, data = audit.grid, audit.data
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "values.npy", grid.values)
    keys = grid.keys[[schema.SKU, schema.LOCATION]]
    for name, frame in {"keys": keys, "events": data.events, "counts": data.counts,
                        "catalog": data.catalog}.items():  # fmt: skip
        feather.write_feather(
            pa.Table.from_pandas(frame, preserve_index=False), folder / f"{name}.feather"
        )
    fields = {"systems": list(grid.systems), "authority": grid.authority, "notes": list(grid.notes),
              "days": [d.isoformat() for d in grid.days], "days_dtype": str(grid.days.dtype)}  # fmt: skip
    (folder / "grid.json").write_text(json.dumps(fields), encoding="utf-8")


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
    handover: str | Path | None = None,
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
    handover
        A hand-over file that this user's ``driftkit audit`` process wrote in the staging run
        folder after auditing the client there (:func:`driftkit.handover.read_handover`, which
        deletes it): its audit is returned, nothing is computed or written here and the other
        options are ignored.  It is a pickle: never pass a file you did not write yourself.

    Returns
    -------
    Audit
        Without ``engine``, :func:`run_audit`'s.  With one, the same summary and tables, but
        ``grid`` holds only the ``drilldowns`` worst keys and ``data`` only their snapshots,
        events and counts (with the whole catalog, rejects and files); no raw rows of the
        whole client are loaded here (docs/scale.md: driver memory).
    """
    if handover is not None:
        return read_handover(handover)
    if engine is None:
        return run_audit(
            client, out_dir=out_dir, reports_dir=reports_dir, start=start, end=end, run_at=run_at
        )
    config = client if isinstance(client, ClientConfig) else load_config(locate(client))
    return partitioned_report(
        config,
        engine=engine,
        jobs=jobs,
        scheduler=scheduler,
        out_dir=out_dir,
        reports_dir=reports_dir,
        start=start,
        end=end,
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
