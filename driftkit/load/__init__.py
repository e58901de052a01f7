"""Load: a client's raw exports → canonical tables and rejects (DESIGN §2–§4).

In: ``client.toml`` and the export files it names (CSV, Shopify, WooCommerce, BigCommerce,
Amazon, reference files).  Out: :class:`ClientData` (snapshots, events, counts, catalog,
rejects, per-file accounting) and, through :func:`ingest`, canonical Parquet bucketed by SKU.
``client`` loads a whole client and ``file`` one export file; one module per source family
(``shopify``, ``amazon`` ...) stages it, ``read``, ``rows`` and ``finish`` for what they share,
``reference`` for aliases, catalog and counts, ``normalize`` for SKU and location spelling,
``ingest`` for the Parquet; ``excel``, ``wide``, ``aggregate``, ``sentinels``, ``filename``,
``columns``, ``headers`` and ``sniff`` for shapes and rules every format shares.
"""

from driftkit.load.client import ClientData, load_client
from driftkit.load.ingest import ingest, is_fresh, read_processed

__all__ = ["ClientData", "ingest", "is_fresh", "load_client", "read_processed"]
