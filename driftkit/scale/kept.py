"""What the driver keeps of the findings and episodes that partitioned workers store.

A worker stores its findings and labelled episodes as Parquet parts
(:mod:`driftkit.scale.stored`) and sends back only what the combine, the summary, the fix
plan and the report read:

* its findings on the rows the report can show only: the bucket's first
  :data:`~driftkit.scale.stored.TOP_ROWS` by value (``story.findings_table``) and those of
  its worst keys (the drill-downs' evidence).  Every count and Σ over findings (findings by
  cause, the handoff fixes, the fix plan, the authority scores, the cause totals) is read
  from the stored parts instead, streamed in the findings' order
  (:mod:`driftkit.plan.digest`);
* the episodes of its worst keys only (the drill-down spans), and per explanation label the
  number of episodes and the sort keys of its first one (:func:`label_digest`), from which
  ``summary.json``'s ``episodes_by_explanation`` is counted (:func:`explanation_counts`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.drift.align import Grid
from driftkit.scale.merge import pair_ranks
from driftkit.scale.ordered import PAIR, episode_keys
from driftkit.scale.part import BucketResult
from driftkit.schema import LOCATION, SKU

EXPLAINED_BY = "explained_by"
UNEXPLAINED = "unexplained"  # the label of an episode no cause explains ("" in episodes.csv)
LABEL, EPISODES = "label", "episodes"


def kept_findings(findings: pd.DataFrame, keys: pd.DataFrame, top: int) -> pd.DataFrame:
    """The rows of ``findings`` the report can show: its first ``top`` by value and those of
    ``keys`` (``sku, location``).

    Returns
    -------
    pandas.DataFrame
        The columns of ``findings``, those rows in its order.
    """
    ranked = findings["value"].reset_index(drop=True).sort_values(ascending=False, kind="stable")
    shown = np.zeros(len(findings), dtype=bool)
    shown[ranked.index[:top]] = True
    shown |= of_keys(findings, keys)
    return findings[shown].reset_index(drop=True)


def of_keys(frame: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Whether each row of ``frame`` is of one of ``keys`` (``sku, location``)."""
    wanted = pd.MultiIndex.from_frame(keys[[SKU, LOCATION]])
    return np.asarray(pd.MultiIndex.from_frame(frame[[SKU, LOCATION]]).isin(wanted))


def label_digest(episodes: pd.DataFrame) -> pd.DataFrame:
    """Per explanation label of ``episodes`` (in their table order, with their pair ranks
    ``_pair``): its episodes and the sort keys of its first one.

    Returns
    -------
    pandas.DataFrame
        ``label, episodes, _pair, sku, location, start``, one row per label, first seen first;
        an empty label is counted as ``unexplained``.
    """
    labels = episodes[EXPLAINED_BY].replace("", UNEXPLAINED).reset_index(drop=True)
    counts = labels.value_counts(sort=False)
    first = ~labels.duplicated().to_numpy() & labels.notna().to_numpy()
    rows = episodes.reset_index(drop=True).loc[first, [PAIR, SKU, LOCATION, "start"]]
    seen = labels[first]
    return rows.assign(**{LABEL: seen.to_numpy(), EPISODES: counts.reindex(seen).to_numpy()})


def explanation_counts(digests: list[pd.DataFrame]) -> dict[str, int]:
    """Episodes per explanation over every part's :func:`label_digest`, as
    ``labels.value_counts()`` of the combined episodes orders them: most first, ties in the
    order the labels first appear."""
    table = pd.concat(digests, ignore_index=True)
    table = table.iloc[np.lexsort(episode_keys(table))]
    counts = table.groupby(LABEL, sort=False)[EPISODES].sum()
    counts = counts.sort_values(ascending=False, kind="stable")
    return {str(k): int(v) for k, v in counts.items()}


def kept_explanations(
    grid: Grid, results: list[BucketResult], episodes: pd.DataFrame
) -> dict[str, int]:
    """Episodes per explanation: from the parts' label digests when they stored their
    episodes, else from the combined ``episodes`` (with ``grid``'s system pairs)."""
    digests = [r.explanations for r in results if r.explanations is not None]
    if not digests:
        digests = [label_digest(episodes.assign(**{PAIR: pair_ranks(grid, episodes)}))]
    return explanation_counts(digests)
