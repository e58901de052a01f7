"""WooCommerce product CSV export (``woocommerce_products``).

``Stock`` is empty when stock is not managed: unknown, never 0 (such rows are rejected with
that reason).  WooCommerce reduces ``Stock`` when an order is placed, so it is the
*available* quantity.  A variation without its own SKU is keyed on its parent and attribute
values (``PARENT:BLACK/M``).  Headers must be the exporter's English ones.
"""

from __future__ import annotations

import pandas as pd

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.load.headers import require_columns
from driftkit.load.read import RawTable
from driftkit.load.shopify import variant_key


def stage_products(raw: RawTable, system: SystemConfig) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a WooCommerce product export.

    Returns
    -------
    tuple
        Staged frame (line, sku, available) and the canonical → export header map.
    """
    frame = raw.frame
    require_columns(
        list(frame.columns),
        {s.SKU: "SKU", s.AVAILABLE: "Stock", "type": "Type"},
        source_file=raw.source_file,
        setting=f"[systems.{system.id}] (format = 'woocommerce_products')",
    )
    folded = {c.casefold(): c for c in frame.columns}
    empty = pd.Series("", index=frame.index, dtype="str")
    attributes = [frame.get(folded.get(f"attribute {i} value(s)", ""), empty) for i in (1, 2, 3)]
    variation = frame["Type"].str.contains("variation", case=False, na=False)
    parent = frame.get(folded.get("parent", ""), empty).where(variation, "")
    sku = variant_key(frame["SKU"], parent, attributes)
    staged = pd.DataFrame({s.SKU: sku, s.AVAILABLE: frame["Stock"], s.LINE: raw.lines})
    return staged, {s.SKU: "SKU", s.AVAILABLE: "Stock"}
