"""Per-cell rules run once per distinct cell (DESIGN §4: vectorized loading).

An export repeats its SKUs, locations and quantities on thousands of rows.  A rule that reads
only its own cell gives the same result on the distinct cells as on every row, so the
loaders factorize a column once (:func:`distinct_texts`), apply the rule to the distinct
cells and take the results back to the rows (:func:`spread`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

Parsed = tuple[pd.Series, pd.Series]


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


def distinct_counts(parts: list[pd.Series], group: np.ndarray) -> np.ndarray:
    """The number of distinct non-null values in each part (``group``: each row's part).

    The parts are factorized together and the distinct (part, code) pairs counted, so no
    cell becomes a Python object.

    Returns
    -------
    numpy.ndarray
        One count per part, in ``parts`` order.
    """
    codes, distinct = pd.factorize(pd.concat(parts, ignore_index=True))
    known, width = codes >= 0, np.int64(len(distinct) + 1)
    pairs = np.sort(group[known] * width + codes[known], kind="stable")  # np.unique: 20x slower
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:] != pairs[:-1]
    return np.bincount(pairs[first] // width, minlength=len(parts))


def parse_columns(
    frame: pd.DataFrame, is_text: Callable[[pd.Series], bool], parse: Callable[[pd.Series], Parsed]
) -> dict[str, Parsed]:
    """``parse`` of every column of ``frame``, its text columns stacked into one call.

    ``parse`` reads each cell on its own, so the stacked text columns give each column what
    parsing it alone gives, for one fixed cost instead of one per column; the other columns
    are parsed one by one.

    Returns
    -------
    dict
        Column name → ``parse``'s ``(values, reasons)``, on ``frame``'s index, in
        ``frame``'s column order.
    """
    text = [col for col in frame.columns if is_text(frame[col])]
    parsed = {col: parse(frame[col]) for col in frame.columns if col not in text}
    if text:
        values, reasons = parse(pd.concat([frame[col] for col in text], ignore_index=True))
        for k, col in enumerate(text):
            rows = slice(k * len(frame), (k + 1) * len(frame))
            parsed[col] = (
                values.iloc[rows].set_axis(frame.index),
                reasons.iloc[rows].set_axis(frame.index),
            )
    return {col: parsed[col] for col in frame.columns}
