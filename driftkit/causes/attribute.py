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

import numpy as np
import pandas as pd

from driftkit.causes.context import FINDING_COLUMNS, AttributionRules, _combine, _Context
from driftkit.causes.deliveries import deliveries
from driftkit.causes.episodes import _resets, covering, episode_fallback, timing_drift
from driftkit.causes.event_detectors import HandoffStats, duplicates, late, missing
from driftkit.causes.handoffs import map_handoffs
from driftkit.causes.match import match_events
from driftkit.causes.stale_detectors import reverted_counts, stale_syncs
from driftkit.causes.value_detectors import unexplained_residuals, unit_ratios
from driftkit.drift.align import Grid
from driftkit.drift.compare import Comparison
from driftkit.drift.pairs import COUNTERPART
from driftkit.load.client import ClientData
from driftkit.schema import SKU, UNIT_COST, Cause

US_PER_HOUR = 3_600_000_000
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
        Sentences about missing events clustering on one reference format.
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


def attribute(
    data: ClientData,
    grid: Grid,
    comparison: Comparison,
    residuals: pd.DataFrame,
    *,
    rules: AttributionRules = _DEFAULT_RULES,
) -> Attribution:
    """Explain every drift episode by a cause and map the handoffs between systems.

    Parameters
    ----------
    data
        The client's canonical tables (``loaders.load_client``); not mutated.
    grid, comparison
        ``align.align`` and ``compare.compare`` of the same data.
    residuals
        ``accuracy.rollforward`` of the same data and grid.
    rules
        Thresholds.

    Returns
    -------
    Attribution
        ``findings`` (columns ``sku, location, system, counterpart, cause, first_seen,
        last_seen, units, value, confidence, evidence, reference, event_ids``),
        ``handoffs``, ``callouts``,
        ``matches``, ``findings_by_cause`` and ``explained_share``.
    """
    ctx = _Context(data.config, grid, residuals, data.counts, data.catalog, rules)
    matches = match_events(data.events, catalog=data.catalog, rules=rules.match)
    delivered = deliveries(matches, rules.match)
    handoffs, callouts = map_handoffs(delivered, matches, rules.match)
    findings, timing = detect_causes(data, comparison, ctx, matches, delivered)
    labels = explain_episodes(findings, comparison.episodes, timing, ctx.tz, _resets(ctx))
    return Attribution(
        findings=findings,
        handoffs=handoffs,
        callouts=callouts,
        matches=matches,
        findings_by_cause=count_by_cause(findings),
        explained_share=explained_share(
            findings, comparison.episodes, grid.authority, ctx.tz, _resets(ctx)
        ),
        explained_by=labels,
    )


def detect_causes(
    data: ClientData,
    comparison: Comparison,
    ctx: _Context,
    matches: pd.DataFrame,
    delivered: pd.DataFrame,
    stats: HandoffStats | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Run every cause detector, then the episode fallbacks, and price the findings.

    Parameters
    ----------
    data
        The client's canonical tables.
    comparison
        ``compare.compare`` of the same data.
    ctx
        The detectors' context (grid, residuals, counts, catalog, rules).
    matches, delivered
        ``match.match_events`` and ``deliveries.deliveries`` of the events.
    stats
        Client-wide handoff statistics for ``missing``/``late``; computed from
        ``matches``/``delivered`` when None.

    Returns
    -------
    tuple[pandas.DataFrame, numpy.ndarray]
        The findings (columns ``sku, location, system, counterpart, cause, first_seen,
        last_seen, units, value, confidence, evidence, reference, event_ids``) and
        ``timing_drift`` of the
        episodes.
    """
    stale = stale_syncs(matches, ctx)
    detected = [
        duplicates(matches, ctx),
        missing(delivered, ctx, stats),
        late(matches, ctx, stats),
        stale,
        reverted_counts(ctx, stale, matches),
        unit_ratios(ctx),
    ]
    residual_causes = _combine(detected)
    explains = residual_causes["cause"].isin([str(Cause.STALE_OVERWRITE), str(Cause.UNIT_MISMATCH)])
    detected.append(unexplained_residuals(ctx, residual_causes[explains], delivered))
    findings = _combine(detected)
    timing = timing_drift(data, ctx.grid, comparison.episodes)
    vs_authority = (comparison.episodes[COUNTERPART] == ctx.grid.authority).to_numpy()
    for first in (vs_authority, ~vs_authority):  # against the authority first, then the rest
        episodes = comparison.episodes[first]
        findings = _combine([findings, episode_fallback(episodes, findings, timing[first], ctx)])
    return _priced(findings, data.catalog), timing


def _priced(findings: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """Fill ``value`` = |units| × unit_cost (NaN where the cost is unknown)."""
    cost = findings[SKU].map(catalog.drop_duplicates(SKU).set_index(SKU)[UNIT_COST])
    out = findings.assign(value=findings["units"].astype(float).abs() * cost.astype(float))
    return out[FINDING_COLUMNS].reset_index(drop=True)


def explain_episodes(
    findings: pd.DataFrame,
    episodes: pd.DataFrame,
    timing: np.ndarray,
    tz: str,
    resets: pd.DataFrame | None = None,
) -> pd.Series:
    """Label every episode with what explains it: causes, ``snapshot_timing`` or nothing.

    Returns
    -------
    pandas.Series
        str, one per episode row (positional), e.g. ``missing_event``,
        ``duplicate_event+sync_lag``, ``snapshot_timing`` or ``""``.
    """
    covered = covering(findings, episodes, tz, resets)
    labels = np.full(len(covered), "", dtype=object)
    for cause in covered.columns:  # six causes, each a vectorized pass
        hit = covered[cause].to_numpy(dtype=bool)
        labels = np.where(hit, np.where(labels == "", cause, labels + "+" + cause), labels)
    labels = np.where((labels == "") & np.asarray(timing, dtype=bool), SNAPSHOT_TIMING, labels)
    return pd.Series(labels, dtype="str")


def count_by_cause(findings: pd.DataFrame) -> dict[str, int]:
    """Number of findings per cause, every cause listed (zeros included)."""
    counts = findings["cause"].value_counts()
    return {str(c): int(counts.get(str(c), 0)) for c in Cause}


def explained_share(
    findings: pd.DataFrame,
    episodes: pd.DataFrame,
    authority: str,
    tz: str,
    resets: pd.DataFrame | None = None,
) -> float:
    """Share of drift units attributed to a cause other than ``unrecorded_change``.

    Drift units: Σ ``peak_abs_drift`` over the episodes against the authority that some
    finding covers (snapshot-timing episodes, which no finding covers, are not drift of
    any record).  Each episode's units are split evenly between the causes covering it.

    Returns
    -------
    float
        Between 0 and 1; NaN when no such episode exists.
    """
    vs = episodes[episodes[COUNTERPART] == authority].reset_index(drop=True)
    covered = covering(findings, vs, tz, resets).astype(float)
    n = covered.sum(axis=1)
    weight = vs["peak_abs_drift"].where(n > 0, 0.0)
    if weight.sum() == 0:
        return float("nan")
    other = covered.drop(columns=str(Cause.UNRECORDED_CHANGE)).sum(axis=1) / n.where(n > 0)
    return float((other.fillna(0.0) * weight).sum() / weight.sum())


SNAPSHOT_TIMING = "snapshot_timing"

__all__ = [
    "FINDING_COLUMNS",
    "SNAPSHOT_TIMING",
    "US_PER_HOUR",
    "Attribution",
    "AttributionRules",
    "attribute",
    "count_by_cause",
    "covering",
    "duplicates",
    "episode_fallback",
    "explain_episodes",
    "explained_share",
    "late",
    "missing",
    "reverted_counts",
    "stale_syncs",
    "timing_drift",
    "unexplained_residuals",
    "unit_ratios",
]
