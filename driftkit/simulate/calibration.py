"""Is a finding's confidence the probability that it is right?  The reliability table.

:func:`reliability` scores every finding against the simulator's ground truth (right when
its (system, sku, location, cause) was injected) and groups them by cause and confidence
bin: the share right in a bin is what its confidence should say.  ``docs/causes.md``
publishes the table measured by ``python -m driftkit.simulate.score``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BIN = 0.05
ON = ["system", "sku", "location", "cause"]


def reliability(findings: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Findings and right findings per cause and confidence bin (0.05 wide, floored).

    Returns
    -------
    pandas.DataFrame
        ``cause, confidence, found, right`` (``confidence`` = the bin's lower edge).
    """
    true = truth[ON].drop_duplicates().assign(right=True)
    scored = findings[[*ON, "confidence"]].merge(true, on=ON, how="left")
    scored["right"] = scored["right"].fillna(False).astype(bool)
    bins = np.floor(scored["confidence"].astype(float) / BIN + 1e-9) * BIN
    scored["confidence"] = bins.round(2)
    table = scored.groupby(["cause", "confidence"], as_index=False).agg(
        found=("right", "size"), right=("right", "sum")
    )
    return table.astype({"found": np.int64, "right": np.int64})


def reliability_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Pool :func:`reliability` tables and add ``reliability`` = right ÷ found.

    Returns
    -------
    pandas.DataFrame
        ``cause, confidence, found, right, reliability``.
    """
    if not parts:
        return pd.DataFrame(columns=["cause", "confidence", "found", "right", "reliability"])
    pooled = pd.concat(parts).groupby(["cause", "confidence"], as_index=False)[["found", "right"]]
    table = pooled.sum()
    return table.assign(reliability=table["right"] / table["found"])
