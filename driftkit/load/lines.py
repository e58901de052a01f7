"""Every physical line accounted for: CSV records split with recovery from broken quotes.

:func:`split_records` is the careful reader :mod:`driftkit.load.read` falls back to when a
file has ragged rows or records spanning several physical lines.  A record that spans
lines must be well quoted (re-read with ``strict`` quoting) and no line inside its quoted
fields may split into as many fields as the header (a swallowed row would): otherwise a
quote opened and never closed (or closed far away) would swallow the lines that follow.
Such a record is rejected *on its first line only* and reading resumes on the next
physical line, so rows read always equals the file's data lines.  The price: a quoted
note whose inner line holds as many delimiters as the header is rejected, line by line.
:func:`shown_value` keeps a rejected value whole, or its length and a hash when huge.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: A rejected value longer than this is kept as its start, its length and a SHA-256 prefix.
MAX_VALUE_CHARS = 2000
_LINE_END = re.compile("\r\n|\r|\n")
UNCLOSED_QUOTE = (
    "unclosed quote: a quoted field opened on this line does not close properly "
    "(it would swallow {n} following line(s)); the line is rejected and reading resumes "
    "on the next line"
)


@dataclass(frozen=True)
class Records:
    """The data records of a file: good rows, their start lines and broken lines."""

    good: list[list[str]]
    good_lines: list[int]
    broken: list[tuple[int, str, str]]
    padded: list[int]


def split_records(text: str, sep: str, width: int, pad_short: bool = False) -> Records:
    """Split CSV ``text`` (header first) into records of ``width`` fields, never losing lines.

    Parameters
    ----------
    text
        The decoded file, header included.
    sep
        The delimiter.
    width
        The header's field count.
    pad_short
        Pad rows that are short of ``width`` with empty trailing fields (their lines go to
        ``padded``) instead of rejecting them.

    Returns
    -------
    Records
        ``good`` rows with ``width`` fields, ``good_lines`` (1-based physical start line of
        each, the header being line 1) and ``broken``: (line, value, reason) for records
        that are ragged, unreadable or open a quote that never closes properly.
    """
    physical = _physical_lines(text)
    out = Records([], [], [], [])
    index = _first_data_line(physical)
    while index < len(physical):
        index = _read_from(physical, index, sep, width, out, pad_short)
    return out


def _physical_lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def _first_data_line(physical: list[str]) -> int:
    for index, line in enumerate(physical):
        if line.strip("\r\n"):
            return index + 1
    return len(physical)


def _read_from(
    physical: list[str], index: int, sep: str, width: int, out: Records, pad_short: bool
) -> int:
    """Read records from ``physical[index]`` on; return where to restart (or the end)."""
    reader = csv.reader(_lines_from(physical, index), delimiter=sep)
    start = index
    try:
        for record in reader:
            end = index + reader.line_num
            if (
                record
                and end - start > 1
                and not _well_quoted(physical[start:end], sep, width, pad_short)
            ):
                out.broken.append((start + 1, shown_value(physical[start]), _unclosed(end, start)))
                return start + 1
            _keep(record, start + 1, sep, width, out, pad_short)
            start = end
    except csv.Error as exc:
        out.broken.append((start + 1, shown_value(physical[start]), f"unreadable record ({exc})"))
        return start + 1
    return len(physical)


def _lines_from(physical: list[str], index: int) -> Iterator[str]:
    for position in range(index, len(physical)):
        yield physical[position]


def _well_quoted(raw: list[str], sep: str, width: int, pad_short: bool = False) -> bool:
    """A multi-line record is one strictly quoted record of ``width`` fields (or fewer, when
    short rows are padded), and no line inside its quoted fields reads as a whole record (a
    row swallowed by a stray quote)."""
    try:
        records = list(
            csv.reader(io.StringIO("".join(raw), newline=""), delimiter=sep, strict=True)
        )
    except csv.Error:
        return False
    fits = len(records[0]) <= width if pad_short and records else len(records[0]) == width
    if len(records) != 1 or not fits:
        return False
    inside = [line for value in records[0] if "\n" in value for line in _LINE_END.split(value)]
    return not any(len(fields) >= width for fields in csv.reader(inside, delimiter=sep))


def _unclosed(end: int, start: int) -> str:
    return UNCLOSED_QUOTE.format(n=end - start - 1)


def _keep(
    record: list[str], line: int, sep: str, width: int, out: Records, pad_short: bool
) -> None:
    if not record:
        return
    if pad_short and len(record) < width:
        out.padded.append(line)
        record = record + [""] * (width - len(record))
    if len(record) == width:
        out.good.append(record)
        out.good_lines.append(line)
        return
    reason = (
        f"row has {len(record)} fields but the header has {width} "
        "(an unquoted delimiter or a broken quote)"
    )
    out.broken.append((line, shown_value(sep.join(record)), reason))


def shown_value(value: str) -> str:
    """``value`` without its line end, whole; or its start, length and SHA-256 when huge.

    Parameters
    ----------
    value
        A raw cell or line.

    Returns
    -------
    str
        The value, or ``"<first 200 chars>… [N chars, sha256 <16 hex>]"`` beyond
        :data:`MAX_VALUE_CHARS`.
    """
    value = value.rstrip("\r\n")
    if len(value) <= MAX_VALUE_CHARS:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{value[:200]}… [{len(value)} chars, sha256 {digest}]"


def spans_lines(data: bytes) -> bool:
    """Whether any newline of the UTF-8 ``data`` sits inside quotes (a multi-line record).

    Parameters
    ----------
    data
        The encoded file.

    Returns
    -------
    bool
        True when a record may span physical lines or a quote is left open at the end;
        such files are read by :func:`split_records`.
    """
    if b'"' not in data:  # a byte search: no quote, no record across lines
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(raw == ord('"'))
    newlines = np.flatnonzero(raw == ord("\n"))
    inside = np.searchsorted(quotes, newlines) % 2 == 1
    return bool(inside.any() or len(quotes) % 2)
