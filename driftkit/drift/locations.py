"""Systems without locations (issue 13, point 7): their SKUs placed where the others hold them.

A system whose export names no location gets the client's ``default_location`` on every
row when loaded.  When other systems name their locations, that system would share no key
with them and never be compared.  :func:`located_systems` finds, over the whole client
(pass 1), the systems with at least one row at another location; the others are *unlocated*.
:func:`place_unlocated` then moves each unlocated system's rows (snapshots and events) of a
SKU to the one location where the located systems hold that SKU, so the SKU is compared
there.  A SKU the located systems also hold at the default location is left as it is (it is
compared there already).  A SKU they hold at several other locations stays at the default
location and is counted (:func:`placement_notes` says so): comparing it with the others' sum over
their locations is not built yet.  Location maps remain the way to pair named locations.
"""

from __future__ import annotations

import pandas as pd

from driftkit.schema import LOCATION, SKU, SYSTEM

SEVERAL = ""  # ``location`` of the placement rows counting SKUs held at several locations


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
        ``snapshots``, ``events`` with the moved rows, and the placement counts: ``system,
        location, skus`` (SKUs moved to ``location``; ``location`` = ``""`` counts SKUs
        left in place because the located systems hold them at several locations).
    """
    if not unlocated or snapshots.empty:
        return snapshots, events, _counts(pd.DataFrame({SYSTEM: [], LOCATION: [], SKU: []}))
    mine = snapshots[SYSTEM].isin(unlocated)
    held = snapshots.loc[~mine, [SKU, LOCATION]].drop_duplicates()
    per_sku = held.groupby(SKU)[LOCATION].agg(["first", "size"])
    at_default = held.loc[held[LOCATION] == default_location, SKU].unique()
    per_sku = per_sku[~per_sku.index.isin(at_default)]  # already compared at the default
    target = per_sku.loc[per_sku["size"] == 1, "first"]
    several = per_sku.index[per_sku["size"] > 1]
    moved = _moved(snapshots, unlocated, default_location, target)
    placed = snapshots.loc[moved, [SYSTEM, SKU]].assign(
        **{LOCATION: snapshots.loc[moved, SKU].map(target)}
    )
    stayed = snapshots[mine & snapshots[SKU].isin(several)][[SYSTEM, SKU]].assign(
        **{LOCATION: SEVERAL}
    )
    counts = _counts(pd.concat([placed, stayed]))
    return (
        _move(snapshots, moved, target),
        _move(events, _moved(events, unlocated, default_location, target), target),
        counts,
    )


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
    moved.loc[rows, LOCATION] = table.loc[rows, SKU].map(target).astype("str")
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
    """One note per unlocated system: where its SKUs were compared and what stayed apart."""
    notes = []
    for system, rows in counts.groupby(SYSTEM, sort=True):  # a handful of systems
        moved = rows[rows[LOCATION] != SEVERAL].sort_values("skus", ascending=False)
        left = int(rows.loc[rows[LOCATION] == SEVERAL, "skus"].sum())
        where = ", ".join(
            f'"{r[LOCATION]}" ({r["skus"]})' for _, r in moved.head(examples).iterrows()
        )
        text = (
            f"{system} names no location in its export: {int(moved['skus'].sum())} SKUs "
            f"paired with the only location where the other systems hold them ({where or 'none'})"
        )
        if left:
            text += (
                f"; {left} SKUs the other systems hold at several locations were not compared "
                "with it (comparing with their sum over locations is not built yet; map a "
                "location with default_location or [systems.*.locations])"
            )
        notes.append(text)
    return notes
