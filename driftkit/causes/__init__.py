"""Causes: why it drifted — matched events, the handoff map and findings (DESIGN §6).

In: the client's events and counts, the grid, the comparison and the roll-forward residuals
(:mod:`driftkit.drift`).  Out: :class:`Attribution` — findings (one row per cause, key and
system, with its business reference and event ids), the handoff map, callouts and each
episode's explanation.  Modules, in pipeline order:

* ``context`` — thresholds (``MatchRules``, ``AttributionRules``), shared column names, the
  detectors' context and the finding table;
* ``match`` — one ``business_event`` id per business event across systems;
* ``deliveries`` — each business event paired with every system that could have received it;
* ``handoffs`` — the handoff map per edge; ``callouts`` — formats whose events vanish;
* ``event_detectors``, ``stale_detectors`` and ``value_detectors`` — the causes;
* ``episodes`` — ties findings to drift episodes (snapshot timing, the fallback, coverage);
* ``attribute`` — runs them in order.
"""

from driftkit.causes.attribute import Attribution, attribute
from driftkit.causes.handoffs import map_handoffs
from driftkit.causes.match import match_events

__all__ = ["Attribution", "attribute", "map_handoffs", "match_events"]
