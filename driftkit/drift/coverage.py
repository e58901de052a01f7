"""Coverage: which systems shared compared cells, and the facts that say why one did not.

Per part (:func:`coverage_part`) every system's snapshot rows, rows with a known measure,
SKUs and keys (and how many of them another system also holds), compared cells (cells
where it and at least one other system are present) and the closest snapshot of another
system for the same key; the SKU names (a sample) and location names it holds.  Parts hold
disjoint SKUs, so counts add and gaps take the minimum (:func:`coverage_from_parts`).
:mod:`driftkit.drift.uncompared` turns the combined facts into the reason and the setting
that fixes it.  See ``docs/metrics.md`` §7.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftkit.config import ClientConfig
from driftkit.drift.align import Grid
from driftkit.drift.measures import measured_values
from driftkit.schema import AS_OF, LOCATION, SKU, SYSTEM, Measure

SAMPLE = 3  # SKU names kept per system for the reason's examples

COUNTS = ("rows", "known", "skus", "shared_skus", "keys", "shared_keys", "compared_cells")


@dataclass(frozen=True)
class Coverage:
    """Per-system comparison facts of one part (or of the whole client, combined).

    Attributes
    ----------
    systems
        Indexed by system: ``rows, known, skus, shared_skus, keys, shared_keys,
        compared_cells`` (counts) and ``gap_hours`` (closest snapshot of another system for
        the same key, ``inf`` when none).
    names
        ``system, kind, name``: the locations (``kind`` = ``location``) a system holds and
        up to :data:`SAMPLE` of its SKUs (``kind`` = ``sku``, the smallest names).
    """

    systems: pd.DataFrame
    names: pd.DataFrame


def coverage_part(snapshots: pd.DataFrame, grid: Grid, config: ClientConfig) -> Coverage:
    """The comparison facts of one part (its snapshots and its grid).

    Returns
    -------
    Coverage
        ``systems`` (``rows, known, skus, shared_skus, keys, shared_keys, compared_cells,
        gap_hours`` per system of the grid) and ``names`` (``system, kind, name``).
    """
    systems = list(grid.systems)
    _, values = measured_values(snapshots, Measure(config.measure))
    table = pd.DataFrame(index=pd.Index(systems, name=SYSTEM))
    table["rows"] = snapshots.groupby(SYSTEM).size()
    table["known"] = (
        pd.Series(~np.isnan(values), index=snapshots.index)
        .groupby(snapshots[SYSTEM].to_numpy())
        .sum()
    )
    for name, columns in (("skus", [SKU]), ("keys", [SKU, LOCATION])):
        held, shared = _holders(snapshots, columns)
        table[name], table[f"shared_{name}"] = held, shared
    table["compared_cells"] = _compared_cells(grid.values)
    table = table.fillna(0).astype(np.int64)
    table["gap_hours"] = [_gap_hours(snapshots, s) for s in systems]  # a handful of systems
    return Coverage(table, _names(snapshots))


def coverage_from_parts(parts: list[Coverage]) -> Coverage:
    """The client's coverage from its parts': counts added, the smallest gap, names merged."""
    tables = pd.concat([p.systems for p in parts])
    grouped = tables.groupby(level=0, sort=False)
    table = grouped[list(COUNTS)].sum().assign(gap_hours=grouped["gap_hours"].min())
    names = pd.concat([p.names for p in parts], ignore_index=True).drop_duplicates()
    names = names.sort_values(["system", "kind", "name"], kind="stable", ignore_index=True)
    rank = names.groupby(["system", "kind"], sort=False).cumcount()
    return Coverage(table, names[(names["kind"] == "location") | (rank < SAMPLE)])


def _holders(snapshots: pd.DataFrame, columns: list[str]) -> tuple[pd.Series, pd.Series]:
    """Per system: distinct ``columns`` values it holds, and of those how many another holds."""
    pairs = snapshots[[SYSTEM, *columns]].drop_duplicates()
    holders = pairs.groupby(columns, sort=False)[SYSTEM].transform("size")
    held = pairs.groupby(SYSTEM).size()
    shared = (holders >= 2).groupby(pairs[SYSTEM]).sum()
    return held, shared


def _compared_cells(values: np.ndarray) -> np.ndarray:
    """Per system: (key, day) cells where it and at least one other system are present."""
    present = ~np.isnan(values)
    together = present.sum(axis=0) >= 2
    return (present & together[None]).sum(axis=(1, 2))


def _gap_hours(snapshots: pd.DataFrame, system: str) -> float:
    """Hours from a snapshot of ``system`` to the nearest of another system, same key."""
    mine = snapshots[SYSTEM] == system
    if not mine.any() or mine.all():
        return float("inf")
    frame = snapshots[[SKU, LOCATION]].assign(t=snapshots[AS_OF].dt.as_unit("us").astype("int64"))
    left = frame[mine.to_numpy()].sort_values("t")
    right = frame[~mine.to_numpy()].rename(columns={"t": "other"}).sort_values("other")
    right = right.assign(t=right["other"])
    joined = pd.merge_asof(left, right, on="t", by=[SKU, LOCATION], direction="nearest")
    gaps = (joined["t"] - joined["other"]).abs()
    return float(gaps.min() / 3_600_000_000) if gaps.notna().any() else float("inf")


def _names(snapshots: pd.DataFrame) -> pd.DataFrame:
    """``system, kind, name``: every location of each system and its first SKU names."""
    locations = snapshots[[SYSTEM, LOCATION]].drop_duplicates()
    skus = snapshots[[SYSTEM, SKU]].drop_duplicates().sort_values([SYSTEM, SKU])
    skus = skus.groupby(SYSTEM, sort=False).head(SAMPLE)
    frames = [
        pd.DataFrame({"system": f[SYSTEM], "kind": kind, "name": f[column]})
        for f, kind, column in ((locations, "location", LOCATION), (skus, "sku", SKU))
    ]
    return pd.concat(frames, ignore_index=True).astype("str")
