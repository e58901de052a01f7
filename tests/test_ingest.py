"""``driftkit ingest``: canonical Parquet bucketed by SKU, read back, freshness."""

from __future__ import annotations

import json
import os
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftkit import cli, schema
from driftkit.audit import load_data
from driftkit.config import load_config
from driftkit.load.client import load_client
from driftkit.load.ingest import BUCKETED, ingest, is_fresh, read_processed, sku_buckets
from tests.audit_clients import simulate_small

BUCKETS = 4


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_small(tmp_path_factory.mktemp("ingest") / "shop-one", seed=6)


@pytest.fixture(scope="module")
def ingested(client: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``driftkit ingest CLIENT --out DIR --buckets 4``: the folder and what it printed."""
    out = tmp_path_factory.mktemp("processed") / "shop-one"
    printed = StringIO()
    with redirect_stdout(printed):
        code = cli.main(["ingest", str(client), "--out", str(out), "--buckets", str(BUCKETS)])
    assert code == 0
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def loaded(client: Path) -> object:
    return load_client(load_config(client), progress=False)


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("table", BUCKETED)
def test_one_skus_rows_sit_in_exactly_one_bucket(ingested: tuple[Path, str], table: str) -> None:
    out, _ = ingested
    parts = sorted((out / table).glob("bucket=*/part-0.parquet"))
    assert len(parts) > 1  # 40 SKUs over 4 buckets
    seen = pd.concat(
        [pd.read_parquet(p, columns=[schema.SKU]).assign(bucket=p.parent.name) for p in parts]
    )
    buckets_per_sku = seen.groupby(schema.SKU)["bucket"].nunique()
    assert (buckets_per_sku == 1).all()
    assert set(seen["bucket"]) <= {f"bucket={b:02d}" for b in range(BUCKETS)}


@pytest.mark.parametrize("table", [*BUCKETED, "catalog", "rejects"])
def test_reading_back_gives_the_loaded_rows(
    ingested: tuple[Path, str], loaded: object, table: str
) -> None:
    out, _ = ingested
    back = read_processed(out, table)
    original = getattr(loaded, table)
    assert list(back.columns) == list(original.columns)
    assert dict(back.dtypes) == dict(original.dtypes)
    pd.testing.assert_frame_equal(_canonical(back), _canonical(original))


def test_one_bucket_reads_only_its_skus(ingested: tuple[Path, str]) -> None:
    out, _ = ingested
    whole = read_processed(out, "snapshots")
    codes = sku_buckets(whole[schema.SKU], BUCKETS)
    one = read_processed(out, "snapshots", bucket=int(codes[0]))
    assert len(one) == int((codes == codes[0]).sum())
    assert set(one[schema.SKU]) == set(whole.loc[codes == codes[0], schema.SKU])


def test_ingest_prints_the_per_system_summary(
    client: Path, ingested: tuple[Path, str], loaded: object
) -> None:
    out, printed = ingested
    files = loaded.files  # type: ignore[attr-defined]
    header = printed.splitlines()[0].split()
    assert header == ["files", "rows_read", "accepted", "rejected", "skus", "first", "last"]
    rows = {tuple(line.split()[:2]) for line in printed.splitlines()[2:] if line.strip()}
    for system in load_config(client).systems:
        assert any(system in row for row in rows), system
    wms = next(line for line in printed.splitlines() if line.startswith("wms "))
    fields = wms.split()
    wms_files = files[(files["system"] == "wms") & (files["table"] == "snapshots")]
    assert int(fields[2]) == len(wms_files)
    assert int(fields[3]) == wms_files["rows_read"].sum()
    assert int(fields[6]) == loaded.snapshots.query("system == 'wms'")["sku"].nunique()  # type: ignore[attr-defined]
    assert fields[7] == "2026-09-01"  # local days, not UTC
    assert f"written to {out}" in printed


def test_manifest_and_freshness(client: Path, ingested: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = ingested
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["buckets"] == BUCKETS and manifest["client"] == "shop-one"
    config = load_config(client)
    assert is_fresh(out, config)
    assert not is_fresh(tmp_path, config)  # nothing ingested there
    source = client / "raw" / "catalog.csv"
    stat = source.stat()
    os.utime(source, (stat.st_atime, stat.st_mtime + 10))
    try:
        assert not is_fresh(out, config)
    finally:
        os.utime(source, (stat.st_atime, stat.st_mtime))
    assert is_fresh(out, config)
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no staging or old folder


def test_ingest_replaces_an_earlier_ingest(client: Path, tmp_path: Path) -> None:
    stale = tmp_path / "shop-one" / "snapshots" / "bucket=99"
    stale.mkdir(parents=True)
    result = ingest(load_config(client), out=tmp_path / "shop-one", buckets=2)
    assert not stale.exists() and result.buckets == 2
    assert sorted(p.name for p in (result.path / "snapshots").iterdir()) == [
        "bucket=00",
        "bucket=01",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["shop-one"]


def test_an_audit_reads_fresh_parquet_like_the_exports(
    client: Path, ingested: tuple[Path, str], loaded: object
) -> None:
    out, _ = ingested
    config = load_config(client)
    data = load_data(config, processed=out.parent)
    for table in (*BUCKETED, "catalog", "rejects"):
        pd.testing.assert_frame_equal(
            _canonical(getattr(data, table)), _canonical(getattr(loaded, table))
        )
    assert data.notes == loaded.notes  # type: ignore[attr-defined]
    assert data.files["rows_read"].sum() == loaded.files["rows_read"].sum()  # type: ignore[attr-defined]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=30), st.integers(1, 64))
def test_sku_buckets_are_stable_and_in_range(skus: list[str], buckets: int) -> None:
    codes = sku_buckets(pd.Series(skus, dtype="str"), buckets)
    assert codes.dtype == np.int32 and ((codes >= 0) & (codes < buckets)).all()
    shuffled = sku_buckets(pd.Series(skus[::-1], dtype="str"), buckets)
    assert (codes == shuffled[::-1]).all()  # a SKU's bucket does not depend on its neighbours
