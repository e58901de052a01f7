"""The explorer notebook in a real JupyterLab and headless Chromium (issue 18).

One module-scoped session: a tiny simulated client is audited here (its run folder is what
the notebook opens), JupyterLab starts on a free port with a token, Chromium runs all cells,
and one SKU change (next ▶) and one filter change (systems) are driven.  The redraws are
asserted (the chart's data in the page changed in place), not timed: the timing is
``make bench-explore-browser``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftkit.audit import run_audit
from driftkit.explorer.app import chart_data
from driftkit.simulate.simulation import simulate
from tests.explore_lab import CHROMIUM, LabPage, lab_page, write_notebook
from tests.test_explore import SYSTEMS
from tests.test_explore_filters import _explorer

pytestmark = pytest.mark.browser

SELECT_SYSTEMS = ".widget-select-multiple select"
PROBE_SET = "() => { document.querySelector('.dk-live-chart canvas').dataset.probe = 'kept'; }"
PROBE_GET = "() => document.querySelector('.dk-live-chart canvas').dataset.probe"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabPage]:
    assert Path(CHROMIUM).exists(), "headless Chromium missing: apt-get install -y chromium"
    root = tmp_path_factory.mktemp("lab")
    client = root / "tiny"
    simulate(client, skus=8, days=10, seed=3, return_frames=False)
    run_audit(client, out_dir=root / "reports" / "tiny" / "2026-09-11")
    notebook = write_notebook(
        root, {"client_dir": str(client), "reports_dir": str(root / "reports")}
    )
    with lab_page(root, notebook, screenshot=root / "opened.png") as page:
        yield page


def test_the_notebook_opens_the_explorer_from_the_last_run(lab: LabPage) -> None:
    shown = lab.shown()
    assert shown["redraws"] == 0 and " @ " in shown["key"] and shown["series"] > 0
    assert lab.page.get_by_text("loaded from audit run").count() == 1
    assert lab.page.get_by_text("2026-09-11").count() >= 1


def test_next_redraws_another_key_in_place(lab: LabPage) -> None:
    before = lab.shown()
    lab.page.evaluate(PROBE_SET)
    lab.timed("click", "next ▶")
    after = lab.shown()
    assert after["redraws"] == before["redraws"] + 1 and after["key"] != before["key"]
    assert (
        lab.page.evaluate(PROBE_GET) == "kept"
    )  # the same canvas element: updated, not re-rendered


_KERNEL = """() => {
  const el = document.querySelector('.dk-live-chart'), model = el.driftkitModel;
  const settled = model.get('key') === el.dataset.key && model.get('prefetch').from === model.get('code');
  return settled ? {redraws: Number(el.dataset.redraws), source: el.dataset.source} : null;
}"""
_DRAWN_AND_SENT = """([systems, days]) => {
  const el = document.querySelector('.dk-live-chart'), model = el.driftkitModel;
  const sent = el.driftkitShown(model.get('datasets'), model.get('calendar'), new Set(systems), days);
  const pick = (rows) => rows.map((r) => [r.system, r.value, r.kind ?? null]);
  return [['series', 'events'].map((n) => pick(el.vegaView.data(n))), ['series', 'events'].map((n) => pick(sent[n]))];
}"""


def test_next_draws_from_the_prefetch_and_the_kernel_follows(lab: LabPage) -> None:
    for button in ("next ▶", "next ▶", "◀ previous", "◀ previous"):
        lab.timed("click", button)
        settled = lab.page.wait_for_function(_KERNEL).json_value()
        assert settled["source"] == "prefetch"  # drawn before the kernel answered
        lab.page.wait_for_timeout(300)  # the kernel's data for that key came: no second redraw
        assert lab.page.evaluate(_KERNEL) == settled
        systems = lab.page.eval_on_selector_all(
            f"{SELECT_SYSTEMS} option:checked", "els => els.map(e => e.value)"
        )
        drawn, sent = lab.page.evaluate(_DRAWN_AND_SENT, [systems, [0, 9]])
        assert drawn == sent and drawn[0]


def test_systems_filter_redraws_the_lines(lab: LabPage) -> None:
    before = lab.shown()
    lab.timed("select", SELECT_SYSTEMS, ["wms"])
    after = lab.shown()
    assert after["redraws"] == before["redraws"] + 1 and after["key"] == before["key"]
    assert after["systems"] == ["wms"] and len(before["systems"]) > 1


def test_no_vega_warnings_or_page_errors(lab: LabPage) -> None:
    ours = ("Infinite extent", "blob:", "vega", "anywidget")  # the chart's module loads as a blob
    problems = [
        m
        for m in lab.console
        if m.startswith(("error", "warning"))
        and any(word in m for word in ours)
        and "to activate" not in m  # JupyterLab's slow-plugin notice on a loaded machine
    ]
    assert problems == []


_FILTER = """([data, calendar, systems, days]) =>
  document.querySelector('.dk-live-chart').driftkitShown(data, calendar, new Set(systems), days)"""


def test_the_page_filters_as_the_kernel_does(lab: LabPage) -> None:
    """The page's systems/days filter (no round trip) against the DataFrame path, per key."""
    explorer = _explorer()  # tests/test_explore_filters.py's hand-built client
    days = explorer.data.grid.days
    for code in range(len(explorer.data.grid.keys)):
        explorer.select(code=code)
        sent = [explorer.controls.chart.datasets, explorer.controls.chart.calendar]
        for chosen, systems in itertools.product([(0, 9), (4, 5), (8, 9)], [SYSTEMS, ("shop",)]):
            explorer.controls.days.index, explorer.controls.systems.value = chosen, systems
            expected = chart_data(explorer.view(), days[chosen[0]], days[chosen[1]])
            shown = lab.page.evaluate(_FILTER, [*sent, list(systems), list(chosen)])
            assert shown == expected, (code, chosen, systems)  # bands clipped, frame, levels
        explorer.controls.days.index, explorer.controls.systems.value = (0, 9), SYSTEMS
