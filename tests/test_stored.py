"""Stored tables: partitioned workers write per-key tables as Parquet parts, not to the driver.

A committed sample client in 3 buckets is audited in process (``run_audit`` reading the same
ingest) and bucket by bucket; the partitioned run's workers store ``count_accuracy``,
per-key impact, the count list and demand as parts and send back only sums (and the count
list's first rows), and the run folder it writes holds the same files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from driftkit.audit import Audit, run_audit
from driftkit.config import load_config
from driftkit.drift.accuracy import _accuracy, accuracy_from_sums, accuracy_sums
from driftkit.drift.breakdown import rank_worst_keys
from driftkit.errors import ReportError
from driftkit.load.ingest import ingest
from driftkit.scale import outputs
from driftkit.scale import stored as stored_module
from driftkit.scale.bucket import audit_bucket, bucket_numbers
from driftkit.scale.kept import of_keys
from driftkit.scale.partition import PartitionedAudit, run_partitioned
from driftkit.scale.report import report_view
from driftkit.scale.stored import (
    PARTS,
    STORED,
    TOP_ROWS,
    UNWRITTEN,
    WORST_KEYS,
    StoredPart,
    StoredTable,
    discard_parts,
    store_part,
)

ROOT = Path(__file__).resolve().parents[1]
RUN_AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Runs:
    whole: Audit
    parted: PartitionedAudit
    whole_dir: Path
    parted_dir: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """brightline-home audited in process and in 3 buckets, both run folders written."""
    work = tmp_path_factory.mktemp("stored")
    config = load_config(ROOT / "data/sample/brightline-home")
    processed = work / "data" / "processed" / config.id
    ingest(config, out=processed, buckets=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)  # run_audit reads the same fresh ingest from data/processed/<client>
        whole = run_audit(config, run_at=RUN_AT, out_dir=work / "whole")
    parted_dir = work / "parted"
    parted = run_partitioned(config, processed, jobs=2, run_at=RUN_AT, parts_dir=parted_dir / PARTS)
    parted.write(parted_dir)
    return Runs(whole, parted, work / "whole", parted_dir)


def test_a_worker_sends_no_count_accuracy_rows(runs: Runs) -> None:
    """The bucket's result holds the stored part's path and per-system sums, never rows."""
    plan = runs.parted.plan
    assert plan.parts is not None
    for bucket in bucket_numbers(plan.path) if plan.path else ():
        full = audit_bucket(plan, bucket).full
        for key in STORED.values():
            assert isinstance(full[key], StoredPart)
            assert pq.read_metadata(full[key].path).num_rows == full[key].rows
        sums = full["accuracy"]
        assert list(sums.columns) == ["counts", "counted", "exact", "error_sum", "abs_error_sum"]
        assert len(sums) <= len(plan.found)  # one row per system, whatever the keys
    assert "count_accuracy" not in runs.parted.tables
    assert runs.parted.stored["count_accuracy"].rows == len(runs.whole.tables["count_accuracy"])


def test_a_worker_sends_no_per_key_impact_rows(runs: Runs) -> None:
    """Per-key impact and demand stay in the parts; the count list sends its first rows."""
    plan = runs.parted.plan
    assert plan.path is not None
    for bucket in bucket_numbers(plan.path):
        impact = audit_bucket(plan, bucket).full["impact"]
        assert impact.per_key.empty and impact.demand.empty
        assert list(impact.per_key.columns) == list(runs.whole.impact.per_key.columns)
        assert 0 < len(impact.count_list) <= TOP_ROWS
    assert {"impact", "count_list"}.isdisjoint(runs.parted.tables)
    assert runs.parted.impact is not None and runs.parted.impact.per_key.empty


def test_a_worker_sends_findings_and_episodes_of_few_rows(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Findings of the report's rows only (the rest stays in the part); episodes of the
    worst keys."""
    plan = runs.parted.plan
    assert plan.path is not None
    monkeypatch.setattr(stored_module, "TOP_ROWS", 3)  # the sample's buckets have < 100 findings
    for bucket in bucket_numbers(plan.path):
        result = audit_bucket(plan, bucket)
        findings = result.full["attribution"].findings
        worst = result.key_drift[["sku", "location"]].drop_duplicates()
        assert of_keys(result.episodes, worst).all() and len(result.episodes) > 0
        mine = of_keys(findings, worst).sum()
        assert len(findings) <= 3 + mine < result.full["finding_rows"].rows
        assert findings["evidence"].notna().all()
        assert result.explanations is not None and result.explanations["episodes"].sum() > 0
    assert {"findings", "episodes"}.isdisjoint(runs.parted.tables)
    whole = json.loads((runs.whole_dir / "summary.json").read_text())["episodes_by_explanation"]
    assert runs.parted.summary["episodes_by_explanation"] == whole


def test_a_worker_sends_the_key_drift_of_its_worst_keys_only(runs: Runs) -> None:
    plan, whole = runs.parted.plan, runs.whole.comparison.key_drift
    assert plan.path is not None
    for bucket in bucket_numbers(plan.path):
        sent = audit_bucket(plan, bucket).key_drift
        assert 0 < sent[["sku", "location"]].drop_duplicates().shape[0] <= WORST_KEYS
    assert len(runs.parted.comparison.key_drift) < len(whole)
    parted = rank_worst_keys(runs.parted.comparison.key_drift, WORST_KEYS)
    pd.testing.assert_frame_equal(parted, rank_worst_keys(whole, WORST_KEYS), check_exact=True)


def test_the_report_asks_for_no_more_keys_than_the_buckets_sent(runs: Runs) -> None:
    with pytest.raises(ReportError, match=f"at most {WORST_KEYS} drill-downs"):
        report_view(runs.parted, keys=WORST_KEYS + 1)


def test_the_driver_keeps_the_count_lists_first_rows(runs: Runs) -> None:
    whole, parted = runs.whole.impact.count_list, runs.parted.impact
    assert parted is not None and len(whole) > 0
    expected = whole.head(TOP_ROWS)
    pd.testing.assert_frame_equal(parted.count_list, expected, check_exact=True)
    assert runs.parted.stored["count_list"].rows == len(whole)


def test_the_stored_demand_reads_back_in_key_order(runs: Runs) -> None:
    demand = runs.parted.stored["demand"].read()
    pd.testing.assert_frame_equal(demand, runs.whole.impact.demand, check_exact=True)
    assert not (runs.parted_dir / "demand.parquet").exists()  # not a run file


#: Stored tables whose floats equal the in-process ones only up to summation order
#: (docs/scale.md): a finding's units sum a key's residuals, in another order per bucket.
SUMMED_ROWS = ("findings",)


def assert_same_rows(name: str, parted: pd.DataFrame, whole: pd.DataFrame) -> None:
    """The partitioned run's rows of a stored table are the in-process run's."""
    exact = name not in SUMMED_ROWS
    pd.testing.assert_frame_equal(parted, whole, check_exact=exact, rtol=1e-12)


def test_the_run_folders_hold_the_same_stored_files(runs: Runs) -> None:
    assert set(runs.parted.stored) == set(STORED)
    for name in (n for n in STORED if n not in UNWRITTEN):
        whole = pq.read_table(runs.whole_dir / f"{name}.parquet").to_pandas()
        parted = pq.read_table(runs.parted_dir / f"{name}.parquet").to_pandas()
        assert len(whole) > 0
        assert_same_rows(name, parted, whole)
        csv = f"{name}.csv"
        if name not in SUMMED_ROWS:
            assert (runs.parted_dir / csv).read_bytes() == (runs.whole_dir / csv).read_bytes()
    manifest = json.loads((runs.parted_dir / outputs.MANIFEST).read_text())
    assert manifest == json.loads((runs.whole_dir / outputs.MANIFEST).read_text())
    assert list(manifest) == [n for n in outputs.ORDER if n in manifest]


def test_the_summaries_agree(runs: Runs) -> None:
    whole = json.loads((runs.whole_dir / "summary.json").read_text())
    parted = json.loads((runs.parted_dir / "summary.json").read_text())
    assert parted["record_accuracy"] == whole["record_accuracy"]
    recommended = ("recommended", "configured", "basis", "counts", "top_fixes")
    chosen = parted["authority_recommendation"], whole["authority_recommendation"]
    assert [{k: c.get(k) for k in recommended} for c in chosen] == [
        {k: chosen[1].get(k) for k in recommended}
    ] * 2  # its headline floats equal up to summation order (test_partition)


def test_discarding_the_parts_points_at_the_run_files(runs: Runs, tmp_path: Path) -> None:
    runs.parted.write(tmp_path)
    part = store_part(tmp_path / PARTS, "count_accuracy", 0, pd.DataFrame({"a": [1]}))
    assert part.path.is_file()
    stored = discard_parts(runs.parted.stored, tmp_path)
    assert not (tmp_path / PARTS).exists()
    assert set(stored) == set(STORED) - set(UNWRITTEN)  # demand's parts are gone with them
    for name in stored:
        assert_same_rows(name, stored[name].read(), runs.whole.tables[name])


def test_streaming_cuts_the_csv_across_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSV holds the first rows over all parts, an empty first part included."""
    frames = [
        pd.DataFrame({"sku": pd.Series([], dtype=object), "qty": pd.Series([], dtype=float)}),
        pd.DataFrame({"sku": ["a", "b"], "qty": [1.0, np.nan]}),
        pd.DataFrame({"sku": ["c", "d", "e"], "qty": [3.0, 4.0, 5.0]}),
    ]
    parts = tuple(store_part(tmp_path, "count_accuracy", n, f) for n, f in enumerate(frames))
    monkeypatch.setattr(outputs, "CSV_ROWS", 3)
    manifest = outputs.write_tables({}, tmp_path, {"count_accuracy": StoredTable("x", parts)})
    assert manifest == {
        "count_accuracy": {"rows": 5, "csv_rows": 3, "parquet": "count_accuracy.parquet"}
    }
    assert (tmp_path / "count_accuracy.csv").read_text().splitlines() == [
        '"sku","qty"', '"a",1', '"b",', '"c",3'
    ]  # fmt: skip
    whole = pq.read_table(tmp_path / "count_accuracy.parquet").to_pandas()
    pd.testing.assert_frame_equal(whole, pd.concat(frames[1:], ignore_index=True))


def test_accuracy_from_split_sums_equals_the_whole() -> None:
    rng = np.random.default_rng(5)
    n = 60
    error = rng.integers(-3, 4, n).astype(float)
    error[rng.random(n) < 0.3] = np.nan
    errors = pd.DataFrame(
        {
            "system": rng.choice(["wms", "pos", "erp"], n),
            "error": error,
            "exact": np.abs(error) <= 1,
        }
    )
    systems = ["erp", "pos", "wms", "ecom"]  # ecom: never counted
    split = accuracy_from_sums(
        [accuracy_sums(errors.iloc[s]) for s in np.array_split(np.arange(n), 4)], systems
    )
    whole = _accuracy(errors, systems)
    pd.testing.assert_frame_equal(split, whole, check_exact=False, rtol=1e-12)
    assert whole["counts"].tolist()[-1] == 0 and np.isnan(whole["record_accuracy"].iloc[-1])
    by_hand = errors[errors["system"] == "wms"]
    counted = by_hand["error"].notna()
    assert whole.loc[2, "record_accuracy"] == (by_hand["exact"] & counted).sum() / counted.sum()
    assert whole.loc[2, "mean_abs_error"] == pytest.approx(by_hand["error"].abs().mean())
