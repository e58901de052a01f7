"""Cause attribution (driftkit.causes.attribute) on small simulated stacks with known faults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit import schema
from driftkit.causes.attribute import FINDING_COLUMNS, Attribution
from driftkit.causes.episodes import covering
from driftkit.config import ClientConfig, SystemConfig
from driftkit.load.client import ClientData
from driftkit.schema import Cause, SystemKind
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
    from driftkit.causes.episodes import timing_drift
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


# --- structured references: hand-made events whose findings are known --------------------


def handmade_client() -> ClientData:
    """wms (authority) and shop, one SKU, 1–7 Sept 2026.

    wms applies shipment ``SO-001001`` twice (event ids W1, W2; shop has it once as S1);
    wms receipts PO-000201..203 (R1..R3) reach the shop as T1, T2 except the first, which
    the shop never records; the shop's count drops by 3 on the 6th with no event at all.
    """
    events = pd.DataFrame(
        [
            ("wms", "W1", "shipment", -1.0, "2026-09-03T10:00Z", "1001", "SO-001001"),
            ("wms", "W2", "shipment", -1.0, "2026-09-03T10:20Z", "1001", "SO-001001"),
            ("shop", "S1", "shipment", -1.0, "2026-09-03T10:05Z", "1001", "#1001"),
            ("wms", "R1", "receipt", 5.0, "2026-09-03T08:00Z", "201", "PO-000201"),
            ("wms", "R2", "receipt", 5.0, "2026-09-04T08:00Z", "202", "PO-000202"),
            ("shop", "T1", "receipt", 5.0, "2026-09-04T09:00Z", "202", "PO-000202"),
            ("wms", "R3", "receipt", 5.0, "2026-09-05T08:00Z", "203", "PO-000203"),
            ("shop", "T2", "receipt", 5.0, "2026-09-05T09:00Z", "203", "PO-000203"),
        ],
        columns=[
            "system",
            "event_id",
            "kind",
            "qty_delta",
            "occurred_at",
            "reference",
            "raw_reference",
        ],
    )
    events = events.assign(
        sku="A", location="main", occurred_at=pd.to_datetime(events["occurred_at"], utc=True)
    )
    days = pd.date_range("2026-09-01T23:00Z", periods=7, freq="D")
    wms = [10, 10, 13, 18, 23, 23, 23]  # the duplicate and the three receipts
    shop = [10, 10, 9, 14, 19, 16, 16]  # one shipment, two receipts, −3 unrecorded on the 6th
    snapshots = pd.DataFrame(
        {
            "system": ["wms"] * 7 + ["shop"] * 7,
            "sku": "A",
            "location": "main",
            "as_of": days.append(days),
            "on_hand": [float(v) for v in wms + shop],
        }
    )
    systems = {
        "wms": SystemConfig("wms", SystemKind.WMS),
        "shop": SystemConfig("shop", SystemKind.STOREFRONT),
    }
    config = ClientConfig(id="t", root=Path("."), name="t", authority="wms", systems=systems)
    return ClientData(
        config=config,
        snapshots=schema.conform(snapshots, "snapshots"),
        events=schema.conform(events, "events"),
        counts=schema.empty("counts"),
        catalog=schema.empty("catalog"),
        rejects=schema.empty("rejects"),
        files=pd.DataFrame(),
        notes=(),
    )


@pytest.fixture(scope="module")
def handmade() -> pd.DataFrame:
    result, _ = attribute_data(handmade_client())
    return result.findings


def test_duplicate_finding_carries_its_reference_and_event_ids(handmade: pd.DataFrame) -> None:
    dup = handmade[handmade["cause"] == "duplicate_event"]
    assert dup[["system", "reference", "event_ids"]].values.tolist() == [["wms", "1001", "W1;W2"]]


def test_missing_finding_carries_the_reference_and_the_source_event(
    handmade: pd.DataFrame,
) -> None:
    lost = handmade[handmade["cause"] == "missing_event"]
    assert lost[["system", "reference", "event_ids"]].values.tolist() == [["shop", "201", "R1"]]


def test_value_based_findings_have_no_reference_or_event_ids(handmade: pd.DataFrame) -> None:
    on_values = handmade[handmade["cause"] == "unrecorded_change"]
    assert len(on_values) and set(on_values["system"]) == {"shop"}
    assert (on_values["reference"] == "").all() and (on_values["event_ids"] == "").all()
    assert handmade["reference"].dtype == "str" and handmade["event_ids"].dtype == "str"
