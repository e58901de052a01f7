"""Impact: what drift costs — demand, phantom stockouts, oversell, reorder, count list (DESIGN §7).

In: the grid, the comparison and the findings.  Out: :class:`Impact` — per-key costs,
totals, the count list and the projection.  ``estimate`` runs the step on one part (the
whole client) with ``parts`` (one part's costs and their combine) and ``pooled`` (the demand
facts every part shares); ``demand``, ``stock`` and ``costs`` are the per-key model,
``theory`` the textbook inventory formulas it relies on, ``countlist`` ranks what to count
next (``lift`` measures that ranking against simulated truth) and ``projection``
extrapolates the cost and the handoff-fix counterfactual.
"""

from driftkit.impact.estimate import Impact, estimate_impact

__all__ = ["Impact", "estimate_impact"]
