"""One export file → its canonical rows, rejects and line accounting.

:func:`load_file` reads a file (:mod:`driftkit.load.read`), stages it with its format's
module (``shopify``, ``amazon``, ``bigcommerce``, ``woocommerce``, else ``tabular``),
finishes it (:mod:`driftkit.load.finish`; aliases, catalog and counts in
:mod:`driftkit.load.reference`) and returns the file's row of the ``files`` table
(:data:`FILES_COLUMNS`).  :func:`driftkit.load.client.load_client` runs it over every file
of a client.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from driftkit import schema as s
from driftkit.config import ClientConfig, SystemConfig, TableSource
from driftkit.errors import InputError
from driftkit.load import (
    amazon,
    amazon_listings,
    bigcommerce,
    excel,
    magento,
    shopify,
    tabular,
    wide,
    woocommerce,
)
from driftkit.load.columns import override_headers
from driftkit.load.distinct import distinct_counts
from driftkit.load.filename import parse_name
from driftkit.load.finish import finish_events, finish_snapshots
from driftkit.load.read import RawTable, read_table
from driftkit.load.reference import finish_aliases, finish_catalog, finish_counts, relative
from driftkit.load.rows import Context, Finished

log = logging.getLogger("driftkit.load.client")  # load_client's logger, as before

Stager = Callable[[RawTable, SystemConfig], tuple[pd.DataFrame, dict[str, str]]]
STAGERS: dict[str, Stager] = {
    "shopify_inventory": shopify.stage_inventory,
    "shopify_products": shopify.stage_products,
    "amazon_inventory": amazon.stage_inventory,
    "amazon_fba_inventory": amazon.stage_fba_inventory,
    "bigcommerce_products": bigcommerce.stage_products,
    "woocommerce_products": woocommerce.stage_products,
    "amazon_listings": amazon_listings.stage_listings,
    "magento_products": magento.stage_products,
}
AVAILABLE_ONLY = {
    "shopify_products": "Variant Inventory Qty",
    "amazon_inventory": "quantity",
    "bigcommerce_products": "Current Stock Level",
    "woocommerce_products": "Stock",
    "amazon_listings": "quantity",
}
FILES_COLUMNS = (
    "system",
    "table",
    "source_file",
    "format",
    "rows_read",
    "rows_accepted",
    "rows_rejected",
    "skus",
    "first_as_of",
    "last_as_of",
)
_TIME_OF = {"snapshots": s.AS_OF, "events": s.OCCURRED_AT, "counts": s.COUNTED_AT}
_UTC = pd.DatetimeTZDtype("us", "UTC")


@dataclass(frozen=True)
class Part:
    """What loading one file gave: its table name, finished rows and ``files`` row."""

    table: str
    finished: Finished
    file: dict[str, object]


def load_file(
    config: ClientConfig,
    label: str,
    table: str,
    path: Path,
    source: SystemConfig | TableSource | None,
    aliases: pd.DataFrame,
    pack_sizes: pd.Series,
) -> Part:
    """Read, stage and finish one file of ``config``; ``label`` is its system or table."""
    raw = read_file(config, label, table, path, source)
    system = source if isinstance(source, SystemConfig) else None
    ctx = Context(config, system, raw.source_file, aliases, pack_sizes)
    finished = finish_raw(raw, table, ctx, source, path)
    return Part(table, finished, file_row(label, table, format_of(system, table), raw, finished))


def read_file(
    config: ClientConfig,
    label: str,
    table: str,
    path: Path,
    source: SystemConfig | TableSource | None,
) -> RawTable:
    """Read one file of ``config`` as strings (:mod:`driftkit.load.read`, or a workbook)."""
    name = relative(path, config)
    log.info("reading %s (%s %s)", name, label, table)
    system = source if isinstance(source, SystemConfig) else None
    fmt = format_of(system, table)
    setting = f"[systems.{system.id}]" if system else f"[{table}]"
    if excel.is_workbook(path):
        return excel.read_workbook(path, name, system.sheet if system else None, setting)
    return read_table(
        path,
        source_file=name,
        encoding=system.encoding if system else None,
        delimiter=system.delimiter if system else None,
        setting=setting,
        parquet=fmt == "parquet",
        pad_short=fmt == "woocommerce_products",
    )


def format_of(system: SystemConfig | None, table: str) -> str:
    """The configured format of ``table`` (``csv`` for the client-wide tables)."""
    if system is None:
        return "csv"
    return system.events_format if table == "events" else system.format


def finish_raw(
    raw: RawTable,
    table: str,
    ctx: Context,
    source: SystemConfig | TableSource | None,
    path: Path,
) -> Finished:
    """Stage ``raw`` with its format's module and finish it (the careful, per-file path)."""
    if table == "aliases":
        return finish_aliases(raw, ctx.config)
    if table == "catalog" and isinstance(source, TableSource):
        return finish_catalog(raw, ctx, source)
    if table == "counts" and isinstance(source, TableSource):
        return finish_counts(raw, ctx, source)
    assert isinstance(source, SystemConfig)
    if table == "events":
        staged, headers = tabular.stage_events(raw, source)
        return finish_events(staged, with_headers(ctx, headers), raw.broken)
    as_of = file_as_of(path, source, ctx.config, raw.source_file)
    staged, headers = stage_snapshot_file(raw, source, as_of)
    finished = finish_snapshots(staged, with_headers(ctx, headers, as_of), raw.broken)
    if not len(raw.padded):
        return finished
    note = (
        f"{source.id}: {len(raw.padded):,} short row(s) of {raw.source_file} (only trailing "
        "fields missing) were padded with blanks; misaligned ones are rejected"
    )
    return dataclasses.replace(finished, notes=(*finished.notes, note))


def stage_snapshot_file(
    raw: RawTable, source: SystemConfig, as_of: pd.Timestamp | None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Stage a snapshot file with its format's module (``as_of``: the file's time, if any).

    Returns
    -------
    tuple
        The staged frame (line, sku, location, as_of, the measures, whichever exist) and
        the canonical → export header map.
    """
    if source.format in STAGERS:
        if as_of is None:
            raise InputError(
                f"{raw.source_file}: a {source.format} export has no snapshot time; set "
                f"`as_of` or `as_of_pattern` (+ `as_of_time`) in [systems.{source.id}]"
            )
        return STAGERS[source.format](override_headers(raw, source), source)
    if source.wide is not None:
        return wide.stage_wide(raw, source, has_as_of=as_of is not None)
    return tabular.stage_snapshots(raw, source, has_as_of=as_of is not None)


def with_headers(
    ctx: Context, headers: dict[str, str], as_of: pd.Timestamp | pd.Series | None = None
) -> Context:
    """``ctx`` with the file's header map and snapshot time (one, or one per staged row)."""
    return Context(
        ctx.config, ctx.system, ctx.source_file, ctx.aliases, ctx.pack_sizes, headers, as_of
    )


def file_as_of(
    path: Path, system: SystemConfig, config: ClientConfig, source_file: str
) -> pd.Timestamp | None:
    """Snapshot time of a whole file: ``as_of``, or the file name via ``as_of_pattern``."""
    if system.as_of is not None:
        return _localize(pd.Timestamp(system.as_of), config.timezone)
    if system.as_of_pattern is None:
        return None
    pattern = Path(system.as_of_pattern).name
    try:
        stamp = parse_name(path.name, pattern, system.as_of_time)
    except ValueError as exc:
        raise InputError(
            f"{source_file}: as_of_pattern {pattern!r} of [systems.{system.id}]: {exc}; "
            "use strftime codes, * and %s / %Q (epoch seconds / milliseconds)"
        ) from exc
    if stamp is None:
        raise InputError(
            f"{source_file}: the file name {path.name!r} does not match as_of_pattern "
            f"{pattern!r} of [systems.{system.id}]; rename the file or fix the pattern "
            "(* matches any text, %Q a millisecond epoch, e.g. 'wc-product-export-*-%Q.csv')"
        )
    return _localize(pd.Timestamp(stamp), config.timezone)


def _localize(stamp: pd.Timestamp, timezone: str) -> pd.Timestamp:
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC").as_unit("us")


def file_row(
    label: str, table: str, fmt: str, raw: RawTable, finished: Finished
) -> dict[str, object]:
    """The file's row of the ``files`` table (:data:`FILES_COLUMNS`)."""
    read = (raw.source_file, raw.rows_read)
    return _record(label, table, fmt, read, finished, _seen(finished.table, table))


def _seen(frame: pd.DataFrame, table: str) -> tuple[int, object, object]:
    """The file's SKUs, first and last time."""
    when = frame[_TIME_OF[table]] if table in _TIME_OF else pd.Series(dtype="datetime64[us, UTC]")
    skus = int(frame[s.SKU].nunique()) if s.SKU in frame else 0
    return (skus, when.min(), when.max()) if len(when) else (skus, pd.NaT, pd.NaT)


def _record(
    label: str,
    table: str,
    fmt: str,
    read: tuple[str, int],
    finished: Finished,
    seen: tuple[int, object, object],
) -> dict[str, object]:
    """The ``files`` row of a file: ``read`` its name and rows read, ``seen`` from :func:`_seen`."""
    return {
        "system": label,
        "table": table,
        "source_file": read[0],
        "format": fmt,
        "rows_read": read[1],
        "rows_accepted": finished.rows_accepted,
        "rows_rejected": finished.rows_rejected,
        "skus": seen[0],
        "first_as_of": seen[1],
        "last_as_of": seen[2],
    }


def file_rows(
    label: str, table: str, fmt: str, read: list[tuple[str, int]], finished: list[Finished]
) -> list[dict[str, object]]:
    """:func:`file_row` of every file of one system's ``table`` (snapshots or events) at once.

    ``read`` holds each file's name and rows read.  One groupby over the files' rows, not three
    pandas calls per file (a client with one export per day has hundreds of files).

    Returns
    -------
    list of dict
        One ``files`` row per file (:data:`FILES_COLUMNS`), in ``finished`` order, equal to
        what :func:`file_row` gives for each.
    """
    time, frames = _TIME_OF[table], [one.table for one in finished]
    typed = all(s.SKU in f and getattr(f.get(time), "dtype", "") == _UTC for f in frames)
    seen = _seen_together(frames, time) if typed and frames else [_seen(f, table) for f in frames]
    parts = zip(read, finished, seen, strict=True)
    return [_record(label, table, fmt, one, done, saw) for one, done, saw in parts]


def _seen_together(frames: list[pd.DataFrame], time: str) -> list[tuple[int, object, object]]:
    """:func:`_seen` of each frame, from one groupby over their rows."""
    files = pd.RangeIndex(len(frames))
    per_file = np.repeat(files, [len(f) for f in frames])
    naive = np.concatenate([f[time].to_numpy("datetime64[us]") for f in frames])  # UTC wall times
    when = pd.Series(naive).dt.tz_localize("UTC")
    skus = distinct_counts([f[s.SKU] for f in frames], per_file).tolist()
    first, last = (getattr(when.groupby(per_file), how)().reindex(files) for how in ("min", "max"))
    return list(zip(skus, first.tolist(), last.tolist(), strict=True))
