"""Batch audits with HTML: fault isolation, atomic run folders, the index, the real report.

One module-scoped batch (``driftkit audit`` in a subprocess, ``--jobs 2``) runs the audit
notebook under papermill for acme-outdoor, a client whose strings are HTML markup, and a
broken client; most tests read its outputs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from driftkit import batch, notebook
from driftkit.audit import previous_summary, run_folders
from driftkit.batch import AuditOptions, audit_client, publish, run_batch
from driftkit.report import html as report
from tests.audit_clients import (
    LOCATION,
    NAME,
    SAMPLES,
    SKU,
    TITLE,
    run_driftkit,
    simulate_small,
    write_markup_and_broken,
)

CHROMIUM = Path("/usr/bin/chromium")
RUN_FILES = (
    "drift_audit.html", "drift_audit.ipynb", "summary.json", "findings.csv", "daily.csv",
    "episodes.csv", "handoffs.csv", "impact.csv", "count_list.csv", "rejects.csv",
)  # fmt: skip
NOTEBOOK_CHARTS = {"drift-over-time", "bias", "handoff-map", "causes", "impact-projection",
                   "count-list", "rejects"}  # fmt: skip


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture(scope="module")
def html_batch(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """``driftkit audit acme-outdoor markup broken --out reports --jobs 2`` (with HTML)."""
    root = tmp_path_factory.mktemp("batch")
    markup, broken = write_markup_and_broken(root)
    out = root / "reports"
    args = [str(SAMPLES / "acme-outdoor"), str(markup), str(broken), "--out", str(out)]
    return out, run_driftkit("audit", *args, "--jobs", "2", cwd=root)


def _run(out: Path, client: str) -> Path:
    return out / client / _today()


def test_a_broken_client_fails_alone(html_batch: tuple) -> None:
    _, done = html_batch
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if "FAILED" in line]
    assert len(errors) == 1, done.stderr
    line = errors[0]
    assert line.startswith("broken: FAILED at notebook cell "), line
    assert "InputError" in line and "missing.csv" in line and "matches no file" in line, line
    assert "executed notebook kept" in line
    ok = sorted(line.split(":")[0] for line in done.stdout.splitlines() if ": ok in " in line)
    assert ok == ["acme-outdoor", "markup"]


def test_failed_client_keeps_its_notebook_and_error(html_batch: tuple) -> None:
    out, _ = html_batch
    failed = out / "broken" / "failed"
    assert (failed / "drift_audit.ipynb").is_file()
    assert "missing.csv" in (failed / "error.txt").read_text(encoding="utf-8")
    assert run_folders(out / "broken") == []
    assert [p.name for p in (out / "broken").iterdir()] == ["failed"]  # no staging left over


@pytest.mark.parametrize("client", ["acme-outdoor", "markup"])
def test_good_clients_have_complete_run_folders(html_batch: tuple, client: str) -> None:
    out, _ = html_batch
    run = _run(out, client)
    assert set(RUN_FILES) <= {p.name for p in run.iterdir()}
    shown = [p.name for p in out.joinpath(client).iterdir() if not p.name.startswith(".")]
    assert shown == [run.name]
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["client"] == client and summary["previous"] is None


def test_index_lists_the_good_runs_and_the_failure(html_batch: tuple) -> None:
    out, _ = html_batch
    index = (out / "index.html").read_text(encoding="utf-8")
    assert report.external_urls(index) == []
    for client in ("acme-outdoor", "markup"):
        href = f"{client}/{_today()}/drift_audit.html"
        assert f'href="{href}"' in index and (out / href).is_file()
    broken = index[index.index("broken") :]
    assert "missing.csv" in broken[:2000]
    assert "<script>alert" not in index


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.charts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
            if "dk-chart" in (found.get("class") or "").split():
                self.charts.append(str(found["id"]))


def _ids(document: str) -> _Ids:
    parser = _Ids()
    parser.feed(document)
    return parser


def test_report_is_self_contained_with_unique_chart_ids(html_batch: tuple) -> None:
    out, _ = html_batch
    document = (_run(out, "acme-outdoor") / "drift_audit.html").read_text(encoding="utf-8")
    assert report.external_urls(document) == []
    bundle = report.vega_bundle()
    assert document.count(bundle[:300]) == document.count(bundle[-300:]) == 1
    found = _ids(document)
    assert set(found.charts) == NOTEBOOK_CHARTS | {f"drilldown-{n}" for n in (1, 2, 3)}
    duplicated = {i for i in found.ids if found.ids.count(i) > 1}
    assert duplicated == set()
    assert 500_000 < len(document) < 3_000_000


def test_client_strings_reach_the_report_escaped(html_batch: tuple) -> None:
    out, _ = html_batch
    document = (_run(out, "markup") / "drift_audit.html").read_text(encoding="utf-8")
    for text in (TITLE, SKU, LOCATION, NAME):
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert escaped in document, text
    assert "<script>alert(1)" not in document
    assert SKU not in document and LOCATION not in document and "<i>Test</i>" not in document
    acme = (_run(out, "acme-outdoor") / "drift_audit.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in acme and "<b>Bold</b>" not in acme


@pytest.mark.browser
def test_the_real_report_renders_offline_in_chromium(html_batch: tuple, tmp_path: Path) -> None:
    out, _ = html_batch
    page = _run(out, "acme-outdoor") / "drift_audit.html"
    assert CHROMIUM.exists(), "headless Chromium missing: apt-get install -y chromium"
    args = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=10000", "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    dom = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True).stdout
    body = re.search(r"<body[^>]*dk-report[^>]*>", dom)
    assert body is not None
    assert 'data-dk-errors="0"' in body.group(), body.group()
    charts = re.findall(r'<div[^>]*class="([^"]*\bdk-chart\b[^"]*)"[^>]*>', dom)
    assert len(charts) == len(NOTEBOOK_CHARTS) + 3
    assert [c for c in charts if "dk-rendered" not in c.split()] == []
    assert dom.count('class="dk-fallback"') == 0


# --- atomic run folders (no HTML: the same staging and publishing) -----------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate_small(tmp_path_factory.mktemp("small") / "small", seed=4)


def test_a_run_failing_midway_leaves_the_previous_run(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = AuditOptions(out=tmp_path / "reports", html=False)
    good = audit_client(small, options)
    assert good.ok and good.run_dir == _run(options.out, "small")
    before = (good.run_dir / "summary.json").read_text(encoding="utf-8")

    def half_then_fail(*args: object, **kwargs: object) -> None:
        batch_run_audit(*args, **kwargs)  # writes summary.json and every CSV ...
        raise RuntimeError("disk full")  # ... then dies before the run is published

    batch_run_audit = batch.run_audit
    monkeypatch.setattr(batch, "run_audit", half_then_fail)
    bad = audit_client(small, options)
    assert not bad.ok and bad.step == "analysis" and bad.error == "RuntimeError: disk full"
    assert (good.run_dir / "summary.json").read_text(encoding="utf-8") == before
    assert [p.name for p in run_folders(options.out / "small")] == [good.run_dir.name]
    failed = options.out / "small" / "failed"
    assert (failed / "summary.json").is_file() and (failed / "error.txt").is_file()
    shown = [p.name for p in (options.out / "small").iterdir() if not p.name.startswith(".")]
    assert sorted(shown) == sorted(["failed", _today()])


def test_a_first_run_failing_midway_leaves_nothing_that_looks_complete(
    small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_at_publish(staging: Path, final: Path) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(batch, "publish", fail_at_publish)
    out = tmp_path / "reports"
    results = run_batch([small], AuditOptions(out=out, html=False))
    assert [(r.ok, r.step) for r in results] == [(False, "publish")]
    assert run_folders(out / "small") == []
    assert previous_summary(out, "small", datetime.now(UTC).date()) is None
    assert batch._latest_row(out / "small") == {}
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "rename failed" in index


def test_publish_puts_the_old_run_back_when_the_move_fails(tmp_path: Path) -> None:
    final = tmp_path / "c" / "2026-10-01"
    final.mkdir(parents=True)
    (final / "summary.json").write_text("{}")
    with pytest.raises(OSError):
        publish(tmp_path / "c" / ".2026-10-01.partial-1", final)  # staging does not exist
    assert (final / "summary.json").is_file()
    assert sorted(p.name for p in final.parent.iterdir()) == [".lock", "2026-10-01"]


def test_a_killed_audit_leaves_no_run_folder(small: Path, tmp_path: Path) -> None:
    """SIGKILL the CLI once the notebook has written summary.json, before publishing."""
    out = tmp_path / "reports"
    command = [sys.executable, "-m", "driftkit.cli", "audit", str(small), "--out", str(out)]
    proc = subprocess.Popen(command, cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        staged: list[Path] = []
        while not staged and time.monotonic() < deadline and proc.poll() is None:
            staged = list((out / "small").glob(".*.partial-*/summary.json"))
            time.sleep(0.05)
        assert staged, "the audit finished or failed before it could be killed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert not _run(out, "small").exists()
    assert run_folders(out / "small") == []
    assert previous_summary(out, "small", datetime.now(UTC).date()) is None
    assert batch._latest_row(out / "small") == {}


def test_a_dead_worker_is_that_clients_failure(tmp_path: Path) -> None:
    future: Future[batch.ClientResult] = Future()
    future.set_exception(BrokenProcessPool("a child process terminated abruptly"))
    result = batch._outcome(future, tmp_path / "acme")
    assert (result.ok, result.client, result.step) == (False, "acme", "worker")
    assert result.line() == (
        "acme: FAILED at worker: BrokenProcessPool: a child process terminated abruptly"
    )


def test_ipc_kernel_is_quiet_and_cleans_up() -> None:
    async def start_and_stop() -> tuple[str, str, bool, bool]:
        manager = notebook.IPCKernelManager(kernel_name="python3")
        await manager.start_kernel()
        folder = Path(manager.ip).parent
        stderr = os.readlink(f"/proc/{manager.provisioner.process.pid}/fd/2")  # type: ignore[union-attr]
        existed = folder.is_dir()
        await manager.shutdown_kernel()
        return manager.transport, stderr, existed, folder.exists()

    assert asyncio.run(start_and_stop()) == ("ipc", "/dev/null", True, False)


def test_audit_kernel_imports_the_notebooks_modules_before_the_first_cell() -> None:
    probe = (
        "import sys\n"
        f"wanted = {notebook.KERNEL_MODULES!r}\n"
        "print([m for m in wanted if m not in sys.modules])\n"
        "print(sorted(k for k in globals() if k.startswith('driftkit') or k == 'altair'))\n"
        "print(sys.modules.get('debugpy'))\n"
        "print(sys.modules['driftkit.report.fallbacks'].start_runtime.cache_info().currsize)\n"
    )

    async def start_probe_stop() -> tuple[str, str, bool, bool]:
        manager = notebook.AuditKernelManager(kernel_name="python3")
        await manager.start_kernel()
        pid = manager.provisioner.process.pid  # type: ignore[union-attr]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=120)
        printed: list[str] = []

        def keep(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])

        await client.execute_interactive(probe, output_hook=keep, timeout=120)
        await manager.stop()
        gone = not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid)
        return " ".join(command), "".join(printed), gone, Path(manager.ip).parent.exists()

    command, printed, gone, folder_left = asyncio.run(start_probe_stop())
    assert "-m driftkit.kernel -f" in command and "ipykernel_launcher" not in command
    assert printed.splitlines() == ["[]", "[]", "None", "1"]  # nor debugpy; vl-convert started
    assert gone and not folder_left


def _state(pid: int) -> str:
    status = Path(f"/proc/{pid}/status")
    return status.read_text().lower() if status.exists() else "zombie"


def test_html_clients_run_in_threads_unless_two_share_a_name(tmp_path: Path) -> None:
    html = AuditOptions(out=tmp_path)
    one, other, namesake = tmp_path / "a" / "acme", tmp_path / "a" / "calm", tmp_path / "b" / "acme"
    with batch._pool([one, other], html, 2) as pool:
        assert isinstance(pool, ThreadPoolExecutor)
    with batch._pool([one, namesake], html, 2) as pool:
        assert isinstance(pool, ProcessPoolExecutor)
    with batch._pool([one, other], AuditOptions(out=tmp_path, html=False), 2) as pool:
        assert isinstance(pool, ProcessPoolExecutor)


@pytest.mark.parametrize(
    ("html", "jobs", "expected"),
    [(True, None, 3), (False, None, 2), (True, 1, 1), (True, 5, 4)],
    ids=["html-one-more-than-cores", "no-html-one-per-core", "jobs-1", "at-most-one-per-client"],
)
def test_default_jobs_is_one_per_core_and_one_more_with_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, html: bool, jobs: int | None, expected: int
) -> None:
    """With HTML a client's core idles at times (kernel start, export): one extra client keeps
    both cores busy instead of leaving the last client alone on one."""
    used: list[int] = []

    def pool(dirs: list[Path], options: AuditOptions, jobs: int) -> ThreadPoolExecutor:
        used.append(jobs)
        return ThreadPoolExecutor(jobs)

    def audit(folder: Path, options: AuditOptions) -> batch.ClientResult:
        return batch.ClientResult(folder.name, False, step="test", error="not run")

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(batch, "_pool", pool)
    monkeypatch.setattr(batch, "audit_client", audit)
    dirs = [tmp_path / name for name in ("a", "b", "c", "d")]
    run_batch(dirs, AuditOptions(out=tmp_path / "reports", html=html, jobs=jobs))
    assert used == ([] if expected == 1 else [expected])
