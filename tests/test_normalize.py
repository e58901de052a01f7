"""Tests of driftkit.load.normalize: SKUs, aliases, references, quantities, timestamps."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftkit.config import SkuRules
from driftkit.load.normalize import (
    EMPTY_QUANTITY,
    NOT_A_QUANTITY,
    NOT_STOCKED,
    SENTINEL,
    apply_aliases,
    normalize_references,
    normalize_skus,
    parse_quantities,
    parse_quantity_columns,
    parse_timestamps,
)
from driftkit.load.timestamps import parse_timestamp_columns

RULES = SkuRules(remove="-_ .")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" sku-008 ", "SKU008"),
        ("SKU005", "SKU005"),
        ("'8720602828605", "8720602828605"),
        ('="00123"', "00123"),
        ("00123", "00123"),
        ("", None),
        ("  ", None),
        (None, None),
        ("ab_c.d e", "ABCDE"),
    ],
    ids=[
        "dash-case",
        "no-dash",
        "apostrophe",
        "excel-formula",
        "leading-zeros",
        "empty",
        "blank",
        "none",
        "remove-set",
    ],
)
def test_normalize_skus(raw: str | None, expected: str | None) -> None:
    out = normalize_skus(pd.Series([raw], dtype="str"), RULES)
    assert (out.iloc[0] if pd.notna(out.iloc[0]) else None) == expected


def test_normalize_skus_does_not_mutate_and_keeps_index() -> None:
    raw = pd.Series([" a-1 ", "'007"], index=[5, 9])
    before = raw.copy()
    out = normalize_skus(raw, RULES)
    pd.testing.assert_series_equal(raw, before)
    assert list(out.index) == [5, 9] and out.tolist() == ["A1", "007"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=20), st.sampled_from(["", "-_ .", "-", "'="]))
def test_normalize_skus_idempotent(values: list[str], remove: str) -> None:
    rules = SkuRules(remove=remove)
    once = normalize_skus(pd.Series(values, dtype="str"), rules)
    twice = normalize_skus(once, rules)
    pd.testing.assert_series_equal(once, twice)


def test_apply_aliases_system_rows_override_wildcard() -> None:
    aliases = pd.DataFrame(
        {
            "system": ["", "*", "shop"],
            "raw_sku": ["OLD1", "OLD2", "OLD1"],
            "sku": ["W1", "W2", "S1"],
        }
    )
    skus = pd.Series(["OLD1", "OLD2", "KEEP", None], dtype="str")
    assert apply_aliases(skus, "shop", aliases).tolist()[:3] == ["S1", "W2", "KEEP"]
    assert apply_aliases(skus, "wms", aliases).tolist()[:3] == ["W1", "W2", "KEEP"]
    assert pd.isna(apply_aliases(skus, "wms", aliases).iloc[3])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("PO-000123", "123"),
        ("po 123", "123"),
        ("123", "123"),
        ("PO#123", "123"),
        ("#1001", "1001"),
        ("1001", "1001"),
        ("SO-001001", "1001"),
        ("000", "0"),
        ("ret-abc", "RETABC"),
        ("", None),
        (None, None),
    ],
    ids=[
        "po-dash",
        "po-space",
        "bare",
        "po-hash",
        "hash",
        "order",
        "so",
        "zeros",
        "letters",
        "empty",
        "none",
    ],
)
def test_normalize_references(raw: str | None, expected: str | None) -> None:
    out = normalize_references(pd.Series([raw], dtype="str")).iloc[0]
    assert (out if pd.notna(out) else None) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=20))
def test_normalize_references_idempotent(values: list[str]) -> None:
    once = normalize_references(pd.Series(values, dtype="str"))
    pd.testing.assert_series_equal(once, normalize_references(once))


@pytest.mark.parametrize(
    ("raw", "value", "reason"),
    [
        ("", math.nan, EMPTY_QUANTITY),
        ("not stocked", math.nan, NOT_STOCKED),
        ("Not Stocked", math.nan, NOT_STOCKED),
        ("1,234", 1234.0, None),
        ("12.00 ea", 12.0, None),
        ("1987.00 ea", 1987.0, None),
        ("70.0", 70.0, None),
        ("80.00", 80.0, None),
        ("$0", 0.0, None),
        ("-5", -5.0, None),
        ("(5)", -5.0, None),
        ("999999", math.nan, SENTINEL),
        ("abc", math.nan, NOT_A_QUANTITY),
        ("12 cs", math.nan, NOT_A_QUANTITY),
        ("nan", math.nan, NOT_A_QUANTITY),
    ],
    ids=[
        "empty",
        "not-stocked",
        "not-stocked-case",
        "thousands",
        "ea",
        "square-ea",
        "float",
        "float2",
        "dollar",
        "negative",
        "accounting",
        "sentinel",
        "garbage",
        "cases",
        "nan-text",
    ],
)
def test_parse_quantities(raw: str, value: float, reason: str | None) -> None:
    values, reasons = parse_quantities(pd.Series([raw], dtype="str"), sentinels=(999999.0,))
    got = values.iloc[0]
    assert (math.isnan(got) and math.isnan(value)) or got == value
    if reason is None:
        assert pd.isna(reasons.iloc[0])
    else:
        assert reasons.iloc[0].startswith(reason)


def test_parse_quantities_square_aging_report(realdata) -> None:
    aging = pd.read_csv(
        realdata / "square_trtr_excerpt" / "square_aging_inventory_2025-06-09_EXCERPT.csv",
        dtype=str,
        keep_default_na=False,
    )
    qty, reasons = parse_quantities(aging["quantity030d"])
    money, money_reasons = parse_quantities(aging["value030d"])
    assert reasons.isna().all() and money_reasons.isna().all()
    assert qty.tolist()[:5] == [190.0, 100.0, 90.0, 9880.0, 1987.0]
    assert (money == 0).all()
    stamps, bad = parse_timestamps(aging["lastReceivedAtDate"], timezone="America/Chicago")
    assert bad.isna().all() and stamps.iloc[0] == pd.Timestamp("2025-05-10 05:00", tz="UTC")


def test_parse_quantities_numeric_input_passes_through() -> None:
    values, reasons = parse_quantities(pd.Series([1.0, None, 999999.0]), sentinels=(999999.0,))
    assert values.iloc[0] == 1.0 and values.iloc[1:].isna().all()
    assert reasons.iloc[1] == EMPTY_QUANTITY and reasons.iloc[2].startswith(SENTINEL)


def test_parse_quantity_columns_gives_each_column_what_parsing_it_alone_gives() -> None:
    cells = ["3", "", "1,234", "12 cs", "(5)", "999999", "not stocked", "--5", "7 ea", None]
    index = pd.Index(range(10, 20))
    frame = pd.DataFrame(
        {
            "on_hand": pd.Series(cells, index=index, dtype="str"),
            "committed": pd.Series(cells[::-1], index=index, dtype="str"),
            "typed": pd.Series([1.0, None, 999999.0, 4, 5, 6, 7, 8, 9, 10], index=index),
        }
    )
    parsed = parse_quantity_columns(frame, sentinels=(999999.0,))
    assert list(parsed) == list(frame.columns)
    for col in frame.columns:
        alone = parse_quantities(frame[col], sentinels=(999999.0,))
        for got, expected in zip(parsed[col], alone, strict=True):
            pd.testing.assert_series_equal(got, expected)
    assert parsed["committed"][1].iloc[2].startswith(NOT_A_QUANTITY)  # "--5" of committed


CHICAGO = "America/Chicago"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-15T10:00:00+02:00", "2024-01-15 08:00"),
        ("2024-01-15T10:00:00Z", "2024-01-15 10:00"),
        ("2024-01-15 10:00", "2024-01-15 16:00"),
        ("2024-07-15 10:00", "2024-07-15 15:00"),
        ("01/15/2024", "2024-01-15 06:00"),
        ("01/15/2024 13:05", "2024-01-15 19:05"),
        ("2024-01-15", "2024-01-15 06:00"),
        ("2024-03-10 02:30", "2024-03-10 08:00"),
        ("2024-11-03 01:30", "2024-11-03 06:30"),
    ],
    ids=[
        "offset",
        "zulu",
        "naive-winter",
        "naive-summer",
        "us-date",
        "us-datetime",
        "date-only",
        "dst-nonexistent",
        "dst-ambiguous",
    ],
)
def test_parse_timestamps(raw: str, expected: str) -> None:
    stamps, reasons = parse_timestamps(pd.Series([raw], dtype="str"), timezone=CHICAGO)
    assert str(stamps.dtype) == "datetime64[us, UTC]"
    assert stamps.iloc[0] == pd.Timestamp(expected, tz="UTC") and pd.isna(reasons.iloc[0])


def test_parse_timestamps_reasons_and_format() -> None:
    raw = pd.Series(["garbage", "", "15.01.2024"], dtype="str")
    stamps, reasons = parse_timestamps(raw, timezone="UTC")
    assert stamps.isna().all()
    assert reasons.iloc[0].startswith("not a timestamp") and pd.isna(reasons.iloc[1])
    fixed, ok = parse_timestamps(raw.iloc[2:], timezone="UTC", fmt="%d.%m.%Y")
    assert fixed.iloc[0] == pd.Timestamp("2024-01-15", tz="UTC") and ok.isna().all()


def test_parse_timestamp_columns_gives_each_column_what_parsing_it_alone_gives() -> None:
    cells = ["2026-09-01 10:00", "", "09/02/2026", "2026-11-01 01:30", "soon", None, "2026-09-01Z"]
    index = pd.Index(range(5, 12))
    frame = pd.DataFrame(
        {
            "occurred_at": pd.Series(cells, index=index, dtype="str"),
            "recorded_at": pd.Series(cells[::-1], index=index, dtype="str"),
            "typed": pd.Series(pd.to_datetime(["2026-09-01"] * 7), index=index),
        }
    )
    parsed = parse_timestamp_columns(frame, timezone=CHICAGO)
    assert list(parsed) == list(frame.columns)
    for col in frame.columns:
        alone = parse_timestamps(frame[col], timezone=CHICAGO)
        for got, expected in zip(parsed[col], alone, strict=True):
            pd.testing.assert_series_equal(got, expected)
    assert parsed["recorded_at"][1].iloc[2].startswith("not a timestamp")  # "soon"


def test_normalize_references_mixes_numeric_cores_and_letters_in_one_column() -> None:
    raw = pd.Series(["PO-000123", "ret-abc", "", None, "000", "#1001", "x_y z"], dtype="str")
    out = normalize_references(raw)
    expected = ["123", "RETABC", None, None, "0", "1001", "XYZ"]
    assert [None if pd.isna(v) else v for v in out] == expected
    assert out.dtype == "str"
