"""Tests for driftkit.report.html: fragments, escaping, the offline HTML export and the index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from driftkit.errors import ReportError
from driftkit.report import charts, export
from driftkit.report import html as report

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
SETUP = """\
import pandas as pd
from IPython.display import display
from driftkit.report import charts, export
from driftkit.report import html as report
top = pd.DataFrame({"sku": ["<script>alert(1)</script>", "B-2"], "location": ["main", "main"],
                    "expected_value": [500.0, 50.0], "reason": ["oversell", "late reorder"],
                    "system": ["shop", "shop"]})"""


def _top() -> pd.DataFrame:
    return pd.DataFrame(
        {"sku": [EVIL, "B-2"], "location": ["main", "main"], "expected_value": [500.0, 50.0],
         "reason": ["oversell", "late reorder"], "system": ["shop", "shop"]}
    )  # fmt: skip


def _html_output(fragment: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/html": fragment})


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny notebook executed in a real kernel, saved as .ipynb."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Audit of a test client\nOpening text."),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_markdown_cell("## What to count next"),
        nbformat.v4.new_code_cell('display(report.table(top, columns=["sku", "expected_value"]))'),
        nbformat.v4.new_code_cell('display(report.chart(charts.count_list(top), "count-list"))'),
        nbformat.v4.new_markdown_cell("## Second section\n### A detail"),
    ]
    folder = tmp_path_factory.mktemp("nb")
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    path = folder / "drift_audit.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def exported(executed: Path) -> str:
    out = executed.parent / "out" / "drift_audit.html"
    written = report.export_html(
        executed, out, title="Drift audit", client="Acme <b>Outdoor</b>",
        window="2026-09-01 to 2026-09-30", generated_at="2026-10-01 06:00 UTC",
    )  # fmt: skip
    assert written == out
    assert [p.name for p in out.parent.iterdir()] == ["drift_audit.html"]  # no temp file left
    return out.read_text(encoding="utf-8")


# --- script_json and embed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "forbidden"),
    [("</script><script>x()</script>", "</"), ("<!-- x", "<!--"), ("a\u2028b\u2029c", "\u2028"),
     ("a & b > c", "&")],
    ids=["close-script", "html-comment", "line-separators", "ampersand"],
)  # fmt: skip
def test_script_json_cannot_break_out_of_a_script(value: str, forbidden: str) -> None:
    text = report.script_json({"title": value})
    assert forbidden not in text
    assert "<" not in text and "\u2029" not in text
    assert json.loads(text) == {"title": value}


def test_embed_has_fallback_svg_script_and_escapes_data() -> None:
    fragment = report.embed(charts.count_list(_top()), "count-list")
    assert fragment.startswith('<div id="count-list" class="dk-chart"><div class="dk-fallback"')
    assert "<svg" in fragment and 'class="marks"' in fragment
    assert fragment.count("</script>") == 1  # only our own closing tag
    assert EVIL not in fragment
    assert ESCAPED in fragment  # in the SVG text of the axis label
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in fragment  # in the spec
    assert "window.vegaEmbed(el, spec, {actions: false" in fragment
    assert "$schema" not in fragment


def test_embed_is_deterministic_and_needs_a_clean_id() -> None:
    chart = charts.count_list(_top())
    first, second = report.embed(chart, "count-list"), report.embed(chart, "count-list")
    assert first == second
    assert 'id="count-list-1"' in first and "url(#count-list-1)" in first
    assert not re.search(r'id="clip\d', first)
    with pytest.raises(ReportError, match="lower-case letters"):
        report.embed(chart, 'x" onload="alert(1)')


def test_chart_html_displays_as_text_html() -> None:
    shown = report.chart(charts.count_list(_top()), "count-list")
    assert shown._repr_html_() == report.embed(charts.count_list(_top()), "count-list")
    assert repr(shown).startswith("ChartHTML('count-list', ")
    assert len(repr(shown)) < 80


def test_embed_refuses_oversized_inline_data() -> None:
    import altair as alt

    big = alt.Chart(pd.DataFrame({"x": range(6000)})).mark_point().encode(x="x")
    with pytest.raises(ReportError, match="aggregate before charting"):
        report.embed(big, "big")


def test_vega_bundle_defines_globals_and_is_cached() -> None:
    bundle = report.vega_bundle()
    assert bundle is report.vega_bundle()
    assert "window.vegaEmbed" in bundle and "</script" not in bundle.lower()


# --- table ---------------------------------------------------------------------------------


def test_table_escapes_formats_and_caps_rows() -> None:
    frame = pd.DataFrame({"title": [EVIL, "b", "c"], "units": [1.5, 2.0, 3.25], "n": [1, 2, 3000]})
    html = report.table(frame, max_rows=2, formats={"units": ".1f"}).html
    assert EVIL not in html and ESCAPED in html
    assert '<td class="num">1.5</td>' in html
    assert "3,000" not in html and "First 2 of 3 rows" in html
    full = report.table(frame, columns=["n", "title"]).html
    assert full.index('<th class="num">n</th>') < full.index("<th>title</th>")
    assert '<td class="num">3,000</td>' in full


def test_table_missing_column_is_an_error() -> None:
    with pytest.raises(ReportError, match="'nope'"):
        report.table(pd.DataFrame({"a": [1]}), columns=["a", "nope"])


# --- external_urls -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ('<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>', ["https://cdn.jsdelivr.net/npm/vega@5"]),
        ('<link rel="stylesheet" href="//fonts.googleapis.com/css">', ["//fonts.googleapis.com/css"]),
        ('<img srcset="a.png 1x, http://x.org/b.png 2x">', ["http://x.org/b.png"]),
        ('<style>@import "https://x.org/a.css"; p{background:url(http://x.org/i.png)}</style>',
         ["https://x.org/a.css", "http://x.org/i.png"]),
        ('<div style="background-image: url(\'https://x.org/i.png\')"></div>', ["https://x.org/i.png"]),
        ('<meta http-equiv="refresh" content="0; url=https://x.org/">', ["https://x.org/"]),
        ('<svg><image xlink:href="https://x.org/i.png"/></svg>', ["https://x.org/i.png"]),
        ('<a href="file:///etc/passwd">x</a>', ["file:///etc/passwd"]),
        ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"></svg>', []),
        ('<a href="#Drift-over-time">x</a><a href="acme/2026-10-01/drift_audit.html">r</a>', []),
        ('<img src="data:image/png;base64,AAAA"><a href="mailto:ops@example.com">m</a>', []),
        ('<script>var u = "https://vega.github.io/editor/";</script>', []),
    ],
    ids=["script-src", "protocol-relative", "srcset", "style-element", "style-attribute",
         "meta-refresh", "svg-xlink", "file-scheme", "xmlns", "anchor-and-relative",
         "data-and-mailto", "script-text"],
)  # fmt: skip
def test_external_urls(document: str, expected: list[str]) -> None:
    assert report.external_urls(document) == expected


# --- export_html ---------------------------------------------------------------------------


def test_export_has_no_external_urls_and_one_bundle(exported: str) -> None:
    assert report.external_urls(exported) == []
    assert exported.count(report.vega_bundle()) == 1
    assert exported.index(report.vega_bundle()) < exported.index("</head>")
    lowered = exported.lower()
    assert "mathjax" not in lowered and "require.js" not in lowered and "requirejs" not in lowered


def test_export_hides_code_and_keeps_outputs(exported: str) -> None:
    assert "report.chart(" not in exported and "import pandas" not in exported
    assert "jp-InputArea-editor" not in exported and "In&nbsp;[" not in exported
    assert report._chart_ids(exported) == ["count-list"]
    assert 'class="dk-table"' in exported


def test_export_header_and_table_of_contents(exported: str) -> None:
    assert "Acme &lt;b&gt;Outdoor&lt;/b&gt;" in exported and "<b>Outdoor" not in exported
    assert "2026-09-01 to 2026-09-30" in exported and "2026-10-01 06:00 UTC" in exported
    toc = re.search(r'<nav[^>]*class="dk-toc".*?</nav>', exported, re.DOTALL)
    assert toc is not None
    links = re.findall(r'href="#([^"]+)"', toc.group())
    assert links == ["What-to-count-next", "Second-section", "A-detail"]  # h1 is the title
    assert all(f'id="{anchor}"' in exported for anchor in links)


def test_export_escapes_product_titles(exported: str) -> None:
    assert EVIL not in exported
    assert ESCAPED in exported


def test_export_has_print_css_and_error_hook(exported: str) -> None:
    assert "@media print" in exported and "break-inside: avoid" in exported
    assert "window.dkReportError" in exported and "data-dk-errors" in exported


def _synthetic(
    *outputs: nbformat.NotebookNode, markdown: str = "## Section"
) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("pass")
    code.outputs = list(outputs)
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), code]
    return nb


def _export(nb: nbformat.NotebookNode, tmp_path: Path) -> Path:
    return report.export_html(nb, tmp_path / "r.html", title="t", client="c", window="w",
                              generated_at="g")  # fmt: skip


def test_export_keeps_each_chart_svg_as_vl_convert_wrote_it(tmp_path: Path) -> None:
    fragment = report.embed(charts.count_list(_top()), "count-list")
    svg = re.search(r"<svg\b.*?</svg>", fragment, re.DOTALL)
    assert svg is not None and ESCAPED in svg.group()
    document = _export(_synthetic(_html_output(fragment)), tmp_path).read_text(encoding="utf-8")
    assert document.count(svg.group()) == 1  # not re-serialized by nbconvert's BeautifulSoup
    assert "dk-svg-" not in document and EVIL not in document


def test_export_refuses_a_chart_the_template_lost() -> None:
    with pytest.raises(ReportError, match=r"1 chart SVGs were lifted .* 0 places came back"):
        export._put_back("<p>no chart</p>", {"<!--dk-svg-00-0-->": "<svg></svg>"})


def test_export_refuses_duplicate_chart_ids(tmp_path: Path) -> None:
    fragment = report.embed(charts.count_list(_top()), "same")
    with pytest.raises(ReportError, match=r"'same'.*more than once"):
        _export(_synthetic(_html_output(fragment), _html_output(fragment)), tmp_path)
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "inside",
    ['<image href="https://example.com/a.png"/>', '<rect style="fill: url(https://example.com/p)"/>',
     "<style>@import 'https://example.com/s.css';</style>", '<a xlink:href="//example.com/x"/>'],
    ids=["href", "style-url", "style-import", "xlink"],
)  # fmt: skip
def test_export_refuses_external_urls_inside_a_chart_svg(tmp_path: Path, inside: str) -> None:
    """The SVGs skip nbconvert and most skip the parse; one that could name a URL is checked."""
    fragment = report.embed(charts.count_list(_top()), "count-list").replace(
        "</svg>", inside + "</svg>", 1
    )
    with pytest.raises(ReportError, match=r"external URL.*example\.com"):
        _export(_synthetic(_html_output(fragment)), tmp_path)
    assert not (tmp_path / "r.html").exists()


def test_export_finds_a_duplicate_chart_id_inside_a_chart_svg(tmp_path: Path) -> None:
    fragment = report.embed(charts.count_list(_top()), "twin")
    inner = '<g><foreignObject><div id="twin" class="dk-chart"></div></foreignObject></g>'
    with pytest.raises(ReportError, match=r"'twin'.*more than once"):
        _export(_synthetic(_html_output(fragment.replace("</svg>", inner + "</svg>", 1))), tmp_path)


def test_warm_up_export_then_export_is_unchanged(tmp_path: Path) -> None:
    nb = _synthetic(_html_output(report.embed(charts.count_list(_top()), "count-list")))
    first = _export(nb, tmp_path).read_text(encoding="utf-8")
    export.warm_up_export()
    assert _export(nb, tmp_path).read_text(encoding="utf-8") == first


def test_export_refuses_external_links_in_markdown(tmp_path: Path) -> None:
    nb = _synthetic(markdown="## S\n![logo](https://example.com/logo.png)")
    with pytest.raises(ReportError, match=r"external URL.*example\.com"):
        _export(nb, tmp_path)


# --- write_index ---------------------------------------------------------------------------


def _summary(**values: float) -> dict[str, object]:
    base = {"agreement_rate": 0.9, "drifted_sku_locations": 120, "value_at_risk_last_day": 1500.0,
            "lost_revenue": 800.0, "phantom_stockout_sku_days": 40}  # fmt: skip
    return {**base, **values}


def test_write_index_lists_runs_with_deltas_and_escapes(tmp_path: Path) -> None:
    rows = [
        {"client": "zeta", "run_date": "2026-10-01",
         "summary": {**_summary(agreement_rate=0.925, drifted_sku_locations=100),
                     "previous": _summary()}},
        {"client": "acme", "run_date": "2026-10-01", "summary": {**_summary(), "previous": None}},
        {"client": "bad<i>co</i>", "run_date": "2026-10-01",
         "error": "raw/x.csv: column <script>alert(1)</script> missing"},
    ]  # fmt: skip
    path = report.write_index(tmp_path, rows)
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "index.html"
    assert report.external_urls(page) == []
    assert EVIL not in page and ESCAPED in page and "bad&lt;i&gt;co&lt;/i&gt;" in page
    assert page.index(">acme<") < page.index(">bad&lt;i") < page.index(">zeta<")
    assert 'href="zeta/2026-10-01/drift_audit.html"' in page
    assert '<span class="delta good">▲ +2.5 pp</span>' in page  # agreement up: good
    assert '<span class="delta good">▼ -20</span>' in page  # fewer drifted keys: good
    assert '<span class="delta">= +0.00</span>' in page
    acme = re.search(r"<tr><td>acme</td>.*?</tr>", page)
    assert acme is not None and "delta" not in acme.group()  # no previous run, no arrows
    assert "failed: raw/x.csv" in page


def test_write_index_relativizes_absolute_report_paths(tmp_path: Path) -> None:
    target = tmp_path / "acme" / "2026-10-01" / "drift_audit.html"
    rows = [{"client": "acme", "run_date": "2026-10-01", "report": target, "summary": _summary()}]
    page = report.write_index(tmp_path, rows).read_text(encoding="utf-8")
    assert 'href="acme/2026-10-01/drift_audit.html"' in page
    assert str(tmp_path) not in page
