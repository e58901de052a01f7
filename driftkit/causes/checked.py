"""Which side of an orphan drift episode its own roll-forward checked (the fallback's blame).

:func:`unchecked` tells, per episode, whether a system's roll-forward residuals cover every
day on which the change behind the episode could have happened.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftkit.causes.context import _Context
from driftkit.drift.align import Grid
from driftkit.drift.codes import key_positions
from driftkit.drift.pairs import COUNTERPART, SLACK
from driftkit.schema import SYSTEM

#: The column :func:`keyed_episodes` adds: each episode's key position in the grid.
GRID_KEY = "grid_key"


def keyed_episodes(episodes: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """``episodes`` with :data:`GRID_KEY`, so the steps that read the grid look keys up once.

    Returns
    -------
    pandas.DataFrame
        The episodes' columns and ``grid_key`` (int64, −1 where the key is not on the grid).
    """
    return episodes.assign(**{GRID_KEY: key_positions(episodes, grid.keys)})


def grid_keys(episodes: pd.DataFrame, grid: Grid) -> np.ndarray:
    """Each episode's key position in ``grid`` (from :data:`GRID_KEY` when it has one).

    Returns
    -------
    numpy.ndarray
        int64, one per episode.
    """
    if GRID_KEY in episodes.columns:
        return episodes[GRID_KEY].to_numpy(dtype=np.int64)
    return key_positions(episodes, grid.keys)


def unchecked(episodes: pd.DataFrame, side: str, ctx: _Context) -> np.ndarray:
    """Whether the ``side`` system's own roll-forward left the start of each episode unchecked.

    The change behind an episode happened after the last day the pair agreed (both present,
    within tolerance; before the window when there is none) and by its first day.  A fed
    system with a residual row on every one of those days was checked and found clean (an
    unexplained residual would be a finding); one with a day missing (its snapshot absent
    that day or the day before, e.g. a 3PL export skipped on Sundays; the window's first
    day) or without an event feed was not.  The episode fallback blames the unchecked side
    when exactly one side is.

    Returns
    -------
    numpy.ndarray
        bool, one per episode.
    """
    fed = episodes[side].isin(ctx.fed_systems).to_numpy()
    if not fed.any():  # no roll-forward checks an unfed system: every start is unchecked
        return np.ones(len(episodes), dtype=bool)
    grid, tol = ctx.grid, ctx.config.tolerance + SLACK
    index = pd.Index(grid.systems)
    key = grid_keys(episodes, grid)
    start = grid.days.get_indexer(pd.DatetimeIndex(episodes["start"]))
    a = grid.values[index.get_indexer(pd.Index(episodes[SYSTEM])), key]  # [episode, day]
    b = grid.values[index.get_indexer(pd.Index(episodes[COUNTERPART])), key]
    days = np.arange(grid.values.shape[2])
    before = days[None, :] < start[:, None]
    agreed = np.where(before & (np.abs(a - b) <= tol), days[None, :], -1).max(axis=1)
    own = grid.values[index.get_indexer(pd.Index(episodes[side])), key]
    seen = _residual_days(ctx, episodes[side], key, own.shape)
    span = (days[None, :] > agreed[:, None]) & (days[None, :] <= start[:, None])
    return ~((seen | ~span).all(axis=1) & fed)


def _residual_days(
    ctx: _Context, systems: pd.Series, key: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """``[episode, day]``: the episode's system has a roll-forward residual row that day."""
    seen = ctx.residual_days
    system = pd.Index(ctx.grid.systems).get_indexer(pd.Index(systems.astype(str)))
    out = seen[system, key]
    out[system < 0] = False
    return out.reshape(shape)
