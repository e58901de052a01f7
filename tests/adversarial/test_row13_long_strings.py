"""Row 13: a 100k-character SKU is shortened for display; the outputs keep it whole."""

from __future__ import annotations

import pandas as pd

from driftkit.report.table import table

LONG = "SKU" + "x" * 100_000


def test_a_table_shows_a_short_form_and_says_so() -> None:
    html = table(pd.DataFrame({"sku": [LONG, "B"], "units": [1, 2]})).html
    assert len(html) < 2_000 and "[100,003 chars #" in html
    assert "1 cell(s) had control characters escaped or were shortened" in html


def test_distinct_long_strings_stay_distinct() -> None:
    from driftkit.report.clean import display_text

    other = LONG[:-1] + "y"
    assert display_text(LONG) != display_text(other)
    assert display_text(LONG).startswith("SKUxxx") and len(display_text(LONG)) < 90


def test_a_chart_spec_keeps_short_data_and_titles() -> None:
    from driftkit.report.clean import clean_spec

    spec = {"title": LONG, "datasets": {"d": [{"sku": LONG, "units": 1}]}, "mark": "bar"}
    cleaned, changed = clean_spec(spec)
    assert changed == 2 and len(str(cleaned)) < 1_000
    assert spec["datasets"]["d"][0]["sku"] == LONG  # the input is not mutated
