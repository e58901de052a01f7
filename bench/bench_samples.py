"""Whole audits of the sample clients as a user runs them, against a reference checkout.

    .venv/bin/python bench/bench_samples.py [--reference DIR] [--repeat 5] [--html]

Times ``driftkit audit CLIENT --no-html --out TMP`` (or with the HTML report) end to end as
a subprocess, for every client in ``data/sample``: this checkout, and, when ``--reference``
names another checkout of driftkit (``git worktree add ../base <commit>``), that checkout's
package on the same files in the same run, alternating runs so both see the same machine.
Each run starts in a fresh empty working folder, so neither reads a cached ingest.  Prints
the median and min wall time per client and the ratio this / reference, and checks that both
write the same ``summary.json`` numbers (``run_at`` aside).  Peak RSS is the child's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "sample"
CLI = "import sys; from driftkit.cli import main; sys.exit(main(sys.argv[1:]))"


def audit_once(package_root: Path, client: Path, *, html: bool) -> tuple[float, float, dict]:
    """One audit in a fresh folder: wall seconds, peak RSS (MB) and its summary.json."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "reports"
        args = [sys.executable, "-c", CLI, "audit", str(client), "--out", str(out)]
        args += [] if html else ["--no-html"]
        env = {**os.environ, "PYTHONPATH": str(package_root)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        subprocess.run(args, cwd=work, env=env, check=True, capture_output=True)
        seconds = time.perf_counter() - started
        peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
        summary = json.loads(next(out.rglob("summary.json")).read_text(encoding="utf-8"))
    summary.pop("run_at", None)
    return seconds, peak, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, help="another driftkit checkout to compare")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--html", action="store_true", help="time the HTML report too")
    args = parser.parse_args(argv)
    roots = {"this": ROOT} | ({"reference": args.reference.resolve()} if args.reference else {})
    clients = sorted(p for p in SAMPLES.iterdir() if (p / "client.toml").is_file())
    same = True
    print(f"{'client':<16}{'checkout':<11}{'median s':>9}{'min s':>8}{'peak MB':>9}")
    for client in clients:
        times: dict[str, list[float]] = {name: [] for name in roots}
        peaks: dict[str, float] = {}
        summaries: dict[str, dict] = {}
        for _ in range(args.repeat):
            for name, root in roots.items():  # alternate: both see the same machine state
                seconds, peak, summaries[name] = audit_once(root, client, html=args.html)
                times[name].append(seconds)
                peaks[name] = peak
        for name in roots:
            t = times[name]
            print(f"{client.name:<16}{name:<11}{statistics.median(t):>9.2f}{min(t):>8.2f}"
                  f"{peaks[name]:>9.0f}")  # fmt: skip
        if "reference" in roots:
            ratio = statistics.median(times["this"]) / statistics.median(times["reference"])
            agree = summaries["this"] == summaries["reference"]
            same &= agree
            print(f"{'':<16}this / reference {ratio:.2f}; summaries identical: {agree}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
