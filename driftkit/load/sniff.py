"""What a file is when it is not text: refuse binaries declared as CSV with a useful message.

A workbook, a zip archive, a gzip file, a Parquet file, a PDF or any other binary named where
a text export is expected used to reach the decoder and surface as kilobytes of garbage in
an error.  :func:`refuse_binary` recognizes them by their first bytes and says what the file
is and how to fix the config.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from driftkit.errors import InputError

_SIGNATURES = (
    (b"\x1f\x8b", "gzip-compressed", "decompress it (gunzip) and point the path at the CSV"),
    (b"PAR1", "a Parquet file", 'set `format = "parquet"` or give it a .parquet suffix'),
    (b"%PDF", "a PDF document", "export the data as CSV instead"),
)


def zip_names(path: Path) -> list[str]:
    """The member names of a zip archive (empty when it is not a readable zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return []


def refuse_binary(path: Path, data: bytes, source_file: str, setting: str) -> None:
    """Raise InputError when ``data`` is a binary file rather than a text export.

    More than 1% NUL bytes in the first 8 KB means binary, unless they fall on every other
    byte (UTF-16 without a BOM) or the file starts with a UTF-16/32 BOM.
    """
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        names = zip_names(path)
        what = (
            "an Excel workbook (.xlsx) without an Excel suffix; name it .xlsx"
            if "xl/workbook.xml" in names
            else f"a zip archive holding {names[:5]}; unzip it and point the path at the CSV"
        )
        raise InputError(f"{source_file}: the file is not a text export: it is {what} ({setting})")
    for magic, what, fix in _SIGNATURES:
        if head.startswith(magic):
            raise InputError(
                f"{source_file}: the file is not a text export: it is {what}; {fix} ({setting})"
            )
    sample = data[:8192]
    if sample.count(0) * 100 > len(sample) and not _utf16_like(sample):
        raise InputError(
            f"{source_file}: the file is binary ({sample.count(0)} NUL bytes in its first "
            f"{len(sample)}), not a text export; export the data as CSV and point {setting} at it"
        )


def _utf16_like(sample: bytes) -> bool:
    """NULs on every other byte (UTF-16) or three of four (UTF-32): text, not binary."""
    boms = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
    zeros = max(sample[0::2].count(0), sample[1::2].count(0))
    return sample.startswith(boms) or zeros > len(sample) // 4
