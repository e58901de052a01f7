"""Why it drifted (DESIGN §6): event matching, the handoff map and causes → findings.

:func:`attribute` matches every event across systems (:mod:`driftkit.causes.match`), infers the
handoff map, runs one detector per cause and then makes sure every drift episode has a
cause: an episode that no finding covers becomes an honest ``unrecorded_change``.  A
finding names the system whose record is wrong (a duplicate in the authority is the
authority's finding), its ``units`` are the signed effect on that system's count and its
``evidence`` is one sentence an analyst can check against the exports; ``reference`` and
``event_ids`` name the business reference and the events behind a finding on events.

Detectors (rules and thresholds in ``docs/causes.md``):

* ``duplicate_event`` — a later copy of a business event in one system;
* ``missing_event`` — a business event on an edge its target normally receives, never
  received (and not still within the edge's usual latency at the end of the data);
* ``sync_lag`` — a record applied long after the business event, beyond the usual delay
  of that system and kind;
* ``stale_overwrite`` — a sync whose ``source_as_of`` predates a count already applied,
  or a value that jumps back to its pre-count level without an event;
* ``unit_mismatch`` — a system's value ≈ the authority's ÷ (or ×) the pack size, events
  whose sizes differ by the pack size, or a sub-unit rounding residue;
* ``unrecorded_change`` — a roll-forward residual that no event in any system explains.

This module wires the steps and is the public surface; the code lives in the modules
beside it: :mod:`driftkit.causes.context` (rules, context, finding table),
:mod:`driftkit.causes.match`, :mod:`driftkit.causes.deliveries`,
:mod:`driftkit.causes.handoffs` and :mod:`driftkit.causes.callouts` (matching and the handoff
map), :mod:`driftkit.causes.event_detectors` (detectors over matched events),
:mod:`driftkit.causes.stale_detectors` (stale syncs and reverted counts),
:mod:`driftkit.causes.value_detectors` (detectors on the daily grid) and
:mod:`driftkit.causes.episodes` (snapshot timing, the fallback, coverage).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from driftkit.causes.callouts import callouts_from_counts, format_counts
from driftkit.causes.context import (
    BUSINESS_EVENT,
    FINDING_COLUMNS,
    LATENCY_H,
    AttributionRules,
    _Context,
)
from driftkit.causes.deliveries import shared_candidates
from driftkit.causes.detect import detect_causes, explain_episodes
from driftkit.causes.episodes import _resets, covering
from driftkit.causes.handoffs import EDGE, FORMAT_SIDES, EdgeParts, edge_parts, handoff_from_parts
from driftkit.causes.match import match_events
from driftkit.causes.stats import HandoffStats, client_stats, marked_deliveries
from driftkit.causes.unrecorded import feed_notes
from driftkit.drift.align import Grid
from driftkit.drift.compare import Comparison
from driftkit.drift.pairs import COUNTERPART
from driftkit.load.client import ClientData
from driftkit.schema import LOCATION, SKU, SYSTEM, Cause

US_PER_HOUR = 3_600_000_000
#: The columns of the normal deliveries that the handoff map and the callouts read.
EDGE_COLUMNS = [BUSINESS_EVENT, *EDGE, *FORMAT_SIDES, LATENCY_H, "received", "copies"]
_DEFAULT_RULES = AttributionRules()  # the default of attribute(rules=...)


@dataclass(frozen=True)
class Attribution:
    """The causes of a client's drift.

    Attributes
    ----------
    findings
        One row per (system, key, cause) occurrence; columns ``sku, location, system,
        counterpart, cause, first_seen, last_seen, units, value, confidence, evidence,
        reference, event_ids`` (the business reference and the ``;``-joined event ids
        behind a finding on events; ``""`` for findings on values).
    handoffs
        The handoff map (:func:`driftkit.causes.handoffs.map_handoffs`).
    callouts
        Sentences about missing events clustering on one reference format, then one per
        system without an event feed (its causes cannot be separated).
    matches
        Every event row with its ``business_event`` id (:func:`driftkit.causes.match.match_events`).
    findings_by_cause
        Cause → number of findings (every cause listed, zeros included).
    explained_share
        Share of drift units attributed to a cause other than ``unrecorded_change``
        (NaN when there is no drift against the authority).
    explained_by
        One label per row of ``comparison.episodes`` (same order): the causes of the
        findings covering it joined by ``+``, or ``snapshot_timing`` when the two systems
        only snapshot at different times (no record is wrong), else empty.
    """

    findings: pd.DataFrame
    handoffs: pd.DataFrame
    callouts: list[str]
    matches: pd.DataFrame
    findings_by_cause: dict[str, int]
    explained_share: float
    explained_by: pd.Series


@dataclass(frozen=True)
class AttributionPart:
    """One part's attribution: its findings and the summable parts of the rest.

    Attributes
    ----------
    findings
        The part's findings (:data:`~driftkit.causes.context.FINDING_COLUMNS`).
    matches
        The part's matched events.
    edges
        :class:`~driftkit.causes.handoffs.EdgeParts` of its normal deliveries.
    formats
        Reference-format counts of those deliveries (``callouts.format_counts``).
    explained
        (explained drift units, covered drift units) of its episodes vs the authority.
    explained_by
        One label per row of the part's ``comparison.episodes``.
    notes
        Sentences about systems without an event feed (:func:`~driftkit.causes.unrecorded.feed_notes`).
    """

    findings: pd.DataFrame
    matches: pd.DataFrame
    edges: EdgeParts
    formats: pd.DataFrame
    explained: tuple[float, float]
    explained_by: pd.Series
    notes: tuple[str, ...] = ()


def attribute(
    data: ClientData,
    grid: Grid,
    comparison: Comparison,
    residuals: pd.DataFrame,
    *,
    rules: AttributionRules = _DEFAULT_RULES,
) -> Attribution:
    """Explain every drift episode by a cause and map the handoffs between systems.

    The one-part case of the audit's attribution: the handoff statistics come from this
    client's own events, then :func:`attribution_part` and :func:`attribution_from_parts`.

    Parameters
    ----------
    data
        The client's canonical tables (``load_client``); not mutated.
    grid, comparison
        ``align`` and ``compare`` of the same data.
    residuals
        ``rollforward`` of the same data and grid.
    rules
        Thresholds.

    Returns
    -------
    Attribution
        ``findings`` (columns ``sku, location, system, counterpart, cause, first_seen,
        last_seen, units, value, confidence, evidence, reference, event_ids``),
        ``handoffs``, ``callouts``, ``matches``, ``findings_by_cause``,
        ``explained_share`` and ``explained_by``.
    """
    matches = match_events(data.events, catalog=data.catalog, rules=rules.match)
    span, stats = client_stats(matches, rules.match)
    part = attribution_part(
        data, grid, comparison, residuals, matches=matches, span=span, stats=stats, rules=rules
    )
    return attribution_from_parts([part], part.explained_by, matches=matches, rules=rules)


def attribution_part(
    data: ClientData,
    grid: Grid,
    comparison: Comparison,
    residuals: pd.DataFrame,
    *,
    matches: pd.DataFrame,
    span: pd.DataFrame,
    stats: HandoffStats,
    rules: AttributionRules = _DEFAULT_RULES,
) -> AttributionPart:
    """One part's attribution with the client's export spans and handoff statistics.

    Parameters
    ----------
    data, grid, comparison, residuals
        The part's tables, grid, comparison and roll-forward residuals.
    matches
        ``match_events`` of the part's events.
    span, stats
        The client's :func:`~driftkit.causes.stats.export_spans` and
        :func:`~driftkit.causes.stats.handoff_stats`.
    rules
        Thresholds.
    """
    fed = frozenset(span.index)  # systems with an event feed
    ctx = _Context(data.config, grid, residuals, data.counts, data.catalog, rules, fed)
    first, candidates = shared_candidates(matches, span, keep=False)  # built by the profile
    delivered = marked_deliveries(candidates, first, stats, rules.match)
    findings, timing = detect_causes(data, comparison, ctx, matches, delivered, stats)
    edges = delivered.loc[delivered["normal"], EDGE_COLUMNS]  # only what the map reads
    covered = covering(findings, comparison.episodes, ctx.tz, _resets(ctx))  # read twice
    return AttributionPart(
        findings=findings,
        matches=matches,
        edges=edge_parts(edges),
        formats=format_counts(edges, first),
        explained=explained_parts(covered, comparison.episodes, ctx.authority),
        explained_by=explain_episodes(covered, timing),
        notes=tuple(feed_notes(grid.systems, fed)),
    )


def attribution_from_parts(
    parts: list[AttributionPart],
    explained_by: pd.Series,
    *,
    matches: pd.DataFrame,
    rules: AttributionRules = _DEFAULT_RULES,
) -> Attribution:
    """The client's attribution from every part's (findings in ``attribute``'s order).

    ``explained_by`` is the parts' labels in the order of the combined episodes;
    ``matches`` the matched events kept (empty when they stayed in the workers).
    """
    findings = pd.concat([p.findings for p in parts], ignore_index=True)
    order = ["first_seen", SYSTEM, SKU, LOCATION, "cause"]
    findings = findings.sort_values(order, kind="stable", ignore_index=True)[FINDING_COLUMNS]
    explained, covered = explained_totals(parts)
    formats = pd.concat([p.formats for p in parts], ignore_index=True)
    return Attribution(
        findings=findings,
        handoffs=handoff_from_parts([p.edges for p in parts]),
        callouts=[*callouts_from_counts(formats, rules.match), *_notes(parts)],
        matches=matches,
        findings_by_cause=count_by_cause(findings),
        explained_share=explained / covered if covered else float("nan"),
        explained_by=explained_by,
    )


def _notes(parts: list[AttributionPart]) -> list[str]:
    """The parts' notes, each once, in first-seen order."""
    return list(dict.fromkeys(note for p in parts for note in p.notes))


def explained_totals(parts: list[AttributionPart]) -> tuple[float, float]:
    """Σ explained and Σ covered drift units over the parts (``explained_share``'s ratio)."""
    return (float(sum(p.explained[0] for p in parts)), float(sum(p.explained[1] for p in parts)))


def explained_parts(
    covered: pd.DataFrame, episodes: pd.DataFrame, authority: str
) -> tuple[float, float]:
    """The share of drift units attributed to a cause other than ``unrecorded_change``,
    as (explained units, covered units).

    Drift units: Σ ``peak_abs_drift`` over the episodes against the authority that some
    finding covers (snapshot-timing episodes, which no finding covers, are not drift of
    any record).  Each episode's units are split evenly between the causes covering it.
    ``covered`` is :func:`~driftkit.causes.episodes.covering` of the findings and
    ``episodes``.
    """
    vs = (episodes[COUNTERPART] == authority).to_numpy()
    covered = covered[vs].reset_index(drop=True).astype(float)
    n = covered.sum(axis=1)
    weight = episodes["peak_abs_drift"][vs].reset_index(drop=True).where(n > 0, 0.0)
    other = covered.drop(columns=str(Cause.UNRECORDED_CHANGE)).sum(axis=1) / n.where(n > 0)
    return float((other.fillna(0.0) * weight).sum()), float(weight.sum())


def count_by_cause(findings: pd.DataFrame) -> dict[str, int]:
    """Number of findings per cause, every cause listed (zeros included)."""
    counts = findings["cause"].value_counts()
    return {str(c): int(counts.get(str(c), 0)) for c in Cause}
