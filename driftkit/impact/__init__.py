"""Impact: what drift costs — demand, phantom stockouts, oversell, reorder, count list (DESIGN §7).

In: the grid, the comparison and the findings.  Out: :class:`Impact` — per-key costs,
totals, the count list and the projection.  ``demand``, ``stock`` and ``costs`` are the
per-key model, ``theory`` the textbook inventory formulas it relies on.
"""

from driftkit.impact.estimate import Impact, estimate_impact

__all__ = ["Impact", "estimate_impact"]
