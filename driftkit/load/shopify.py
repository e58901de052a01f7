"""Shopify exports: ``shopify_inventory`` (three header generations) and ``shopify_products``.

Inventory generations (see ../shared/realdata/format_specs/shopify.md):

A. one column per location, header = location name, value = Available;
B. ``Location,Incoming,Unavailable,Committed,Available,On hand``;
C. 2024+: ``Location,Bin name,… (not editable),On hand (current),On hand (new)``; bins of a
   location are summed (not a duplicate); ``On hand (new)`` is import-only and ignored.

A variant without a SKU is keyed on its handle and option values (``HANDLE:RED/L``, or the
handle alone for ``Default Title``), identically in both exports, so the two agree.
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.load.finish import BIN
from driftkit.load.headers import require_columns
from driftkit.load.read import RawTable
from driftkit.load.rows import CELL_HEADER

_SUFFIXES = (" (not editable)", " (current)")
_INVENTORY = {
    "Location": s.LOCATION,
    "Bin name": BIN,
    "Unavailable": "unavailable",
    "Committed": s.COMMITTED,
    "Available": s.AVAILABLE,
    "On hand": s.ON_HAND,
}
_NOT_LOCATIONS = {
    "handle",
    "title",
    "option1 name",
    "option1 value",
    "option2 name",
    "option2 value",
    "option3 name",
    "option3 value",
    "sku",
    "hs code",
    "coo",
    "barcode",
    "incoming",
    "on hand (new)",
}
_PRODUCTS = {
    "handle": ("Handle", "URL handle"),
    "sku": ("Variant SKU", "SKU"),
    "qty": ("Variant Inventory Qty", "Inventory quantity"),
    "tracker": ("Variant Inventory Tracker", "Inventory tracker"),
    "price": ("Variant Price", "Price"),
    "option1": ("Option1 Value", "Option1 value"),
    "option2": ("Option2 Value", "Option2 value"),
    "option3": ("Option3 Value", "Option3 value"),
}


def variant_key(sku: pd.Series, handle: pd.Series, options: list[pd.Series]) -> pd.Series:
    """The SKU, or for an empty SKU ``HANDLE:OPT1/OPT2/OPT3`` (handle alone for Default Title).

    Returns
    -------
    pandas.Series
        Raw keys (normalized later like any SKU); NaN when SKU and handle are both empty.
    """
    code = sku.astype("str").str.strip()
    keyed = code.str.len() > 0
    if keyed.all():  # every row has its SKU: no fallback key is needed
        return code
    clean = [o.astype("str").str.strip().fillna("") for o in options]
    clean = [o.where(o.str.casefold() != "default title", "") for o in clean]
    joined = clean[0]
    for option in clean[1:]:
        joined = joined + "/" + option
    joined = joined.str.strip("/").str.replace(r"/{2,}", "/", regex=True)
    base = handle.astype("str").str.strip()
    fallback = base.where(joined.str.len() == 0, base + ":" + joined)
    fallback = fallback.where(base.str.len() > 0)
    return code.where(keyed, fallback)


def _options(frame: pd.DataFrame) -> list[pd.Series]:
    empty = pd.Series("", index=frame.index, dtype="str")
    return [frame.get(f"Option{i} Value", empty) for i in (1, 2, 3)]


def _clean_header(name: str) -> str:
    for suffix in _SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def stage_inventory(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a Shopify inventory export of any header generation.

    Returns
    -------
    tuple
        Staged frame (line, sku, location, bin, on_hand, available, committed,
        unavailable as present) and the canonical → export header map.
    """
    frame = raw.frame
    require_columns(
        list(frame.columns),
        {s.SKU: "SKU", "handle": "Handle"},
        source_file=raw.source_file,
        setting=f"[systems.{system.id}] (format = 'shopify_inventory')",
    )
    key = variant_key(frame["SKU"], frame["Handle"], _options(frame))
    if "Location" not in frame.columns:
        return _stage_per_location(raw, key)
    headers = {
        _INVENTORY[_clean_header(c)]: c for c in frame.columns if _clean_header(c) in _INVENTORY
    }
    staged = pd.DataFrame({canon: frame[head] for canon, head in headers.items()})
    staged[s.SKU] = key
    headers[s.SKU] = "SKU"
    return staged.assign(**{s.LINE: raw.lines}), headers


def _stage_per_location(raw: RawTable, key: pd.Series) -> tuple[pd.DataFrame, dict[str, str]]:
    """Generation A: one Available column per location, melted to one row per cell."""
    frame = raw.frame
    locations = [c for c in frame.columns if c.strip().casefold() not in _NOT_LOCATIONS]
    parts = [
        pd.DataFrame(
            {
                s.SKU: key,
                s.LOCATION: loc,
                s.AVAILABLE: frame[loc],
                CELL_HEADER: loc,
                s.LINE: raw.lines,
            },
            index=frame.index,
        )
        for loc in locations
    ]
    staged = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({s.SKU: key, s.AVAILABLE: "", s.LINE: raw.lines})
    )
    return staged, {s.SKU: "SKU", s.AVAILABLE: CELL_HEADER}


def _pick(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    folded = {c.casefold(): c for c in frame.columns}
    return next((folded[n.casefold()] for n in names if n.casefold() in folded), None)


def stage_products(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a Shopify products export: one row per variant; ``Variant Inventory Qty``.

    ``Variant Inventory Qty`` is the available quantity (single-location stores only).
    Image-only continuation rows and untracked variants are structural rejects.

    Returns
    -------
    tuple
        Staged frame (line, sku, available, reason, column, value) and the header map.
    """
    frame = raw.frame
    cols = {key: _pick(frame, names) for key, names in _PRODUCTS.items()}
    needed = {k: names[0] for k, names in _PRODUCTS.items() if k in ("handle", "sku", "qty")}
    require_columns(
        list(frame.columns),
        {k: v for k, v in needed.items() if cols[k] is None},
        source_file=raw.source_file,
        setting=f"[systems.{system.id}] (format = 'shopify_products')",
    )
    empty = pd.Series("", index=frame.index, dtype="str")
    col = {k: (frame[c] if c else empty).astype("str").str.strip() for k, c in cols.items()}
    options = [col["option1"], col["option2"], col["option3"]]
    staged = pd.DataFrame(
        {
            s.SKU: variant_key(col["sku"], col["handle"], options),
            s.AVAILABLE: col["qty"],
            s.LINE: raw.lines,
        }
    )
    image_only = (
        (col["sku"] == "") & (col["qty"] == "") & (col["option1"] == "") & (col["price"] == "")
    )
    untracked = ~image_only & (col["tracker"] == "") & (cols["tracker"] is not None)
    staged[s.REASON] = pd.Series(pd.NA, index=frame.index, dtype="str")
    staged.loc[untracked, s.REASON] = "inventory not tracked (Variant Inventory Tracker is empty)"
    staged.loc[image_only, s.REASON] = (
        "image-only continuation row of its product (no variant data)"
    )
    staged[s.COLUMN] = (cols["tracker"] or "") if cols["tracker"] else pd.NA
    staged.loc[image_only, s.COLUMN] = cols["handle"]
    staged[s.VALUE] = col["tracker"].where(~image_only, col["handle"])
    headers = {
        s.SKU: cols["sku"] or "Variant SKU",
        s.AVAILABLE: cols["qty"] or "Variant Inventory Qty",
    }
    return staged, headers
