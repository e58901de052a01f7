"""What every cause detector shares: the thresholds, the context and the finding table.

A finding is one row of :data:`FINDING_COLUMNS`; detectors build theirs with :func:`_findings`
and write their one-sentence evidence with the text helpers here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftkit.causes.match import MatchRules
from driftkit.config import ClientConfig
from driftkit.drift.align import Grid
from driftkit.drift.compare import COUNTERPART
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
]


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
    """

    match: MatchRules = field(default_factory=MatchRules)
    lag_factor: float = 2.0
    lag_floor_h: float = 12.0
    revert_days: int = 7
    residual_slack: float = 0.05
    fallback_confidence: float = 0.3


@dataclass(frozen=True)
class _Context:
    """What every detector needs besides the events."""

    config: ClientConfig
    grid: Grid
    residuals: pd.DataFrame
    counts: pd.DataFrame
    catalog: pd.DataFrame
    rules: AttributionRules

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
        return skus.map(packs).astype(float).fillna(1.0).clip(lower=1.0)

    def counterpart(self, systems: pd.Series, preferred: pd.Series) -> pd.Series:
        """``preferred`` where it differs from the system, else the authority, else NaN."""
        other = preferred.where(preferred != systems, self.authority)
        return other.where(other != systems).astype("str")


def _findings(frame: pd.DataFrame, cause: Cause) -> pd.DataFrame:
    """``frame`` (with the finding columns except value/cause) as findings of ``cause``."""
    out = frame.assign(cause=str(cause), value=np.nan)
    out = out[FINDING_COLUMNS].reset_index(drop=True)
    return out.astype({SKU: "str", LOCATION: "str", SYSTEM: "str", COUNTERPART: "str"})


def _combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate finding frames (empty ones dropped) in a stable order."""
    kept = [p for p in parts if len(p)]
    if not kept:
        return _findings(pd.DataFrame(columns=FINDING_COLUMNS), Cause.UNRECORDED_CHANGE)
    out = pd.concat(kept, ignore_index=True)
    return out.sort_values(
        ["first_seen", SYSTEM, SKU, LOCATION, "cause"], kind="stable", ignore_index=True
    )


def _label(frame: pd.DataFrame) -> pd.Series:
    """``order #1001 (ref 1001)``: kind, raw reference and normalized reference."""
    raw = frame[RAW_REFERENCE].fillna(frame[REFERENCE]).fillna("(no reference)")
    return frame[KIND] + " " + raw + " (ref " + frame[REFERENCE].fillna("none") + ")"


def _num(values: pd.Series, pattern: str = "{:g}") -> pd.Series:
    """Numbers as text (``str`` dtype, also when empty)."""
    return values.astype(float).round(2).map(pattern.format).astype("str")


def _units_text(units: pd.Series) -> pd.Series:
    """Signed units as text: ``−2 units``."""
    return _num(units, "{:+g}").str.replace("-", "−") + " units"


def _empty(cause: Cause) -> pd.DataFrame:
    """No findings of ``cause``."""
    return _findings(pd.DataFrame(columns=FINDING_COLUMNS), cause)
