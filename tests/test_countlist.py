"""Count list (DESIGN §7): ranking, reasons, causes; lift against simulated truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.config import ImpactParams
from driftkit.impact import countlist, lift

PARAMS = ImpactParams()  # horizon 8 weeks = 56 days
NAN = np.nan


def make_state(**overrides: object) -> countlist.KeyState:
    """Four keys: phantom on the shop, oversell on the shop, ERP overstated, all agree."""
    n = 4
    base: dict[str, object] = {
        "keys": pd.DataFrame({"sku": list("ABCD"), "location": "main"}),
        "authority_name": "wms",
        "authority": np.array([20.0, 0.0, 30.0, 8.0]),
        "selling": np.array([[0.0, 6.0, 30.0, 8.0]]),
        "selling_systems": ("shop",),
        "drift": np.array([[0.0, 0.0, 12.0, 0.0], [-20.0, 6.0, 0.0, 0.0]]),
        "drift_systems": ("erp", "shop"),
        "rate": np.array([1.0, 1.0, 2.0, 5.0]),
        "sd": np.zeros(n),
        "lead_time": np.full(n, 7.0),
        "z": np.full(n, 1.6448536269514722),
        "unit_cost": np.full(n, 4.0),
        "unit_price": np.full(n, 10.0),
        "extra_capital": np.zeros(n),
        "window_value": np.zeros(n),
    }
    base.update(overrides)
    return countlist.KeyState(**base)  # type: ignore[arg-type]


def test_selling_component_prices_phantom_and_oversell() -> None:
    part = countlist.selling_component(make_state(), PARAMS, 56.0)
    # A: min(56, 20) − 0 = 20 units, × 0.4 × 10; B: min(56, 6) − 0 = 6 oversold × 15
    np.testing.assert_allclose(part.value, [20 * 0.4 * 10, 6 * 15.0, 0.0, 0.0])
    assert part.reason[0].startswith("phantom stockout: shop shows 0 available, wms 20")
    assert part.reason[1].startswith("oversell: shop shows 6 available, wms 0")


def test_unknown_authority_costs_nothing() -> None:
    state = make_state(authority=np.array([NAN, NAN, NAN, NAN]))
    assert countlist.selling_component(state, PARAMS, 56.0).value.sum() == 0


def test_record_component_prices_a_late_reorder() -> None:
    part = countlist.record_component(make_state(), PARAMS, 56.0)
    # C: ERP +12 with σ = 0 → 12 units short over the lead time, × 0.4 × 10
    assert part.value[2] == pytest.approx(12 * 0.4 * 10)
    assert part.system[2] == "erp"
    assert part.reason[2] == "late reorder: erp overstates by 12 (6 days of demand)"


def test_count_list_ranks_by_expected_value_with_reason_system_and_cause() -> None:
    findings = pd.DataFrame(
        {
            "sku": ["A", "A", "C"],
            "location": "main",
            "system": ["shop", "shop", "erp"],
            "cause": ["sync_lag", "stale_overwrite", "duplicate_event"],
            "units": [-2.0, -18.0, 12.0],
        }
    )
    table = countlist.count_list(make_state(), PARAMS, findings)
    assert tuple(table.columns) == countlist.COUNT_LIST_COLUMNS
    assert list(table["sku"]) == ["B", "A", "C", "D"]  # 90, 80, 48, 0
    assert list(table["rank"]) == [1, 2, 3, 4]
    top = table.set_index("sku")
    assert top.loc["A", "system"] == "shop"
    assert top.loc["A", "cause"] == "stale_overwrite"  # the larger finding
    assert top.loc["A", "drift_units"] == -20
    assert pd.isna(top.loc["B", "cause"])
    assert top.loc["D", "reason"] == "no drift seen"


def test_a_tie_between_causes_goes_to_the_latest_finding_whatever_the_rows_around() -> None:
    """Two shop findings on A explain 2 units × 0.95 each: the later one names the cause.

    Sorting on size alone (an unstable sort) let the rows of other keys decide the tie, so a
    partitioned audit (one bucket's findings) and the whole client disagreed on the cause.
    """
    tied = pd.DataFrame(
        {
            "sku": ["A", "A"],
            "location": "main",
            "system": "shop",
            "cause": ["stale_overwrite", "unrecorded_change"],
            "last_seen": pd.to_datetime(["2026-10-30", "2026-09-18"], utc=True),
            "units": [2.0, 2.0],
            "confidence": [0.95, 0.95],
        }
    )
    others = pd.DataFrame(
        {
            "sku": [f"Z{i}" for i in range(20)],
            "location": "main",
            "system": "shop",
            "cause": "missing_event",
            "last_seen": pd.Timestamp("2026-09-01", tz="UTC"),
            "units": np.tile([2.0, 1.0, 3.0, 2.0], 5),
            "confidence": 0.95,
        }
    )
    embedded = pd.concat([others[:7], tied, others[7:]], ignore_index=True)  # quicksort swaps
    for findings in (tied, tied[::-1], embedded):
        table = countlist.count_list(make_state(), PARAMS, findings).set_index("sku")
        assert table.loc["A", "cause"] == "stale_overwrite"


def test_count_list_without_findings_has_no_causes() -> None:
    table = countlist.count_list(make_state(), PARAMS, None)
    assert table["cause"].isna().all()


def test_open_drift_without_demand_still_outranks_no_drift() -> None:
    state = make_state(rate=np.zeros(4))
    table = countlist.count_list(state, PARAMS)
    assert table["sku"].iloc[-1] == "D"
    assert (table["expected_value"] == 0).all()


def test_last_observed_skips_trailing_gaps() -> None:
    values = np.array([[1.0, 2.0, NAN], [NAN, NAN, NAN], [3.0, NAN, 4.0]])
    np.testing.assert_array_equal(countlist.last_observed(values), [2.0, NAN, 4.0])


def test_lift_counts_hits_against_expected_random_hits() -> None:
    keys = pd.DataFrame({"sku": list("ABCDEFGHIJ"), "location": "main"})
    truth = keys.assign(
        discrepant=[True, True, False, False, False, False, False, False, False, False]
    )
    ranking = keys.iloc[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]
    velocity = keys.iloc[[9, 0, 8, 7, 6, 5, 4, 3, 2, 1]]
    table = lift.count_list_lift({"count_list": ranking, "velocity": velocity}, truth, top_n=(2,))
    table = table.set_index("policy")
    assert table.loc["count_list", "hits"] == 2
    assert table.loc["velocity", "hits"] == 1
    assert table.loc["random", "hits"] == pytest.approx(0.4)
    assert table.loc["count_list", "lift"] == pytest.approx(5.0)
    assert table.loc["random", "lift"] == pytest.approx(1.0)


# --- lift on simulated truth -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_count_list_finds_more_discrepancies_than_random_and_velocity(seed: int, tmp_path) -> None:
    from types import SimpleNamespace

    from driftkit.config import load_config
    from driftkit.drift.align import align
    from driftkit.drift.compare import compare
    from driftkit.impact.estimate import estimate_impact
    from driftkit.simulate.simulation import simulate

    sim = simulate(tmp_path / "c", skus=400, days=30, seed=seed, faults="default")
    config = load_config(sim.path)
    grid = align(sim.snapshots, config)
    data = SimpleNamespace(
        snapshots=sim.snapshots, events=sim.events, catalog=sim.catalog, counts=sim.counts
    )
    result = estimate_impact(data, grid, compare(grid, config, sim.catalog), None, config)
    truth = lift.discrepant_keys(grid.values, grid.keys, grid.days, sim.physical)
    velocity = lift.velocity_ranking(grid.keys, result.per_key["demand_rate"].to_numpy())
    lifts = lift.count_list_lift(
        {"count_list": result.count_list, "velocity": velocity}, truth, top_n=(25, 50)
    ).pivot(index="top_n", columns="policy", values="lift")
    assert (lifts["count_list"] > 2.0).all()
    assert (lifts["count_list"] > lifts["velocity"]).all()
