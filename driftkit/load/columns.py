"""Column maps on named formats: ``[systems.X.columns]`` overrides a format's fixed headers.

Every named format reads fixed export headers (Amazon's ``quantity``, WooCommerce's
``Stock`` …).  A column map on such a system renames the user's header to the one the
format reads, so a renamed or translated export loads with the format's rules.  A map
entry for a column the format does not read is an error, never silently ignored.
"""

from __future__ import annotations

import dataclasses

from driftkit import schema as s
from driftkit.config import SystemConfig
from driftkit.errors import InputError
from driftkit.load import amazon_listings, magento
from driftkit.load.headers import require_columns
from driftkit.load.read import RawTable

FORMAT_HEADERS: dict[str, dict[str, str]] = {
    "shopify_inventory": {
        s.SKU: "SKU",
        s.LOCATION: "Location",
        s.ON_HAND: "On hand",
        s.AVAILABLE: "Available",
        s.COMMITTED: "Committed",
        "unavailable": "Unavailable",
    },
    "shopify_products": {s.SKU: "Variant SKU", s.AVAILABLE: "Variant Inventory Qty"},
    "amazon_inventory": {s.SKU: "sku", s.AVAILABLE: "quantity"},
    "amazon_fba_inventory": {
        s.SKU: "sku",
        s.ON_HAND: "afn-warehouse-quantity",
        s.AVAILABLE: "afn-fulfillable-quantity",
        s.COMMITTED: "afn-reserved-quantity",
    },
    "amazon_listings": amazon_listings.HEADERS,
    "bigcommerce_products": {s.SKU: "Product Code/SKU", s.AVAILABLE: "Current Stock Level"},
    "woocommerce_products": {s.SKU: "SKU", s.AVAILABLE: "Stock"},
    "magento_products": magento.HEADERS,
}


def override_headers(raw: RawTable, system: SystemConfig) -> RawTable:
    """``raw`` with the user's mapped headers renamed to the ones ``system.format`` reads.

    A header the format reads that is replaced by a mapped one is renamed
    ``'<header> (replaced)'`` so it is not read.

    Raises
    ------
    InputError
        A mapped canonical column the format does not read, or a mapped header not in
        the file (with the closest headers).
    """
    if not system.columns:
        return raw
    known = FORMAT_HEADERS[system.format]
    setting = f"[systems.{system.id}.columns]"
    unknown = sorted(set(system.columns) - set(known))
    if unknown:
        raise InputError(
            f"{raw.source_file}: {setting} maps {unknown}, which format {system.format!r} "
            f"does not read; it reads {sorted(known)}. Remove those lines, or use "
            "format = 'csv' to map any column"
        )
    found = list(raw.frame.columns)
    require_columns(found, dict(system.columns), source_file=raw.source_file, setting=setting)
    renames: dict[str, str] = {}
    for canon, head in system.columns.items():
        target = known[canon]
        if head != target:
            renames[head] = target
            if target in found and target not in system.columns.values():
                renames[target] = f"{target} (replaced)"
    return dataclasses.replace(raw, frame=raw.frame.rename(columns=renames))
