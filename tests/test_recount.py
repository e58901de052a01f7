"""Record error since the last count (driftkit.impact.recount) and its count-list term."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from driftkit import schema
from driftkit.config import ClientConfig, ImpactParams, SystemConfig
from driftkit.drift.accuracy import count_accuracy
from driftkit.drift.align import Grid
from driftkit.impact import countlist, recount, sellout, silence
from driftkit.schema import SystemKind

PARAMS = ImpactParams()  # walk-away 0.4, horizon 56 days


def config() -> ClientConfig:
    systems = {
        "wms": SystemConfig("wms", SystemKind.WMS),
        "shop": SystemConfig("shop", SystemKind.STOREFRONT),
    }
    base: dict[str, object] = {"id": "t", "root": Path("."), "name": "t", "authority": "wms"}
    return ClientConfig(systems=systems, **base)  # type: ignore[arg-type]


def snapshots(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["system", "sku", "as_of", "on_hand"])
    frame = frame.assign(location="main", as_of=pd.to_datetime(frame["as_of"], utc=True))
    return schema.conform(frame, "snapshots")


def counts(*rows: tuple[str, str, float]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["sku", "counted_at", "counted_qty"])
    frame = frame.assign(location="main", counted_at=pd.to_datetime(frame["counted_at"], utc=True))
    return schema.conform(frame, "counts")


def tables(count_rows: pd.DataFrame) -> SimpleNamespace:
    return SimpleNamespace(snapshots=SNAPS, events=None, catalog=None, counts=count_rows)


# A counted on 03-01 and 03-11 (10 days): wms 7, shop 5 before the second count found 4:
# median error (3 + 1) / 2 = 2 overstated.  B counted on 03-01 and 03-06: records 6 and 6,
# counted 7 (understated: 0).  Each count's first (no earlier count) is not an interval.
SNAPS = snapshots(
    ("wms", "A", "2026-03-01T04:00Z", 9.0),
    ("wms", "A", "2026-03-11T04:00Z", 7.0),
    ("shop", "A", "2026-03-11T04:00Z", 5.0),
    ("wms", "B", "2026-03-06T04:00Z", 6.0),
    ("shop", "B", "2026-03-06T04:00Z", 6.0),
)
COUNTS = counts(
    ("A", "2026-03-01T05:00Z", 9.0),
    ("A", "2026-03-11T05:00Z", 4.0),
    ("B", "2026-03-01T05:00Z", 6.0),
    ("B", "2026-03-06T05:00Z", 7.0),
)


def test_count_history_takes_the_error_the_records_share_over_the_days_between() -> None:
    history = recount.count_history(count_accuracy(SNAPS, COUNTS, config())[0])
    assert history["sku"].tolist() == ["A", "B"]
    assert history["overstated"].tolist() == [2.0, 0.0]
    assert history["days"].tolist() == [10.0, 5.0]


def test_rates_are_the_gamma_poisson_posterior_pooled_per_location() -> None:
    history = recount.count_history(count_accuracy(SNAPS, COUNTS, config())[0])
    keys = pd.DataFrame({"sku": ["A", "B", "C"], "location": "main"})
    # location: 2 units in 15 days; a key: (1 + x) / (1 / (2/15) + days)
    rho = 2 / 15
    expected = [(1 + 2) / (1 / rho + 10), (1 + 0) / (1 / rho + 5), rho]
    pooled = recount.location_sums(tables(COUNTS), config())
    assert pooled.loc["main"].tolist() == [2.0, 15 * 86400]
    np.testing.assert_allclose(recount.overstatement_rates(history, keys, pooled), expected)


def test_lost_since_count_is_rate_times_days_since_the_last_count() -> None:
    keys = pd.DataFrame({"sku": ["A", "B", "C"], "location": "main"})
    days = pd.date_range("2026-03-01", "2026-03-12")  # ends 03-13 00:00 UTC
    grid = Grid(keys, ("wms", "shop"), days, np.ones((2, 3, len(days))), "wms")
    pooled = recount.location_sums(tables(COUNTS), config())
    lost = recount.lost_since_count(tables(COUNTS), grid, config(), pooled=pooled)
    assert lost is not None
    rates = recount.overstatement_rates(
        recount.count_history(count_accuracy(SNAPS, COUNTS, config())[0]), keys, pooled
    )
    since = np.array([2 - 5 / 24, 7 - 5 / 24, 12.0])  # C never counted: the window's 12 days
    np.testing.assert_allclose(lost, rates * since)


def test_without_count_pairs_there_is_no_history() -> None:
    keys = pd.DataFrame({"sku": ["A"], "location": "main"})
    days = pd.date_range("2026-03-01", "2026-03-12")
    grid = Grid(keys, ("wms", "shop"), days, np.ones((2, 1, len(days))), "wms")
    one = tables(COUNTS.iloc[:1])
    pooled = recount.location_sums(one, config())
    assert pooled.empty
    assert recount.lost_since_count(one, grid, config(), pooled=pooled) is None


def make_state(**overrides: object) -> countlist.KeyState:
    """Three slow keys (0.25 a day, price 20) whose records agree: A and C show 1 unit,
    B shows 0 (the records know).  A's records have lost 0.5 units since its count."""
    n = 3
    base: dict[str, object] = {
        "keys": pd.DataFrame({"sku": list("ABC"), "location": "main"}),
        "authority_name": "wms",
        "authority": np.array([1.0, 0.0, 1.0]),
        "selling": np.array([[1.0, 0.0, 1.0]]),
        "selling_systems": ("shop",),
        "drift": np.zeros((1, n)),
        "drift_systems": ("shop",),
        "rate": np.full(n, 0.25),
        "sd": np.full(n, 0.5),
        "lead_time": np.full(n, 7.0),
        "z": np.full(n, 1.6448536269514722),
        "unit_cost": np.full(n, 8.0),
        "unit_price": np.full(n, 20.0),
        "extra_capital": np.zeros(n),
        "window_value": np.zeros(n),
        "record_error": np.array([0.5, 0.5, 0.0]),
    }
    base.update(overrides)
    return countlist.KeyState(**base)  # type: ignore[arg-type]


def test_wrong_since_count_prices_every_chance_the_units_shown_are_gone() -> None:
    value = sellout.wrong_since_count(make_state(), PARAMS, 56.0)
    # A: P(Poisson(0.5) ≥ 1) = 1 − e^−0.5, × (0.4 × min(0.25 a day × 56 days, the 1 unit
    # shown: at or below the reorder point 3.93 a reorder is due) × 20 + the shop's 1 unit
    # offered from the empty shelf × 15 pick failures) = × (8 + 15)
    np.testing.assert_allclose(value, [(1 - math.exp(-0.5)) * 23.0, 0.0, 0.0])
    assert (
        sellout.wrong_since_count(make_state(record_error=None), PARAMS, 56.0).tolist() == [0.0] * 3
    )


def test_a_record_short_above_the_reorder_point_loses_the_horizon() -> None:
    # A shows 5 > ROP 0.25 × 7 + 1.645 × √7 × 0.5 = 3.93: no reorder comes while the shelf is
    # empty; P(Poisson(6) ≥ 5) = 1 − 115e⁻⁶, × (0.4 × 0.25 a day × 56 days × 20 + the shop's
    # 1 unit offered (min(14, 1, 5)) × 15)
    state = make_state(authority=np.array([5.0, 0.0, 1.0]), record_error=np.array([6.0, 0, 0]))
    value = sellout.wrong_since_count(state, PARAMS, 56.0)
    np.testing.assert_allclose(value, [(1 - 115 * math.exp(-6)) * (112.0 + 15), 0.0, 0.0])


def test_the_count_list_ranks_and_names_the_record_the_counts_distrust() -> None:
    table = countlist.count_list(make_state(), PARAMS).set_index("sku")
    assert table.loc["A", "rank"] == 1
    assert table.loc["A", "expected_value"] == pytest.approx((1 - math.exp(-0.5)) * 23.0)
    assert table.loc["A", "reason"] == (
        "likely short since the count: wms shows 1, counts find 0.50 units lost unrecorded"
        " by now (P(empty) 0.39)"
    )
    assert table.loc["C", "expected_value"] == 0.0


def test_a_silence_updates_the_count_history_prior_by_bayes_rule() -> None:
    # p = P(the silence | stocked) = 0.2: at the silent shelf's prior 0.01 the posterior is
    # 0.01 / (0.01 + 0.99 × 0.2); under a prior of 0.1 it is 0.1 / (0.1 + 0.9 × 0.2)
    at_base = silence.empty_shelf_probability(np.array([0.2, 1.0, 0.0]))
    got = silence.with_prior(at_base, np.array([0.1, 0.1, 0.1]))
    np.testing.assert_allclose(got, [0.1 / (0.1 + 0.9 * 0.2), 0.1, 1.0])
    assert silence.with_prior(at_base, np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_the_silence_raises_the_chance_a_record_is_short() -> None:
    # A has been silent (P(empty) 0.5 at the prior 0.01: p = 0.0101); B kept selling
    state = make_state(empty_shelf=np.array([0.5, 0.01, 0.01]), silent_days=np.full(3, 4.0))
    prior = 1 - math.exp(-0.5)
    p = 0.01 / 0.99
    np.testing.assert_allclose(
        sellout.short_since_count(state), [prior / (prior + (1 - prior) * p), 0.0, 0.0]
    )
