"""``driftkit check``: one client's audit against thresholds, for CI gates (docs/audit.md).

:func:`check_client` audits without writing anything and returns one line per crossed
threshold (:func:`crossed`); the CLI exits 1 when there is any and 2 on an error.  A
threshold whose number is unknown (value at risk of drifted SKU-locations without a unit
cost, no compared cells) cannot pass: it is reported as not met.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from driftkit.audit import run_audit
from driftkit.errors import ConfigError
from driftkit.schema import Cause


@dataclass(frozen=True)
class Thresholds:
    """Limits for ``driftkit check``; None = not checked."""

    min_agreement_rate: float | None = None
    max_value_at_risk: float | None = None
    max_phantom_stockouts: float | None = None
    max_findings: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Thresholds:
        """Thresholds from the ``check`` command's options."""
        rate = args.min_agreement_rate
        if args.max_drift_rate is not None:
            rate = max(rate or 0.0, 1.0 - args.max_drift_rate)
        findings = dict(_cause_limit(item) for item in args.max_findings)
        return cls(rate, args.max_value_at_risk, args.max_phantom_stockouts, findings)


def _cause_limit(item: str) -> tuple[str, int]:
    """``CAUSE=N`` of ``--max-findings``, the cause checked against the closed vocabulary."""
    cause, _, limit = item.partition("=")
    allowed = ", ".join(Cause)
    if not limit.isdigit():
        raise ConfigError(f"--max-findings {item!r}: expected CAUSE=N, e.g. duplicate_event=0")
    if cause not in set(Cause):
        raise ConfigError(
            f"--max-findings {item!r}: unknown cause {cause!r}; allowed causes: {allowed}"
        )
    return cause, int(limit)


def check_client(
    client_dir: Path, thresholds: Thresholds, *, start: date | None = None, end: date | None = None
) -> list[str]:
    """Audit ``client_dir`` without writing anything; the reasons of every crossed threshold."""
    summary = run_audit(client_dir, start=start, end=end).summary
    return crossed(summary, thresholds)


def _unknown(summary: dict[str, Any], t: Thresholds) -> list[str]:
    """Thresholds that cannot pass because their number is unknown (never read as 0)."""
    lines = []
    if t.min_agreement_rate is not None and summary.get("agreement_rate") is None:
        lines.append("agreement rate unknown (no day where two systems report a key)")
    unpriced = int(summary.get("keys_without_cost") or 0)
    if t.max_value_at_risk is not None and summary.get("value_at_risk_last_day") is None:
        lines.append("value at risk unknown")
    elif t.max_value_at_risk is not None and unpriced:
        known = float(summary["value_at_risk_last_day"])
        lines.append(
            f"value at risk unknown for {unpriced} drifted SKU-location(s) without a unit cost "
            f"(the priced part is {known:,.2f}); add unit_cost for them in the [catalog]"
        )
    if t.max_phantom_stockouts is not None and summary.get("phantom_stockout_sku_days") is None:
        lines.append("phantom stockout SKU-days unknown")
    return lines


def crossed(summary: dict[str, Any], t: Thresholds) -> list[str]:
    """One line per threshold ``summary`` crosses (empty when all are met)."""
    client = summary.get("client", "?")
    reasons = [f"{client}: {line}" for line in _unknown(summary, t)]
    rate = summary.get("agreement_rate")
    if t.min_agreement_rate is not None and rate is not None and rate < t.min_agreement_rate:
        reasons.append(f"{client}: agreement rate {rate:.4f} is below {t.min_agreement_rate:.4f}")
    var = summary.get("value_at_risk_last_day")
    if t.max_value_at_risk is not None and var is not None and var > t.max_value_at_risk:
        reasons.append(f"{client}: value at risk {var:,.2f} exceeds {t.max_value_at_risk:,.2f}")
    phantom = summary.get("phantom_stockout_sku_days")
    if (
        t.max_phantom_stockouts is not None
        and phantom is not None
        and phantom > t.max_phantom_stockouts
    ):
        reasons.append(
            f"{client}: {phantom} phantom stockout SKU-days exceed {t.max_phantom_stockouts:g}"
        )
    by_cause = summary.get("findings_by_cause") or {}
    for cause, limit in t.max_findings.items():
        if by_cause.get(cause, 0) > limit:
            reasons.append(f"{client}: {by_cause[cause]} {cause} findings exceed {limit}")
    return reasons
