"""Tests of driftkit.drift.compare: hand-computed drift metrics and their invariants (DESIGN §5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from driftkit import schema
from driftkit.config import ClientConfig, SystemConfig
from driftkit.drift.align import Grid
from driftkit.drift.compare import Comparison, authority_days, compare
from driftkit.schema import SystemKind

NAN = np.nan


def config(systems: tuple[str, ...] = ("wms", "shop", "erp"), **options: object) -> ClientConfig:
    table = {s: SystemConfig(s, SystemKind.WMS) for s in systems}
    base: dict[str, object] = {"id": "t", "root": Path("."), "name": "t", "authority": "wms"}
    return ClientConfig(**{"systems": table, **base, **options})  # type: ignore[arg-type]


def grid(
    values: list[list[list[float]]] | np.ndarray, systems: tuple[str, ...], authority: str = "wms"
) -> Grid:
    array = np.asarray(values, dtype=np.float64)
    n_keys, n_days = array.shape[1], array.shape[2]
    keys = pd.DataFrame(
        {
            "sku": pd.Series([f"S{i}" for i in range(n_keys)], dtype="str"),
            "location": pd.Series(["main"] * n_keys, dtype="str"),
        }
    )
    days = pd.date_range("2026-03-01", periods=n_days, freq="D")
    return Grid(keys, systems, days, array, authority)


def catalog(**costs: float) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "sku": list(costs),
            "unit_cost": list(costs.values()),
            "category": ["tents" if i % 2 == 0 else "stoves" for i in range(len(costs))],
        }
    )
    return schema.conform(frame, "catalog")


# Three systems, two keys, four days.  S0 has a cost of 2, S1 has none.
#            day:   1     2     3     4
WMS = [[10.0, 10.0, 10.0, 10.0], [5.0, 5.0, NAN, 5.0]]
SHOP = [[10.0, 12.0, 13.0, 10.0], [5.0, 4.0, 4.0, 3.0]]
ERP = [[NAN, 10.0, 9.0, 9.0], [5.0, 5.0, 5.0, 5.0]]


@pytest.fixture
def example() -> Comparison:
    return compare(grid([WMS, SHOP, ERP], ("wms", "shop", "erp")), config(), catalog(S0=2.0))


def test_headline_by_hand(example: Comparison) -> None:
    # compared cells: S0 days 1-4 (day 1: wms+shop) = 4, S1 days 1-4 (day 3: shop+erp) = 4
    # agreeing: S0 day 1, S1 day 1 → 2.  last day: |10−10| + |9−10| + |3−5| + |5−5| = 3
    assert example.headline == {
        "sku_locations": 2,
        "days": 4,
        "compared_cells": 8,
        "agreeing_cells": 2,
        "agreement_rate": 0.25,
        "drifted_sku_locations": 2,
        "headline_day": "2026-03-04",  # day 4 has cells compared against the authority
        "abs_drift_units_last_day": 3.0,
        "value_at_risk_last_day": 2.0,  # S0: 1 unit × 2; S1: 2 units, no cost
        "keys_without_cost": 1,
        "mean_spread": pytest.approx((0 + 2 + 4 + 1 + 0 + 1 + 1 + 2) / 8),
        "max_spread": 4.0,
        "episodes": 6,
        "open_episodes": 4,
    }


def test_daily_pairs_and_signs(example: Comparison) -> None:
    daily = example.daily
    assert daily.columns.tolist() == [
        "day", "system", "counterpart", "skus_compared", "skus_drifted", "abs_drift_units", "drift_value",
    ]  # fmt: skip
    pairs = daily[["system", "counterpart"]].drop_duplicates().values.tolist()
    assert pairs == [["shop", "wms"], ["erp", "wms"], ["erp", "shop"]]
    shop = daily[daily["system"].eq("shop") & daily["counterpart"].eq("wms")]
    assert shop["skus_compared"].tolist() == [2, 2, 1, 2]
    assert shop["skus_drifted"].tolist() == [0, 2, 1, 1]
    assert shop["abs_drift_units"].tolist() == [0.0, 3.0, 3.0, 2.0]
    assert shop["drift_value"].tolist() == [0.0, 4.0, 6.0, 0.0]
    erp_shop = daily[daily["system"].eq("erp") & daily["counterpart"].eq("shop")]
    assert erp_shop["abs_drift_units"].tolist() == [0.0, 3.0, 5.0, 3.0]


def test_episodes_by_hand(example: Comparison) -> None:
    got = example.episodes.assign(
        start=example.episodes["start"].dt.day, end=example.episodes["end"].dt.day
    )
    columns = [
        "sku",
        "system",
        "counterpart",
        "start",
        "end",
        "days",
        "peak_abs_drift",
        "mean_drift",
        "open",
    ]
    assert got.columns.tolist() == ["sku", "location", *columns[1:]]
    assert got[columns].values.tolist() == [
        ["S0", "shop", "wms", 2, 3, 2, 3.0, 2.5, False],
        ["S1", "shop", "wms", 2, 2, 1, 1.0, -1.0, False],  # day 3: wms absent ends the run
        ["S1", "shop", "wms", 4, 4, 1, 2.0, -2.0, True],
        ["S0", "erp", "wms", 3, 4, 2, 1.0, -1.0, True],
        ["S0", "erp", "shop", 2, 4, 3, 4.0, pytest.approx(-7 / 3), True],
        ["S1", "erp", "shop", 2, 4, 3, 2.0, pytest.approx(4 / 3), True],
    ]


def test_bias_by_hand(example: Comparison) -> None:
    assert example.bias.values.tolist() == [
        ["shop", pytest.approx(2 / 7), 7, pytest.approx(2 / 7), pytest.approx(2 / 7)],
        ["erp", pytest.approx(-1 / 3), 6, 0.0, pytest.approx(1 / 3)],
    ]


def test_key_drift_by_hand(example: Comparison) -> None:
    rows = example.key_drift.drop(columns="location").values.tolist()
    assert rows[:3] == [
        ["S0", "shop", 4, 0.0, 5.0, 2, 0.0],
        ["S1", "shop", 3, -2.0, 3.0, 2, pytest.approx(NAN, nan_ok=True)],
        ["S0", "erp", 3, -1.0, 2.0, 2, 2.0],
    ]
    assert rows[3][:6] == ["S1", "erp", 3, 0.0, 0.0, 0] and np.isnan(rows[3][6])


def test_by_category_and_location(example: Comparison) -> None:
    assert example.by_category.values.tolist() == [
        ["tents", 1, 1, 7.0, 1.0, 2.0, 0.7, pytest.approx(1 / 3), 1.0],
        ["(none)", 1, 1, 3.0, 2.0, 0.0, 0.3, pytest.approx(2 / 3), 0.0],
    ]
    assert example.by_location.values.tolist() == [["main", 2, 2, 10.0, 3.0, 2.0, 1.0, 1.0, 1.0]]


@pytest.mark.parametrize(
    ("tolerance", "agreeing", "drifted", "episodes"),
    [(0, 0, 1, 1), (0.999, 0, 1, 1), (1, 1, 0, 0), (2, 1, 0, 0)],
    ids=["tol-0", "tol-below", "tol-equal", "tol-above"],
)
def test_tolerance(tolerance: float, agreeing: int, drifted: int, episodes: int) -> None:
    result = compare(
        grid([[[10.0]], [[11.0]]], ("wms", "shop")), config(tolerance=tolerance), catalog()
    )
    assert result.headline["agreeing_cells"] == agreeing
    assert result.headline["drifted_sku_locations"] == drifted
    assert result.headline["episodes"] == episodes
    assert result.headline["abs_drift_units_last_day"] == 1.0  # |d| counts whatever the tolerance


def test_a_single_system_compares_nothing() -> None:
    result = compare(grid([[[1.0, 2.0]]], ("wms",)), config(("wms",)), catalog())
    assert result.headline["compared_cells"] == 0
    assert result.headline["agreement_rate"] is None
    assert result.headline["headline_day"] is None
    assert result.headline["abs_drift_units_last_day"] is None  # unknown, never 0
    assert result.daily.empty and result.episodes.empty and result.bias.empty
    assert "drift_value" in result.daily.columns and "mean_drift" in result.episodes.columns


def test_disjoint_keys_have_no_compared_cells() -> None:
    result = compare(grid([[[1.0], [NAN]], [[NAN], [2.0]]], ("wms", "shop")), config(), catalog())
    assert result.headline["sku_locations"] == 2
    assert result.headline["compared_cells"] == 0
    assert result.headline["agreement_rate"] is None
    assert result.key_drift.empty


def test_inputs_are_not_mutated() -> None:
    g = grid([WMS, SHOP, ERP], ("wms", "shop", "erp"))
    before, table = g.values.copy(), catalog(S0=2.0)
    table_before = table.copy()
    compare(g, config(), table)
    assert np.array_equal(g.values, before, equal_nan=True)
    pd.testing.assert_frame_equal(table, table_before)


# --- properties -------------------------------------------------------------------------------

CELLS = st.sampled_from([NAN, 0.0, 1.0, 2.0, 5.0, 40.0])


def layer(keys: int = 4, days: int = 5) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, (keys, days), elements=CELLS)


@settings(max_examples=40, deadline=None)
@given(base=layer())
def test_identical_systems_agree_and_never_drift(base: np.ndarray) -> None:
    result = compare(grid([base, base, base], ("wms", "shop", "erp")), config(), catalog())
    compared = int((~np.isnan(base)).sum())
    assert result.headline["compared_cells"] == compared
    assert result.headline["agreement_rate"] == (1.0 if compared else None)
    assert result.headline["drifted_sku_locations"] == 0
    assert result.headline["abs_drift_units_last_day"] == (0.0 if compared else None)
    assert result.episodes.empty
    assert (result.daily["abs_drift_units"] == 0).all()
    assert (result.bias["mean_drift"].fillna(0) == 0).all()


@settings(max_examples=40, deadline=None)
@given(a=layer(), b=layer())
def test_drift_is_antisymmetric_between_a_pair(a: np.ndarray, b: np.ndarray) -> None:
    forward = compare(grid([a, b], ("wms", "shop"), "wms"), config(), catalog())
    backward = compare(grid([a, b], ("wms", "shop"), "shop"), config(), catalog())
    assert np.allclose(forward.bias["mean_drift"], -backward.bias["mean_drift"], equal_nan=True)
    assert np.allclose(
        forward.bias["share_positive"], backward.bias["share_negative"], equal_nan=True
    )
    assert np.allclose(forward.episodes["mean_drift"], -backward.episodes["mean_drift"])
    assert forward.episodes["days"].tolist() == backward.episodes["days"].tolist()
    same = ["skus_compared", "skus_drifted", "abs_drift_units"]
    pd.testing.assert_frame_equal(forward.daily[same], backward.daily[same])
    assert np.allclose(
        forward.key_drift["drift_last_day"], -backward.key_drift["drift_last_day"], equal_nan=True
    )


@settings(max_examples=40, deadline=None)
@given(authority=layer(), shop=layer(), present=hnp.arrays(np.bool_, (4, 5)))
def test_a_system_agreeing_with_the_authority_changes_no_drift_vs_authority(
    authority: np.ndarray, shop: np.ndarray, present: np.ndarray
) -> None:
    agreeing = np.where(present, authority, NAN)
    two = compare(grid([authority, shop], ("wms", "shop")), config(), catalog(S0=3.0))
    three = compare(
        grid([authority, shop, agreeing], ("wms", "shop", "erp")), config(), catalog(S0=3.0)
    )
    g2 = grid([authority, shop], ("wms", "shop"))
    g3 = grid([authority, shop, agreeing], ("wms", "shop", "erp"))
    cost = np.array([3.0, NAN, NAN, NAN])
    for name in ("abs_drift_units", "value_at_risk", "keys_without_cost"):
        assert authority_days(g3, cost)[name].equals(authority_days(g2, cost)[name])
    vs_authority = three.daily[
        three.daily["counterpart"].eq("wms") & three.daily["system"].eq("shop")
    ]
    pd.testing.assert_frame_equal(vs_authority.reset_index(drop=True), two.daily)
    pd.testing.assert_frame_equal(three.bias.iloc[:1], two.bias)
    shop_keys = three.key_drift[three.key_drift["system"].eq("shop")].reset_index(drop=True)
    pd.testing.assert_frame_equal(shop_keys, two.key_drift)
    erp = three.key_drift[three.key_drift["system"].eq("erp")]
    assert (erp["abs_drift_units"] == 0).all()


def test_the_comparison_carries_its_authority_days_computed_once(example: Comparison) -> None:
    g = grid([WMS, SHOP, ERP], ("wms", "shop", "erp"))
    cost = np.array([2.0, NAN])
    pd.testing.assert_frame_equal(example.by_day, authority_days(g, cost))
    assert example.by_day["abs_drift_units"].tolist() == [0.0, 3.0, 4.0, 3.0]  # |d| by hand
    assert example.by_day["value_at_risk"].tolist() == [0.0, 4.0, 8.0, 2.0]  # S0 units × 2
