"""What the driver keeps of stored findings and episodes (scale.kept), against the whole tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.scale.kept import (
    explanation_counts,
    kept_findings,
    label_digest,
)
from driftkit.scale.ordered import PAIR, finding_keys, sort_part

LABELS = ["", "missing_event", "sync_lag", "snapshot_timing", "unrecorded_change"]


def _episodes(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            PAIR: rng.integers(0, 3, n),
            "sku": pd.Series(rng.choice([f"S{i:02d}" for i in range(12)], n), dtype="str"),
            "location": pd.Series(rng.choice(["east", "west"], n), dtype="str"),
            "start": pd.Timestamp("2026-09-01") + pd.to_timedelta(rng.integers(0, 9, n), "D"),
            "explained_by": pd.Series(rng.choice(LABELS, n, p=[0.4, 0.3, 0.1, 0.1, 0.1])),
        }
    )


def _buckets(frame: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    """``frame`` split by sku, as the ingest buckets split keys."""
    bucket = frame["sku"].str[1:].astype(int).to_numpy() % n
    return [frame[bucket == b].reset_index(drop=True) for b in range(n)]


@pytest.mark.parametrize("seed", range(6))
def test_explanations_from_split_digests_are_the_whole_value_counts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    parts = [sort_part("episodes", p) for p in _buckets(_episodes(rng, 80), 3)]
    whole = sort_part("episodes", pd.concat(parts, ignore_index=True))
    expected = whole["explained_by"].replace("", "unexplained").value_counts()
    split = explanation_counts([label_digest(p) for p in parts if len(p)])
    assert split == {str(k): int(v) for k, v in expected.items()}
    assert list(split) == [str(k) for k in expected.index]  # ties in first-seen order


def _findings(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": pd.Series(rng.choice([f"S{i:02d}" for i in range(15)], n), dtype="str"),
            "location": pd.Series(rng.choice(["east", "west"], n), dtype="str"),
            "system": pd.Series(rng.choice(["shop", "erp"], n), dtype="str"),
            "cause": pd.Series(rng.choice(LABELS[1:], n), dtype="str"),
            "first_seen": pd.Timestamp("2026-09-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 5, n), "D"),
            "value": rng.choice([1.0, 2.5, 7.0, np.nan], n),
            "evidence": pd.Series([f"why {i}" for i in range(n)], dtype="str"),
            "event_ids": pd.Series([f"e{i}" for i in range(n)], dtype="str"),
        }
    )


@pytest.mark.parametrize("seed", range(4))
def test_kept_findings_are_the_rows_the_report_shows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    findings = _findings(rng, 120)
    keys = pd.DataFrame({"sku": ["S03", "S07"], "location": ["east", "west"]})
    top = 10
    parts = [sort_part("findings", p) for p in _buckets(findings, 4)]
    kept = pd.concat([kept_findings(p, keys, top) for p in parts], ignore_index=True)
    kept = kept.iloc[np.lexsort(finding_keys(kept))].reset_index(drop=True)
    whole = pd.concat(parts, ignore_index=True)
    whole = whole.iloc[np.lexsort(finding_keys(whole))].reset_index(drop=True)
    shown = whole.sort_values("value", ascending=False, kind="stable").head(top)
    pd.testing.assert_frame_equal(  # story.findings_table
        kept.sort_values("value", ascending=False, kind="stable").head(top).reset_index(drop=True),
        shown.reset_index(drop=True),
    )
    mine = (whole["sku"] + "@" + whole["location"]).isin(["S03@east", "S07@west"])
    of_mine = (kept["sku"] + "@" + kept["location"]).isin(["S03@east", "S07@west"])
    pd.testing.assert_frame_equal(  # the drill-downs' evidence
        kept[of_mine].reset_index(drop=True), whole[mine].reset_index(drop=True)
    )
    assert mine.sum() < len(kept) <= len(parts) * top + mine.sum() < len(whole)


def test_tied_explanations_keep_the_order_they_first_appear_in() -> None:
    """Bucket 1's label sorts first in the combined table though bucket 0 is read first."""
    later = pd.Timestamp("2026-09-05")
    parts = [
        pd.DataFrame({PAIR: [1, 1], "sku": ["B", "B"], "location": ["x", "x"],
                      "start": [later, later], "explained_by": ["sync_lag", "sync_lag"]}),
        pd.DataFrame({PAIR: [0, 1], "sku": ["A", "A"], "location": ["x", "x"],
                      "start": [later, later], "explained_by": ["missing_event", "missing_event"]}),
    ]  # fmt: skip
    assert list(explanation_counts([label_digest(p) for p in parts])) == [
        "missing_event",
        "sync_lag",
    ]
