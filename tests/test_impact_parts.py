"""impact.pooled + impact.parts: the cost model per part plus one combine equals the whole.

Keys split over two parts must give the numbers of ``estimate_impact`` on the whole client
(its one-part case): demand is observed from the *client's* first to last shipment day and
shaped by the weekday profile pooled over *every* key, not each part's own.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from driftkit import schema
from driftkit.drift.align import align
from driftkit.drift.compare import compare
from driftkit.impact import estimate as impact
from tests.test_impact import CATALOG, make_config, make_shipments, make_snapshots

DAYS = 35
STOCK = [[50.0] * DAYS for _ in range(3)]  # keys A, B, C


def _client() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ships days 3..30 (5 units on one weekday, else 1), B 2/day on days 0..20, C never;
    the shop shows A at 0 on days 10..12 while the WMS holds 50 (phantom stockouts)."""
    day = np.arange(DAYS)
    a = np.where((day >= 3) & (day <= 30), np.where(day % 7 == 5, 5.0, 1.0), 0.0)
    b = np.where(day <= 20, 2.0, 0.0)
    shop = [list(row) for row in STOCK]
    shop[0][10:13] = [0.0, 0.0, 0.0]
    snapshots = make_snapshots({"wms": STOCK, "erp": STOCK, "shop": STOCK}, shop=shop)
    return snapshots, make_shipments([list(a), list(b), [0.0] * DAYS])


def _tables(snapshots: pd.DataFrame, events: pd.DataFrame, skus: list[str]) -> SimpleNamespace:
    return SimpleNamespace(
        snapshots=snapshots[snapshots["sku"].isin(skus)].reset_index(drop=True),
        events=events[events["sku"].isin(skus)].reset_index(drop=True),
        catalog=CATALOG,
        counts=schema.empty("counts"),
    )


@pytest.fixture(scope="module")
def whole_and_parts() -> tuple[impact.Impact, impact.Impact]:
    config = make_config()
    snapshots, events = _client()
    grid = align(snapshots, config)
    comparison = compare(grid, config, CATALOG)
    data = SimpleNamespace(
        snapshots=snapshots, events=events, catalog=CATALOG, counts=schema.empty("counts")
    )
    whole = impact.estimate_impact(data, grid, comparison, None, config)
    parts = [_tables(snapshots, events, skus) for skus in (["A", "C"], ["B"])]
    pairs = [(p, align(p.snapshots, config, start=grid.days[0], end=grid.days[-1])) for p in parts]
    shipments = any(impact.has_shipments(p.events) for p in parts)
    pieces = [impact.demand_part(p, g, config, shipments=shipments) for p, g in pairs]
    facts = impact.demand_facts(pieces, grid.days, shipments=shipments)
    costs = [impact.impact_part(p, g, None, config=config, facts=facts) for p, g in pairs]
    combined = impact.impact_from_parts(
        costs, comparison.daily, grid, None, config=config, facts=facts
    )
    return whole, combined


def test_demand_is_observed_over_the_clients_shipped_days(whole_and_parts) -> None:
    whole, _ = whole_and_parts
    rate = whole.demand.set_index("sku")["demand_rate"]
    assert rate["B"] == pytest.approx(42 / 31)  # 21 days × 2 units over the client's days 0..30
    assert rate["C"] == 0.0
    assert whole.demand.set_index("sku").loc["A", "censored_days"] == 3


def test_weekday_profile_is_pooled_and_not_flat(whole_and_parts) -> None:
    whole, combined = whole_and_parts
    assert int(np.argmax(whole.weekday_index)) == 5  # A's busy day: day 5, a Saturday
    assert max(whole.weekday_index) > 1.5
    assert combined.weekday_index == pytest.approx(whole.weekday_index, rel=1e-12)


@pytest.mark.parametrize("table", ["per_key", "demand", "count_list"])
def test_parts_give_the_tables_of_the_whole(whole_and_parts, table: str) -> None:
    whole, combined = whole_and_parts
    pd.testing.assert_frame_equal(getattr(combined, table), getattr(whole, table), rtol=1e-12)


def test_parts_give_the_totals_and_projection_of_the_whole(whole_and_parts) -> None:
    whole, combined = whole_and_parts
    assert combined.totals == pytest.approx(whole.totals, rel=1e-12)
    assert whole.totals["phantom_stockout_sku_days"] == 3
    pd.testing.assert_frame_equal(combined.projection, whole.projection, rtol=1e-9)
