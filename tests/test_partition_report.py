"""The HTML report of a partitioned audit: the same story as the in-process report.

acme-outdoor is ingested into 3 buckets once per module.  ``report_view`` is compared with
``run_audit`` reading the same ingest (grid, drill-down frames, every story fragment), and
``driftkit audit --engine pandas`` (a process pool in the notebook's kernel) and
``--engine dask`` (a LocalCluster given by address) are run with HTML, under papermill.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftkit.audit import HEADLINE, Audit, run_audit
from driftkit.config import ClientConfig, load_config
from driftkit.errors import ReportError
from driftkit.load.ingest import ingest, sku_buckets
from driftkit.report import story
from driftkit.scale import report as scale_report
from driftkit.scale.partition import PartitionedAudit, run_partitioned
from driftkit.scale.report import report_view
from driftkit.schema import LOCATION, SKU
from tests.audit_clients import SAMPLES

CLIENT = SAMPLES / "acme-outdoor"
RUN_AT = datetime(2026, 12, 1, 12, tzinfo=UTC)
BUCKETS = 3
CHARTS = {"drift-over-time", "bias", "handoff-map", "causes", "impact-projection",
          "count-list", "rejects", "drilldown-1", "drilldown-2", "drilldown-3"}  # fmt: skip
CHROMIUM = Path("/usr/bin/chromium")


@dataclass(frozen=True)
class Audited:
    root: Path  # holds data/processed/acme-outdoor (3 buckets): the CLI runs here
    config: ClientConfig
    whole: Audit
    parted: PartitionedAudit
    view: Audit


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    root = tmp_path_factory.mktemp("partition-report")
    config = load_config(CLIENT)
    processed = root / "data" / "processed" / config.id
    ingest(config, out=processed, buckets=BUCKETS)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # run_audit reads the same fresh ingest
        whole = run_audit(config, run_at=RUN_AT)
    parted = run_partitioned(config, processed, jobs=1, run_at=RUN_AT)
    return Audited(root, config, whole, parted, report_view(parted))


def _worst(audit: Audit) -> list[tuple[str, str]]:
    return list(story.worst_keys(audit)[[SKU, LOCATION]].itertuples(index=False, name=None))


# --- the view ----------------------------------------------------------------------------


def test_view_grid_holds_only_the_worst_keys_with_the_whole_values(audited: Audited) -> None:
    whole, view = audited.whole.grid, audited.view.grid
    worst = _worst(audited.whole)
    assert len(worst) == 3 and _worst(audited.view) == worst
    assert sorted(view.keys.itertuples(index=False, name=None)) == sorted(worst)
    assert (view.systems, view.authority, view.notes) == (
        whole.systems,
        whole.authority,
        whole.notes,
    )
    pd.testing.assert_index_equal(view.days, whole.days)
    codes = pd.MultiIndex.from_frame(whole.keys).get_indexer(pd.MultiIndex.from_frame(view.keys))
    np.testing.assert_array_equal(view.values, whole.values[:, codes, :])


def test_view_reads_only_the_worst_keys_rows(audited: Audited) -> None:
    worst = pd.MultiIndex.from_tuples(_worst(audited.whole))
    for table in ("snapshots", "events", "counts"):
        everything = getattr(audited.whole.data, table)
        mine = everything[pd.MultiIndex.from_frame(everything[[SKU, LOCATION]]).isin(worst)]
        found = getattr(audited.view.data, table)
        pd.testing.assert_frame_equal(found, mine.reset_index(drop=True), check_exact=True)
    for table in ("catalog", "rejects", "files"):
        pd.testing.assert_frame_equal(
            getattr(audited.view.data, table), getattr(audited.whole.data, table)
        )
    assert audited.parted.data.snapshots.empty  # the partitioned audit is not mutated


def test_view_opens_only_the_buckets_of_its_keys(
    audited: Audited, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    read_table = scale_report.pq.read_table

    def spy(path: Path, **kwargs: object) -> object:
        opened.append(Path(path).parent.name)
        return read_table(path, **kwargs)

    monkeypatch.setattr(scale_report.pq, "read_table", spy)
    for keys in (1, 3):
        opened.clear()
        report_view(audited.parted, keys=keys)
        skus = pd.Series([sku for sku, _ in _worst(audited.whole)[:keys]])
        assert set(opened) == {f"bucket={b:02d}" for b in sku_buckets(skus, BUCKETS)}
    assert len(set(opened)) == BUCKETS and opened.count(opened[0]) <= 3  # one file per table


def test_drilldown_frames_equal_the_in_process_audit(audited: Audited) -> None:
    for sku, location in _worst(audited.whole):
        expected = story.drilldown_frames(audited.whole, sku, location)
        found = story.drilldown_frames(audited.view, sku, location)
        for one, other in zip(expected, found, strict=True):
            pd.testing.assert_frame_equal(
                other.reset_index(drop=True), one.reset_index(drop=True), check_exact=True
            )


@pytest.mark.parametrize(
    "fragment",
    [
        lambda a: story.answer(a).html,
        lambda a: story.drilldowns(a, n=3).html,
        lambda a: story.headline_table(a)._repr_html_(),
        lambda a: story.findings_table(a)._repr_html_(),
        lambda a: story.count_list_table(a)._repr_html_(),
        lambda a: story.files_table(a)._repr_html_(),
        lambda a: story.callouts(a).html,
        lambda a: "".join(story.say(a, s).html for s in story._SENTENCES),
    ],
    ids=["answer", "drilldowns", "headline", "findings", "count-list", "files", "callouts", "say"],
)
def test_story_fragments_equal_the_in_process_report(audited: Audited, fragment: object) -> None:
    assert callable(fragment)
    assert fragment(audited.view) == fragment(audited.whole)


def test_a_key_beyond_the_drilldowns_is_a_clear_error(audited: Audited) -> None:
    with pytest.raises(ReportError, match="drilldowns=N"):
        story.drilldowns(audited.view, n=4)


def test_no_drilldown_key_reads_no_rows(audited: Audited) -> None:
    view = report_view(audited.parted, keys=0)
    assert view.grid.keys.empty and view.data.events.empty
    assert "No key drifted" in story.drilldowns(view, n=0).html


def test_a_drift_only_audit_has_no_report(audited: Audited) -> None:
    processed = audited.parted.plan.path
    drift_only = run_partitioned(audited.config, processed, jobs=1, full=False, run_at=RUN_AT)
    with pytest.raises(ReportError, match="full=True"):
        report_view(drift_only)


# --- driftkit audit --engine ... with HTML ---------------------------------------------------


def _audit_cli(root: Path, out: str, *args: str) -> Path:
    """``driftkit audit acme-outdoor --out ROOT/OUT ARGS`` in ``root``; the run folder."""
    command = [sys.executable, "-m", "driftkit.cli", "audit", str(CLIENT), "--out", out, *args]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (run,) = (root / out / "acme-outdoor").glob("????-??-??")
    return run


@pytest.fixture(scope="module")
def pandas_run(audited: Audited) -> Path:
    """``--engine pandas --jobs 2``: the notebook's kernel runs the buckets in a pool."""
    return _audit_cli(audited.root, "reports-pandas", "--engine", "pandas", "--jobs", "2")


def _numbers(document: str) -> list[str]:
    return re.findall(r"""class=["']dk-num["']>([^<]*)<""", document)


def test_pandas_engine_report_tells_the_in_process_headline(
    audited: Audited, pandas_run: Path
) -> None:
    summary = json.loads((pandas_run / "summary.json").read_text(encoding="utf-8"))
    for key in HEADLINE:
        assert summary[key] == pytest.approx(audited.whole.summary[key], rel=1e-12), key
    assert summary["findings_by_cause"] == audited.whole.summary["findings_by_cause"]
    document = (pandas_run / "drift_audit.html").read_text(encoding="utf-8")
    cards = _numbers(document)
    assert len(cards) == len(story.CARDS) and cards == _numbers(story.answer(audited.whole).html)


def test_pandas_engine_report_drills_into_the_three_worst_keys(
    audited: Audited, pandas_run: Path
) -> None:
    document = (pandas_run / "drift_audit.html").read_text(encoding="utf-8")
    charts = re.findall(r'<div class="dk-chart" id="([^"]+)"', document)
    assert sorted(charts) == sorted(CHARTS)
    titles = re.findall(r"<h3>\d\. ([^<]*?) — ", document)
    assert titles == [f"{sku} @ {location}" for sku, location in _worst(audited.whole)]


def test_pandas_engine_writes_the_partitioned_run_files(
    audited: Audited, pandas_run: Path, tmp_path: Path
) -> None:
    """The notebook writes exactly what ``PartitionedAudit.write`` writes (``--no-html``)."""
    audited.parted.write(tmp_path)
    for written in sorted(tmp_path.glob("*.csv")):
        assert (pandas_run / written.name).read_bytes() == written.read_bytes(), written.name
    summary = json.loads((pandas_run / "summary.json").read_text(encoding="utf-8"))
    expected = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert {**summary, "run_at": None} == {**expected, "run_at": None}
    assert {"drift_audit.html", "drift_audit.ipynb"} <= {p.name for p in pandas_run.iterdir()}


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster (2 single-threaded worker processes), used through its address."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def test_dask_engine_report_equals_the_pandas_engine_report(
    audited: Audited, pandas_run: Path, scheduler: str
) -> None:
    run = _audit_cli(audited.root, "reports-dask", "--engine", "dask", "--scheduler", scheduler)
    for name in ("findings.csv", "daily.csv", "episodes.csv", "count_list.csv", "impact.csv"):
        assert (run / name).read_bytes() == (pandas_run / name).read_bytes(), name
    on_dask, on_pandas = (
        (r / "drift_audit.html").read_text(encoding="utf-8") for r in (run, pandas_run)
    )
    assert _numbers(on_dask) == _numbers(on_pandas)
    assert sorted(re.findall(r'<div class="dk-chart" id="([^"]+)"', on_dask)) == sorted(CHARTS)


@pytest.mark.browser
def test_the_partitioned_report_renders_offline_in_chromium(
    pandas_run: Path, tmp_path: Path
) -> None:
    assert CHROMIUM.exists(), "headless Chromium missing: apt-get install -y chromium"
    args = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=10000", "--dump-dom", (pandas_run / "drift_audit.html").as_uri(),
    ]  # fmt: skip
    dom = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True).stdout
    body = re.search(r"<body[^>]*dk-report[^>]*>", dom)
    assert body is not None and 'data-dk-errors="0"' in body.group(), body
    charts = re.findall(r'<div[^>]*class="([^"]*\bdk-chart\b[^"]*)"[^>]*>', dom)
    assert len(charts) == len(CHARTS)
    assert [c for c in charts if "dk-rendered" not in c.split()] == []
