"""Partitioned audits: the same numbers and tables as ``run_audit``, on any engine.

Two clients — a committed sample (3 buckets) and a simulated client with 28 days (weekday
profile on) in 4 buckets — are audited once unpartitioned (``run_audit`` reading the same
ingest) and once bucket by bucket; the dask engine runs on a LocalCluster given by address.
Exactness (docs/scale.md): integer numbers and per-key rows equal exactly; sums of floats
over keys equal up to summation order (relative 1e-12); evidence text up to the sign of
a zero.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit.audit import Audit, run_audit
from driftkit.config import ClientConfig, load_config
from driftkit.drift.align import Grid
from driftkit.drift.compare import authority_days, catalog_columns, compare
from driftkit.errors import ConfigError, InputError
from driftkit.load.ingest import ingest
from driftkit.scale import merge
from driftkit.scale import part as scale_part
from driftkit.scale.cluster import mapper
from driftkit.scale.partition import PartitionedAudit, bucket_numbers, ingested, run_partitioned
from driftkit.simulate.simulation import simulate

ROOT = Path(__file__).resolve().parents[1]
RUN_AT = datetime(2026, 12, 1, 12, tzinfo=UTC)
CLIENTS = {"sample": (ROOT / "data/sample/brightline-home", 3), "simulated": (None, 4)}
FLOAT = {"rtol": 1e-12, "atol": 1e-12}


@dataclass(frozen=True)
class Audited:
    config: ClientConfig
    processed: Path
    whole: Audit
    parted: PartitionedAudit


def _audit(name: str, work: Path) -> Audited:
    """One client audited unpartitioned and partitioned (pandas engine, in process)."""
    source, buckets = CLIENTS[name]
    if source is None:
        source = simulate(work / "clients" / "simco", skus=40, days=28, seed=3).path
    config = load_config(source)
    processed = work / "data" / "processed" / config.id
    ingest(config, out=processed, buckets=buckets)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)  # run_audit reads the same fresh ingest from data/processed/<client>
        whole = run_audit(config, run_at=RUN_AT)
    parted = run_partitioned(config, processed, engine="pandas", jobs=1, run_at=RUN_AT)
    assert len(parted.buckets) == buckets
    return Audited(config, processed, whole, parted)


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Audited]:
    """Audits by client name, each computed once per module."""
    cache: dict[str, Audited] = {}

    def get(name: str) -> Audited:
        if name not in cache:
            cache[name] = _audit(name, tmp_path_factory.mktemp(name))
        return cache[name]

    return get


@pytest.fixture(params=list(CLIENTS), ids=list(CLIENTS))
def audited(request: pytest.FixtureRequest, audits: Callable[[str], Audited]) -> Audited:
    return audits(request.param)


def _same_value(key: str, expected: object, found: object) -> None:
    if isinstance(expected, float) and isinstance(found, float):
        assert found == pytest.approx(expected, rel=1e-12, abs=1e-12), key
    elif isinstance(expected, dict) and isinstance(found, dict):
        assert expected.keys() == found.keys(), key
        for inner in expected:
            _same_value(f"{key}.{inner}", expected[inner], found[inner])
    else:
        assert found == expected, key


def test_summary_numbers_match_the_unpartitioned_audit(audited: Audited) -> None:
    whole, parted = audited.whole.summary, audited.parted.summary
    assert parted.keys() == whole.keys()
    for key in whole:
        _same_value(key, whole[key], parted[key])
    assert parted["compared_cells"] > 0 and parted["episodes"] > 0


def test_exact_integer_headline_and_rate(audited: Audited) -> None:
    whole, parted = audited.whole.summary, audited.parted.summary
    counts = ("sku_locations", "compared_cells", "agreeing_cells", "drifted_sku_locations")
    assert {k: parted[k] for k in counts} == {k: whole[k] for k in counts}
    assert parted["agreement_rate"] == whole["agreement_rate"]  # Σ agreeing ÷ Σ compared
    assert parted["findings_by_cause"] == whole["findings_by_cause"]
    parts = audited.parted.parts
    assert parts["agreeing_cells"] / parts["compared_cells"] == whole["agreement_rate"]


@pytest.mark.parametrize(
    "table", ["daily", "episodes", "bias", "impact", "count_list", "handoffs", "projection",
              "count_accuracy", "rejects", "fix_plan", "authority"],
)  # fmt: skip
def test_tables_match_the_unpartitioned_audit(audited: Audited, table: str) -> None:
    pd.testing.assert_frame_equal(
        _table(audited.parted, table), audited.whole.tables[table], check_exact=False, **FLOAT
    )


def _table(audit: PartitionedAudit, name: str) -> pd.DataFrame:
    """A table of a partitioned audit: in memory, or read back from its workers' parts."""
    return audit.stored[name].read() if name in audit.stored else audit.tables[name]


def test_episodes_are_exactly_equal(audited: Audited) -> None:
    pd.testing.assert_frame_equal(
        _table(audited.parted, "episodes"), audited.whole.tables["episodes"], check_exact=True
    )


def _zero_sign(text: pd.Series) -> pd.Series:
    """Evidence with a rounded zero's sign dropped (``-0`` and ``+0`` are the same)."""
    return text.map(lambda s: re.sub(r"(?<![\d.])[+-]0(?![\d.])", "0", s))


def test_findings_match_the_unpartitioned_audit(audited: Audited) -> None:
    whole, parted = audited.whole.tables["findings"], _table(audited.parted, "findings")
    assert len(whole) > 0
    pd.testing.assert_frame_equal(
        parted.drop(columns="evidence"), whole.drop(columns="evidence"), check_exact=False, **FLOAT
    )
    pd.testing.assert_series_equal(_zero_sign(parted["evidence"]), _zero_sign(whole["evidence"]))


def test_recombined_comparison_tables(audited: Audited) -> None:
    whole, parted = audited.whole.comparison, audited.parted.comparison
    for name in ("by_category", "by_location"):
        pd.testing.assert_frame_equal(
            getattr(parted, name), getattr(whole, name), check_exact=False, **FLOAT
        )
    # buckets send the key drift of their worst keys only (scale.stored.worst_rows)
    kept = pd.MultiIndex.from_frame(parted.key_drift[["sku", "location"]])
    rows = whole.key_drift[
        pd.MultiIndex.from_frame(whole.key_drift[["sku", "location"]]).isin(kept)
    ]
    assert 0 < len(parted.key_drift) < len(whole.key_drift)
    pd.testing.assert_frame_equal(
        parted.key_drift, rows.reset_index(drop=True), check_exact=False, **FLOAT
    )
    assert audited.parted.impact is not None
    assert audited.parted.impact.weekday_index == pytest.approx(audited.whole.impact.weekday_index)


def test_drift_only_run_gives_the_same_headline(audited: Audited) -> None:
    light = run_partitioned(audited.config, audited.processed, full=False, jobs=1, run_at=RUN_AT)
    assert set(light.tables) == {"daily", "episodes", "bias", "rejects"}
    assert light.attribution is None and light.impact is None
    for key in ("sku_locations", "compared_cells", "agreement_rate", "abs_drift_units_last_day"):
        assert light.summary[key] == audited.parted.summary[key]
    pd.testing.assert_frame_equal(light.tables["daily"], audited.parted.tables["daily"])


def test_explicit_window_is_shared_by_every_bucket(audited: Audited) -> None:
    days = audited.whole.grid.days
    start, end = days[2].date(), days[-3].date()
    light = run_partitioned(
        audited.config, audited.processed, start=start, end=end, full=False, jobs=1
    )
    assert (light.summary["window_start"], light.summary["window_end"]) == (
        start.isoformat(),
        end.isoformat(),
    )
    per_day = light.tables["daily"].groupby("day").size()
    assert len(per_day) == len(days) - 4 and per_day.nunique() == 1  # every pair on every day


def _plain(result: PartitionedAudit) -> tuple[str, dict[str, pd.DataFrame]]:
    tables = {**result.tables, **{n: t.read() for n, t in result.stored.items()}}
    return json.dumps(result.summary, sort_keys=True), tables


def _assert_identical(one: PartitionedAudit, other: PartitionedAudit) -> None:
    summary, tables = _plain(one)
    assert _plain(other)[0] == summary
    assert tables.keys() == _plain(other)[1].keys()
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(_plain(other)[1][name], frame, check_exact=True)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster (2 single-threaded worker processes), used through its address."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def test_dask_engine_is_identical_to_pandas(audited: Audited, scheduler: str) -> None:
    on_dask = run_partitioned(
        audited.config, audited.processed, engine="dask", scheduler=scheduler, run_at=RUN_AT
    )
    _assert_identical(audited.parted, on_dask)


def test_process_pool_is_identical_to_in_process(audited: Audited) -> None:
    pooled = run_partitioned(audited.config, audited.processed, jobs=2, run_at=RUN_AT)
    _assert_identical(audited.parted, pooled)


def test_write_produces_the_run_files(audited: Audited, tmp_path: Path) -> None:
    audited.parted.write(tmp_path)
    assert json.loads((tmp_path / "summary.json").read_text())["client"] == audited.config.id
    daily = pd.read_csv(tmp_path / "daily.csv")
    assert len(daily) == len(audited.whole.tables["daily"])


def test_a_bucket_without_events_or_counts(
    audits: Callable[[str], Audited], tmp_path: Path
) -> None:
    """Buckets are small: one may hold snapshots and no events; results stay the same."""
    audited = audits("simulated")
    processed = tmp_path / "data" / "processed" / audited.config.id
    shutil.copytree(audited.processed, processed)
    for table in ("events", "counts"):
        shutil.rmtree(processed / table / "bucket=01")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        whole = run_audit(audited.config, run_at=RUN_AT)
    parted = run_partitioned(audited.config, processed, jobs=1, run_at=RUN_AT)
    assert parted.summary["compared_cells"] == whole.summary["compared_cells"]
    assert parted.summary["findings_by_cause"] == whole.summary["findings_by_cause"]
    for name in ("findings", "impact", "count_list", "handoffs", "count_accuracy"):
        columns = [c for c in whole.tables[name].columns if c != "evidence"]
        pd.testing.assert_frame_equal(
            _table(parted, name)[columns], whole.tables[name][columns], check_exact=False, **FLOAT
        )


def test_ingested_reuses_a_fresh_ingest(audits: Callable[[str], Audited]) -> None:
    audited = audits("sample")
    processed = audited.processed.parent
    manifest = audited.processed / "manifest.json"
    before = manifest.stat().st_mtime_ns
    assert ingested(audited.config, processed=processed) == audited.processed
    assert manifest.stat().st_mtime_ns == before  # fresh: not ingested again


def test_a_relative_ingest_path_reaches_the_workers_absolute(
    audits: Callable[[str], Audited], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dask workers may run in another working directory: the plan carries an absolute path."""
    audited = audits("sample")
    monkeypatch.chdir(audited.processed.parent)
    parted = run_partitioned(audited.config, audited.config.id, jobs=1, full=False, run_at=RUN_AT)
    assert parted.plan.path == audited.processed and parted.plan.path.is_absolute()


# --- recombination on synthetic grids ---------------------------------------------------------


def _grid(values: np.ndarray, keys: pd.DataFrame, days: pd.DatetimeIndex) -> Grid:
    return Grid(keys.reset_index(drop=True), ("wms", "erp", "shop"), days, values, "wms")


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_headline_and_daily_recombine_exactly(seed: int) -> None:
    """Integer values split by key into 3 parts: sums, counts and rates come out exact."""
    rng = np.random.default_rng(seed)
    n_keys, days = 40, pd.date_range("2026-01-01", periods=9, freq="D")
    values = rng.integers(0, 4, (3, n_keys, len(days))).astype(float)
    values[rng.random(values.shape) < 0.2] = np.nan
    keys = pd.DataFrame(
        {"sku": pd.Series([f"S{i:03d}" for i in range(n_keys)], dtype="str"), "location": "main"}
    ).astype({"location": "str"})
    config = ClientConfig(id="synthetic", root=Path("."), name="s", authority="wms", tolerance=1)
    catalog = pd.DataFrame({"sku": keys["sku"], "unit_cost": rng.integers(1, 9, n_keys) / 4})
    whole = compare(_grid(values, keys, days), config, catalog)
    part = rng.integers(0, 3, n_keys)
    results = []
    for bucket in range(3):
        sub = _grid(values[:, part == bucket], keys[part == bucket], days)
        comparison = compare(sub, config, catalog)
        results.append(
            scale_part.BucketResult(
                bucket,
                scale_part.headline_parts(sub, comparison, config),
                pd.DataFrame(),
                comparison.daily,
                comparison.episodes,
                scale_part.bias_parts(sub, config),
                comparison.by_category,
                comparison.by_location,
                comparison.key_drift,
                authority_days(sub, catalog_columns(sub.keys, catalog)[0]),
            )
        )
    headline = merge.combined_headline(results, len(days))
    assert headline == whole.headline
    pd.testing.assert_frame_equal(merge.combined_daily([r.daily for r in results]), whole.daily)
    grid = _grid(values, keys, days)
    episodes = merge.combined_episodes(grid, [r.episodes for r in results])
    pd.testing.assert_frame_equal(episodes, whole.episodes, check_exact=True)


# --- errors ----------------------------------------------------------------------------------


def test_a_folder_without_buckets_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="driftkit ingest"):
        bucket_numbers(tmp_path)


@pytest.mark.parametrize(
    ("engine", "scheduler", "message"),
    [("spark", None, "not known"), ("pandas", "tcp://127.0.0.1:8786", "needs --engine dask")],
    ids=["unknown-engine", "scheduler-without-dask"],
)
def test_engine_options_are_checked(engine: str, scheduler: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message), mapper(engine, scheduler=scheduler):
        pass
