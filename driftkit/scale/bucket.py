"""The buckets of an ingest folder (DESIGN §12): what a worker reads before its part's work.

``driftkit ingest`` writes canonical Parquet bucketed by SKU, so every key lives in one
bucket.  Here each pass of :mod:`driftkit.scale.partition` gets its bucket's tables from
Parquet (:func:`read_bucket`) and runs the same pure step the in-process audit runs on the
whole client (:mod:`driftkit.scale.plan`, :mod:`driftkit.scale.part`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftkit import schema
from driftkit.errors import InputError
from driftkit.load.client import ClientData
from driftkit.load.ingest import BUCKETED, MANIFEST, read_notes, read_processed
from driftkit.scale.kept import label_digest, of_keys
from driftkit.scale.merge import pair_ranks
from driftkit.scale.ordered import PAIR, sort_part
from driftkit.scale.part import BucketResult, audit_part, profile_part
from driftkit.scale.plan import Plan, Profile, Scan, keyless_grid, place_part, scan
from driftkit.scale.samples import stored_latency, stored_stats
from driftkit.scale.stored import STORED, store_full, store_part, worst_rows
from driftkit.schema import AS_OF, KIND, LOCATION, OCCURRED_AT, RECORDED_AT, SKU, SYSTEM

PROCESSED = Path("data/processed")  # where ``driftkit ingest`` writes, per client


def bucket_numbers(path: Path) -> tuple[int, ...]:
    """Every bucket that holds rows of any bucketed table in the ingest folder ``path``."""
    found = {
        int(folder.name.split("=", 1)[1])
        for table in BUCKETED
        for folder in (path / table).glob("bucket=*")
    }
    if not found:
        raise InputError(
            f"{path}: no bucketed Parquet (snapshots/bucket=NN/...) there; run "
            "`driftkit ingest CLIENT_DIR --out DIR` first and pass that folder"
        )
    return tuple(sorted(found))


def scan_bucket(path: Path, bucket: int, default_location: str | None = None) -> Scan:
    """Pass 1 over one bucket, reading only the columns :func:`~driftkit.scale.plan.scan` needs."""
    snaps = read_columns(path, "snapshots", bucket, [SYSTEM, AS_OF, LOCATION])
    events = read_columns(path, "events", bucket, [SYSTEM, KIND, OCCURRED_AT, RECORDED_AT])
    return scan(snaps, events, default_location=default_location)


def profile_bucket(plan: Plan, bucket: int) -> Profile:
    """Pass 2 over one bucket (:func:`~driftkit.scale.part.profile_part` of its tables); with
    ``plan.parts`` its handoff samples are stored there (:mod:`driftkit.scale.samples`)."""
    profile = profile_part(plan, place_part(plan, read_bucket(plan, bucket))[0])
    if plan.parts is None:
        return profile
    return dataclasses.replace(profile, handoffs=stored_stats(profile.handoffs, plan.parts, bucket))


def audit_bucket(plan: Plan, bucket: int) -> BucketResult:
    """Pass 3 over one bucket (:func:`~driftkit.scale.part.audit_part` of its tables); with
    ``plan.parts`` its stored tables are written there and only their paths sent back, and
    its key drift only for its worst keys (:func:`~driftkit.scale.stored.worst_rows`)."""
    data, placed = place_part(plan, read_bucket(plan, bucket))
    result = audit_part(plan, data, bucket=bucket, placed=placed)
    if plan.parts is None:
        return result
    result = dataclasses.replace(result, key_drift=worst_rows(result.key_drift))
    return stored_result(plan, plan.parts, result) if result.full else result


def stored_result(plan: Plan, folder: Path, result: BucketResult) -> BucketResult:
    """``result`` with its per-key tables stored under ``folder``
    (:func:`~driftkit.scale.stored.store_full`, and its labelled episodes in their table
    order, and the handoff map's latency samples: :mod:`driftkit.scale.samples`); it keeps the
    episodes of its worst keys and their labels' digest (:mod:`driftkit.scale.kept`)."""
    keys = result.key_drift[[SKU, LOCATION]].drop_duplicates()
    ranks = pair_ranks(keyless_grid(plan), result.episodes)
    episodes = sort_part("episodes", result.episodes.assign(**{PAIR: ranks}))
    full = store_full(result.full, folder, result.bucket, keys=keys)
    full["attribution"] = stored_latency(full["attribution"], folder, result.bucket)
    full[STORED["episodes"]] = store_part(folder, "episodes", result.bucket, episodes)
    return dataclasses.replace(
        result,
        episodes=episodes[of_keys(episodes, keys)].drop(columns=PAIR),
        explanations=label_digest(episodes),
        full=full,
    )


def read_columns(path: Path, table: str, bucket: int, columns: list[str]) -> pd.DataFrame:
    """A few columns of one bucket of ``table`` (empty, typed, when the bucket has none)."""
    files = sorted((path / table / f"bucket={bucket:02d}").glob("*.parquet"))
    if not files:
        return schema.empty(table)[columns]
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files]).to_pandas()


def read_bucket(plan: Plan, bucket: int) -> ClientData:
    """One bucket's snapshots, events and counts with the whole catalog, from Parquet."""
    path = ingest_path(plan)
    tables = {t: read_processed(path, t, bucket=bucket) for t in BUCKETED}
    return ClientData(
        config=plan.config,
        catalog=read_processed(path, "catalog"),
        rejects=schema.empty("rejects"),
        files=pd.DataFrame(),
        notes=(),
        **tables,
    )


def client_tables(plan: Plan) -> ClientData:
    """The client's whole (small) tables: catalog, rejects, file accounting, loader notes."""
    path = ingest_path(plan)
    files = path / "files.parquet"
    return ClientData(
        config=plan.config,
        snapshots=schema.empty("snapshots"),
        events=schema.empty("events"),
        counts=schema.empty("counts"),
        catalog=read_processed(path, "catalog"),
        rejects=read_processed(path, "rejects"),
        files=pd.read_parquet(files) if files.is_file() else pd.DataFrame({"rows_read": []}),
        notes=read_notes(path) if (path / MANIFEST).is_file() else (),
    )


def ingest_path(plan: Plan) -> Path:
    """The ingest folder of a partitioned audit's plan (an in-process plan has none)."""
    if plan.path is None:
        raise InputError(f"{plan.config.id}: this plan has no ingest folder to read buckets from")
    return plan.path
