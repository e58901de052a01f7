"""What the fix plan, the handoff fixes and the cause totals read of the findings.

Their sums are float sums in the findings' order (``attribute``'s: first seen, system,
sku, location, cause), so they cannot be summed per part and added.  A
:class:`FindingsDigest` holds, per finding in that order, only its edge's number and its
``units`` and ``value`` (20 bytes), plus bounded tables: the edges, each edge's
:data:`EXAMPLES` costliest findings and its distinct keys.  In process it is built from the
whole findings (:func:`findings_digest`); a partitioned audit builds it while streaming the
buckets' stored findings in that order (:func:`digest_batches`), the edges' keys counted
per bucket (:func:`edge_keys`; a key lives in one bucket).  The sums are then computed as
over the findings themselves: same rows, same order, same pandas calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.impact.projection import edge_fixes
from driftkit.schema import LOCATION, SKU, SYSTEM, Cause

COUNTERPART, CAUSE, EDGE, CODE = "counterpart", "cause", "edge", "_edge"
EDGE_COLUMNS = [SYSTEM, COUNTERPART, CAUSE]
EXAMPLES = 3  # findings named per fix-plan item
EXAMPLE_COLUMNS = [SKU, LOCATION, "value", "reference"]
#: The findings' columns a digest reads (``first_seen`` for their order only).
DIGEST_COLUMNS = [
    SKU,
    LOCATION,
    SYSTEM,
    COUNTERPART,
    CAUSE,
    "first_seen",
    "units",
    "value",
    "reference",
]


@dataclass(frozen=True)
class FindingsDigest:
    """The findings as the fix plan, the handoff fixes and the cause totals read them.

    Attributes
    ----------
    rows
        One row per finding, in the findings' order: ``_edge`` (row of ``edges``),
        ``units``, ``value``.
    edges
        ``system, counterpart, cause`` (the findings' dtypes), one row per edge seen.
    examples
        Each edge's first :data:`EXAMPLES` findings by value (ties: the findings' order):
        ``sku, location, value, reference, edge`` (:func:`edge_labels`), costliest first.
    keys
        Distinct SKU-locations per edge label (``edge, keys``).
    """

    rows: pd.DataFrame
    edges: pd.DataFrame
    examples: pd.DataFrame
    keys: pd.DataFrame

    def frame(self, columns: list[str]) -> pd.DataFrame:
        """The rows with the edges' ``columns`` looked up (``system, counterpart, cause``).

        Returns
        -------
        pandas.DataFrame
            ``columns`` then ``units, value``, one row per finding in its order.
        """
        codes = self.rows[CODE].to_numpy()
        looked = {c: self.edges[c].take(codes).reset_index(drop=True) for c in columns}
        return pd.DataFrame({**looked, "units": self.rows["units"], "value": self.rows["value"]})


def edge_labels(frame: pd.DataFrame) -> pd.Series:
    """``counterpart→system:cause`` per row (a missing counterpart as ``(none)``)."""
    source = frame[COUNTERPART].fillna("(none)").astype("str")
    return source + "→" + frame[SYSTEM].astype("str") + ":" + frame[CAUSE].astype("str")


def edge_keys(findings: pd.DataFrame) -> pd.DataFrame:
    """Distinct SKU-locations per edge label of ``findings`` (one part's or all).

    Returns
    -------
    pandas.DataFrame
        ``edge, keys``, one row per edge label.
    """
    labelled = findings[[SKU, LOCATION]].assign(**{EDGE: edge_labels(findings)})
    counts = labelled.drop_duplicates([EDGE, SKU, LOCATION])[EDGE].value_counts(sort=False)
    return counts.rename("keys").rename_axis(EDGE).reset_index()


def findings_digest(findings: pd.DataFrame) -> FindingsDigest:
    """The digest of ``findings`` (the whole table, in its order).

    Returns
    -------
    FindingsDigest
        Rows, edges, examples and keys of every finding.
    """
    return digest_batches([findings], [edge_keys(findings)])


def digest_batches(batches: Iterable[pd.DataFrame], keys: list[pd.DataFrame]) -> FindingsDigest:
    """The digest of the findings given batch by batch in their order (each batch's
    ``sku, location, system, counterpart, cause, units, value, reference``), with every
    part's :func:`edge_keys`; holds one batch's texts at a time.

    Returns
    -------
    FindingsDigest
        Rows, edges, examples and keys of all the batches' findings.
    """
    edges: pd.DataFrame | None = None
    rows: list[pd.DataFrame] = []
    examples = pd.DataFrame()
    for batch in batches:
        edges, codes = _coded(edges, batch[EDGE_COLUMNS])
        rows.append(pd.DataFrame({CODE: codes, "units": batch["units"], "value": batch["value"]}))
        examples = _examples(pd.concat([examples, _example_rows(batch, codes)], ignore_index=True))
    assert edges is not None  # at least one batch, maybe empty
    summed = pd.concat(keys, ignore_index=True).groupby(EDGE, sort=False)["keys"].sum()
    labels = edge_labels(edges).to_numpy()
    return FindingsDigest(
        rows=pd.concat(rows, ignore_index=True),
        edges=edges,
        examples=examples.assign(**{EDGE: labels[examples[CODE].to_numpy()]}).drop(columns=CODE),
        keys=summed.reset_index(),
    )


def _coded(known: pd.DataFrame | None, edges: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """``known`` edges with those of ``edges`` added, and each row's edge number."""
    table = edges.iloc[:0] if known is None else known
    both = pd.concat([table, edges.drop_duplicates()], ignore_index=True)
    table = both.drop_duplicates(ignore_index=True)
    index = pd.MultiIndex.from_frame(table)
    codes = index.get_indexer(pd.MultiIndex.from_frame(edges))
    return table, codes.astype(np.int32)


def _example_rows(batch: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """The batch's rows that could be examples: ``sku, location, value, reference, _edge``."""
    columns = [c for c in EXAMPLE_COLUMNS if c in batch]
    return batch[columns].reset_index(drop=True).assign(**{CODE: codes})


def _examples(candidates: pd.DataFrame) -> pd.DataFrame:
    """Per edge, its first :data:`EXAMPLES` rows by value, costliest first (ties: row order)."""
    if candidates.empty:
        return candidates
    ranked = candidates.sort_values("value", ascending=False, kind="stable")
    return ranked.groupby(CODE, sort=False).head(EXAMPLES)


def handoff_table(digest: FindingsDigest) -> pd.DataFrame:
    """:func:`driftkit.impact.projection.handoff_fixes` of the digest's findings.

    Returns
    -------
    pandas.DataFrame
        ``system, counterpart, cause, findings, units, value, share``, as ``handoff_fixes``.
    """
    rows = digest.rows
    return edge_fixes(digest.edges, rows[CODE].to_numpy(), rows["units"], rows["value"])


def cause_sums(digest: FindingsDigest) -> pd.DataFrame:
    """Findings per cause (``story.cause_totals``).

    Returns
    -------
    pandas.DataFrame
        ``cause, findings, units`` (Σ|units|), ``value`` (Σ value), largest value first.
    """
    frame = digest.frame([CAUSE])
    sized = frame.assign(units=frame["units"].abs(), value=frame["value"].fillna(0.0))
    totals = sized.groupby(CAUSE, as_index=False).agg(
        findings=(CAUSE, "size"), units=("units", "sum"), value=("value", "sum")
    )
    return totals.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)


def cause_counts(digest: FindingsDigest) -> dict[str, int]:
    """Findings per cause, every cause listed (``attribute.count_by_cause``)."""
    counts = _counts(digest, CAUSE)
    return {str(c): int(counts.get(str(c), 0)) for c in Cause}


def system_shares(digest: FindingsDigest) -> pd.Series:
    """Per system: share of all findings that name its record as the wrong one."""
    counts = _counts(digest, SYSTEM)
    return counts[counts > 0] / len(digest.rows)


def _counts(digest: FindingsDigest, column: str) -> pd.Series:
    """Findings per value of an edge column."""
    per_edge = np.bincount(digest.rows[CODE].to_numpy(), minlength=len(digest.edges))
    return pd.Series(per_edge, index=digest.edges[column].to_numpy()).groupby(level=0).sum()
