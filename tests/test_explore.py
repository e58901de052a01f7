"""Tests of driftkit.explorer.app: widgets driven programmatically, views asserted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import ipywidgets as widgets
import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest

from driftkit import schema
from driftkit.audit import GRID, Audit, run_audit
from driftkit.drift.align import Grid
from driftkit.errors import InputError
from driftkit.explorer.app import (
    ANY_CAUSE,
    Explorer,
    ExplorerData,
    chart_data,
    drift_ranking,
    explore,
    find_client_dir,
    open_explorer,
    open_lab,
)
from driftkit.explorer.index import key_ordered
from driftkit.explorer.lab import lab_command
from driftkit.explorer.selection import PREFETCH
from driftkit.explorer.source import read_output
from driftkit.explorer.store import STORE, read_run_grid, read_store, store_stamp, write_store

DAYS = pd.date_range("2026-03-01", periods=10, freq="D")
SYSTEMS = ("wms", "erp", "shop")
KEYS = pd.DataFrame(
    {
        "sku": pd.Series(["A1", "A1", "B2", "C3"], dtype="str"),
        "location": pd.Series(["east", "main", "main", "main"], dtype="str"),
    }
)
A1_EAST, A1_MAIN, B2, C3 = range(4)
TZ = "America/Chicago"


def _utc(local: str) -> pd.Timestamp:
    return pd.Timestamp(local, tz=TZ).tz_convert("UTC")


def _grid() -> Grid:
    values = np.full((len(SYSTEMS), len(KEYS), len(DAYS)), 10.0)
    values[2, B2, 3:7] = 7.0  # shop under the wms by 3 on days 3..6
    values[1, A1_MAIN, 8:10] = 11.0  # erp over the wms by 1 on days 8..9
    values[2, A1_EAST, 0:2] = np.nan  # shop absent
    return Grid(KEYS, SYSTEMS, DAYS, values, "wms")


def _events() -> pd.DataFrame:
    rows = [
        ("shop", "B2", "main", "o-1", "order", -1.0, "2026-03-04 10:00", "SO100"),
        ("shop", "B2", "main", "o-1", "order", -1.0, "2026-03-04 10:05", "SO100"),
        ("wms", "B2", "main", "s-1", "shipment", -1.0, "2026-03-04 15:00", "SO100"),
        ("erp", "A1", "main", "r-9", "receipt", 1.0, "2026-03-09 08:00", "PO7"),
        ("wms", "A1", "east", "r-1", "receipt", 5.0, "2026-03-02 08:00", "PO1"),
        ("wms", "ZZ", "main", "x-1", "receipt", 5.0, "2026-03-02 08:00", "PO2"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "system",
            "sku",
            "location",
            "event_id",
            "kind",
            "qty_delta",
            "local",
            "reference",
        ],
    )
    frame["occurred_at"] = [_utc(t) for t in frame.pop("local")]
    return schema.conform(frame, "events")


def _data(**changes: object) -> ExplorerData:
    counts = schema.conform(
        pd.DataFrame(
            {
                "sku": ["B2"],
                "location": ["main"],
                "counted_at": [_utc("2026-03-08 09:00")],
                "counted_qty": [10.0],
            }
        ),
        "counts",
    )
    episodes = pd.DataFrame(
        {
            "sku": ["B2", "A1"],
            "location": ["main", "main"],
            "system": ["shop", "erp"],
            "counterpart": ["wms", "wms"],
            "start": pd.to_datetime(["2026-03-04", "2026-03-09"]),
            "end": pd.to_datetime(["2026-03-07", "2026-03-10"]),
            "days": [4, 2],
            "peak_abs_drift": [3.0, 1.0],
            "mean_drift": [-3.0, 1.0],
            "open": [False, True],
        }
    )
    findings = pd.DataFrame(
        {
            "sku": ["B2", "B2", "A1"],
            "location": ["main", "main", "main"],
            "system": ["shop", "shop", "erp"],
            "counterpart": ["wms", "wms", "wms"],
            "cause": ["duplicate_event", "sync_lag", "missing_event"],
            "first_seen": [
                _utc("2026-03-04 10:05"),
                _utc("2026-03-06 00:00"),
                _utc("2026-03-09 08:00"),
            ],
            "last_seen": [
                _utc("2026-03-07 23:00"),
                _utc("2026-03-07 23:00"),
                _utc("2026-03-10 23:00"),
            ],
            "units": [-1.0, -2.0, 1.0],
            "value": [12.0, 24.0, 5.0],
            "confidence": [0.9, 0.5, 0.8],
            "evidence": ["SO100 recorded 2x in shop", "late sync", "PO7 in erp, not in wms"],
        }
    )
    impact = pd.DataFrame(
        {"sku": ["B2", "A1"], "location": ["main", "main"], "lost_sales_units": [1.6, 0.0]}
    )
    catalog = schema.conform(
        pd.DataFrame(
            {"sku": ["B2", "A1"], "unit_cost": [4.0, 5.0], "title": ["<b>Tent</b>", "Stove"]}
        ),
        "catalog",
    )
    base = {
        "grid": _grid(),
        "events": _events(),
        "counts": counts,
        "episodes": episodes,
        "findings": findings,
        "impact": impact,
        "catalog": catalog,
        "timezone": TZ,
        "client": "acme",
    }
    return ExplorerData(**{**base, **changes})  # type: ignore[arg-type]


@pytest.fixture
def explorer(tmp_path) -> Explorer:
    return Explorer(_data(), export_dir=tmp_path)


def _keys(view_frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(view_frame["sku"], view_frame["location"], strict=True))


def test_opens_on_the_worst_key_with_its_series(explorer: Explorer) -> None:
    view = explorer.view()
    assert (view.sku, view.location, view.position, view.drifted) == ("B2", "main", 1, 2)
    shop = view.series[view.series["system"] == "shop"]
    assert shop["value"].tolist() == [10, 10, 10, 7, 7, 7, 7, 10, 10, 10]
    assert len(view.series) == len(SYSTEMS) * len(DAYS)


def test_search_text_selects_the_sku_and_lists_matches(explorer: Explorer) -> None:
    explorer.controls.search.value = "a1"
    view = explorer.view()
    assert (view.sku, view.location) == ("A1", "main")  # exact SKU: its worst location
    erp = view.series[view.series["system"] == "erp"]["value"].tolist()
    assert erp == [10.0] * 8 + [11.0, 11.0]
    assert [code for _, code in explorer.controls.matches.options] == [A1_MAIN, A1_EAST]
    locations = [value for _, value in explorer.controls.location.options]
    assert locations == ["any location", "east", "main"]  # the filter: every location
    assert _keys(view.findings) == [("A1", "main")]
    assert view.events["reference"].tolist() == ["PO7"]


def test_partial_search_lists_matches_without_moving(explorer: Explorer) -> None:
    explorer.controls.search.value = "3"
    assert explorer.view().sku == "B2"
    options = explorer.controls.matches.options
    assert [code for _, code in options] == [B2, C3]  # current key kept first, then matches
    explorer.controls.matches.value = C3
    assert (explorer.view().sku, explorer.shown.sku) == ("C3", "C3")


def test_search_ranks_exact_sku_first_then_worst() -> None:
    explorer = Explorer(_data())
    assert explorer.search("")["code"].tolist() == [B2, A1_MAIN, A1_EAST, C3]
    assert explorer.search("A")["code"].tolist() == [A1_MAIN, A1_EAST]
    assert explorer.search("c3")["sku"].tolist() == ["C3"]
    assert explorer.search("nothing").empty


def test_location_dropdown_switches_the_key(explorer: Explorer) -> None:
    explorer.select("A1")
    explorer.controls.location.value = "east"
    view = explorer.view()
    assert (view.sku, view.location) == ("A1", "east")
    assert view.series[view.series["system"] == "shop"]["day"].min() == DAYS[2]
    assert view.events["reference"].tolist() == ["PO1"]
    assert view.findings.empty and view.episodes.empty


@pytest.mark.parametrize(
    ("cause", "key", "findings", "worst_first"),
    [
        (ANY_CAUSE, ("B2", "main"), ["duplicate_event", "sync_lag"], [B2, A1_MAIN]),
        ("sync_lag", ("B2", "main"), ["sync_lag"], [B2]),
        ("missing_event", ("A1", "main"), ["missing_event"], [A1_MAIN]),
        ("unit_mismatch", ("B2", "main"), [], []),
    ],
    ids=["any", "sync-lag-stays", "missing-event-jumps", "no-such-finding"],
)
def test_cause_filter_filters_findings_and_the_worst_first_list(
    explorer: Explorer,
    cause: str,
    key: tuple[str, str],
    findings: list[str],
    worst_first: list[int],
) -> None:
    explorer.controls.cause.value = cause
    view = explorer.view()
    assert ((view.sku, view.location), view.findings["cause"].tolist()) == (key, findings)
    assert explorer.worst_first()["code"].tolist() == worst_first
    assert explorer.shown.findings["cause"].tolist() == findings


def test_date_range_filters_every_view(explorer: Explorer) -> None:
    explorer.controls.days.index = (0, 2)  # 1..3 March: before B2's episode
    view = explorer.view()
    assert view.series["day"].max() == DAYS[2] and view.series["day"].min() == DAYS[0]
    assert view.events.empty and view.counts.empty
    assert view.episodes.empty and view.findings.empty
    explorer.controls.days.index = (5, 9)
    view = explorer.view()
    assert view.series["day"].min() == DAYS[5]
    assert view.counts["counted_qty"].tolist() == [10.0]
    assert view.episodes["system"].tolist() == ["shop"]
    assert view.findings["cause"].tolist() == ["duplicate_event", "sync_lag"]


def test_systems_filter_drops_lines_events_and_findings(explorer: Explorer) -> None:
    explorer.controls.systems.value = ("wms", "erp")
    view = explorer.view()
    assert set(view.series["system"]) == {"wms", "erp"}
    assert view.events["system"].tolist() == ["wms"]
    assert view.episodes.empty and view.findings.empty


def test_worst_first_buttons_step_and_wrap(explorer: Explorer) -> None:
    explorer.controls.next.click()
    assert (explorer.view().sku, explorer.view().location, explorer.view().position) == (
        "A1",
        "main",
        2,
    )
    explorer.controls.next.click()
    assert explorer.view().sku == "B2"
    explorer.controls.previous.click()
    assert explorer.view().sku == "A1"
    explorer.select("C3")  # not drifted: next goes to the worst
    assert explorer.view().position == 0
    explorer.controls.next.click()
    assert explorer.view().sku == "B2"


def test_views_show_the_key_only_and_impact_row(explorer: Explorer) -> None:
    view = explorer.select("B2", "main")
    assert set(_keys(view.episodes)) == {("B2", "main")}
    assert view.events["reference"].tolist() == ["SO100", "SO100", "SO100"]
    assert view.events["time"].iloc[0] == pd.Timestamp("2026-03-04 10:00")  # local time
    assert view.impact["lost_sales_units"].tolist() == [1.6]
    explorer.controls.tables.selected_index = 1
    assert "SO100 recorded 2x in shop" in explorer.controls.tables.children[1].value


def test_markup_from_the_data_is_escaped(explorer: Explorer) -> None:
    title = explorer.controls.title.value
    assert "&lt;b&gt;Tent&lt;/b&gt;" in title and "<b>Tent" not in title


def test_chart_is_vega_with_the_keys_data(explorer: Explorer) -> None:
    explorer.select("A1", "main")
    chart = explorer.controls.chart
    data = {name: chart.rows(name) for name in chart.datasets}  # sent as columns
    assert explorer.controls.chart.key == "A1 @ main"
    assert {d["name"] for d in explorer.controls.chart.spec["data"]} >= set(data)
    assert len(data["series"]) == len(SYSTEMS) * len(DAYS)
    assert [e["reference"] for e in data["events"]] == ["PO7"]
    assert chart.calendar["minus12"][0] == "2026-02-28T12:00:00"  # the x domain's start
    assert data["series"][0] == {"day": "2026-03-01T00:00:00", "system": "wms", "value": 10.0}
    altair = explorer.chart().to_dict()  # validates against the Vega-Lite schema
    assert len(altair["datasets"]["series"]) == len(SYSTEMS) * len(DAYS)


def test_export_button_writes_the_selection(explorer: Explorer, tmp_path) -> None:
    explorer.select("B2")
    explorer.controls.export.click()
    path = tmp_path / "acme_B2_main.csv"
    assert str(path.resolve()) in explorer.controls.exported.value
    written = pd.read_csv(path)
    assert set(written["sku"]) == {"B2"} and set(written["location"]) == {"main"}
    sizes = written["view"].value_counts().to_dict()
    assert sizes == {
        "series": 30,
        "events": 3,
        "counts": 1,
        "episodes": 1,
        "findings": 2,
        "impact": 1,
    }
    shop = written[(written["view"] == "series") & (written["system"] == "shop")]
    assert shop["value"].min() == 7.0


def test_inputs_are_not_mutated() -> None:
    data = _data()
    before = {name: getattr(data, name).copy() for name in ("events", "findings", "episodes")}
    values = data.grid.values.copy()
    explorer = Explorer(data)
    explorer.controls.search.value = "A1"
    explorer.controls.cause.value = "missing_event"
    for name, frame in before.items():
        pd.testing.assert_frame_equal(getattr(data, name), frame)
    np.testing.assert_array_equal(data.grid.values, values)


def test_unknown_sku_is_a_clear_error(explorer: Explorer) -> None:
    with pytest.raises(InputError, match="no key with sku 'NOPE'"):
        explorer.select("NOPE")


def test_empty_tables_still_explore() -> None:
    explorer = Explorer(ExplorerData(grid=_grid()))
    view = explorer.select("B2")
    assert view.events.empty and view.findings.empty and len(view.series) == 30


# --- on the committed sample client: explore(path), the notebook, open_lab -------------------

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample" / "acme-outdoor"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Audit, Path]:
    """The sample client audited once, its run files written to ``<reports>/<client>/<day>``."""
    reports = tmp_path_factory.mktemp("reports")
    audit = run_audit(SAMPLE, out_dir=reports / SAMPLE.name / "2026-10-01")
    return audit, reports


def test_explore_a_computed_audit(sample_run: tuple[Audit, Path], tmp_path: Path) -> None:
    widget = explore(sample_run[0], export_dir=tmp_path)
    explorer = widget.explorer
    first = explorer.worst_first().iloc[0]
    assert (explorer.view().sku, explorer.view().location) == (first["sku"], first["location"])
    assert explorer.view().position == 1 and not explorer.view().series.empty
    finding = explorer.data.findings.iloc[0]
    view = explorer.select(finding["sku"], finding["location"])
    assert finding["evidence"] in view.findings["evidence"].tolist()
    assert isinstance(widget, widgets.VBox)


def test_opens_from_the_last_run_without_auditing(
    sample_run: tuple[Audit, Path], tmp_path: Path, monkeypatch
) -> None:
    audit, reports = sample_run
    (reports / SAMPLE.name / "2026-09-01").mkdir()  # an older run without files: not read
    (reports / SAMPLE.name / ".2026-10-02.partial-1").mkdir()  # a staging folder: not a run
    monkeypatch.setattr("driftkit.audit.run_audit", _no_audit)
    explorer = open_explorer(SAMPLE, reports_dir=reports, export_dir=tmp_path)
    assert str(reports / SAMPLE.name / "2026-10-01") in explorer.data.source
    assert "run at " + audit.summary["run_at"] in explorer.controls.source.value
    np.testing.assert_array_equal(explorer.data.grid.values, audit.grid.values)
    columns = ["sku", "location", "system", "cause", "units", "reference", "event_ids"]
    shown, computed = explorer.data.findings[columns], audit.tables["findings"][columns]
    pd.testing.assert_frame_equal(shown, computed, check_dtype=False)
    assert (explorer.data.findings["first_seen"] == audit.tables["findings"]["first_seen"]).all()
    assert (
        explorer.worst_first()["code"].tolist()
        == Explorer.from_audit(audit).worst_first()["code"].tolist()
    )


def _no_audit(*args: object, **kwargs: object) -> None:
    raise AssertionError("the explorer re-audited the client")


def test_read_output_keeps_text_and_prefers_parquet(tmp_path: Path) -> None:
    (tmp_path / "findings.csv").write_text(
        "sku,location,system,counterpart,cause,first_seen,last_seen,units,reference\n"
        "00123,main,shop,wms,sync_lag,2026-09-01T05:00:00+0000,2026-09-02T05:00:00+0000,2.0,\n",
        encoding="utf-8",
    )
    read = read_output(tmp_path, "findings")
    assert read is not None
    assert read["sku"].tolist() == ["00123"] and read["reference"].tolist() == [""]
    assert read["first_seen"].iloc[0] == pd.Timestamp("2026-09-01 05:00", tz="UTC")
    read.assign(sku="from-parquet").to_parquet(tmp_path / "findings.parquet")
    again = read_output(tmp_path, "findings")
    assert again is not None and again["sku"].tolist() == ["from-parquet"]
    assert read_output(tmp_path, "episodes") is None


def test_notebook_runs_under_papermill_with_its_defaults(tmp_path: Path) -> None:
    out = tmp_path / "explore.ipynb"
    pm.execute_notebook(
        str(REPO / "notebooks" / "explore.ipynb"),
        str(out),
        kernel_name="python3",
        cwd=str(REPO),
        progress_bar=False,
    )
    cells = {c.get("id"): c for c in nbformat.read(out, as_version=4).cells}
    outputs = cells["open-explorer"].outputs  # no run in reports/: a warning, then the widget
    widget = next(o["data"] for o in outputs if o["output_type"] == "execute_result")
    assert "application/vnd.jupyter.widget-view+json" in widget
    raw = cells["raw-events"].outputs[0]["data"]["text/plain"]
    assert "occurred_at" in raw and "Empty DataFrame" not in raw


def test_committed_notebook_is_thin_and_clean() -> None:
    notebook = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert code[0].metadata["tags"] == ["parameters"]
    assert code[0].source == 'client_dir = "data/sample/acme-outdoor"\nreports_dir = "reports"'
    source = "\n".join(c.source for c in code)
    assert "def " not in source and "for " not in source and "while " not in source


def test_find_client_dir_from_the_notebooks_folder(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "data" / "acme").mkdir(parents=True)
    (tmp_path / "data" / "acme" / "client.toml").write_text("", encoding="utf-8")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert find_client_dir("data/acme") == (tmp_path / "data" / "acme").resolve()
    with pytest.raises(InputError, match=r"has no client\.toml"):
        find_client_dir("data/nowhere")


def test_open_lab_starts_jupyter_lab_on_a_parameterised_copy(tmp_path: Path, monkeypatch) -> None:
    calls: list[list[str]] = []

    def run(command: list[str], check: bool) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 3)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    code = open_lab(SAMPLE, browser=False, out_dir=tmp_path)
    target = tmp_path / "acme-outdoor" / "explore.ipynb"
    assert code == 3
    settings = f"--LabApp.app_settings_dir={target.parent / 'lab-settings'}"
    assert calls == [
        [sys.executable, "-m", "jupyter", "lab", str(target), settings, "--no-browser"]
    ]
    overrides = json.loads((target.parent / "lab-settings" / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    notebook = nbformat.read(target, as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert f"client_dir = {str(SAMPLE)!r}" in injected[0].source.replace('"', "'")


# --- regressions of issue 18 (each found driving the explorer in a real browser) -------------


@pytest.mark.parametrize(("euid", "root"), [(0, True), (1000, False)], ids=["root", "user"])
def test_open_lab_allows_root(euid: int, root: bool, monkeypatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: euid)
    command = lab_command(Path("explore.ipynb"), browser=False)
    assert ("--allow-root" in command) is root
    assert command[-2 if root else -1] == "--no-browser"


def test_episode_bands_are_clipped_to_the_date_range(explorer: Explorer) -> None:
    explorer.select("B2")  # shop's episode runs 4..7 March
    explorer.controls.days.index = (4, 5)  # 5..6 March
    first, last = DAYS[4], DAYS[5]
    bands = chart_data(explorer.view(), first, last)["episodes"]  # Explorer.chart's data
    assert [(b["day"], b["day_end"]) for b in bands] == [
        ("2026-03-04T12:00:00", "2026-03-06T12:00:00")
    ]
    # the live chart gets the whole band; the page clips it (tests/test_explore_browser.py)
    sent = explorer.controls.chart.rows("episodes")
    assert [(b["day"], b["day_end"]) for b in sent] == [
        ("2026-03-03T12:00:00", "2026-03-07T12:00:00")
    ]


def test_cause_list_honours_the_date_range_and_systems(explorer: Explorer) -> None:
    explorer.controls.cause.value = "missing_event"  # A1's finding: 9..10 March
    assert explorer.worst_first()["code"].tolist() == [A1_MAIN]
    explorer.controls.days.index = (0, 6)  # 1..7 March: no missing_event in view
    assert explorer.worst_first().empty
    explorer.controls.cause.value = "sync_lag"  # B2's: 6..7 March, in view
    assert explorer.view().sku == "B2" and explorer.view().findings["cause"].tolist() == [
        "sync_lag"
    ]
    assert explorer.worst_first()["code"].tolist() == [B2]
    explorer.controls.systems.value = ("wms", "erp")  # the finding is shop's
    assert explorer.worst_first().empty and explorer.view().findings.empty


def test_ranking_without_the_authority_uses_the_largest_disagreement() -> None:
    values = np.full((3, 2, 4), np.nan)
    values[:, 0, :] = [[10.0] * 4, [12.0] * 4, [10.0] * 4]  # erp 2 over the wms: 4 × 2 = 8
    values[1, 1, :] = 10.0  # the wms holds nothing for key 1;
    values[2, 1, :] = [4.0, 4.0, 10.0, np.nan]  # erp vs shop apart by 6, 6, 0 → 12
    grid = Grid(KEYS.iloc[:2].reset_index(drop=True), SYSTEMS, DAYS[:4], values, "wms")
    ranking = drift_ranking(grid)
    assert ranking["code"].tolist() == [1, 0]
    assert ranking["drift_units"].tolist() == [12.0, 8.0]
    assert ranking["drifted_days"].tolist() == [2, 4]
    only_days = drift_ranking(grid, days=(2, 3))
    assert only_days.set_index("code")["drift_units"].to_dict() == {0: 4.0, 1: 0.0}
    without_erp = drift_ranking(grid, systems=("wms", "shop"))
    assert without_erp["drift_units"].tolist() == [0.0, 0.0]


def test_chart_reads_on_short_windows_without_empty_domains(explorer: Explorer) -> None:
    spec = explorer.controls.chart.spec
    x = next(s for s in spec["scales"] if s["name"] == "x")
    frame = next(d["name"] for d in spec["data"] if d.get("source") == "frame")
    assert x["domain"] == {"data": frame, "field": "day"}  # never an empty dataset's extent
    y = next(s for s in spec["scales"] if s["name"] == "concat_0_y")
    assert y["padding"] == 12 and y["zero"] is False
    axis = explorer.chart().to_dict()["vconcat"][0]["layer"][1]["encoding"]["x"]["axis"]
    assert axis["labelOverlap"] == "greedy"
    explorer.controls.days.index = (4, 5)
    assert not explorer.controls.days.readout
    assert ">05 Mar – 06 Mar<" in explorer.controls.range.value


def test_export_message_is_absolute_and_cleared_on_key_change(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    explorer = Explorer(_data(), export_dir="out")
    explorer.controls.export.click()
    message = explorer.controls.exported.value
    assert str(tmp_path / "out" / "acme_B2_main.csv") in message
    explorer.controls.search.value = "B2"  # the same key: the message stays
    assert explorer.controls.exported.value == message
    explorer.controls.next.click()
    assert explorer.controls.exported.value == ""


# --- the explorer store: the second open reads the run's aligned grid and key-ordered rows --


def test_second_open_reads_the_store_and_shows_the_same(
    sample_run: tuple[Audit, Path], tmp_path: Path, monkeypatch
) -> None:
    run = sample_run[1] / SAMPLE.name / "2026-10-01"
    shutil.rmtree(run / STORE, ignore_errors=True)
    built = open_explorer(SAMPLE, reports_dir=sample_run[1], export_dir=tmp_path)
    assert (run / STORE / "store.json").is_file() and STORE + " store" not in built.data.source
    monkeypatch.setattr("driftkit.explorer.source.align", _no_audit)
    monkeypatch.setattr("driftkit.explorer.source._read_ingest", _no_audit)
    stored = open_explorer(SAMPLE, reports_dir=sample_run[1], export_dir=tmp_path)
    assert f"the explorer store {run / STORE}" in stored.data.source
    for name in ("keys", "systems", "days", "values", "authority", "notes"):
        np.testing.assert_array_equal(
            getattr(stored.data.grid, name), getattr(built.data.grid, name)
        )
    assert stored.worst_first().equals(built.worst_first())
    for code in built.worst_first()["code"]:
        built._code = stored._code = code
        assert stored._chart_columns() == built._chart_columns()
        assert stored._title(*stored.view_key()) == built._title(*built.view_key())
    for code in built.worst_first()["code"][:5]:
        shown, computed = stored.select(code=code), built.select(code=code)
        for frame in ("series", "events", "counts", "episodes", "findings", "impact"):
            pd.testing.assert_frame_equal(getattr(shown, frame), getattr(computed, frame))
    finding = built.data.findings[built.data.findings["reference"] != ""].head(3)
    on = ["sku", "reference"]  # the notebook's raw-events cell
    assert len(stored.data.events.merge(finding[on], on=on)) == len(
        built.data.events.merge(finding[on], on=on)
    )


def test_first_open_reads_the_audits_grid_and_shows_what_aligning_the_exports_shows(
    sample_run: tuple[Audit, Path], tmp_path: Path, monkeypatch
) -> None:
    """A run's first open takes the grid and tables the audit wrote (RUN_DIR/grid/): no
    export is loaded and nothing aligned, and every view equals the aligned one."""
    audit, reports = sample_run
    run = reports / SAMPLE.name / "2026-10-01"
    written = read_run_grid(run, {})
    assert written is not None
    for name in ("keys", "systems", "days", "values", "authority", "notes"):
        np.testing.assert_array_equal(getattr(written[0], name), getattr(audit.grid, name))
    copy = tmp_path / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns(STORE))
    shutil.rmtree(copy / GRID)
    aligned = Explorer.from_run(SAMPLE, copy, export_dir=tmp_path)  # as before: exports, align
    assert "raw exports" in aligned.data.source
    shutil.rmtree(run / STORE, ignore_errors=True)
    monkeypatch.setattr("driftkit.explorer.source.align", _no_audit)
    monkeypatch.setattr("driftkit.explorer.source._load_raw", _no_audit)
    monkeypatch.setattr("driftkit.explorer.source._read_ingest", _no_audit)
    first = open_explorer(SAMPLE, reports_dir=reports, export_dir=tmp_path)
    assert f"the audit's grid and tables in {run / GRID}" in first.data.source
    assert first.worst_first().equals(aligned.worst_first())
    for code in aligned.worst_first()["code"][:8]:
        shown, computed = first.select(code=code), aligned.select(code=code)
        for frame in ("series", "events", "counts", "episodes", "findings", "impact"):
            # the audit's days are datetime64[us], a grid aligned here datetime64[s]
            pd.testing.assert_frame_equal(
                getattr(shown, frame), getattr(computed, frame), check_dtype=frame != "series"
            )
        assert first._chart_columns() == aligned._chart_columns()
    damaged = tmp_path / "damaged"
    shutil.copytree(run / GRID, damaged / GRID)
    (damaged / GRID / "events.feather").write_bytes(b"damaged")  # then the exports, aligned
    assert read_run_grid(damaged, {"events": ("sku",)}) is None


def test_store_is_not_read_when_the_run_or_the_files_changed(tmp_path: Path) -> None:
    (tmp_path / "client.toml").write_text("id = 'a'\n", encoding="utf-8")
    summary = {"run_at": "2026-10-01T06:00:00+00:00", "window_start": "2026-09-01"}
    stamp = store_stamp(tmp_path, summary)
    assert store_stamp(tmp_path, summary) == stamp
    assert store_stamp(tmp_path, {**summary, "run_at": "2026-10-02T06:00:00+00:00"}) != stamp
    (tmp_path / "client.toml").write_text("id = 'ab'\n", encoding="utf-8")
    assert store_stamp(tmp_path, summary) != stamp
    grid = _grid()
    rows = key_ordered(ExplorerData(grid, _events(), timezone=TZ))
    titles = np.full(len(grid.keys), None, dtype=object)
    assert write_store(tmp_path, stamp, grid, titles, rows, "test") == tmp_path / STORE
    assert read_store(tmp_path, {**stamp, "files": "other"}) is None
    read = read_store(tmp_path, stamp)
    assert read is not None and read[3] == "test"
    np.testing.assert_array_equal(read[0].values, grid.values)
    (tmp_path / STORE / "events.arrow").write_bytes(b"damaged")
    assert read_store(tmp_path, stamp) is None
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    assert write_store(tmp_path / "not-a-folder", stamp, grid, titles, rows, "test") is None


# --- prefetch: the page draws ◀ ▶ from the neighbours' data the kernel sent ahead -----------


@pytest.mark.parametrize(
    ("filters", "offset"),
    [({}, 1), ({}, -1), ({"location": "main", "systems": ("wms", "shop")}, 1)],
    ids=["next", "previous", "location-and-systems"],
)
def test_prefetched_data_is_what_the_kernel_sends_for_that_key(
    explorer: Explorer, filters: dict[str, object], offset: int
) -> None:
    for name, value in filters.items():
        getattr(explorer.controls, name).value = value
    chart = explorer.controls.chart
    explorer._sent.clear()  # a page that holds no key yet: every entry carries its data
    explorer._prefetch()
    ahead = json.loads(json.dumps(chart.prefetch))  # as the page receives it
    assert ahead["from"] == chart.code == explorer._code
    entries = ahead["next" if offset > 0 else "previous"]
    assert len(entries) == PREFETCH
    held = {e["code"]: e["datasets"] for e in ahead["previous"] + ahead["next"] if "datasets" in e}
    held[chart.code] = json.loads(json.dumps(chart.datasets))  # a short list wraps: sent once
    for entry in entries:  # the page walks its prefetch while the kernel steps behind it
        clicks = chart.prefetch["clicks"]
        explorer._clicked(offset)
        assert chart.prefetch["clicks"] == clicks + 1 and chart.prefetch["from"] == chart.code
        sent = json.loads(json.dumps([chart.code, chart.key, chart.datasets]))
        assert [entry["code"], entry["key"], held[entry["code"]]] == sent
        explorer._payloads.clear()  # and both equal the key's data computed afresh
        assert json.loads(json.dumps(explorer._chart_columns())) == held[entry["code"]]


def test_prefetch_sends_each_key_once_and_the_page_holds_every_key_it_steps_to(
    explorer: Explorer,
) -> None:
    """The page's side (live.py) modelled: it keeps every key's data it received; each
    prefetch must then give it the data of every key on its line, re-sending none."""
    chart, held = explorer.controls.chart, {}
    explorer._sent.clear()
    explorer.select(code=int(explorer.worst_first()["code"][0]))
    resent = 0
    for offset in [1] * 12 + [-1] * 5 + [1] * 3:
        held[chart.code] = json.loads(json.dumps(chart.datasets))
        line = json.loads(json.dumps(chart.prefetch))
        line = line["previous"] + line["next"]
        for entry in (e for e in line if "datasets" in e):
            resent += entry["code"] in held
            held[entry["code"]] = entry["datasets"]
        assert all(e["code"] in held for e in line)  # the page can draw every key on the line
        explorer._clicked(offset)
    assert resent == 0
    explorer._payloads.clear()
    for code, datasets in held.items():
        assert json.loads(json.dumps(explorer._chart_columns(code))) == datasets


def test_prefetch_wraps_like_the_buttons(explorer: Explorer) -> None:
    order = explorer.worst_first()["code"].tolist()
    explorer.select(code=order[-1])
    ahead, n = explorer.controls.chart.prefetch, PREFETCH
    assert [e["code"] for e in ahead["next"]] == (order * n)[:n]
    assert [e["code"] for e in ahead["previous"]] == (order[::-1] * (n + 1))[1 : n + 1]
