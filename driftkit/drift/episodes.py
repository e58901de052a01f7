"""Drift episodes: maximal runs of consecutive days on which a system pair disagrees.

One row per run and pair (:mod:`driftkit.drift.pairs`), with its length, peak and mean
drift; found with one ``diff`` over the day axis and ``reduceat`` sums, no loop over keys.
Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.drift.align import Grid
from driftkit.drift.pairs import COUNTERPART, _Pair
from driftkit.schema import LOCATION, SKU, SYSTEM


def _runs(disagree: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True along the day axis: (key, first day, last day) per run."""
    padded = np.zeros((disagree.shape[0], disagree.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = disagree
    step = np.diff(padded, axis=1)
    key, start = np.nonzero(step == 1)
    _, stop = np.nonzero(step == -1)
    return key, start, stop - 1


def episodes(grid: Grid, pairs: list[_Pair], tolerance: float) -> pd.DataFrame:
    """Maximal runs of consecutive days on which a pair disagrees (|d| > tolerance).

    Returns
    -------
    pandas.DataFrame
        ``sku, location, system, counterpart, start, end, days, peak_abs_drift, mean_drift,
        open``; ``open`` is True when the run reaches the window's last day.
    """
    frames = [_pair_episodes(grid, pair, tolerance) for pair in pairs]
    if not frames:
        return _pair_episodes(grid, _Pair(0, 0), np.inf)
    return pd.concat(frames, ignore_index=True)


def _pair_episodes(grid: Grid, pair: _Pair, tolerance: float) -> pd.DataFrame:
    d = pair.drift(grid.values)
    key, start, end = _runs(np.abs(d) > tolerance)
    n_days = d.shape[1]
    flat = np.append(np.nan_to_num(d).ravel(), 0.0)
    bounds = np.column_stack((key * n_days + start, key * n_days + end + 1)).ravel()
    total = np.add.reduceat(flat, bounds)[::2] if len(bounds) else np.zeros(0)
    peak = np.maximum.reduceat(np.abs(flat), bounds)[::2] if len(bounds) else np.zeros(0)
    length = end - start + 1
    return pd.DataFrame(
        {
            SKU: grid.keys[SKU].to_numpy()[key],
            LOCATION: grid.keys[LOCATION].to_numpy()[key],
            SYSTEM: grid.systems[pair.system],
            COUNTERPART: grid.systems[pair.counterpart],
            "start": grid.days[start],
            "end": grid.days[end],
            "days": length.astype(np.int64),
            "peak_abs_drift": peak,
            "mean_drift": total / np.maximum(length, 1),
            "open": end == n_days - 1,
        }
    ).astype({SKU: "str", LOCATION: "str", SYSTEM: "str", COUNTERPART: "str"})
