"""System pairs: which systems are compared, and the drift between them.

For every non-authority system *s*, the pair ``(s, authority)`` with ``d = v_s -
v_authority``; then every unordered pair of non-authority systems ``(s, c)`` with ``s < c``
alphabetically and ``d = v_s - v_c``.  A cell agrees when ``|d| <= tolerance + SLACK``.
Definitions, units and sign conventions: ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from driftkit.drift.align import Grid

COUNTERPART = "counterpart"

SLACK = 1e-9  # float slack on the tolerance test: |d| <= tolerance + SLACK agrees


@dataclass(frozen=True)
class _Pair:
    system: int
    counterpart: int

    def drift(self, values: np.ndarray) -> np.ndarray:
        """``v_system - v_counterpart`` per (key, day); NaN unless both are present."""
        return values[self.system] - values[self.counterpart]


def system_pairs(grid: Grid) -> list[_Pair]:
    """Every non-authority system vs the authority, then non-authority pairs s < c."""
    authority = grid.index(grid.authority)
    others = [s for s in grid.systems if s != grid.authority]
    pairs = [_Pair(grid.index(s), authority) for s in others]
    pairs += [_Pair(grid.index(a), grid.index(b)) for a, b in combinations(sorted(others), 2)]
    return pairs


VsAuthority = tuple[list[str], np.ndarray]  # what _vs_authority returns


def _vs_authority(grid: Grid) -> VsAuthority:
    """Non-authority system names and their drift ``[system, key, day]`` vs the authority."""
    authority = grid.index(grid.authority)
    others = [s for s in grid.systems if s != grid.authority]
    rows = [grid.index(s) for s in others]
    return others, grid.values[rows] - grid.values[authority][None, :, :]
