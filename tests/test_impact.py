"""Impact (DESIGN §7): hand-built grids with known answers, invariants, and simulated truth."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from driftkit import schema
from driftkit.config import ClientConfig, ImpactParams, SystemConfig
from driftkit.drift.align import align
from driftkit.drift.compare import compare
from driftkit.impact import estimate as impact
from driftkit.schema import SystemKind, conform, empty

START = pd.Timestamp("2026-03-02 22:00", tz="UTC")  # a Monday, evening
KINDS = {"wms": SystemKind.WMS, "erp": SystemKind.ERP, "shop": SystemKind.STOREFRONT}
TOTAL_KEYS = {
    "phantom_stockout_sku_days",
    "lost_sales_units",
    "lost_revenue",
    "oversell_units",
    "pick_failure_cost",
    "extra_safety_stock_capital",
    "forecast_bias_share",
}


def make_config(**impact_params: object) -> ClientConfig:
    systems = {s: SystemConfig(id=s, kind=k, snapshots="x.csv") for s, k in KINDS.items()}
    return ClientConfig(
        id="t",
        root=Path("/nonexistent"),
        name="t",
        authority="wms",
        systems=systems,
        impact=ImpactParams(**impact_params),  # type: ignore[arg-type]
    )


def make_snapshots(records: dict[str, list[list[float]]], **available: list[list[float]]):
    """One snapshot per system, key (A, B, ...) and day; ``available`` overrides per system."""
    frames = []
    for system, rows in records.items():
        values = np.asarray(rows, dtype=float)
        avail = np.asarray(available.get(system, rows), dtype=float)
        keys, days = np.indices(values.shape)
        frames.append(
            pd.DataFrame(
                {
                    "system": system,
                    "sku": np.array(list("ABCDEFGH"))[keys.ravel()],
                    "location": "main",
                    "as_of": START + pd.to_timedelta(days.ravel(), unit="D"),
                    "on_hand": values.ravel(),
                    "available": avail.ravel(),
                }
            )
        )
    return conform(pd.concat(frames, ignore_index=True), "snapshots")


def make_shipments(units: list[list[float]], system: str = "wms") -> pd.DataFrame:
    table = np.asarray(units, dtype=float)
    keys, days = np.nonzero(table)
    return conform(
        pd.DataFrame(
            {
                "system": system,
                "sku": np.array(list("ABCDEFGH"))[keys],
                "location": "main",
                "event_id": [f"s{i}" for i in range(len(keys))],
                "kind": "shipment",
                "qty_delta": -table[keys, days],
                "occurred_at": START - pd.Timedelta(hours=6) + pd.to_timedelta(days, unit="D"),
                "reference": [f"SO{i}" for i in range(len(keys))],
            }
        ),
        "events",
    )


CATALOG = conform(
    pd.DataFrame({"sku": list("AB"), "unit_cost": [4.0, 2.0], "unit_price": [10.0, 5.0]}),
    "catalog",
)


def run(snapshots, events, config=None, attribution=None, catalog=CATALOG):
    config = config or make_config()
    grid = align(snapshots, config)
    comparison = compare(grid, config, catalog)
    data = SimpleNamespace(
        snapshots=snapshots, events=events, catalog=catalog, counts=schema.empty("counts")
    )
    return impact.estimate_impact(data, grid, comparison, attribution, config)


# --- phantom stockouts, censored demand, lost sales --------------------------------------------

PHANTOM_SHOP = [10, 10, 0, 0, 0, 10, 10, 10, 10, 10]


@pytest.fixture(scope="module")
def phantom_case():
    snaps = make_snapshots({"wms": [[10] * 10], "erp": [[10] * 10], "shop": [PHANTOM_SHOP]})
    # two units a day, none shipped while the storefront showed 0 (censored days)
    ships = make_shipments([[0 if v == 0 else 2 for v in PHANTOM_SHOP]])
    return snaps, ships, run(snaps, ships)


def test_phantom_days_are_counted(phantom_case) -> None:
    *_, result = phantom_case
    assert result.per_key.loc[0, "phantom_days"] == 3
    assert result.totals["phantom_stockout_sku_days"] == 3


def test_demand_rate_leaves_out_censored_days(phantom_case) -> None:
    *_, result = phantom_case
    assert result.per_key.loc[0, "demand_rate"] == pytest.approx(2.0)  # not 14/10 = 1.4
    assert result.demand.loc[0, "censored_days"] == 3


def _poisson_at_least(mean: float, units: int) -> float:
    """P(X ≥ units) for X ~ Poisson(mean)."""
    return 1 - sum(math.exp(-mean) * mean**x / math.factorial(x) for x in range(units))


#: Poisson(2) demand served by the WMS's 10 units: E[min(X, 10)] = Σ_{j<10} P(X ≥ j + 1).
SERVABLE = sum(_poisson_at_least(2.0, j + 1) for j in range(10))


def test_lost_sales_are_demand_on_phantom_days_times_walk_away(phantom_case) -> None:
    *_, result = phantom_case
    assert 0 < 2.0 - SERVABLE < 1e-4  # 10 units held: nearly all of the demand
    assert result.per_key.loc[0, "lost_sales_units"] == pytest.approx(3 * SERVABLE * 0.40)
    assert result.per_key.loc[0, "lost_revenue"] == pytest.approx(3 * SERVABLE * 0.40 * 10.0)
    assert result.per_key.loc[0, "forecast_bias_share"] == pytest.approx(0.3)
    assert bool(result.per_key.loc[0, "contaminated"])


def test_walk_away_share_is_a_parameter(phantom_case) -> None:
    snaps, ships, _ = phantom_case
    result = run(snaps, ships, make_config(walk_away_share=0.1))
    assert result.totals["lost_sales_units"] == pytest.approx(3 * SERVABLE * 0.1)


def test_sell_out_day_loses_only_demand_beyond_its_sales() -> None:
    """The storefront ends day 5 at 0 after shipping 1 unit: not a whole day's demand lost.

    Rate 2 (sd 0: Poisson), so the unmet demand is E[X − 1 | X ≥ 1] for X ~ Poisson(2)
    = (2 − 1 + e^−2) ÷ (1 − e^−2), less what the WMS's 10 units could not have served:
    E[(X − 11)⁺] ÷ P(X ≥ 1); a day out from its start (nothing shipped) loses 2.
    """
    shop = [10, 10, 10, 10, 10, 0, 10, 10, 10, 10]
    snaps = make_snapshots({"wms": [[10] * 10], "erp": [[10] * 10], "shop": [shop]})
    ships = make_shipments([[2, 2, 2, 2, 2, 1, 2, 2, 2, 2]])
    result = run(snaps, ships)
    beyond = sum(_poisson_at_least(2.0, j) for j in range(12, 60))  # E[(X − 11)⁺]
    unmet = (2 - 1 + math.exp(-2) - beyond) / (1 - math.exp(-2))
    assert result.per_key.loc[0, "phantom_days"] == 1
    assert result.per_key.loc[0, "lost_sales_units"] == pytest.approx(0.40 * unmet, rel=1e-12)


def test_true_stockout_is_not_phantom() -> None:
    snaps = make_snapshots({"wms": [[0, 0, 5]], "erp": [[0, 0, 5]], "shop": [[0, 0, 5]]})
    result = run(snaps, make_shipments([[0, 0, 1]]))
    assert result.totals["phantom_stockout_sku_days"] == 0
    assert result.totals["lost_sales_units"] == 0


def test_authority_available_decides_phantom() -> None:
    """All stock committed in the WMS: the storefront's 0 is right, not a phantom."""
    snaps = make_snapshots(
        {"wms": [[4, 4]], "erp": [[4, 4]], "shop": [[0, 0]]}, wms=[[0, 4]], shop=[[0, 0]]
    )
    result = run(snaps, make_shipments([[1, 1]]))
    assert result.totals["phantom_stockout_sku_days"] == 1


def test_stock_declines_stand_in_for_missing_events() -> None:
    snaps = make_snapshots({"wms": [[20, 18, 16, 14, 12]], "erp": [[20] * 5], "shop": [[9] * 5]})
    result = run(snaps, empty("events"))
    assert result.per_key.loc[0, "demand_rate"] == pytest.approx(2.0)


def test_replayed_shipment_counts_once() -> None:
    snaps = make_snapshots({"wms": [[10, 10]], "erp": [[10, 10]], "shop": [[10, 10]]})
    ships = make_shipments([[2, 2]])
    replayed = pd.concat([ships, ships.iloc[[0]].assign(event_id="s9")], ignore_index=True)
    result = run(snaps, replayed)
    assert result.per_key.loc[0, "demand_rate"] == pytest.approx(2.0)


def test_weekday_profile_scales_expected_demand() -> None:
    days = 28
    weekend = [(3 if (d % 7) >= 5 else 1) for d in range(days)]  # START is a Monday
    snaps = make_snapshots({"wms": [[50] * days], "erp": [[50] * days], "shop": [[50] * days]})
    result = run(snaps, make_shipments([weekend]))
    index = np.asarray(result.weekday_index)
    assert index[5] == pytest.approx(3 * index[0])
    assert index.mean() == pytest.approx(1.0)


# --- oversell, reorder, safety stock ----------------------------------------------------------


def test_oversell_is_demand_the_authority_cannot_fill() -> None:
    wms = [9, 9, 0, 0, 0, 0]
    snaps = make_snapshots({"wms": [wms], "erp": [wms], "shop": [[9, 9, 5, 5, 1, 0]]})
    ships = make_shipments([[2, 2, 0, 0, 0, 0]])
    result = run(snaps, ships, make_config(pick_failure_cost=15.0))
    # demand 2/day; min(2, 5) + min(2, 5) + min(2, 1) + 0 units sold beyond the WMS's 0
    assert result.per_key.loc[0, "oversell_units"] == pytest.approx(5.0)
    assert result.totals["pick_failure_cost"] == pytest.approx(75.0)


def test_overstated_record_fires_reorder_late() -> None:
    snaps = make_snapshots({"wms": [[30] * 4], "erp": [[30, 30, 36, 36]], "shop": [[30] * 4]})
    result = run(snaps, make_shipments([[3, 3, 3, 3]]))
    row = result.per_key.loc[0]
    assert row["error_system"] == "erp"
    assert row["reorder_delay_days"] == pytest.approx(6 / 3)
    assert row["reorder_point"] == pytest.approx(3 * 7)  # σ_d = 0: no safety stock
    assert row["stockout_days_after_reorder"] == pytest.approx(2.0)


def test_understated_record_fires_reorder_early_without_stockouts() -> None:
    snaps = make_snapshots({"wms": [[30] * 3], "erp": [[30, 24, 24]], "shop": [[30] * 3]})
    row = run(snaps, make_shipments([[3, 3, 3]])).per_key.loc[0]
    assert row["reorder_delay_days"] == pytest.approx(-2.0)
    assert row["stockout_days_after_reorder"] == 0


def test_safety_stock_inflation_uses_record_error_deviation() -> None:
    erp = [30, 32, 28, 30, 34, 26]
    snaps = make_snapshots({"wms": [[30] * 6], "erp": [erp], "shop": [[30] * 6]})
    ships = make_shipments([[1, 3, 1, 3, 1, 3]])
    config = make_config(lead_time_days=4.0, service_level=0.95)
    row = run(snaps, ships, config).per_key.loc[0]
    z = 1.6448536269514722
    sd_d, sd_e = np.std([1, 3, 1, 3, 1, 3], ddof=1), np.std(np.subtract(erp, 30), ddof=1)
    assert row["safety_stock"] == pytest.approx(z * 2 * sd_d)
    assert row["safety_stock_inflated"] == pytest.approx(z * np.sqrt(4 * sd_d**2 + sd_e**2))
    assert row["extra_capital"] == pytest.approx(4.0 * row["extra_safety_stock_units"])


def test_category_lead_time_and_service_level_override_defaults() -> None:
    catalog = CATALOG.assign(category=["tents", "socks"])
    params = ImpactParams(
        category_lead_time_days={"tents": 28.0}, category_service_level={"tents": 0.99}
    )
    plan = impact.planning_parameters(
        pd.DataFrame({"sku": ["A", "B", "Z"], "location": "main"}), catalog, params
    )
    np.testing.assert_allclose(plan.lead_time, [28.0, 7.0, 7.0])
    np.testing.assert_allclose(plan.z, [2.3263478740408408, 1.6448536269514722, 1.6448536269514722])
    assert np.isnan(plan.unit_price[2])


# --- entry point --------------------------------------------------------------------------------


def test_totals_hold_exactly_the_summary_keys(phantom_case) -> None:
    *_, result = phantom_case
    assert set(result.totals) == TOTAL_KEYS


def test_per_key_has_the_impact_csv_columns(phantom_case) -> None:
    *_, result = phantom_case
    assert tuple(result.per_key.columns) == impact.PER_KEY_COLUMNS
    assert tuple(result.per_key.columns[:17]) == (
        "sku", "location", "demand_rate", "demand_sd", "phantom_days", "lost_sales_units",
        "lost_revenue", "oversell_units", "pick_failure_cost", "reorder_delay_days",
        "safety_stock", "safety_stock_inflated", "extra_safety_stock_units", "extra_capital",
        "forecast_bias_share", "contaminated", "expected_value",
    )  # fmt: skip


def test_inputs_are_not_mutated(phantom_case) -> None:
    snaps, ships, _ = phantom_case
    before = (snaps.copy(), ships.copy(), CATALOG.copy())
    run(snaps, ships)
    for frame, copy in zip((snaps, ships, CATALOG), before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


def test_projection_without_attribution_is_baseline_only(phantom_case) -> None:
    *_, result = phantom_case
    projection = result.projection
    assert set(projection["scenario"]) == {"baseline"}
    assert sorted(projection["week"].unique()) == list(range(1, 9))
    assert (projection["low"] <= projection["estimate"]).all()
    assert (projection["estimate"] <= projection["high"]).all()


def test_attribution_gives_causes_and_the_fixed_scenario(phantom_case) -> None:
    snaps, ships, _ = phantom_case
    findings = pd.DataFrame(
        {
            "sku": ["A", "A", "A"],
            "location": "main",
            "system": ["shop", "shop", "erp"],
            "counterpart": "wms",
            "cause": ["stale_overwrite", "stale_overwrite", "unrecorded_change"],
            "units": [-10.0, -10.0, 5.0],
            "value": [40.0, 40.0, 20.0],
        }
    )
    result = run(snaps, ships, attribution=SimpleNamespace(findings=findings))
    assert result.fixes.loc[0, "share"] == pytest.approx(20 / 25)
    fixed = result.projection[result.projection["scenario"] == "fix_top3_handoffs"]
    base = result.projection[result.projection["scenario"] == "baseline"]
    np.testing.assert_allclose(fixed["estimate"], base["estimate"].to_numpy() * 0.2)


def test_projection_follows_a_linear_trend() -> None:
    series = pd.DataFrame(
        {
            "abs_drift_units": np.arange(10.0),
            "drift_value": 2 * np.arange(10.0),
            "impact_cost": np.full(10, 3.0),
        }
    )
    table = impact.project(series, 2).set_index(["metric", "week"])
    assert table.loc[("abs_drift_units", 1), "estimate"] == pytest.approx(13.0)  # days 10..16
    assert table.loc[("drift_value", 2), "estimate"] == pytest.approx(2 * 20.0)
    assert table.loc[("impact_cost", 1), "estimate"] == pytest.approx(21.0)  # 7 × 3
    assert table.loc[("abs_drift_units", 1), "high"] == pytest.approx(13.0)  # exact fit


# --- monotonicity: more drift never lowers the cost ----------------------------------------------

values = hnp.arrays(np.float64, (2, 3, 6), elements=st.floats(-20, 40, allow_nan=False))


def stock_of(selling: np.ndarray, authority: np.ndarray) -> impact.Stock:
    drift = selling - authority[None]
    return impact.Stock(authority, selling, ("shop", "market"), drift, ("shop", "market"))


@settings(max_examples=60, deadline=None)
@given(values, st.floats(0, 30), st.integers(0, 5))
def test_lowering_a_selling_record_never_lowers_lost_sales(
    selling: np.ndarray, cut: float, day: int
) -> None:
    authority = np.full((3, 6), 10.0)
    expected = np.full((3, 6), 2.0)
    lower = selling.copy()
    lower[:, :, day] -= cut
    before = impact.phantom_stockouts(stock_of(selling, authority), 0.0) * expected
    after = impact.phantom_stockouts(stock_of(lower, authority), 0.0) * expected
    assert after.sum() >= before.sum()


@settings(max_examples=60, deadline=None)
@given(values, st.floats(0, 30), hnp.arrays(np.float64, (3, 6), elements=st.floats(0, 5)))
def test_raising_a_selling_record_never_lowers_oversell(
    selling: np.ndarray, rise: float, expected: np.ndarray
) -> None:
    authority = np.full((3, 6), 3.0)
    before = impact.oversold_units(stock_of(selling, authority), expected)
    after = impact.oversold_units(stock_of(selling + rise, authority), expected)
    assert (after >= before - 1e-12).all()


def _demand(rate: np.ndarray, sd: np.ndarray) -> impact.Demand:
    return impact.Demand(rate, sd, rate[:, None], np.ones(7), pd.DataFrame())


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.1, 20),
    st.floats(0, 10),
    st.floats(-50, 50),
    st.floats(0, 50),
    st.floats(0, 30),
    st.floats(0, 30),
)
@example(rate=1.0, sd=5e-324, error=-1.0, more=0.0, error_sd=0.0, more_sd=0.0)  # denormal sd
def test_more_record_error_never_lowers_reorder_or_safety_stock_cost(
    rate: float, sd: float, error: float, more: float, error_sd: float, more_sd: float
) -> None:
    plan = impact.Planning(np.array([7.0]), np.array([1.645]), np.array([3.0]), np.array([9.0]))
    demand = _demand(np.array([rate]), np.array([sd]))

    def cost(last: float, spread: float) -> tuple[float, float, float]:
        error_ = impact.RecordError(
            np.array(["erp"], dtype=object), np.array([spread]), np.array([last])
        )
        reorder = impact.reorder_effects(demand, error_, plan)
        stock = impact.safety_stock_effects(demand, error_, plan)
        return (
            reorder["reorder_delay_days"][0],
            reorder["stockout_days_after_reorder"][0],
            stock["extra_capital"][0],
        )

    delay, stockout, capital = cost(error, error_sd)
    delay2, stockout2, capital2 = cost(error + more, error_sd + more_sd)
    assert delay2 >= delay - 1e-9
    assert stockout2 >= stockout - 1e-9
    assert capital2 >= capital - 1e-9


def test_config_copy_for_available_is_not_the_callers(phantom_case) -> None:
    config = make_config()
    copy = dataclasses.replace(config)
    snaps, ships, _ = phantom_case
    run(snaps, ships, config)
    assert config == copy


# --- against the simulator's truth --------------------------------------------------------------
# The simulator splits every unit of demand the storefront blocks (it showed ≤ 0) with a seeded
# binomial draw at walk_away_share 0.40: `lost` walked away, `retained` substituted or delayed.
# We compare the estimate at the DEFAULT share (0.40) with the truth's `lost` on the blocked
# units the physical stock could have served (the phantom part; a real stockout is not a
# phantom): per key-day, lost × min(blocked, physical on_hand) ÷ blocked (the split is per unit
# and exchangeable, so this is the expected number of walk-aways among servable units), on keys
# the authority (wms) holds (it does not record the 3PL's location).

SIM_SEEDS = (1, 2, 3, 4, 5, 6)


def _simulated_run(folder: Path, seed: int) -> tuple[dict[float, impact.Impact], pd.DataFrame]:
    from driftkit.config import load_config
    from driftkit.simulate.simulation import simulate

    sim = simulate(folder / "c", skus=1000, days=45, seed=seed, faults="high")
    config = load_config(sim.path)
    full = dataclasses.replace(
        config, impact=dataclasses.replace(config.impact, walk_away_share=1.0)
    )
    data = SimpleNamespace(
        snapshots=sim.snapshots, events=sim.events, catalog=sim.catalog, counts=sim.counts
    )
    grid = align(sim.snapshots, config)
    comparison = compare(grid, config, sim.catalog)
    results = {
        share: impact.estimate_impact(data, grid, comparison, None, cfg)
        for share, cfg in ((0.4, config), (1.0, full))
    }
    truth = sim.demand.merge(sim.physical, on=["sku", "location", "day"])
    servable = np.minimum(truth["blocked"], truth["on_hand"])
    share = np.divide(
        servable, truth["blocked"], out=np.zeros(len(truth)), where=truth["blocked"] > 0
    )
    truth = truth.assign(phantom_lost=truth["lost"] * share)
    return results, truth[truth["location"] != "east"]


@pytest.fixture(scope="module")
def simulations(tmp_path_factory):
    return {seed: _simulated_run(tmp_path_factory.mktemp("sim"), seed) for seed in SIM_SEEDS}


@pytest.fixture(params=SIM_SEEDS, ids=[f"seed{s}" for s in SIM_SEEDS])
def simulated(request, simulations):
    return simulations[request.param]


def _estimated_lost(result: impact.Impact) -> float:
    held = result.per_key[result.per_key["location"] != "east"]
    return float(held["lost_sales_units"].sum() + held["suspected_lost_sales_units"].sum())


def test_demand_rate_matches_simulated_demand(simulated) -> None:
    results, truth = simulated
    per_key = results[0.4].per_key.set_index(["sku", "location"])["demand_rate"]
    true_rate = truth.groupby(["sku", "location"])["demand"].mean()
    assert per_key.reindex(true_rate.index).sum() == pytest.approx(true_rate.sum(), rel=0.05)


def test_lost_sales_near_simulated_walk_aways(simulated) -> None:
    """Per seed: measured 0.83–1.12 on seeds 1–6 (docs/impact.md): noise and rate bias.

    Seed 6 (0.83) is below its expected truth by the walk-away draw too (0.87 against it).
    """
    results, truth = simulated
    ratio = _estimated_lost(results[0.4]) / truth["phantom_lost"].sum()
    assert 0.80 <= ratio <= 1.35


def test_lost_sales_within_10_percent_over_seeds(simulations) -> None:
    """Pooled over the seeds the default-share estimate is within ±10 % (measured 0.927; 0.975
    against the expected truth: these six seeds' walk-away draws ran high)."""
    estimate = sum(_estimated_lost(results[0.4]) for results, _ in simulations.values())
    truth = sum(truth["phantom_lost"].sum() for _, truth in simulations.values())
    assert 0.9 <= estimate / truth <= 1.1


def test_default_walk_away_scales_lost_sales_linearly(simulated) -> None:
    results, _ = simulated
    for column in ("lost_sales_units", "suspected_lost_sales_units", "lost_revenue"):
        assert results[0.4].per_key[column].sum() == pytest.approx(
            0.4 * results[1.0].per_key[column].sum(), rel=1e-9
        )
