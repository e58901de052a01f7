"""Cause attribution (driftkit.causes.attribute) on small simulated stacks with known faults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit.causes.attribute import FINDING_COLUMNS, Attribution, covering
from driftkit.schema import Cause
from driftkit.simulate.score import attribute_data, client_data
from driftkit.simulate.simulation import Faults, Simulation, simulate

Run = tuple[Simulation, Attribution]


def run(tmp: Path, faults: str | Faults, seed: int = 11, skus: int = 60) -> Run:
    sim = simulate(tmp / "client", skus=skus, days=21, seed=seed, faults=faults)
    result, _ = attribute_data(client_data(sim))
    return sim, result


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run(tmp_path_factory.mktemp("default"), "high")


@pytest.fixture(scope="module")
def calm(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run(tmp_path_factory.mktemp("calm"), "none")


def test_result_shape(default: Run) -> None:
    _, result = default
    assert list(result.findings.columns) == FINDING_COLUMNS
    assert set(result.findings_by_cause) == {str(c) for c in Cause}
    assert sum(result.findings_by_cause.values()) == len(result.findings)
    assert 0.0 <= result.explained_share <= 1.0
    assert result.findings["confidence"].between(0, 1).all()
    assert result.findings["evidence"].str.len().gt(20).all()
    assert (result.findings["first_seen"] <= result.findings["last_seen"]).all()
    assert "business_event" in result.matches.columns


def test_no_faults_no_findings(calm: Run) -> None:
    _, result = calm
    assert result.findings.empty
    assert result.callouts == []
    assert (result.handoffs["missing"] == 0).all()


def test_findings_are_priced(default: Run) -> None:
    sim, result = default
    cost = result.findings["sku"].map(sim.catalog.set_index("sku")["unit_cost"])
    expected = result.findings["units"].abs() * cost
    np.testing.assert_allclose(result.findings["value"], expected)


#: measured on this small high-rate stack (60 SKUs × 21 days): unrecorded changes on the
#: first day and on days the 3PL skipped a snapshot have no residual (docs/causes.md)
FLOOR = {str(c): 0.85 for c in Cause} | {"unrecorded_change": 0.8}


@pytest.mark.parametrize("cause", [str(c) for c in Cause], ids=str)
def test_cause_goes_to_the_system_with_the_wrong_record(default: Run, cause: str) -> None:
    sim, result = default
    key = ["system", "sku", "location"]
    found = result.findings.loc[result.findings["cause"] == cause, key].drop_duplicates()
    truth = sim.ground_truth.loc[sim.ground_truth["cause"] == cause, key].drop_duplicates()
    right = len(found.merge(truth, on=key))
    assert len(truth) > 0
    assert right >= FLOOR[cause] * len(truth)
    assert right >= FLOOR[cause] * len(found)


def test_duplicate_evidence_names_references_times_and_ids(default: Run) -> None:
    _, result = default
    dup = result.findings[result.findings["cause"] == "duplicate_event"]
    assert len(dup)
    assert (
        dup["evidence"]
        .str.contains(r"applied (?:twice|\d+ times) in \w+ at .+ and .+\(event id")
        .all()
    )
    assert (dup["units"] < 0).all()


def test_missing_receipts_lower_the_target_count(default: Run) -> None:
    _, result = default
    missing = result.findings[result.findings["cause"] == "missing_event"]
    receipts = missing[missing["evidence"].str.startswith("receipt")]
    assert len(receipts) and (receipts["units"] < 0).all()
    assert (missing["system"] != missing["counterpart"]).all()


def test_po_format_failure_is_called_out(tmp_path: Path) -> None:
    _, result = run(tmp_path, "missing_event", seed=3, skus=120)
    assert any("wms never received" in c and "`PO#999-A`" in c for c in result.callouts)


def test_every_episode_against_the_authority_is_covered_or_timing(default: Run) -> None:
    sim, result = default
    data = client_data(sim)
    from driftkit.causes.attribute import timing_drift
    from driftkit.drift.align import align
    from driftkit.drift.compare import compare

    grid = align(data.snapshots, data.config)
    episodes = compare(grid, data.config, data.catalog).episodes
    covered = covering(result.findings, episodes, data.config.timezone).any(axis=1).to_numpy()
    timing = timing_drift(data, grid, episodes)
    assert (covered | timing).all()


def test_inputs_are_not_mutated(tmp_path: Path) -> None:
    sim = simulate(tmp_path / "c", skus=20, days=10, seed=5, faults="high")
    data = client_data(sim)
    before = {
        name: getattr(data, name).copy() for name in ("events", "snapshots", "counts", "catalog")
    }
    attribute_data(data)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(getattr(data, name), frame)
