"""Excel workbooks (``.xlsx``, ``.xlsm``, ``.xls``, ``.xlsb``, ``.ods``) read like a CSV export.

One sheet (``sheet`` in the system config: its name, or its 0-based position; default the
first) is read by python-calamine, the reader pandas uses for ``engine="calamine"``, and
turned into the same all-string :class:`~driftkit.load.read.RawTable` a CSV gives: the first
non-empty row is the header, ``line`` is the sheet's row number (header = its row), empty
rows are skipped as blank lines are in a CSV, and a row with cells beyond the header's last
column is a structural reject.  Cells become text as Excel shows them: ``50.0`` → ``50``,
dates → ISO 8601, booleans → ``TRUE``/``FALSE``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from driftkit.errors import InputError
from driftkit.load.read import (
    RawTable,
    unique_names,  # the CSV header rule, shared
)
from driftkit.load.sniff import zip_names

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_ZIP, _OLE2 = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"


def is_workbook(path: Path) -> bool:
    """True for a spreadsheet: an Excel suffix, an OLE2 (.xls) file or a zip holding ``xl/``."""
    if path.suffix.lower() in SUFFIXES:
        return True
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_OLE2):
        return True
    return head.startswith(_ZIP) and "xl/workbook.xml" in zip_names(path)


def read_workbook(path: Path, source_file: str, sheet: str | int | None, setting: str) -> RawTable:
    """Read one sheet of a workbook into a :class:`RawTable` (all cells as text).

    Raises
    ------
    InputError
        The workbook cannot be opened, the sheet does not exist, or it holds no header row.
    """
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types per container format
        raise InputError(
            f"{source_file}: not a readable workbook ({str(exc)[:200]}); open it in Excel and "
            "save it again as .xlsx, or export the sheet as CSV (some '.xls' exports are "
            "really HTML or tab-separated text: then name the file .csv)"
        ) from exc
    names = list(book.sheet_names)
    chosen = _sheet_name(names, sheet, source_file, setting)
    rows = book.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    cells = pd.DataFrame(rows, dtype=object).map(_text).astype("str")
    filled = np.flatnonzero((cells != "").any(axis=1).to_numpy())
    if not len(filled):
        raise InputError(f"{source_file}: sheet {chosen!r} is empty; choose another `sheet`")
    top = int(filled[0])
    header = list(cells.iloc[top])
    width = len(header) - next((i for i, h in enumerate(reversed(header)) if h), len(header))
    data = filled[1:]
    frame = cells.iloc[data].reset_index(drop=True)
    return _split(frame, unique_names(header[:width]), data.astype(np.int64) + 1, source_file)


def _sheet_name(names: list[str], sheet: str | int | None, source_file: str, setting: str) -> str:
    if sheet is None:
        return names[0]
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        return names[sheet]
    if isinstance(sheet, str):
        folded = {n.strip().casefold(): n for n in names}
        if sheet.strip().casefold() in folded:
            return folded[sheet.strip().casefold()]
    raise InputError(
        f"{source_file}: the workbook has no sheet {sheet!r}; its sheets are {names}. "
        f"Set `sheet = {names[0]!r}` (a name, or a 0-based position) in {setting}"
    )


def _split(frame: pd.DataFrame, header: list[str], lines: np.ndarray, source_file: str) -> RawTable:
    """Keep the header's columns; rows with cells to the right of the header are rejected."""
    width = len(header)
    if frame.empty:
        return RawTable(source_file, "excel", pd.DataFrame(columns=header, dtype="str"), lines)
    extra = (frame.iloc[:, width:] != "").any(axis=1).to_numpy()
    cells = frame.iloc[:, :width].set_axis(header, axis=1)
    broken = pd.DataFrame(
        {
            "line": lines[extra],
            "value": [",".join(row)[:200] for row in frame[extra].itertuples(index=False)],
            "reason": f"row has cells beyond the header's {width} columns (no header for them)",
        }
    )
    kept = cells[~extra].reset_index(drop=True)
    return RawTable(source_file, "excel", kept, lines[~extra], broken)


def _text(cell: object) -> str:
    """One cell as the text a CSV export of the sheet would hold."""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, dt.datetime | dt.date | dt.time):
        return cell.isoformat()
    return "" if cell is None else str(cell).strip()
