"""Drive the explorer notebook in a real JupyterLab with headless Chromium (Playwright).

Shared by ``tests/test_explore_browser.py`` (asserts the redraws) and
``bench/bench_explore_browser.py`` (times them).  JupyterLab runs on a free port with a
random token in a throw-away folder, ``--allow-root`` when running as root; the browser is the
system Chromium (Playwright cannot download its own here).  ``lab_page`` always stops both.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftkit.explorer.lab import lab_settings

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "explore.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
CHART = ".dk-live-chart[data-redraws]"
TIMING = {"@jupyterlab/notebook-extension:tracker": {"recordTiming": True}}

_REPLIED = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .find((c) => c.model.id === 'open-explorer').model.getMetadata('execution')?.['shell.execute_reply']"""
# Runs in the page after the chart is drawn: the open, in ms from Run All, split at the
# explorer cell's start and end (kernel clock, JupyterLab's recorded timing) and the chart's
# render start and first draw (window.driftkitOpen, set by the chart's module).
_OPENING = """() => {
  const cells = window.jupyterapp.shell.currentWidget.content.widgets;
  const cell = cells.find((c) => c.model.id === 'open-explorer');
  const timing = cell.model.getMetadata('execution') || {};
  const at = (name) => Date.parse(timing[name]) - window.driftkitRunAll;
  return {cell_start: at('shell.execute_reply.started'), cell_end: at('shell.execute_reply'),
          render: window.driftkitOpen.render - window.driftkitRunAll,
          drawn: window.driftkitOpen.drawn - window.driftkitRunAll};
}"""

# Runs in the page: performs one input, waits until the chart reports a finished redraw and
# the browser has painted, and returns the milliseconds from the input event.
_TIMED_INPUT = """async ({action, target, values}) => {
  const chart = document.querySelector('.dk-live-chart');
  const before = Number(chart.dataset.redraws);
  const done = new Promise((resolve) => {
    const watch = new MutationObserver(() => {
      if (Number(chart.dataset.redraws) > before) { watch.disconnect(); resolve(); }
    });
    watch.observe(chart, {attributes: true});
  });
  const started = performance.now();
  if (action === 'click') {
    [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === target).click();
  } else {
    const select = document.querySelector(target);
    for (const option of select.options) { option.selected = values.includes(option.value); }
    select.dispatchEvent(new Event('change', {bubbles: true}));
  }
  await done;
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return performance.now() - started;
}"""

_SHOWN = """() => {
  const chart = document.querySelector('.dk-live-chart');
  const view = chart.vegaView;
  return {key: chart.dataset.key, redraws: Number(chart.dataset.redraws),
          systems: [...new Set(view.data('series').map((row) => row.system))].sort(),
          series: view.data('series').length};
}"""


@dataclass
class LabPage:
    """An open explorer notebook: the Playwright page and the JupyterLab server behind it."""

    page: Any
    server: subprocess.Popen[bytes]
    open_seconds: float
    console: list[str]
    page_seconds: float = 0.0  # JupyterLab's own page load: URL → notebook shown, kernel idle
    opening: dict[str, float] | None = None  # ms from Run All: cell start/end, render, drawn

    def timed(self, action: str, target: str, values: list[str] | None = None) -> float:
        """Milliseconds from an input (``click`` a button, ``select`` options) to the redraw."""
        args = {"action": action, "target": target, "values": values or []}
        return float(self.page.evaluate(_TIMED_INPUT, args))

    def shown(self) -> dict[str, Any]:
        """What the chart shows now: key, redraw count, systems and rows of the series."""
        return dict(self.page.evaluate(_SHOWN))

    def kernel_peak_bytes(self) -> int:
        """Peak resident memory (VmHWM) of the notebook's kernel process."""
        import psutil

        kernels = [
            p
            for p in psutil.Process(self.server.pid).children(recursive=True)
            if "ipykernel" in " ".join(p.cmdline())
        ]
        status = Path(f"/proc/{kernels[0].pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_notebook(folder: Path, parameters: dict[str, Any]) -> Path:
    """A copy of the explorer notebook with ``parameters`` injected (papermill prepare_only)."""
    import papermill as pm

    target = folder / "explore.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(target),
        parameters=parameters,
        prepare_only=True,
        progress_bar=False,
        kernel_name="python3",
    )
    return target


def _start_lab(folder: Path, port: int, token: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
        "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
        "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.app_settings_dir={lab_settings(folder, TIMING)}",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "JUPYTER_CONFIG_DIR": str(folder / ".jupyter"),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / ".workspaces"),
    }
    log = (folder / "lab.log").open("wb")
    return subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_for_server(port: int, token: str, server: subprocess.Popen[bytes], folder: Path) -> None:
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"jupyter lab exited: {(folder / 'lab.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer on port {port} within 90 s")


def _wait_for_idle_kernel(page: Any, timeout_ms: int) -> None:
    """Wait until the notebook's kernel is idle, accepting the kernel dialog if it asks."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count():
            accept.first.click()
        if page.get_by_text("Python 3 (ipykernel) | Idle").count():
            return
        page.wait_for_timeout(250)
    raise TimeoutError("the explorer notebook's kernel never became idle")


@contextmanager
def lab_page(
    folder: Path, notebook: Path, *, timeout_ms: int = 400_000, screenshot: Path | None = None
) -> Iterator[LabPage]:
    """Open ``notebook`` in JupyterLab, run all cells and wait for the explorer's chart."""
    from playwright.sync_api import sync_playwright

    port, token = free_port(), secrets.token_hex(16)
    server = _start_lab(folder, port, token)
    try:
        _wait_for_server(port, token, server, folder)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                console: list[str] = []
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
                url = f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?reset&token={token}"
                loading = time.perf_counter()
                page.goto(url, timeout=timeout_ms)
                page.wait_for_selector(".jp-Notebook", timeout=timeout_ms)
                _wait_for_idle_kernel(page, timeout_ms)
                started = time.perf_counter()
                page_seconds = started - loading
                page.evaluate(
                    "() => { window.driftkitRunAll = Date.now();"
                    " window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
                )
                try:
                    page.wait_for_selector(CHART, timeout=timeout_ms)
                except Exception:
                    page.screenshot(path="/tmp/fail18.png")
                    print("\n".join(console[-30:]))
                    raise
                opened = time.perf_counter() - started
                if screenshot is not None:
                    page.screenshot(path=str(screenshot), full_page=True)
                page.wait_for_function(_REPLIED, timeout=timeout_ms)
                opening = page.evaluate(_OPENING)
                yield LabPage(page, server, opened, console, page_seconds, opening)
            finally:
                browser.close()
    finally:
        _stop(server)


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server and any kernel it started (no process outlives the test)."""
    import psutil

    children = psutil.Process(server.pid).children(recursive=True)
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    for child in children:
        if child.is_running():
            child.kill()
