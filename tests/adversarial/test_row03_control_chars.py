"""Row 3: control characters in a SKU or title must not kill the renderer (vl-convert)."""

from __future__ import annotations

import subprocess
import sys

from driftkit.report.table import table

# vl-convert aborts the whole process on characters XML forbids: run the chart in a child.
CHILD = """
import altair as alt, pandas as pd
from driftkit.report.embed import embed
skus = ["A\\x00B", "C\\x01D", "E\\x0bF", "G\\x1bH", "I\\ufffeJ"]
frame = pd.DataFrame({"sku": skus, "units": [1, 2, 3, 4, 5]})
out = embed(alt.Chart(frame).mark_bar().encode(x="sku:N", y="units:Q"), "c")
assert "A\\\\x00B" in out and "I\\\\ufffeJ" in out, out[:500]
assert "5 label(s) had control characters escaped" in out
print("rendered")
"""


def test_a_chart_with_control_characters_renders() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip() == "rendered", done.stderr[-800:]


def test_a_table_escapes_control_characters_and_says_so() -> None:
    import pandas as pd

    html = table(pd.DataFrame({"sku": ["A\x00B", "plain"], "units": [1, 2]})).html
    assert "\x00" not in html and "A\\x00B" in html
    assert "1 cell(s) had control characters escaped" in html
