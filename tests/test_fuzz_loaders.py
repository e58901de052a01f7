"""Fuzzing the loaders (issue 16, STYLE 14): random bytes, quoting, encodings and quantities.

Every example must end in one of two ways: the file loads with rows read = accepted +
rejected (= the file's data lines where they are known), or a one-line :class:`InputError`.
Nothing else may escape.  Examples are few and small so the module costs seconds.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from driftkit.errors import InputError
from driftkit.load.client import ClientData, load_client
from tests.conftest import make_client

TOML = """
[client]
name = "Fuzz"
[systems.wms]
kind = "wms"
snapshots = "raw/s.csv"
"""
HEADER = ["sku", "location", "as_of", "on_hand"]
# Derandomized: the same examples on every run, so `make test` cannot flake; widen the
# search locally with `--hypothesis-seed=N` or more examples.
FUZZ = settings(
    max_examples=15, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip


def _load(content: bytes) -> ClientData | None:
    """Load ``content`` as the only export; None when it is refused with an InputError."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            return load_client(make_client(Path(folder), TOML, {"raw/s.csv": content}))
        except InputError as exc:
            assert "\n" not in str(exc).strip() or len(str(exc)) < 4000
            return None


def _conserved(data: ClientData) -> int:
    file = data.files.iloc[0]
    assert file["rows_read"] == file["rows_accepted"] + file["rows_rejected"]
    assert len(data.rejects) == file["rows_rejected"]
    assert data.rejects[["source_file", "line", "reason"]].notna().all().all()
    return int(file["rows_read"])


@FUZZ
@given(st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE]), st.binary(max_size=400))
@example(bom=b"", body=b"\t")  # found by CI: a tab-only line is a data line
def test_random_bytes_after_a_header(bom: bytes, body: bytes) -> None:
    data = _load(bom + b"sku,location,as_of,on_hand\n" + body)
    if data is not None:
        # A line holding only blanks or tabs is a data line (read, then rejected), as in
        # driftkit.load.read: only a line with nothing before its line end is skipped.
        lines = (b"x\n" + body).replace(b"\r", b"\n").split(b"\n")
        assert _conserved(data) <= sum(1 for line in lines[1:] if line)


# A quoted line holding as many fields as the header reads as a swallowed row and is
# rejected line by line (driftkit.load.lines): such cells are left out of this property.
_CELL = st.text(alphabet=st.sampled_from('ab1,"\n\r\t ;-'), max_size=6).filter(
    lambda cell: cell.count(",") < len(HEADER) - 1
)


@FUZZ
@given(st.lists(st.tuples(_CELL, _CELL, _CELL, _CELL), min_size=1, max_size=8))
def test_random_quoting_written_properly_is_read_back(rows: list[tuple[str, ...]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)  # quotes \r
    writer.writerows([HEADER, *[["S" + r[0], *r[1:]] for r in rows]])
    data = _load(buffer.getvalue().encode("utf-8"))
    if data is not None:
        assert _conserved(data) == len(rows)


@FUZZ
@given(
    st.lists(st.sampled_from(['"', "", "5", "a,b", "x"]), min_size=1, max_size=12),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]),
)
def test_stray_quotes_in_any_encoding_lose_no_line(cells: list[str], encoding: str) -> None:
    lines = [",".join(HEADER)] + [f"S{i},x,2024-01-01,{c}" for i, c in enumerate(cells)]
    data = _load(("\n".join(lines) + "\n").encode(encoding))
    if data is not None:
        assert _conserved(data) == len(cells)


_QUANTITY = st.one_of(
    st.text(alphabet=st.sampled_from("0123456789-+.,()$ e٣１"), max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
)


@FUZZ
@given(st.lists(_QUANTITY, min_size=1, max_size=10))
def test_random_quantities_are_numbers_or_rejects(quantities: list[str]) -> None:
    lines = [",".join(HEADER)] + [
        f"S{i},x,2024-01-01,{q.replace(',', '')}" for i, q in enumerate(quantities)
    ]
    data = _load(("\n".join(lines) + "\n").encode("utf-8"))
    assert data is not None
    assert _conserved(data) == len(quantities)
    on_hand = data.snapshots["on_hand"].dropna()
    assert (on_hand.abs() <= 1e9).all()
