"""The per-seed impact check's interval and noise floor (driftkit.simulate.impactcheck)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from driftkit.simulate import impactcheck


def test_conformal_spread_takes_the_rank_of_n_plus_one() -> None:
    z = np.array([0.5, -1.0, 2.0, -3.0])
    # level 0.5: ⌈0.5 · 5⌉ = 3rd smallest |z| of 0.5, 1, 2, 3
    assert impactcheck.conformal_spread(z, level=0.5) == 2.0
    # level 0.95 over 4 seeds: ⌈0.95 · 5⌉ = 5 > 4, no finite interval guarantees it
    assert math.isinf(impactcheck.conformal_spread(z))
    # 20 seeds at 0.95: ⌈19.95⌉ = 20, the largest |z|
    assert impactcheck.conformal_spread(np.arange(1.0, 21.0)) == 20.0


def test_within_chance_of_a_perfect_estimate() -> None:
    # T ~ N(100, 10²); |100 − T| ≤ 0.1·T ⟺ 100/1.1 ≤ T ≤ 100/0.9: Φ(10/9) − Φ(−10/11)
    assert impactcheck.within_chance(100.0, 10.0) == pytest.approx(0.6850886666540458)
    assert impactcheck.within_chance(100.0, 0.0) == 1.0


def test_rate_variance_adds_each_keys_relative_sampling_error() -> None:
    held = pd.DataFrame({"sku": ["A", "B"], "location": "main"})
    demand = pd.DataFrame(
        {
            "sku": ["B", "A"],
            "location": "main",
            "sellable_days": [5, 10],
            "demand_rate": [0.0, 2.0],
            "demand_sd": [0.0, 2.0],
        }
    )
    # A: lost 5, sd² ÷ (n·rate²) = 4 ÷ (10·4) = 0.1 → 25 × 0.1 = 2.5; B: rate 0 → 0
    lost = pd.Series([5.0, 3.0])
    assert impactcheck.rate_variance(held, demand, lost) == pytest.approx(2.5)
