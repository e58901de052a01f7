"""Unit mismatches on the grid (driftkit.causes.value_detectors) against the computation they
replaced: every other system judged on every key, a pack searched on every key."""

from __future__ import annotations

import numpy as np
import pytest

from driftkit.causes.unit_detectors import evident_packs
from driftkit.causes.value_detectors import _odd_units, _packs, _ratio_cells

TOL = 0.5


def _old_odd_units(
    values: np.ndarray, s: int, auth: int | None, pack: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """_odd_units as it was: each other system compared on every key, then masked."""
    pack2 = pack[0]
    verdict = np.ones(values.shape[1], dtype=bool)
    evidence = np.zeros(values.shape[1:], dtype=bool)
    seen = np.zeros(values.shape[1], dtype=bool)
    others = [o for o in range(values.shape[0]) if o != s and o != auth]
    for o in ([auth] if auth is not None else []) + others:
        if auth is not None and o != auth:
            use = ~(~np.isnan(values[auth])).any(axis=1)
        else:
            use = np.ones(values.shape[1], dtype=bool)
        both, odd, _ = _ratio_cells(values[s], values[o], pack2, tol)
        n_both, n_odd = both.sum(axis=1), odd.sum(axis=1)
        present = use & (n_both > 0)
        verdict &= ~present | (n_odd >= np.maximum(2, 0.5 * n_both))
        evidence |= odd & present[:, None]
        seen |= present
    return verdict & seen, evidence


def _grid(seed: int, keys: int = 300, days: int = 8) -> np.ndarray:
    """Four systems' values; the authority (0) lacks some keys, system 2 is in packs on some."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 30, size=(keys, days)).astype(float)
    values = np.stack([base.copy() for _ in range(4)])
    values[0, rng.random(keys) < 0.2] = np.nan  # keys the authority does not hold
    packed = rng.random(keys) < 0.3
    values[2, packed] = np.round(values[2, packed] / 6.0, 1)
    values[3] += rng.choice([0.0, 0.0, 1.0, 0.3], size=(keys, days))
    values[rng.random(values.shape) < 0.15] = np.nan
    return values


def test_odd_units_by_hand() -> None:
    nan = np.nan
    # key 0: system 1 shows the authority's ÷ 6 on both days; key 1: only one such day;
    # key 2: the authority lacks it, and system 1 is ÷ 6 of system 2 on both days
    values = np.array(
        [
            [[12.0, 24.0], [12.0, 24.0], [nan, nan]],
            [[2.0, 4.0], [2.0, 24.0], [3.0, 1.0]],
            [[12.0, 24.0], [12.0, 24.0], [18.0, 6.0]],
        ]
    )
    pack = np.full((1, 3, 1), 6.0)
    verdict, cells = _odd_units(values, 1, 0, pack, TOL)
    np.testing.assert_array_equal(verdict, [True, False, True])
    np.testing.assert_array_equal(cells, [[True, True], [True, False], [True, True]])


@pytest.mark.parametrize("auth", [0, None], ids=["authority", "no-authority"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_odd_units_equal_the_every_key_version(seed: int, auth: int | None) -> None:
    values = _grid(seed)
    pack = np.random.default_rng(seed).choice([1.0, 6.0], size=(1, values.shape[1], 1))
    for s in range(1, values.shape[0]):
        got, want = (
            _odd_units(values, s, auth, pack, TOL),
            _old_odd_units(values, s, auth, pack, TOL),
        )
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0], ids=["all-known", "half", "none-known"])
def test_packs_equal_evident_packs_where_the_catalog_has_none(share: float) -> None:
    values = _grid(7)
    ref = np.stack([values[0]] + [values[0]] * 3)
    rng = np.random.default_rng(7)
    known = np.where(rng.random(values.shape[1]) < share, 1.0, 12.0)
    packs = _packs(values, ref, known, 0)
    np.testing.assert_array_equal(packs[0], known)  # the authority keeps the catalog's
    for s in range(1, values.shape[0]):
        want = np.where(known > 1, known, evident_packs(values[s], ref[s]))
        np.testing.assert_array_equal(packs[s], want)
