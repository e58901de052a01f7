"""Callouts: sentences about targets whose missing events cluster on one reference format.

When a target loses the events whose reference another system wrote in one format (e.g.
``PO#999-A``) and hardly any of the others, the format is the likely reason (an interface
that rejects it).  :func:`format_counts` counts expected and missing events per format
(summable over partitions) and :func:`callouts_from_counts` writes the sentences.
See ``docs/causes.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.context import (
    BUSINESS_EVENT,
    DEFAULT_MATCH_RULES,
    REF_FORMAT,
    TARGET,
    MatchRules,
)
from driftkit.causes.deliveries import first_records
from driftkit.drift.codes import combined_codes, sorted_codes
from driftkit.schema import KIND, SYSTEM


def format_callouts(
    edges: pd.DataFrame,
    matches: pd.DataFrame,
    rules: MatchRules = DEFAULT_MATCH_RULES,
) -> list[str]:
    """Sentences about targets whose missing events cluster on one reference format.

    For every target and kind, the business events it should have received are grouped
    by the format each *other* system wrote their reference in; a format is called out
    when at least ``callout_min_missing`` of its events and at least half of them never
    arrived while the same system's other formats lost at most ``callout_other_share``.

    Returns
    -------
    list[str]
        e.g. ``wms never received 14 of 16 receipts whose erp reference looks like
        `PO#999-A` (all other formats: 0 missing of 230)``.
    """
    return callouts_from_counts(format_counts(edges, first_records(matches)), rules)


def format_counts(edges: pd.DataFrame, first: pd.DataFrame) -> pd.DataFrame:
    """Per target, kind, recording system and reference format: expected and missing events.

    Parameters
    ----------
    edges
        The normal rows of :func:`~driftkit.causes.deliveries.deliveries`.
    first
        :func:`~driftkit.causes.deliveries.first_records` of the matches.

    Returns
    -------
    pandas.DataFrame
        Columns ``target, kind, system, ref_format, events, missing``.
    """
    edge, row = _pairs(edges[BUSINESS_EVENT].to_numpy(), first[BUSINESS_EVENT].to_numpy())
    target, targets = sorted_factorize(edges[TARGET])
    kind, kinds = sorted_factorize(edges[KIND])
    system, systems = sorted_factorize(first[SYSTEM])
    form, forms = sorted_factorize(first[REF_FORMAT])
    own = np.append(pd.Index(systems).get_indexer(targets), -1)  # a target among the systems
    keep = system[row] != own[target[edge]]  # a missing target or system is dropped below
    edge, row = edge[keep], row[keep]
    by = [TARGET, KIND, SYSTEM, REF_FORMAT]
    levels = [pd.Index(targets), pd.Index(kinds), pd.Index(systems), pd.Index(forms)]
    codes = [target[edge], kind[edge], system[row], form[row]]
    group, groups = combined_codes(codes, levels, by)
    counted = group >= 0  # groupby drops missing keys
    missing = ~edges["received"].to_numpy(dtype=bool)[edge[counted]]
    return groups.assign(
        events=np.bincount(group[counted], minlength=len(groups)).astype(np.int64),
        missing=np.bincount(group[counted], missing, minlength=len(groups)).astype(np.int64),
    )


def sorted_factorize(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(column, sort=True)`` from the column's cached codes
    (:func:`~driftkit.drift.codes.sorted_codes`): a column is hashed once however many
    groupings read it."""
    codes, names = sorted_codes(column)
    return codes, pd.Index(names, dtype=column.dtype)


def _pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (left row, right row) with equal values: an inner join on one integer key."""
    order = np.argsort(right, kind="stable")
    lo = np.searchsorted(right[order], left, side="left")
    n = np.searchsorted(right[order], left, side="right") - lo
    start = np.repeat(lo - (np.cumsum(n) - n), n)
    return np.repeat(np.arange(len(left)), n), order[start + np.arange(n.sum())]


def callouts_from_counts(
    counts: pd.DataFrame, rules: MatchRules = DEFAULT_MATCH_RULES
) -> list[str]:
    """The sentences of :func:`format_callouts` from :func:`format_counts` (or sums of them).

    Returns
    -------
    list[str]
        One sentence per reference format whose events vanish.
    """
    group = [TARGET, KIND, SYSTEM]
    stats = counts.groupby([*group, REF_FORMAT])[["events", "missing"]].sum().reset_index()
    totals = stats.groupby(group)[["events", "missing"]].transform("sum")
    other_events = totals["events"] - stats["events"]
    other_missing = totals["missing"] - stats["missing"]
    other_share = (other_missing / other_events.where(other_events > 0)).fillna(0.0)
    hit = (
        (stats["missing"] >= rules.callout_min_missing)
        & (stats["missing"] >= 0.5 * stats["events"])
        & (other_share <= rules.callout_other_share)
    )
    stats = stats.assign(other_events=other_events, other_missing=other_missing)[hit]
    stats = stats.sort_values(
        ["missing", TARGET, KIND, SYSTEM], ascending=[False, True, True, True]
    )
    return [
        f"{r.target} never received {r.missing} of {r.events} {r.kind}s whose "
        f"{r.system} reference looks like `{r.ref_format}` (all other formats: "
        f"{r.other_missing} missing of {r.other_events})"
        for r in stats.itertuples(index=False)
    ]
