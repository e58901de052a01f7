"""BigCommerce "Bulk Edit" product export (``bigcommerce_products``).

Rows come as ``Product``, ``  SKU`` and ``  Rule`` (two leading spaces).  ``Track Inventory``
on the product row decides where stock lives: ``by option`` → on its SKU rows (the product
row holds their sum and is not an item of its own), ``by product`` → on the product row,
``none`` → untracked.  ``Current Stock Level`` reduces when an order is placed, so it is the
*available* quantity.  Rule rows are price/weight rules, not stock.
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.load.headers import require_columns
from driftkit.load.read import RawTable

_COLUMNS = {
    "type": "Item Type",
    s.SKU: "Product Code/SKU",
    "track": "Track Inventory",
    s.AVAILABLE: "Current Stock Level",
}
_REASONS = {
    "rule": "BigCommerce rule row (price/weight rule of the SKU above), not stock",
    "sum": "product row of a 'by option' product: its stock is the sum of its SKU rows",
    "untracked": "inventory not tracked (Track Inventory = none)",
    "on_product": "SKU row of a 'by product' product: stock is kept on the product row",
}


def stage_products(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a BigCommerce bulk-edit export: one staged row per physical row.

    Returns
    -------
    tuple
        Staged frame (line, sku, available, reason, column, value) and the header map.
    """
    frame = raw.frame
    require_columns(
        list(frame.columns),
        _COLUMNS,
        source_file=raw.source_file,
        setting=f"[systems.{system.id}] (format = 'bigcommerce_products')",
    )
    kind = frame["Item Type"].str.strip().str.casefold()
    track = frame["Track Inventory"].str.strip().str.casefold()
    parent = track.where(kind == "product").ffill().fillna("")
    reason = pd.Series(pd.NA, index=frame.index, dtype="str")
    reason[kind == "rule"] = _REASONS["rule"]
    reason[(kind == "product") & (track == "by option")] = _REASONS["sum"]
    reason[(kind != "rule") & (parent == "none")] = _REASONS["untracked"]
    reason[(kind == "sku") & (parent == "by product")] = _REASONS["on_product"]
    staged = pd.DataFrame(
        {
            s.SKU: frame["Product Code/SKU"],
            s.AVAILABLE: frame["Current Stock Level"],
            s.LINE: raw.lines,
            s.REASON: reason,
            s.COLUMN: "Item Type",
            s.VALUE: frame["Item Type"],
        }
    )
    return staged, {s.SKU: "Product Code/SKU", s.AVAILABLE: "Current Stock Level"}
