"""Magento 2 ``catalog_product`` export (``magento_products``).

Columns used: ``sku``, ``qty``, and when present ``store_view_code``, ``product_type``,
``manage_stock``, ``use_config_manage_stock``, ``is_in_stock``.  ``qty`` is the quantity of
the default source, which Magento 2.3+ (MSI) deducts when an order ships: *on_hand*.
Structural rows, rejected with their reason so lines still add up:

* store-view rows (``store_view_code`` set): translated attributes, no stock of their own;
* configurable, bundle and grouped products: their stock is on their simple children;
* ``manage_stock = 0`` with ``use_config_manage_stock = 0``: stock not managed (unknown).
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.load.headers import require_columns
from driftkit.load.read import RawTable

HEADERS = {s.SKU: "sku", s.ON_HAND: "qty"}
_REASONS = {
    "view": "store-view row (translated attributes): stock is on the row without store_view_code",
    "parent": "configurable/bundle/grouped product: its stock is on its simple children",
    "unmanaged": "stock not managed (manage_stock = 0, use_config_manage_stock = 0): unknown",
}


def stage_products(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a Magento 2 product export: one staged row per physical row.

    Returns
    -------
    tuple
        Staged frame (line, sku, on_hand, reason, column, value) and the canonical → export
        header map.
    """
    frame = raw.frame
    require_columns(
        list(frame.columns),
        HEADERS,
        source_file=raw.source_file,
        setting=f"[systems.{system.id}] (format = 'magento_products')",
    )
    empty = pd.Series("", index=frame.index, dtype="str")

    def col(name: str) -> pd.Series:
        return frame.get(name, empty).astype("str").str.strip().str.casefold()

    view = col("store_view_code") != ""
    parent = col("product_type").isin(["configurable", "bundle", "grouped"])
    unmanaged = (col("manage_stock") == "0") & (col("use_config_manage_stock") == "0")
    reason = pd.Series(pd.NA, index=frame.index, dtype="str")
    column = pd.Series(pd.NA, index=frame.index, dtype="str")
    for mask, key, header in (
        (unmanaged, "unmanaged", "manage_stock"),
        (parent, "parent", "product_type"),
        (view, "view", "store_view_code"),
    ):
        reason[mask] = _REASONS[key]
        column[mask] = header
    value = frame.get("store_view_code", empty).where(view, frame.get("product_type", empty))
    staged = pd.DataFrame(
        {
            s.SKU: frame["sku"],
            s.ON_HAND: frame["qty"],
            s.LINE: raw.lines,
            s.REASON: reason,
            s.COLUMN: column,
            s.VALUE: value.where(~unmanaged, "0"),
        }
    )
    return staged, dict(HEADERS)
