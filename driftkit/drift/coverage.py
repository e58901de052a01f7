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
from driftkit.drift.codes import column_codes
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
        the same key, ``inf`` when none; measured only for systems without compared
        cells in the part, the only ones it can explain: a system compared in any part is
        compared).
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
    codes = _Codes.of(snapshots, systems)
    n = len(systems)
    table = pd.DataFrame(index=pd.Index(systems, name=SYSTEM))
    table["rows"] = np.bincount(codes.system, minlength=n)
    table["known"] = np.bincount(codes.system, weights=~np.isnan(values), minlength=n)
    sku_pairs = _distinct(codes.sku * n + codes.system)  # each (sku, system) once
    key_pairs = _distinct(codes.key * n + codes.system)
    for name, pair in (("skus", sku_pairs), ("keys", key_pairs)):
        table[name], table[f"shared_{name}"] = _holders(pair, n)
    table["compared_cells"] = _compared_cells(grid.values)
    table = table.fillna(0).astype(np.int64)
    silent = table["compared_cells"].to_numpy() == 0  # the gap only explains these
    table["gap_hours"] = [  # a handful of systems
        _gap_hours(snapshots, s) if quiet else float("inf")
        for s, quiet in zip(systems, silent, strict=True)
    ]
    return Coverage(table, _names(codes, systems, sku_pairs, key_pairs))


def coverage_from_parts(parts: list[Coverage]) -> Coverage:
    """The client's coverage from its parts': counts added, the smallest gap, names merged."""
    tables = pd.concat([p.systems for p in parts])
    grouped = tables.groupby(level=0, sort=False)
    table = grouped[list(COUNTS)].sum().assign(gap_hours=grouped["gap_hours"].min())
    names = pd.concat([p.names for p in parts], ignore_index=True).drop_duplicates()
    names = names.sort_values(["system", "kind", "name"], kind="stable", ignore_index=True)
    rank = names.groupby(["system", "kind"], sort=False).cumcount()
    return Coverage(table, names[(names["kind"] == "location") | (rank < SAMPLE)])


@dataclass(frozen=True)
class _Codes:
    """Integer codes of the snapshots' system (grid order), sku and (sku, location) key."""

    system: np.ndarray
    sku: np.ndarray
    key: np.ndarray
    skus: np.ndarray  # sku names by code
    locations: np.ndarray  # location names by code
    location: np.ndarray

    @classmethod
    def of(cls, snapshots: pd.DataFrame, systems: list[str]) -> _Codes:
        code, names = column_codes(snapshots[SYSTEM])
        system = pd.Index(systems).get_indexer(pd.Index(names))[code]
        sku, skus = column_codes(snapshots[SKU])
        location, locations = column_codes(snapshots[LOCATION])
        key = sku.astype(np.int64) * max(len(locations), 1) + location
        return cls(system.astype(np.int64), sku.astype(np.int64), key, skus, locations, location)


def _holders(pair: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per system: distinct items (SKUs or keys) it holds, and how many another also holds,
    from the distinct ``item · n + system`` pairs of the snapshots."""
    item_of, system_of = pair // n, pair % n
    holders = np.bincount(item_of)[item_of]
    held = np.bincount(system_of, minlength=n)
    shared = np.bincount(system_of, weights=holders >= 2, minlength=n).astype(np.int64)
    return held, shared


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of non-negative codes: a presence table when it is small
    (no sort of every row), else a sort."""
    size = int(values.max(initial=-1)) + 1
    if len(values) and values.min() >= 0 and size <= max(8 * len(values), 1 << 20):
        return np.flatnonzero(np.bincount(values, minlength=size))
    return np.unique(values)


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


def _names(
    codes: _Codes, systems: list[str], sku_pairs: np.ndarray, key_pairs: np.ndarray
) -> pd.DataFrame:
    """``system, kind, name``: every location of each system and its first SKU names, from
    the distinct ``sku · n + system`` and ``key · n + system`` pairs (not every row again)."""
    n = len(systems)
    key_location = (key_pairs // n) % max(len(codes.locations), 1)
    located = _distinct(key_location * n + key_pairs % n)
    rank = np.argsort(np.argsort(codes.skus.astype(str), kind="stable"), kind="stable")
    held = _distinct(sku_pairs % n * (len(codes.skus) + 1) + rank[sku_pairs // n])
    sku_system, sku_rank = held // (len(codes.skus) + 1), held % (len(codes.skus) + 1)
    first = np.r_[True, sku_system[1:] != sku_system[:-1]] if len(held) else held.astype(bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(held)), 0))
    keep = np.arange(len(held)) - start < SAMPLE
    by_rank = np.empty(len(rank), dtype=object)
    by_rank[rank] = codes.skus
    names = np.asarray(systems, dtype=object)
    return pd.DataFrame(
        {
            "system": np.r_[names[located % n], names[sku_system[keep]]],
            "kind": ["location"] * len(located) + ["sku"] * int(keep.sum()),
            "name": np.r_[codes.locations[located // n], by_rank[sku_rank[keep]]],
        }
    ).astype("str")
