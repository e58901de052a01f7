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
from driftkit.plan.schedule import tier_headline, tier_keys
from driftkit.schema import Cause


@dataclass(frozen=True)
class Thresholds:
    """Limits for ``driftkit check``; None = not checked."""

    min_agreement_rate: float | None = None
    max_value_at_risk: float | None = None
    max_phantom_stockouts: float | None = None
    max_findings: dict[str, int] = field(default_factory=dict)
    allow_partial: bool = False  # accept configured systems that were never compared

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Thresholds:
        """Thresholds from the ``check`` command's options."""
        rate = args.min_agreement_rate
        if args.max_drift_rate is not None:
            rate = max(rate or 0.0, 1.0 - args.max_drift_rate)
        findings = dict(_cause_limit(item) for item in args.max_findings)
        partial = bool(getattr(args, "allow_partial", False))
        return cls(rate, args.max_value_at_risk, args.max_phantom_stockouts, findings, partial)


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


def uncompared(summary: dict[str, Any], *, allow_partial: bool = False) -> list[str]:
    """One line when nothing was compared, else one per configured system never compared
    (none with ``allow_partial``); the reasons are ``summary["uncompared_systems"]``."""
    client = summary.get("client", "?")
    systems: dict[str, str] = summary.get("uncompared_systems") or {}
    if summary.get("compared_cells") == 0:
        why = "; ".join(f"{s}: {r}" for s, r in systems.items()) or "no two systems overlap"
        return [f"{client}: nothing was compared: {why}"]
    if allow_partial:
        return []
    return [
        f"{client}: {s} was never compared with another system: {r} (--allow-partial accepts it)"
        for s, r in systems.items()
    ]


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
    reasons = uncompared(summary, allow_partial=t.allow_partial)
    if summary.get("compared_cells") == 0:
        return reasons  # one line: every number is unknown because nothing was compared
    reasons += [f"{client}: {line}" for line in _unknown(summary, t)]
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


def check_tier(
    client_dir: Path,
    tier: str,
    thresholds: Thresholds,
    *,
    start: date | None = None,
    end: date | None = None,
) -> list[str]:
    """``check_client`` on one schedule tier's SKU-locations (docs/fix_plan.md).

    The tiers come from the same audit's demand and costs (``plan.schedule.tier_keys``);
    the drift numbers are recomputed on the tier's keys only.  ``[check.<tier>]`` of
    client.toml gives the limits the command line leaves unset.
    """
    if thresholds.max_phantom_stockouts is not None or thresholds.max_findings:
        raise ConfigError(
            "--tier checks drift numbers of the tier's keys; --max-phantom-stockouts and "
            "--max-findings apply to the whole client: run them without --tier"
        )
    audit = run_audit(client_dir, start=start, end=end)
    config, catalog = audit.config, audit.data.catalog
    tiers = tier_keys(audit.impact.per_key, catalog, config.check)
    headline = tier_headline(audit.grid, config, catalog, tiers[tiers["tier"] == tier])
    limits = config.check.limits.get(tier, {})
    merged = Thresholds(
        _either(thresholds.min_agreement_rate, limits.get("min_agreement_rate")),
        _either(thresholds.max_value_at_risk, limits.get("max_value_at_risk")),
    )
    summary = {**headline, "client": f"{config.id} tier {tier}"}
    reasons = crossed(summary, merged)
    most, drifted = limits.get("max_drifted_sku_locations"), headline["drifted_sku_locations"]
    if most is not None and drifted > most:
        reasons.append(f"{summary['client']}: {drifted} drifted SKU-locations exceed {most:g}")
    return reasons


def _either(given: float | None, configured: float | None) -> float | None:
    return configured if given is None else given
