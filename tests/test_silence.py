"""Silent shelves (driftkit.impact.silence) and their count-list term, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from driftkit.impact import countlist, silence
from tests.test_countlist import PARAMS, make_state


def test_silent_run_is_the_trailing_run_of_sellable_days_without_a_sale() -> None:
    units = np.array([[1.0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 2]])
    sellable = np.ones((4, 4), dtype=bool)
    sellable[2, 1] = False  # key 2 could not sell on day 1: its run starts on day 2
    days, expected = silence.silent_run(units, sellable, np.full((4, 4), 0.5))
    assert days.tolist() == [3, 1, 2, 0]
    assert expected.tolist() == [1.5, 0.5, 1.0, 0.0]


def test_silence_probability_poisson_and_negative_binomial() -> None:
    # 2 units expected: Poisson e^−2 (φ ≤ 1); φ = 3: NB r = 2/2 = 1, P(0) = (1/3)^1
    out = silence.silence_probability(np.array([2.0, 2.0, 2.0, 0.0]), np.array([1, 0.5, 3, 3]))
    assert out == pytest.approx([math.exp(-2), math.exp(-2), 1 / 3, 1.0])


def test_empty_shelf_probability_by_bayes_rule() -> None:
    # π = 0.01: p = 0.01 → 0.01 ÷ (0.01 + 0.99·0.01) = 1/1.99; p = 1 → the prior
    out = silence.empty_shelf_probability(np.array([0.01, 1.0, 0.0]))
    assert out == pytest.approx([1 / 1.99, 0.01, 1.0])


def test_likely_value_only_when_more_likely_empty_than_not() -> None:
    # 0.4 < one half: 0 even where the loss is unknown (NaN); exactly one half counts
    value = silence.likely_value(np.array([0.6, 0.4, 0.5, 0.0]), np.array([80.0, np.nan, 10, 9]))
    assert value.tolist() == [0.6 * 80.0, 0.0, 5.0, 0.0]


def test_count_list_names_a_silent_shelf_on_the_authority() -> None:
    # D: every record agrees on 8 units, rate 5, no sale for 4 days, P(empty) 0.9:
    # 0.9 × (0.4 × min(5·56, 8) × 10 + the shop's 8 units offered × 15) = 0.9 × 152 = 136.8
    state = make_state(
        empty_shelf=np.array([0.0, 0.0, 0.0, 0.9]), silent_days=np.array([0, 0, 0, 4])
    )
    table = countlist.count_list(state, PARAMS).set_index("sku")
    assert table.loc["D", "expected_value"] == pytest.approx(136.8)
    assert table.loc["D", "system"] == "wms"
    assert (
        table.loc["D", "reason"]
        == "silent shelf: no sale for 4 days while wms holds 8 (P(empty) 0.90)"
    )
    without = countlist.count_list(make_state(), PARAMS).set_index("sku")
    assert without.loc[list("ABC"), "expected_value"].tolist() == pytest.approx(
        table.loc[list("ABC"), "expected_value"].tolist()
    )


def test_a_silent_shelf_above_its_reorder_point_loses_the_horizon() -> None:
    # C: rate 2 (sd 0), ROP 2 × 7 = 14 < the 30 units shown: no reorder comes while the shelf
    # is empty, 0.9 × (0.4 × 2 a day × 56 days × 10 + the shop's 30 units offered × 15);
    # D: 8 units ≤ ROP 35, a reorder is due: the 8 units shown, 0.9 × (0.4 × 8 × 10 + 8 × 15)
    state = make_state(
        empty_shelf=np.array([0.0, 0.0, 0.9, 0.9]), silent_days=np.array([0, 0, 4, 4])
    )
    table = countlist.count_list(state, PARAMS).set_index("sku")["expected_value"]
    without = countlist.count_list(make_state(), PARAMS).set_index("sku")["expected_value"]
    added = (table - without).loc[["C", "D"]].tolist()
    assert added == pytest.approx([0.9 * (448 + 450), 0.9 * (32 + 120)])


def test_shelf_silence_end_to_end() -> None:
    # one key, rate 1 (sd 1: φ = 1), 6 sellable days without a sale at 1 unit a day:
    # p = e^−6, P(empty) = 0.01 ÷ (0.01 + 0.99·e^−6)
    units = np.zeros((1, 6))
    empty, days = silence.shelf_silence(
        units, np.ones((1, 6), bool), np.ones((1, 6)), np.array([1.0]), np.array([1.0])
    )
    assert days.tolist() == [6]
    assert empty[0] == pytest.approx(0.01 / (0.01 + 0.99 * math.exp(-6)))
