"""Screens for values a parser could read but should not trust (DESIGN §4, issue 16).

:func:`screen_quantities` runs after :func:`driftkit.load.normalize.parse_quantities` has
read the cells and turns into rejects (``not a quantity (…)``) what would otherwise pass or
vanish silently:

* digits other than ASCII ``0-9`` (``٣``, ``１２``): rejected, not guessed — re-export
  with ``0-9`` digits;
* more than one sign (``--5``, ``+-5``, ``-$-5``, ``(-5)``): ambiguous, rejected;
* magnitudes above :data:`MAX_MAGNITUDE` (``1e300``): not a plausible count or price;
* any non-empty cell that ended as unknown without a reason: rejected as unreadable.

:func:`within_years` bounds timestamps to :data:`FIRST_YEAR`–:data:`LAST_YEAR`, so
``9999-12-31`` or ``0001-01-01`` is a rejected row, never a traceback.
"""

from __future__ import annotations

import pandas as pd

#: Largest absolute quantity or amount accepted.
MAX_MAGNITUDE = 1e9
FIRST_YEAR, LAST_YEAR = 1900, 2200
_NON_ASCII_DIGIT = r"(?![0-9])\d"
_SIGNS = "[+\\-\u2212]"  # U+2212 written as itself: RE2 (pyarrow) has no \\u escape


def screen_quantities(
    text: pd.Series, number: pd.Series, reasons: pd.Series, *, label: str
) -> tuple[pd.Series, pd.Series]:
    """Reject quantities that are ambiguous, absurd or silently unknown.

    Parameters
    ----------
    text
        The cells as parsed (stripped, lower-cased strings; NaN = empty).
    number, reasons
        What the parser made of them: float64 values and reasons (NaN where read).
    label
        The reason prefix (``not a quantity``).

    Returns
    -------
    tuple of pandas.Series
        ``(number, reasons)``: the screened cells set to NaN with a ``label (…)`` reason.
    """
    filled = text.notna() & (text.str.len() > 0)
    checks = (
        (_non_ascii_digits(text), "digits other than 0-9"),
        (_sign_count(text) > 1, "more than one sign: ambiguous"),
        (number.abs() > MAX_MAGNITUDE, f"magnitude above {MAX_MAGNITUDE:g}"),
        (filled & number.isna() & reasons.isna(), "unreadable"),
    )
    number, reasons = number.copy(), reasons.copy()
    for mask, why in checks:
        hit = filled & mask & (reasons.isna() | number.notna())
        number[hit] = float("nan")
        reasons[hit] = f"{label} ({why})"
    return number, reasons


def _non_ascii_digits(text: pd.Series) -> pd.Series:
    """Cells holding a digit other than 0-9; the regex runs only on non-ASCII cells."""
    found = pd.Series(False, index=text.index)
    odd = ~text.str.isascii().fillna(True).astype(bool)
    if odd.any():
        found[odd] = text[odd].str.contains(_NON_ASCII_DIGIT, na=False)
    return found


def _sign_count(text: pd.Series) -> pd.Series:
    """Sign characters in each cell (an opening bracket counts as one)."""
    unsigned = text.str.replace(_SIGNS, "", regex=True)
    signs = (text.str.len() - unsigned.str.len()).fillna(0)
    return signs + text.str.startswith("(", na=False).astype("int64")


def within_years(stamps: pd.Series) -> pd.Series:
    """Whether each timestamp is empty or falls in :data:`FIRST_YEAR`–:data:`LAST_YEAR`.

    Parameters
    ----------
    stamps
        Naive or aware timestamps.

    Returns
    -------
    pandas.Series
        Boolean, aligned with ``stamps``; False for times outside the years.
    """
    years = stamps.dt.year
    return stamps.isna() | ((years >= FIRST_YEAR) & (years <= LAST_YEAR))
