"""A client's raw exports → canonical tables plus rejects (DESIGN §2–4).

``load_client`` reads the alias table, the catalog, the cycle counts and every system's
snapshot and event files, and returns them as one :class:`ClientData`.  Nothing is lost
silently: for every file, rows read = rows accepted + rows rejected, and every rejected row
is in ``rejects`` with its file, line, column, value and reason.  One file is read, staged
and finished by :func:`driftkit.load.file.load_file`; a system's clean files are finished
together in one pass (:func:`driftkit.load.onepass.load_files`).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from driftkit import schema as s
from driftkit.config import ClientConfig, SystemConfig, TableSource, load_config
from driftkit.errors import InputError
from driftkit.load.file import AVAILABLE_ONLY, FILES_COLUMNS, Part, load_file
from driftkit.load.guard import inside_folder
from driftkit.load.onepass import load_files, reads_typed
from driftkit.load.reference import empty_aliases, relative
from driftkit.progress import Bar, progress_bar

__all__ = ["FILES_COLUMNS", "ClientData", "load_client"]

_THREADS = 2  # Arrow and numpy release the GIL: two typed Parquet systems load at once


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
    total = sum(len(paths) for _, _, paths, _ in jobs)
    bar = progress_bar(total, desc=f"loading {config.id}", unit="file", show=progress)
    parts: list[Part] = []
    aliases, pack_sizes = empty_aliases(), pd.Series(dtype="float64")
    pending: list[Future[list[Part]]] = []
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:  # typed Parquet systems side by side
        for label, table, paths, source in jobs:
            if isinstance(source, SystemConfig) and reads_typed(source, table):
                pending.append(
                    pool.submit(load_files, config, source, table, paths, aliases, pack_sizes)
                )
                continue
            parts += _collect(pending, bar)  # in plan order: an earlier file's error comes first
            if isinstance(source, SystemConfig):  # a system's files: the clean ones in one pass
                parts += load_files(config, source, table, paths, aliases, pack_sizes)
                bar.update(len(paths))
                continue
            for path in paths:
                part = load_file(config, label, table, path, source, aliases, pack_sizes)
                if table == "aliases":
                    aliases = pd.concat([aliases, part.finished.table], ignore_index=True)
                if table == "catalog":
                    catalog = part.finished.table
                    pack_sizes = catalog.set_index(s.SKU)[s.PACK_SIZE].dropna()
                parts.append(part)
                bar.update(1)
        parts += _collect(pending, bar)
    bar.close()
    return _combine(config, parts)


def _collect(pending: list[Future[list[Part]]], bar: Bar) -> list[Part]:
    """The parts of the systems loading in threads, in plan order; ``pending`` emptied."""
    parts = []
    try:
        for future in pending:
            loaded = future.result()
            parts += loaded
            bar.update(len(loaded))
    finally:
        for future in pending:
            future.cancel()
        pending.clear()
    return parts


_Job = tuple[str, str, list[Path], SystemConfig | TableSource | None]


def _plan(config: ClientConfig) -> list[_Job]:
    """Every table's files, in dependency order: aliases, catalog, counts, systems."""
    jobs: list[_Job] = []
    if config.sku.aliases is not None:
        pattern = relative(config.sku.aliases, config)
        jobs.append(("aliases", "aliases", _match(config, pattern, "[sku] aliases"), None))
    for name, source in (("catalog", config.catalog), ("counts", config.counts)):
        if source is not None:
            jobs.append((name, name, _match(config, source.path, f"[{name}] path"), source))
    for system in config.systems.values():
        for table, files in (("snapshots", system.snapshots), ("events", system.events)):
            if files is not None:
                key = f"[systems.{system.id}] {table}"
                jobs.append((system.id, table, _match(config, files, key), system))
    return jobs


def _match(config: ClientConfig, pattern: str, key: str) -> list[Path]:
    paths = config.resolve(pattern)
    if not paths:
        raise InputError(
            f"{config.source}: {key} = {pattern!r} matches no file in {config.root}; "
            "check the path (relative to the client folder) and the glob"
        )
    return inside_folder(paths, config.root, source=config.source, key=key)


def _combine(config: ClientConfig, parts: list[Part]) -> ClientData:
    def gather(table: str) -> pd.DataFrame:
        frames = [p.finished.table for p in parts if p.table == table and len(p.finished.table)]
        return _concat(frames, table) if frames else s.empty(table)

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


def _concat(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
    """The files' canonical tables as one; cast and checked again only when a dtype differs."""
    out = pd.concat(frames, ignore_index=True)
    dtypes = s.empty(table).dtypes
    required = [field.name for field in s.TABLES[table] if not field.nullable]
    canonical = all(frame.dtypes.equals(dtypes) for frame in frames)
    if canonical and not out[required].isna().any().any():
        return out
    return s.conform(out, table)


def _notes(config: ClientConfig, parts: list[Part]) -> tuple[str, ...]:
    notes = [note for p in parts for note in p.finished.notes]
    for system in config.systems.values():
        if system.snapshots and system.format in AVAILABLE_ONLY:
            notes.append(
                f"{system.id}: {system.format} reports only available "
                f"({AVAILABLE_ONLY[system.format]!r}); on_hand and committed are absent"
            )
    return tuple(dict.fromkeys(notes))
