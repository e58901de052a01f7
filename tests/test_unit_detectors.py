"""Evident pack sizes (driftkit.causes.unit_detectors): the sorted-row median against numpy's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from driftkit.causes.unit_detectors import HALF_EACH, evident_packs, row_medians


def _nanmedian(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        return np.nanmedian(values, axis=1)


def _old_evident_packs(mine: np.ndarray, other: np.ndarray, min_days: int = 2) -> np.ndarray:
    """evident_packs as it was, with ``np.nanmedian``."""
    both = ~np.isnan(mine) & ~np.isnan(other) & (mine != 0) & (other != 0)
    out = np.ones(mine.shape[0])
    for a, b in ((mine, other), (other, mine)):
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.round(_nanmedian(np.where(both, b / a, np.nan)))
        r = np.where(np.isnan(r), 1.0, r)
        fits = both & (np.abs(a * r[:, None] - b) <= HALF_EACH)
        steady = (fits.sum(axis=1) == both.sum(axis=1)) & (both.sum(axis=1) >= min_days)
        out = np.where((out == 1.0) & steady & (r >= 2), r, out)
    return out


def test_row_medians_by_hand() -> None:
    nan = np.nan
    values = np.array([[3.0, nan, 1.0, 2.0], [4.0, 1.0, nan, nan], [nan] * 4, [2.5, 2.5, 7.0, 0.5]])
    n = (~np.isnan(values)).sum(axis=1)
    got = row_medians(values, n)
    np.testing.assert_array_equal(got, [2.0, 2.5, nan, 2.5])


@pytest.mark.parametrize("days", [0, 1, 2, 7, 30], ids=lambda d: f"{d}days")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_row_medians_equal_nanmedian_bit_for_bit(days: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.choice([0.1, 1 / 3, 2.0, 2.5, 12.0, 6.0, 24.0, -1.5], size=(400, days))
    values[rng.random(values.shape) < 0.4] = np.nan
    n = (~np.isnan(values)).sum(axis=1)
    got, want = row_medians(values, n), _nanmedian(values)
    np.testing.assert_array_equal(got, want)  # NaN where a row has no value
    known = ~np.isnan(want)
    np.testing.assert_array_equal(got[known].view(np.int64), want[known].view(np.int64))


def test_evident_packs_by_hand() -> None:
    nan = np.nan
    mine = np.array([[2.0, 3.0, 1.0], [2.0, 3.0, 1.0], [24.0, nan, 12.0], [5.0, 0.0, nan]])
    other = np.array([[24.0, 36.0, 12.0], [24.0, 37.0, 12.0], [2.0, 1.0, 1.0], [10.0, 4.0, 1.0]])
    # row 0: ×12 every day; row 1: one day off; row 2: ÷12 on the two days both hold;
    # row 3: one day only (the zero and the NaN do not count)
    np.testing.assert_array_equal(evident_packs(mine, other), [12.0, 1.0, 12.0, 1.0])


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_evident_packs_equal_the_nanmedian_version(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mine = rng.integers(0, 6, size=(500, 10)).astype(float)
    pack = rng.choice([1, 2, 6, 12], size=(500, 1))
    other = mine * pack + rng.choice([0.0, 0.0, 0.0, 1.0, -0.5], size=mine.shape)
    mine[rng.random(mine.shape) < 0.2] = np.nan
    other[rng.random(other.shape) < 0.2] = np.nan
    for a, b in ((mine, other), (other, mine)):
        np.testing.assert_array_equal(evident_packs(a, b), _old_evident_packs(a, b))
