"""What every cause step shares: the thresholds, the columns, the context and the finding table.

:class:`MatchRules` and :class:`AttributionRules` hold every documented threshold; the
column names below are the ones matching (:mod:`driftkit.causes.match`) adds to the events
and the deliveries (:mod:`driftkit.causes.deliveries`) carry.  A finding is one row of
:data:`FINDING_COLUMNS`; detectors build theirs with :func:`_findings` and write their
one-sentence evidence with the text helpers here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import Grid
from driftkit.drift.codes import key_positions, map_coded, positions_in
from driftkit.drift.pairs import COUNTERPART
from driftkit.schema import (
    COMMIT_DELTA,
    KIND,
    LOCATION,
    PACK_SIZE,
    QTY_DELTA,
    RAW_REFERENCE,
    REFERENCE,
    SKU,
    SYSTEM,
    Cause,
    Measure,
)

BUSINESS_EVENT = "business_event"
FAMILY = "family"
MAGNITUDE = "magnitude"
COPY = "copy"
DUPLICATE = "duplicate"
SOURCE = "source"
TARGET = "target"
LATENCY_H = "latency_h"
QTY_CONSISTENT = "qty_consistent"
REF_FORMAT = "ref_format"
APPLIED_AT = "applied_at"
EVENT_IDS = "event_ids"

FINDING_COLUMNS = [
    SKU,
    LOCATION,
    SYSTEM,
    COUNTERPART,
    "cause",
    "first_seen",
    "last_seen",
    "units",
    "value",
    "confidence",
    "evidence",
    REFERENCE,
    EVENT_IDS,
]
#: Each rule's confidence: its measured reliability on the simulator's truth (share of its
#: findings that are right, ``python -m driftkit.simulate.score``; docs/causes.md §5), rounded
#: down to 0.05 and capped at 0.95.
CONFIDENCE: dict[str, float] = {
    "duplicate": 0.95,  # 330 of 330 right
    "missing": 0.95,  # 389 of 389 (the received share did not predict reliability)
    "late": 0.95,  # 302 of 302
    "stale_sync": 0.95,  # 428 of 428
    "stale_revert": 0.05,  # 1 of 11
    "unit_ratio": 0.95,  # 950 of 950
    "pack_record": 0.95,  # 119 of 119 (every event in packs); 2 of 2 one-event on the stack
    "residual": 0.95,  # 931 of 931
    "fallback": 0.75,  # 130 of 165 since the roll-forward decides the blame (84 of 166 before)
}

_TEXT = pd.api.types.pandas_dtype("str")  # the text dtype of every finding text column
#: The finding columns an event detector fills from its events; findings on values have none.
FINDING_EVENT_COLUMNS = [REFERENCE, EVENT_IDS]


@dataclass(frozen=True)
class MatchRules:
    """Documented thresholds of matching and of the handoff map.

    Attributes
    ----------
    window_hours
        Events of one reference, SKU and kind family more than this apart (gap between
        consecutive ``occurred_at``) are different business events.
    normal_share
        A system *normally* receives a kind family at a location when it recorded at least
        this share of the business events of that family and location that happened
        within its export span.
    callout_min_missing
        Fewest missing events of one format worth a callout.
    callout_other_share
        A callout needs the other formats' missing share to be at most this.
    """

    window_hours: float = 168.0
    normal_share: float = 0.5
    callout_min_missing: int = 3
    callout_other_share: float = 0.05


DEFAULT_MATCH_RULES = MatchRules()  # the default ``rules=`` of matching and the handoff map


@dataclass(frozen=True)
class AttributionRules:
    """Documented thresholds of cause attribution (``docs/causes.md``).

    Attributes
    ----------
    match
        Matching and handoff-map thresholds.
    lag_factor, lag_floor_h
        A record is late when its delay (applied − occurred) exceeds
        ``max(lag_factor × p95, p95 + lag_floor_h)`` of its system and kind.
    revert_days
        How many days after a count a value may revert to its pre-count level.
    residual_slack
        Residuals up to this size (beyond the tolerance) are rounding, not changes.
    fallback_confidence
        Confidence of an ``unrecorded_change`` given to an episode nothing else explains.
    mirror_days
        A divergence that the other systems take over within this many days (the system
        keeps its new value and all agree again) is their usual latency, not a finding.
    """

    match: MatchRules = field(default_factory=MatchRules)
    lag_factor: float = 2.0
    lag_floor_h: float = 12.0
    revert_days: int = 7
    residual_slack: float = 0.05
    fallback_confidence: float = CONFIDENCE["fallback"]
    mirror_days: int = 1


@dataclass(frozen=True)
class _Context:
    """What every detector needs besides the events."""

    config: ClientConfig
    grid: Grid
    residuals: pd.DataFrame
    counts: pd.DataFrame
    catalog: pd.DataFrame
    rules: AttributionRules
    fed: frozenset[str] | None = None  # systems with an event feed; None = every system

    @property
    def fed_systems(self) -> frozenset[str]:
        """Systems with an event feed (every grid system when ``fed`` is None)."""
        return frozenset(self.grid.systems) if self.fed is None else self.fed

    @functools.cached_property
    def residual_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(system, key, day) grid positions of each residual row, −1 where not on the grid.

        Looked up once per context, for the residual-day table and the residual grid.
        """
        r, grid = self.residuals, self.grid
        system = positions_in(r[SYSTEM], pd.Index(grid.systems))
        day = grid.days.get_indexer(pd.DatetimeIndex(r["day"]))
        return system, key_positions(r, grid.keys), day

    @functools.cached_property
    def residual_days(self) -> np.ndarray:
        """``[system, key, day]``: the system has a roll-forward residual row that key and day."""
        seen = np.zeros(self.grid.values.shape, dtype=bool)
        if self.residuals.empty:
            return seen
        system, key, day = self.residual_cells
        ok = (system >= 0) & (key >= 0) & (day >= 0)
        seen[system[ok], key[ok], day[ok]] = True
        return seen

    @property
    def tz(self) -> str:
        return self.config.timezone

    @property
    def authority(self) -> str:
        return self.grid.authority

    def day(self, stamps: pd.Series) -> pd.Series:
        """Local calendar day (naive midnight) of UTC timestamps."""
        return stamps.dt.tz_convert(self.tz).dt.tz_localize(None).dt.normalize()

    def clock(self, stamps: pd.Series) -> pd.Series:
        """``YYYY-MM-DD HH:MM`` in the client's time zone."""
        return stamps.dt.tz_convert(self.tz).dt.strftime("%Y-%m-%d %H:%M").astype("str")

    def start_of(self, days: pd.Series) -> pd.Series:
        """UTC instant of local midnight of naive days."""
        return days.dt.tz_localize(
            self.tz, nonexistent="shift_forward", ambiguous=False
        ).dt.tz_convert("UTC")

    def effect(self, events: pd.DataFrame) -> pd.Series:
        """Signed effect of each event on the compared measure."""
        qty = events[QTY_DELTA].fillna(0.0)
        if self.config.measure == Measure.AVAILABLE:
            return qty - events[COMMIT_DELTA].fillna(0.0)
        return qty

    def pack(self, skus: pd.Series) -> pd.Series:
        """Pack size per SKU (1 when unknown)."""
        packs = self.catalog.drop_duplicates(SKU).set_index(SKU)[PACK_SIZE]
        return map_coded(skus, packs).astype(float).fillna(1.0).clip(lower=1.0)

    def counterpart(self, systems: pd.Series, preferred: pd.Series) -> pd.Series:
        """``preferred`` where it differs from the system, else the authority, else NaN."""
        other = preferred.where(preferred != systems, self.authority)
        return other.where(other != systems).astype("str")

    def versus_authority(self, systems: pd.Series) -> pd.Series:
        """The authority as each system's counterpart (NaN for the authority itself)."""
        systems = systems.astype("str")
        return self.counterpart(systems, pd.Series(self.authority, index=systems.index))


def _day_text(days: pd.Series) -> pd.Series:
    """Days as ``YYYY-MM-DD`` text for evidence sentences."""
    return days.dt.strftime("%Y-%m-%d").astype("str")


def _findings(frame: pd.DataFrame, cause: Cause) -> pd.DataFrame:
    """``frame`` (with the finding columns except value/cause) as findings of ``cause``.

    ``reference`` (the events' normalized business reference) and ``event_ids`` are ``""``
    where ``frame`` lacks them (a finding on values, not events) or where they are missing.
    """
    blank = {column: "" for column in FINDING_EVENT_COLUMNS if column not in frame.columns}
    out = frame.assign(cause=str(cause), value=np.nan, **blank)
    out = out[FINDING_COLUMNS].reset_index(drop=True)
    out = out.fillna(dict.fromkeys(FINDING_EVENT_COLUMNS, ""))
    columns = [SKU, LOCATION, SYSTEM, COUNTERPART, *FINDING_EVENT_COLUMNS]
    text = {c: _TEXT for c in columns if out[c].dtype != _TEXT}  # a cast copies even when a no-op
    return out.astype(text) if text else out


def _combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate finding frames (empty ones dropped) in a stable order."""
    kept = [p for p in parts if len(p)]
    if not kept:
        return _findings(pd.DataFrame(columns=FINDING_COLUMNS), Cause.UNRECORDED_CHANGE)
    out = pd.concat(kept, ignore_index=True)
    return out.sort_values(
        ["first_seen", SYSTEM, SKU, LOCATION, "cause"], kind="stable", ignore_index=True
    )


def _not_near(found: pd.DataFrame, other: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """Rows of ``found`` (with a ``day``) with no ``other`` finding of the same system and
    key within a day."""
    if other.empty or found.empty:
        return found
    near = found.reset_index().merge(
        other[[SYSTEM, SKU, LOCATION, "first_seen"]].assign(
            other_day=lambda f: ctx.day(f["first_seen"])
        ),
        on=[SYSTEM, SKU, LOCATION],
    )
    close = (near["other_day"] - near["day"]).abs() <= pd.Timedelta(days=1)
    return found.drop(index=list(near.loc[close, "index"].unique()))


def _label(frame: pd.DataFrame) -> pd.Series:
    """``order #1001 (ref 1001)``: kind, raw reference and normalized reference."""
    raw = frame[RAW_REFERENCE].fillna(frame[REFERENCE]).fillna("(no reference)")
    return frame[KIND] + " " + raw + " (ref " + frame[REFERENCE].fillna("none") + ")"


def _num(values: pd.Series, pattern: str = "{:g}") -> pd.Series:
    """Numbers as text (``str`` dtype, also when empty), each distinct value formatted once."""
    bits = values.astype(float).round(2).to_numpy().view(np.int64)  # keeps -0.0 apart from 0.0
    codes, distinct = pd.factorize(bits)
    text = np.array([pattern.format(v) for v in distinct.view(np.float64)], dtype=object)
    return pd.Series(text[codes] if len(codes) else [], index=values.index, dtype="str")


def _units_text(units: pd.Series) -> pd.Series:
    """Signed units as text: ``−2 units``."""
    return _num(units, "{:+g}").str.replace("-", "−") + " units"


def _empty(cause: Cause) -> pd.DataFrame:
    """No findings of ``cause``."""
    return _findings(pd.DataFrame(columns=FINDING_COLUMNS), cause)
