"""Cause attribution on the independent scenario stack (tests/scenarios), clean and dirty.

The stack is written from DESIGN §6's words, not from the simulator's code: two
manifestations per cause that the simulator does not produce (tests/scenarios/stack.py),
two keys each, plus clean keys.  Goal: precision and recall ≥ 0.95 per cause on both.
"""

from __future__ import annotations

import pandas as pd
import pytest

from driftkit.load.client import ClientData
from driftkit.schema import Cause
from driftkit.simulate.score import score
from tests.scenarios.client import DIRTY_EVENT, DIRTY_SNAPSHOT, build, truth
from tests.scenarios.measure import VARIANTS, run_variant
from tests.scenarios.stack import FAULTS, Key

Run = tuple[pd.DataFrame, ClientData]


@pytest.fixture(scope="module")
def keys() -> list[Key]:
    return build(copies=2)


@pytest.fixture(scope="module")
def runs(keys: list[Key]) -> dict[str, Run]:
    return {variant: run_variant(keys, dirty=dirty) for variant, dirty in VARIANTS.items()}


def test_every_manifestation_has_ground_truth(keys: list[Key]) -> None:
    shapes = truth(keys).groupby("cause")["shape"].nunique()
    assert shapes.reindex([str(c) for c in Cause]).ge(2).all(), shapes
    assert len(truth(keys)) == 2 * len(FAULTS)


@pytest.mark.parametrize("variant", [*VARIANTS], ids=str)
@pytest.mark.parametrize("cause", [*(str(c) for c in Cause), "all"], ids=str)
def test_precision_and_recall_per_cause(
    runs: dict[str, Run], keys: list[Key], variant: str, cause: str
) -> None:
    table = score(runs[variant][0], truth(keys)).set_index("cause")
    assert table.loc[cause, "precision"] >= 0.95, table
    assert table.loc[cause, "recall"] >= 0.95, table


def test_dirty_rows_are_rejected_and_accounted_for(runs: dict[str, Run]) -> None:
    data = runs["dirty"][1]
    files = data.files
    assert (files["rows_read"] == files["rows_accepted"] + files["rows_rejected"]).all()
    per_system = len(DIRTY_SNAPSHOT) * 4 + len(DIRTY_EVENT) * 3  # 4 snapshot, 3 event files
    assert len(data.rejects) == per_system
    assert len(runs["clean"][1].rejects) == 0


def test_clean_keys_have_no_findings(runs: dict[str, Run], keys: list[Key]) -> None:
    clean = {k.sku for k in keys if not k.truth}
    for findings, _ in runs.values():
        assert not findings["sku"].isin(clean).any()


def test_unit_evidence_names_packs_and_an_inferred_pack_size(runs: dict[str, Run]) -> None:
    units = runs["clean"][0].query("cause == 'unit_mismatch'")
    by_system = units.groupby("system")["evidence"].agg(" | ".join)
    assert "packs for eaches" in by_system["erp"]
    assert "the same ratio or rounding" in by_system["erp"]  # the rounding residue
    assert "not in the catalog but evident from the ratio" in by_system["mkt"]
    assert "pack size 4" in by_system["mkt"]


def test_a_snapshot_only_system_is_noted_once(runs: dict[str, Run]) -> None:
    findings = runs["clean"][0]
    mkt = findings[(findings["system"] == "mkt") & (findings["cause"] == "unrecorded_change")]
    assert len(mkt) == 2  # one per episode (two keys), not one per day
    assert mkt["evidence"].str.contains("exports no events").all()
