"""Drift: canonical tables → per-system values on one daily grid, and where they disagree.

In: snapshots, events and counts (:mod:`driftkit.load`).  Out: the :class:`Grid`
(``align``, from the as-of rule in ``asof`` and the measures in ``measures``), the
:class:`Comparison` — agreement, drift vs the authority, bias (``compare``, over the system
pairs of ``pairs``), episodes (``episodes``), per-key and per-group drift and the worst keys
(``breakdown``) — roll-forward residuals and count accuracy (``accuracy``).  DESIGN §5.
"""

from driftkit.drift.accuracy import count_accuracy, rollforward
from driftkit.drift.align import Grid, align
from driftkit.drift.compare import Comparison, compare

__all__ = ["Comparison", "Grid", "align", "compare", "count_accuracy", "rollforward"]
