"""Loaders: a client's raw exports → canonical tables plus rejects (DESIGN §2–4).

``load_client`` reads the alias table, the catalog, the cycle counts and every system's
snapshot and event files, and returns them as one :class:`ClientData`.  Nothing is lost
silently: for every file, rows read = rows accepted + rows rejected, and every rejected row
is in ``rejects`` with its file, line, column, value and reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from driftkit import schema as s
from driftkit.config import ClientConfig, SystemConfig, TableSource, load_config
from driftkit.errors import InputError
from driftkit.load import amazon, bigcommerce, shopify, tabular, woocommerce
from driftkit.load.finish import Context, Finished, finish_events, finish_snapshots
from driftkit.load.read import RawTable, read_table
from driftkit.load.reference import (
    empty_aliases,
    finish_aliases,
    finish_catalog,
    finish_counts,
    relative,
)

__all__ = ["FILES_COLUMNS", "ClientData", "load_client"]

log = logging.getLogger(__name__)

Stager = Callable[[RawTable, SystemConfig], tuple[pd.DataFrame, dict[str, str]]]
STAGERS: dict[str, Stager] = {
    "shopify_inventory": shopify.stage_inventory,
    "shopify_products": shopify.stage_products,
    "amazon_inventory": amazon.stage_inventory,
    "amazon_fba_inventory": amazon.stage_fba_inventory,
    "bigcommerce_products": bigcommerce.stage_products,
    "woocommerce_products": woocommerce.stage_products,
}
AVAILABLE_ONLY = {
    "shopify_products": "Variant Inventory Qty",
    "amazon_inventory": "quantity",
    "bigcommerce_products": "Current Stock Level",
    "woocommerce_products": "Stock",
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


@dataclass(frozen=True, eq=False)
class ClientData:
    """Everything loaded for one client: canonical tables, rejects and file accounting.

    Attributes
    ----------
    snapshots, events, counts, catalog, rejects
        Canonical tables (``driftkit.schema``); reject ``line`` is the 1-based physical
        line in the file, the header being line 1 (the row number for Parquet).
    files
        One row per file read: system, table, source_file, format, rows_read,
        rows_accepted, rows_rejected, skus, first_as_of, last_as_of.
    notes
        Soft findings, each said once.
    """

    config: ClientConfig
    snapshots: pd.DataFrame
    events: pd.DataFrame
    counts: pd.DataFrame
    catalog: pd.DataFrame
    rejects: pd.DataFrame
    files: pd.DataFrame
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Part:
    table: str
    finished: Finished
    file: dict[str, object]


def load_client(client: str | Path | ClientConfig, *, progress: bool = False) -> ClientData:
    """Load every export of one client into canonical tables.

    Parameters
    ----------
    client
        A client folder (holding ``client.toml``) or an already parsed config.
    progress
        Show a progress bar over files (terminal or notebook).

    Returns
    -------
    ClientData
        snapshots (system, sku, location, as_of, on_hand, available, committed), events
        (system, sku, location, event_id, kind, qty_delta, commit_delta, set_qty,
        occurred_at, recorded_at, reference, raw_reference, source_as_of), counts (sku,
        location, counted_at, counted_qty), catalog (sku, unit_cost, unit_price,
        pack_size, category, title), rejects (source_file, line, column, value, reason),
        files (see :class:`ClientData`) and notes.

    Raises
    ------
    InputError
        A file cannot be read (encoding, delimiter, missing columns, empty) or a glob
        matches no file.
    ConfigError
        ``client.toml`` is invalid.
    """
    config = client if isinstance(client, ClientConfig) else load_config(client)
    jobs = _plan(config)
    bar = tqdm(total=len(jobs), desc=f"loading {config.id}", unit="file", disable=not progress)
    parts: list[_Part] = []
    aliases, pack_sizes = empty_aliases(), pd.Series(dtype="float64")
    for label, table, path, source in jobs:
        part = _load_one(config, label, table, path, source, aliases, pack_sizes)
        if table == "aliases":
            aliases = pd.concat([aliases, part.finished.table], ignore_index=True)
        if table == "catalog":
            catalog = part.finished.table
            pack_sizes = catalog.set_index(s.SKU)[s.PACK_SIZE].dropna()
        parts.append(part)
        bar.update(1)
    bar.close()
    return _combine(config, parts)


_Job = tuple[str, str, Path, SystemConfig | TableSource | None]


def _plan(config: ClientConfig) -> list[_Job]:
    """Every file to read, in dependency order: aliases, catalog, counts, systems."""
    jobs: list[_Job] = []
    if config.sku.aliases is not None:
        pattern = relative(config.sku.aliases, config)
        jobs += [("aliases", "aliases", p, None) for p in _match(config, pattern, "[sku] aliases")]
    for name, source in (("catalog", config.catalog), ("counts", config.counts)):
        if source is not None:
            jobs += [(name, name, p, source) for p in _match(config, source.path, f"[{name}] path")]
    for system in config.systems.values():
        for table, files in (("snapshots", system.snapshots), ("events", system.events)):
            if files is not None:
                key = f"[systems.{system.id}] {table}"
                jobs += [(system.id, table, p, system) for p in _match(config, files, key)]
    return jobs


def _match(config: ClientConfig, pattern: str, key: str) -> list[Path]:
    paths = config.resolve(pattern)
    if not paths:
        raise InputError(
            f"{config.source}: {key} = {pattern!r} matches no file in {config.root}; "
            "check the path (relative to the client folder) and the glob"
        )
    return paths


def _load_one(
    config: ClientConfig,
    label: str,
    table: str,
    path: Path,
    source: SystemConfig | TableSource | None,
    aliases: pd.DataFrame,
    pack_sizes: pd.Series,
) -> _Part:
    name = relative(path, config)
    log.info("reading %s (%s %s)", name, label, table)
    system = source if isinstance(source, SystemConfig) else None
    fmt = _format_of(system, table)
    setting = f"[systems.{system.id}]" if system else f"[{table}]"
    raw = read_table(
        path,
        source_file=name,
        encoding=system.encoding if system else None,
        delimiter=system.delimiter if system else None,
        setting=setting,
        parquet=fmt == "parquet",
    )
    ctx = Context(config, system, name, aliases, pack_sizes)
    finished = _finish(raw, table, ctx, source, path)
    return _Part(table, finished, _file_row(label, table, fmt, raw, finished))


def _format_of(system: SystemConfig | None, table: str) -> str:
    if system is None:
        return "csv"
    return system.events_format if table == "events" else system.format


def _finish(
    raw: RawTable,
    table: str,
    ctx: Context,
    source: SystemConfig | TableSource | None,
    path: Path,
) -> Finished:
    if table == "aliases":
        return finish_aliases(raw, ctx.config)
    if table == "catalog" and isinstance(source, TableSource):
        return finish_catalog(raw, ctx, source)
    if table == "counts" and isinstance(source, TableSource):
        return finish_counts(raw, ctx, source)
    assert isinstance(source, SystemConfig)
    if table == "events":
        staged, headers = tabular.stage_events(raw, source)
        return finish_events(staged, _with(ctx, headers), raw.broken)
    as_of = _file_as_of(path, source, ctx.config, raw.source_file)
    if source.format in STAGERS:
        if as_of is None:
            raise InputError(
                f"{raw.source_file}: a {source.format} export has no snapshot time; set "
                f"`as_of` or `as_of_pattern` (+ `as_of_time`) in [systems.{source.id}]"
            )
        staged, headers = STAGERS[source.format](raw, source)
    else:
        staged, headers = tabular.stage_snapshots(raw, source, has_as_of=as_of is not None)
    finished = finish_snapshots(staged, _with(ctx, headers, as_of), raw.broken)
    return finished


def _with(ctx: Context, headers: dict[str, str], as_of: pd.Timestamp | None = None) -> Context:
    return Context(
        ctx.config, ctx.system, ctx.source_file, ctx.aliases, ctx.pack_sizes, headers, as_of
    )


def _file_as_of(
    path: Path, system: SystemConfig, config: ClientConfig, source_file: str
) -> pd.Timestamp | None:
    """Snapshot time of a whole file: ``as_of``, or the file name via ``as_of_pattern``."""
    if system.as_of is not None:
        return _localize(pd.Timestamp(system.as_of), config.timezone)
    if system.as_of_pattern is None:
        return None
    pattern = Path(system.as_of_pattern).name
    try:
        stamp = datetime.strptime(path.name, pattern)
    except ValueError as exc:
        raise InputError(
            f"{source_file}: the file name does not match as_of_pattern {pattern!r} of "
            f"[systems.{system.id}] ({exc}); rename the file or fix the pattern"
        ) from exc
    if not any(code in pattern for code in ("%H", "%I", "%M")):
        stamp = datetime.combine(stamp.date(), system.as_of_time)
    return _localize(pd.Timestamp(stamp), config.timezone)


def _localize(stamp: pd.Timestamp, timezone: str) -> pd.Timestamp:
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert("UTC").as_unit("us")


def _file_row(
    label: str, table: str, fmt: str, raw: RawTable, finished: Finished
) -> dict[str, object]:
    frame = finished.table
    when = frame[_TIME_OF[table]] if table in _TIME_OF else pd.Series(dtype="datetime64[us, UTC]")
    return {
        "system": label,
        "table": table,
        "source_file": raw.source_file,
        "format": fmt,
        "rows_read": raw.rows_read,
        "rows_accepted": finished.rows_accepted,
        "rows_rejected": finished.rows_rejected,
        "skus": int(frame[s.SKU].nunique()) if s.SKU in frame else 0,
        "first_as_of": when.min() if len(when) else pd.NaT,
        "last_as_of": when.max() if len(when) else pd.NaT,
    }


def _combine(config: ClientConfig, parts: list[_Part]) -> ClientData:
    def gather(table: str) -> pd.DataFrame:
        frames = [p.finished.table for p in parts if p.table == table and len(p.finished.table)]
        return s.conform(pd.concat(frames, ignore_index=True), table) if frames else s.empty(table)

    rejects = [p.finished.rejects for p in parts if len(p.finished.rejects)]
    files = pd.DataFrame([p.file for p in parts], columns=list(FILES_COLUMNS))
    for col in ("first_as_of", "last_as_of"):
        files[col] = pd.to_datetime(files[col], utc=True).astype("datetime64[us, UTC]")
    return ClientData(
        config=config,
        snapshots=gather("snapshots"),
        events=gather("events"),
        counts=gather("counts"),
        catalog=gather("catalog"),
        rejects=pd.concat(rejects, ignore_index=True) if rejects else s.empty("rejects"),
        files=files,
        notes=_notes(config, parts),
    )


def _notes(config: ClientConfig, parts: list[_Part]) -> tuple[str, ...]:
    notes = [note for p in parts for note in p.finished.notes]
    for system in config.systems.values():
        if system.snapshots and system.format in AVAILABLE_ONLY:
            notes.append(
                f"{system.id}: {system.format} reports only available "
                f"({AVAILABLE_ONLY[system.format]!r}); on_hand and committed are absent"
            )
    return tuple(dict.fromkeys(notes))
