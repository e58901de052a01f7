"""The causes and costs of an audit from its parts' results: attribution, impact, count
accuracy and the findings' digest (:mod:`driftkit.plan.digest`), which the fix plan, the
handoff fixes and the report's cause totals read instead of the findings.  Part of
:func:`driftkit.scale.combine.combine`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from driftkit.causes.attribute import Attribution, attribution_from_parts, explained_totals
from driftkit.causes.context import BUSINESS_EVENT
from driftkit.drift.accuracy import accuracy_from_sums
from driftkit.drift.align import Grid
from driftkit.drift.compare import Comparison
from driftkit.impact.parts import Impact, forecast_bias_parts, impact_from_parts
from driftkit.plan.digest import (
    DIGEST_COLUMNS,
    FindingsDigest,
    cause_counts,
    digest_batches,
    findings_digest,
    handoff_table,
)
from driftkit.scale.part import BucketResult
from driftkit.scale.plan import RULES, Plan
from driftkit.scale.stored import StoredTable, merged_columns

_NO_MATCHES = pd.DataFrame({BUSINESS_EVENT: pd.Series(dtype="int64")})


def combine_full(
    plan: Plan,
    grid: Grid,
    comparison: Comparison,
    results: list[BucketResult],
    labels: pd.Series,
    stored: dict[str, StoredTable],
) -> tuple[Attribution, Impact, dict[str, Any]]:
    """Attribution, impact and count accuracy recombined, and the findings' digest.

    Returns
    -------
    tuple
        The attribution (``findings_by_cause`` from the digest), the impact (its handoff
        fixes from the digest) and ``parts`` (Σ numerators and denominators),
        ``count_errors`` (frames or stored parts), ``accuracy`` and ``digest``.
    """
    full = [r.full for r in results]
    attribution = attribution_from_parts(
        [f["attribution"] for f in full], labels, matches=_kept_matches(results), rules=RULES
    )
    digest = _digest(attribution.findings, stored.get("findings"), full)
    attribution = replace(attribution, findings_by_cause=cause_counts(digest))
    explained, covered = explained_totals([f["attribution"] for f in full])
    costs = [f["impact"] for f in full]
    impact = impact_from_parts(
        costs,
        comparison.daily,
        grid,
        None,
        config=plan.config,
        facts=plan.demand,
        fixes=handoff_table(digest),
    )
    systems = [s for s in plan.config.systems if s in plan.found]
    systems += [s for s in plan.found if s not in plan.config.systems]
    parts = {
        "explained_units": explained,
        "drift_units": covered,
        **forecast_bias_parts(costs),
    }
    accuracy = accuracy_from_sums([f["accuracy"] for f in full], systems)
    errors = [f["count_errors"] for f in full]  # frames, or the parts workers stored
    more = {"parts": parts, "count_errors": errors, "accuracy": accuracy, "digest": digest}
    return attribution, impact, more


def _digest(
    findings: pd.DataFrame, stored: StoredTable | None, full: list[dict[str, Any]]
) -> FindingsDigest:
    """The findings' digest: of ``findings`` (in process), or streamed from their parts (the
    driver holds only the bucket's shown rows of them)."""
    if stored is None:
        return findings_digest(findings)
    batches = merged_columns(stored, DIGEST_COLUMNS)
    return digest_batches(batches, [f["edge_keys"] for f in full])


def _kept_matches(results: list[BucketResult]) -> pd.DataFrame:
    """The matched events of a single in-process part; empty when they stayed in workers."""
    kept = results[0].matches if len(results) == 1 else None
    return _NO_MATCHES if kept is None else kept
