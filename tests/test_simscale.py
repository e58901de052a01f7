"""simulate_ingested: a client simulated in chunks straight into bucketed Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit.config import load_config
from driftkit.errors import InputError
from driftkit.load.ingest import BUCKETED, ingest, is_fresh, read_processed, sku_buckets
from driftkit.scale.partition import run_partitioned
from driftkit.simulate.chunks import chunks_by_bucket
from driftkit.simulate.score import score
from driftkit.simulate.simulation import simulate, simulate_ingested

TABLES = (*BUCKETED, "catalog", "rejects")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


def test_one_chunk_equals_simulate_then_ingest(tmp_path: Path) -> None:
    simulate(tmp_path / "a" / "tiny-co", skus=30, days=8, seed=5)
    ingest(tmp_path / "a" / "tiny-co", out=tmp_path / "pa", buckets=3)
    simulate_ingested(
        tmp_path / "b" / "tiny-co", tmp_path / "pb", skus=30, days=8, seed=5, buckets=3
    )
    for table in TABLES:
        pd.testing.assert_frame_equal(
            _sorted(read_processed(tmp_path / "pb", table)),
            _sorted(read_processed(tmp_path / "pa", table)),
            obj=table,
        )
    for name in ("client.toml", "ground_truth.csv"):
        assert (tmp_path / "b" / "tiny-co" / name).read_bytes() == (
            tmp_path / "a" / "tiny-co" / name
        ).read_bytes()
    assert is_fresh(tmp_path / "pb", load_config(tmp_path / "b" / "tiny-co"))
    loaded = pd.read_parquet(tmp_path / "pa" / "files.parquet")
    written = pd.read_parquet(tmp_path / "pb" / "files.parquet")
    per_file = loaded.groupby(["system", "table"]).agg(
        rows=("rows_read", "sum"), first=("first_as_of", "min"), last=("last_as_of", "max")
    )
    mine = written.set_index(["system", "table"])
    assert (mine["rows_read"] == mine["rows_accepted"]).all()
    assert (mine["rows_rejected"] == 0).all()
    pd.testing.assert_series_equal(mine["rows_read"], per_file["rows"], check_names=False)
    pd.testing.assert_series_equal(mine["first_as_of"], per_file["first"], check_names=False)
    pd.testing.assert_series_equal(mine["last_as_of"], per_file["last"], check_names=False)


def test_chunks_are_whole_buckets_and_cover_every_sku_once() -> None:
    parts = chunks_by_bucket("big-co", 5_000, "alpha", buckets=10, chunk_skus=1_200)
    numbers = np.concatenate(parts)
    assert np.array_equal(np.sort(numbers), np.arange(5_000))
    assert 3 <= len(parts) <= 6
    from driftkit.simulate.plan import _sku_codes

    bucket = sku_buckets(pd.Series(_sku_codes("big-co", np.arange(5_000), "alpha")[0]), 10)
    owners = [set(bucket[p].tolist()) for p in parts]
    assert sum(len(o) for o in owners) == 10  # no bucket is shared by two chunks


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("chunked")
    processed = simulate_ingested(
        root / "many-co",
        root / "processed",
        skus=90,
        days=12,
        seed=3,
        buckets=6,
        chunk_skus=25,
        jobs=2,
    )
    return root / "many-co", processed


def test_chunks_write_disjoint_skus_unique_event_ids_and_consistent_counts(
    chunked: tuple[Path, Path],
) -> None:
    client, processed = chunked
    manifest = json.loads((processed / "manifest.json").read_text())
    for table in BUCKETED:
        frames = {b: read_processed(processed, table, bucket=b) for b in range(manifest["buckets"])}
        assert sum(len(f) for f in frames.values()) == manifest["rows"][table]
        for b, frame in frames.items():  # each bucket holds exactly its own SKUs
            assert (sku_buckets(frame["sku"], manifest["buckets"]) == b).all()
    catalog = read_processed(processed, "catalog")
    assert catalog["sku"].is_unique and len(catalog) == 90
    events = read_processed(processed, "events")
    first = events.drop_duplicates(["system", "event_id"])
    # Ids repeat only where the simulator replays a delivery (same system, sku, reference).
    replays = events.duplicated(["system", "event_id"], keep=False)
    assert events[replays].groupby(["system", "event_id"])["sku"].nunique().max() == 1
    assert len(first) > 0.9 * len(events)
    files = pd.read_parquet(processed / "files.parquet").set_index(["system", "table"])
    assert files.loc[("catalog", "catalog"), "rows_read"] == 90
    assert files.xs("snapshots", level="table")["rows_read"].sum() == manifest["rows"]["snapshots"]
    assert is_fresh(processed, load_config(client))


def test_chunked_client_audits_and_its_causes_match_ground_truth(
    chunked: tuple[Path, Path],
) -> None:
    client, processed = chunked
    audit = run_partitioned(load_config(client), processed, engine="pandas", jobs=1)
    truth = pd.read_csv(client / "ground_truth.csv", dtype=str)
    assert truth["sku"].nunique() >= 15
    overall = score(audit.stored["findings"].read(), truth).set_index("cause").loc["all"]
    assert overall["precision"] >= 0.9 and overall["recall"] >= 0.9
    assert audit.summary["sku_locations"] == 180


def test_refuses_a_folder_that_is_not_a_simulation(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not an earlier simulation"):
        simulate_ingested(tmp_path / "mine", tmp_path / "p", skus=10, days=3)
    assert (tmp_path / "mine" / "notes.txt").is_file()
