"""Robust reading of export files into all-string frames with physical line numbers.

Text files are decoded (configured encoding, else BOM: UTF-8-SIG / UTF-16 / UTF-32, else
UTF-8), the delimiter is sniffed from the header (comma, tab, semicolon, pipe) unless
configured, and parsed by pyarrow with quoted multi-line fields allowed.  Rows whose field
count differs from the header are not guessed at: they come back as structural rejects.
Every row keeps the 1-based physical line where it starts (the header is line 1); for
Parquet the line is the 1-based row number.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from driftkit.errors import InputError
from driftkit.load.guard import excerpt, refuse_duplicate_headers
from driftkit.load.lines import spans_lines, split_records
from driftkit.load.sniff import refuse_binary

#: Cells are read as large strings, the storage of pandas' ``str``: no cast in ``to_pandas``.
CELL_TYPE = pa.large_string()
DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class RawTable:
    """One export file read as strings: the frame, its lines and structural rejects.

    ``padded`` holds the lines of short rows padded with empty trailing fields
    (``read_table(pad_short=True)``); the format decides whether they line up.
    """

    source_file: str
    format: str
    frame: pd.DataFrame
    lines: np.ndarray
    broken: pd.DataFrame = field(default_factory=pd.DataFrame)
    padded: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def rows_read(self) -> int:
        """Data rows in the file (excluding the header), including unsplittable ones."""
        return len(self.frame) + len(self.broken)


def read_table(
    path: Path,
    *,
    source_file: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    setting: str = "[systems.<id>]",
    parquet: bool = False,
    pad_short: bool = False,
) -> RawTable:
    """Read a CSV/TSV or Parquet export into a :class:`RawTable`.

    Parameters
    ----------
    path
        The file.
    source_file
        Its name relative to the client folder, used in messages and rejects.
    encoding, delimiter
        Configured overrides; ``None`` = detect.
    setting
        The config table where ``encoding``/``delimiter`` would be set, for messages.
    parquet
        Read as Parquet (also chosen for ``.parquet``/``.pq`` files).
    pad_short
        Pad rows with fewer fields than the header with empty trailing fields (WooCommerce
        leaves trailing columns out); their lines are in ``RawTable.padded``.

    Raises
    ------
    InputError
        Empty file, undecodable bytes, a delimiter that does not split the header,
        unbalanced quotes.
    """
    if parquet or path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path, source_file)
    data = path.read_bytes()
    refuse_binary(path, data, source_file, setting)
    text = decode(data, source_file, encoding, setting)
    if not text or text.isspace():  # not text.strip(): no copy of the file
        raise InputError(f"{source_file}: the file is empty; export it again with a header row")
    encoded = utf8_of(text, data, encoding)
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")
        encoded = text.encode("utf-8")
    sep = choose_delimiter(text, source_file, delimiter, setting)
    return _parse_text(text, source_file, sep, pad_short, encoded)


def utf8_of(text: str, data: bytes, encoding: str | None) -> bytes:
    """``text`` (decoded from ``data`` by :func:`decode`) as UTF-8, without a copy when it can.

    A detected decoding (``encoding`` None) that gives one ASCII character per byte read
    ASCII bytes with no BOM, so encoding the text again would rebuild ``data`` itself (a
    copy of the whole file, ~5 ms per MB).
    """
    if encoding is None and len(text) == len(data) and text.isascii():
        return data
    return text.encode("utf-8")


def decode(data: bytes, source_file: str, encoding: str | None, setting: str) -> str:
    """The file's text: the configured encoding, else its BOM's, else UTF-8 (or UTF-16)."""
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(
                f"{source_file}: cannot decode with the configured encoding {encoding!r} "
                f"({exc}); fix `encoding =` in {setting} (e.g. 'utf-8', 'utf-16', 'cp1252')"
            ) from exc
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode_bom(data, name, source_file)
    if len(data) > 3 and data[1:200:2].count(0) > 40:
        return data.decode("utf-16-le", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = "cp1252" if _decodes(data, "cp1252") else "latin-1"
        raise InputError(
            f"{source_file}: line {line} has bytes that are not UTF-8 "
            f"({data[exc.start : exc.start + 4]!r}); it is probably {guess} (Excel on Windows). "
            f'Set `encoding = "{guess}"` in {setting}, or re-save the file as UTF-8'
        ) from exc


def _decode_bom(data: bytes, name: str, source_file: str) -> str:
    try:
        return data.decode(name).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source_file}: starts with a {name} byte-order mark but byte {exc.start} is not "
            f"{name} ({exc.reason}); the file is truncated or mixes encodings: export it again"
        ) from exc


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def header_line(text: str) -> str:
    """The first non-empty line of ``text`` (the header row, before splitting)."""
    text = text.lstrip("\r\n")
    end = text.find("\n")
    return text if end < 0 else text[:end]  # a slice: splitting would copy the whole file


def _count_outside_quotes(line: str, char: str) -> int:
    return sum(part.count(char) for part in line.split('"')[::2])


def choose_delimiter(text: str, source_file: str, delimiter: str | None, setting: str) -> str:
    """The configured delimiter (checked against the header), else the header's most common."""
    header = header_line(text)
    counts = {sep: _count_outside_quotes(header, sep) for sep in DELIMITERS}
    best = max(counts, key=lambda sep: counts[sep])
    if delimiter is None:
        return best if counts[best] else ","
    if _count_outside_quotes(header, delimiter) == 0 and counts[best] > 0:
        raise InputError(
            f"{source_file}: the configured delimiter {delimiter!r} does not split the header "
            f"({excerpt(header, limit=80)}); the file looks {DELIMITERS[best]}-separated. "
            f"Set `delimiter = {best!r}` in {setting}"
        )
    return delimiter


def record_lines(data: bytes) -> np.ndarray:
    """Physical start line (1-based) of every non-empty CSV record, header included."""
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == ord("\n"))
    quoted = b'"' in data  # byte searches: most exports quote nothing and end lines with LF
    ends = newlines[_outside_quotes(raw, newlines)] if quoted else newlines
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(raw)]))
    length = stops - starts
    has_cr = np.zeros(len(length), dtype=bool)
    if b"\r" in data:
        has_cr = length > 0
        has_cr[has_cr] = raw[np.minimum(stops[has_cr] - 1, len(raw) - 1)] == ord("\r")
    nonempty = (length - has_cr) > 0
    lines = np.searchsorted(newlines, starts) + 1 if quoted else np.arange(1, len(starts) + 1)
    return lines[nonempty]


def _outside_quotes(raw: np.ndarray, newlines: np.ndarray) -> np.ndarray:
    """Whether each newline is outside quotes (an even number of quotes before it)."""
    quotes = np.flatnonzero(raw == ord('"'))
    return np.searchsorted(quotes, newlines) % 2 == 0


def _parse_text(
    text: str, source_file: str, sep: str, pad_short: bool = False, data: bytes | None = None
) -> RawTable:
    header = next(csv.reader([header_line(text)], delimiter=sep))
    refuse_duplicate_headers(header, source_file=source_file)
    names = unique_names(header)
    invalid: list[int] = []
    data = text.encode("utf-8") if data is None else data

    def handler(row: pacsv.InvalidRow) -> str:
        invalid.append(row.actual_columns)
        return "skip"

    table: pa.Table | None = None
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                newlines_in_values=b'"' in data,  # no quote: no newline in a value
                invalid_row_handler=handler,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, CELL_TYPE), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        invalid.append(-1)
    lines = record_lines(data)
    if table is None or invalid or len(lines) - 1 != table.num_rows or spans_lines(data):
        return _parse_slow(text, source_file, sep, names, pad_short)
    frame = table.to_pandas(use_threads=False)  # 2 cores: threads cost more CPU
    frame.columns = names
    return RawTable(source_file, "csv", frame, lines[1:])


def _parse_slow(
    text: str, source_file: str, sep: str, names: list[str], pad_short: bool = False
) -> RawTable:
    """Careful fallback (:mod:`driftkit.load.lines`): exact lines, broken records rejected."""
    records = split_records(text, sep, len(names), pad_short)
    if not records.good and not records.broken and text.count('"') % 2:
        raise InputError(f"{source_file}: unbalanced quotes; check the quoting near the end")
    good = records.good
    frame = pd.DataFrame(good, columns=names, dtype="str") if good else _empty(names)
    rejects = pd.DataFrame(records.broken, columns=["line", "value", "reason"])
    lines = np.asarray(records.good_lines, dtype=np.int64)
    padded = np.asarray(records.padded, np.int64)
    return RawTable(source_file, "csv", frame, lines, rejects, padded)


def _empty(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="str") for name in names})


def unique_names(header: list[str]) -> list[str]:
    """Header names stripped, repeats numbered ``name.1``, ``name.2`` as pandas would."""
    seen: dict[str, int] = {}
    names = []
    for name in header:
        name = name.strip().lstrip("\ufeff")
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}.{seen[name] - 1}")
    return names


def _read_parquet(path: Path, source_file: str) -> RawTable:
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{source_file}: not a readable Parquet file ({exc})") from exc
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(source_file, "parquet", frame, lines)
