"""The explorer's inputs and views (``ExplorerData``, ``ExplorerView``) and shared constants.

Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from driftkit import schema
from driftkit.causes.context import FINDING_COLUMNS
from driftkit.drift.align import Grid
from driftkit.schema import LOCATION, SKU, SYSTEM

if TYPE_CHECKING:
    from driftkit.scale.combine import Audit

ANY_CAUSE = "any cause"
ANY_LOCATION = "any location"
MATCHES = 20
# fmt: off
EPISODE_COLUMNS = (SKU, LOCATION, SYSTEM, "counterpart", "start", "end", "days",
                   "peak_abs_drift", "mean_drift", "open")
_EVENT_COLUMNS = (SYSTEM, "kind", "qty_delta", "commit_delta", "set_qty", "occurred_at",
                  "recorded_at", "reference", "event_id")
# fmt: on
_TEXT = {SKU, LOCATION, SYSTEM, "counterpart", "cause", "evidence", "reference", "event_ids"}
_TIMES = {"start", "end", "first_seen", "last_seen"}


def _empty_frame(columns: Sequence[str]) -> pd.DataFrame:
    """Zero rows with the given columns: text as ``str``, times as datetimes, else float."""
    dtypes = {
        c: "str" if c in _TEXT else "datetime64[us]" if c in _TIMES else "float64" for c in columns
    }
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in dtypes.items()})


# --- inputs and views ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExplorerData:
    """What the explorer shows: the grid plus per-key tables (any may be empty).

    Attributes
    ----------
    grid
        Aligned values (``driftkit.drift.align.Grid``).
    events, counts, catalog
        Canonical tables (DESIGN §2).
    episodes
        ``sku, location, system, counterpart, start, end, days, peak_abs_drift, mean_drift, open``.
    findings
        ``sku, location, system, counterpart, cause, first_seen, last_seen, units, value,
        confidence, evidence, reference, event_ids``.
    impact
        One row per key: ``sku, location`` and the key's impact numbers.
    timezone, tolerance, client
        Client time zone (timestamps are shown as local days), agreement tolerance, client id.
    source
        What was loaded and from where (shown above the explorer).
    indexed
        The events and counts already copied in key order (``{"events": rows, "counts":
        rows}``, as :func:`driftkit.explorer.index.key_ordered` builds them), e.g. read from
        the explorer store; empty to build them from ``events`` and ``counts``.
    """

    grid: Grid
    events: pd.DataFrame = field(default_factory=lambda: schema.empty("events"))
    counts: pd.DataFrame = field(default_factory=lambda: schema.empty("counts"))
    episodes: pd.DataFrame = field(default_factory=lambda: _empty_frame(EPISODE_COLUMNS))
    findings: pd.DataFrame = field(default_factory=lambda: _empty_frame(FINDING_COLUMNS))
    impact: pd.DataFrame = field(default_factory=lambda: _empty_frame((SKU, LOCATION)))
    catalog: pd.DataFrame = field(default_factory=lambda: schema.empty("catalog"))
    timezone: str = "UTC"
    tolerance: float = 0.0
    client: str = "client"
    source: str = "tables given in Python"
    indexed: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_audit(cls, audit: Audit) -> ExplorerData:
        """The explorer's inputs taken from a computed ``driftkit.audit.Audit``."""
        tables = audit.tables
        return cls(
            grid=audit.grid,
            events=audit.data.events,
            counts=audit.data.counts,
            episodes=tables.get("episodes", audit.comparison.episodes),
            findings=tables.get("findings", _empty_frame(FINDING_COLUMNS)),
            impact=tables.get("impact", _empty_frame((SKU, LOCATION))),
            catalog=audit.data.catalog,
            timezone=audit.config.timezone,
            tolerance=audit.config.tolerance,
            client=audit.config.id,
            source=f"an audit computed in this process (run at {audit.summary.get('run_at')})",
        )


@dataclass(frozen=True)
class ExplorerView:
    """The frames the explorer currently shows for one key, after every filter.

    Attributes
    ----------
    sku, location
        The key.
    position, drifted
        1-based place of the key in the worst-first list (0 when it is not in it) and the
        length of that list.
    series
        ``day, system, value``: present values of the chosen systems in the date range.
    events
        ``time, system, kind, qty, commit, set_qty, reference, event_id`` (``time``: local
        time the system applied the event; ``qty``/``commit``: on-hand/committed deltas).
    counts
        ``time, counted_qty``: cycle counts (local time).
    episodes, findings
        The key's rows of those tables for the chosen systems (and cause), overlapping the range.
    impact
        The key's impact row (zero rows when there is none).
    """

    sku: str
    location: str
    position: int
    drifted: int
    series: pd.DataFrame
    events: pd.DataFrame
    counts: pd.DataFrame
    episodes: pd.DataFrame
    findings: pd.DataFrame
    impact: pd.DataFrame
