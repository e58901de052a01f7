"""Benchmark: the explorer in a real browser — open time, redraw median/p95, kernel memory.

Run from the repository root (``make bench-explore-browser``)::

    .venv/bin/python bench/bench_explore_browser.py                       # the sample client
    .venv/bin/python bench/bench_explore_browser.py --simulate 20000 60   # simulated, SKUs × days
    .venv/bin/python bench/bench_explore_browser.py --first-open          # no explorer store yet
    .venv/bin/python bench/bench_explore_browser.py --client DIR --reports REPORTS_DIR

The client is audited first when ``--reports`` holds no run of it (not timed) and ingested
to Parquet (not timed), so the notebook opens the way an analyst's does: from the last run
folder and the ingest.  JupyterLab runs on a free port; headless Chromium (the system
package) runs all cells, then each action is timed in the page from the input event to the
chart's finished redraw plus one animation frame:

* ``next ▶``: the next key of the worst-first list (SKU change, kernel round trip + redraw);
* ``systems``: alternately one system and all systems (filter change).

``in the page`` is the part of both spent applying the changesets and redrawing (the rest is
the kernel round trip and the Python side).  ``JupyterLab page`` is JupyterLab's own page
load (URL → notebook shown, its kernel started and idle); ``open`` is Run All → the chart
drawn (imports, reading the run folder and the ingest, aligning, indexing, first draw);
``kernel peak`` is the kernel's VmHWM.  Prints one Markdown table row per client.  Not part
of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from driftkit.audit import run_audit  # noqa: E402
from driftkit.config import load_config  # noqa: E402
from driftkit.load.ingest import ingest, is_fresh  # noqa: E402
from driftkit.scale.bucket import PROCESSED  # noqa: E402
from driftkit.simulate.simulation import simulate  # noqa: E402
from tests.explore_lab import lab_page, write_notebook  # noqa: E402

SAMPLE = REPO / "data" / "sample" / "acme-outdoor"
SYSTEMS = ".widget-select-multiple select"


def prepare(client: Path, reports: Path, processed: Path) -> float:
    """Audit (when there is no run) and ingest (when not fresh) the client; return seconds."""
    started = time.perf_counter()
    if not (reports / client.name).is_dir():
        run_audit(client, out_dir=reports / client.name / time.strftime("%Y-%m-%d"))
    if not is_fresh(processed / client.name, load_config(client)):
        ingest(client, out=processed / client.name)
    return time.perf_counter() - started


def _median_of(values: list[float], sources: list[str], source: str) -> float:
    """Median of the values whose redraw came from ``source`` (NaN when none did)."""
    chosen = [v for v, s in zip(values, sources, strict=False) if s == source]
    return float(np.median(chosen)) if chosen else float("nan")


def kernel_start_seconds() -> float:
    """Seconds to start a Python kernel and see it answer (what opening a notebook waits for)."""
    from jupyter_client.manager import start_new_kernel

    started = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3")
    seconds = time.perf_counter() - started
    client.stop_channels()
    manager.shutdown_kernel(now=True)
    return seconds


def measure(client: Path, reports: Path, folder: Path, repeat: int) -> dict[str, float]:
    notebook = write_notebook(folder, {"client_dir": str(client), "reports_dir": str(reports)})
    with lab_page(folder, notebook, timeout_ms=900_000, screenshot=folder / "open.png") as lab:
        options = lab.page.eval_on_selector_all(f"{SYSTEMS} option", "els => els.map(e => e.value)")
        steps = [lab.timed("click", "next ▶") for _ in range(repeat)]
        filters = [
            lab.timed("select", SYSTEMS, options[:1] if i % 2 == 0 else options)
            for i in range(repeat)
        ]
        lab.page.screenshot(path=str(folder / "after.png"), full_page=True)
        lab.page.locator(".dk-live-chart").screenshot(path=str(folder / "chart.png"))
        applied = lab.page.evaluate("() => window.driftkitRedraws.map((r) => r.ms)")
        sources = lab.page.evaluate("() => window.driftkitRedraws.map((r) => r.source)")
        opening = lab.opening or {}
        return {
            "kernel_start_s": kernel_start_seconds(),
            "cell_start_s": opening.get("cell_start", float("nan")) / 1000,
            "cell_s": (opening.get("cell_end", 0) - opening.get("cell_start", 0)) / 1000,
            "to_page_s": (opening.get("render", 0) - opening.get("cell_end", 0)) / 1000,
            "first_draw_s": (opening.get("drawn", 0) - opening.get("render", 0)) / 1000,
            "prefetched": float(sources[:repeat].count("prefetch")),
            "next_prefetched_median": _median_of(steps, sources[:repeat], "prefetch"),
            "page_prefetched_median": _median_of(applied[:repeat], sources[:repeat], "prefetch"),
            "page_s": lab.page_seconds,
            "open_s": lab.open_seconds,
            "next_median": float(np.median(steps)),
            "next_p95": float(np.percentile(steps, 95)),
            "filter_median": float(np.median(filters)),
            "filter_p95": float(np.percentile(filters, 95)),
            "kernel_peak_gb": lab.kernel_peak_bytes() / 1e9,
            "browser_median": float(np.median(applied)),
            "browser_p95": float(np.percentile(applied, 95)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", type=Path, default=SAMPLE)
    parser.add_argument("--reports", type=Path, default=None)
    parser.add_argument("--simulate", type=int, nargs=2, metavar=("SKUS", "DAYS"), default=None)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="reuse this folder (simulated client, run folder and ingest are kept there)",
    )
    parser.add_argument(
        "--first-open",
        action="store_true",
        help="remove the runs' explorer stores first: time a run's first open after its audit",
    )
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench-explore-browser-"))
    folder.mkdir(parents=True, exist_ok=True)
    client = args.client
    if args.simulate:
        skus, days = args.simulate
        client = folder / f"sim-{skus}x{days}"
        started = time.perf_counter()
        if not (client / "client.toml").is_file():
            simulate(client, skus=skus, days=days, seed=1, return_frames=False)
        print(f"simulated {skus} SKUs × {days} days in {time.perf_counter() - started:.0f} s")
    reports = args.reports or folder / "reports"
    processed = folder / PROCESSED  # the kernel runs in ``folder``: load_data finds it there
    print(f"audit + ingest (not timed): {prepare(client, reports, processed):.0f} s")
    if args.first_open:  # the run's first open: no explorer store yet (built while opening)
        for store in (reports / client.name).glob("*/explorer"):
            shutil.rmtree(store)
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    result = measure(client, reports, folder, args.repeat)
    print(
        "| client | JupyterLab page | open | next ▶ median / p95 | systems median / p95 "
        "| in the page | kernel peak |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {client.name} | {result['page_s']:.1f} s | {result['open_s']:.1f} s "
        f"| {result['next_median']:.0f} / {result['next_p95']:.0f} ms "
        f"| {result['filter_median']:.0f} / {result['filter_p95']:.0f} ms "
        f"| {result['browser_median']:.0f} / {result['browser_p95']:.0f} ms "
        f"| {result['kernel_peak_gb']:.2f} GB |"
    )
    print(
        f"open, broken down: kernel start (before Run All) {result['kernel_start_s']:.1f} s; "
        f"Run All → explorer cell starts {result['cell_start_s']:.1f} s; the cell (import, "
        f"read, index, widgets) {result['cell_s']:.1f} s; cell end → chart module renders "
        f"{result['to_page_s']:.1f} s; first draw {result['first_draw_s']:.1f} s"
    )
    print(
        f"next ▶ drawn from the prefetch: {result['prefetched']:.0f} of {args.repeat}; "
        f"those: click → drawn median {result['next_prefetched_median']:.0f} ms, "
        f"in the page {result['page_prefetched_median']:.0f} ms"
    )
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"screenshots: {folder / 'open.png'}, {folder / 'after.png'}, {folder / 'chart.png'}")


if __name__ == "__main__":
    main()
