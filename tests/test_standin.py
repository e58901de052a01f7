"""A record standing in for an absent authority in the count list (driftkit.impact.standin)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.config import ImpactParams
from driftkit.drift.align import Grid
from driftkit.impact import countlist, standin
from driftkit.impact.stock import Stock

PARAMS = ImpactParams()  # horizon 8 weeks = 56 days, walk-away 0.4, pick failure 15
NAN = np.nan
SYSTEMS = ("wms", "3pl", "shop", "erp")

#: Last-day records per key (two days, the first all NaN but for key D's wms):
#: A at the 3PL location: the 3PL shipped its last units, the shop still shows 3.
#: B at the 3PL location: the 3PL and the shop show 3, the ERP 0 (the ERP is right or not).
#: C at the 3PL location: every record agrees at 2 (no disagreement: the 3PL holds it).
#: D at the main location: the wms holds 5, the shop shows 0 (a phantom stockout).
#: E: only the shop records it.
LAST = {
    "wms": [NAN, NAN, NAN, 5.0, NAN],
    "3pl": [0.0, 3.0, 2.0, NAN, NAN],
    "shop": [3.0, 3.0, 2.0, 0.0, 4.0],
    "erp": [NAN, 0.0, 2.0, 5.0, NAN],
}


def make_grid() -> Grid:
    values = np.full((len(SYSTEMS), 5, 2), NAN)
    for row, system in enumerate(SYSTEMS):
        values[row, :, 1] = LAST[system]
    keys = pd.DataFrame(
        {"sku": list("ABCDE"), "location": ["east", "east", "east", "main", "main"]}
    )
    days = pd.DatetimeIndex(["2026-09-01", "2026-09-02"])
    return Grid(keys, SYSTEMS, days, values, "wms")


def make_stock(grid: Grid) -> Stock:
    v = grid.values
    return Stock(
        authority=v[0],
        selling=v[[2]],
        selling_systems=("shop",),
        drift=v[[1, 2, 3]] - v[0][None],
        drift_systems=("3pl", "shop", "erp"),
        others=np.fmax(v[1], v[3]),
        records=v[[1, 3]],
        record_systems=("3pl", "erp"),
    )


def make_state(grid: Grid, stock: Stock) -> countlist.KeyState:
    n = len(grid.keys)
    return countlist.KeyState(
        keys=grid.keys,
        authority_name="wms",
        authority=countlist.last_observed(stock.authority),
        selling=countlist.last_observed(stock.selling),
        selling_systems=stock.selling_systems,
        drift=countlist.last_observed(stock.drift),
        drift_systems=stock.drift_systems,
        rate=np.full(n, 1.0),
        sd=np.zeros(n),
        lead_time=np.full(n, 7.0),
        z=np.full(n, 1.6448536269514722),
        unit_cost=np.full(n, 4.0),
        unit_price=np.full(n, 10.0),
        extra_capital=np.zeros(n),
        window_value=np.zeros(n),
    )


@pytest.fixture
def stood_in() -> countlist.KeyState:
    grid = make_grid()
    stock = make_stock(grid)
    return standin.with_stand_in(make_state(grid, stock), grid, stock, PARAMS)


def test_stand_in_picks_the_record_of_the_largest_disagreement() -> None:
    grid = make_grid()
    stock = make_stock(grid)
    chosen = standin.stand_in(make_state(grid, stock), stock, PARAMS)
    # A: only the 3PL; B: 3PL 3 prices 0, ERP 0 prices 3 oversold; C: both 0, the holder first
    assert chosen.keys.tolist() == [0, 1, 2]
    assert [stock.record_systems[r] for r in chosen.record] == ["3pl", "erp", "3pl"]


def test_stand_in_prices_the_storefront_against_it(stood_in: countlist.KeyState) -> None:
    part = countlist.selling_component(stood_in, PARAMS, 56.0)
    # A: min(56, 3) − 0 = 3 oversold × 15; B: likewise against the ERP's 0; C: agree → 0
    # D: the authority holds 5, the shop 0: 0.4 × min(56, 5) × 10 = 20; E: no record → 0
    np.testing.assert_allclose(part.value, [45.0, 45.0, 0.0, 20.0, 0.0])
    assert part.reason[0] == "oversell: shop shows 3 available, 3pl 0"
    assert part.reason[1] == "oversell: shop shows 3 available, erp 0"
    assert part.reason[3] == "phantom stockout: shop shows 0 available, wms 5"


def test_stand_in_rebases_drift_and_keeps_the_authority_elsewhere(
    stood_in: countlist.KeyState,
) -> None:
    assert stood_in.authority_names is not None
    assert stood_in.authority_names.tolist() == ["3pl", "erp", "3pl", "wms", "wms"]
    np.testing.assert_allclose(stood_in.authority, [0.0, 0.0, 2.0, 5.0, NAN])
    # rows 3pl, shop, erp: v_s − v_stand-in; D keeps v_s − v_wms; E has no record to compare
    np.testing.assert_allclose(
        stood_in.drift,
        [[0.0, 3.0, 0.0, NAN, NAN], [3.0, 3.0, 0.0, -5.0, NAN], [NAN, 0.0, 0.0, 0.0, NAN]],
    )


def test_count_list_names_the_stand_in(stood_in: countlist.KeyState) -> None:
    table = countlist.count_list(stood_in, PARAMS).set_index("sku")
    assert table.loc["A", "system"] == "shop"
    assert table.loc["A", "drift_units"] == 3.0  # shop − 3pl
    assert table.loc["B", "drift_units"] == 3.0  # shop − erp
    assert table.loc["A", "expected_value"] == pytest.approx(45.0)
    assert table.loc["E", "expected_value"] == 0.0


def test_without_records_nothing_stands_in() -> None:
    grid = make_grid()
    stock = make_stock(grid)
    bare = Stock(stock.authority, stock.selling, ("shop",), stock.drift, stock.drift_systems)
    state = make_state(grid, bare)
    assert standin.with_stand_in(state, grid, bare, PARAMS) is state
    assert countlist.selling_component(state, PARAMS, 56.0).value.tolist()[:3] == [0, 0, 0]
