"""One pass over a system's files: the clean ones finished together, the others one by one.

A client with one export per system per day has hundreds of files; finishing each on its
own costs the same few hundred pandas calls per file whatever its size.  :func:`load_files`
reads and stages every file of one system and table in file order with the careful path's
own functions (so errors come in the same order and say the same), then finishes the files
that read cleanly (no ragged, padded or broken record; not a workbook) and share one header
map in **one** :func:`~driftkit.load.finish.finish_snapshots` /
:func:`~driftkit.load.finish.finish_events` call, their lines offset so they stay distinct.
Files that :mod:`driftkit.load.joined` can read together (plain CSV sharing one header) are
parsed in one pyarrow call and staged once, their rows traced to their files by line.
Wide sheets and ``aggregate = "sum"`` always take the per-file path; files with a ``bin``
column only when each has its own snapshot time, so bins never sum across files.

Every step of finishing is per row, except duplicate keys and notes, so the one pass only
keeps what it can prove equal to the careful per-file path (:func:`driftkit.load.file.finish_raw`):
the rows of a file with no reject in the one pass.  A file with any reject, every file of a
pass that wrote a note (the note names one file), and every file of a pass whose rows cannot
be traced to their staged rows are finished again on their own; so rejects, their lines and
the notes are always the careful path's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from driftkit import schema as s
from driftkit.config import ClientConfig, SystemConfig
from driftkit.errors import InputError
from driftkit.load import tabular
from driftkit.load.file import (
    Part,
    file_as_of,
    file_rows,
    finish_raw,
    format_of,
    load_file,
    read_file,
    stage_snapshot_file,
    with_headers,
)
from driftkit.load.finish import BIN, finish_events, finish_snapshots
from driftkit.load.joined import Joined, read_joined
from driftkit.load.read import RawTable
from driftkit.load.rows import Context, Finished
from driftkit.load.typed import load_typed

__all__ = ["load_files"]

_PLAIN = ("csv", "parquet")


@dataclass(frozen=True)
class _Staged:
    """A clean file staged for the one pass: its position, rows, header map and time."""

    position: int
    staged: pd.DataFrame
    headers: dict[str, str]
    as_of: pd.Timestamp | None

    @property
    def lines(self) -> int:
        """Data lines with a staged row (all accepted when the file has no reject)."""
        return int(self.staged[s.LINE].nunique())

    @property
    def group(self) -> tuple[object, ...]:
        dtypes = tuple(str(dtype) for dtype in self.staged.dtypes)
        return (tuple(self.staged.columns), dtypes, tuple(self.headers.items()), self.as_of is None)


@dataclass(frozen=True)
class _Pass:
    """Files finished in one call: their staged rows (lines offset file after file)."""

    positions: list[int]  # each file's position in the system's file list
    rows: pd.DataFrame
    sizes: np.ndarray  # staged rows per file
    ends: np.ndarray  # each file's last offset line: file k's lines are in (ends[k-1], ends[k]]
    lines: list[int]  # data lines with a staged row, per file
    stamps: list[pd.Timestamp | None]  # each file's snapshot time, if the file has one
    headers: dict[str, str]


def load_files(
    config: ClientConfig,
    system: SystemConfig,
    table: str,
    paths: list[Path],
    aliases: pd.DataFrame,
    pack_sizes: pd.Series,
) -> list[Part]:
    """Load every ``table`` file of ``system``, the clean ones in one pass.

    Parameters
    ----------
    config, system
        The client and the system whose files these are.
    table
        ``snapshots`` or ``events``.
    paths
        The system's files, in load order.
    aliases, pack_sizes
        The alias table and the catalog's pack sizes, as for
        :func:`driftkit.load.file.load_file`.

    Returns
    -------
    list of Part
        One per file, in ``paths`` order, equal to what ``load_file`` gives for each:
        canonical rows, rejects (source_file, line, column, value, reason), notes and the
        ``files`` row.
    """
    if not one_pass_applies(system, table):
        return [load_file(config, system.id, table, p, system, aliases, pack_sizes) for p in paths]
    if reads_typed(system, table):  # typed files: masks, not text
        return [
            load_typed(config, system, p, aliases, pack_sizes)
            or load_file(config, system.id, table, p, system, aliases, pack_sizes)
            for p in paths
        ]
    ctx = Context(config, system, "", aliases, pack_sizes)
    fmt = format_of(system, table)
    joined = read_joined(config, system, fmt, paths)
    together = _stage_joined(joined, paths, table, ctx) if joined else None
    members = set(together.positions) if together else set()
    raws: dict[int, RawTable] = {}
    staged = []
    for i, path in enumerate(paths):  # read and stage in file order: errors come in order
        if i not in members:
            raws[i] = read_file(config, system.id, table, path, system)
            staged.append(_stage(raws[i], table, ctx, path, i))
    done = _finish_groups([one for one in staged if one is not None], table, ctx)
    read = {i: (raw.source_file, raw.rows_read) for i, raw in raws.items()}
    if together is not None and joined is not None:
        done |= _finish_together(together, table, ctx)
        read |= {i: joined.file_read(k) for k, i in enumerate(joined.members) if i in done}
    for i, path in enumerate(paths):
        if i not in done:
            raws[i] = raws.get(i) or read_file(config, system.id, table, path, system)
            own = dataclasses.replace(ctx, source_file=raws[i].source_file)
            done[i] = finish_raw(raws[i], table, own, system, path)
            read[i] = (raws[i].source_file, raws[i].rows_read)
    finished = [done[i] for i in range(len(paths))]
    rows = file_rows(system.id, table, fmt, [read[i] for i in range(len(paths))], finished)
    return [Part(table, one, row) for one, row in zip(finished, rows, strict=True)]


def reads_typed(system: SystemConfig, table: str) -> bool:
    """Whether ``table`` files of ``system`` try :func:`~driftkit.load.typed.load_typed` first."""
    return table == "snapshots" and system.format == "parquet" and one_pass_applies(system, table)


def one_pass_applies(system: SystemConfig, table: str) -> bool:
    """Whether ``table`` of ``system`` can be finished in one pass (not wide, no summing)."""
    return table == "events" or (system.wide is None and system.aggregate != "sum")


def _stage(raw: RawTable, table: str, ctx: Context, path: Path, position: int) -> _Staged | None:
    """Stage a clean file as the careful path would; ``None`` for a file it must take."""
    system = ctx.system
    assert system is not None
    if raw.format not in _PLAIN or len(raw.broken) or len(raw.padded) or not len(raw.frame):
        return None
    if table == "events":
        staged, headers = tabular.stage_events(raw, system)
        return _Staged(position, staged, headers, None)
    as_of = file_as_of(path, system, ctx.config, raw.source_file)
    staged, headers = stage_snapshot_file(raw, system, as_of)
    bins_apart = as_of is not None and s.AS_OF not in staged  # a file's bins sum within it
    return _Staged(position, staged, headers, as_of) if bins_apart or BIN not in staged else None


def _stage_joined(joined: Joined, paths: list[Path], table: str, ctx: Context) -> _Pass | None:
    """Stage the joined files at once as the careful path stages each; None when it cannot."""
    system = ctx.system
    assert system is not None
    try:
        if table == "events":
            stamps: list[pd.Timestamp | None] = [None] * len(joined.members)
            staged, headers = tabular.stage_events(joined.raw, system)
        else:
            stamps = [
                file_as_of(paths[i], system, ctx.config, name)
                for i, name in zip(joined.members, joined.sources, strict=True)
            ]
            staged, headers = stage_snapshot_file(joined.raw, system, stamps[0])
    except InputError:  # the per-file path raises it, in file order
        return None
    if BIN in staged and (stamps[0] is None or s.AS_OF in staged):
        return None  # a file's bins are summed within it: the per-file path
    staged = staged.reset_index(drop=True)
    line = staged[s.LINE].to_numpy(np.int64)
    file_of = np.searchsorted(joined.ends, line)
    sizes = np.bincount(file_of, minlength=len(joined.members))
    if (np.diff(file_of) < 0).any() or not sizes.all():
        return None  # a file's rows must stay together, and each file have staged rows
    lines = np.bincount(np.searchsorted(joined.ends, _distinct(line)), minlength=len(sizes))
    return _Pass(joined.members, staged, sizes, joined.ends, lines.tolist(), stamps, headers)


def _distinct(line: np.ndarray) -> np.ndarray:
    """The distinct lines; one comparison pass when they are already in order (the usual)."""
    if len(line) and (line[1:] >= line[:-1]).all():
        return line[np.concatenate(([True], line[1:] != line[:-1]))]
    return np.unique(line)


def _finish_groups(staged: list[_Staged], table: str, ctx: Context) -> dict[int, Finished]:
    """Finish each group of files sharing a header map in one pass; the clean files' results."""
    groups: dict[tuple[object, ...], list[_Staged]] = {}
    for one in staged:
        groups.setdefault(one.group, []).append(one)
    done: dict[int, Finished] = {}
    for group in groups.values():
        done |= _finish_together(_pass_of(group), table, ctx)
    return done


def _pass_of(group: list[_Staged]) -> _Pass:
    """The files' staged rows as one pass, each file's lines offset past the one before."""
    sizes = np.array([len(one.staged) for one in group], dtype=np.int64)
    ends = np.cumsum([int(one.staged[s.LINE].max()) for one in group])
    offsets = np.concatenate(([0], ends[:-1]))
    rows = pd.concat(
        [
            one.staged.assign(**{s.LINE: one.staged[s.LINE] + off})
            for one, off in zip(group, offsets, strict=True)
        ],
        ignore_index=True,
    )
    positions = [one.position for one in group]
    lines = [one.lines for one in group]
    return _Pass(
        positions, rows, sizes, ends, lines, [one.as_of for one in group], group[0].headers
    )


def _finish_together(one: _Pass, table: str, ctx: Context) -> dict[int, Finished]:
    """One finish over the pass's rows; the files it proves equal to the careful path."""
    if BIN in one.rows and len(set(one.stamps)) < len(one.stamps):
        return {}  # bins of two files with one snapshot time would be summed together
    pass_ctx = with_headers(ctx, one.headers, _as_of(one.stamps, one.sizes, one.rows.index))
    finish = finish_events if table == "events" else finish_snapshots
    try:
        finished = finish(one.rows, pass_ctx, pd.DataFrame())
    except (ValueError, TypeError):  # the careful path raises or explains it per file
        return {}
    files = len(one.positions)
    rejected = np.bincount(
        np.searchsorted(one.ends, finished.rejects[s.LINE].to_numpy(np.int64)), minlength=files
    )
    if finished.notes or finished.origin is None or len(finished.origin) != len(finished.table):
        return {}
    kept_file = np.repeat(np.arange(files), one.sizes)[finished.origin.to_numpy()]
    starts = np.searchsorted(kept_file, np.arange(files + 1))
    return {
        position: Finished(
            finished.table.iloc[starts[k] : starts[k + 1]].reset_index(drop=True),
            s.empty("rejects"),
            one.lines[k],
            0,
        )
        for k, position in enumerate(one.positions)
        if rejected[k] == 0
    }


def _as_of(
    stamps: list[pd.Timestamp | None], sizes: np.ndarray, index: pd.Index
) -> pd.Timestamp | pd.Series | None:
    """The files' snapshot times: none, one for all, or each file's on its rows."""
    if stamps[0] is None or all(stamp == stamps[0] for stamp in stamps):
        return stamps[0]
    return pd.Series(pd.DatetimeIndex(stamps).repeat(sizes), index=index)
