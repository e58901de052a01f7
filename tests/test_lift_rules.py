"""Count-list lift against the standard cycle-count rules (driftkit.impact.lift, simulate.countlift)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.impact import lift
from driftkit.simulate.countlift import measure_lift

RULES = ["abc_by_value", "zero_balance", "recount_after_adjustment", "velocity"]


def test_rule_rankings_order_keys_by_their_rule() -> None:
    keys = pd.DataFrame({"sku": ["A", "B", "C", "D"], "location": "main"})
    rate = np.array([1.0, 5.0, 2.0, 0.5])
    cost = np.array([10.0, 1.0, 10.0, np.nan])  # usage value 10, 5, 20, 0
    last = np.array([4.0, 0.0, 7.0, np.nan])  # B is at zero balance; D has no record
    adjusted = np.array([0.0, 0.0, 0.0, 3.0])  # D was adjusted
    rankings = lift.rule_rankings(keys, rate, cost, last, adjusted)
    order = {name: table["sku"].tolist() for name, table in rankings.items()}
    assert order == {
        "abc_by_value": ["C", "A", "B", "D"],
        "zero_balance": ["B", "C", "A", "D"],
        "recount_after_adjustment": ["D", "C", "A", "B"],
    }


@pytest.fixture(scope="module")
def lifts() -> pd.DataFrame:
    table = measure_lift((1,), skus=400, days=30, top_n=(25, 50))
    return table.pivot_table(index="top_n", columns="policy", values="lift")


@pytest.mark.parametrize("top_n", [25, 50], ids=["top25", "top50"])
def test_count_list_beats_random_twice_and_every_rule(lifts: pd.DataFrame, top_n: int) -> None:
    row = lifts.loc[top_n]
    assert row["random"] == pytest.approx(1.0)
    assert row["count_list"] > 2.0
    assert row["count_list"] > row[RULES].max(), row
