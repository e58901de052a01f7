"""Why it drifted (DESIGN §6): event matching, the handoff map and causes → findings.

:func:`attribute` matches every event across systems (:mod:`driftkit.match`), infers the
handoff map, runs one detector per cause and then makes sure every drift episode has a
cause: an episode that no finding covers becomes an honest ``unrecorded_change``.  A
finding names the system whose record is wrong (a duplicate in the authority is the
authority's finding), its ``units`` are the signed effect on that system's count and its
``evidence`` is one sentence an analyst can check against the exports.

Detectors (rules and thresholds in ``docs/causes.md``):

* ``duplicate_event`` — a later copy of a business event in one system;
* ``missing_event`` — a business event on an edge its target normally receives, never
  received (and not still within the edge's usual latency at the end of the data);
* ``sync_lag`` — a record applied long after the business event, beyond the usual delay
  of that system and kind;
* ``stale_overwrite`` — a sync whose ``source_as_of`` predates a count already applied,
  or a value that jumps back to its pre-count level without an event;
* ``unit_mismatch`` — a system's value ≈ the authority's ÷ (or ×) the pack size, events
  whose sizes differ by the pack size, or a sub-unit rounding residue;
* ``unrecorded_change`` — a roll-forward residual that no event in any system explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftkit.align import Grid, asof_cells
from driftkit.compare import COUNTERPART, SLACK, Comparison
from driftkit.config import ClientConfig
from driftkit.loaders import ClientData
from driftkit.match import (
    APPLIED_AT,
    BUSINESS_EVENT,
    COPY,
    DUPLICATE,
    FAMILY,
    LATENCY_H,
    SOURCE,
    MatchRules,
    deliveries,
    map_handoffs,
    match_events,
    micros,
)
from driftkit.schema import (
    COMMIT_DELTA,
    COUNTED_AT,
    COUNTED_QTY,
    EVENT_ID,
    KIND,
    LOCATION,
    OCCURRED_AT,
    PACK_SIZE,
    QTY_DELTA,
    RAW_REFERENCE,
    RECORDED_AT,
    REFERENCE,
    SET_QTY,
    SKU,
    SOURCE_AS_OF,
    SYSTEM,
    UNIT_COST,
    Cause,
    EventKind,
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
US_PER_HOUR = 3_600_000_000


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
class Attribution:
    """The causes of a client's drift.

    Attributes
    ----------
    findings
        One row per (system, key, cause) occurrence; columns ``sku, location, system,
        counterpart, cause, first_seen, last_seen, units, value, confidence, evidence``.
    handoffs
        The handoff map (:func:`driftkit.match.map_handoffs`).
    callouts
        Sentences about missing events clustering on one reference format.
    matches
        Every event row with its ``business_event`` id (:func:`driftkit.match.match_events`).
    findings_by_cause
        Cause → number of findings (every cause listed, zeros included).
    explained_share
        Share of drift units attributed to a cause other than ``unrecorded_change``
        (NaN when there is no drift against the authority).
    """

    findings: pd.DataFrame
    handoffs: pd.DataFrame
    callouts: list[str]
    matches: pd.DataFrame
    findings_by_cause: dict[str, int]
    explained_share: float


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


def attribute(
    data: ClientData,
    grid: Grid,
    comparison: Comparison,
    residuals: pd.DataFrame,
    *,
    rules: AttributionRules = AttributionRules(),
) -> Attribution:
    """Explain every drift episode by a cause and map the handoffs between systems.

    Parameters
    ----------
    data
        The client's canonical tables (``loaders.load_client``); not mutated.
    grid, comparison
        ``align.align`` and ``compare.compare`` of the same data.
    residuals
        ``accuracy.rollforward`` of the same data and grid.
    rules
        Thresholds.

    Returns
    -------
    Attribution
        ``findings`` (columns ``sku, location, system, counterpart, cause, first_seen,
        last_seen, units, value, confidence, evidence``), ``handoffs``, ``callouts``,
        ``matches``, ``findings_by_cause`` and ``explained_share``.
    """
    ctx = _Context(data.config, grid, residuals, data.counts, data.catalog, rules)
    matches = match_events(data.events, catalog=data.catalog, rules=rules.match)
    delivered = deliveries(matches, rules.match)
    handoffs, callouts = map_handoffs(delivered, matches, rules.match)
    stale = stale_syncs(matches, ctx)
    detected = [
        duplicates(matches, ctx),
        missing(delivered, ctx),
        late(matches, ctx),
        stale,
        reverted_counts(ctx, stale, matches),
        unit_ratios(ctx),
    ]
    residual_causes = _combine(detected)
    explains = residual_causes["cause"].isin([str(Cause.STALE_OVERWRITE), str(Cause.UNIT_MISMATCH)])
    detected.append(unexplained_residuals(ctx, residual_causes[explains], delivered))
    findings = _combine(detected)
    timing = timing_drift(data, grid, comparison.episodes)
    vs_authority = (comparison.episodes[COUNTERPART] == grid.authority).to_numpy()
    for first in (vs_authority, ~vs_authority):  # against the authority first, then the rest
        episodes = comparison.episodes[first]
        findings = _combine([findings, episode_fallback(episodes, findings, timing[first], ctx)])
    findings = _priced(findings, data.catalog)
    return Attribution(
        findings=findings,
        handoffs=handoffs,
        callouts=callouts,
        matches=matches,
        findings_by_cause=count_by_cause(findings),
        explained_share=explained_share(
            findings, comparison.episodes, grid.authority, ctx.tz, _resets(ctx)
        ),
    )


# --- detectors ------------------------------------------------------------------------------


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


def duplicates(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``duplicate_event``: a system applied the same business event more than once.

    One finding per (system, business event, location); ``units`` = the summed effect of
    the extra copies on the measure.
    """
    group = [BUSINESS_EVENT, SYSTEM, KIND, LOCATION]
    extra = matches[matches[DUPLICATE]]
    if extra.empty:
        return _empty(Cause.DUPLICATE_EVENT)
    originals = matches[matches[COPY] == 0].drop_duplicates(group)
    pairs = extra.merge(
        originals[[*group, APPLIED_AT, EVENT_ID]], on=group, suffixes=("", "_first")
    )
    pairs = pairs.assign(units=ctx.effect(pairs), size=ctx.effect(pairs).abs())
    per = [BUSINESS_EVENT, SYSTEM, LOCATION]
    totals = pairs.groupby(per)["units"].transform("sum")
    times = pairs[COPY].groupby([pairs[c] for c in per]).transform("max") + 1
    shown = pairs.assign(units=totals, times=times).sort_values(
        "size", ascending=False, kind="stable"
    )
    shown = shown.drop_duplicates(per)
    replay = shown[EVENT_ID] == shown[f"{EVENT_ID}_first"]
    ids = np.where(
        replay,
        "event id " + shown[EVENT_ID] + " delivered again",
        "event ids " + shown[f"{EVENT_ID}_first"] + ", " + shown[EVENT_ID],
    )
    evidence = (
        _label(shown)
        + " applied "
        + np.where(
            times.loc[shown.index] > 2, times.loc[shown.index].astype(str) + " times", "twice"
        )
        + " in "
        + shown[SYSTEM]
        + " at "
        + ctx.clock(shown[f"{APPLIED_AT}_first"])
        + " and "
        + ctx.clock(shown[APPLIED_AT])
        + " ("
        + ids
        + "); "
        + _units_text(shown["units"])
    )
    out = shown.assign(
        counterpart=ctx.counterpart(shown[SYSTEM], shown[SOURCE]),
        first_seen=shown[f"{APPLIED_AT}_first"],
        last_seen=shown[APPLIED_AT],
        confidence=np.where(replay, 0.95, 0.9),
        evidence=evidence,
    )
    return _findings(out, Cause.DUPLICATE_EVENT)


def missing(delivered: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``missing_event``: a business event its target normally receives never arrived.

    Deliveries sent so close to the end of the target's export that its usual latency
    (twice the median of that target and family, at least an hour) has not yet passed
    are pending, not missing.
    """
    expected = delivered[delivered["normal"]]
    p50 = expected[expected["received"]].groupby(["target", FAMILY])[LATENCY_H].median()
    last = delivered.groupby("target")["received_at"].max()
    lost = expected[~expected["received"]]
    wait = p50.reindex(pd.MultiIndex.from_frame(lost[["target", FAMILY]])).to_numpy(dtype=float)
    wait = pd.to_timedelta(np.maximum(np.nan_to_num(wait, nan=24.0) * 2, 1.0), unit="h")
    lost = lost[(lost["sent_at"] + wait).to_numpy() <= lost["target"].map(last).to_numpy()]
    if lost.empty:
        return _empty(Cause.MISSING_EVENT)
    share = expected.groupby(["target", FAMILY, LOCATION])["received"].mean()
    rate = lost.set_index(["target", FAMILY, LOCATION]).index.map(share).to_numpy(dtype=float)
    units = -ctx.effect(lost)
    evidence = (
        _label(lost)
        + ", applied by "
        + lost[SOURCE]
        + " (event "
        + lost["source_event_id"]
        + ") at "
        + ctx.clock(lost["sent_at"])
        + ", never reached "
        + lost["target"]
        + ", which recorded "
        + pd.Series(np.round(rate * 100), index=lost.index).astype(int).astype(str)
        + "% of "
        + lost[FAMILY]
        + " events at "
        + lost[LOCATION]
        + "; "
        + _units_text(units)
    )
    out = lost.assign(
        **{SYSTEM: lost["target"], COUNTERPART: lost[SOURCE]},
        first_seen=lost["sent_at"],
        last_seen=lost["sent_at"],
        units=units,
        confidence=np.round(rate, 2),
        evidence=evidence,
    )
    return _findings(out, Cause.MISSING_EVENT)


def late(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``sync_lag``: a record applied far beyond its system's usual delay for that kind.

    Delay = applied_at − occurred_at; usual = the p95 of the system and kind; late =
    beyond ``max(lag_factor × p95, p95 + lag_floor_h)``.  Syncs are not events of their
    own and are skipped.
    """
    rules = ctx.rules
    rows = matches[~matches[DUPLICATE] & (matches[KIND] != str(EventKind.SYNC))]
    delay = (rows[APPLIED_AT] - rows[OCCURRED_AT]).dt.total_seconds() / 3600.0
    p95 = delay.groupby([rows[SYSTEM], rows[KIND]]).transform(lambda d: d.quantile(0.95))
    limit = np.maximum(rules.lag_factor * p95, p95 + rules.lag_floor_h)
    hit = rows[delay > limit].assign(delay=delay, usual=p95)
    hit = hit[ctx.effect(hit) != 0]
    if hit.empty:
        return _empty(Cause.SYNC_LAG)
    units = -ctx.effect(hit)
    evidence = (
        _label(hit)
        + " happened "
        + ctx.clock(hit[OCCURRED_AT])
        + " but "
        + hit[SYSTEM]
        + " applied it only at "
        + ctx.clock(hit[APPLIED_AT])
        + " ("
        + hit["delay"].round(0).astype(int).astype(str)
        + " h later; its usual p95 is "
        + hit["usual"].round(1).astype(str)
        + " h); "
        + _units_text(units)
        + " until then"
    )
    out = hit.assign(
        counterpart=ctx.counterpart(hit[SYSTEM], hit[SOURCE]),
        first_seen=hit[OCCURRED_AT],
        last_seen=hit[APPLIED_AT],
        units=units,
        confidence=0.9,
        evidence=evidence,
    )
    return _findings(out, Cause.SYNC_LAG)


def _count_times(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """Counts applied per (system, key): count events, plus the counts table in every system."""
    own = matches[matches[KIND] == str(EventKind.COUNT)]
    own = own[[SYSTEM, SKU, LOCATION, APPLIED_AT, SET_QTY]].rename(
        columns={APPLIED_AT: "count_at", SET_QTY: "count_qty"}
    )
    systems = pd.DataFrame({SYSTEM: pd.Series(matches[SYSTEM].unique(), dtype="str")})
    table = ctx.counts[[SKU, LOCATION, COUNTED_AT, COUNTED_QTY]].merge(systems, how="cross")
    table = table.rename(columns={COUNTED_AT: "count_at", COUNTED_QTY: "count_qty"})
    both = pd.concat([own, table[own.columns]], ignore_index=True)
    return both.sort_values("count_at", kind="stable").drop_duplicates(
        [SYSTEM, SKU, LOCATION, "count_at"]
    )


def stale_syncs(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``stale_overwrite``: a sync whose ``source_as_of`` predates a count already applied.

    ``units`` = the synced value − the value the system held just before the sync
    (the count plus the system's own movements since).
    """
    sync = matches[(matches[KIND] == str(EventKind.SYNC)) & matches[SOURCE_AS_OF].notna()]
    if sync.empty:
        return _empty(Cause.STALE_OVERWRITE)
    moves = matches.sort_values(APPLIED_AT, kind="stable")
    moves = moves.assign(
        moved=ctx.effect(moves).groupby([moves[SYSTEM], moves[SKU], moves[LOCATION]]).cumsum()
    )
    counts = _count_times(matches, ctx).sort_values("count_at")
    counts = pd.merge_asof(
        counts,
        moves[[SYSTEM, SKU, LOCATION, APPLIED_AT, "moved"]],
        left_on="count_at",
        right_on=APPLIED_AT,
        by=[SYSTEM, SKU, LOCATION],
    ).drop(columns=APPLIED_AT)
    sync = moves.loc[sync.index].sort_values(APPLIED_AT)
    paired = pd.merge_asof(
        sync,
        counts.rename(columns={"moved": "moved_at_count"}),
        left_on=APPLIED_AT,
        right_on="count_at",
        by=[SYSTEM, SKU, LOCATION],
        allow_exact_matches=False,
    )
    stale = paired[paired[SOURCE_AS_OF] < paired["count_at"]]
    if stale.empty:
        return _empty(Cause.STALE_OVERWRITE)
    held = stale["count_qty"] + stale["moved"] - stale["moved_at_count"].fillna(0.0)
    units = stale[SET_QTY] - held
    evidence = (
        "sync at "
        + ctx.clock(stale[APPLIED_AT])
        + " set "
        + stale[SYSTEM]
        + " to "
        + _num(stale[SET_QTY])
        + " from a reading taken "
        + ctx.clock(stale[SOURCE_AS_OF])
        + ", before the count of "
        + ctx.clock(stale["count_at"])
        + " (counted "
        + _num(stale["count_qty"])
        + "); "
        + _units_text(units)
    )
    out = stale.assign(
        counterpart=ctx.counterpart(stale[SYSTEM], pd.Series(ctx.authority, index=stale.index)),
        first_seen=stale[APPLIED_AT],
        last_seen=stale[APPLIED_AT],
        units=units,
        confidence=0.95,
        evidence=evidence,
    )
    return _findings(out, Cause.STALE_OVERWRITE)


# --- detectors on the daily grid ------------------------------------------------------------


def _grid_index(ctx: _Context, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(system index, key index) in the grid of each row; −1 where not on the grid."""
    grid = ctx.grid
    key = pd.MultiIndex.from_frame(grid.keys[[SKU, LOCATION]]).get_indexer(
        pd.MultiIndex.from_frame(frame[[SKU, LOCATION]])
    )
    return pd.Index(grid.systems).get_indexer(pd.Index(frame[SYSTEM])), key


def _residual_array(ctx: _Context) -> np.ndarray:
    """Roll-forward residuals on the grid's shape (NaN where unknown)."""
    grid, res = ctx.grid, ctx.residuals
    out = np.full(grid.values.shape, np.nan)
    s, k = _grid_index(ctx, res)
    d = grid.days.get_indexer(pd.DatetimeIndex(res["day"]))
    ok = (s >= 0) & (k >= 0) & (d >= 0)
    out[s[ok], k[ok], d[ok]] = res["residual"].to_numpy(dtype=float)[ok]
    return out


def _count_days(ctx: _Context, matches: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(key index, day index) of every counted key and local day on the grid."""
    counted = pd.concat(
        [
            ctx.counts[[SKU, LOCATION]].assign(day=ctx.day(ctx.counts[COUNTED_AT])),
            matches.loc[matches[KIND] == str(EventKind.COUNT), [SKU, LOCATION]].assign(
                day=ctx.day(matches.loc[matches[KIND] == str(EventKind.COUNT), APPLIED_AT])
            ),
        ]
    ).drop_duplicates()
    _, key = _grid_index(ctx, counted.assign(**{SYSTEM: ctx.authority}))
    day = ctx.grid.days.get_indexer(pd.DatetimeIndex(counted["day"]))
    ok = (key >= 0) & (day >= 1)
    return key[ok], day[ok]


def reverted_counts(ctx: _Context, stale: pd.DataFrame, matches: pd.DataFrame) -> pd.DataFrame:
    """``stale_overwrite``: a value jumps back to its pre-count level with no event.

    After a count on day c changed system *s*'s value (pre = day c−1, post = day c), a
    later day within ``revert_days`` whose value equals pre again, moved from the day
    before, with a non-zero residual.  Days already explained by a stale sync are skipped,
    and so is the authority (syncs flow out of it, not into it).
    """
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    key, day = _count_days(ctx, matches)
    values, residual = grid.values, _residual_array(ctx)
    n_days = values.shape[2]
    offsets = np.arange(1, ctx.rules.revert_days + 1)
    later = day[:, None] + offsets[None, :]
    inside = later < n_days
    later = np.minimum(later, n_days - 1)
    k2 = np.broadcast_to(key[:, None], later.shape)
    pre, post = values[:, key, day - 1][:, :, None], values[:, key, day][:, :, None]
    now, before = values[:, k2, later], values[:, k2, later - 1]
    hit = inside[None] & (np.abs(pre - post) > tol) & (np.abs(now - pre) <= tol)
    hit &= (np.abs(now - before) > tol) & (
        np.abs(residual[:, k2, later]) > tol + ctx.rules.residual_slack
    )
    if grid.authority in grid.systems:  # the authority is the source of syncs, not a target
        hit[grid.systems.index(grid.authority)] = False
    s, i, r = np.nonzero(hit)
    found = pd.DataFrame(
        {
            SKU: grid.keys[SKU].to_numpy()[key[i]],
            LOCATION: grid.keys[LOCATION].to_numpy()[key[i]],
            SYSTEM: np.asarray(grid.systems, dtype=object)[s],
            "count_day": grid.days[day[i]],
            "day": grid.days[later[i, r]],
            "pre": pre[s, i, 0],
            "post": post[s, i, 0],
            "units": residual[s, key[i], later[i, r]],
        }
    ).drop_duplicates([SYSTEM, SKU, LOCATION, "day"])
    found = _not_near(found, stale, ctx)
    if found.empty:
        return _empty(Cause.STALE_OVERWRITE)
    evidence = (
        found[SYSTEM]
        + " went back to "
        + _num(found["pre"])
        + " on "
        + found["day"].dt.strftime("%Y-%m-%d").astype("str")
        + ", its level before the count of "
        + found["count_day"].dt.strftime("%Y-%m-%d").astype("str")
        + " (which set it to "
        + _num(found["post"])
        + "), with no event; "
        + _units_text(found["units"])
    )
    seen = ctx.start_of(found["day"])
    out = found.assign(
        counterpart=ctx.counterpart(
            found[SYSTEM].astype("str"), pd.Series(ctx.authority, index=found.index)
        ),
        first_seen=seen,
        last_seen=seen,
        confidence=0.7,
        evidence=evidence,
    )
    return _findings(out, Cause.STALE_OVERWRITE)


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


def unit_ratios(ctx: _Context) -> pd.DataFrame:
    """``unit_mismatch``: a system's value ≈ the reference ÷ or × the pack size.

    A (system, key) is flagged when, against the authority (or, on keys the authority
    does not hold, against every other system: the odd one out), at least half of the
    days with a non-zero reference, and at least two, disagree by the pack-size ratio
    (within half a unit) or by a sub-unit rounding residue of a fractional value.
    """
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    values = grid.values
    pack = ctx.pack(grid.keys[SKU]).to_numpy()[None, :, None]
    auth = grid.systems.index(grid.authority) if grid.authority in grid.systems else None
    flagged = np.zeros(values.shape[:2], dtype=bool)
    cells = np.zeros(values.shape, dtype=bool)
    for s in range(len(grid.systems)):  # a handful of systems, not data rows
        if s == auth:
            continue
        odd, hits = _odd_units(values, s, auth, pack, tol)
        flagged[s], cells[s] = odd, hits
    ref = np.stack([_reference_for(values, s, grid) for s in range(len(grid.systems))])
    return _unit_findings(ctx, flagged, cells, values, ref, pack[0, :, 0])


def _ratio_cells(
    mine: np.ndarray, other: np.ndarray, pack: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: (compared, pack-ratio or rounding residue, disagreeing)."""
    both = ~np.isnan(mine) & ~np.isnan(other) & (other != 0)
    differ = both & (np.abs(mine - other) > tol)
    ratio = (pack > 1) & (
        (np.abs(mine * pack - other) <= 0.5) | (np.abs(mine - other * pack) <= 0.5)
    )
    residue = (np.abs(mine - other) < 1) & (mine % 1 != 0)
    return both, differ & (ratio | residue), differ


def _odd_units(
    values: np.ndarray, s: int, auth: int | None, pack: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Whether system ``s`` is in other units than the authority (on keys where it has
    values) or else than every other system, per key; and the cells that show it."""
    pack2 = pack[0]
    verdict = np.ones(values.shape[1], dtype=bool)
    evidence = np.zeros(values.shape[1:], dtype=bool)
    seen = np.zeros(values.shape[1], dtype=bool)
    others = [o for o in range(values.shape[0]) if o != s and o != auth]
    for o in ([auth] if auth is not None else []) + others:
        if auth is not None and o != auth:
            use = ~(~np.isnan(values[auth])).any(axis=1)  # keys the authority does not hold
        else:
            use = np.ones(values.shape[1], dtype=bool)
        both, odd, _ = _ratio_cells(values[s], values[o], pack2, tol)
        n_both, n_odd = both.sum(axis=1), odd.sum(axis=1)
        present = use & (n_both > 0)
        verdict &= ~present | (n_odd >= np.maximum(2, 0.5 * n_both))
        evidence |= odd & present[:, None]
        seen |= present
    return verdict & seen, evidence


def _reference_for(values: np.ndarray, s: int, grid: Grid) -> np.ndarray:
    """The values system ``s`` is compared with in evidence: the authority where it has a
    value, else the first other system (grid order) that has one."""
    order = [grid.systems.index(grid.authority)] if grid.authority in grid.systems else []
    order += [i for i in range(len(grid.systems)) if i not in order]
    ref = np.full(values.shape[1:], np.nan)
    for other in (i for i in order if i != s):  # a handful of systems, not data rows
        ref = np.where(np.isnan(ref), values[other], ref)
    return ref


def _unit_findings(
    ctx: _Context,
    flagged: np.ndarray,
    cells: np.ndarray,
    values: np.ndarray,
    ref: np.ndarray,
    pack: np.ndarray,
) -> pd.DataFrame:
    """One ``unit_mismatch`` finding per flagged (system, key), from its matching cells."""
    grid = ctx.grid
    s, k = np.nonzero(flagged)
    if len(s) == 0:
        return _empty(Cause.UNIT_MISMATCH)
    hits = cells[s, k]
    first = hits.argmax(axis=1)
    last = hits.shape[1] - 1 - hits[:, ::-1].argmax(axis=1)
    found = pd.DataFrame(
        {
            SKU: grid.keys[SKU].to_numpy()[k],
            LOCATION: grid.keys[LOCATION].to_numpy()[k],
            SYSTEM: np.asarray(grid.systems, dtype=object)[s],
            "first_day": grid.days[first],
            "last_day": grid.days[last],
            "shown": values[s, k, last],
            "ref": ref[s, k, last],
            "pack": pack[k],
            "n": hits.sum(axis=1),
            "of": (~np.isnan(values[s, k]) & ~np.isnan(ref[s, k])).sum(axis=1),
        }
    )
    found["units"] = found["shown"] - found["ref"]
    evidence = (
        found[SYSTEM]
        + " shows "
        + _num(found["shown"])
        + " where the reference shows "
        + _num(found["ref"])
        + " on "
        + found["last_day"].dt.strftime("%Y-%m-%d").astype("str")
        + " (pack size "
        + _num(found["pack"])
        + "); the same ratio or rounding on "
        + found["n"].astype(str)
        + " of "
        + found["of"].astype(str)
        + " days; "
        + _units_text(found["units"])
    )
    out = found.assign(
        counterpart=ctx.counterpart(
            found[SYSTEM].astype("str"), pd.Series(ctx.authority, index=found.index)
        ),
        first_seen=ctx.start_of(found["first_day"]),
        last_seen=ctx.start_of(found["last_day"]),
        confidence=np.round(np.clip(found["n"] / found["of"].clip(lower=1), 0.5, 0.95), 2),
        evidence=evidence,
    )
    return _findings(out, Cause.UNIT_MISMATCH)


def unexplained_residuals(
    ctx: _Context, found: pd.DataFrame, delivered: pd.DataFrame
) -> pd.DataFrame:
    """``unrecorded_change``: a roll-forward residual that no event in any system explains.

    Skipped: residuals within rounding (``residual_slack``), days a stale-overwrite or
    unit-mismatch finding of the same system and key explains (the causes that move a
    snapshot without an event), and residuals equal to the effect of a business event
    another system recorded that day and this one did not (the change arrived without an
    event record of its own).
    """
    res = ctx.residuals
    res = res[res["residual"].abs() > ctx.config.tolerance + SLACK + ctx.rules.residual_slack]
    res = _not_near(res.assign(day=pd.DatetimeIndex(res["day"])), found, ctx)
    lost = delivered[~delivered["received"]]
    absorbed = lost.assign(
        **{
            SYSTEM: lost["target"],
            "day": ctx.day(lost["sent_at"]),
            "units": ctx.effect(lost).round(2),
        }
    )
    res = res.assign(units=res["residual"].round(2)).merge(
        absorbed[[SYSTEM, SKU, LOCATION, "day", "units"]].drop_duplicates().assign(absorbed=True),
        on=[SYSTEM, SKU, LOCATION, "day", "units"],
        how="left",
    )
    res = res[res["absorbed"].isna()]
    if res.empty:
        return _empty(Cause.UNRECORDED_CHANGE)
    evidence = (
        res[SYSTEM]
        + " went from "
        + _num(res["previous"])
        + " to "
        + _num(res["snapshot"])
        + " on "
        + res["day"].dt.strftime("%Y-%m-%d").astype("str")
        + " while its "
        + res["events"].astype(str)
        + " events account for "
        + _num(res["events_delta"].round(2), "{:+g}")
        + "; "
        + _units_text(res["residual"])
        + " with no event in any system"
    )
    seen = ctx.start_of(res["day"])
    out = res.assign(
        counterpart=ctx.counterpart(
            res[SYSTEM].astype("str"), pd.Series(ctx.authority, index=res.index)
        ),
        first_seen=seen,
        last_seen=seen,
        units=res["residual"],
        confidence=0.8,
        evidence=evidence,
    )
    return _findings(out, Cause.UNRECORDED_CHANGE)


# --- episodes: snapshot timing, the fallback, coverage ------------------------------------


def timing_drift(data: ClientData, grid: Grid, episodes: pd.DataFrame) -> np.ndarray:
    """Whether each episode is only snapshot timing (no record is wrong).

    Two systems that snapshot at different hours, or apply the same event with their
    usual latency, disagree for a while although neither record is wrong.  For each
    episode day both values are brought to the later snapshot time T with each system's
    own events: value + Σ events that occurred by T − Σ events applied by the snapshot
    (i.e. the events that occurred by T but were applied after the snapshot).  An
    episode is timing when the two agree on every one of its days.

    Returns
    -------
    numpy.ndarray
        bool, one per episode row.
    """
    if episodes.empty:
        return np.zeros(0, dtype=bool)
    cells = asof_cells(
        data.snapshots, data.config, start=grid.days[0].date(), end=grid.days[-1].date()
    )
    cell_key = pd.MultiIndex.from_frame(cells.keys[[SKU, LOCATION]])
    n_days = episodes["days"].to_numpy()
    ep = np.repeat(np.arange(len(episodes)), n_days)
    offset = np.arange(len(ep)) - np.repeat(np.cumsum(n_days) - n_days, n_days)
    rows = episodes.iloc[ep]
    day = grid.days.get_indexer(pd.DatetimeIndex(rows["start"])) + offset
    key = cell_key.get_indexer(pd.MultiIndex.from_frame(rows[[SKU, LOCATION]]))
    gkey = pd.MultiIndex.from_frame(grid.keys[[SKU, LOCATION]]).get_indexer(
        pd.MultiIndex.from_frame(rows[[SKU, LOCATION]])
    )
    cday = cells.days.get_indexer(grid.days[day])
    sides = []
    for column in (SYSTEM, COUNTERPART):
        s_cell = pd.Index(cells.systems).get_indexer(pd.Index(rows[column]))
        s_grid = pd.Index(grid.systems).get_indexer(pd.Index(rows[column]))
        row = cells.row[s_cell, key, cday]
        at = np.where(row >= 0, cells.as_of[np.maximum(row, 0)], np.iinfo(np.int64).max)
        sides.append((s_cell, at, grid.values[s_grid, gkey, day]))
    until = np.maximum(sides[0][1], sides[1][1])
    applied = _Movements.build(data, cells.keys, cells.systems, by_occurrence=False)
    occurred = _Movements.build(data, cells.keys, cells.systems, by_occurrence=True)
    rolled = [
        v + occurred.upto(g, until) - applied.upto(g, at)
        for g, at, v in ((s * len(cells.keys) + key, at, v) for s, at, v in sides)
    ]
    agree = np.abs(rolled[0] - rolled[1]) <= data.config.tolerance + SLACK
    return np.asarray(
        pd.Series(agree).groupby(ep).all().reindex(range(len(episodes)), fill_value=False)
    )


@dataclass(frozen=True)
class _Movements:
    """Each (system, key)'s cumulative event effect, sorted for interval sums."""

    group: np.ndarray
    at: np.ndarray
    cum: np.ndarray

    @classmethod
    def build(
        cls, data: ClientData, keys: pd.DataFrame, systems: tuple[str, ...], *, by_occurrence: bool
    ) -> _Movements:
        events = data.events
        key = pd.MultiIndex.from_frame(keys[[SKU, LOCATION]]).get_indexer(
            pd.MultiIndex.from_frame(events[[SKU, LOCATION]])
        )
        system = pd.Index(systems).get_indexer(pd.Index(events[SYSTEM]))
        ok = (key >= 0) & (system >= 0)
        qty = events[QTY_DELTA].fillna(0.0)
        if data.config.measure == Measure.AVAILABLE:
            qty = qty - events[COMMIT_DELTA].fillna(0.0)
        occurred = micros(events[OCCURRED_AT])
        recorded = micros(events[RECORDED_AT])
        at = np.where(recorded == np.iinfo(np.int64).min, occurred, recorded)
        at = occurred if by_occurrence else at
        group = (system.astype(np.int64) * len(keys) + key)[ok]
        order = np.lexsort((at[ok], group))
        cum = np.concatenate(([0.0], np.cumsum(qty.to_numpy(dtype=float)[ok][order])))
        return cls(group[order], at[ok][order], cum)

    def upto(self, group: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Cumulative effect of the group's events applied at or before ``at``."""
        n = len(self.at)
        rank = np.r_[np.zeros(n, np.int8), np.ones(len(at), np.int8)]
        order = np.lexsort((rank, np.r_[self.at, at], np.r_[self.group, group]))
        before = np.empty(len(order), dtype=np.int64)
        before[order] = np.cumsum(order < n)
        first = np.searchsorted(self.group, group, side="left")
        return self.cum[before[n:]] - self.cum[first]


def _resets(ctx: _Context) -> pd.DataFrame:
    """Local days on which each key was counted: ``sku, location, day``."""
    return ctx.counts[[SKU, LOCATION]].assign(day=ctx.day(ctx.counts[COUNTED_AT]))


def episode_fallback(
    episodes: pd.DataFrame, findings: pd.DataFrame, timing: np.ndarray, ctx: _Context
) -> pd.DataFrame:
    """``unrecorded_change`` for each episode that no finding on its key covers.

    Snapshot-timing episodes are not drift of any record and get no finding.  The
    finding goes to the odd one out: the side of the pair that fewer of the other
    systems agree with on the episode's first day; on a tie, the non-authority side.
    """
    covered = (
        covering(findings, episodes, ctx.tz, _resets(ctx)).any(axis=1).to_numpy()
        if len(episodes)
        else np.zeros(0, bool)
    )
    orphans = episodes[~covered & ~timing]
    if orphans.empty:
        return _empty(Cause.UNRECORDED_CHANGE)
    flip = _blame_counterpart(orphans, ctx)
    system = orphans[SYSTEM].where(~flip, orphans[COUNTERPART])
    other = orphans[COUNTERPART].where(~flip, orphans[SYSTEM])
    units = orphans["mean_drift"].where(~flip, -orphans["mean_drift"])
    evidence = (
        system
        + " differs from "
        + other
        + " by up to "
        + _num(orphans["peak_abs_drift"])
        + " units from "
        + orphans["start"].dt.strftime("%Y-%m-%d").astype("str")
        + " to "
        + orphans["end"].dt.strftime("%Y-%m-%d").astype("str")
        + " ("
        + orphans["days"].astype(str)
        + " days) and no event, count, sync or snapshot timing explains it; "
        + _units_text(units)
        + " on average"
    )
    out = orphans.assign(
        **{SYSTEM: system, COUNTERPART: other},
        first_seen=ctx.start_of(orphans["start"]),
        last_seen=ctx.start_of(orphans["end"]),
        units=units,
        confidence=ctx.rules.fallback_confidence,
        evidence=evidence,
    ).drop_duplicates([SYSTEM, SKU, LOCATION, "first_seen"])
    return _findings(out, Cause.UNRECORDED_CHANGE)


def _blame_counterpart(orphans: pd.DataFrame, ctx: _Context) -> pd.Series:
    """Whether the counterpart, not the system, of each episode is the odd one out."""
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    key = pd.MultiIndex.from_frame(grid.keys[[SKU, LOCATION]]).get_indexer(
        pd.MultiIndex.from_frame(orphans[[SKU, LOCATION]])
    )
    day = grid.days.get_indexer(pd.DatetimeIndex(orphans["start"]))
    column = grid.values[:, key, day]  # [systems, episodes]
    index = pd.Index(grid.systems)
    s, c = (
        index.get_indexer(pd.Index(orphans[SYSTEM])),
        index.get_indexer(pd.Index(orphans[COUNTERPART])),
    )
    n = np.arange(len(orphans))
    third = np.ones(column.shape, dtype=bool)
    third[s, n] = False
    third[c, n] = False
    third &= ~np.isnan(column)
    with_s = (third & (np.abs(column - column[s, n]) <= tol)).sum(axis=0)
    with_c = (third & (np.abs(column - column[c, n]) <= tol)).sum(axis=0)
    tie = orphans[SYSTEM].to_numpy() == ctx.authority
    return pd.Series((with_s > with_c) | ((with_s == with_c) & tie), index=orphans.index)


def covering(
    findings: pd.DataFrame,
    episodes: pd.DataFrame,
    tz: str,
    resets: pd.DataFrame | None = None,
    slack_days: int = 1,
) -> pd.DataFrame:
    """Which causes' findings cover each episode.

    A finding covers an episode of the same key when its local-day span, ± ``slack_days``,
    overlaps the episode's days.  A finding's effect lasts until the key's next count
    (``resets``: ``sku, location, day``), except ``sync_lag``, which ends when the late
    record lands; without ``resets`` every effect lasts to the end of the window.

    Returns
    -------
    pandas.DataFrame
        Boolean, one row per episode (in order), one column per cause.
    """
    causes = [str(c) for c in Cause]
    ep = episodes.reset_index(drop=True).assign(episode=np.arange(len(episodes)))
    slack = pd.Timedelta(days=slack_days)
    found = findings.assign(
        first_day=_local_day(findings["first_seen"], tz) - slack,
        last_day=_lasting(findings, tz, resets) + slack,
    )
    pairs = ep[[SKU, LOCATION, "start", "end", "episode"]].merge(
        found[[SKU, LOCATION, "cause", "first_day", "last_day"]], on=[SKU, LOCATION]
    )
    pairs = pairs[(pairs["first_day"] <= pairs["end"]) & (pairs["last_day"] >= pairs["start"])]
    table = pd.crosstab(pairs["episode"], pairs["cause"]) if len(pairs) else pd.DataFrame()
    return table.reindex(index=np.arange(len(episodes)), columns=causes).fillna(0) > 0


def _lasting(findings: pd.DataFrame, tz: str, resets: pd.DataFrame | None) -> pd.Series:
    """Last local day each finding's effect lasts: to the next count of its key."""
    last = _local_day(findings["last_seen"], tz)
    if findings.empty:
        return last
    ends = pd.Series(pd.Timestamp.max.normalize(), index=findings.index)
    if resets is not None and len(resets):
        query = findings[[SKU, LOCATION]].assign(last=last, row=np.arange(len(findings)))
        nxt = pd.merge_asof(
            query.sort_values("last"),
            resets[[SKU, LOCATION, "day"]].drop_duplicates().sort_values("day"),
            left_on="last",
            right_on="day",
            by=[SKU, LOCATION],
            direction="forward",
            allow_exact_matches=False,
        ).sort_values("row")
        ends = pd.Series(
            nxt["day"].fillna(pd.Timestamp.max.normalize()).to_numpy(), index=findings.index
        )
    lag = findings["cause"] == str(Cause.SYNC_LAG)
    return last.where(lag, ends)


def _local_day(stamps: pd.Series, tz: str) -> pd.Series:
    return pd.to_datetime(stamps, utc=True).dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()


def _priced(findings: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """Fill ``value`` = |units| × unit_cost (NaN where the cost is unknown)."""
    cost = findings[SKU].map(catalog.drop_duplicates(SKU).set_index(SKU)[UNIT_COST])
    out = findings.assign(value=findings["units"].astype(float).abs() * cost.astype(float))
    return out[FINDING_COLUMNS].reset_index(drop=True)


def count_by_cause(findings: pd.DataFrame) -> dict[str, int]:
    """Number of findings per cause, every cause listed (zeros included)."""
    counts = findings["cause"].value_counts()
    return {str(c): int(counts.get(str(c), 0)) for c in Cause}


def explained_share(
    findings: pd.DataFrame,
    episodes: pd.DataFrame,
    authority: str,
    tz: str,
    resets: pd.DataFrame | None = None,
) -> float:
    """Share of drift units attributed to a cause other than ``unrecorded_change``.

    Drift units: Σ ``peak_abs_drift`` over the episodes against the authority that some
    finding covers (snapshot-timing episodes, which no finding covers, are not drift of
    any record).  Each episode's units are split evenly between the causes covering it.

    Returns
    -------
    float
        Between 0 and 1; NaN when no such episode exists.
    """
    vs = episodes[episodes[COUNTERPART] == authority].reset_index(drop=True)
    covered = covering(findings, vs, tz, resets).astype(float)
    n = covered.sum(axis=1)
    weight = vs["peak_abs_drift"].where(n > 0, 0.0)
    if weight.sum() == 0:
        return float("nan")
    other = covered.drop(columns=str(Cause.UNRECORDED_CHANGE)).sum(axis=1) / n.where(n > 0)
    return float((other.fillna(0.0) * weight).sum() / weight.sum())
