"""Records in other units converted to eaches before the count list compares them
(driftkit.impact.units)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit.config import ImpactParams
from driftkit.drift.align import Grid
from driftkit.impact import countlist, standin, units
from driftkit.impact.stock import Stock

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "sample"
PARAMS = ImpactParams()
NAN = np.nan
SYSTEMS = ("wms", "3pl", "shop", "erp")

#: Three days at the 3PL location (the wms never records it), keys:
#: A: the 3PL and the shop show 3, the ERP 0.12 / 0.12 / 0.12 — 3 units in packs of 24.
#: B: the 3PL shows 48, 48, 24; the ERP 2, 2, 1 (packs of 24, pack size in the catalog).
#: C: the 3PL shows 3, the ERP 0 with a unit_mismatch finding no ratio explains.
DAYS = {
    "3pl": [[3, 3, 3], [48, 48, 24], [3, 3, 3]],
    "shop": [[3, 3, 3], [48, 48, 24], [3, 3, 3]],
    "erp": [[0.12, 0.12, 0.12], [2, 2, 1], [0, 0, 0]],
}
CATALOG = pd.DataFrame({"sku": ["B"], "pack_size": [24.0]})
FINDINGS = pd.DataFrame(
    {
        "sku": ["A", "C"],
        "location": "east",
        "system": "erp",
        "cause": "unit_mismatch",
        "units": [-2.88, -3.0],
    }
)


def make_grid() -> Grid:
    values = np.full((len(SYSTEMS), 3, 3), NAN)
    for row, system in enumerate(SYSTEMS):
        if system in DAYS:
            values[row] = DAYS[system]
    keys = pd.DataFrame({"sku": list("ABC"), "location": "east"})
    days = pd.DatetimeIndex(["2026-09-01", "2026-09-02", "2026-09-03"])
    return Grid(keys, SYSTEMS, days, values, "wms")


def make_stock(grid: Grid) -> Stock:
    v = grid.values
    return Stock(
        authority=v[0],
        selling=v[[2]],
        selling_systems=("shop",),
        drift=v[[1, 2, 3]] - v[0][None],
        drift_systems=("3pl", "shop", "erp"),
        records=v[[1, 3]],
        record_systems=("3pl", "erp"),
    )


def make_state(grid: Grid, stock: Stock) -> countlist.KeyState:
    n = len(grid.keys)
    last = countlist.last_observed
    return countlist.KeyState(
        keys=grid.keys,
        authority_name="wms",
        authority=last(stock.authority),
        selling=last(stock.selling),
        selling_systems=stock.selling_systems,
        drift=last(stock.drift),
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


@pytest.mark.parametrize(
    ("mine", "ref", "pack", "factor"),
    [
        ([0.12, 0.12, 0.12], [3, 3, 3], 24.0, 24.0),  # |0.12 × 24 − 3| = 0.12 ≤ 0.5
        ([72, 72, 48], [3, 3, 2], 24.0, 1 / 24),  # eaches counted as packs: 72 = 3 × 24
        ([3, 3, 2], [3, 3, 2], 24.0, 1.0),  # same units
        ([0.12, 0.12, 3], [3, 3, 3], 24.0, 24.0),  # 2 of 3 days fit: at least half and two
        ([0.12, 3, 3], [3, 3, 3], 24.0, 1.0),  # 1 day fits: fewer than two
        ([0.12, 0.12, 0.12], [3, 3, 3], 1.0, 1.0),  # no pack size
    ],
    ids=["packs", "as-packs", "eaches", "two-of-three", "one-day", "no-pack"],
)
def test_ratio_factor(mine: list[float], ref: list[float], pack: float, factor: float) -> None:
    got = units.ratio_factor(np.array([mine], float), np.array([ref], float), np.array([pack]))
    assert got[0] == pytest.approx(factor)


def test_unit_factors_convert_by_the_catalog_or_the_evident_ratio_and_skip_the_rest() -> None:
    factor = units.unit_factors(make_grid(), CATALOG, FINDINGS)
    # rows wms, 3pl, shop, erp; A: evident ratio 3 ÷ 0.12 = 25 → |0.12 × 25 − 3| = 0 (fits),
    # B: the catalog's 24 (no finding needed), C: a finding and no ratio → skipped (NaN)
    np.testing.assert_allclose(factor[:3], 1.0)
    np.testing.assert_allclose(factor[3], [25.0, 24.0, NAN])


def test_without_a_finding_or_a_catalog_pack_nothing_is_converted() -> None:
    factor = units.unit_factors(make_grid(), CATALOG.iloc[:0], None)
    np.testing.assert_allclose(factor, 1.0)


def test_stand_in_never_prices_a_record_in_packs() -> None:
    """The acme-outdoor bug: the ERP's 0.12 packs stood in for the authority, so the shop's
    3 units were priced as oversold ("oversell: shop shows 3 available, erp 0.12")."""
    grid = make_grid()
    stock, on_grid = units.in_eaches(
        make_stock(grid), grid, units.unit_factors(grid, CATALOG, FINDINGS)
    )
    state = standin.with_stand_in(make_state(on_grid, stock), on_grid, stock, PARAMS)
    table = countlist.count_list(state, PARAMS).set_index("sku")
    # A: ERP 0.12 × 25 = 3 units: every record agrees; B: ERP 1 pack = 24 = the 3PL
    # C: the ERP is skipped, the 3PL (3) stands in and agrees with the shop
    assert table["expected_value"].tolist() == [0.0, 0.0, 0.0]
    assert (table["drift_units"] == 0).all()
    assert not table["reason"].str.contains("erp").any()


def test_converted_records_are_rounded_to_eaches_and_drift_re_taken() -> None:
    grid = make_grid()
    stock, on_grid = units.in_eaches(
        make_stock(grid), grid, units.unit_factors(grid, CATALOG, FINDINGS)
    )
    assert stock.records is not None
    np.testing.assert_array_equal(stock.records[1, 0], [3.0, 3.0, 3.0])  # 0.12 × 25
    np.testing.assert_array_equal(on_grid.values[3, 1], [48.0, 48.0, 24.0])
    assert np.isnan(on_grid.values[3, 2]).all()
    assert np.isnan(stock.drift).all()  # the wms records none of these keys


def test_sample_count_list_compares_no_record_in_other_units() -> None:
    from driftkit.audit import run_audit

    audit = run_audit(SAMPLES / "acme-outdoor")
    rows = audit.impact.count_list.set_index(["sku", "location"])
    row = rows.loc[("AO10140", "east")]
    assert row["expected_value"] < 0.01  # was 46.04: 3 units "oversold" against 0.12 packs
    assert "erp" not in row["reason"]
    assert not rows["reason"].str.contains(r"erp (?:shows )?0\.\d", regex=True).any()
    assert not rows["reason"].str.contains("understates by 12.83").any()  # AO10135's packs
