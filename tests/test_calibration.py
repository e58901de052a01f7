"""The confidence reliability table (driftkit.simulate.calibration) on hand-made findings."""

from __future__ import annotations

import pandas as pd
import pytest

from driftkit.simulate.calibration import reliability, reliability_table


def frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def test_share_right_per_cause_and_confidence_bin() -> None:
    cols = ["system", "sku", "location", "cause", "confidence"]
    findings = frame(
        [
            ("erp", "A", "main", "missing_event", 0.97),  # right, bin 0.95
            ("erp", "B", "main", "missing_event", 0.96),  # wrong, bin 0.95
            ("erp", "C", "main", "missing_event", 0.61),  # right, bin 0.60
            ("shop", "A", "main", "sync_lag", 0.9),  # wrong cause on a true key
        ],
        cols,
    )
    truth = frame(
        [
            ("erp", "A", "main", "missing_event"),
            ("erp", "C", "main", "missing_event"),
            ("shop", "A", "main", "duplicate_event"),
        ],
        cols[:4],
    )
    table = reliability_table([reliability(findings, truth)]).set_index(["cause", "confidence"])
    assert table.loc[("missing_event", 0.95)].tolist() == [2, 1, 0.5]
    assert table.loc[("missing_event", 0.6)].tolist() == [1, 1, 1.0]
    assert table.loc[("sync_lag", 0.9), "reliability"] == 0.0


def test_pooling_sums_counts_before_dividing() -> None:
    one = frame([("x", 0.8, 4, 4)], ["cause", "confidence", "found", "right"])
    two = frame([("x", 0.8, 6, 0)], ["cause", "confidence", "found", "right"])
    table = reliability_table([one, two])
    assert table["reliability"].tolist() == [pytest.approx(0.4)]
