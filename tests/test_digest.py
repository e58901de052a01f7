"""The findings' digest (plan/digest.py) against the computations over whole findings it
replaces: the handoff fixes, findings by cause, wrong shares, cause totals, the fix plan's
keys and examples; whole, in batches, and streamed from sorted bucket parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit.causes.attribute import count_by_cause
from driftkit.impact.projection import handoff_fixes
from driftkit.plan.digest import (
    DIGEST_COLUMNS,
    cause_counts,
    cause_sums,
    digest_batches,
    edge_keys,
    findings_digest,
    handoff_table,
    system_shares,
)
from driftkit.plan.fixes import fix_plan
from driftkit.scale.ordered import finding_keys, sort_part
from driftkit.scale.stored import StoredTable, merged_columns, store_part

CAUSES = ["missing_event", "duplicate_event", "sync_lag", "unrecorded_change", "unit_mismatch"]
HANDOFFS = pd.DataFrame(
    {
        "source": ["erp", "wms"],
        "target": ["wms", "shop"],
        "kind": ["receipt", "sale"],
        "events": [10, 20],
        "missing": [2, 0],
        "duplicated": [0, 3],
        "latency_p95_h": [1.5, 7.25],
    }
)


def _findings(seed: int, n: int) -> pd.DataFrame:
    """Findings in ``attribute``'s order, values that round differently in another order."""
    rng = np.random.default_rng(seed)
    text = lambda values: pd.Series(values, dtype="str")  # noqa: E731
    counterpart = rng.choice(["erp", "wms", "3pl", None], n).tolist()
    frame = pd.DataFrame(
        {
            "sku": text([f"S{i:02d}" for i in rng.integers(0, 40, n)]),
            "location": text(rng.choice(["east", "west"], n)),
            "system": text(rng.choice(["shop", "wms", "erp"], n)),
            "counterpart": text(counterpart),
            "cause": text(rng.choice(CAUSES, n)),
            "first_seen": pd.Timestamp("2026-09-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 6, n), "D"),
            "units": np.round(rng.normal(0, 40, n), 1),
            "value": np.where(rng.random(n) < 0.1, np.nan, np.round(rng.normal(0, 3e3, n), 2)),
            "reference": text(rng.choice(["PO-1", "", None, "R9"], n).tolist()),
        }
    )
    frame.loc[rng.random(n) < 0.2, "value"] = 12.5  # ties: the findings' order decides
    return sort_part("findings", frame)


def _old_cause_totals(findings: pd.DataFrame) -> pd.DataFrame:
    """story.cause_totals before the digest."""
    sized = findings.assign(units=findings["units"].abs(), value=findings["value"].fillna(0.0))
    totals = sized.groupby("cause", as_index=False).agg(
        findings=("sku", "size"), units=("units", "sum"), value=("value", "sum")
    )
    return totals.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)


def _old_examples(findings: pd.DataFrame) -> pd.Series:
    """fix_plan's examples before the digest: per edge label, its 3 costliest findings."""
    source = findings["counterpart"].fillna("(none)").astype("str")
    edge = source + "→" + findings["system"] + ":" + findings["cause"]
    ranked = findings.assign(edge=edge).sort_values("value", ascending=False, kind="stable")
    top = ranked.groupby("edge").head(3)
    label = top["sku"] + "@" + top["location"]
    label = label.where(
        top["reference"].isna() | (top["reference"] == ""), label + " (" + top["reference"] + ")"
    )
    return label.groupby(top["edge"]).agg(", ".join)


def _batches(findings: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [findings.iloc[i : i + size] for i in range(0, max(len(findings), 1), size)]


@pytest.mark.parametrize("size", [1, 7, 10_000], ids=["rows", "batches", "whole"])
@pytest.mark.parametrize("seed", range(3))
def test_the_digest_gives_the_numbers_of_the_whole_findings(seed: int, size: int) -> None:
    findings = _findings(seed, 400)
    digest = digest_batches(_batches(findings, size), [edge_keys(findings)])
    pd.testing.assert_frame_equal(handoff_table(digest), handoff_fixes(findings), check_exact=True)
    assert cause_counts(digest) == count_by_cause(findings)
    pd.testing.assert_frame_equal(cause_sums(digest), _old_cause_totals(findings), check_exact=True)
    shares = findings["system"].value_counts(normalize=True)
    pd.testing.assert_series_equal(
        system_shares(digest).sort_index(), shares.sort_index(), check_names=False
    )
    plan = fix_plan(digest, HANDOFFS, [], owner="wms")
    examples = _old_examples(findings)
    for item in plan.itertuples():
        assert str(examples[f"{item.source}→{item.target}:{item.cause}"]) in item.evidence


def test_keys_per_edge_add_up_over_buckets_of_skus() -> None:
    findings = _findings(5, 300)
    parts = [findings[findings["sku"].str[-1] == d] for d in "0123456789"]
    digest = digest_batches([findings], [edge_keys(p) for p in parts])
    whole = edge_keys(findings).set_index("edge")["keys"]
    assert digest.keys.set_index("edge")["keys"].sort_index().equals(whole.sort_index())
    assert whole.max() > 1


@pytest.mark.parametrize("batch", [7, 1024], ids=["batches", "whole-parts"])
def test_a_digest_streamed_from_bucket_parts_equals_the_whole_one(
    tmp_path: Path, batch: int
) -> None:
    findings = _findings(7, 500)
    buckets = [findings[findings["sku"].str[-1].astype(int) % 3 == b] for b in range(3)]
    parts = tuple(
        store_part(tmp_path, "findings", b, sort_part("findings", p)) for b, p in enumerate(buckets)
    )
    batches = list(merged_columns(StoredTable("findings", parts), DIGEST_COLUMNS, batch=batch))
    merged = pd.concat(batches, ignore_index=True)
    whole = findings.iloc[np.lexsort(finding_keys(findings))].reset_index(drop=True)
    pd.testing.assert_frame_equal(merged, whole[DIGEST_COLUMNS])
    streamed = digest_batches(iter(batches), [edge_keys(p) for p in buckets])
    pd.testing.assert_frame_equal(
        handoff_table(streamed), handoff_table(findings_digest(whole)), check_exact=True
    )
    assert len(batches) > 10 or batch > 100  # 7 rows of each part at a time: many rounds


def test_no_findings_give_empty_tables() -> None:
    digest = findings_digest(_findings(0, 20).iloc[:0])
    assert handoff_table(digest).empty and cause_sums(digest).empty
    assert set(cause_counts(digest).values()) == {0}
    assert fix_plan(digest, HANDOFFS, [], owner="wms").empty
