"""The audit's fix plan: the authority recommendation and the write-gating plan, assembled once.

Both audit engines call :func:`plan_fixes` from the one combine step
(:func:`driftkit.scale.combine.combine`), so ``fix_plan.csv``, ``authority.csv`` and
``summary.json``'s ``authority_recommendation`` are the same in process and partitioned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from driftkit.causes.attribute import Attribution
from driftkit.plan.authority import (
    AuthorityVerdict,
    combined_authority,
    score_authorities,
    verdict,
)
from driftkit.plan.digest import FindingsDigest
from driftkit.plan.fixes import fix_plan


@dataclass(frozen=True)
class FixPlan:
    """The recommended owner of the count and what to fix first.

    Attributes
    ----------
    authority
        :func:`~driftkit.plan.authority.score_authorities` (``authority.csv``).
    fixes
        :func:`~driftkit.plan.fixes.fix_plan` (``fix_plan.csv``).
    verdict
        The recommendation with the headline numbers against it.
    """

    authority: pd.DataFrame
    fixes: pd.DataFrame
    verdict: AuthorityVerdict

    def summary(self) -> dict[str, Any]:
        """``summary.json``'s ``authority_recommendation`` plus the top fixes."""
        top = self.fixes.head(3)[["source", "target", "cause", "rule", "value", "units"]]
        return {**self.verdict.to_dict(), "top_fixes": top.to_dict("records")}


def plan_fixes(
    authority_parts: list[pd.DataFrame],
    accuracy: pd.DataFrame,
    attribution: Attribution,
    digest: FindingsDigest,
    *,
    configured: str,
) -> FixPlan:
    """Score every system as the authority, recommend one, and plan the fixes around it.

    Parameters
    ----------
    authority_parts
        Every part's :func:`~driftkit.plan.authority.authority_part`.
    accuracy
        Count accuracy per system (``drift.accuracy``).
    attribution
        The combined attribution (handoff map, callouts).
    digest
        The findings' :class:`~driftkit.plan.digest.FindingsDigest`.
    configured
        client.toml's ``authority``.

    Returns
    -------
    FixPlan
        The scored systems, the ranked fixes and the verdict.
    """
    candidates = combined_authority(authority_parts)
    scored = score_authorities(
        candidates, accuracy, attribution.handoffs, digest, configured=configured
    )
    chosen = verdict(scored, configured)
    fixes = fix_plan(digest, attribution.handoffs, attribution.callouts, owner=chosen.recommended)
    return FixPlan(scored, fixes, chosen)
