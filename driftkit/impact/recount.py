"""Record error since the last count, from the client's own count history.

Shrink, a sale recorded twice or a theft makes every record show more than the shelf holds,
alike: no system disagrees, so the drift-based terms of the count list see nothing, until
the next cycle count corrects all records at once.  How much a record loses that way per day
is in the count history: at each count, the error the records share (the median over the
systems of record − counted, :func:`driftkit.drift.accuracy.count_accuracy`) that is an
overstatement, over the days since the key's previous count.

:func:`overstatement_rates` pools those units and days per location (the rate ρ_loc) and
gives each key the Gamma–Poisson posterior mean (α + x_k) ÷ (α ÷ ρ_loc + e_k): a key whose
counts found its records high more often than its location is more likely high again.
:func:`lost_since_count` multiplies it by the days since the key's last count: the expected
units its records overstate by now (:func:`driftkit.impact.sellout.wrong_since_count`
prices the chance that they reach the units shown).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.accuracy import count_accuracy
from driftkit.drift.align import Grid
from driftkit.impact.demand import Tables
from driftkit.schema import COUNTED_AT, LOCATION, SKU

#: Weight of the location's rate in a key's own rate, in units of error: the prior
#: Gamma(α, α ÷ ρ_loc) has mean ρ_loc and counts as α overstated units seen.
PRIOR_UNITS = 1.0

DAY_SECONDS = 86400.0


def count_history(errors: pd.DataFrame) -> pd.DataFrame:
    """One row per count that follows an earlier count of the same key.

    Parameters
    ----------
    errors
        :func:`~driftkit.drift.accuracy.count_accuracy`'s errors: ``sku, location,
        counted_at, system, error`` (record − counted; NaN where the system had no value).

    Returns
    -------
    pandas.DataFrame
        ``sku, location, counted_at, overstated, days``: ``overstated`` = max(0, median
        over the systems with a value of record − counted) (the error the records share),
        ``days`` = days since the key's previous count.
    """
    shared = errors.groupby([SKU, LOCATION, COUNTED_AT], observed=True)["error"].median()
    table = shared.reset_index().sort_values([SKU, LOCATION, COUNTED_AT], kind="stable")
    before = table.groupby([SKU, LOCATION], observed=True)[COUNTED_AT].shift()
    days = (table[COUNTED_AT] - before).dt.total_seconds() / DAY_SECONDS
    table = table.assign(overstated=table["error"].clip(lower=0.0).fillna(0.0), days=days)
    return table[table["days"] > 0][[SKU, LOCATION, COUNTED_AT, "overstated", "days"]]


def location_sums(
    data: Tables, config: ClientConfig, *, errors: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per location, Σ overstated units and Σ seconds of :func:`count_history` over
    ``data``'s keys: one part's piece of the pooled rates (summed over parts by
    :func:`driftkit.impact.pooled.demand_facts`; whole seconds, so the sum is exact in any
    order and a partitioned audit gets the in-process rates bit for bit).  ``errors``: the
    audit's :func:`~driftkit.drift.accuracy.count_accuracy` errors of ``data``, computed
    here when not given.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``location``: ``overstated`` (float), ``seconds`` (int64); empty without
        a count history.
    """
    if errors is None and len(data.counts):
        errors = count_accuracy(data.snapshots, data.counts, config)[0]
    history = count_history(errors) if errors is not None else pd.DataFrame()
    if not len(history):
        empty = {"overstated": pd.Series([], dtype=float), "seconds": pd.Series([], dtype="int64")}
        return pd.DataFrame(empty, index=pd.Index([], name=LOCATION))
    seconds = (history["days"] * DAY_SECONDS).round().astype("int64")
    table = history.assign(seconds=seconds)
    return table.groupby(LOCATION, observed=True)[["overstated", "seconds"]].sum()


def overstatement_rates(
    history: pd.DataFrame, keys: pd.DataFrame, pooled: pd.DataFrame
) -> np.ndarray:
    """Per key of ``keys``: units its records overstate per day, the Gamma–Poisson posterior
    mean over its own ``history`` with the prior of its location's ``pooled`` rate
    (:func:`location_sums` over the whole client), else the client's.  0 where the client's
    history has no day at all."""
    where = pd.MultiIndex.from_frame(keys[[SKU, LOCATION]])
    per_key = history.groupby([SKU, LOCATION], observed=True)[["overstated", "days"]].sum()
    own = per_key.reindex(where).fillna(0.0)
    pooled_days = pooled["seconds"] / DAY_SECONDS
    days = float(pooled["seconds"].sum()) / DAY_SECONDS
    client = float(pooled["overstated"].sum()) / days if days > 0 else 0.0
    place = pooled["overstated"] / pooled_days.where(pooled_days > 0)
    rho = place.reindex(keys[LOCATION]).fillna(client).to_numpy(dtype=float)
    prior_days = np.divide(PRIOR_UNITS, rho, out=np.zeros(len(rho)), where=rho > 0)
    units = PRIOR_UNITS * (rho > 0) + own["overstated"].to_numpy()
    seen = prior_days + own["days"].to_numpy()
    return np.divide(units, seen, out=np.zeros(len(rho)), where=seen > 0)


def days_since_count(counts: pd.DataFrame, grid: Grid, timezone: str) -> np.ndarray:
    """Per key: days from its last count up to the window's end to that end; the window's
    length (at least that long) where it was not counted in that time."""
    end = pd.Timestamp(grid.days[-1] + pd.Timedelta(days=1)).tz_localize(timezone)
    done = counts[counts[COUNTED_AT] <= end]
    last = done.groupby([SKU, LOCATION], observed=True)[COUNTED_AT].max()
    where = pd.MultiIndex.from_frame(grid.keys[[SKU, LOCATION]])
    since = (end - last.reindex(where)).dt.total_seconds().to_numpy() / DAY_SECONDS
    return np.where(np.isnan(since), float(len(grid.days)), since)


def lost_since_count(
    data: Tables,
    grid: Grid,
    config: ClientConfig,
    *,
    pooled: pd.DataFrame | None,
    errors: pd.DataFrame | None = None,
) -> np.ndarray | None:
    """Per key: expected units its records overstate by at the window's end (rate ×
    days since the last count); None without a count history (the term is not weighed).

    ``pooled``: the client's :func:`location_sums` (None: not known, not weighed);
    ``errors``: the audit's :func:`~driftkit.drift.accuracy.count_accuracy` errors of
    ``data``, computed here when not given.
    """
    if pooled is None or not len(pooled) or not len(data.counts):
        return None
    if errors is None:
        errors = count_accuracy(data.snapshots, data.counts, config)[0]
    rate = overstatement_rates(count_history(errors), grid.keys, pooled)
    return rate * days_since_count(data.counts, grid, config.timezone)
