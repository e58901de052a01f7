"""Row 12: unknown money cannot pass a value threshold; crossed = exit 1, error = exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftkit import cli
from driftkit.check import Thresholds, crossed
from driftkit.errors import ReportError

DRIFT_WITHOUT_CATALOG = {
    "client": "acme",
    "agreement_rate": 0.5,
    "abs_drift_units_last_day": 12.0,
    "value_at_risk_last_day": 0.0,  # nothing priced: no catalog
    "keys_without_cost": 3,
    "phantom_stockout_sku_days": 0,
}


def test_a_value_threshold_fails_when_drift_is_unpriced() -> None:
    reasons = crossed(DRIFT_WITHOUT_CATALOG, Thresholds(max_value_at_risk=0.0))
    assert len(reasons) == 1
    assert "value at risk unknown for 3 drifted SKU-location(s) without a unit cost" in reasons[0]


def test_a_priced_client_under_the_threshold_passes() -> None:
    summary = {**DRIFT_WITHOUT_CATALOG, "value_at_risk_last_day": 40.0, "keys_without_cost": 0}
    assert crossed(summary, Thresholds(max_value_at_risk=50.0)) == []
    assert len(crossed(summary, Thresholds(max_value_at_risk=39.0))) == 1


def test_an_unknown_agreement_rate_fails_its_threshold() -> None:
    summary = {**DRIFT_WITHOUT_CATALOG, "agreement_rate": None}
    assert crossed(summary, Thresholds(min_agreement_rate=0.9)) == [
        "acme: agreement rate unknown (no day where two systems report a key)"
    ]


@pytest.mark.parametrize(
    ("outcome", "code"),
    [([], 0), (["acme: value at risk unknown"], 1), (ReportError("cannot audit"), 2)],
    ids=["met", "crossed", "error"],
)
def test_exit_codes_are_distinct(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outcome: object, code: int
) -> None:
    def check(*args: object, **kwargs: object) -> object:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr("driftkit.check.check_client", check)
    assert cli.main(["check", str(tmp_path / "acme"), "--max-value-at-risk", "0"]) == code
