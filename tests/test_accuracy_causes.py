"""Accuracy of cause attribution against the simulator's ground truth (driftkit.simulate.score).

Scored by (system, sku, location, cause): precision and recall per cause, pooled over
every fault mix (each cause alone, all together at low/default/high rates, four
locations).  The floors asserted here are the ones measured (docs/causes.md has the
table); the baseline balance rule is scored at key level for comparison.
"""

from __future__ import annotations

import pandas as pd
import pytest

from driftkit.schema import Cause
from driftkit.simulate.score import SCENARIOS, Scenario, measure

FAST = tuple(
    Scenario(s.name, s.faults, seeds=s.seeds[:1], skus=150, days=30, locations=s.locations)
    for s in SCENARIOS
)
#: measured floors (pooled, fast scenarios); the target is 0.95 overall and 0.9 per cause
FLOOR = {"all": 0.95, **{str(c): 0.9 for c in Cause}}


@pytest.fixture(scope="module")
def measured() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return measure(FAST)


@pytest.mark.parametrize("cause", [*FLOOR], ids=str)
def test_precision_and_recall_per_cause(measured: tuple, cause: str) -> None:
    overall = measured[0].set_index("cause")
    row = overall.loc[cause]
    assert row["truth"] > 0
    assert row["precision"] >= FLOOR[cause], overall
    assert row["recall"] >= FLOOR[cause], overall


@pytest.mark.parametrize("scenario", [s.name for s in FAST], ids=str)
def test_every_scenario_is_mostly_right(measured: tuple, scenario: str) -> None:
    by = measured[1].set_index(["scenario", "cause"]).loc[(scenario, "all")]
    assert by["precision"] >= 0.9 and by["recall"] >= 0.9


def test_findings_beat_the_balance_rule_at_key_level(measured: tuple) -> None:
    keys = measured[2]
    assert keys["ours_recall"].mean() >= 0.95
    assert keys["ours_precision"].mean() >= 0.95
    assert keys["ours_recall"].mean() > keys["baseline_recall"].mean() + 0.3


@pytest.mark.slow
def test_full_scenarios_two_seeds_each() -> None:
    overall = measure(SCENARIOS)[0].set_index("cause")
    assert (overall["precision"] >= 0.9).all() and (overall["recall"] >= 0.9).all()
    assert overall.loc["all", "precision"] >= 0.95 and overall.loc["all", "recall"] >= 0.95


def test_confidence_matches_measured_reliability(measured: tuple) -> None:
    """Each rule's confidence is its share of right findings (bins with ≥ 30 findings)."""
    table = measured[3]
    big = table[table["found"] >= 30]
    assert len(big) >= 5
    assert ((big["confidence"] - big["reliability"]).abs() <= 0.1).all(), big
