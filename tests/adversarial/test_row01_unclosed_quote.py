"""Row 1: one stray quote mid-file must not swallow the rest of the file."""

from __future__ import annotations

import hashlib

import pytest

from tests.adversarial.conftest import Loader, accounted

ROWS = 200


def _file(broken_line: str, at: int = 3) -> str:
    lines = ["sku,location,as_of,on_hand"] + [f"S{i},x,2024-01-01,{i}" for i in range(ROWS)]
    lines[at] = broken_line
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "broken",
    ['S2,x,"2024-01-01,2', 'S2,x,2024-01-01,"2', '"S2,x,2024-01-01,2'],
    ids=["quote-in-time", "quote-in-last-field", "quote-in-first-field"],
)
def test_a_stray_quote_rejects_its_line_only(load_one: Loader, broken: str) -> None:
    data = load_one(_file(broken))
    files = data.files.iloc[0]
    assert files["rows_read"] == ROWS
    assert (files["rows_accepted"], files["rows_rejected"]) == (ROWS - 1, 1)
    assert data.rejects["line"].tolist() == [4]
    assert data.rejects["value"].iloc[0] == broken  # the whole line, not a 200-char cut
    assert "unclosed quote" in data.rejects["reason"].iloc[0]
    assert accounted(data) and len(data.snapshots) == ROWS - 1


def test_two_stray_quotes_far_apart_lose_no_line(load_one: Loader) -> None:
    text = _file('S2,x,2024-01-01,"2', at=3).replace("S99,x,2024-01-01,99", '"S99,x,2024-01-01,99')
    data = load_one(text)
    assert data.files.iloc[0]["rows_read"] == ROWS and accounted(data)
    assert data.rejects["line"].tolist() == [4, 101]


def test_a_real_multiline_field_is_still_one_record(load_one: Loader) -> None:
    data = load_one('sku,note,as_of,on_hand\nA,"two\nlines, ok",2024-01-01,1\nB,x,2024-01-01,2\n')
    assert data.snapshots["sku"].tolist() == ["A", "B"] and len(data.rejects) == 0


def test_a_huge_rejected_value_keeps_its_length_and_hash(load_one: Loader) -> None:
    line = "A,2024-01-01,1,extra" + "x" * 50_000
    data = load_one(f"sku,as_of,on_hand\n{line}\n")
    value = data.rejects["value"].iloc[0]
    digest = hashlib.sha256(line.encode()).hexdigest()[:16]
    assert value == f"{line[:200]}… [50020 chars, sha256 {digest}]"
