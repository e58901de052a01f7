"""The report of a partitioned audit (DESIGN §10, §12): an ``Audit`` the story accepts.

A :class:`~driftkit.scale.partition.PartitionedAudit` carries every number and table the report
shows (summary, daily, bias, episodes, key drift, findings, handoffs, callouts, impact,
projection, count list) and the client's whole small tables (catalog, rejects, files).  What
it lacks is the ``[system, key, day]`` grid and the raw rows, which only the drill-down
charts need, for a few keys.  :func:`report_view` reads those keys' snapshots, events and
counts from their buckets (a Parquet row filter per bucket file: never more than one bucket
in memory) and aligns them on the audit's window and systems, so its ``grid`` holds just
those keys.  The notebook reaches this through :func:`driftkit.audit.audit_for_report`.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from driftkit import schema
from driftkit.config import ClientConfig
from driftkit.drift.breakdown import DRILLDOWNS, rank_worst_keys
from driftkit.errors import ReportError
from driftkit.load.client import ClientData
from driftkit.load.ingest import MANIFEST, sku_buckets
from driftkit.scale.bucket import bucket_numbers, ingest_path
from driftkit.scale.combine import Audit, PartitionedAudit
from driftkit.scale.partition import ingested, run_partitioned
from driftkit.scale.plan import Plan, part_grid, place_part
from driftkit.scale.stored import PARTS, WORST_KEYS, discard_parts
from driftkit.schema import LOCATION, SKU


def partitioned_report(
    config: ClientConfig,
    *,
    engine: str,
    jobs: int | None = None,
    scheduler: str | None = None,
    out_dir: str | Path | None = None,
    reports_dir: str | Path | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    run_at: datetime | None = None,
    drilldowns: int = DRILLDOWNS,
) -> Audit:
    """Audit ``config`` bucket by bucket, write its run files, return the report's view.

    The ingest is ``data/processed/<client>`` (ingested first when stale); ``out_dir``
    receives exactly what :meth:`PartitionedAudit.write` writes.  Parameters as for
    :func:`driftkit.audit.audit_for_report`.

    Returns
    -------
    Audit
        :func:`report_view` of the partitioned audit.
    """
    parts = Path(out_dir) / PARTS if out_dir is not None else None
    audit = run_partitioned(
        config,
        ingested(config),
        engine=engine,
        jobs=jobs,
        scheduler=scheduler,
        start=start,
        end=end,
        run_at=run_at,
        reports_dir=reports_dir,
        parts_dir=parts,
    )
    if out_dir is not None:
        audit.write(out_dir)
        stored = discard_parts(audit.stored, Path(out_dir))
        audit = dataclasses.replace(audit, stored=stored)
    return report_view(audit, keys=drilldowns)


def report_view(audit: PartitionedAudit, *, keys: int = DRILLDOWNS) -> Audit:
    """An :class:`~driftkit.scale.combine.Audit` of a partitioned audit, for the story functions.

    Parameters
    ----------
    audit
        A full partitioned audit (``run_partitioned(..., full=True)``); not mutated.
    keys
        How many of the worst keys (``story.worst_keys``) to read back for drill-downs: at
        most :data:`~driftkit.scale.stored.WORST_KEYS` (the buckets sent no more).

    Returns
    -------
    Audit
        The partitioned audit's summary, tables, comparison, attribution (``matches``
        empty) and impact; ``grid`` with only the worst keys on the audit's window and
        systems; ``data`` with the whole catalog, rejects and files and only those keys'
        snapshots, events and counts.
    """
    if audit.attribution is None or audit.impact is None:
        raise ReportError(
            f"{audit.config.id}: this partitioned audit ran with full=False (drift numbers "
            "only) and has no causes or impact to report; run it with full=True"
        )
    if keys > WORST_KEYS:
        raise ReportError(
            f"{audit.config.id}: a partitioned audit keeps the key drift of each bucket's "
            f"{WORST_KEYS} worst keys; ask for at most {WORST_KEYS} drill-downs, not {keys}"
        )
    worst = rank_worst_keys(audit.comparison.key_drift, keys)[[SKU, LOCATION]]
    data, grid = audit.data, audit.grid
    if len(worst):
        data = key_rows(audit.plan, audit.data, worst)
        grid = dataclasses.replace(part_grid(data, audit.plan), notes=audit.grid.notes)
    return Audit(
        audit.config,
        data,
        grid,
        audit.comparison,
        audit.attribution,
        audit.impact,
        audit.summary,
        audit.tables,
        audit.stored,
        audit.causes,
    )


def key_rows(plan: Plan, data: ClientData, keys: pd.DataFrame) -> ClientData:
    """``data`` with the snapshots, events and counts of ``keys`` (``sku, location``), after
    placing the rows of systems without locations as the audit did (``plan.place_part``)."""
    path = ingest_path(plan)
    buckets = key_buckets(path, keys[SKU])

    def every_location(table: str) -> pd.DataFrame:
        return read_keys(path, table, keys, buckets, by_location=False)

    read = dataclasses.replace(
        data,
        snapshots=every_location("snapshots"),
        events=every_location("events"),
        counts=every_location("counts"),
    )
    placed, _ = place_part(plan, read)
    return dataclasses.replace(
        placed,
        snapshots=_of_keys(placed.snapshots, keys),
        events=_of_keys(placed.events, keys),
        counts=_of_keys(placed.counts, keys),
    )


def _of_keys(frame: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` whose (sku, location) is one of ``keys``."""
    wanted = pd.MultiIndex.from_frame(keys[[SKU, LOCATION]])
    mine = pd.MultiIndex.from_frame(frame[[SKU, LOCATION]]).isin(wanted)
    return frame[mine].reset_index(drop=True)


def key_buckets(path: Path, skus: pd.Series) -> tuple[int, ...]:
    """The buckets of ``skus`` in the ingest folder ``path`` (``ingest.sku_buckets`` with
    the manifest's bucket count; every bucket when there is no manifest)."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return bucket_numbers(path)
    count = int(json.loads(manifest.read_text(encoding="utf-8"))["buckets"])
    return tuple(int(b) for b in np.unique(sku_buckets(skus, count)))


def read_keys(
    path: Path,
    table: str,
    keys: pd.DataFrame,
    buckets: tuple[int, ...],
    *,
    by_location: bool = True,
) -> pd.DataFrame:
    """The rows of ``keys`` in one bucketed table, read file by file with a filter on sku
    (and on location too unless ``by_location`` is False: every location of those skus).

    Returns
    -------
    pandas.DataFrame
        The canonical columns of ``table`` (:mod:`driftkit.schema`); rows of ``keys`` only,
        in ingest order (bucket, file, row), as ``ingest.read_processed`` would give them.
    """
    skus = pc.field(SKU).isin(pa.array(keys[SKU].unique().tolist(), pa.string()))
    files = [
        file
        for bucket in buckets
        for file in sorted((path / table / f"bucket={bucket:02d}").rglob("*.parquet"))
    ]
    parts = [pq.read_table(f, schema=schema.TABLES[table], filters=skus) for f in files]
    if not parts:
        return schema.empty(table)
    frame = pa.concat_tables(parts).to_pandas()
    return _of_keys(frame, keys) if by_location else frame
