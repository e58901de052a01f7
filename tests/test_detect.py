"""Episode labels (driftkit.causes.detect.explain_episodes) against the per-cause string passes
they replaced, and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftkit.causes.context import FINDING_COLUMNS
from driftkit.causes.detect import SNAPSHOT_TIMING, _joined, explain_episodes
from driftkit.schema import Cause


def _old_labels(covered: pd.DataFrame, timing: np.ndarray) -> pd.Series:
    labels = np.full(len(covered), "", dtype=object)
    for cause in covered.columns:
        hit = covered[cause].to_numpy(dtype=bool)
        labels = np.where(hit, np.where(labels == "", cause, labels + "+" + cause), labels)
    labels = np.where((labels == "") & np.asarray(timing, dtype=bool), SNAPSHOT_TIMING, labels)
    return pd.Series(labels, dtype="str")


def test_labels_by_hand() -> None:
    covered = pd.DataFrame(
        [[True, False, True], [False, False, False], [False, False, False], [False, True, False]],
        columns=["missing_event", "sync_lag", "unit_mismatch"],
    )
    got = explain_episodes(covered, np.array([True, True, False, True]))
    assert got.tolist() == ["missing_event+unit_mismatch", SNAPSHOT_TIMING, "", "sync_lag"]
    assert got.dtype == "str"


@pytest.mark.parametrize("rows", [0, 1, 500], ids=lambda n: f"{n}rows")
def test_labels_equal_the_per_cause_passes(rows: int) -> None:
    rng = np.random.default_rng(rows)
    causes = [str(c) for c in Cause]
    covered = pd.DataFrame(rng.random((rows, len(causes))) < 0.2, columns=causes)
    timing = rng.random(rows) < 0.3
    pd.testing.assert_series_equal(explain_episodes(covered, timing), _old_labels(covered, timing))


def test_joined_keeps_every_row_in_part_order_and_is_typed_when_empty() -> None:
    a = pd.DataFrame({"cause": ["b", "a"], "units": [1.0, 2.0]})
    b = pd.DataFrame({"cause": ["c"], "units": [3.0]})
    got = _joined([a, b.iloc[:0], b])
    assert got["cause"].tolist() == ["b", "a", "c"] and got.index.tolist() == [0, 1, 2]
    assert list(_joined([]).columns) == FINDING_COLUMNS
