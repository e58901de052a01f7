"""The fix plan (docs/fix_plan.md): authority scores, the write-gating plan, on hand-made
cases and on the simulator's truth."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit.audit import Audit, run_audit
from driftkit.config import load_config
from driftkit.drift.align import Grid
from driftkit.plan.authority import (
    authority_part,
    combined_authority,
    first_shares,
    score_authorities,
    verdict,
)
from driftkit.plan.fixes import fix_plan
from driftkit.report import story
from driftkit.simulate.simulation import simulate

# --- authority: hand-computed -----------------------------------------------------------------


def _grid() -> Grid:
    """Two keys, two days, systems a, b, c; c never reports key K2."""
    nan = np.nan
    values = np.array(
        [
            [[10, 10], [5, 5]],  # a
            [[11, 12], [5, 5]],  # b
            [[10, 7], [nan, nan]],  # c
        ],
        dtype=float,
    )
    keys = pd.DataFrame({"sku": ["K1", "K2"], "location": ["main", "main"]})
    days = pd.DatetimeIndex(["2026-09-01", "2026-09-02"])
    return Grid(keys, ("a", "b", "c"), days, values, "a")


CATALOG = pd.DataFrame({"sku": ["K1", "K2"], "unit_cost": [2.0, 3.0]})


def test_authority_part_prices_the_last_day_against_each_candidate() -> None:
    part = authority_part(_grid(), CATALOG).set_index("system")
    # as a: |12-10| + |7-10| = 5 units of K1 (cost 2); K2: |5-5| = 0
    # as b: |10-12| + |7-12| = 7; as c: |10-7| + |12-7| = 8 (K2 not compared: c absent)
    assert part["abs_drift_units_last_day"].to_dict() == {"a": 5.0, "b": 7.0, "c": 8.0}
    assert part["value_at_risk_last_day"].to_dict() == {"a": 10.0, "b": 14.0, "c": 16.0}
    assert part["keys_seen"].to_dict() == {"a": 2, "b": 2, "c": 1}


def test_authority_parts_add_up() -> None:
    one = authority_part(_grid(), CATALOG)
    both = combined_authority([one, one]).set_index("system")
    assert both.loc["b", "abs_drift_units_last_day"] == 14.0
    assert both.loc["c", "keys"] == 4 and both.loc["c", "keys_seen"] == 2


def test_first_share_counts_each_source_event_once() -> None:
    handoffs = pd.DataFrame(
        {
            "source": ["shop", "shop", "wms", "wms"],
            "target": ["wms", "erp", "erp", "shop"],
            "kind": ["order", "order", "receipt", "receipt"],
            "events": [10, 8, 5, 4],
        }
    )
    # shop recorded 10 orders first (offered to two targets), wms 5 receipts
    assert first_shares(handoffs).round(6).to_dict() == {"shop": 0.666667, "wms": 0.333333}


def _candidates(
    counts: dict[str, tuple[int, int]], seen: dict[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    systems = list(counts)
    candidates = pd.DataFrame(
        {
            "system": systems,
            "keys": 100,
            "keys_seen": [seen[s] for s in systems],
            "abs_drift_units_last_day": [10.0, 20.0, 30.0][: len(systems)],
            "value_at_risk_last_day": [100.0, 200.0, 300.0][: len(systems)],
        }
    )
    accuracy = pd.DataFrame(
        {
            "system": systems,
            "counted": [counts[s][0] for s in systems],
            "exact": [counts[s][1] for s in systems],
            "mean_error": [0.5, -0.25, 0.0][: len(systems)],
        }
    )
    return candidates, accuracy


NO_FINDINGS = pd.DataFrame({"system": pd.Series(dtype="str")})
NO_HANDOFFS = pd.DataFrame(columns=["source", "target", "kind", "events"])


@pytest.mark.parametrize(
    ("wms_exact", "expected"),
    [(190, "wms"), (162, "erp")],
    ids=["clearly-better-replaces", "within-noise-keeps-configured"],
)
def test_the_configured_authority_is_replaced_only_beyond_noise(
    wms_exact: int, expected: str
) -> None:
    # erp 160/200 = 0.80; wms 190/200 = 0.95: pooled p = 0.875, se = 0.0331, z = 4.5 > 1.96;
    # wms 162/200 = 0.81: z = 0.25, not better beyond noise
    candidates, accuracy = _candidates(
        {"wms": (200, wms_exact), "erp": (200, 160)}, {"wms": 100, "erp": 100}
    )
    scored = score_authorities(candidates, accuracy, NO_HANDOFFS, NO_FINDINGS, configured="erp")
    assert scored.loc[scored["recommended"], "system"].tolist() == [expected]
    assert scored["system"].iloc[0] == "wms"  # best score first either way
    result = verdict(scored, "erp")
    assert result.basis == "cycle_counts" and result.counts == 200
    assert result.configured_headline["value_at_risk_last_day"] == 200.0


def test_coverage_discounts_a_system_that_sees_half_the_keys() -> None:
    candidates, accuracy = _candidates(
        {"wms": (100, 99), "shop": (200, 180)}, {"wms": 50, "shop": 100}
    )
    scored = score_authorities(candidates, accuracy, NO_HANDOFFS, NO_FINDINGS, configured="wms")
    assert scored.set_index("system")["score"].to_dict() == pytest.approx(
        {"wms": 0.495, "shop": 0.9}
    )


def test_without_counts_the_handoff_evidence_decides() -> None:
    candidates, accuracy = _candidates({"wms": (5, 5), "shop": (5, 0)}, {"wms": 100, "shop": 100})
    handoffs = pd.DataFrame(
        {"source": ["wms"], "target": ["shop"], "kind": ["receipt"], "events": [40]}
    )
    findings = pd.DataFrame({"system": ["shop", "shop", "shop", "wms"]})
    scored = score_authorities(candidates, accuracy, handoffs, findings, configured="shop")
    table = scored.set_index("system")
    assert table["record_accuracy"].isna().all()  # 5 counts < MIN_COUNTS
    # wms: (first 1.0 + 1 − wrong 0.25) / 2 = 0.875; shop: (0 + 1 − 0.75) / 2 = 0.125
    assert table["score"].to_dict() == pytest.approx({"wms": 0.875, "shop": 0.125})
    assert verdict(scored, "shop").basis == "handoffs"
    assert verdict(scored, "shop").recommended == "wms"


# --- the write-gating plan: hand-computed ------------------------------------------------------


def _finding(
    system: str, counterpart: str | None, cause: str, units: float, value: float, sku: str
) -> dict[str, object]:
    return {
        "sku": sku,
        "location": "main",
        "system": system,
        "counterpart": counterpart,
        "cause": cause,
        "units": units,
        "value": value,
        "reference": None,
    }


FINDINGS = pd.DataFrame(
    [
        _finding("shop", "wms", "stale_overwrite", 3, 30.0, "A"),
        _finding("shop", "wms", "stale_overwrite", -2, 20.0, "B"),
        _finding("erp", "shop", "duplicate_event", -4, 100.0, "C"),
        _finding("wms", None, "unrecorded_change", 50, 500.0, "D"),
        _finding("wms", "erp", "missing_event", 1, 10.0, "E"),
    ]
)
HANDOFFS = pd.DataFrame(
    {
        "source": ["wms", "shop", "shop"],
        "target": ["shop", "erp", "erp"],
        "kind": ["receipt", "order", "cancel"],
        "events": [40, 100, 5],
        "missing": [0, 1, 0],
        "duplicated": [0, 3, 1],
        "latency_p95_h": [0.5, 4.0, 6.0],
    }
)
CALLOUTS = ["wms never received 3 of 3 receipts whose erp reference looks like `PO#999-A`"]


def test_fix_plan_ranks_edges_by_money_with_the_rule_of_their_cause() -> None:
    plan = fix_plan(FINDINGS, HANDOFFS, CALLOUTS, owner="wms")
    assert plan[["source", "target", "cause"]].values.tolist() == [
        ["shop", "erp", "duplicate_event"],
        ["wms", "shop", "stale_overwrite"],
        ["erp", "wms", "missing_event"],
    ]  # unrecorded_change (500) has no write path to fix
    assert plan["rank"].tolist() == [1, 2, 3]
    assert plan["value"].tolist() == [100.0, 50.0, 10.0]
    assert plan["units"].tolist() == [4.0, 5.0, 1.0]
    assert plan["keys"].tolist() == [1, 2, 1]
    # shop → erp bypasses the owner; missing events on a callout's target: fix the format
    assert plan["rule"].tolist() == [
        "gate+idempotency_key",
        "compare_and_set",
        "validate_reference",
    ]
    assert plan["action"][0].startswith("Gate this path through wms: erp should read")
    assert "changeFromQuantity" in plan["action"][1]


def test_fix_plan_evidence_names_counts_examples_and_the_edge() -> None:
    plan = fix_plan(FINDINGS, HANDOFFS, CALLOUTS, owner="wms")
    assert plan["evidence"][0] == (
        "1 findings on 1 SKU-locations, 4.0 units; e.g. C@main; handoff map: 105 events, "
        "1 missing, 4 duplicated, p95 latency 6.0 h"
    )
    assert plan["evidence"][1].startswith(
        "2 findings on 2 SKU-locations, 5.0 units; e.g. A@main, B@main"
    )
    assert plan["evidence"][2].endswith("no event flows on this edge in the handoff map")


def test_fix_plan_of_no_findings_is_an_empty_table() -> None:
    plan = fix_plan(FINDINGS.iloc[:0], HANDOFFS, [], owner="wms")
    assert plan.empty and "action" in plan.columns


# --- on the simulator's truth ------------------------------------------------------------------


@pytest.fixture(scope="module")
def stale(tmp_path_factory: pytest.TempPathFactory) -> tuple[Audit, pd.DataFrame]:
    """A client whose only faults are storefront syncs overwriting counts."""
    sim = simulate(
        tmp_path_factory.mktemp("stale") / "c", skus=40, days=21, seed=3, faults="stale_overwrite"
    )
    return run_audit(sim.path), sim.ground_truth


def test_faults_on_one_edge_make_it_the_top_fix(stale: tuple[Audit, pd.DataFrame]) -> None:
    audit, truth = stale
    assert truth[["system", "cause"]].drop_duplicates().values.tolist() == [
        ["shop", "stale_overwrite"]
    ]
    top = audit.tables["fix_plan"].iloc[0]
    # the simulator's storefront sync reads the WMS (docs/simulator.md)
    assert (top["source"], top["target"], top["cause"]) == ("wms", "shop", "stale_overwrite")
    assert top["rule"] == "compare_and_set"
    assert audit.summary["authority_recommendation"]["top_fixes"][0]["target"] == "shop"


@pytest.fixture(scope="module")
def wrong_owner(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    """A client whose ERP records some SKUs in packs, configured with the ERP as authority."""
    sim = simulate(
        tmp_path_factory.mktemp("owner") / "c", skus=40, days=21, seed=4, faults="unit_mismatch"
    )
    toml = sim.path / "client.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(re.sub(r'authority = "\w+"', 'authority = "erp"', text), encoding="utf-8")
    return run_audit(load_config(sim.path))


def test_the_least_accurate_configured_authority_is_replaced_by_the_most_accurate(
    wrong_owner: Audit,
) -> None:
    table = wrong_owner.tables["authority"].set_index("system")
    assert wrong_owner.summary["authority"] == "erp"
    assert table["record_accuracy"].idxmin() == "erp"
    recommended = wrong_owner.summary["authority_recommendation"]["recommended"]
    best = table["record_accuracy"].where(table["coverage"] == 1.0).idxmax()
    assert recommended == best != "erp"
    assert table.loc[recommended, "recommended"]


def test_headline_against_the_recommended_authority_is_reported(wrong_owner: Audit) -> None:
    verdict_ = wrong_owner.summary["authority_recommendation"]
    table = wrong_owner.tables["authority"].set_index("system")
    assert verdict_["configured_headline"]["value_at_risk_last_day"] == pytest.approx(
        wrong_owner.summary["value_at_risk_last_day"]
    )
    assert verdict_["headline"]["value_at_risk_last_day"] == pytest.approx(
        table.loc[verdict_["recommended"], "value_at_risk_last_day"]
    )


def test_the_plan_is_written_beside_the_other_outputs(
    stale: tuple[Audit, pd.DataFrame], tmp_path: Path
) -> None:
    from driftkit.audit import write_outputs

    write_outputs(stale[0], tmp_path)
    written = pd.read_csv(tmp_path / "fix_plan.csv")
    assert written["rank"].tolist() == list(range(1, len(written) + 1))
    assert (tmp_path / "authority.csv").is_file()


# --- the report opens with it ------------------------------------------------------------------


def test_the_report_opens_with_the_owner_and_three_fixes(wrong_owner: Audit) -> None:
    html = story.answer(wrong_owner).html
    verdict_ = wrong_owner.summary["authority_recommendation"]
    assert html.startswith("<p class='dk-authority'>Owner of the count: <b>")
    assert "not the configured <b>erp</b>" in html
    assert f"Measured against {verdict_['recommended']} instead of erp" in html
    assert html.index("dk-authority") < html.index("dk-fixes") < html.index("dk-cards")
    fixes = re.findall(r"<li>Fix #(\d)(.*?)</li>", html)
    assert [n for n, _ in fixes] == ["1", "2", "3"][: len(wrong_owner.tables["fix_plan"])]
    assert all("Evidence:" in text and "USD" in text for _, text in fixes)


def test_without_counts_the_report_says_it_rests_on_handoffs(wrong_owner: Audit) -> None:
    verdict_ = {**wrong_owner.summary["authority_recommendation"], "basis": "handoffs"}
    audit = dataclasses.replace(
        wrong_owner, summary={**wrong_owner.summary, "authority_recommendation": verdict_}
    )
    assert "rests on handoff evidence alone" in story.what_to_fix(audit).html


def test_a_runner_up_ahead_only_on_coverage_is_said_so(wrong_owner: Audit) -> None:
    # wms 99/100 on half the keys (score 0.495), shop 180/200 on all (0.9): wms is kept
    candidates, accuracy = _candidates(
        {"wms": (100, 99), "shop": (200, 180)}, {"wms": 50, "shop": 100}
    )
    scored = score_authorities(candidates, accuracy, NO_HANDOFFS, NO_FINDINGS, configured="wms")
    verdict_ = verdict(scored, "wms").to_dict()
    audit = dataclasses.replace(
        wrong_owner,
        summary={**wrong_owner.summary, "authority_recommendation": verdict_},
        tables={**wrong_owner.tables, "authority": scored},
    )
    html = story.what_to_fix(audit).html
    assert "keep <b>wms</b>, as configured" in html
    assert "shop scores higher (0.90 against 0.49) because it reports 100.0% of the" in html
    assert "against 50.0%; its record (90.0% of 200 counts) is not better beyond noise" in html


def test_the_format_rule_needs_the_callouts_edge() -> None:
    # the callout is about erp → wms; missing events on shop → wms are not a format problem
    findings = FINDINGS.assign(counterpart=FINDINGS["counterpart"].replace({"erp": "shop"}))
    plan = fix_plan(findings, HANDOFFS, CALLOUTS, owner="wms").set_index("cause")
    assert plan.loc["missing_event", "rule"] == "delivery_confirmation"


def test_an_uncounted_configured_authority_gives_way_and_inputs_are_kept() -> None:
    # erp counted 10 times (< MIN_COUNTS): its score is unknown, the counted wms is recommended
    candidates, accuracy = _candidates(
        {"wms": (200, 150), "erp": (10, 10)}, {"wms": 100, "erp": 100}
    )
    before = (candidates.copy(), accuracy.copy())
    scored = score_authorities(candidates, accuracy, NO_HANDOFFS, NO_FINDINGS, configured="erp")
    assert verdict(scored, "erp").recommended == "wms"
    assert np.isnan(scored.set_index("system").loc["erp", "score"])
    pd.testing.assert_frame_equal(candidates, before[0])
    pd.testing.assert_frame_equal(accuracy, before[1])
