"""A system's plain CSV files read as one table: one pyarrow parse instead of one per file.

A client with one export per system per day has hundreds of files; reading each on its own
costs a pyarrow parse, a pandas conversion and a staging pass per file whatever its size.
:func:`read_joined` reads the files of one system that :mod:`driftkit.load.read` would read
cleanly on its fast path (decodable, no record spanning lines, no lone carriage return, at
least one data row) and share one header and delimiter, and parses their data lines
in **one** call.  Each row keeps its physical line, offset by the last line of the files
before it, so :func:`driftkit.load.onepass.load_files` finds each row's file again.

Nothing here decides about a row: a file that does not qualify, or any surprise (a row count
that does not add up, a ragged row), leaves the files to the per-file path, which reads them
exactly as before and raises its errors in file order.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from driftkit.config import ClientConfig, SystemConfig
from driftkit.errors import InputError
from driftkit.load import excel
from driftkit.load.guard import refuse_duplicate_headers
from driftkit.load.lines import spans_lines
from driftkit.load.read import (
    CELL_TYPE,
    RawTable,
    choose_delimiter,
    decode,
    header_line,
    record_lines,
    unique_names,
    utf8_of,
)
from driftkit.load.reference import relative
from driftkit.load.sniff import refuse_binary

__all__ = ["Joined", "read_joined"]

#: Formats whose files are read as plain delimited text with every row kept as it is.
JOINABLE = ("csv", "shopify_inventory")


@dataclass(frozen=True)
class Joined:
    """The joined files of one system read as one :class:`~driftkit.load.read.RawTable`.

    ``raw.lines`` are the files' physical lines, file ``k``'s offset so that they lie in
    ``(ends[k - 1], ends[k]]``; ``rows[k]`` is its data rows, ``members[k]`` its position in
    the system's file list and ``sources[k]`` its name relative to the client folder.
    """

    raw: RawTable
    members: list[int]
    sources: list[str]
    rows: np.ndarray
    ends: np.ndarray

    def file_raw(self, k: int) -> RawTable:
        """Member ``k``'s own rows and lines (what the per-file reader reads of it)."""
        stop = np.cumsum(self.rows)
        start = stop[k] - self.rows[k]
        frame = self.raw.frame.iloc[start : stop[k]].reset_index(drop=True)
        offset = self.ends[k - 1] if k else 0
        return RawTable(self.sources[k], "csv", frame, self.raw.lines[start : stop[k]] - offset)

    def file_read(self, k: int) -> tuple[str, int]:
        """Member ``k``'s name and data rows read (for its ``files`` row)."""
        return self.sources[k], int(self.rows[k])


@dataclass(frozen=True)
class _Text:
    """One file's text as the fast path of :func:`driftkit.load.read.read_table` sees it."""

    source_file: str
    header: tuple[str, ...]  # the header's fields, as the per-file reader splits them
    sep: str
    body: bytes
    lines: np.ndarray


def read_joined(
    config: ClientConfig, system: SystemConfig, fmt: str, paths: list[Path]
) -> Joined | None:
    """Read the joinable files among ``paths`` in one parse; ``None`` when fewer than two join.

    Parameters
    ----------
    config, system
        The client and the system whose files these are.
    fmt
        The files' configured format (only :data:`JOINABLE` ones are joined).
    paths
        The system's files of one table, in load order.

    Returns
    -------
    Joined or None
        The files sharing the first joinable file's header and delimiter, as one raw
        table of strings (columns named as the header) with offset lines.
    """
    if fmt not in JOINABLE or len(paths) < 2:
        return None
    texts = [_plain_text(config, system, path) for path in paths]
    first = next((t for t in texts if t is not None), None)
    if first is None:
        return None
    members = [
        i
        for i, t in enumerate(texts)
        if t is not None and (t.header, t.sep) == (first.header, first.sep)
    ]
    if len(members) < 2:
        return None
    joined = [t for t in (texts[i] for i in members) if t is not None]
    return _parse(joined, members)


def _plain_text(config: ClientConfig, system: SystemConfig, path: Path) -> _Text | None:
    """The file's text when the per-file reader would take its fast path on it, else None."""
    source_file = relative(path, config)
    setting = f"[systems.{system.id}]"
    try:
        if path.suffix.lower() in (".parquet", ".pq") or excel.is_workbook(path):
            return None
        data = path.read_bytes()
        refuse_binary(path, data, source_file, setting)
        text = decode(data, source_file, system.encoding, setting)
        sep = choose_delimiter(text, source_file, system.delimiter, setting)
    except (InputError, OSError):  # the per-file path raises it, in file order
        return None
    if not text or text.isspace() or text[0] in "\r\n" or "\n" not in text:
        return None
    encoded = utf8_of(text, data, system.encoding)
    carriage = b"\r" in encoded and encoded.count(b"\r") != encoded.count(b"\r\n")
    if carriage or spans_lines(encoded):
        return None
    lines = record_lines(encoded)
    if len(lines) < 2:
        return None
    body = encoded[encoded.index(b"\n") + 1 :]
    body = body if body.endswith(b"\n") else body + b"\n"
    header = next(csv.reader([header_line(text)], delimiter=sep))
    return _Text(source_file, tuple(header), sep, body, lines)


def _parse(texts: list[_Text], members: list[int]) -> Joined | None:
    """One pyarrow parse of the files' data lines; None when a row does not split cleanly."""
    header = list(texts[0].header)
    try:
        refuse_duplicate_headers(header, source_file=texts[0].source_file)
    except InputError:
        return None
    names = unique_names(header)
    invalid: list[int] = []

    def handler(row: pacsv.InvalidRow) -> str:
        invalid.append(row.actual_columns)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(b"".join(t.body for t in texts)),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=texts[0].sep,
                newlines_in_values=False,  # no joined file has a newline inside quotes
                invalid_row_handler=handler,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, CELL_TYPE), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        return None
    rows = np.array([len(t.lines) - 1 for t in texts], dtype=np.int64)
    if invalid or table.num_rows != rows.sum():
        return None
    frame = table.to_pandas(use_threads=False)  # 2 cores: threads cost more CPU
    frame.columns = names
    ends = np.cumsum([int(t.lines[-1]) for t in texts])
    offsets = np.concatenate(([0], ends[:-1]))
    lines = np.concatenate([t.lines[1:] + off for t, off in zip(texts, offsets, strict=True)])
    raw = RawTable(texts[0].source_file, "csv", frame, lines)
    return Joined(raw, members, [t.source_file for t in texts], rows, ends)
