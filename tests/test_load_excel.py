"""Excel input: sheets chosen by name or position, row numbers, rejects, conservation.

The workbooks are written here by hand (a minimal .xlsx is a zip of five XML parts) so the
tests need no spreadsheet writer; the real workbook is in tests/test_recipes.py.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

import pytest

from driftkit.errors import InputError
from driftkit.load.client import ClientData, load_client
from tests.conftest import make_client

Cell = str | float | None

_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)


def xlsx(sheets: dict[str, dict[int, list[Cell]]]) -> bytes:
    """A minimal workbook: sheet name → {1-based row number: cells from column A}."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as book:
        n = range(1, len(sheets) + 1)
        book.writestr(
            "[Content_Types].xml", _TYPES.format(sheets="".join(_SHEET_TYPE.format(n=i) for i in n))
        )
        book.writestr("_rels/.rels", _RELS)
        entries = "".join(
            f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in zip(n, sheets, strict=True)
        )
        book.writestr("xl/workbook.xml", f"<workbook {_NS}><sheets>{entries}</sheets></workbook>")
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in n
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>",
        )
        for i, rows in zip(n, sheets.values(), strict=True):
            book.writestr(f"xl/worksheets/sheet{i}.xml", _sheet(rows))
    return out.getvalue()


def _sheet(rows: dict[int, list[Cell]]) -> str:
    body = ""
    for r, cells in rows.items():
        xml = ""
        for c, value in enumerate(cells):
            ref = f"{chr(ord('A') + c)}{r}"
            if isinstance(value, float | int):
                xml += f'<c r="{ref}"><v>{value}</v></c>'
            elif value:
                xml += f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
        body += f'<row r="{r}">{xml}</row>'
    return f"<worksheet {_NS}><sheetData>{body}</sheetData></worksheet>"


STOCK = {
    1: ["sku", "on_hand"],
    2: ["A-1", 5.0],
    3: ["00123", 2.5],
    5: ["B", "abc"],  # row 4 is blank: skipped like a blank CSV line
    6: ["C", None],
    7: ["D", 1.0, "stray"],  # a cell beyond the header: structural reject
}


def _load(tmp_path, name: str, content: bytes, extra: str = "") -> ClientData:
    toml = (
        '[client]\ntimezone = "UTC"\n[systems.wms]\nkind = "wms"\n'
        f'snapshots = "raw/{name}"\nas_of = "2026-03-01T23:59:00"\n{extra}'
    )
    return load_client(make_client(tmp_path, toml, {f"raw/{name}": content}))


def test_xlsx_rows_lines_and_rejects(tmp_path) -> None:
    data = _load(tmp_path, "stock.xlsx", xlsx({"Stock": STOCK}))
    files = data.files.iloc[0]
    assert (files["rows_read"], files["rows_accepted"], files["rows_rejected"]) == (5, 2, 3)
    assert dict(zip(data.snapshots["sku"], data.snapshots["on_hand"], strict=True)) == {
        "A-1": 5.0,
        "00123": 2.5,
    }
    rejects = data.rejects.set_index("line")
    assert (
        rejects.loc[5, "reason"].startswith("not a quantity") and rejects.loc[5, "value"] == "abc"
    )
    assert rejects.loc[6, "reason"].startswith("empty quantity")
    assert "beyond the header" in rejects.loc[7, "reason"]
    assert set(data.rejects["source_file"]) == {"raw/stock.xlsx"}


def test_sheet_by_name_or_position(tmp_path) -> None:
    book = xlsx({"Notes": {1: ["nothing here"]}, "Stock": STOCK})
    by_name = _load(tmp_path / "a", "stock.xlsx", book, 'sheet = "stock"\n')
    by_position = _load(tmp_path / "b", "stock.xlsx", book, "sheet = 1\n")
    assert (
        by_name.snapshots["on_hand"].tolist()
        == by_position.snapshots["on_hand"].tolist()
        == [5.0, 2.5]
    )


def test_unknown_sheet_lists_the_sheets(tmp_path) -> None:
    with pytest.raises(InputError, match=r"no sheet 'Stok'; its sheets are \['Stock'\]"):
        _load(tmp_path, "stock.xlsx", xlsx({"Stock": STOCK}), 'sheet = "Stok"\n')


def test_workbook_named_csv_is_read_as_a_workbook(tmp_path) -> None:
    data = _load(tmp_path, "stock.csv", xlsx({"Stock": STOCK}))
    assert data.files["rows_accepted"].iloc[0] == 2


def test_corrupt_workbook_says_so_briefly(tmp_path) -> None:
    with pytest.raises(InputError) as info:
        _load(tmp_path, "stock.xlsx", b"PK\x03\x04 not really a workbook" * 50)
    assert "not a readable workbook" in str(info.value) and len(str(info.value)) < 500
