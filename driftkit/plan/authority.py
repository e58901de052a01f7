"""Which system should own the count: every system scored as the authority, from the data.

The evidence per system (docs/fix_plan.md):

* **record accuracy** — share of physical cycle counts its record matched, with the number
  of counts behind it (``drift.accuracy``); counts are the only ground truth a client has;
* **bias** — its mean error against those counts (units; + overstates stock);
* **first share** — share of the business events it recorded first, from the handoff map;
* **wrong share** — share of the audit's findings that name its record as the wrong one;
* **coverage** — share of the audit's keys it reports at all;
* the headline numbers the audit would show with it as the authority
  (:func:`authority_part`, summed over parts like every headline number).

:func:`score_authorities` puts them side by side; :func:`recommend` picks one and keeps the
configured authority unless another is better beyond noise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.causes.context import SOURCE
from driftkit.drift.align import Grid
from driftkit.drift.compare import _key_totals, catalog_columns
from driftkit.plan.digest import FindingsDigest, system_shares
from driftkit.schema import KIND, SYSTEM

#: A system's record accuracy counts as evidence from this many counted records on.
MIN_COUNTS = 20
#: z of the two-proportion test a candidate must pass to replace the configured authority.
Z_BETTER = 1.96
#: Without counts, how much higher a candidate's handoff score must be to replace it.
HANDOFF_MARGIN = 0.10

AUTHORITY_COLUMNS = [
    SYSTEM,
    "coverage",
    "counts",
    "record_accuracy",
    "bias",
    "first_share",
    "wrong_share",
    "handoff_score",
    "score",
    "abs_drift_units_last_day",
    "value_at_risk_last_day",
    "configured",
    "recommended",
]


def authority_part(grid: Grid, catalog: pd.DataFrame) -> pd.DataFrame:
    """One part's summable pieces of every system as the authority.

    Returns
    -------
    pandas.DataFrame
        ``system, keys, keys_seen, abs_drift_units_last_day, value_at_risk_last_day``:
        the part's keys, the keys where the system has a value on some day, and the
        headline drift of DESIGN §5 had the system been the authority
        (``compare._key_totals`` on the grid with that authority).
    """
    cost, _ = catalog_columns(grid.keys, catalog)
    seen = (~np.isnan(grid.values)).any(axis=2).sum(axis=1)
    totals = [_key_totals(dataclasses.replace(grid, authority=s), cost) for s in grid.systems]
    return pd.DataFrame(
        {
            SYSTEM: pd.Series(grid.systems, dtype="str"),
            "keys": len(grid.keys),
            "keys_seen": seen.astype(np.int64),
            "abs_drift_units_last_day": [
                float(t["abs_drift_units_last_day"].sum()) for t in totals
            ],
            "value_at_risk_last_day": [float(t["value_at_risk_last_day"].sum()) for t in totals],
        }
    )


def combined_authority(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`authority_part` summed over parts (same columns, one row per system)."""
    table = pd.concat(parts, ignore_index=True)
    return table.groupby(SYSTEM, sort=False, as_index=False).sum()


def first_shares(handoffs: pd.DataFrame) -> pd.Series:
    """Per source system: share of the business events it recorded first.

    A source event is offered to every target on the handoff map, so the events a system
    recorded first of one kind are the largest ``events`` over its targets.

    Returns
    -------
    pandas.Series
        Indexed by system; sums to 1 (empty when the map is).
    """
    if handoffs.empty:
        return pd.Series(dtype="float64")
    first = handoffs.groupby([SOURCE, KIND])["events"].max().groupby(level=0).sum()
    return (first / first.sum()).rename_axis(SYSTEM)


def wrong_shares(findings: pd.DataFrame | FindingsDigest) -> pd.Series:
    """Per system: share of all findings (or of a digest's) that name its record as the
    wrong one."""
    if isinstance(findings, FindingsDigest):
        return system_shares(findings) if len(findings.rows) else pd.Series(dtype="float64")
    if findings.empty:
        return pd.Series(dtype="float64")
    return findings[SYSTEM].value_counts(normalize=True)


def score_authorities(
    candidates: pd.DataFrame,
    accuracy: pd.DataFrame,
    handoffs: pd.DataFrame,
    findings: pd.DataFrame | FindingsDigest,
    *,
    configured: str,
) -> pd.DataFrame:
    """Every system's evidence as the owner of the count, side by side, best first.

    Parameters
    ----------
    candidates
        :func:`combined_authority`.
    accuracy
        ``drift.accuracy``'s per-system table (``system, counted, exact, mean_error``).
    handoffs, findings
        The audit's handoff map and findings (or their
        :class:`~driftkit.plan.digest.FindingsDigest`).
    configured
        The ``authority`` of client.toml.

    Returns
    -------
    pandas.DataFrame
        :data:`AUTHORITY_COLUMNS`: ``counts`` = counted records, ``record_accuracy``
        (NaN below :data:`MIN_COUNTS`), ``bias`` = mean error vs counts, ``handoff_score``
        = mean of ``first_share`` and 1 − ``wrong_share``; ``score`` = coverage ×
        record accuracy when any system has enough counts, else coverage × handoff score;
        ``recommended`` marks :func:`recommend`'s choice.
    """
    table = candidates.merge(accuracy, on=SYSTEM, how="left")
    counted = table["counted"].fillna(0).astype(np.int64)
    exact = table["exact"].fillna(0)
    first = first_shares(handoffs).reindex(table[SYSTEM]).fillna(0.0).to_numpy()
    wrong = wrong_shares(findings).reindex(table[SYSTEM]).fillna(0.0).to_numpy()
    coverage = table["keys_seen"] / table["keys"].where(table["keys"] > 0)
    out = table.assign(
        coverage=coverage,
        counts=counted,
        record_accuracy=(exact / counted).where(counted >= MIN_COUNTS),
        bias=table["mean_error"],
        first_share=first if len(handoffs) else np.nan,
        wrong_share=wrong,
        configured=table[SYSTEM] == configured,
    )
    out["handoff_score"] = (out["first_share"].fillna(0.5) + 1 - out["wrong_share"]) / 2
    basis = out["record_accuracy"] if out["record_accuracy"].notna().any() else out["handoff_score"]
    out["score"] = out["coverage"] * basis
    out = out.sort_values(["score", "handoff_score"], ascending=False, na_position="last")
    out["recommended"] = out[SYSTEM] == recommend(out, configured)
    return out[AUTHORITY_COLUMNS].reset_index(drop=True)


def recommend(scored: pd.DataFrame, configured: str) -> str:
    """The best-scored system when it beats ``configured`` beyond noise, else ``configured``.

    With counts: a two-proportion z-test on the exact-count shares (z > :data:`Z_BETTER`;
    coverage must be at least the configured one's).  Without: the handoff score must be
    higher by :data:`HANDOFF_MARGIN`.  A configured authority whose score is unknown (no
    snapshots, or fewer than :data:`MIN_COUNTS` counts while others have them) is replaced
    by the best.
    """
    best = scored.iloc[0]
    mine = scored[scored[SYSTEM] == configured]
    if mine.empty or best[SYSTEM] == configured or not mine["score"].notna().all():
        return str(best[SYSTEM])
    own = mine.iloc[0]
    if pd.notna(best["record_accuracy"]) and pd.notna(own["record_accuracy"]):
        better = z_better(best, own) > Z_BETTER and best["coverage"] >= own["coverage"]
    else:
        better = bool(best["score"] - own["score"] > HANDOFF_MARGIN)
    return str(best[SYSTEM]) if better else configured


def z_better(a: pd.Series, b: pd.Series) -> float:
    """z of the two-proportion test that ``a``'s record accuracy exceeds ``b``'s."""
    n1, n2 = float(a["counts"]), float(b["counts"])
    p1, p2 = float(a["record_accuracy"]), float(b["record_accuracy"])
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = float(np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)))
    if se == 0:
        return float("inf") if p1 > p2 else 0.0
    return (p1 - p2) / se


@dataclass(frozen=True)
class AuthorityVerdict:
    """The recommendation as ``summary.json`` holds it (``authority_recommendation``)."""

    recommended: str
    configured: str
    basis: str  # "cycle_counts" or "handoffs"
    counts: int
    headline: dict[str, float]  # drift numbers against the recommended authority
    configured_headline: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return dataclasses.asdict(self)


def verdict(scored: pd.DataFrame, configured: str) -> AuthorityVerdict:
    """The recommendation of :func:`score_authorities`' table, with the headline change."""
    pick = scored[scored["recommended"]].iloc[0]
    mine = scored[scored[SYSTEM] == configured]
    own = mine.iloc[0] if len(mine) else pick
    basis = "cycle_counts" if scored["record_accuracy"].notna().any() else "handoffs"
    numbers = ["abs_drift_units_last_day", "value_at_risk_last_day"]
    return AuthorityVerdict(
        recommended=str(pick[SYSTEM]),
        configured=configured,
        basis=basis,
        counts=int(scored["counts"].max()) if len(scored) else 0,
        headline={k: float(pick[k]) for k in numbers},
        configured_headline={k: float(own[k]) for k in numbers},
    )
