"""The causes and costs of one part: roll-forward, attribution, impact, count accuracy.

:func:`full_parts` is pass 3's second half (:func:`driftkit.scale.part.audit_part` with
``plan.full``): the part's findings and per-key tables, and the numerator and denominator
of every cross-key number of attribution and impact, with the plan's global facts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from driftkit import schema
from driftkit.causes.attribute import attribution_part
from driftkit.causes.match import match_events
from driftkit.drift.accuracy import accuracy_sums, count_accuracy, rollforward
from driftkit.drift.align import Grid
from driftkit.drift.codes import column_codes
from driftkit.drift.compare import Comparison
from driftkit.impact.parts import impact_part
from driftkit.load.client import ClientData
from driftkit.plan.authority import authority_part
from driftkit.plan.digest import edge_keys
from driftkit.scale.plan import GHOST, RULES, Plan
from driftkit.scale.steps import timed
from driftkit.schema import AS_OF, LOCATION, SKU, SYSTEM


def full_parts(
    data: ClientData,
    grid: Grid,
    comparison: Comparison,
    plan: Plan,
    *,
    matches: pd.DataFrame | None = None,
    count_errors: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Roll-forward, attribution, impact and count accuracy of one part (``matches`` and
    ``count_errors`` computed here unless given).

    Returns
    -------
    dict
        ``attribution`` (:class:`~driftkit.causes.attribute.AttributionPart`),
        ``impact``
        (:class:`~driftkit.impact.parts.ImpactPart`), ``count_errors``, ``accuracy``
        (their :func:`~driftkit.drift.accuracy.accuracy_sums`) and ``authority``
        (:func:`~driftkit.plan.authority.authority_part`), ``edge_keys``
        (:func:`~driftkit.plan.digest.edge_keys` of its findings).
    """
    with timed("rollforward"):
        residuals = rollforward(data.snapshots, data.events, plan.config, grid)
    if matches is None:
        matches = match_part(data)
    with timed("attribution"):
        full = _attribute(data, grid, comparison, residuals, plan, matches)
    findings = full["attribution"].findings
    full["edge_keys"] = edge_keys(findings)  # the fix plan's keys per edge (plan.digest)
    with timed("count accuracy"):
        errors = count_errors if count_errors is not None else part_count_errors(data, plan)
        full["count_errors"] = errors
        full["accuracy"] = accuracy_sums(full["count_errors"])
    with timed("impact"):
        full["impact"] = impact_part(
            data,
            grid,
            findings,
            config=plan.config,
            facts=plan.demand,
            count_errors=full["count_errors"],
        )
    with timed("authority"):
        full["authority"] = authority_part(grid, data.catalog)
    return full


def _attribute(
    data: ClientData,
    grid: Grid,
    comparison: Comparison,
    residuals: pd.DataFrame,
    plan: Plan,
    matches: pd.DataFrame,
) -> dict[str, Any]:
    """``attribution_part`` of one part with the plan's export spans and handoff statistics."""
    part = attribution_part(
        data,
        grid,
        comparison,
        residuals,
        matches=matches,
        span=plan.span,
        stats=plan.handoffs,
        rules=RULES,
    )
    return {"attribution": part}


def part_count_errors(data: ClientData, plan: Plan) -> pd.DataFrame:
    """``accuracy.count_accuracy`` errors of one bucket, with a row for every client system.

    A system without snapshots in this bucket is listed by one placeholder snapshot
    whose key matches no count, so each count gets a (valueless) row for it as in the
    unpartitioned run.
    """
    listed = set(column_codes(data.snapshots[SYSTEM])[1])  # coded once per audit
    ghosts = [s for s in plan.found if s not in listed]
    snapshots = data.snapshots
    if ghosts and len(data.counts):
        placeholder = pd.DataFrame(
            {
                SYSTEM: ghosts,
                SKU: GHOST,
                LOCATION: GHOST,
                AS_OF: pd.Timestamp(0, tz="UTC"),
            }
        )
        snapshots = pd.concat([snapshots, schema.conform(placeholder, "snapshots")])
    return count_accuracy(snapshots, data.counts, plan.config)[0]


def match_part(data: ClientData) -> pd.DataFrame:
    """The part's events matched across systems, with the audit's rules."""
    with timed("match"):
        return match_events(data.events, catalog=data.catalog, rules=RULES.match)
