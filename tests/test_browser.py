"""The exported report in headless Chromium with the network cut off (needs /usr/bin/chromium)."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from driftkit.report import html as report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHART_IDS = ["drift-over-time", "count-list"]
SETUP = """\
import pandas as pd
from IPython.display import display
from driftkit.report import charts
from driftkit.report import html as report
days = pd.date_range("2026-09-01", periods=4, freq="D", tz="UTC")
daily = pd.DataFrame({"day": list(days) * 2, "system": ["erp"] * 4 + ["shop"] * 4,
                      "counterpart": "wms", "skus_compared": 10, "skus_drifted": [1, 2, 3, 1] * 2,
                      "abs_drift_units": [1.0, 4.0, 2.0, 0.0, 3.0, 1.0, 5.0, 2.0],
                      "drift_value": [10.0, 40.0, 20.0, 0.0, 30.0, 10.0, 50.0, 20.0]})
top = pd.DataFrame({"sku": ["<script>alert(1)</script>", "B-2"], "location": "main",
                    "expected_value": [500.0, 50.0], "reason": ["oversell", "late reorder"],
                    "system": "shop"})"""


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM.exists(), "headless Chromium missing: apt-get install -y chromium"
    args = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}",
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=5000", *extra, url,
    ]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=90, check=True)


def _export(nb: nbformat.NotebookNode, folder: Path) -> Path:
    return report.export_html(
        nb, folder / "drift_audit.html", title="Drift audit", client="Browser test",
        window="2026-09-01 to 2026-09-04", generated_at="2026-09-05 06:00 UTC",
    )  # fmt: skip


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-chart report from a notebook executed in a real kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Browser test\n## Drift over time"),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(
            'display(report.chart(charts.drift_over_time(daily), "drift-over-time"))'
        ),
        nbformat.v4.new_markdown_cell("## What to count next"),
        nbformat.v4.new_code_cell('display(report.chart(charts.count_list(top), "count-list"))'),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return _export(nb, tmp_path_factory.mktemp("browser"))


def _dom(path: Path, tmp_path: Path, *extra: str) -> str:
    return _chromium(path.as_uri(), tmp_path / "profile", *extra, "--dump-dom").stdout


def _chart_div(dom: str, chart_id: str) -> str:
    """The markup of one chart div, up to the script that follows it."""
    match = re.search(rf'<div[^>]*id="{chart_id}".*?(?=<script)', dom, re.DOTALL)
    assert match is not None, f"chart {chart_id} missing from the DOM"
    return match.group()


def test_charts_render_offline_without_script_errors(page: Path, tmp_path: Path) -> None:
    dom = _dom(page, tmp_path)
    body = re.search(r"<body[^>]*dk-report[^>]*>", dom)
    assert body is not None
    assert 'data-dk-errors="0"' in body.group(), body.group()
    for chart_id in CHART_IDS:
        div = _chart_div(dom, chart_id)
        opening = div[: div.index(">") + 1]
        assert "dk-rendered" in opening and "vega-embed" in opening
        assert "dk-fallback" not in div  # the static SVG was replaced ...
        assert re.search(r'<svg[^>]*class="marks"', div)  # ... by vega-embed's live SVG
        assert "vega-bindings" in div or chart_id != "drift-over-time"  # the dropdown


def test_error_hook_reports_a_failing_script(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("pass")
    broken = "<script>throw new Error('boom');</script>"
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/html": broken})]
    nb.cells = [nbformat.v4.new_markdown_cell("## Broken"), code]
    dom = _dom(_export(nb, tmp_path), tmp_path)
    body = re.search(r"<body[^>]*dk-report[^>]*>", dom)
    assert body is not None and 'data-dk-errors="1"' in body.group()
    assert "boom" in body.group()


def test_screenshot_is_non_trivial(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _chromium(page.as_uri(), tmp_path / "profile", "--hide-scrollbars",
              "--window-size=1280,1600", f"--screenshot={shot}")  # fmt: skip
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 1600)
    assert len(data) > 60_000  # a blank or text-only page compresses far smaller
