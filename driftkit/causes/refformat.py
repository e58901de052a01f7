"""Reference formats: the shape of a raw reference, digits as ``9`` and letters as ``A``.

Two systems that write the same document differently (``PO-000123`` and ``PO#123-A``) show
it in these shapes; :mod:`driftkit.causes.deliveries` keeps each record's shape and the
handoff map compares them.  ASCII references are shaped byte by byte with numpy; any other
goes through Python's ``re``, whose Unicode classes decide for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_SHAPE = r"^([^\W\d_]*)(.*)$"  # a leading run of letters, kept as written; the rest shaped


def reference_formats(raw: pd.Series) -> pd.Series:
    """The shape of each raw reference: digits become ``9``, letters ``A``.

    A leading run of letters is kept as written: it names the document type (``PO``,
    ``SO``, ``RMA``) and is what tells two formats apart.

    Returns
    -------
    pandas.Series
        ``str`` dtype, same index: ``PO-000123`` → ``PO-999999``, ``PO#123-b`` →
        ``PO#999-A``, ``#1001`` → ``#9999``; NaN stays NaN.
    """
    text = raw.astype("str")
    arrow = pa.array(text, type=pa.large_string())
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    shaped = pd.Series(_ascii_formats(arrow), index=raw.index, dtype="str")
    plain = pc.and_(pc.string_is_ascii(arrow), pc.invert(pc.match_substring(arrow, "\n")))
    other = text.notna().to_numpy() & ~pc.fill_null(plain, False).to_numpy(zero_copy_only=False)
    if other.any():
        shaped[other] = _unicode_formats(text[other])
    return shaped


def _ascii_formats(arrow: pa.LargeStringArray) -> pa.Array:
    """The shapes as if every byte were an ASCII character (exact for ASCII strings)."""
    buffers = arrow.buffers()
    offsets = np.frombuffer(buffers[1], np.int64)[arrow.offset : arrow.offset + len(arrow) + 1]
    if len(arrow) == 0 or buffers[2] is None or offsets[-1] == offsets[0]:
        return arrow
    data = np.frombuffer(buffers[2], np.uint8)[offsets[0] : offsets[-1]]
    letter = ((data | 0x20) >= ord("a")) & ((data | 0x20) <= ord("z"))
    digit = (data >= ord("0")) & (data <= ord("9"))
    other_before = np.zeros(len(data) + 1, np.int32)  # non-letters before each byte
    np.cumsum(~letter, dtype=np.int32, out=other_before[1:])
    start = other_before[offsets[:-1] - offsets[0]]
    owner = np.repeat(np.arange(len(arrow)), np.diff(offsets))
    leading = letter & (other_before[:-1] == start[owner])
    shaped = np.where(digit, ord("9"), np.where(letter & ~leading, ord("A"), data)).astype(np.uint8)
    rebuilt = pa.LargeStringArray.from_buffers(
        len(arrow), pa.py_buffer(offsets - offsets[0]), pa.py_buffer(shaped)
    )
    return pc.if_else(arrow.is_valid(), rebuilt, None)


def _unicode_formats(text: pd.Series) -> pd.Series:
    """:func:`reference_formats` by Python's ``re`` (Unicode letters and digits)."""
    parts = text.str.extract(_SHAPE, expand=True)
    rest = parts[1].str.replace(r"\d", "9", regex=True).str.replace(r"[^\W\d_]", "A", regex=True)
    return (parts[0] + rest).astype("str")
