"""Systems without locations (issue 13, point 7): their SKUs placed where the others hold them.

A system whose export names no location gets the client's ``default_location`` on every
row when loaded.  When other systems name their locations, that system would share no key
with them and never be compared.  :func:`located_systems` finds, over the whole client
(pass 1), the systems with at least one row at another location; the others are *unlocated*.
:func:`place_unlocated` then moves each unlocated system's rows (snapshots and events) of a
SKU to the one location where the located systems hold that SKU, so the SKU is compared
there.  A SKU the located systems also hold at the default location is left as it is (it is
compared there already).  A SKU they hold at several other locations is compared at the SKU
level: :func:`sum_locations` adds, for those SKUs only, a synthetic location ``(all locations)``
holding each located system's sum over its locations of the SKU (per snapshot time; unknown
unless every one of its locations of the SKU is in that snapshot with a known value), and the
unlocated system's rows of the SKU move there.  Location maps remain the way to pair named
locations.
"""

from __future__ import annotations

import pandas as pd

from driftkit.drift.codes import map_coded
from driftkit.schema import AS_OF, AVAILABLE, COMMITTED, LOCATION, ON_HAND, SKU, SYSTEM

ALL_LOCATIONS = "(all locations)"  # the synthetic location of the SKU-level comparison
QUANTITIES = (ON_HAND, AVAILABLE, COMMITTED)


def located_systems(snapshots: pd.DataFrame, default_location: str) -> frozenset[str]:
    """Systems with at least one snapshot at a location other than ``default_location``."""
    elsewhere = snapshots[LOCATION] != default_location
    return frozenset(str(s) for s in snapshots.loc[elsewhere, SYSTEM].unique())


def place_unlocated(
    snapshots: pd.DataFrame,
    events: pd.DataFrame,
    unlocated: tuple[str, ...],
    default_location: str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Unlocated systems' rows of each SKU moved to the located systems' only location.

    Parameters
    ----------
    snapshots, events
        One part's canonical tables (every row of a SKU is in the part); not mutated.
    unlocated
        Systems whose export names no location (every row at ``default_location``) while
        another system names its locations; empty: the tables are returned as they are.
    default_location
        The client's default location.

    Returns
    -------
    tuple
        ``snapshots`` with the moved rows and the located systems' sum rows at
        ``(all locations)`` (:func:`sum_locations`), ``events`` with the moved rows, and the
        placement counts: ``system, location, skus`` (the unlocated system's SKUs moved to
        ``location``; ``(all locations)`` counts those compared against the others' sums).
    """
    if not unlocated or snapshots.empty:
        return snapshots, events, _counts(pd.DataFrame({SYSTEM: [], LOCATION: [], SKU: []}))
    mine = snapshots[SYSTEM].isin(unlocated)
    held = snapshots.loc[~mine, [SKU, LOCATION]].drop_duplicates()
    per_sku = held.groupby(SKU)[LOCATION].agg(["first", "size"])
    at_default = held.loc[held[LOCATION] == default_location, SKU].unique()
    per_sku = per_sku[~per_sku.index.isin(at_default)]  # already compared at the default
    target = per_sku["first"].where(per_sku["size"] == 1, ALL_LOCATIONS)
    moved = _moved(snapshots, unlocated, default_location, target)
    placed = snapshots.loc[moved, [SYSTEM, SKU]].assign(
        **{LOCATION: map_coded(snapshots.loc[moved, SKU], target)}
    )
    several = target.index[target == ALL_LOCATIONS]
    sums = sum_locations(snapshots[~mine & snapshots[SKU].isin(several)])
    placed_snapshots = _move(snapshots, moved, target)
    if not sums.empty:
        placed_snapshots = pd.concat([placed_snapshots, sums], ignore_index=True)
    return (
        placed_snapshots,
        _move(events, _moved(events, unlocated, default_location, target), target),
        _counts(placed),
    )


def sum_locations(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Each system's sum over its locations of each SKU, per snapshot time, at ``(all locations)``.

    A sum is unknown (NaN, never a partial sum) unless every location where the system holds
    the SKU (in ``snapshots``) is in that snapshot with a known value.

    Parameters
    ----------
    snapshots
        Snapshot rows of the located systems, for the SKUs compared at the SKU level.

    Returns
    -------
    pandas.DataFrame
        ``snapshots``' columns, one row per ``system, sku, as_of``, ``location`` =
        ``(all locations)``; ``on_hand``, ``available``, ``committed`` the sums (columns
        absent from ``snapshots`` stay absent; other columns take their first value).
    """
    if snapshots.empty:
        return snapshots.iloc[:0]
    keys = [SYSTEM, SKU, AS_OF]
    places = snapshots.groupby([SYSTEM, SKU], observed=True)[LOCATION].transform("nunique")
    grouped = snapshots.assign(_places=places).groupby(keys, sort=False, observed=True)
    sums = grouped.first()
    quantities = [c for c in QUANTITIES if c in snapshots.columns]
    known = grouped[quantities].count()
    whole = known.to_numpy() == sums[["_places"]].to_numpy()
    sums[quantities] = grouped[quantities].sum().where(whole)
    sums[LOCATION] = ALL_LOCATIONS
    return sums.drop(columns="_places").reset_index()[list(snapshots.columns)]


def _moved(
    table: pd.DataFrame, unlocated: tuple[str, ...], default: str, target: pd.Series
) -> pd.Series:
    """Rows of an unlocated system at the default location whose SKU has a target."""
    return (
        table[SYSTEM].isin(unlocated) & (table[LOCATION] == default) & table[SKU].isin(target.index)
    )


def _move(table: pd.DataFrame, rows: pd.Series, target: pd.Series) -> pd.DataFrame:
    """``table`` with ``rows``' location set to their SKU's target (a copy when any moves)."""
    if not rows.any():
        return table
    moved = table.copy()
    moved.loc[rows, LOCATION] = map_coded(table.loc[rows, SKU], target).astype("str")
    return moved


def _counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Distinct SKUs per (system, location) of the moved (or left) rows."""
    distinct = rows.drop_duplicates([SYSTEM, SKU])
    counts = distinct.groupby([SYSTEM, LOCATION], sort=True).size().rename("skus").reset_index()
    return counts.astype({SYSTEM: "str", LOCATION: "str", "skus": "int64"})


def placement_counts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts' placement counts added up (``system, location, skus``)."""
    table = pd.concat(parts, ignore_index=True)
    return table.groupby([SYSTEM, LOCATION], sort=True)["skus"].sum().reset_index()


def placement_notes(counts: pd.DataFrame, examples: int = 3) -> list[str]:
    """One note per unlocated system: where its SKUs were compared, and how many at SKU level."""
    notes = []
    for system, rows in counts.groupby(SYSTEM, sort=True):  # a handful of systems
        summed = int(rows.loc[rows[LOCATION] == ALL_LOCATIONS, "skus"].sum())
        moved = rows[rows[LOCATION] != ALL_LOCATIONS].sort_values("skus", ascending=False)
        where = ", ".join(
            f'"{r[LOCATION]}" ({r["skus"]})' for _, r in moved.head(examples).iterrows()
        )
        parts = []
        if not moved.empty:
            parts.append(
                f"{int(moved['skus'].sum())} SKUs paired with the only location where the other "
                f"systems hold them ({where})"
            )
        if summed:
            parts.append(
                f"{summed} SKUs the other systems hold at several locations compared at SKU "
                f'level against each other system\'s sum over its locations ("{ALL_LOCATIONS}")'
            )
        text = f"{system} names no location in its export: " + "; ".join(parts)
        notes.append(text)
    return notes
