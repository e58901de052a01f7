"""Causes: why it drifted — matched events, the handoff map and findings (DESIGN §6).

In: the client's events and counts, the grid, the comparison and the roll-forward residuals
(:mod:`driftkit.drift`).  Out: :class:`Attribution` — findings (one row per cause, key and
system, with its business reference), the handoff map, callouts and each episode's
explanation.  ``match`` pairs events across systems, ``event_detectors`` and
``value_detectors`` find the causes, ``episodes`` ties findings to drift episodes and
``attribute`` runs them in order.
"""

from driftkit.causes.attribute import Attribution, attribute
from driftkit.causes.match import map_handoffs, match_events

__all__ = ["Attribution", "attribute", "map_handoffs", "match_events"]
