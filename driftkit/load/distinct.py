"""Per-cell rules run once per distinct cell (DESIGN §4: vectorized loading).

An export repeats its SKUs, locations and quantities on thousands of rows.  A rule that reads
only its own cell gives the same result on the distinct cells as on every row, so the
loaders factorize a column once (:func:`distinct_texts`), apply the rule to the distinct
cells and take the results back to the rows (:func:`spread`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def distinct_texts(text: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``(codes, distinct)``: each cell's position in ``distinct``, the distinct cells.

    ``text`` must be ``str`` dtype, so that equal cells are equal strings (an object
    column would merge ``1``, ``1.0`` and ``True``); NaN is one distinct cell.
    """
    codes, distinct = pd.factorize(text, use_na_sentinel=False)
    return codes, pd.Series(distinct, dtype="str")


def spread(per_distinct: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """The rows' values from :func:`distinct_texts`' codes, on ``index``."""
    return pd.Series(per_distinct.array.take(codes), index=index)
