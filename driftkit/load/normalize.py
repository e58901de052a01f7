"""Vectorized normalization of raw export values (DESIGN §4).

Every function takes a :class:`pandas.Series` and returns new Series; inputs are never
mutated and no function loops over rows in Python.  The loaders, the simulator and the
cause-matching step all go through these functions, so one SKU or reference is spelled
the same way everywhere.

Rules
-----
SKUs
    Upper-cased (``[sku] upper``), the ``[sku] remove`` characters dropped, then Excel
    protection stripped from both ends (leading ``=``, ``'`` and ``"``, trailing ``"``,
    i.e. ``'8720...`` and ``="0123"``) together with surrounding whitespace
    (``[sku] strip``).  SKUs are never parsed as numbers: ``00123`` keeps its zeros.
    Empty results are NaN.
References
    A reference with digits is reduced to its numeric core: every ASCII digit in it,
    concatenated, leading zeros dropped (``PO-000123``, ``po 123``, ``PO#123``, ``123``
    all become ``123``; ``#1001``, ``SO-001001`` become ``1001``; ``000`` becomes ``0``).
    A reference without digits becomes its letters upper-cased with everything else
    dropped (``ret-abc`` → ``RETABC``).  Empty → NaN.
"""

from __future__ import annotations

import re
from functools import partial

import numpy as np
import pandas as pd

from driftkit.config import SkuRules
from driftkit.load.distinct import distinct_texts, parse_columns, spread
from driftkit.load.timestamps import UNPARSEABLE_TIME as UNPARSEABLE_TIME
from driftkit.load.timestamps import parse_timestamps as parse_timestamps
from driftkit.load.uniform import digits_only, plain_integers
from driftkit.load.values import screen_quantities

EMPTY_QUANTITY = "empty quantity = unknown (untracked), not 0"
NOT_STOCKED = "not stocked at this location"
SENTINEL = "always-in-stock sentinel"
NOT_A_QUANTITY = "not a quantity"

_WHITESPACE = " \t\r\n\x0b\x0c\xa0\u2007\u202f\u3000\ufeff"
_EACH_UNITS = "ea|each|eaches|pc|pcs|piece|pieces|unit|units|u"
_QUANTITY = re.compile(
    r"^(?P<open>\()?\s*(?P<sign1>[+-])?\s*[$€£]?\s*(?P<sign2>[+-])?\s*"
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)\s*(?P<close>\))?"
    r"\s*(?P<unit>[a-z]+\.?)?$"
)


def _as_text(values: pd.Series) -> pd.Series:
    """``values`` as pandas ``str`` dtype (NaN stays NaN), without touching the input."""
    return values.astype("str")


def normalize_skus(values: pd.Series, rules: SkuRules) -> pd.Series:
    """Normalize raw SKUs so that the same item is spelled the same in every system.

    Parameters
    ----------
    values
        Raw SKUs as exported (any dtype; never parsed as numbers).
    rules
        The client's ``[sku]`` rules: ``strip``, ``upper`` and ``remove`` characters.

    Returns
    -------
    pandas.Series
        ``str`` dtype, same index; NaN where the SKU is empty after normalization.
    """
    codes, text = distinct_texts(_as_text(values))
    return spread(_normalize_distinct_skus(text, rules), codes, values.index)


def _normalize_distinct_skus(text: pd.Series, rules: SkuRules) -> pd.Series:
    if rules.upper:
        text = text.str.upper()
    if rules.remove:
        text = text.str.replace(f"[{re.escape(rules.remove)}]", "", regex=True)
    space = _WHITESPACE if rules.strip else ""
    text = text.str.lstrip(space + "='\"").str.rstrip(space + '"')
    return text.where(text.str.len() > 0)


def apply_aliases(skus: pd.Series, system: str, aliases: pd.DataFrame) -> pd.Series:
    """Replace normalized SKUs by their canonical SKU from the alias table.

    Parameters
    ----------
    skus
        Normalized SKUs of one system.
    system
        The system id; alias rows whose ``system`` is blank or ``*`` apply to every system,
        rows for ``system`` itself take precedence.
    aliases
        Columns ``system, raw_sku, sku``; ``raw_sku`` and ``sku`` already normalized.

    Returns
    -------
    pandas.Series
        Same index and dtype as ``skus``; SKUs without an alias unchanged.
    """
    if aliases.empty:
        return skus.copy()
    scope = aliases["system"].fillna("").astype("str").str.strip()
    wildcard = aliases[scope.isin(["", "*"])]
    own = aliases[scope == system]
    table = pd.concat([wildcard, own]).drop_duplicates("raw_sku", keep="last")
    mapping = pd.Series(table["sku"].to_numpy(), index=table["raw_sku"].to_numpy())
    mapped = skus.map(mapping)
    return mapped.where(mapped.notna(), skus).astype(skus.dtype)


def normalize_references(values: pd.Series) -> pd.Series:
    """Canonical business references: the numeric core, or upper-cased letters.

    See the module docstring for the rule (``PO-000123``, ``po 123``, ``123`` → ``123``).

    Returns
    -------
    pandas.Series
        ``str`` dtype, same index; NaN for empty references.
    """
    codes, distinct = distinct_texts(_as_text(values))
    return spread(_normalize_distinct_references(distinct), codes, values.index)


def _normalize_distinct_references(cells: pd.Series) -> pd.Series:
    text = cells.str.strip()
    digits = digits_only(text)
    if digits is None:
        digits = text.str.replace(r"[^0-9]", "", regex=True)
    core = digits.str.lstrip("0")
    core = core.where(core.str.len() > 0, "0").where(digits.str.len() > 0)
    wordy = core.isna()  # letters only where there is no digit (one regex pass on fewer cells)
    letters = text[wordy].str.upper().str.replace(r"[\W_]", "", regex=True)
    out = core.where(~wordy, letters.reindex(cells.index))
    return out.where(out.str.len() > 0)


def parse_quantities(
    values: pd.Series, *, sentinels: tuple[float, ...] | list[float] = ()
) -> tuple[pd.Series, pd.Series]:
    """Parse exported quantities (or money) into floats; unknown stays NaN, never 0.

    Handles empty cells, ``not stocked``, ``1,234``, ``12.00 ea``, ``70.0``, ``$0``,
    ``(5)`` and negatives (kept).  Values in ``sentinels`` (``999999``-style "always in
    stock") become unknown.

    Parameters
    ----------
    values
        Raw cells (strings, or an already numeric Series).
    sentinels
        Values that mean "always in stock" rather than a count.

    Returns
    -------
    tuple of pandas.Series
        ``(quantities, reasons)``: float64 values (NaN = unknown) and, for every unknown
        value, why (``EMPTY_QUANTITY``, ``NOT_STOCKED``, a ``SENTINEL`` text or a
        ``NOT_A_QUANTITY`` text); NaN reasons where a number was read.
    """
    if _is_number(values):
        number = values.astype("float64")
        reasons = pd.Series(pd.NA, index=values.index, dtype="str")
        reasons[number.isna()] = EMPTY_QUANTITY
        return _apply_sentinels(number, reasons, sentinels)
    plain = plain_integers(values, EMPTY_QUANTITY)
    if plain is not None:  # every filled cell a plain integer: one Arrow cast
        return _apply_sentinels(*plain, sentinels)
    codes, distinct = distinct_texts(_as_text(values))
    number, reasons = _parse_distinct_quantities(distinct)
    number, reasons = spread(number, codes, values.index), spread(reasons, codes, values.index)
    return _apply_sentinels(number, reasons, sentinels)


def parse_quantity_columns(
    frame: pd.DataFrame, *, sentinels: tuple[float, ...] | list[float] = ()
) -> dict[str, tuple[pd.Series, pd.Series]]:
    """:func:`parse_quantities` of every column of ``frame``, its text columns in one call.

    Each cell is parsed on its own, so stacking a file's text quantity columns and parsing
    their distinct cells once gives each column what parsing it alone gives, for one fixed
    cost instead of one per column (numeric columns are parsed one by one).

    Returns
    -------
    dict
        Column name → ``(quantities, reasons)`` as :func:`parse_quantities` returns them,
        on ``frame``'s index, in ``frame``'s column order.
    """
    return parse_columns(
        frame, lambda col: not _is_number(col), partial(parse_quantities, sentinels=sentinels)
    )


def _is_number(values: pd.Series) -> bool:
    """Whether :func:`parse_quantities` reads ``values`` as numbers rather than text."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _parse_distinct_quantities(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_quantities` of ``str`` cells, before the sentinels."""
    text = cells.str.strip().str.lower()
    number = pd.to_numeric(text.where(~text.str.contains(r"[a-z]", na=False)), errors="coerce")
    number = number.where(np.isfinite(number))
    slow = number.isna() & text.notna() & (text.str.len() > 0) & (text != "not stocked")
    if slow.any():
        number = number.copy()
        parsed, bad = _parse_messy(text[slow])
        number[slow] = parsed
    reasons = pd.Series(pd.NA, index=cells.index, dtype="str")
    reasons[text.isna() | (text.str.len() == 0)] = EMPTY_QUANTITY
    reasons[text == "not stocked"] = NOT_STOCKED
    if slow.any():
        garbage = bad[bad.notna()]
        reasons[garbage.index] = garbage
    return screen_quantities(text, number.astype("float64"), reasons, label=NOT_A_QUANTITY)


def _parse_messy(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Regex parse of the cells the fast path could not read: units, currency, commas."""
    parts = text.str.extract(_QUANTITY)
    unit = parts["unit"].str.rstrip(".")
    unit_ok = unit.isna() | unit.str.fullmatch(_EACH_UNITS)
    brackets_ok = parts["open"].isna() == parts["close"].isna()
    ok = parts["num"].notna() & unit_ok & brackets_ok
    magnitude = pd.to_numeric(parts["num"].str.replace(",", "", regex=False), errors="coerce")
    negative = (parts["sign1"] == "-") ^ (parts["sign2"] == "-") ^ parts["open"].notna()
    number = magnitude.where(~negative, -magnitude).where(ok)
    bad_unit = parts["num"].notna() & ~unit_ok
    reason = pd.Series(NOT_A_QUANTITY + " (expected a number of units)", index=text.index)
    reason = reason.where(~bad_unit, NOT_A_QUANTITY + " (unit " + unit + " is not eaches)")
    return number.astype("float64"), reason.where(~ok).astype("str")


def _apply_sentinels(
    number: pd.Series, reasons: pd.Series, sentinels: tuple[float, ...] | list[float]
) -> tuple[pd.Series, pd.Series]:
    if not sentinels:
        return number, reasons
    hit = number.isin(list(sentinels))
    if not hit.any():
        return number, reasons
    text = SENTINEL + " " + number[hit].map("{:g}".format) + " (treated as unknown)"
    reasons = reasons.copy()
    reasons[hit] = text
    return number.where(~hit), reasons
