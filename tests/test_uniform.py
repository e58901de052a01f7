"""The whole-column fast paths give exactly the careful parsers' results, or step aside."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftkit.load.normalize import EMPTY_QUANTITY, parse_quantities
from driftkit.load.timestamps import parse_timestamps
from driftkit.load.uniform import digits_only, first_texts, plain_integers, uniform_times

ZONE = "America/Chicago"


def _careful(cells: list[str | None]) -> pd.Series:
    """The same cells in object storage: the fast paths never take them."""
    return pd.Series(cells, dtype="object")


def _fast(cells: list[str | None]) -> pd.Series:
    return pd.Series(cells, dtype="str")


@pytest.mark.parametrize(
    "cells",
    [
        ["2026-09-01T05:15:15-05:00", "", "2026-11-01T01:30:00-06:00", None],
        ["2026-09-01 05:15:11", "2026-11-01 01:30:00", "2026-03-08 02:30:00", ""],
        ["2028-02-29 23:59:59", "1901-01-01 00:00:00", "2199-12-31 23:59:59"],
        ["2026-09-01T05:15:15+14:00", "2026-12-31T23:59:59+00:00", "2027-01-01T00:00:00-09:30"],
        ["", ""],
    ],
    ids=["aware", "naive-dst", "leap-day-and-limits", "offsets", "all-empty"],
)
def test_uniform_times_match_the_careful_parser(cells: list[str | None]) -> None:
    assert uniform_times(_fast(cells)) is not None
    _assert_times_as_careful(cells)


@pytest.mark.parametrize(
    "cells",
    [
        ["2026-09-01 05:15:11", "2026-09-01T05:15:11-05:00"],  # two layouts
        ["2026-02-30 05:15:11"],  # no such day
        ["2026-02-29 05:15:11"],  # not a leap year
        ["2026-09-01 24:00:00"],
        ["2026-09-01 23:59:60"],
        ["2026-09-01T05:15:15+15:00"],
        ["2026-09-01T05:15:15*05:00"],
        ["2026-13-01 05:15:11"],
        ["1850-01-01 00:00:00"],  # before the years
        [" 2026-09-01 05:15:11"],  # whitespace
        ["09/01/2026"],
        ["2026-09-01T05:15:11Z"],
        ["2026-00-10 05:15:11"],
        ["2026-09-00 05:15:11"],
        ["2026-04-31 05:15:11"],
        ["2100-02-29 05:15:11"],  # a century is no leap year
    ],
    ids=[
        "mixed",
        "impossible",
        "no-leap-day",
        "hour-24",
        "second-60",
        "offset-15h",
        "no-sign",
        "month-13",
        "old",
        "space",
        "us-date",
        "zulu",
        "month-0",
        "day-0",
        "april-31",
        "no-leap-century",
    ],
)
def test_uniform_times_leave_other_columns_to_the_careful_parser(cells: list[str]) -> None:
    assert uniform_times(_fast(cells)) is None
    _assert_times_as_careful(cells)


@pytest.mark.parametrize(
    "cells",
    [["5", "-3", "", "007", None, "1000000000"], ["0", "12"]],
    ids=["mixed", "no-empty"],
)
def test_plain_integers_match_the_careful_parser(cells: list[str | None]) -> None:
    assert plain_integers(_fast(cells), EMPTY_QUANTITY) is not None
    for sentinels in ((), (1000000000.0,)):
        fast = parse_quantities(_fast(cells), sentinels=sentinels)
        slow = parse_quantities(_careful(cells), sentinels=sentinels)
        for a, b in zip(fast, slow, strict=True):
            pd.testing.assert_series_equal(a, b)


@pytest.mark.parametrize(
    "cells",
    [
        ["-0", ""],
        ["7", "", "-00", "3"],
        ["0x10"],
        ["4", "0X1F"],
        ["1000000001"],
        ["+5"],
        [" 5"],
        ["5.0"],
        ["12 ea"],
    ],
    ids=[
        "signed-zero",
        "signed-zeros",
        "hex",
        "hex-upper",
        "huge",
        "plus",
        "space",
        "decimal",
        "unit",
    ],
)
def test_plain_integers_leave_other_columns_to_the_careful_parser(cells: list[str]) -> None:
    assert plain_integers(_fast(cells), EMPTY_QUANTITY) is None
    assert plain_integers(_fast(["1", *cells]).iloc[1:], EMPTY_QUANTITY) is None  # a slice


def test_plain_integers_of_a_slice_skip_the_cells_before_it() -> None:
    sliced = _fast(["-0", "0x1", "0", "12", ""]).iloc[2:]
    numbers, reasons = plain_integers(sliced, EMPTY_QUANTITY) or (None, None)
    assert numbers is not None and reasons is not None
    assert numbers.tolist()[:2] == [0.0, 12.0] and reasons.isna().tolist() == [True, True, False]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(-(10**10), 10**10).map(str), st.just("")), max_size=20))
def test_integer_columns_parse_alike(cells: list[str]) -> None:
    fast = parse_quantities(_fast(cells))
    slow = parse_quantities(_careful(cells))
    for a, b in zip(fast, slow, strict=True):
        pd.testing.assert_series_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=pd.Timestamp("1901-01-01"), max_value=pd.Timestamp("2199-12-31")),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S-05:00", "%Y-%m-%dT%H:%M:%S+01:30"]),
)
def test_time_columns_parse_alike(times: list[pd.Timestamp], layout: str) -> None:
    cells = [time.strftime(layout) for time in times]
    assert uniform_times(_fast(cells)) is not None
    fast, _ = parse_timestamps(_fast(cells), timezone=ZONE)
    slow, _ = parse_timestamps(_careful(cells), timezone=ZONE)
    pd.testing.assert_series_equal(fast, slow)


def test_every_date_of_the_years_reads_as_pandas() -> None:
    days = pd.date_range("1901-01-01", "2199-12-31", freq="D", unit="us")
    for layout in ("%Y-%m-%d 23:59:58", "%Y-%m-%dT00:00:01+14:00"):
        stamps = uniform_times(_fast(list(days.strftime(layout))))
        assert stamps is not None
        expected = pd.to_datetime(pd.Series(days.strftime(layout)), format="ISO8601")
        assert (stamps.to_numpy() == expected.to_numpy()).all()


def _assert_times_as_careful(cells: list[str | None]) -> None:
    """The Arrow column parses to the same times and reasons as the careful (object) one."""
    fast, fast_why = parse_timestamps(_fast(cells), timezone=ZONE)
    slow, slow_why = parse_timestamps(_careful(cells), timezone=ZONE)
    pd.testing.assert_series_equal(fast, slow)
    pd.testing.assert_series_equal(fast_why, slow_why)


_CELL = st.one_of(st.none(), st.text(alphabet="09az -#é€\u0663\u00a0", max_size=8))


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(_CELL, max_size=12), start=st.integers(0, 3))
def test_digits_only_is_the_regex(cells: list[str | None], start: int) -> None:
    column = _fast(cells).iloc[start:]  # a slice: the Arrow array has an offset
    expected = column.str.replace(r"[^0-9]", "", regex=True)
    digits = digits_only(column)
    assert digits is not None
    pd.testing.assert_series_equal(digits, expected, check_exact=True)
    assert digits_only(_careful(cells)) is None


@settings(max_examples=200, deadline=None)
@given(columns=st.lists(st.lists(_CELL, min_size=5, max_size=5), max_size=4))
def test_first_texts_is_the_first_non_null_cell(columns: list[list[str | None]]) -> None:
    index = pd.RangeIndex(5)
    expected = pd.Series(pd.NA, index=index, dtype="str")
    for cells in columns:
        expected = expected.where(expected.notna(), _fast(cells))
    got = first_texts([_fast(cells) for cells in columns], index)
    pd.testing.assert_series_equal(got, expected, check_exact=True)
    fallback = first_texts([_careful(cells).astype("str") for cells in columns], index)
    pd.testing.assert_series_equal(fallback, expected, check_exact=True)
