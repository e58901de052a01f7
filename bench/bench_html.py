"""HTML audit timing: ``driftkit audit`` of the samples with and without the HTML report.

Usage::

    PYTHONPATH=. .venv/bin/python bench/bench_html.py [--reference DIR] [--repeat N] [--all]

Each run is ``driftkit audit CLIENT --out TMP`` (``--no-html`` for the reference figure) as a
subprocess, timed for wall time and the CPU of the process and its children (the notebook
kernel).  ``--reference DIR`` runs another checkout (e.g. ``git archive`` of the base commit)
alternately in the same run; ``--all`` adds ``driftkit audit --all data/sample`` (``make
demo``'s audit step; the checkout's default ``--jobs``), ``--jobs N`` the same with N.  For an HTML run the executed notebook's papermill metadata splits the
time: kernel start, the audit cell, the chart and table cells, and the export after the
notebook.  Prints the load average before and after: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(checkout: Path, arguments: list[str], out: Path) -> tuple[float, float]:
    """Wall and children's CPU seconds of ``driftkit ARGS --out OUT`` run from ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "driftkit.cli", "audit", *arguments, "--out", str(out)],
        cwd=checkout, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def breakdown(out: Path) -> str:
    """Kernel start, audit cell, other cells and export of each executed notebook in ``out``."""
    parts = []
    for notebook in sorted(out.glob("*/20*/drift_audit.ipynb")):
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        meta = nb["metadata"]["papermill"]
        cells = [c["metadata"]["papermill"] for c in nb["cells"]]
        code = [c["metadata"]["papermill"] for c in nb["cells"] if c["cell_type"] == "code"]
        start, end = _time(meta["start_time"]), _time(meta["end_time"])
        kernel = _time(cells[0]["start_time"]) - start
        audit = code[2]["duration"]  # after the parameters and the injected parameters
        others = sum(c["duration"] for c in code[3:])
        export = (notebook.parent / "drift_audit.html").stat().st_mtime - end
        parts.append(
            f"{notebook.parents[1].name}: notebook {meta['duration']:.1f} s (kernel start "
            f"{kernel:.1f}, audit cell {audit:.1f}, chart and table cells {others:.1f}), "
            f"export {export:.1f} s"
        )
    return "; ".join(parts)


def _time(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, help="another driftkit checkout, same run")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--client", default="data/sample/acme-outdoor")
    parser.add_argument("--all", action="store_true", help="also audit --all data/sample")
    parser.add_argument("--jobs", type=int, help="also audit --all data/sample --jobs N")
    args = parser.parse_args(argv)
    checkouts = {
        "this": ROOT,
        **({"reference": args.reference.resolve()} if args.reference else {}),
    }
    cases = {"no-html": [args.client, "--no-html"], "html": [args.client]}
    if args.all:
        cases["all, html"] = ["--all", "data/sample"]
    if args.jobs:
        cases[f"all, jobs {args.jobs}"] = ["--all", "data/sample", "--jobs", str(args.jobs)]
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-html-") as work:
        for n in range(args.repeat):
            for case, arguments in cases.items():
                for name, checkout in checkouts.items():
                    out = Path(work) / f"{name}-{case.replace(', ', '-')}-{n}"
                    wall, cpu = run(checkout, arguments, out)
                    split = breakdown(out) if case != "no-html" else ""
                    print(f"{case:10s} {name:9s} {wall:6.1f} s wall {cpu:6.1f} s CPU  {split}",
                          flush=True)  # fmt: skip
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
