"""Sold out since the record (driftkit.impact.sellout) and theory.demand_at_least."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from driftkit.config import ImpactParams
from driftkit.drift.align import Grid
from driftkit.impact import countlist, sellout, theory

PARAMS = ImpactParams()  # walk-away 0.4, horizon 8 weeks = 56 days
NAN = np.nan


@pytest.mark.parametrize(
    ("mean", "phi", "units", "expected"),
    [
        (1.0, 1.0, 1, 1 - math.exp(-1)),  # Poisson: 1 − P(0)
        (2.0, 1.0, 2, 1 - 3 * math.exp(-2)),  # 1 − P(0) − P(1) = 1 − e⁻²(1 + 2)
        (0.5, 2.0, 1, 1 - 2**-0.5),  # negative binomial: P(0) = φ^(−μ/(φ−1))
        (2.0, 1.0, 1.2, 1 - 3 * math.exp(-2)),  # 1.2 units need 2 sales
        (2.0, 1.0, 0, 1.0),  # nothing to sell
        (60.0, 1.0, 60, 0.5),  # normal above 50 a period: P(X ≥ μ)
    ],
    ids=["poisson-1", "poisson-2", "negbin", "fraction", "zero", "normal"],
)
def test_demand_at_least(mean: float, phi: float, units: float, expected: float) -> None:
    got = theory.demand_at_least(np.array([mean]), np.array([phi]), np.array([units]))
    assert got[0] == pytest.approx(expected, rel=1e-9)


def make_grid() -> Grid:
    keys = pd.DataFrame({"sku": ["A", "B", "C"], "location": "main"})
    days = pd.DatetimeIndex(["2026-09-29", "2026-09-30"])
    return Grid(keys, ("wms", "shop"), days, np.full((2, 3, 2), 1.0), "wms")


def test_record_ages_from_the_last_snapshot_to_the_window_end() -> None:
    # the window ends 2026-10-01 00:00 America/Chicago = 05:00 UTC
    at = pd.to_datetime(
        ["2026-10-01 04:30", "2026-09-30 00:00", "2026-09-30 05:00", "2026-10-01 04:59"], utc=True
    )
    snaps = pd.DataFrame(
        {
            "system": ["wms", "wms", "wms", "shop"],
            "sku": ["A", "B", "B", "A"],
            "location": "main",
            "as_of": at,
        }
    )
    ages = sellout.record_ages(snaps, make_grid(), "America/Chicago")
    np.testing.assert_allclose(ages[0], [0.5 / 24, 1.0, NAN])  # wms: A 23:30 local, B a day
    np.testing.assert_allclose(ages[1], [1 / 1440, NAN, NAN])  # shop: A 23:59 local
    names = np.array(["wms", "shop", "erp"], dtype=object)
    np.testing.assert_allclose(
        sellout.believed_age(ages, ("wms", "shop"), names), [0.5 / 24, NAN, NAN]
    )


def make_state(**overrides: object) -> countlist.KeyState:
    """Five keys selling 2 a day (Poisson) at price 10: A shows 2 units, a day old; B shows
    0 (the records know); C's record is of the window's end; D's age is unknown; E shows 2,
    half a day old (more likely still there)."""
    n = 5
    base: dict[str, object] = {
        "keys": pd.DataFrame({"sku": list("ABCDE"), "location": "main"}),
        "authority_name": "wms",
        "authority": np.array([2.0, 0.0, 2.0, 2.0, 2.0]),
        "selling": np.full((1, n), 2.0),
        "selling_systems": ("shop",),
        "drift": np.zeros((1, n)),
        "drift_systems": ("shop",),
        "rate": np.full(n, 2.0),
        "sd": np.full(n, math.sqrt(2.0)),
        "lead_time": np.full(n, 7.0),
        "z": np.full(n, 1.6448536269514722),
        "unit_cost": np.full(n, 4.0),
        "unit_price": np.full(n, 10.0),
        "extra_capital": np.zeros(n),
        "window_value": np.zeros(n),
        "record_age": np.array([1.0, 1.0, 0.0, NAN, 0.5]),
    }
    base.update(overrides)
    return countlist.KeyState(**base)  # type: ignore[arg-type]


def test_sold_out_prices_the_chance_the_units_are_gone() -> None:
    value = sellout.sold_out(make_state(), PARAMS, 56.0)
    # A: P(Poisson(2 × 1) ≥ 2) = 1 − 3e⁻² = 0.594 ≥ 0.5, × (0.4 × min(2 a day × 56 days,
    # the 2 units shown: at or below the reorder point a reorder is due) × 10 + the shop's
    # 2 units offered from the empty shelf × 15 pick failures) = 0.594 × (8 + 30)
    # E: P(Poisson(2 × 0.5) ≥ 2) = 1 − 2e⁻¹ = 0.264 < 0.5: more likely still there, 0
    gone = 1 - 3 * math.exp(-2)
    np.testing.assert_allclose(value, [gone * (8 + 30), 0.0, 0.0, 0.0, 0.0])


def test_an_empty_shelf_loses_the_horizon_only_above_the_reorder_point() -> None:
    # ROP = 2 × 7 + 1.645 × √7 × √2 = 20.15: A, C, D show 2 (a reorder is due: the shelf
    # refills on its arrival, the record's error costs its 2 units); B shows 0; E shows 30,
    # above it: no reorder comes, the shelf stays empty for the whole 2 × 56 days
    state = make_state(authority=np.array([2.0, 0.0, 2.0, 2.0, 30.0]))
    np.testing.assert_allclose(sellout.shelf_loss_units(state, 56.0), [2, 0, 2, 2, 112])
    # E's 30 units are gone after 15 days with P(Poisson(30) ≥ 30) ≥ 0.5; the shop offers 2
    # of them (min(112, 2, 30)): 0.4 × 112 × 10 + 2 × 15
    aged = replace(state, record_age=np.array([1.0, 1.0, 0.0, NAN, 15.0]))
    gone = theory.demand_at_least(np.array([30.0]), np.array([1.0]), np.array([30.0]))[0]
    assert sellout.sold_out(aged, PARAMS, 56.0)[4] == pytest.approx(gone * (448 + 30))


def test_offered_units_are_what_the_storefront_sells_from_an_empty_shelf() -> None:
    # Q = 2 a day × 56 days = 112.  A: shop 2, wms 2 → 2.  B: wms 0: the records know, 0.
    # C: shop 6 over wms 2: the oversell term charges 6 − 2 already, the empty shelf the
    # other 2.  D: shop 1 < wms 2 → 1.  E: the shop never observed (NaN) → 0, as for a
    # shop showing −3 (F); G: a slow key, Q = 0.01 × 56 = 0.56 < the 5 shown.
    state = make_state(
        keys=pd.DataFrame({"sku": list("ABCDEFG"), "location": "main"}),
        authority=np.array([2.0, 0.0, 2.0, 2.0, 2.0, 2.0, 5.0]),
        selling=np.array([[2.0, 2.0, 6.0, 1.0, NAN, -3.0, 5.0]]),
        rate=np.array([2.0] * 6 + [0.01]),
    )
    np.testing.assert_allclose(sellout.offered_units(state, 56.0), [2, 0, 2, 1, 0, 0, 0.56])
    none = replace(state, selling=np.empty((0, 7)), selling_systems=())
    assert sellout.offered_units(none, 56.0).tolist() == [0.0] * 7


def test_empty_shelf_value_adds_lost_sales_and_pick_failures() -> None:
    # A: 0.4 × min(112, 2) × 10 + 2 offered × 15 = 8 + 30; B: nothing shown, 0
    value = sellout.empty_shelf_value(make_state(), PARAMS, 56.0)
    np.testing.assert_allclose(value[:2], [38.0, 0.0])
    given = sellout.empty_shelf_value(make_state(), PARAMS, 56.0, units=np.full(5, 3.0))
    np.testing.assert_allclose(given[:2], [0.4 * 3 * 10 + 30, 12.0])


def test_without_ages_nothing_is_priced() -> None:
    assert sellout.sold_out(make_state(record_age=None), PARAMS, 56.0).tolist() == [0.0] * 5


def test_the_count_list_names_the_record_that_likely_sold_out() -> None:
    table = countlist.count_list(make_state(), PARAMS).set_index("sku")
    assert table.loc["A", "rank"] == 2  # 22.57, after B's sure oversell: shop 2, wms 0, 2 × 15 = 30
    assert table.loc["A", "system"] == "wms"
    assert table.loc["A", "reason"] == (
        "likely sold out: wms shows 2 at 2.00 a day, 1.0 days before the count"
    )
    assert table.loc["A", "expected_value"] == pytest.approx((1 - 3 * math.exp(-2)) * 38)
    assert table.loc["E", "expected_value"] == 0.0


@pytest.mark.parametrize("dense", [True, False], ids=["dense-table", "key-positions"])
def test_record_ages_skip_rows_off_the_grid(dense: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of a system or key the grid lacks, and rows after the window, give no age; the
    dense table of SKU × location pairs and the per-row lookup give the same ages."""
    if not dense:
        monkeypatch.setattr(sellout, "DENSE_PAIRS", 0)
    at = pd.to_datetime(["2026-10-01 04:00"] * 4 + ["2026-10-02 04:00"], utc=True)
    snaps = pd.DataFrame(
        {
            "system": ["erp", "wms", "shop", "wms", "shop"],
            "sku": ["A", "Z", "C", "C", "B"],
            "location": ["main", "main", "east", "main", "main"],
            "as_of": at,
        }
    )
    ages = sellout.record_ages(snaps, make_grid(), "America/Chicago")
    np.testing.assert_allclose(ages, [[NAN, NAN, 1 / 24], [NAN, NAN, NAN]])
