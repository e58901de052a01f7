"""``unit_mismatch`` in its other shapes: one event in packs, a pack size the catalog lacks.

:func:`pack_records` finds the same business event recorded by one system in other units
(its size × or ÷ the pack size of the others').  :func:`evident_packs` infers a pack size
the catalog does not give from a steady integer ratio between a system's values and the
reference values, for :func:`driftkit.causes.value_detectors.unit_ratios`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.context import (
    APPLIED_AT,
    BUSINESS_EVENT,
    CONFIDENCE,
    DUPLICATE,
    MAGNITUDE,
    SOURCE,
    _Context,
    _empty,
    _findings,
    _label,
    _num,
    _units_text,
)
from driftkit.schema import EVENT_ID, KIND, LOCATION, REFERENCE, SKU, SYSTEM, Cause, EventKind

#: Kinds that set an absolute value (no size to compare in units).
ABSOLUTE_KINDS = (str(EventKind.COUNT), str(EventKind.SYNC))
HALF_EACH = 0.5


def pack_records(matches: pd.DataFrame, ctx: _Context) -> pd.DataFrame:
    """``unit_mismatch``: a system recorded a business event in other units than the rest.

    Per business event (first records, counts and syncs excluded) the reference size is
    the authority's, else the size most systems recorded (ties: the source's).  A record
    whose size × the pack size, or ÷ it, is the reference size (within half an each) is
    in packs where the others count eaches (or the reverse).  ``units`` = its effect −
    the effect it should have had, summed over the system's such records of the key: one
    finding per (system, key), listing every record's event id.
    """
    sized = (
        ~matches[DUPLICATE] & ~matches[KIND].isin(ABSOLUTE_KINDS) & (matches[MAGNITUDE] > 0)
    ).to_numpy()
    pack = ctx.pack(matches[SKU]).to_numpy()  # by the column's cached codes
    event = matches[BUSINESS_EVENT].to_numpy()
    sized = sized & np.isin(event, event[sized & (pack > 1)])  # only events with a pack size
    rows = matches.loc[sized, [BUSINESS_EVENT, MAGNITUDE, SYSTEM, SOURCE]]  # what sizes read
    if rows.empty:
        return _empty(Cause.UNIT_MISMATCH)
    rows = rows.reset_index(drop=True)
    ref = rows[BUSINESS_EVENT].map(_reference_sizes(rows, ctx.authority)).to_numpy(dtype=float)
    size = rows[MAGNITUDE].to_numpy(dtype=float)
    pack = pack[sized]
    in_packs = (np.abs(size * pack - ref) <= HALF_EACH) & (size < ref)
    as_packs = (np.abs(size - ref * pack) <= HALF_EACH) & (size > ref)
    hit = (pack > 1) & (in_packs | as_packs)
    odd = matches.iloc[np.flatnonzero(sized)[hit]].set_axis(np.flatnonzero(hit))  # every column
    odd = odd.assign(ref=ref[hit], pack=pack[hit])
    if odd.empty:
        return _empty(Cause.UNIT_MISMATCH)
    effect = ctx.effect(odd)
    units = effect - np.sign(effect) * odd["ref"]
    evidence = (
        _label(odd)
        + " recorded as "
        + _num(odd[MAGNITUDE])
        + " in "
        + odd[SYSTEM]
        + " and as "
        + _num(odd["ref"])
        + " elsewhere: a factor of the pack size "
        + _num(odd["pack"])
        + " ("
        + np.where(odd[MAGNITUDE] < odd["ref"], "packs for eaches", "eaches counted as packs")
        + "); "
        + _units_text(units)
    )
    out = odd.assign(
        counterpart=ctx.counterpart(odd[SYSTEM], odd[SOURCE]),
        units=units,
        evidence=evidence,
        event_ids=odd[EVENT_ID],
    )
    return _findings(_per_key(out), Cause.UNIT_MISMATCH)


def _per_key(records: pd.DataFrame) -> pd.DataFrame:
    """One finding per (system, key): the records summed, the first one's evidence."""
    ordered = records.sort_values(APPLIED_AT, kind="stable")
    found = ordered.groupby([SYSTEM, SKU, LOCATION], as_index=False, sort=False).agg(
        counterpart=("counterpart", "first"),
        first_seen=(APPLIED_AT, "min"),
        last_seen=(APPLIED_AT, "max"),
        units=("units", "sum"),
        evidence=("evidence", "first"),
        reference=(REFERENCE, "first"),
        event_ids=(EVENT_ID, ";".join),
        records=(EVENT_ID, "size"),
    )
    more = np.where(
        found["records"] > 1,
        " (and " + (found["records"] - 1).astype(str) + " more records like it)",
        "",
    )
    return found.assign(evidence=found["evidence"] + more, confidence=CONFIDENCE["pack_record"])


def _reference_sizes(rows: pd.DataFrame, authority: str) -> pd.Series:
    """Per business event: the authority's size, else the commonest (ties: the source's)."""
    votes = (
        rows.assign(auth=rows[SYSTEM] == authority, src=rows[SYSTEM] == rows[SOURCE], n=1)
        .groupby([BUSINESS_EVENT, MAGNITUDE], as_index=False)[["n", "auth", "src"]]
        .sum()
    )
    score = votes["n"] + 1000 * votes["auth"].clip(upper=1) + 0.5 * votes["src"].clip(upper=1)
    best = votes.assign(score=score).sort_values("score", ascending=False, kind="stable")
    return best.drop_duplicates(BUSINESS_EVENT).set_index(BUSINESS_EVENT)[MAGNITUDE]


def evident_packs(mine: np.ndarray, other: np.ndarray, *, min_days: int = 2) -> np.ndarray:
    """A pack size evident from a steady integer ratio between two systems' values.

    Per key (row): over the days where both are non-zero, the ratio ``other ÷ mine`` (or
    its inverse) rounded to an integer r ≥ 2; evident when every such day, and at least
    ``min_days``, has ``|mine × r − other| ≤ 0.5`` (or the inverse).

    Returns
    -------
    numpy.ndarray
        float per key: r, or 1.0 where no ratio is evident.
    """
    both = ~np.isnan(mine) & ~np.isnan(other) & (mine != 0) & (other != 0)
    n = both.sum(axis=1)
    out = np.ones(mine.shape[0])
    for a, b in ((mine, other), (other, mine)):  # packs for eaches, then the reverse
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.round(row_medians(np.where(both, b / a, np.nan), n))
        r = np.where(np.isnan(r), 1.0, r)
        fits = both & (np.abs(a * r[:, None] - b) <= HALF_EACH)
        steady = (fits.sum(axis=1) == n) & (n >= min_days)
        out = np.where((out == 1.0) & steady & (r >= 2), r, out)
    return out


def row_medians(values: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``np.nanmedian(values, axis=1)`` by one sort, without its masked-array passes.

    ``n`` is the number of non-NaN values of each row; the median of an even number is
    (low + high) / 2, as ``nanmedian`` computes it.

    Returns
    -------
    numpy.ndarray
        float per row, NaN for a row without values.
    """
    if values.shape[1] == 0:
        return np.full(len(values), np.nan)
    ordered = np.sort(values, axis=1)  # NaN last
    rows = np.arange(len(values))
    high = np.minimum(n // 2, values.shape[1] - 1)
    low = np.where(n % 2 == 1, high, np.maximum(high - 1, 0))
    middle = (ordered[rows, low] + ordered[rows, high]) / 2.0
    return np.where(n > 0, middle, np.nan)
