"""Running the cause detectors in order, pricing the findings, labelling the episodes.

:func:`detect_causes` runs one detector per cause (:mod:`driftkit.causes.event_detectors`,
:mod:`driftkit.causes.stale_detectors`, :mod:`driftkit.causes.value_detectors`), then the
episode fallbacks (:mod:`driftkit.causes.episodes`); :func:`explain_episodes` labels every
drift episode with the causes covering it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.checked import keyed_episodes
from driftkit.causes.context import FINDING_COLUMNS, _combine, _Context
from driftkit.causes.episodes import episode_fallback, timing_drift
from driftkit.causes.event_detectors import duplicates, late, missing
from driftkit.causes.stale_detectors import reverted_counts, stale_syncs
from driftkit.causes.stats import HandoffStats
from driftkit.causes.unit_detectors import pack_records
from driftkit.causes.unrecorded import mirrored_episodes, unexplained_residuals
from driftkit.causes.value_detectors import unit_ratios
from driftkit.drift.compare import Comparison
from driftkit.drift.pairs import COUNTERPART
from driftkit.load.client import ClientData
from driftkit.schema import SKU, UNIT_COST, Cause

SNAPSHOT_TIMING = "snapshot_timing"


def detect_causes(
    data: ClientData,
    comparison: Comparison,
    ctx: _Context,
    matches: pd.DataFrame,
    delivered: pd.DataFrame,
    stats: HandoffStats,
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
        Client-wide handoff statistics for ``missing``/``late``
        (:func:`driftkit.causes.stats.handoff_stats`).

    Returns
    -------
    tuple[pandas.DataFrame, numpy.ndarray]
        The findings (columns ``sku, location, system, counterpart, cause, first_seen,
        last_seen, units, value, confidence, evidence, reference, event_ids``) and
        ``timing_drift`` of the
        episodes.
    """
    stale = stale_syncs(matches, ctx)
    explaining = [  # what explains a residual: stale overwrites and unit mismatches
        stale,
        reverted_counts(ctx, stale, matches),
        unit_ratios(ctx),
        pack_records(matches, ctx),
    ]
    detected = [duplicates(matches, ctx), missing(delivered, ctx, stats), late(matches, ctx, stats)]
    detected += [*explaining, unexplained_residuals(ctx, _joined(explaining), delivered)]
    keyed = keyed_episodes(comparison.episodes, ctx.grid)  # each key looked up once
    lagging = mirrored_episodes(keyed, ctx)  # a snapshot-only system a day late
    timing = timing_drift(data, ctx.grid, keyed) | lagging
    vs_authority = (keyed[COUNTERPART] == ctx.grid.authority).to_numpy()
    for first in (vs_authority, ~vs_authority):  # against the authority first, then the rest
        episodes = keyed[first]
        detected.append(episode_fallback(episodes, _joined(detected), timing[first], ctx))
    findings = _combine(detected)  # one stable sort: the order of sorting after each step
    return _priced(findings, data.catalog), timing


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The findings of ``parts`` in one frame, unsorted (for steps that read them as a set)."""
    kept = [p for p in parts if len(p)]
    return pd.concat(kept, ignore_index=True) if kept else _combine(kept)


def _priced(findings: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """Fill ``value`` = |units| × unit_cost (NaN where the cost is unknown)."""
    cost = findings[SKU].map(catalog.drop_duplicates(SKU).set_index(SKU)[UNIT_COST])
    out = findings.assign(value=findings["units"].astype(float).abs() * cost.astype(float))
    return out[FINDING_COLUMNS].reset_index(drop=True)


def explain_episodes(covered: pd.DataFrame, timing: np.ndarray) -> pd.Series:
    """Label every episode with what explains it: causes, ``snapshot_timing`` or nothing.

    ``covered`` is :func:`~driftkit.causes.episodes.covering` of the findings and the
    episodes; ``timing`` marks the snapshot-timing episodes.

    Returns
    -------
    pandas.Series
        str, one per episode row (positional), e.g. ``missing_event``,
        ``duplicate_event+sync_lag``, ``snapshot_timing`` or ``""``.
    """
    causes = list(covered.columns)
    hits = covered.to_numpy(dtype=bool)
    code = hits.astype(np.int64) @ (1 << np.arange(len(causes), dtype=np.int64))  # cause bits
    code = np.where((code == 0) & np.asarray(timing, dtype=bool), -1, code)
    found, row = np.unique(code, return_inverse=True)  # each combination named once
    names = [
        SNAPSHOT_TIMING if c < 0 else "+".join(x for i, x in enumerate(causes) if c >> i & 1)
        for c in found.tolist()
    ]
    return pd.Series(np.asarray(names, dtype=object)[row], dtype="str")


def count_by_cause(findings: pd.DataFrame) -> dict[str, int]:
    """Number of findings per cause, every cause listed (zeros included)."""
    counts = findings["cause"].value_counts()
    return {str(c): int(counts.get(str(c), 0)) for c in Cause}
